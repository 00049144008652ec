"""The JSON endpoints customs' system talks to (RECON-1), and the wire format they share with
the management command and the admin upload.

    POST /api/customs/messages       one message (a JSON object) or a batch (an array);
                                     answers [{"message_id", "status", "errors"}] in order
    GET  /api/customs/results?after=<seq>&limit=<n>
                                     matching results with seq > after, oldest first, and
                                     "next": the cursor for the following call; a mismatch
                                     carries its 會辦識別碼 "coordination_id" (SHTC-10)

Both want the header `Authorization: Token <token>` of an active CustomsClient. Errors are
JSON too: {"error": {"code": "...", "message": "..."}}, in English for customs' developers
(the codes are what their system should test). The message format is in
reconciliation/services.py.

    GET  /api/customs/openapi.json   the OpenAPI 3.1 description of both (the file
                                     reconciliation/openapi.json, kept true by
                                     tests/reconciliation/test_openapi*.py)
    GET  /api/customs/docs           the same for people, as a page

These two are public: an integrator reads them before the bureau hands over a token, and
they hold nothing but the format.
"""

import functools
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from reconciliation import services
from reconciliation.models import CustomsClient, InboundMessage, MatchResult

MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_BATCH = 1000  # messages per request; a file may hold more (see receive_batch)
CHUNK = 500  # messages per services.receive() call when loading a file
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
MAX_DEPTH = 32  # arrays and objects within each other
MAX_SEQ = 2**63 - 1  # MatchResult.seq, a PostgreSQL bigint


# --- the wire format ------------------------------------------------------------------------

def _refuse_constant(name):
    # Python's json accepts NaN and Infinity; JSON does not, and PostgreSQL's jsonb refuses
    # to store them, so they would fail late instead of here.
    raise ValueError(f"{name} is not valid JSON")


def _depth(value):
    """How deeply arrays and objects nest in a decoded value (without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, depth)
            stack.extend((inner, depth + 1)
                         for inner in (value.values() if isinstance(value, dict) else value))
    return deepest


def decode(data):
    """The value of a JSON document (bytes in UTF-8, or str). ValueError if it is not strict
    JSON, also for nesting deeper than MAX_DEPTH: a message nests 4 deep, and what is kept
    (as JSON, in the database) must not run out of stack on the way."""
    if isinstance(data, bytes):
        data = data.decode("utf-8")  # UnicodeDecodeError is a ValueError
    try:
        value = json.loads(data, parse_constant=_refuse_constant)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if _depth(value) > MAX_DEPTH:
        raise ValueError(f"arrays and objects nested more than {MAX_DEPTH} deep")
    return value


def read_json_lines(text):
    """JSON lines: ([(line_no, message)], [(line_no, error)]). Blank lines are skipped; a
    line that is not JSON is reported and the others still count."""
    messages, broken = [], []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            messages.append((line_no, decode(line)))
        except ValueError as error:
            broken.append((line_no, f"not JSON: {error}"))
    return messages, broken


@dataclass
class Outcome:
    """What became of a file of messages. `problems` are (position, message_id, [errors])
    of each rejected message and each line that was not JSON."""

    counts: Counter = field(default_factory=Counter)
    problems: list = field(default_factory=list)

    @property
    def accepted(self):
        return self.counts[InboundMessage.Status.ACCEPTED]

    @property
    def duplicate(self):
        return self.counts[InboundMessage.Status.DUPLICATE]

    @property
    def rejected(self):
        return self.counts[InboundMessage.Status.REJECTED]

    @property
    def received_before(self):
        return self.counts["received_before"]


def receive_batch(entries, *, source, broken=()):
    """Feed [(position, message)] to services.receive in chunks and count what became of
    them. A message whose message_id was received before (earlier, or higher up in the same
    file) is counted as received before: services answers it as it did the first time."""
    outcome = Outcome()
    for position, error in broken:
        outcome.counts[InboundMessage.Status.REJECTED] += 1
        outcome.problems.append((position, "", [error]))
    seen = set()
    for start in range(0, len(entries), CHUNK):
        chunk = entries[start:start + CHUNK]
        ids = {services.message_id_of(m) for _, m in chunk} - {""}
        known = set(InboundMessage.objects.filter(message_id__in=ids)
                    .values_list("message_id", flat=True))
        records = services.receive([m for _, m in chunk], source=source)
        for (position, _message), record in zip(chunk, records, strict=True):
            if record.message_id in known or (record.pk and record.pk in seen):
                outcome.counts["received_before"] += 1
                continue
            seen.add(record.pk)
            outcome.counts[record.status] += 1
            if record.status == InboundMessage.Status.REJECTED:
                outcome.problems.append((position, record.message_id, record.errors))
    outcome.problems.sort(key=lambda problem: problem[0])
    return outcome


# --- authentication -------------------------------------------------------------------------

def _error(status, code, message):
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def customs_client_required(view):
    """Let in a request with `Authorization: Token <token>` of an active CustomsClient (as
    request.customs_client); anything else gets 401. Only the token's hash is on file."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        client = None
        if scheme.lower() == "token" and token:
            client = CustomsClient.objects.filter(token_hash=CustomsClient.hash(token),
                                                  active=True).first()
        if client is None:
            # The same answer for a missing, wrong or deactivated token.
            response = _error(401, "unauthorized",
                              "Send the header 'Authorization: Token <token>' with the token "
                              "of an active customs service account.")
            response["WWW-Authenticate"] = "Token"
            return response
        now = timezone.now()
        CustomsClient.objects.filter(pk=client.pk).update(last_used_at=now)
        client.last_used_at = now
        request.customs_client = client
        return view(request, *args, **kwargs)

    return wrapper


