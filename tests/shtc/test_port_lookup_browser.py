"""The 轉口港代碼 look-up in Chromium (static/shtc/port_lookup.js): the link beside the field
opens the look-up in a window of its own; letter, country and code are chosen with the
keyboard; the code goes into the field, which has the focus again, and the window closes.
Without an opener, a code is a plain link back with ?transit_port=CODE."""

import contextlib

import pytest

from shtc.models import Port
from tests.services import orm, seed_reference_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# An entry page as the lead's 9-1-1 page will have it: the field, the link beside it
# (templates/shtc/includes/port_lookup_link.html) and the script. Added by the test itself
# (DevTools is not subject to the page's CSP; the script comes from 'self').
ENTRY = """
const field = document.createElement("input");
field.id = "id_transit_port"; field.type = "text"; field.name = "transit_port";
field.setAttribute("aria-label", "轉口港代碼");  // labelled (axe-core, tests/browser/axe.py)
const link = document.createElement("a");
link.href = "/shtc/ports/?field=id_transit_port&next=" + encodeURIComponent(location.pathname);
link.setAttribute("data-port-lookup", ""); link.id = "port-lookup-link";
link.textContent = "口岸代碼查詢";
document.querySelector("main").prepend(field, link);
window.__changes = 0;
field.addEventListener("change", () => { window.__changes += 1; });
const script = document.createElement("script");
script.src = "/static/shtc/port_lookup.js";
document.body.append(script);
"""


@pytest.fixture
def signed_in(applicant, live_server, page):
    # (The user exists before Playwright starts its event loop: tests/services.py, orm().)
    orm(seed_reference_data)
    # A transactional test before this one may have emptied the port table.
    orm(lambda: [Port.objects.get_or_create(code=code, defaults={
        "country": code[:2], "name": name, "edition": "test"})
        for code, name in (("USLAX", "Los Angeles"), ("USNYC", "New York"),
                           ("SGSIN", "Singapore"))])
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("#id_username").fill(applicant.identifier)
    page.locator("#id_password").fill("correct-horse-battery")
    page.locator("main [type=submit]").first.click()
    page.wait_for_load_state()
    return page


def test_it_fills_the_field_of_the_opener(signed_in, live_server):
    from playwright.sync_api import Error as TargetClosedError

    page = signed_in
    page.goto(f"{live_server.url}/accounts/profile/")
    page.evaluate(ENTRY)
    page.wait_for_function("document.querySelector('script[src$=\"port_lookup.js\"]')")
    page.wait_for_load_state("networkidle")

    with page.context.expect_page() as opened:
        page.locator("#port-lookup-link").focus()
        page.keyboard.press("Enter")
    lookup = opened.value
    lookup.wait_for_load_state()
    assert page.url.endswith("/accounts/profile/")  # the form stays where it was

    def follow(locator, key="Enter"):
        with lookup.expect_navigation():
            locator.focus()
            lookup.keyboard.press(key)

    follow(lookup.get_by_role("link", name="U", exact=True))
    follow(lookup.locator("[data-testid=port-countries] a", has_text="US"))
    lookup.locator("#port-query").fill("LAX")
    follow(lookup.locator("#port-query"))
    assert "USLAX" in lookup.locator("a[data-port-code]").all_inner_texts()
    with lookup.expect_event("close"):
        lookup.locator("a[data-port-code=USLAX]").focus()
        # The window may close before the key press returns.
        with contextlib.suppress(TargetClosedError):
            lookup.keyboard.press("Enter")

    assert page.input_value("#id_transit_port") == "USLAX"
    assert page.evaluate("document.activeElement.id") == "id_transit_port"
    assert page.evaluate("window.__changes") == 1


def test_it_links_back_with_the_code_without_an_opener(signed_in, live_server):
    page = signed_in
    page.goto(f"{live_server.url}/shtc/ports/?country=SG&field=id_transit_port"
              f"&next=/accounts/profile/")
    page.locator("a[data-port-code=SGSIN]").click()
    page.wait_for_load_state()
    assert page.url == f"{live_server.url}/accounts/profile/?transit_port=SGSIN"
