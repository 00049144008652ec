"""The gates of every change kind (PERMIT-3, SHTC-8 to SHTC-11) in permits.changes, checked
when a change is filed and again under the permit's lock when the bureau approves it."""

import dataclasses
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from permits import changes, procedures, services, workflow
from permits.models import (
    Application,
    DocumentType,
    Kind,
    OutboundEmail,
    Permit,
    Status,
)
from reconciliation import ledger
from reconciliation import services as reconciliation_services
from reconciliation.models import Declaration, LedgerEntry
from tests import services as test_services
from tests.approvals import approve, to_second_review
from tests.reconciliation import helpers

ALL_CHANGE_KINDS = (Kind.CORRECTION, Kind.MISMATCH_CORRECTION, Kind.CLEARED_CORRECTION,
                    Kind.AMENDMENT, Kind.BALANCE_REISSUE)
ITEM = {"tariff_code": "85423100003", "description": "Field programmable gate array",
        "quantity": "10", "unit": "PCE", "unit_price": "1500", "currency": "USD",
        "origin_country": "TW"}


@pytest.fixture(autouse=True)
def se_changes():
    """The SHTC export procedure offering every change kind (its own issue declares which),
    the registry restored after the test."""
    saved = dict(procedures._registry)
    procedures.register(dataclasses.replace(procedures.get(DocumentType.SHTC_EXPORT),
                                            change_kinds=ALL_CHANGE_KINDS))
    yield
    procedures._registry.clear()
    procedures._registry.update(saved)


@pytest.fixture
def permit(make_case, applicant, reviewer):
    return make_case(applicant, status=Status.APPROVED, reviewer=reviewer).issued_version.permit


@pytest.fixture
def file_change(make_case, applicant):
    """A change of `version` filed (初審中), its item citing item 1 of the permit."""

    def file(kind, version, *, quantity="10", **item):
        return make_case(applicant, kind=kind, changes=version, status=Status.INITIAL_REVIEW,
                         change_description="更正產地",
                         items=[{**ITEM, "quantity": quantity, "source_line_no": 1, **item}])

    return file


def refusal(excinfo):
    """The gate's codes behind a refused approval."""
    assert excinfo.value.code == "change_refused"
    return [e.code for e in excinfo.value.__cause__.error_list]


def code_of(problem):
    return problem.code if problem is not None else None


def mismatch(permit, *, number="AA11500000009B"):
    return Declaration.objects.create(
        number=number, direction="export", declared_on=timezone.localdate(),
        declarant_identifier=permit.holder.identifier, permit_no=permit.permit_no,
        permit=permit, result="mismatch")


def write_off(permit, quantity="4"):
    return ledger.write_off(permit=permit, lines={1: Decimal(quantity)},
                            kind=LedgerEntry.Kind.WRITE_OFF, reference="test")


# --- change_problem, kind by kind ------------------------------------------------------------

def _cleared(permit):
    Permit.objects.filter(pk=permit.pk).update(first_cleared_at=timezone.now())


def _released(permit):
    Permit.objects.filter(pk=permit.pk).update(first_cleared_at=timezone.now(),
                                               first_released_at=timezone.now())


def _revoked(permit):
    Permit.objects.filter(pk=permit.pk).update(revoked_at=timezone.now())


def _mismatch_released(permit):
    mismatch(permit)
    _released(permit)


@pytest.mark.django_db
@pytest.mark.parametrize(("kind", "setup", "code"), [
    (Kind.CORRECTION, None, None),
    (Kind.CORRECTION, _cleared, "has_clearance"),
    (Kind.CORRECTION, write_off, "has_clearance"),
    (Kind.CORRECTION, _revoked, "revoked"),
    (Kind.MISMATCH_CORRECTION, None, "no_mismatch"),
    (Kind.MISMATCH_CORRECTION, mismatch, None),
    (Kind.MISMATCH_CORRECTION, _mismatch_released, "has_release"),
    (Kind.MISMATCH_CORRECTION, _revoked, "revoked"),
    (Kind.CLEARED_CORRECTION, None, "no_clearance"),
    (Kind.CLEARED_CORRECTION, _cleared, None),
    (Kind.CLEARED_CORRECTION, write_off, None),
    (Kind.BALANCE_REISSUE, None, "not_revoked"),
    (Kind.BALANCE_REISSUE, _revoked, None),
])
def test_it_gates_each_change_kind(permit, kind, setup, code):
    if setup is not None:
        setup(permit)
    permit = Permit.objects.get(pk=permit.pk)
    assert code_of(changes.change_problem(kind=kind, permit=permit,
                                          version=permit.current)) == code


