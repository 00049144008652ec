"""The customs API's OpenAPI 3.1 document (issue 15, part 3): a valid document, served to
anyone, whose bounds are the code's, and which every answer the API gives conforms to. The
fuzzing against a live server is in test_openapi_fuzz.py."""

import json
import re

import pytest
from django.urls import reverse
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from reconciliation import api, matching, services
from reconciliation.models import (
    COORDINATION_ALPHABET,
    COORDINATION_LENGTH,
    Declaration,
    DeclarationItem,
)
from tests.reconciliation.helpers import cancellation, declaration, release
from tests.reconciliation.test_api import MESSAGES, RESULTS, fetch, item, number, send
from tests.reconciliation.test_api_bounds import BAD

DOCUMENT = api.openapi_document()
SCHEMAS = DOCUMENT["components"]["schemas"]
MESSAGES_PATH, RESULTS_PATH = "/api/customs/messages", "/api/customs/results"


def validator(schema):
    """A validator of `schema`, whose "#/components/..." references resolve in DOCUMENT."""
    return Draft202012Validator({**schema, "components": DOCUMENT["components"]},
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def problems(schema, instance):
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator(schema).iter_errors(instance)]


def request_schema():
    operation = DOCUMENT["paths"][MESSAGES_PATH]["post"]
    return operation["requestBody"]["content"]["application/json"]["schema"]


def conforms(response, path, method):
    """Assert that `response` is one the document gives for the operation: its status is
    listed, its body is JSON of the status's schema and its documented headers are there.
    Returns the status, for the record of what was seen."""
    operation = DOCUMENT["paths"][path][method]
    documented = operation["responses"].get(str(response.status_code))
    assert documented is not None, f"{method} {path}: {response.status_code} is not documented"
    if "$ref" in documented:
        documented = DOCUMENT["components"]["responses"][documented["$ref"].rsplit("/", 1)[1]]
    assert response["Content-Type"] == "application/json"
    schema = documented["content"]["application/json"]["schema"]
    found = problems(schema, json.loads(response.content))
    assert not found, (response.status_code, found, response.content[:500])
    for name, header in documented.get("headers", {}).items():
        assert response.has_header(name) or not header.get("required"), name
        if response.has_header(name):
            assert not problems(header["schema"], response[name]), name
    return response.status_code


# --- the document ---------------------------------------------------------------------------

def test_it_is_a_valid_openapi_3_1_document():
    assert DOCUMENT["openapi"].startswith("3.1.")
    validate(DOCUMENT)  # raises with the first problem


def test_its_examples_are_valid_requests():
    examples = DOCUMENT["paths"][MESSAGES_PATH]["post"]["requestBody"]["content"][
        "application/json"]["examples"]
    assert examples
    for name, example in examples.items():
        assert not problems(request_schema(), example["value"]), name


