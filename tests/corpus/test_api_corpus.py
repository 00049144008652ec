"""The bad-input corpus of the customs endpoint (tests/corpus/api.yaml; issue 9): each case
posted to the real POST /api/customs/messages with a customs token gets the outcome it
expects, a rejected message changes nothing, and no input whatever answers 500."""

import json
from pathlib import Path

import pytest
import yaml
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from reconciliation.models import (
    CustomsClient,
    Declaration,
    DeclarationItem,
    InboundMessage,
    LedgerEntry,
)

CORPUS = yaml.safe_load(Path(__file__).with_name("api.yaml").read_text(encoding="utf-8"))
CASES = CORPUS["cases"]
OUTCOMES = {"accepted", "rejected", "duplicate", "4xx"}
KEYS = {"name", "body", "raw", "raw_hex", "make", "before", "token", "expect", "fields",
        "code"}


def test_it_holds_sixty_well_formed_cases_or_more():
    assert len(CASES) >= 60
    assert len({case["name"] for case in CASES}) == len(CASES)  # names are ids
    for case in CASES:
        assert set(case) <= KEYS, case["name"]
        assert sum(key in case for key in ("body", "raw", "raw_hex", "make")) == 1, case["name"]
        expect = case["expect"]
        assert set(expect if isinstance(expect, list) else [expect]) <= OUTCOMES, case["name"]


@pytest.fixture
def permit(make_case, applicant, reviewer):
    """The approved SHTC export permit the placeholders name (as in tests/reconciliation)."""
    return make_case(applicant, status="approved", reviewer=reviewer).issued_version.permit


@pytest.fixture
def post(db):
    """post(body bytes, token=...) to the endpoint; a 500 is an answer here, not an error
    raised in the test, so that it fails with the case's name."""
    account = CustomsClient(name="關務署")
    token = account.new_token()
    account.save()
    client = Client(raise_request_exception=False)

    def send(body, *, token_kind=None):
        headers = {"wrong": {"Authorization": "Token not-the-token"}, "none": {}}.get(
            token_kind, {"Authorization": f"Token {token}"})
        return client.post(reverse("reconciliation:api_messages"), data=body,
                           content_type="application/json", headers=headers)

    return send


def fill(value, places):
    """The value with the placeholders in its strings (keys included) filled in."""
    if isinstance(value, str):
        for name, text in places.items():
            value = value.replace(name, text)
        if value.startswith("{long ") and value.endswith("}"):
            value = "x" * int(value[len("{long "):-1])
        return value
    if isinstance(value, dict):
        return {fill(key, places): fill(inner, places) for key, inner in value.items()}
    if isinstance(value, list):
        return [fill(inner, places) for inner in value]
    return value


def body_of(case, places):
    if "raw" in case:
        return case["raw"].encode("utf-8")
    if "raw_hex" in case:
        return bytes.fromhex(case["raw_hex"])
    if "make" in case:
        kind, size = case["make"].split()
        size = int(size)
        if kind == "nested":
            return ("[" * size + "]" * size).encode()
        if kind == "batch":
            return json.dumps([{"message_id": f"m-{n}"} for n in range(size)]).encode()
        assert kind == "bytes", case["make"]
        return b"[" + b" " * (size - 2) + b"]"
    return json.dumps(fill(case["body"], places)).encode("utf-8")


def state():
    """What a rejected message must leave as it was."""
    return (list(Declaration.objects.order_by("pk").values_list(
                "number", "revision", "cancelled_at", "result")),
            DeclarationItem.objects.count(), LedgerEntry.objects.count())


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_it_answers_each_case_of_the_api_corpus_as_expected(post, permit, case):
    places = {"{permit_no}": permit.permit_no,
              "{declarant}": permit.current.application.applicant_identifier,
              "{today}": timezone.localdate().isoformat()}
    for message in case.get("before", []):
        response = post(json.dumps(fill(message, places)))
        assert response.status_code == 200, response.content[:500]
        assert {a["status"] for a in response.json()} == {"accepted"}, response.json()
    before = state()
    stored_before = InboundMessage.objects.count()

    response = post(body_of(case, places), token_kind=case.get("token"))

    assert response.status_code != 500, f"500 for {case['name']!r}"
    if case["expect"] == "4xx":
        assert 400 <= response.status_code < 500, response.content[:500]
        error = response.json()["error"]
        assert error["message"]
        if "code" in case:
            assert error["code"] == case["code"]
        assert InboundMessage.objects.count() == stored_before  # nothing taken in
        return
    assert response.status_code == 200, response.content[:500]
    answers = response.json()
    expected = (case["expect"] if isinstance(case["expect"], list)
                else [case["expect"]] * len(answers))
    assert [a["status"] for a in answers] == expected, answers
    for answer in answers:
        # Every rejection gives its reasons; nothing else has any.
        assert bool(answer["errors"]) == (answer["status"] == "rejected"), answer
    reasons = [error for a in answers for error in a["errors"]]
    for field in case.get("fields", []):
        assert any(reason.startswith(field) for reason in reasons), (field, reasons)
    if set(expected) == {"rejected"}:
        assert state() == before
