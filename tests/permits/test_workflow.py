"""The transition table (PERMIT-5): every (from, to) pair, the history row, the actors."""

import dataclasses
import itertools

import pytest
from django.core.exceptions import PermissionDenied

from permits import procedures, workflow
from permits.models import Application, DocumentType, Status

ALL = list(Status)
ALLOWED = {(old, new) for old, moves in workflow.TRANSITIONS.items() for new in moves}


@pytest.fixture
def auto_issue(monkeypatch):
    """Let the test's document type be issued at once, as masks will be (MASK-3), and
    approved without four eyes (a procedure's rule: tests/permits/test_four_eyes.py): the
    table's moves alone."""
    original = procedures.get

    def get(document_type):
        # A copy: the registered procedure stays as it is for the other tests.
        return dataclasses.replace(original(document_type), auto_issue=True, four_eyes=False)

    monkeypatch.setattr(procedures, "get", get)


def _at(application, status):
    # Test setup only: put the case where the pair starts.
    Application.objects.filter(pk=application.pk).update(status=status)
    application.refresh_from_db()
    return application


def _actor(who, applicant, reviewer):
    return {workflow.APPLICANT: applicant, workflow.BUREAU: reviewer, workflow.SYSTEM: None}[who]


def test_it_knows_every_status():
    assert set(workflow.TRANSITIONS) == set(Status)


@pytest.mark.django_db
@pytest.mark.parametrize(("old", "new"), sorted(ALLOWED))
def test_it_allows_each_move_in_the_table(old, new, make_case, applicant, reviewer,
                                          auto_issue):
    application = _at(make_case(applicant), old)
    if (old, new) == (Status.REGISTERED, Status.DRAFT):
        # The bureau reopens only an Iran / North Korea assurance (SHTC-6, shtc/iran.py).
        Application.objects.filter(pk=application.pk).update(destination_country="IR")
        application.refresh_from_db()
    who = workflow.TRANSITIONS[old][new]
    moved = workflow.transition(application=application, to=new,
                                actor=_actor(who, applicant, reviewer),
                                note="理由", system=who == workflow.SYSTEM)
    assert moved.status == new
    change = moved.status_changes.get()
    assert (change.old, change.new, change.note) == (old, new, "理由")
    assert change.actor == _actor(who, applicant, reviewer)


@pytest.mark.django_db
@pytest.mark.parametrize(("old", "new"),
                         sorted(set(itertools.product(ALL, ALL)) - ALLOWED))
def test_it_refuses_each_move_outside_the_table(old, new, make_case, applicant, reviewer):
    application = _at(make_case(applicant), old)
    with pytest.raises(workflow.TransitionNotAllowed) as error:
        workflow.transition(application=application, to=new, actor=reviewer, note="x")
    assert error.value.code == "not_in_table"
    application.refresh_from_db()
    assert application.status == old and not application.status_changes.exists()


@pytest.mark.django_db
def test_it_refuses_a_bureau_move_by_the_applicant(make_case, applicant):
    application = make_case(applicant, status=Status.INITIAL_REVIEW)
    with pytest.raises(PermissionDenied):
        workflow.transition(application=application, to=Status.APPROVED, actor=applicant)


@pytest.mark.django_db
def test_it_refuses_an_applicant_move_by_another_applicant(make_case, applicant,
                                                           other_applicant):
    application = make_case(applicant)
    with pytest.raises(PermissionDenied):
        workflow.transition(application=application, to=Status.INITIAL_REVIEW,
                            actor=other_applicant)


@pytest.mark.django_db
def test_it_lets_the_filing_agent_submit(make_case, applicant, agent):
    application = make_case(applicant, actor=agent)
    moved = workflow.transition(application=application, to=Status.INITIAL_REVIEW, actor=agent)
    assert moved.status == Status.INITIAL_REVIEW and moved.agent == agent


@pytest.mark.django_db
def test_it_refuses_staff_outside_the_reviewers_group(make_case, applicant, make_user):
    staff = make_user("A223456781", identifier_type="national_id", is_staff=True)
    application = make_case(applicant, status=Status.INITIAL_REVIEW)
    with pytest.raises(PermissionDenied):
        workflow.transition(application=application, to=Status.APPROVED, actor=staff)


@pytest.mark.django_db
def test_it_needs_a_note_to_ask_for_documents(make_case, applicant, reviewer):
    application = make_case(applicant, status=Status.INITIAL_REVIEW)
    with pytest.raises(workflow.TransitionNotAllowed) as error:
        workflow.transition(application=application, to=Status.SUPPLEMENT, actor=reviewer,
                            note="  ")
    assert error.value.code == "note_required"


@pytest.mark.django_db
def test_it_refuses_to_issue_a_reviewed_document_type_at_once(make_case, applicant):
    application = make_case(applicant)
    with pytest.raises(workflow.TransitionNotAllowed) as error:
        workflow.transition(application=application, to=Status.APPROVED, actor=None,
                            system=True)
    assert error.value.code == "procedure"


@pytest.mark.django_db
def test_it_refuses_to_submit_a_case_without_items(make_case, applicant):
    application = make_case(applicant, items=[])
    with pytest.raises(workflow.TransitionNotAllowed):
        workflow.transition(application=application, to=Status.INITIAL_REVIEW,
                            actor=applicant)


@pytest.mark.django_db
def test_it_numbers_a_submitted_case_and_dates_it(make_case, applicant):
    application = make_case(applicant, status=Status.INITIAL_REVIEW)
    assert application.receipt_no.startswith("RSE") and len(application.receipt_no) == 14
    assert application.submitted_at is not None


@pytest.mark.django_db
def test_it_gives_a_registration_number_on_registering(make_case, applicant):
    application = make_case(applicant, document_type=DocumentType.END_USE)
    moved = workflow.transition(application=application, to=Status.REGISTERED,
                                actor=applicant)
    assert moved.registration_no.startswith("EEU") and moved.receipt_no is None


@pytest.mark.django_db
def test_it_issues_the_permit_on_approval(make_case, applicant, reviewer):
    application = make_case(applicant, status=Status.APPROVED, reviewer=reviewer)
    version = application.issued_version
    assert version.version == 1 and version.permit.holder == applicant
    assert version.permit.permit_no.startswith("PSE") and len(version.permit.permit_no) == 14
    # SHTC-14: the case goes to Germany, a member of all four regimes: two years, less a day
    # (six months elsewhere: tests/shtc/test_validity_issue.py).
    assert (version.valid_until - version.valid_from).days in range(729, 731)


@pytest.mark.django_db
def test_it_documents_every_status_in_the_module_docstring():
    for status in Status:
        assert status.label  # a label for the UI
    doc = workflow.__doc__
    for chinese in ("暫存", "登錄中", "初審中", "協查中", "複審中", "補件", "退回初審",
                    "補正結案", "退件結案", "准件結案", "已取消"):
        assert chinese in doc