def test_its_bounds_are_the_codes():
    """The numbers the document states are the ones the code enforces (one would drift
    from the other unnoticed otherwise)."""
    item_schema = SCHEMAS["DeclarationItem"]["properties"]
    body = SCHEMAS["DeclarationMessage"]["properties"]["declaration"]["properties"]
    assert request_schema()["oneOf"][1]["maxItems"] == api.MAX_BATCH
    assert f"{api.MAX_BODY_BYTES:,} bytes" in DOCUMENT["paths"][MESSAGES_PATH]["post"][
        "description"]
    assert f"at most {api.MAX_DEPTH} deep" in DOCUMENT["paths"][MESSAGES_PATH]["post"][
        "description"]
    assert body["items"]["maxItems"] == services.MAX_ITEMS
    assert SCHEMAS["ItemNumber"]["maximum"] == services.INT_MAX
    assert body["revision"]["maximum"] == services.INT_MAX
    assert SCHEMAS["MessageId"]["maxLength"] == services.MESSAGE_ID_MAX
    field = DeclarationItem._meta.get_field
    assert item_schema["description"]["maxLength"] == field("description").max_length
    assert item_schema["unit"]["maxLength"] == field("unit").max_length
    assert SCHEMAS["Quantity"]["oneOf"][1]["maximum"] == 10 ** (
        field("quantity").max_digits - field("quantity").decimal_places) - 1
    assert SCHEMAS["Value"]["oneOf"][1]["maximum"] == 10 ** (
        field("value").max_digits - field("value").decimal_places) - 1
    parameters = {p["name"]: p["schema"] for p in DOCUMENT["paths"][RESULTS_PATH]["get"][
        "parameters"]}
    assert parameters["after"]["maximum"] == api.MAX_SEQ
    assert (parameters["limit"]["maximum"], parameters["limit"]["default"]) == (
        api.MAX_LIMIT, api.DEFAULT_LIMIT)
    assert set(SCHEMAS["Reason"]["properties"]["code"]["enum"]) == set(matching.REASONS)
    assert SCHEMAS["MatchResult"]["properties"]["coordination_id"]["pattern"] == (
        f"^[{COORDINATION_ALPHABET}]{{{COORDINATION_LENGTH}}}$")


@pytest.mark.django_db
def test_a_message_the_document_describes_is_one_the_code_takes(permit):
    """The helpers' messages (the format customs sends) are valid by the document."""
    for message in (declaration(permit), release(), cancellation(),
                    [declaration(permit), release()]):
        assert not problems(request_schema(), message), message


# The bad values of test_api_bounds the code refuses but JSON Schema cannot: why each.
BEYOND_THE_SCHEMA = {
    # JSON Schema counts 1.0 (and 1e3, 1000.0) as integers; the document says "not 1.0",
    # "never a float" in words.
    "item_no float", "quantity float 1e3",
    # Strings in fields the document does not name: it says in words that none may hold
    # U+0000 or a lone surrogate.
    "NUL in an unknown field", "NUL in an unknown key", "NUL in a nested unknown field",
    "lone surrogate in an unknown field",
    # Lone surrogates (\ud800 in JSON) said in words: a pattern naming them is not a regex
    # to the Rust validators schemathesis and others use.
    "lone surrogate in description",
    # Lengths counted after upper-casing (ß becomes SS): said in words.
    "unit longer once upper-cased", "declarant longer once upper-cased",
}


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "change", "field"), BAD, ids=[b[0] for b in BAD])
def test_a_value_the_code_refuses_is_one_the_document_refuses(permit, name, change, field):
    message = declaration(permit, message_id="m-bad")
    change(message)
    found = problems(request_schema(), message)
    if name in BEYOND_THE_SCHEMA:
        assert not found  # if the schema learns to say it, move it out of the list
    else:
        assert found, f"{name}: the document takes what the code refuses"


# --- the document served --------------------------------------------------------------------

