"""`manage.py load_declarations <file>` (RECON-1): a real JSON lines file."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from reconciliation.models import Declaration, InboundMessage, MatchResult
from tests.reconciliation.helpers import declaration, release


def write_lines(path, lines):
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line)
                              for line in lines) + "\n", encoding="utf-8")
    return path


def load(path, captured):
    out = io.StringIO()
    with captured(execute=True):
        call_command("load_declarations", str(path), stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_it_loads_a_file_reporting_a_broken_line_and_taking_the_rest(
        tmp_path, permit, django_capture_on_commit_callbacks):
    path = write_lines(tmp_path / "feed.jsonl", [
        declaration(permit, number="AA11500000001B", message_id="m-1"),
        '{"message_id": "m-2", "type": "declaration", "declaration": {',  # cut off
        "",
        declaration(permit, number="AA11500000003B", message_id="m-3"),
        release("AA11500000001B", message_id="m-4"),
    ])
    out = load(path, django_capture_on_commit_callbacks)
    assert set(Declaration.objects.values_list("number", "result")) == {
        ("AA11500000001B", "match"), ("AA11500000003B", "match")}
    assert set(InboundMessage.objects.values_list("message_id", "status", "source")) == {
        ("m-1", "accepted", "file"), ("m-3", "accepted", "file"), ("m-4", "accepted", "file")}
    assert "line 2: rejected" in out
    assert "accepted: 3, duplicate: 0, rejected: 1, received before: 0" in out


@pytest.mark.django_db
def test_it_reports_a_rejected_message_with_its_line_and_every_reason(
        tmp_path, permit, django_capture_on_commit_callbacks):
    bad = declaration(permit, message_id="m-1", direction="sideways", permit_no="SHORT")
    out = load(write_lines(tmp_path / "feed.jsonl", [bad]), django_capture_on_commit_callbacks)
    record = InboundMessage.objects.get(message_id="m-1")
    assert record.status == "rejected"
    assert {e.split(":")[0] for e in record.errors} == {"declaration.direction",
                                                       "declaration.permit_no"}
    assert "line 1 (m-1): rejected" in out and not Declaration.objects.exists()


@pytest.mark.django_db
def test_it_loads_the_same_file_twice_harmlessly(tmp_path, permit,
                                                 django_capture_on_commit_callbacks):
    path = write_lines(tmp_path / "feed.jsonl", [declaration(permit, message_id="m-1")])
    load(path, django_capture_on_commit_callbacks)
    out = load(path, django_capture_on_commit_callbacks)
    assert "accepted: 0, duplicate: 0, rejected: 0, received before: 1" in out
    assert InboundMessage.objects.count() == 1 and MatchResult.objects.count() == 1


@pytest.mark.django_db
def test_it_stops_on_a_file_it_cannot_read(tmp_path):
    with pytest.raises(CommandError):
        call_command("load_declarations", str(tmp_path / "missing.jsonl"))
    (tmp_path / "latin1.jsonl").write_bytes(b'{"x": "\xe9"}\n')
    with pytest.raises(CommandError):
        call_command("load_declarations", str(tmp_path / "latin1.jsonl"))