@pytest.mark.django_db
def test_it_refuses_a_kind_the_procedure_does_not_offer(permit):
    procedures.register(dataclasses.replace(procedures.get(DocumentType.SHTC_EXPORT),
                                            change_kinds=(Kind.CORRECTION,)))
    problem = changes.change_problem(kind=Kind.CLEARED_CORRECTION, permit=permit)
    assert problem.code == "kind_not_allowed"


@pytest.mark.django_db
def test_it_refuses_every_change_when_the_procedure_offers_none(permit):
    procedures.register(dataclasses.replace(procedures.get(DocumentType.SHTC_EXPORT),
                                            change_kinds=()))
    assert changes.change_problem(kind=Kind.CORRECTION, permit=permit).code == \
        "kind_not_allowed"


@pytest.mark.django_db
def test_it_names_the_newer_version_when_the_loaded_one_is_old(permit, file_change, reviewer):
    first = permit.current
    approve(file_change(Kind.CORRECTION, first), reviewer)
    problem = changes.change_problem(kind=Kind.CORRECTION, permit=Permit.objects.get(
        pk=permit.pk), version=first)
    assert problem.code == "not_current" and problem.params == {"newer": 2}
    assert "2" in problem.messages[0]


@pytest.mark.django_db
def test_it_ignores_a_mismatch_of_a_declaration_customs_cancelled(permit):
    mismatch(permit)
    Declaration.objects.update(cancelled_at=timezone.now())
    assert changes.change_problem(kind=Kind.MISMATCH_CORRECTION, permit=permit).code == \
        "no_mismatch"


# --- again at approval, under the lock ---------------------------------------------------------

@pytest.mark.django_db
def test_it_refuses_the_second_of_two_changes_of_one_version(permit, file_change, reviewer):
    first = permit.current
    one, two = file_change(Kind.CORRECTION, first), file_change(Kind.CORRECTION, first)
    assert approve(one, reviewer).issued_version.version == 2
    two = to_second_review(two, reviewer)
    mails = OutboundEmail.objects.count()
    with pytest.raises(workflow.TransitionNotAllowed) as excinfo:
        approve(two, reviewer)
    assert refusal(excinfo) == ["not_current"]
    two.refresh_from_db()
    assert two.status == Status.SECOND_REVIEW and two.permit_version is None
    assert list(permit.versions.values_list("version", flat=True)) == [2, 1]
    assert not two.status_changes.filter(new=Status.APPROVED).exists()
    assert OutboundEmail.objects.count() == mails  # nothing half-saved


@pytest.mark.django_db
def test_it_refuses_a_correction_when_customs_cleared_it_during_review(
        permit, file_change, reviewer, django_capture_on_commit_callbacks):
    change = file_change(Kind.CORRECTION, permit.current)
    with django_capture_on_commit_callbacks(execute=True):
        reconciliation_services.receive([helpers.declaration(permit)], source="test")
    assert Permit.objects.get(pk=permit.pk).has_clearance()
    with pytest.raises(workflow.TransitionNotAllowed) as excinfo:
        approve(change, reviewer)
    assert refusal(excinfo) == ["has_clearance"]
    assert permit.versions.count() == 1


@pytest.mark.django_db
def test_it_refuses_a_correction_after_a_write_off_during_review(permit, file_change,
                                                                 reviewer):
    change = file_change(Kind.CORRECTION, permit.current)
    write_off(permit)
    with pytest.raises(workflow.TransitionNotAllowed) as excinfo:
        approve(change, reviewer)
    assert refusal(excinfo) == ["has_clearance"]


@pytest.mark.django_db
def test_it_refuses_a_change_of_a_permit_cancelled_during_review(permit, file_change,
                                                                 applicant, reviewer):
    change = file_change(Kind.CORRECTION, permit.current)
    changes.permit_revoke(permit=permit, actor=applicant, reason="交易取消")
    with pytest.raises(workflow.TransitionNotAllowed) as excinfo:
        approve(change, reviewer)
    assert refusal(excinfo) == ["revoked"]


@pytest.mark.django_db
def test_it_approves_a_correction_as_the_next_version(permit, file_change, reviewer):
    version = approve(file_change(Kind.CORRECTION, permit.current), reviewer).issued_version
    assert version.permit == permit and version.version == 2


# --- the write-off counts as clearance ---------------------------------------------------------

@pytest.mark.django_db
def test_it_records_a_write_off_as_clearance_and_release(permit):
    write_off(permit)
    permit.refresh_from_db()
    assert permit.has_clearance() and permit.has_release()


@pytest.mark.django_db
def test_it_keeps_the_first_clearance_time_on_a_later_write_off(permit):
    write_off(permit, "1")
    first = Permit.objects.get(pk=permit.pk).first_cleared_at
    write_off(permit, "1")
    assert Permit.objects.get(pk=permit.pk).first_cleared_at == first


