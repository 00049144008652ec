"""The customs endpoints (RECON-1): token authentication, messages in, results out."""

import json

import pytest
from django.urls import reverse
from django.utils import timezone

from reconciliation import api
from reconciliation.models import CustomsClient, Declaration, InboundMessage, MatchResult
from tests import services
from tests.reconciliation.helpers import declaration

MESSAGES = reverse("reconciliation:api_messages")
RESULTS = reverse("reconciliation:api_results")


def number(n):
    return f"AA115{n:08d}B"


def item(**changes):
    """Item 1 of a declaration that matches conftest's permit, with `changes`."""
    return {"item_no": 1, "tariff_code": "85423100003", "description": "FPGA", "quantity": "4",
            "unit": "PCE", "value": "6000", "currency": "USD", "permit_item_no": 1, **changes}


def send(client, body, token, **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(MESSAGES, data=data, content_type="application/json",
                       headers={"Authorization": f"Token {token}"}, **extra)


def fetch(client, token, **params):
    return client.get(RESULTS, params, headers={"Authorization": f"Token {token}"})


# --- authentication -------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("header", [None, "Token not-the-token", "Bearer {token}", "Token ",
                                    "inactive"])
def test_it_refuses_a_missing_wrong_or_inactive_token(client, customs, permit, header):
    if header == "inactive":
        CustomsClient.objects.filter(pk=customs.pk).update(active=False)
        header = "Token {token}"
    headers = {"Authorization": header.format(token=customs.token)} if header else {}
    response = client.post(MESSAGES, data=json.dumps(declaration(permit)),
                           content_type="application/json", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert client.get(RESULTS, headers=headers).status_code == 401
    assert not InboundMessage.objects.exists() and not Declaration.objects.exists()


@pytest.mark.django_db
def test_it_records_when_a_token_was_last_used(client, customs):
    before = timezone.now()
    assert fetch(client, customs.token).status_code == 200
    customs.refresh_from_db()
    assert customs.last_used_at >= before


# --- messages in ----------------------------------------------------------------------------

@pytest.mark.django_db
def test_it_takes_one_message_as_an_object(client, customs, permit,
                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = send(client, declaration(permit, message_id="m-1"),
                        customs.token)
    assert response.status_code == 200
    assert response.json() == [{"message_id": "m-1", "status": "accepted", "errors": []}]
    filed = Declaration.objects.get(number="AA11500000001B")
    assert filed.permit == permit and filed.result == "match"
    assert InboundMessage.objects.get().source == "api"


@pytest.mark.django_db
def test_it_rejects_the_bad_message_of_a_batch_with_every_reason_and_takes_the_others(
        client, customs, permit):
    bad = declaration(permit, number=number(2), message_id="m-2",
                      items=[item(tariff_code="8542")])
    bad["declaration"].update(direction="sideways", date="2026-13-40")
    batch = [declaration(permit, number=number(1), message_id="m-1"), bad,
             declaration(permit, number=number(3), message_id="m-3")]
    response = send(client, batch, customs.token)
    assert response.status_code == 200
    answers = response.json()
    assert [(a["message_id"], a["status"]) for a in answers] == [
        ("m-1", "accepted"), ("m-2", "rejected"), ("m-3", "accepted")]
    # Every reason, each naming its field.
    assert {error.split(":")[0] for error in answers[1]["errors"]} == {
        "declaration.date", "declaration.direction", "items[0].tariff_code"}
    assert set(Declaration.objects.values_list("number", flat=True)) == {number(1), number(3)}
    assert InboundMessage.objects.get(message_id="m-2").status == "rejected"


@pytest.mark.django_db
def test_it_processes_a_redelivered_message_once(client, customs, permit,
                                                 django_capture_on_commit_callbacks):
    message = declaration(permit, message_id="m-1")
    with django_capture_on_commit_callbacks(execute=True):
        first = send(client, message, customs.token)
        again = send(client, message, customs.token)  # customs timed out and sent it again
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()  # the same answer as the first time
    assert InboundMessage.objects.count() == 1
    assert Declaration.objects.count() == 1
    assert MatchResult.objects.count() == 1  # matched once


@pytest.mark.django_db
@pytest.mark.parametrize("body", ['{"message_id": "m-1"', "[1, 2,", "", "NaN",
                                  '{"quantity": Infinity}', b"\xff\xfe{}", "[" * 100_000])
def test_it_answers_a_body_that_is_not_json_with_400(client, customs, body):
    response = send(client, body, customs.token)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"
    assert not InboundMessage.objects.exists()


@pytest.mark.django_db
def test_it_answers_json_that_is_neither_object_nor_array_with_400(client, customs):
    response = send(client, "42", customs.token)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "not_a_message"


@pytest.mark.django_db
def test_it_refuses_a_body_over_the_limit(client, customs, permit):
    message = declaration(permit)
    message["padding"] = "x" * api.MAX_BODY_BYTES
    response = send(client, message, customs.token)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert not InboundMessage.objects.exists()


@pytest.mark.django_db
def test_it_refuses_a_batch_of_more_than_the_limit(client, customs, permit):
    batch = [{"message_id": f"m-{i}"} for i in range(api.MAX_BATCH + 1)]
    response = send(client, batch, customs.token)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "batch_too_large"
    assert not InboundMessage.objects.exists()


# --- results out ----------------------------------------------------------------------------

@pytest.mark.django_db
def test_it_pages_results_in_order_losing_and_repeating_nothing(client, customs, permit,
                                                                receive):
    receive(*[declaration(permit, number=number(n)) for n in range(1, 6)])
    seen, after, pages = [], 0, 0
    while True:
        body = fetch(client, customs.token, after=after, limit=2).json()
        if not body["results"]:
            assert body["next"] == after  # nothing new: ask again from the same place
            break
        assert len(body["results"]) <= 2
        seen += [r["seq"] for r in body["results"]]
        assert body["next"] == body["results"][-1]["seq"]
        after, pages = body["next"], pages + 1
        if pages == 2:  # more results are matched while customs is paging
            receive(*[declaration(permit, number=number(n)) for n in (6, 7)])
    assert seen == sorted(seen) and len(seen) == len(set(seen))
    assert seen == sorted(MatchResult.objects.values_list("seq", flat=True))
    assert len(seen) == 7


@pytest.mark.django_db
def test_it_gives_each_result_with_every_reason(client, customs, permit,
                                                django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send(client, declaration(permit, declarant="12345675",
                                 items=[item(tariff_code="85423900001", quantity="11")]),
             customs.token)
    [result] = fetch(client, customs.token).json()["results"]
    assert result["declaration"] == "AA11500000001B" and result["revision"] == 0
    assert result["result"] == "mismatch"
    assert result["permit_no"] == permit.permit_no and result["permit_version"] == 1
    assert {(r["code"], r["item_no"]) for r in result["reasons"]} == {
        ("declarant_mismatch", None), ("tariff_mismatch", 1), ("quantity_over_balance", 1)}
    assert all(r["message"] for r in result["reasons"])


@pytest.mark.django_db
@pytest.mark.parametrize("params", [{"after": "-1"}, {"after": "x"}, {"limit": "0"},
                                    {"limit": "1001"}, {"limit": "2.5"}])
def test_it_refuses_a_bad_cursor_or_limit(client, customs, params):
    response = fetch(client, customs.token, **params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_parameter"


# --- end to end -----------------------------------------------------------------------------

@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_it_matches_posted_declarations_in_the_worker_and_serves_the_results(
        client, customs, permit, celery_worker):
    services.require_postgres()
    services.require_redis()
    response = send(client, [
        declaration(permit, number=number(1)),
        declaration(permit, number=number(2), declarant="12345675"),
    ], customs.token)
    assert [a["status"] for a in response.json()] == ["accepted", "accepted"]

    def two_results():
        body = fetch(client, customs.token, after=0).json()
        return body if len(body["results"]) == 2 else None

    body = services.wait_until(two_results)
    assert {(r["declaration"], r["result"]) for r in body["results"]} == {
        (number(1), "match"), (number(2), "mismatch")}
    assert body["next"] == max(r["seq"] for r in body["results"])
    assert fetch(client, customs.token, after=body["next"]).json() == {
        "results": [], "next": body["next"]}
    assert set(Declaration.objects.values_list("result", flat=True)) == {"match", "mismatch"}
