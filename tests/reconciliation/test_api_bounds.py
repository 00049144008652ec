"""The customs endpoint under bad input (issue 9, points 1 and 2): every value the database
would refuse is refused first with a reason, one bad message never costs the others, and a
message_id posted ten times at once is processed once."""

import json
from decimal import Decimal

import pytest
from django.db import DataError
from django.test import Client
from django.urls import reverse

from reconciliation import services as feed
from reconciliation.models import (
    CustomsClient,
    Declaration,
    DeclarationItem,
    InboundMessage,
    LedgerEntry,
)
from tests import services
from tests.reconciliation.helpers import declaration, release
from tests.reconciliation.test_api import MESSAGES, send

INT4_MAX = 2**31 - 1


@pytest.fixture
def customs(db):
    account = CustomsClient(name="關務署")
    account.token = account.new_token()
    account.save()
    return account


def item_with(**changes):
    def change(message):
        message["declaration"]["items"][0].update(changes)
    return change


def declaration_with(**changes):
    def change(message):
        message["declaration"].update(changes)
    return change


def message_with(**changes):
    def change(message):
        message.update(changes)
    return change


# (name, change to a valid declaration, the field each reason must name)
BAD = [
    ("item_no int4+1", item_with(item_no=INT4_MAX + 1), "items[0].item_no"),
    ("item_no 10^19", item_with(item_no=10**19), "items[0].item_no"),
    ("item_no negative", item_with(item_no=-1), "items[0].item_no"),
    ("item_no bool", item_with(item_no=True), "items[0].item_no"),
    ("item_no float", item_with(item_no=1.0), "items[0].item_no"),
    ("item_no string", item_with(item_no="1"), "items[0].item_no"),
    ("item_no list", item_with(item_no=[1]), "items[0].item_no"),
    ("permit_item_no 2^40", item_with(permit_item_no=2**40), "items[0].permit_item_no"),
    ("revision 2^63", declaration_with(revision=2**63), "declaration.revision"),
    ("revision int4+1", declaration_with(revision=INT4_MAX + 1), "declaration.revision"),
    ("revision negative", declaration_with(revision=-1), "declaration.revision"),
    ("quantity 1e3", item_with(quantity="1e3"), "items[0].quantity"),
    ("quantity 1E+3", item_with(quantity="1E+3"), "items[0].quantity"),
    ("quantity float 1e3", item_with(quantity=1e3), "items[0].quantity"),
    ("quantity NaN", item_with(quantity="NaN"), "items[0].quantity"),
    ("quantity Infinity", item_with(quantity="Infinity"), "items[0].quantity"),
    ("quantity leading space", item_with(quantity=" 1"), "items[0].quantity"),
    ("quantity full-width", item_with(quantity="１０"), "items[0].quantity"),
    ("quantity underscore", item_with(quantity="1_000"), "items[0].quantity"),
    ("quantity bool", item_with(quantity=True), "items[0].quantity"),
    ("quantity 10 digits", item_with(quantity="1000000000"), "items[0].quantity"),
    ("value 16 digits", item_with(value="1" + "0" * 15), "items[0].value"),
    ("date integer", declaration_with(date=20261120), "declaration.date"),
    ("date compact string", declaration_with(date="20261120"), "declaration.date"),
    ("date ISO week", declaration_with(date="2026-W47-5"), "declaration.date"),
    ("date before ROC 1", declaration_with(date="1911-12-31"), "declaration.date"),
    ("NUL in description", item_with(description="FP\u0000GA"), "items[0].description"),
    ("NUL in message_id", message_with(message_id="m\u0000"), "message_id"),
    ("NUL in an unknown field", message_with(note="a\u0000b"), "note"),
    ("NUL in an unknown key", message_with(**{"no\u0000te": "x"}), "no"),
    ("NUL in a nested unknown field", declaration_with(extra={"deep": ["\u0000"]}),
     "declaration.extra.deep[0]"),
    ("lone surrogate in description", item_with(description="\ud800"),
     "items[0].description"),
    ("lone surrogate in an unknown field", message_with(note="\udfff"), "note"),
    ("description of a million characters", item_with(description="x" * 10**6),
     "items[0].description"),
    ("unit longer once upper-cased", item_with(unit="ß" * 10), "items[0].unit"),
    ("declarant longer once upper-cased", declaration_with(declarant="ß" * 20),
     "declaration.declarant"),
    ("declarant with a control character", declaration_with(declarant="2209\u00079131"),
     "declaration.declarant"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "change", "field"), BAD, ids=[b[0] for b in BAD])
def test_it_rejects_a_value_the_database_would_refuse_with_a_reason(client, customs, permit,
                                                                   name, change, field):
    message = declaration(permit, message_id="m-bad")
    change(message)
    response = send(client, message, customs.token)
    assert response.status_code == 200
    [answer] = response.json()
    assert answer["status"] == "rejected"
    assert any(error.startswith(field) for error in answer["errors"]), answer["errors"]
    assert not Declaration.objects.exists() and not DeclarationItem.objects.exists()
    assert InboundMessage.objects.get().status == "rejected"  # kept for the bureau