# --- endpoints ------------------------------------------------------------------------------

def _read_body(request):
    """The body, or None when it is larger than MAX_BODY_BYTES. Read from the stream, not
    request.body, whose own limit (DATA_UPLOAD_MAX_MEMORY_SIZE) is the forms' one."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        return None
    body = request.read(MAX_BODY_BYTES + 1)
    return body if len(body) <= MAX_BODY_BYTES else None


@csrf_exempt
@require_POST
@customs_client_required
def messages(request):
    """Messages from customs (RECON-1): each is validated and applied on its own, so a
    rejected one is reported and the others go in. A message_id received before is not
    processed again: it gets the answer it got the first time."""
    body = _read_body(request)
    if body is None:
        return _error(413, "too_large", f"The body is larger than {MAX_BODY_BYTES} bytes.")
    try:
        data = decode(body)
    except ValueError as error:
        return _error(400, "malformed_json", f"The body is not valid JSON (UTF-8): {error}")
    if not isinstance(data, dict | list):
        return _error(400, "not_a_message",
                      "The body must be a JSON object (one message) or an array of them.")
    batch = data if isinstance(data, list) else [data]
    if len(batch) > MAX_BATCH:
        return _error(413, "batch_too_large",
                      f"A batch holds at most {MAX_BATCH} messages; send the rest in another.")
    records = services.receive(batch, source="api")
    return JsonResponse([{"message_id": record.message_id, "status": record.status,
                          "errors": record.errors} for record in records], safe=False)


def _whole_number(request, name, *, default, minimum, maximum):
    raw = request.GET.get(name, "")
    if raw == "":
        return default
    # ASCII digits only (str.isdigit() also takes "１" and "²"), and few enough of them.
    if (not raw.isascii() or not raw.isdigit() or len(raw) > len(str(maximum))
            or not minimum <= int(raw) <= maximum):
        raise ValueError(f"{name} must be a whole number from {minimum} to {maximum}.")
    return int(raw)


def _result_data(result):
    version = result.permit_version
    return {
        "seq": result.seq,
        "declaration": result.declaration.number,
        "revision": result.revision,
        "result": result.result,
        # 會辦識別碼 of a mismatch (SHTC-10), which the applicant quotes to correct it; null
        # for a match.
        "coordination_id": result.coordination_id or None,
        "reasons": [{"code": r.get("code"), "item_no": r.get("item_no"),
                     "message": r.get("message")} for r in result.reasons],
        "permit_no": version.permit.permit_no if version else result.declaration.permit_no,
        "permit_version": version.version if version else None,
        "matched_at": result.created_at.isoformat(),
    }


@never_cache
@require_GET
@customs_client_required
def results(request):
    """The outbound feed: results with seq > `after`, in seq order. Customs keeps `next`
    and asks again with after=next; seq is handed out in commit order (see MatchResult), so
    this loses nothing and repeats nothing. A declaration matched again (an amendment,
    RECON-5) appears again with a higher seq: the newest result of a declaration counts."""
    try:
        after = _whole_number(request, "after", default=0, minimum=0, maximum=MAX_SEQ)
        limit = _whole_number(request, "limit", default=DEFAULT_LIMIT, minimum=1,
                              maximum=MAX_LIMIT)
    except ValueError as error:
        return _error(400, "invalid_parameter", str(error))
    rows = list(MatchResult.objects.filter(seq__gt=after).order_by("seq")
                .select_related("declaration", "permit_version__permit")[:limit])
    return JsonResponse({"results": [_result_data(row) for row in rows],
                         "next": rows[-1].seq if rows else after})


# --- the description ------------------------------------------------------------------------

OPENAPI_PATH = Path(__file__).with_name("openapi.json")


@functools.cache
def _openapi_bytes():
    return OPENAPI_PATH.read_bytes()  # read once per process


def openapi_document():
    """The OpenAPI document as a dict."""
    return json.loads(_openapi_bytes())


@require_GET
def openapi(request):
    """The OpenAPI 3.1 document of the two endpoints above, as the file has it."""
    return HttpResponse(_openapi_bytes(), content_type="application/json")


def _fields(schema, components, *, prefix="", required=(), depth=0):
    """[(name, required, schema)] of an object schema's properties, the objects within
    them (items[].quantity) included, for the page. $refs resolved; depth bounded."""
    rows = []
    for name, inner in schema.get("properties", {}).items():
        inner = _resolved(inner, components)
        rows.append((f"{prefix}{name}", name in required, inner))
        nested = _resolved(inner.get("items", {}), components) if inner.get(
            "type") == "array" else inner
        if depth < 3 and nested.get("properties"):
            rows += _fields(nested, components,
                            prefix=f"{prefix}{name}{'[]' if nested is not inner else ''}.",
                            required=nested.get("required", ()), depth=depth + 1)
    return rows


def _resolved(schema, components):
    while "$ref" in schema:
        extra = {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**components[schema["$ref"].rsplit("/", 1)[1]], **extra}
    return schema


def _constraints(schema, components):
    """A short line of a field's type and bounds, as the document states them."""
    parts = []
    for option in schema.get("oneOf", [schema]):
        option = _resolved(option, components)
        kind = option.get("type") or ("one of" if "enum" in option else "")
        kind = " or ".join(kind) if isinstance(kind, list) else kind
        words = [kind] if kind else []
        if "const" in option:
            words.append(json.dumps(option["const"], ensure_ascii=False))
        if "enum" in option:
            words.append(", ".join(json.dumps(v) for v in option["enum"]))
        for key, label in (("minimum", "≥"), ("maximum", "≤"), ("minLength", "length ≥"),
                           ("maxLength", "length ≤"), ("minItems", "items ≥"),
                           ("maxItems", "items ≤")):
            if key in option:
                words.append(f"{label} {option[key]}")
        if "format" in option:
            words.append(f"format {option['format']}")
        if "pattern" in option:
            words.append(f"pattern {option['pattern']}")
        if "pattern" in option.get("not", {}):
            words.append(f"not pattern {option['not']['pattern']}")
        parts.append(", ".join(words))
    return " | ".join(part for part in parts if part)


