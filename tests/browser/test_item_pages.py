"""A 9-1-1 draft of 250 items in Chromium, by keyboard alone (permits/item_pages.py): the
review page lists items 1-100 and links to the other pages; 下一頁 taken with Enter shows
101-200; an item's 項次 opened with Enter, its quantity changed and 確認 pressed lead back to
the page that lists it, at its row."""

import re

import pytest
from django.test import Client

from permits.models import Item
from shtc.models import Port
from tests.services import log_in, orm, seed_shtc
from tests.shtc.assurance import BASIC, enter

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"


def a_draft(applicant, count):
    seed_shtc()
    Port.objects.get_or_create(code=BASIC["transit_port"], defaults={
        "country": "US", "name": "Los Angeles", "edition": "test"})
    client = Client()
    client.force_login(applicant)
    draft = enter(client)
    first = draft.items.get()
    Item.objects.bulk_create([
        Item(**{**{field.attname: getattr(first, field.attname)
                   for field in Item._meta.concrete_fields if not field.primary_key},
                "line_no": n, "model": f"M-{n}"}) for n in range(2, count + 1)])
    return draft


def shown_lines(page):
    return [int(text) for text in
            page.get_by_test_id("items").locator("tbody tr td:first-child").all_inner_texts()]


def test_its_pages_and_items_are_reached_by_keyboard(applicant, live_server, page):
    draft = orm(a_draft, applicant, 250)
    log_in(page, f"{live_server.url}/accounts/login/", applicant.identifier, PASSWORD)
    review = f"{live_server.url}/shtc/assurance/{draft.pk}/review/"
    page.goto(review)
    assert shown_lines(page) == list(range(1, 101))
    assert re.search(r"1\D+100\D+250", page.get_by_test_id("item-range").inner_text())
    pages = page.get_by_role("navigation", name=re.compile("."))
    assert pages.locator('[aria-current="page"]').inner_text() == "1"

    page.get_by_test_id("items-next").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"\?page=2#items$"))
    assert shown_lines(page) == list(range(101, 201))
    assert re.search(r"101\D+200\D+250", page.get_by_test_id("item-range").inner_text())

    page.get_by_test_id("item-link-150").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/items/150/$"))
    quantity = page.get_by_label(re.compile("數量"))
    quantity.fill("3")
    quantity.press("Enter")
    page.wait_for_url(re.compile(r"\?page=2#item-150$"))
    assert shown_lines(page)[0] == 101
    assert orm(lambda: str(Item.objects.get(application=draft, line_no=150).quantity)) \
        == "3.0000"