@pytest.mark.django_db
def test_it_gives_every_reason_of_a_message_at_once(client, customs, permit):
    message = declaration(permit, message_id="m-1")
    message["declaration"].update(revision=2**63, date=20261120)
    message["declaration"]["items"][0].update(item_no=2**31, quantity="1e3")
    message["x\u0000"] = "\u0000"
    [answer] = send(client, message, customs.token).json()
    assert answer["status"] == "rejected"
    fields = {error.split(":")[0] for error in answer["errors"]}
    assert {"declaration.revision", "declaration.date", "items[0].item_no",
            "items[0].quantity"} <= fields
    assert sum("U+0000" in error for error in answer["errors"]) == 2  # the key and the value


@pytest.mark.django_db
@pytest.mark.parametrize("quantity", ["100", "2.5", "0.0001", "999999999.9999", 7])
def test_it_takes_a_quantity_in_plain_decimal(client, customs, permit, quantity,
                                              django_capture_on_commit_callbacks):
    message = declaration(permit, message_id="m-1")
    message["declaration"]["items"][0]["quantity"] = quantity
    with django_capture_on_commit_callbacks(execute=True):
        [answer] = send(client, message, customs.token).json()
    assert answer["status"] == "accepted", answer["errors"]
    assert DeclarationItem.objects.get().quantity == Decimal(str(quantity))


@pytest.mark.django_db
def test_it_takes_the_largest_whole_numbers_the_columns_hold(client, customs, permit):
    message = declaration(permit, message_id="m-1", revision=INT4_MAX)
    message["declaration"]["items"][0].update(item_no=INT4_MAX, permit_item_no=INT4_MAX,
                                              value="999999999999999.0000")
    [answer] = send(client, message, customs.token).json()
    assert answer["status"] == "accepted", answer["errors"]
    item = DeclarationItem.objects.get()
    assert (item.item_no, item.permit_item_no) == (INT4_MAX, INT4_MAX)
    assert item.value == Decimal("999999999999999")  # 15 digits: numeric(19, 4)


@pytest.mark.django_db
def test_it_rejects_a_release_out_of_range_without_touching_the_ledger(client, customs,
                                                                       permit):
    send(client, declaration(permit), customs.token)
    response = send(client, [release(items=[{"item_no": 2**31, "quantity": "1"}]),
                             release(items=[{"item_no": 1, "quantity": "1e0"}]),
                             release(items=[{"item_no": 1, "quantity": "1" * 10}])],
                    customs.token)
    assert [a["status"] for a in response.json()] == ["rejected"] * 3
    assert not LedgerEntry.objects.exists()


# --- a batch: each message on its own ---------------------------------------------------

@pytest.mark.django_db
def test_it_keeps_the_valid_message_of_a_batch_whose_other_message_is_out_of_range(
        client, customs, permit):
    bad = declaration(permit, number="AA11500000002B", message_id="m-2", revision=2**63)
    bad["declaration"]["items"][0]["item_no"] = 10**19
    bad["note"] = "\u0000"
    response = send(client, [declaration(permit, message_id="m-1"), bad], customs.token)
    assert response.status_code == 200
    assert [(a["message_id"], a["status"]) for a in response.json()] == [
        ("m-1", "accepted"), ("m-2", "rejected")]
    assert list(Declaration.objects.values_list("number", flat=True)) == ["AA11500000001B"]
    assert dict(InboundMessage.objects.values_list("message_id", "status")) == {
        "m-1": "accepted", "m-2": "rejected"}


@pytest.mark.django_db
def test_it_rolls_back_only_the_message_the_database_refused(client, customs, permit,
                                                             monkeypatch):
    """A refusal no check foresaw (here injected at the database boundary) rejects that
    message alone: its half-written declaration is rolled back, the others stay."""
    real = DeclarationItem.objects.update_or_create

    def refuse(*, declaration, **kwargs):
        if declaration.number == "AA11500000002B":
            raise DataError("value out of range")
        return real(declaration=declaration, **kwargs)

    monkeypatch.setattr(DeclarationItem.objects, "update_or_create", refuse)
    response = send(client, [declaration(permit, message_id="m-1"),
                             declaration(permit, number="AA11500000002B", message_id="m-2"),
                             declaration(permit, number="AA11500000003B", message_id="m-3")],
                    customs.token)
    assert response.status_code == 200
    assert [a["status"] for a in response.json()] == ["accepted", "rejected", "accepted"]
    assert set(Declaration.objects.values_list("number", flat=True)) == {
        "AA11500000001B", "AA11500000003B"}


