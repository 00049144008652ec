"""The reviewers' case page of an SHTC case of 250 items in Chromium, by keyboard alone
(permits.admin_case, permits.item_pages; issue 13): items 1-100 and the links to the other
pages; 下一頁 reached with Tab and taken with Enter shows 101-200, then a page number's link
the last page."""

import re

import pytest
from django.urls import reverse

from permits.models import Item
from tests.services import log_in, orm, seed_shtc
from tests.shtc.review_cases import shtc_case  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def a_case(make, count):
    seed_shtc()  # (a transactional test starts from an empty database)
    case = make(destination="SG")
    first = case.items.get()
    Item.objects.bulk_create([
        Item(**{**{field.attname: getattr(first, field.attname)
                   for field in Item._meta.concrete_fields if not field.primary_key},
                "line_no": n}) for n in range(2, count + 1)])
    return case


def shown_lines(page):
    return [int(text.split(".")[0]) for text in
            page.locator("#items-group tbody tr td.original").all_inner_texts()]


def tab_to(page, locator, limit=400):
    """Press Tab until `locator` has the focus (it is in the page's tab order)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if locator.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError("not reached by Tab")


def test_its_pages_are_reached_by_keyboard(reviewer, shtc_case, live_server, page):  # noqa: F811
    case = orm(a_case, shtc_case, 250)
    orm(lambda: (reviewer.set_password("reviewer-password-1"), reviewer.save()))
    log_in(page, f"{live_server.url}/admin/login/?next=/admin/", reviewer.identifier,
           "reviewer-password-1")
    page.context.add_cookies([{"name": "django_language", "value": "en",
                               "url": live_server.url}])
    url = live_server.url + reverse("admin:permits_application_change", args=[case.pk])
    page.goto(url)
    assert shown_lines(page) == list(range(1, 101))
    assert page.get_by_test_id("item-range").inner_text() == "Items 1–100 of 250"
    pages = page.get_by_role("navigation", name="Pages of the goods items")
    assert pages.locator('[aria-current="page"]').inner_text() == "1"

    tab_to(page, page.get_by_test_id("items-next"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"\?page=2#items-group$"))
    assert shown_lines(page) == list(range(101, 201))
    assert page.get_by_test_id("item-range").inner_text() == "Items 101–200 of 250"

    tab_to(page, pages.get_by_role("link", name="Page 3"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"\?page=3#items-group$"))
    assert shown_lines(page) == list(range(201, 251))
    assert page.get_by_test_id("items-next").count() == 0
