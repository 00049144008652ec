"""schemathesis against the customs API on a live server (issue 15, part 3): it reads the
OpenAPI document the portal serves and sends what it generates from it, valid and not, to
both operations with customs' token. No answer may be a 500 or differ from the document
(status, content type, body schema), and the token must be needed; afterwards whatever the
messages wrote must be whole (the invariants below).

Bounded and repeatable (deterministic generation): the document's examples, the coverage
phase (each field's boundaries and type mutations: 2^63, NUL bytes, over-long strings, wrong
types, missing fields, for both operations) and EXAMPLES generated cases per operation."""

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db.models import Count, F, Max, Q, Sum

from reconciliation.models import (
    Declaration,
    DeclarationItem,
    FeedCounter,
    InboundMessage,
    LedgerEntry,
    MatchResult,
)
from tests import services
from tests.reconciliation.helpers import declaration, release

EXAMPLES = 100  # per operation, in the fuzzing phase
CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "response_headers_conformance", "ignored_auth",
          # tests/reconciliation/schemathesis_hooks.py: a message the document calls valid
          # is refused only for what is on file, never for its form.
          "documented_messages_are_taken"]
ST = Path(sys.executable).with_name("st")
HOOKS = "tests.reconciliation.schemathesis_hooks"


def schemathesis(url, token, report, targets):
    command = [
        str(ST), "run", f"{url}/api/customs/openapi.json",
        "--checks", ",".join(CHECKS),
        "--phases", "examples,coverage,fuzzing",
        "--max-examples", str(EXAMPLES), "--generation-deterministic",
        "--generation-with-security-parameters", "false",
        "--header", f"Authorization: Token {token}",
        "--workers", "1", "--request-timeout", "60", "--no-color",
        "--report", "ndjson", "--report-ndjson-path", str(report),
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": HOOKS, "PYTHONPATH": str(services.ROOT),
           "FUZZ_TARGETS": json.dumps(targets)}
    return subprocess.run(command, capture_output=True, text=True, timeout=600, env=env,
                          cwd=report.parent, check=False)


def requests_made(report):
    """{"METHOD /path": the number of requests schemathesis made to it} from its report."""
    counts = {}
    for line in report.read_text().splitlines():
        event = json.loads(line)
        for interaction in _interactions(event):
            request = interaction["request"]
            path = request["uri"].split("?")[0].split("/", 3)[-1]
            key = f"{request['method']} /{path}"
            counts[key] = counts.get(key, 0) + 1
    return counts


def _interactions(event):
    stack = [event]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if "request" in value and isinstance(value["request"], dict) and "uri" in (
                    value["request"]):
                yield value
            else:
                stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)


def _cpu():
    """CPU seconds of this process (the live server's threads) and its waited children."""
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                          resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def assert_whole():
    """What the messages wrote is whole: nothing half-saved, nothing without its record."""
    # Every declaration has its 1 to 1000 items, and was filed by an accepted message.
    assert not Declaration.objects.annotate(n=Count("items")).filter(
        Q(n=0) | Q(n__gt=1000)).exists()
    filed = set(InboundMessage.objects.filter(kind="declaration", status="accepted")
                .values_list("declaration_number", flat=True))
    assert set(Declaration.objects.values_list("number", flat=True)) <= filed
    # A rejected message applied nothing: none is linked to what it would have changed
    # unless an accepted one made it; an accepted message names its declaration.
    assert not InboundMessage.objects.filter(status="accepted", declaration__isnull=True
                                             ).exists()
    # Every declaration was matched in its current revision, and shows its newest result.
    for row in Declaration.objects.annotate(last=Max("results__seq")):
        newest = MatchResult.objects.get(seq=row.last)
        assert newest.revision == row.revision and row.result == newest.result, row.number
    # The feed: sequence numbers 1..n without a gap, the counter at n.
    seqs = list(MatchResult.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    assert FeedCounter.objects.get().last == len(seqs)
    # The ledger: every release is of a declaration item, within what was declared; a
    # reversal reverses a release of a cancelled declaration; no balance below zero.
    assert not LedgerEntry.objects.filter(kind="release", declaration_item__isnull=True
                                          ).exists()
    released = (DeclarationItem.objects.annotate(net=Sum("ledger_entries__quantity"))
                .filter(net__gt=F("quantity")))
    assert not released.exists()
    for entry in LedgerEntry.objects.filter(kind="reversal").select_related(
            "reverses__declaration_item__declaration"):
        assert entry.reverses.kind == "release"
        assert entry.reverses.declaration_item.declaration.cancelled_at is not None
        assert entry.quantity == -entry.reverses.quantity
    for permit_id, line_no, used in (LedgerEntry.objects.values_list("permit", "line_no")
                                     .annotate(used=Sum("quantity"))):
        from permits.models import Permit

        item = Permit.objects.get(pk=permit_id).current.application.items.get(line_no=line_no)
        assert 0 <= used <= item.quantity, (permit_id, line_no, used)
    # Every stored message has its answer.
    assert not InboundMessage.objects.filter(
        status="rejected").filter(Q(errors=[]) | Q(errors__isnull=True)).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_no_server_error_no_answer_off_the_document_and_no_half_save(
        live_server, customs, permit, tmp_path):
    services.require_postgres()
    # Something on file for generated releases and cancellations to meet (the hooks send
    # a share of them to these numbers).
    from reconciliation import services as feed

    numbers = ["AA11500000001B", "AA11500000002B"]
    feed.receive([declaration(permit, number=numbers[0]),
                  declaration(permit, number=numbers[1]),
                  release(numbers[1], items=[{"item_no": 1, "quantity": "1"}])],
                 source="test")
    targets = {"declarations": numbers, "permit_no": permit.permit_no,
               "declarant": permit.current.application.applicant_identifier}
    started, cpu = time.monotonic(), _cpu()
    report = tmp_path / "schemathesis.ndjson"
    run = schemathesis(live_server.url, customs.token, report, targets)
    elapsed, cpu = time.monotonic() - started, _cpu() - cpu
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
    made = requests_made(report)
    # The figures, shown with -s: the requests per operation, the time, and the CPU time
    # of schemathesis and the server (the measure on a shared machine).
    documented = {key: n for key, n in made.items() if key in (
        "POST /api/customs/messages", "GET /api/customs/results")}
    outcomes = dict(InboundMessage.objects.values_list("status").annotate(n=Count("pk")))
    print(f"schemathesis: {documented} requests (and one of each other method) in "
          f"{elapsed:.1f} s, {cpu:.1f} s of CPU; messages {outcomes}, "
          f"{Declaration.objects.count()} declarations, "
          f"{LedgerEntry.objects.count()} ledger entries")
    assert made.get("POST /api/customs/messages", 0) >= EXAMPLES
    assert made.get("GET /api/customs/results", 0) >= EXAMPLES // 2
    assert InboundMessage.objects.filter(status="accepted").count() > 3
    assert InboundMessage.objects.filter(status="rejected").exists()
    assert_whole()