@pytest.mark.django_db
def test_it_keeps_a_write_off_as_clearance_when_customs_reports_later(permit):
    """The facts are rebuilt from what is on file when a declaration arrives: the write-off
    stays on file, so the permit stays cleared and released."""
    from reconciliation import services as reconciliation_services
    from tests.reconciliation import helpers

    write_off(permit, "1")
    first = Permit.objects.get(pk=permit.pk).first_cleared_at
    declaration = helpers.declaration(permit)
    reconciliation_services.receive([declaration], source="test")
    reconciliation_services.receive([{"message_id": "cancel-1", "type": "cancellation",
                                      "declaration": "AA11500000001B"}], source="test")
    permit.refresh_from_db()
    assert permit.has_clearance() and permit.has_release()
    assert permit.first_cleared_at == first


# --- items against the ledger ------------------------------------------------------------------

@pytest.mark.django_db
def test_it_refuses_a_quantity_below_what_was_written_off(permit, file_change, reviewer):
    write_off(permit, "4")
    change = file_change(Kind.CLEARED_CORRECTION, permit.current, quantity="3")
    with pytest.raises(ValidationError) as excinfo:
        changes.check_change(change)
    [problem] = excinfo.value.error_list
    assert problem.code == "below_used" and problem.params == {"line": 1, "used": "4"}
    with pytest.raises(workflow.TransitionNotAllowed):
        approve(change, reviewer)


@pytest.mark.django_db
def test_it_accepts_a_quantity_equal_to_what_was_written_off(permit, file_change, reviewer):
    write_off(permit, "4")
    change = file_change(Kind.CLEARED_CORRECTION, permit.current, quantity="4")
    assert approve(change, reviewer).issued_version.version == 2


@pytest.mark.django_db
def test_it_refuses_moving_an_item_with_quantities_used(permit, make_case, applicant):
    write_off(permit, "4")
    change = make_case(applicant, kind=Kind.CLEARED_CORRECTION, changes=permit.current,
                       items=[{**ITEM, "description": "New goods"},
                              {**ITEM, "source_line_no": 1}])
    with pytest.raises(ValidationError) as excinfo:
        changes.check_change(change)
    assert [e.code for e in excinfo.value.error_list] == ["line_moved"]


@pytest.mark.django_db
def test_it_refuses_an_item_citing_an_item_the_permit_lacks(permit, file_change):
    change = file_change(Kind.CORRECTION, permit.current, source_line_no=9)
    with pytest.raises(ValidationError) as excinfo:
        changes.check_change(change)
    assert [e.code for e in excinfo.value.error_list] == ["unknown_source_line"]


# --- 補正 (SHTC-8) -------------------------------------------------------------------------------

@pytest.fixture
def closed_case(make_case, applicant, reviewer):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    return workflow.transition(application=case, to=Status.AMENDMENT_CLOSED, actor=reviewer,
                               note="最終用途保證書買方名稱有誤，請補正。")


def amend(case, applicant, status=Status.INITIAL_REVIEW):
    amendment = services.application_create(
        document_type=DocumentType.SHTC_EXPORT, kind=Kind.AMENDMENT, amends=case,
        applicant=applicant, actor=applicant, items=[dict(ITEM)], destination_country="DE")
    if status == Status.INITIAL_REVIEW:
        amendment = workflow.transition(application=amendment, to=status, actor=applicant)
    return amendment


@pytest.mark.django_db
def test_it_issues_an_amendment_of_a_closed_case_as_a_new_permit(closed_case, applicant,
                                                                 reviewer):
    amendment = amend(closed_case, applicant)
    assert amendment.amends == closed_case and amendment.changes is None
    version = approve(amendment, reviewer).issued_version
    assert version.version == 1 and version.permit.holder == applicant


@pytest.mark.django_db
def test_it_refuses_a_second_amendment_of_one_case(closed_case, applicant, reviewer):
    first = amend(closed_case, applicant)
    second = amend(closed_case, applicant, status=None)
    with pytest.raises(ValidationError) as excinfo:
        changes.check_change(second)
    assert [e.code for e in excinfo.value.error_list] == ["already_amended"]
    approve(first, reviewer)
    with pytest.raises(ValidationError):
        changes.check_change(second)


@pytest.mark.django_db
def test_it_refuses_an_amendment_of_a_case_not_closed_for_amendment(make_case, applicant):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    problem = changes.change_problem(kind=Kind.AMENDMENT, amends=case)
    assert problem.code == "not_amendable"


@pytest.mark.django_db
def test_it_applies_the_amended_changes_gates_to_its_amendment(permit, file_change, applicant,
                                                              reviewer):
    correction = file_change(Kind.CORRECTION, permit.current)
    workflow.transition(application=correction, to=Status.AMENDMENT_CLOSED, actor=reviewer,
                        note="更正描述不清楚")
    amendment = amend(Application.objects.get(pk=correction.pk), applicant)
    assert changes.origin(amendment) == (Kind.CORRECTION, permit.current)
    _cleared(permit)
    with pytest.raises(workflow.TransitionNotAllowed) as excinfo:
        approve(amendment, reviewer)
    assert refusal(excinfo) == ["has_clearance"]