# --- the body -------------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize(("body", "status", "code"), [
    (b"\xc3\x28", 400, "malformed_json"),
    (b'{"message_id": "\xff"}', 400, "malformed_json"),
    ('"a string"', 400, "not_a_message"),
    ("null", 400, "not_a_message"),
    ("[" * 900 + "]" * 900, 400, "malformed_json"),  # parses, but deeper than any message
    (json.dumps([{"message_id": f"m-{i}"} for i in range(1001)]), 413, "batch_too_large"),
    (b"[" + b" " * (5 * 1024 * 1024) + b"]", 413, "too_large"),
])
def test_it_refuses_a_body_it_cannot_take_with_a_reason(client, customs, body, status, code):
    response = send(client, body, customs.token)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
    assert not InboundMessage.objects.exists()


@pytest.mark.django_db
def test_it_rejects_each_element_of_a_batch_that_is_not_a_message(client, customs):
    response = send(client, [1, "x", None, [], True], customs.token)
    assert response.status_code == 200
    assert [a["status"] for a in response.json()] == ["rejected"] * 5
    assert InboundMessage.objects.count() == 5


# --- the same message_id ten times at once ------------------------------------------------

def _post_ten_times_at_once(token, message):
    def post():
        response = Client().post(MESSAGES, data=json.dumps(message),
                                 content_type="application/json",
                                 headers={"Authorization": f"Token {token}"})
        return response.status_code, response.json()

    return services.run_concurrently(*[post] * 10)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_processes_a_declaration_posted_ten_times_at_once_once(customs, permit):
    services.require_postgres()
    answers = _post_ten_times_at_once(customs.token, declaration(permit, message_id="m-1"))
    assert {code for code, _body in answers} == {200}
    # The answer of each is the one the stored message got (README: a message_id received
    # before gets the answer it got the first time), never a rejection of its own.
    assert [body for _code, body in answers] == [
        [{"message_id": "m-1", "status": "accepted", "errors": []}]] * 10
    assert InboundMessage.objects.count() == 1 and Declaration.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_processes_a_release_posted_ten_times_at_once_once(customs, permit):
    services.require_postgres()
    feed.receive([declaration(permit)], source="test")
    answers = _post_ten_times_at_once(
        customs.token, release(items=[{"item_no": 1, "quantity": "3"}], message_id="r-1"))
    assert [body for _code, body in answers] == [
        [{"message_id": "r-1", "status": "accepted", "errors": []}]] * 10
    assert InboundMessage.objects.filter(message_id="r-1").count() == 1
    assert LedgerEntry.objects.count() == 1  # written off once


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_files_one_declaration_sent_under_ten_message_ids_at_once(customs, permit):
    """Customs' twin senders: one declaration, ten message_ids, at once. One is filed; the
    others are the same declaration again (RECON-1: each declaration processed once)."""
    services.require_postgres()

    def post(message_id):
        def call():
            response = Client().post(
                MESSAGES, data=json.dumps(declaration(permit, message_id=message_id)),
                content_type="application/json",
                headers={"Authorization": f"Token {customs.token}"})
            return response.status_code, response.json()[0]["status"]
        return call

    answers = services.run_concurrently(*[post(f"m-{n}") for n in range(10)])
    assert {code for code, _status in answers} == {200}
    assert sorted(status for _code, status in answers) == ["accepted"] + ["duplicate"] * 9
    assert Declaration.objects.count() == 1 and DeclarationItem.objects.count() == 1
    assert InboundMessage.objects.count() == 10


@pytest.mark.django_db
def test_it_rejects_a_declaration_of_more_than_a_thousand_items(client, customs, permit):
    message = declaration(permit, message_id="m-1")
    [first] = message["declaration"]["items"]
    message["declaration"]["items"] = [{**first, "item_no": n} for n in range(1, 1002)]
    [answer] = send(client, message, customs.token).json()
    assert answer["status"] == "rejected"
    assert answer["errors"] == ["items: at most 1000 items"]
    assert not Declaration.objects.exists()


# --- results: the cursor --------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("params", [{"after": "１"}, {"after": "²"}, {"limit": "１０"},
                                    {"after": "9" * 20}, {"after": str(2**63)},
                                    {"after": "9" * 5000}])
def test_it_refuses_a_cursor_that_is_not_ascii_or_beyond_the_sequence(client, customs,
                                                                      params):
    response = client.get(reverse("reconciliation:api_results"), params,
                          headers={"Authorization": f"Token {customs.token}"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_parameter"


@pytest.mark.django_db
def test_it_takes_the_last_cursor_the_sequence_holds(client, customs):
    response = client.get(reverse("reconciliation:api_results"), {"after": str(2**63 - 1)},
                          headers={"Authorization": f"Token {customs.token}"})
    assert response.status_code == 200
    assert response.json() == {"results": [], "next": 2**63 - 1}
