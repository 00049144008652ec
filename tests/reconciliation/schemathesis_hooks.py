"""schemathesis hooks and a check for test_openapi_fuzz.py (loaded by `st run` through
SCHEMATHESIS_HOOKS).

The hooks: generated messages share a few message_ids ("0", the coverage phase's one base
message), and a message_id received before is answered from the record without being
looked at again; so before each request seven in eight message_ids get a suffix of their
own (~n), except those whose length or characters are the point of the case, and those of
batches larger than 20. And numbers
drawn from a pattern almost never meet a declaration or permit on file, so releases and
cancellations would only ever be refused as "not on file": two in three bodies the fuzzing
phase generates are pointed at what the test put on file (the JSON in FUZZ_TARGETS),
whatever else in them stays as generated.

The check, documented_messages_are_taken: a message the document calls valid is never
refused for its form (a reason naming a field), only for what is on file (a declaration
not on file or cancelled, a release beyond the balance). So the document claims no more
than the code takes; test_openapi.py checks the other way round."""

import copy
import itertools
import json
import os
import re
from pathlib import Path

import jsonschema_rs
import schemathesis
from hypothesis import strategies as st

DOCUMENT = json.loads((Path(__file__).resolve().parents[2] / "reconciliation" / "openapi.json")
                      .read_text(encoding="utf-8"))
# The Rust validator: its patterns end at `$` as ECMA-262's do (Python's re also matches
# before a final line break).
MESSAGE = jsonschema_rs.Draft202012Validator(
    {"$ref": "#/components/schemas/Message", "components": DOCUMENT["components"]},
    validate_formats=True)
# A reason about the form of a field starts with the field: "items[0].quantity: ...".
FORM_REASON = re.compile(r"[A-Za-z_][A-Za-z0-9_.\[\]]*: ")
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# Reasons for what the document says in words, which JSON Schema cannot: lengths counted
# after upper-casing (ß is SS), each item_no at most once in a message.
SAID_IN_WORDS = ("longer than", "item numbers repeat")


def _targets():
    return json.loads(os.environ.get("FUZZ_TARGETS", "{}"))


def _pointed(body, targets, pick):
    body = copy.deepcopy(body)
    numbers = targets["declarations"]
    for n, message in enumerate(body if isinstance(body, list) else [body]):
        if not isinstance(message, dict):
            continue
        number = numbers[(pick + n) % len(numbers)]
        inner = message.get("declaration")
        if isinstance(inner, dict):  # a declaration: cite the permit, as its applicant
            inner.update(permit_no=targets["permit_no"], declarant=targets["declarant"])
            if pick % 2:
                inner["number"] = number  # an amendment, or the same one again
        elif "declaration" in message:
            message["declaration"] = number
        items = message.get("items")
        if isinstance(items, list) and items and isinstance(items[0], dict):
            items[0]["item_no"] = 1  # a release of the item on file
        items = inner.get("items") if isinstance(inner, dict) else None
        for item in items if isinstance(items, list) else ():
            if isinstance(item, dict):
                item["permit_item_no"] = 1  # the permit's only item
    return body


_sent = itertools.count(1)


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.operation.path != "/api/customs/messages":
        return
    body = case.body
    messages = body if isinstance(body, list) else [body]
    if len(messages) > 20:
        # The coverage phase's batch of 1000 copies: processing each (about 6 queries)
        # takes longer than the run can wait on a shared machine; as generated, the copies
        # are answered from the first one's record.
        return
    for message in messages:
        value = message.get("message_id") if isinstance(message, dict) else None
        n = next(_sent)
        if (isinstance(value, str) and n % 8 and value == value.strip()
                and 0 < len(value) <= 48 and value.isprintable()):
            message["message_id"] = f"{value}~{n}"


@schemathesis.hook
def flatmap_body(context, body):
    targets = _targets()
    operation = getattr(context, "operation", None)
    if not targets or operation is None or operation.path != "/api/customs/messages":
        return st.just(body)
    return st.integers(0, 5).map(
        lambda pick: body if pick < 2 else _pointed(body, targets, pick))


def _said_in_words_only(message):
    """What the document says in words and not in its schema (see its description): JSON
    integers written as 1.0, U+0000 or lone surrogates in fields it does not name."""
    stack = [message]
    while stack:
        value = stack.pop()
        if isinstance(value, float) or (isinstance(value, str) and UNSTORABLE.search(value)):
            return True
        if isinstance(value, dict):
            stack.extend(value.values())
            stack.extend(value.keys())
        elif isinstance(value, list):
            stack.extend(value)
    return False


_first = {}  # message_id -> the first message sent under it (its answer is that one's)


@schemathesis.check
def documented_messages_are_taken(ctx, response, case):
    if case.operation.path != "/api/customs/messages" or response.status_code != 200:
        return None
    body = case.body
    messages = body if isinstance(body, list) else [body]
    for message, answer in zip(messages, json.loads(response.content), strict=True):
        key = message.get("message_id") if isinstance(message, dict) else None
        key = key.strip() if isinstance(key, str) else None
        if key and _first.setdefault(key, message) != message:
            continue  # received before: the answer is the first message's
        if (answer["status"] != "rejected" or not MESSAGE.is_valid(message)
                or _said_in_words_only(message)):
            continue
        wrong = [reason for reason in answer["errors"] if FORM_REASON.match(reason)
                 and not any(words in reason for words in SAID_IN_WORDS)]
        if wrong:
            raise AssertionError(f"valid by the document, refused by the API: {wrong}; "
                                 f"the message: {json.dumps(message)[:600]}")
    return None