@pytest.mark.django_db
def test_it_issues_an_amended_correction_as_the_next_version(permit, file_change, applicant,
                                                            reviewer):
    correction = file_change(Kind.CORRECTION, permit.current)
    workflow.transition(application=correction, to=Status.AMENDMENT_CLOSED, actor=reviewer,
                        note="更正描述不清楚")
    amendment = amend(Application.objects.get(pk=correction.pk), applicant)
    version = approve(amendment, reviewer).issued_version
    assert version.permit == permit and version.version == 2


# --- 餘額重簽 (SHTC-11) --------------------------------------------------------------------------

@pytest.fixture
def cancelled(permit, applicant):
    write_off(permit, "4")
    changes.permit_revoke(permit=permit, actor=applicant, reason="買方變更，餘額重簽")
    return Permit.objects.get(pk=permit.pk)


def reissue(make_case, applicant, permit, quantity):
    return make_case(applicant, kind=Kind.BALANCE_REISSUE, changes=permit.current,
                     status=Status.INITIAL_REVIEW,
                     items=[{**ITEM, "quantity": quantity, "source_line_no": 1}])


@pytest.mark.django_db
def test_it_loads_the_balance_of_a_cancelled_permit(cancelled):
    [item] = changes.balance_items(cancelled)
    assert item["quantity"] == Decimal(6) and item["source_line_no"] == 1
    assert item["amount"] == Decimal(9000) and item["tariff_code"] == ITEM["tariff_code"]


@pytest.mark.django_db
def test_it_leaves_out_items_with_nothing_left(permit, applicant):
    write_off(permit, "10")
    changes.permit_revoke(permit=permit, actor=applicant, reason="已全數輸入")
    assert changes.balance_items(Permit.objects.get(pk=permit.pk)) == []


@pytest.mark.django_db
def test_it_refuses_a_reissue_above_the_balance(cancelled, make_case, applicant, reviewer):
    change = reissue(make_case, applicant, cancelled, "7")
    with pytest.raises(ValidationError) as excinfo:
        changes.check_change(change)
    [problem] = excinfo.value.error_list
    assert problem.code == "over_balance" and problem.params["balance"] == "6"
    with pytest.raises(workflow.TransitionNotAllowed):
        approve(change, reviewer)


@pytest.mark.django_db
def test_it_reissues_the_balance_under_a_new_number_once(cancelled, make_case, applicant,
                                                         reviewer):
    version = approve(reissue(make_case, applicant, cancelled, "6"), reviewer).issued_version
    assert version.permit != cancelled and version.version == 1
    second = reissue(make_case, applicant, cancelled, "1")
    with pytest.raises(workflow.TransitionNotAllowed) as excinfo:
        approve(second, reviewer)
    assert refusal(excinfo) == ["already_reissued"]


@pytest.mark.django_db
def test_it_frees_the_balance_again_when_the_reissue_is_rejected(cancelled, make_case,
                                                                  applicant, reviewer):
    first = reissue(make_case, applicant, cancelled, "6")
    workflow.transition(application=first, to=Status.REJECTED, actor=reviewer, note="文件不符")
    assert changes.change_problem(kind=Kind.BALANCE_REISSUE, permit=cancelled) is None


# --- races (PostgreSQL) ------------------------------------------------------------------------

@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_issues_one_of_two_changes_approved_at_once(permit, file_change, reviewer):
    test_services.require_postgres()
    first = permit.current
    cases = [file_change(Kind.CORRECTION, first), file_change(Kind.CORRECTION, first)]

    def approve_one(case):
        def run():
            try:
                return approve(case, reviewer).issued_version.version
            except workflow.TransitionNotAllowed as error:
                return error.code
        return run

    results = test_services.run_concurrently(*[approve_one(case) for case in cases])
    assert sorted(map(str, results)) == ["2", "change_refused"]
    assert permit.versions.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_refuses_a_correction_racing_a_write_off(permit, file_change, reviewer):
    test_services.require_postgres()
    change = file_change(Kind.CORRECTION, permit.current)

    def approve_it():
        try:
            return approve(change, reviewer).issued_version.version
        except workflow.TransitionNotAllowed as error:
            return error.code

    approved, _entries = test_services.run_concurrently(approve_it, lambda: write_off(permit))
    permit.refresh_from_db()
    # Either order is fine; never an approved correction after the write-off's clearance.
    if approved == 2:
        assert permit.versions.get(version=2).issued_at <= permit.first_cleared_at
    else:
        assert approved == "change_refused"
    assert permit.has_clearance()

