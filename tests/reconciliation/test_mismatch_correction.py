"""單證比對不符修正 on the matching's side (SHTC-10, RECON-5, SHTC manual §1.4, FAQ 3.10): the
會辦識別碼 a mismatch carries (in GET /api/customs/results and 單證比對查詢), the gate
reconciliation.services.mismatch_problem, asked again under the permit's lock when the bureau
approves the correction, and the matching run again by itself once it is approved."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from permits import changes, workflow
from permits.models import Kind, OutboundEmail, PermitVersion, Status, StatusChange
from reconciliation import matching
from reconciliation import services as feed
from reconciliation.models import (
    COORDINATION_ALPHABET,
    Declaration,
    FeedCounter,
    LedgerEntry,
    MatchResult,
)
from tests.approvals import approve, to_second_review
from tests.reconciliation.helpers import cancellation, declaration, release
from tests.reconciliation.test_api import fetch, send

pytestmark = pytest.mark.django_db

QUERY = reverse("reconciliation:query")
A, B, C = "AA11500000001B", "AA11500000002B", "AA11500000003B"
CODE_RE = re.compile(f"[{COORDINATION_ALPHABET}]{{10}}")


def item(quantity, **changes):
    """Item 1 of a declaration against conftest's permit (10 PCE of 85423100003 at USD)."""
    return {"item_no": 1, "tariff_code": "85423100003", "description": "FPGA",
            "quantity": quantity, "unit": "PCE", "value": "6000", "currency": "USD",
            "permit_item_no": 1, **changes}


def over(permit, number=A, quantity="15", **kwargs):
    """A declaration of more than the permit's 10 PCE: a mismatch (quantity_over_balance)."""
    return declaration(permit, number=number, items=[item(quantity)], **kwargs)


def newest(number=A):
    return MatchResult.objects.filter(declaration__number=number).order_by("-seq").first()


def problem_code(permit, number=A, coordination_id=None):
    if coordination_id is None:
        coordination_id = newest(number).coordination_id
    problem = feed.mismatch_problem(permit=permit, declaration_no=number,
                                    coordination_id=coordination_id)
    return problem.code if problem is not None else None


CORRECTED_ITEM = {"tariff_code": "85423100003", "description": "Field programmable gate array",
                  "quantity": "20", "unit": "PCE", "unit_price": "1500", "currency": "USD",
                  "origin_country": "TW", "source_line_no": 1}


@pytest.fixture
def file_correction(make_case, applicant):
    """A 單證比對不符修正 of `permit` for declaration `number` with `coordination_id`, filed
    (初審中) after the gates let it through, as the entry's 申請 does."""

    def file(permit, coordination_id, number=A, **data):
        case = make_case(applicant, kind=Kind.MISMATCH_CORRECTION, changes=permit.current,
                         items=[dict(CORRECTED_ITEM)], change_description="數量更正為 20",
                         declaration_no=number, coordination_id=coordination_id,
                         status=Status.INITIAL_REVIEW, **data)
        changes.check_change(case)
        return case

    return file


def backdate(permit, days):
    """As if the permit had been issued `days` ago (its validity starting then too)."""
    earlier = timezone.now() - datetime.timedelta(days=days)
    PermitVersion.objects.filter(permit=permit).update(issued_at=earlier,
                                                       valid_from=earlier.date())


# --- the 會辦識別碼 ---------------------------------------------------------------------------

def test_a_mismatch_carries_a_coordination_id_and_a_match_none(receive, permit):
    receive(over(permit), declaration(permit, number=B, items=[item("4")]))
    mismatch, match = newest(A), newest(B)
    assert mismatch.result == "mismatch" and CODE_RE.fullmatch(mismatch.coordination_id)
    assert match.result == "match" and match.coordination_id == ""


