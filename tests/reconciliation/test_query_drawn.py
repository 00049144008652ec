"""單證比對查詢 drawn with its fixed texts rendered once per language ({% fixed %},
permits/templatetags/fixed_text.py) and its items and result read in one round trip
(permits.prepared.together; issue 10, bench/README.md "Stop 24 (applicants' pages)"): the
page prints what the plain template prints, in both languages, for every shape of the
declaration (a mismatch with its reasons and coordination ID, a match, cancelled, an amendment
not matched yet, a number not found, the empty form)."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from permits.templatetags import fixed_text
from reconciliation.models import Declaration
from tests.reconciliation.helpers import cancellation, declaration

LANGUAGES = ["zh-hant", "en"]
QUERY = reverse("reconciliation:query")
ITEM = {"item_no": 1, "tariff_code": "85423900001", "description": "FPGA <b>&</b>",
        "quantity": "4", "unit": "PCE", "value": "6000", "currency": "USD",
        "permit_item_no": 1}


def masked(html):
    return re.sub(r'(name="csrfmiddlewaretoken" value=)"[^"]*"', r'\1"X"', html)


def pages(client, numbers):
    """{(language, number): the page's HTML} with the cache as it is."""
    seen = {}
    for language in LANGUAGES:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        for number in numbers:
            response = client.get(QUERY, {"number": number} if number is not None else {})
            seen[language, number] = (response.status_code, masked(response.content.decode()))
    return seen


@pytest.mark.django_db
def test_the_page_prints_what_the_plain_template_prints(client, applicant, permit, receive,
                                                        monkeypatch):
    receive(declaration(permit, number="AA11500000001B", declarant="12345675",
                        items=[ITEM]))  # a mismatch: reasons
    receive(declaration(permit, number="AA11500000002B"))  # a match
    receive(declaration(permit, number="AA11500000003B"), cancellation("AA11500000003B"))
    receive(declaration(permit, number="AA11500000004B"))
    # An amendment received, its matching not run yet: no result for the revision on file.
    Declaration.objects.filter(number="AA11500000004B").update(revision=1)
    Declaration.objects.filter(number="AA11500000001B").update(
        broker_identifier="04595252")
    numbers = [None, "AA11500000001B", "AA11500000002B", "AA11500000003B",
               "AA11500000004B", "ZZ11500000009B"]
    client.force_login(applicant)
    monkeypatch.setattr(fixed_text, "CACHING", False)
    plain = pages(client, numbers)
    monkeypatch.setattr(fixed_text, "CACHING", True)
    first, again = pages(client, numbers), pages(client, numbers)
    assert first == again == plain
    mismatch = plain["en", "AA11500000001B"][1]
    assert 'data-testid="reasons"' in mismatch and "FPGA &lt;b&gt;&amp;&lt;/b&gt;" in mismatch
    assert 'data-testid="coordination-id"' in mismatch
    assert 'data-testid="cancelled"' in plain["en", "AA11500000003B"][1]
    assert "Not matched yet" in plain["en", "AA11500000004B"][1]
    assert plain["zh-hant", "AA11500000002B"][1] != plain["en", "AA11500000002B"][1]


@pytest.mark.django_db
def test_the_items_and_the_result_come_in_one_round_trip_after_the_declaration(
        client, applicant, permit, receive):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    receive(declaration(permit, items=[ITEM, {**ITEM, "item_no": 2}]))
    client.force_login(applicant)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(QUERY, {"number": "AA11500000001B"})
    assert [item.item_no for item in response.context["declaration"].items.all()] == [1, 2]
    assert response.context["result"].declaration_id == response.context["declaration"].pk
    items = [query["sql"] for query in captured.captured_queries
             if "reconciliation_declarationitem" in query["sql"]]
    assert len(items) == 1
    if connection.vendor == "postgresql":  # one round trip, logged as one text
        assert "reconciliation_matchresult" in items[0]