@require_GET
def docs(request):
    """The document for people: each operation, its fields and answers (no script)."""
    document = openapi_document()
    components = document["components"]["schemas"]
    operations = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            body = operation.get("requestBody", {}).get("content", {}).get(
                "application/json", {})
            messages = []
            if body:
                for option in _resolved(components["Message"], components)["oneOf"]:
                    schema = _resolved(option, components)
                    messages.append({
                        "name": option["$ref"].rsplit("/", 1)[1],
                        "description": schema.get("description", ""),
                        "fields": [(name, required, _constraints(inner, components),
                                    inner.get("description", ""))
                                   for name, required, inner in _fields(
                                       schema, components,
                                       required=schema.get("required", ()))]})
            operations.append({
                "method": method.upper(), "path": path, "operation": operation,
                "parameters": [(p["name"], p.get("required", False),
                                _constraints(p["schema"], components), p.get("description"))
                               for p in operation.get("parameters", ())],
                "messages": messages,
                "examples": [json.dumps(e["value"], ensure_ascii=False, indent=2)
                             for e in body.get("examples", {}).values()],
                "responses": [(status, _resolved(response, document["components"].get(
                    "responses", {}))["description"])
                    for status, response in operation["responses"].items()]})
    return render(request, "reconciliation/api_docs.html",
                  {"document": document, "operations": operations})