@pytest.mark.django_db
def test_it_serves_the_document_to_anyone(client):
    response = client.get(reverse("reconciliation:api_openapi"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == DOCUMENT


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_it_shows_the_document_as_a_page(client, language):
    client.cookies["django_language"] = language
    response = client.get(reverse("reconciliation:api_docs"))
    assert response.status_code == 200
    text = response.content.decode()
    assert DOCUMENT["info"]["title"] in text
    for path in (MESSAGES_PATH, RESULTS_PATH):
        assert path in text
    for field in ("declaration.items[].quantity", "declaration.date", "limit",
                  "CancellationMessage", "batch_too_large"):
        assert field in text
    assert reverse("reconciliation:api_openapi") in text
    assert "<script>" not in text.replace('<script src=', '')  # no inline script (CSP)


# --- real answers against the document ------------------------------------------------------

@pytest.mark.django_db
def test_every_answer_of_the_api_is_one_the_document_gives(
        client, customs, permit, django_capture_on_commit_callbacks):
    """Each status each operation can give, from real requests, checked against the
    document; and every status the document lists is among them."""
    seen = set()

    def check(response, path, method):
        seen.add((path, method, conforms(response, path, method)))
        return response

    post = MESSAGES_PATH, "post"
    get = RESULTS_PATH, "get"
    # 200: accepted (a match and a mismatch), duplicate, rejected, received before.
    with django_capture_on_commit_callbacks(execute=True):
        answers = check(send(client, [
            declaration(permit, number=number(1), message_id="m-1"),
            declaration(permit, number=number(2), message_id="m-2", declarant="12345675",
                        items=[item(tariff_code="85423900001", quantity="11")]),
            declaration(permit, number=number(1), message_id="m-3"),
            declaration(permit, number=number(3), message_id="m-4", revision=2**63),
            release(number(1), message_id="m-5"),
            cancellation(number(9), message_id="m-6"),
            {"message_id": "\u0000"}, 42, [],
        ], customs.token), *post).json()
    assert [a["status"] for a in answers] == [
        "accepted", "accepted", "duplicate", "rejected", "accepted", "rejected", "rejected",
        "rejected", "rejected"]
    assert answers[6]["message_id"].startswith("rejected-")
    assert check(send(client, declaration(permit, message_id="m-1"), customs.token),
                 *post).json() == [answers[0]]
    assert check(send(client, [], customs.token), *post).json() == []
    # 400, 401, 413.
    for body in ('{"message_id": ', b"\xff", "NaN", "[" * 40 + "]" * 40, '"text"', "null"):
        assert check(send(client, body, customs.token), *post).status_code == 400
    check(send(client, [], "wrong"), *post)
    check(client.post(MESSAGES, data="[]", content_type="application/json"), *post)
    batch = [{"message_id": f"m-{i}"} for i in range(api.MAX_BATCH + 1)]
    assert check(send(client, batch, customs.token), *post).status_code == 413
    big = b"[" + b" " * api.MAX_BODY_BYTES + b"]"
    assert check(send(client, big, customs.token), *post).status_code == 413
    # The results: a match and a mismatch with its 會辦識別碼 and reasons; an empty page.
    page = check(fetch(client, customs.token), *get).json()
    assert {r["result"] for r in page["results"]} == {"match", "mismatch"}
    mismatch = next(r for r in page["results"] if r["result"] == "mismatch")
    assert re.fullmatch(r"[A-Z2-9]{10}", mismatch["coordination_id"]) and mismatch["reasons"]
    check(fetch(client, customs.token, after=page["next"]), *get)
    check(fetch(client, customs.token, after=str(2**63 - 1), limit="1000"), *get)
    for params in ({"after": "-1"}, {"limit": "0"}, {"after": str(2**63)}, {"limit": "１"}):
        assert check(fetch(client, customs.token, **params), *get).status_code == 400
    check(fetch(client, "wrong"), *get)
    check(client.get(RESULTS), *get)

    documented = {(path, method, int(status)) for path, methods in DOCUMENT["paths"].items()
                  for method, operation in methods.items() for status in operation["responses"]}
    assert seen == documented


# --- what the fuzzing found -----------------------------------------------------------------

@pytest.mark.django_db
def test_it_refuses_a_message_id_of_the_form_it_gives_messages_without_one(client, customs,
                                                                          permit):
    """schemathesis sent back a message_id the portal had given a message without one
    (`rejected-…`), and got that message's answer ("message_id: required") for a valid
    declaration. Customs may not send an id of that form: the document says so, and the
    message is refused with the reason, under an id of the portal's own."""
    [first] = send(client, {"type": "release"}, customs.token).json()
    assert first["message_id"].startswith("rejected-")
    message = declaration(permit, message_id=first["message_id"])
    assert problems(request_schema(), message)
    [answer] = send(client, message, customs.token).json()
    assert answer["status"] == "rejected" and answer != first
    assert [error.split(":")[0] for error in answer["errors"]] == ["message_id"]
    assert answer["message_id"].startswith("rejected-")
    assert not Declaration.objects.exists()
