"""9-1-1 in Chromium: the destination's warnings appear as soon as it is chosen, before any
work is done (issue 11, point 6; static/shtc/destination.js), under the page's CSP."""

import pytest

from tests.services import orm, seed_shtc

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def entry_page(applicant, live_server, page):
    orm(seed_shtc)
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("#id_username").fill(applicant.identifier)
    page.locator("#id_password").fill("correct-horse-battery")
    page.locator("main [type=submit]").first.click()
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/shtc/assurance/")
    return page


def test_it_warns_of_north_korea_at_once_and_of_nothing_for_the_united_states(entry_page):
    page = entry_page
    box = page.locator("[data-destination-warnings]")
    assert not box.is_visible()
    page.select_option("#id_destination_country", "KP")
    assert box.is_visible()
    text = box.inner_text()
    assert "106/09/26" in text and "9-2-1" in text
    page.select_option("#id_destination_country", "US")
    assert not box.is_visible()
    page.select_option("#id_destination_country", "CN")
    assert box.is_visible() and "9-2-1" not in box.inner_text()