def test_matching_the_same_revision_again_keeps_its_id_and_an_amendment_gets_a_new_one(
        receive, permit):
    receive(over(permit), over(permit, number=B, quantity="12"))
    first, other = newest(A).coordination_id, newest(B).coordination_id
    assert first != other  # each declaration its own
    matching.match_declarations(list(Declaration.objects.values_list("pk", flat=True)))
    assert MatchResult.objects.filter(declaration__number=A).count() == 2
    assert newest(A).coordination_id == first and newest(B).coordination_id == other
    receive(over(permit, quantity="14", revision=1))  # customs amended it: still too much
    amended = newest(A).coordination_id
    assert CODE_RE.fullmatch(amended) and amended != first
    assert problem_code(permit, coordination_id=first) == "wrong_coordination_id"
    assert problem_code(permit, coordination_id=amended) is None


def test_customs_gets_the_coordination_id_in_the_results(client, customs, permit,
                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send(client, [over(permit), declaration(permit, number=B, items=[item("4")])],
             customs.token)
    body = fetch(client, customs.token).json()
    by_number = {r["declaration"]: r for r in body["results"]}
    assert by_number[A]["result"] == "mismatch"
    assert by_number[A]["coordination_id"] == newest(A).coordination_id
    assert by_number[B]["result"] == "match" and by_number[B]["coordination_id"] is None
    # The shape customs already reads is kept; the id is one more field.
    assert set(by_number[A]) == {"seq", "declaration", "revision", "result", "coordination_id",
                                 "reasons", "permit_no", "permit_version", "matched_at"}


@pytest.mark.parametrize("who", ["applicant", "agent"])
def test_the_matching_query_shows_the_coordination_id_of_a_mismatch(
        client, make_case, applicant, agent, reviewer, receive, who):
    permit = make_case(applicant, actor=agent, status=Status.APPROVED,
                       reviewer=reviewer).issued_version.permit
    receive(over(permit), declaration(permit, number=B, items=[item("4")]))
    client.force_login({"applicant": applicant, "agent": agent}[who])
    code = newest(A).coordination_id
    page = client.get(QUERY, {"number": A})
    assert page.status_code == 200
    assert page.context["result"].coordination_id == code
    assert 'data-testid="coordination-id"' in page.content.decode()
    assert code in page.content.decode()
    matched = client.get(QUERY, {"number": B}).content.decode()
    assert 'data-testid="coordination-id"' not in matched


def test_another_applicant_sees_nothing_of_it(client, other_applicant, permit, receive):
    receive(over(permit))
    client.force_login(other_applicant)
    page = client.get(QUERY, {"number": A})
    assert page.context["declaration"] is None
    assert newest(A).coordination_id not in page.content.decode()


# --- the gate, code by code ------------------------------------------------------------------

def test_it_lets_the_mismatch_of_an_export_declaration_be_corrected(receive, permit):
    receive(over(permit))
    code = newest(A).coordination_id
    assert problem_code(permit) is None
    # As typed: lower case, in two groups, with blanks around.
    assert problem_code(permit, coordination_id=f" {code[:5].lower()}-{code[5:]} ") is None
    assert problem_code(permit, number=f" {A.lower()} ", coordination_id=code) is None


@pytest.mark.parametrize("number", [
    "AA11500000099B",  # no such declaration
    "",
    "AA1\x00",  # NUL bytes: a form message, never a database error
    "9" * 100_000,
    "報單號碼",
])
def test_it_refuses_a_declaration_number_it_does_not_know(receive, permit, number):
    receive(over(permit))
    assert problem_code(permit, number=number,
                        coordination_id=newest(A).coordination_id) == "unknown_declaration"


def test_it_refuses_a_declaration_of_another_permit(receive, permit, make_case, applicant,
                                                    reviewer):
    other = make_case(applicant, status=Status.APPROVED, reviewer=reviewer).issued_version.permit
    receive(over(other))
    assert problem_code(permit) == "unknown_declaration"
    assert problem_code(other) is None


def test_it_refuses_an_import_declaration_for_an_export_permit(receive, permit):
    receive(over(permit, direction="import"))
    assert newest(A).result == "mismatch"  # wrong_direction
    problem = feed.mismatch_problem(permit=permit, declaration_no=A,
                                    coordination_id=newest(A).coordination_id)
    assert problem.code == "unknown_declaration"
    assert problem.params == {"permit": permit.permit_no}
    with translation.override("en"):
        assert "export declaration" in str(problem.message)


def test_it_refuses_a_declaration_customs_cancelled(receive, permit):
    receive(over(permit))
    receive(cancellation(A))
    assert problem_code(permit) == "unknown_declaration"


def test_it_refuses_a_declaration_not_matched_yet(permit):
    feed.receive([over(permit)], source="test")  # the matching, queued after commit, not run
    assert problem_code(permit, coordination_id="ABCDEFGHJK") == "no_mismatch"


def test_it_refuses_a_declaration_that_matched(receive, permit):
    receive(declaration(permit, items=[item("4")]))
    assert problem_code(permit, coordination_id="ABCDEFGHJK") == "declaration_matched"


@pytest.mark.parametrize("typed", ["", "ABCDEFGHJ", "ABCDEFGHJKL", "0O1I0O1I0O", "\x00" * 10,
                                   "會辦識別碼" * 2, "x" * 100_000, "other"])
def test_it_refuses_a_coordination_id_that_is_not_the_mismatch_s(receive, permit, typed):
    receive(over(permit), over(permit, number=B, quantity="12"))
    if typed == "other":
        typed = newest(B).coordination_id  # the id of another mismatch
    assert problem_code(permit, coordination_id=typed) == "wrong_coordination_id"


def test_it_refuses_once_goods_were_released_under_the_permit(receive, permit):
    receive(over(permit), declaration(permit, number=B, items=[item("4")]),
            release(B))
    assert LedgerEntry.objects.filter(permit=permit).exists()
    problem = feed.mismatch_problem(permit=permit, declaration_no=A,
                                    coordination_id=newest(A).coordination_id)
    assert problem.code == "has_release"


def test_a_reversed_release_no_longer_counts(receive, permit):
    receive(over(permit), declaration(permit, number=B, items=[item("4")]), release(B),
            cancellation(B))
    assert problem_code(permit) is None


def test_the_change_gates_ask_it_for_a_correction_naming_a_declaration(receive, permit):
    receive(over(permit))
    code = newest(A).coordination_id

    def gate(**declaration):
        problem = changes.change_problem(kind=Kind.MISMATCH_CORRECTION, permit=permit,
                                         version=permit.current, **declaration)
        return problem.code if problem is not None else None

    assert gate(declaration_no=A, coordination_id=code) is None
    assert gate(declaration_no=A, coordination_id="ABCDEFGHJK") == "wrong_coordination_id"
    assert gate(declaration_no=B, coordination_id=code) == "unknown_declaration"
    assert gate(declaration_no=A, coordination_id="") == "wrong_coordination_id"
    assert gate() is None  # no declaration named: "some mismatch on the permit" (masks)


# --- again at approval, under the permit's lock ----------------------------------------------

def _release(receive, permit):
    receive(declaration(permit, number=B, items=[item("4")]), release(B))


def _amended_to_match(receive, permit):
    receive(declaration(permit, items=[item("10")], revision=1))


def _amended_still_over(receive, permit):
    receive(over(permit, quantity="16", revision=1))


def _cancelled(receive, permit):
    receive(cancellation(A))


@pytest.mark.parametrize(("meanwhile", "code"), [
    (_release, "has_release"),
    (_amended_to_match, "declaration_matched"),
    (_amended_still_over, "wrong_coordination_id"),  # another mismatch, another id
    (_cancelled, "unknown_declaration"),
])
def test_approval_asks_again_and_saves_nothing_when_refused(
        receive, permit, reviewer, file_correction, meanwhile, code):
    receive(over(permit))
    case = to_second_review(file_correction(permit, newest(A).coordination_id), reviewer)
    meanwhile(receive, permit)
    results, feed_last = MatchResult.objects.count(), FeedCounter.objects.get().last
    moves, mails = StatusChange.objects.count(), OutboundEmail.objects.count()
    with pytest.raises(workflow.TransitionNotAllowed) as refused:
        approve(case, reviewer)
    assert refused.value.code == "change_refused"
    assert [e.code for e in refused.value.__cause__.error_list] == [code]
    case.refresh_from_db()
    assert case.status == Status.SECOND_REVIEW
    assert permit.versions.count() == 1
    assert (StatusChange.objects.count(), OutboundEmail.objects.count()) == (moves, mails)
    assert MatchResult.objects.count() == results  # nothing matched again, nothing to customs
    assert FeedCounter.objects.get().last == feed_last


# --- RECON-5: matched again by itself once approved --------------------------------------------

def test_an_approved_correction_is_matched_again_and_customs_gets_the_result(
        client, customs, applicant, reviewer, permit, file_correction,
        django_capture_on_commit_callbacks):
    backdate(permit, 5)
    declared = timezone.localdate() - datetime.timedelta(days=2)
    # Customs sends two export declarations dated before the correction: both declare more
    # than the permit's 10 PCE.
    with django_capture_on_commit_callbacks(execute=True):
        answers = send(client, [over(permit, date=declared),
                                over(permit, number=B, quantity="12", date=declared)],
                       customs.token).json()
    assert [a["status"] for a in answers] == ["accepted", "accepted"]
    first = fetch(client, customs.token).json()
    by_number = {r["declaration"]: r for r in first["results"]}
    assert by_number[A]["result"] == by_number[B]["result"] == "mismatch"

    # The applicant looks the mismatch up (FAQ 3.11) and files the correction with its id.
    client.force_login(applicant)
    page = client.get(QUERY, {"number": A})
    code = page.context["result"].coordination_id
    assert code == by_number[A]["coordination_id"] and code in page.content.decode()
    case = file_correction(permit, code)
    with django_capture_on_commit_callbacks(execute=True):
        approve(case, reviewer)
    assert permit.versions.count() == 2

    # The bureau matched the permit's declarations again and told customs: A against the
    # version its correction issued (whatever the dates), B still against the first.
    again = fetch(client, customs.token, after=first["next"]).json()
    by_number = {r["declaration"]: r for r in again["results"]}
    assert set(by_number) == {A, B}
    assert min(r["seq"] for r in again["results"]) > first["next"]
    assert by_number[A]["result"] == "match" and by_number[A]["coordination_id"] is None
    assert (by_number[A]["permit_no"], by_number[A]["permit_version"]) == (permit.permit_no, 2)
    assert by_number[A]["reasons"] == []
    assert by_number[B]["result"] == "mismatch" and by_number[B]["permit_version"] == 1
    assert by_number[B]["coordination_id"] == newest(B).coordination_id  # the same mismatch
    page = client.get(QUERY, {"number": A})
    assert page.context["result"].result == "match"
    assert page.context["result"].permit_version.version == 2
    assert 'data-testid="coordination-id"' not in page.content.decode()
    # Once it matched, the correction cannot be filed again.
    assert problem_code(permit, coordination_id=code) == "declaration_matched"


def test_an_approved_amendment_of_a_closed_correction_is_matched_again_too(
        receive, applicant, reviewer, permit, make_case, file_correction,
        django_capture_on_commit_callbacks):
    backdate(permit, 5)
    receive(over(permit, date=timezone.localdate() - datetime.timedelta(days=2)))
    closed = file_correction(permit, newest(A).coordination_id)
    workflow.transition(application=closed, to=Status.AMENDMENT_CLOSED, actor=reviewer,
                        note="請補正更正描述。")
    # The 補正 (SHTC-8) carries no declaration of its own: it continues the closed case.
    amendment = make_case(applicant, kind=Kind.AMENDMENT, amends=closed,
                          items=[dict(CORRECTED_ITEM)], change_description="補正",
                          status=Status.INITIAL_REVIEW)
    assert changes.mismatch_declaration(amendment) == {
        "declaration_no": A, "coordination_id": newest(A).coordination_id}
    with django_capture_on_commit_callbacks(execute=True):
        approve(amendment, reviewer)
    result = newest(A)
    assert result.result == "match" and result.permit_version.application == amendment
