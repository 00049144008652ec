"""Four eyes (issue 14, point 3; permits.workflow.four_eyes_problem): where the procedure wants
it (SHTC), 准件結案 is made in 複審中 by a reviewer of the senior reviewers group who did not
take the case through 初審; refused otherwise, in transition() under the row lock and as a
message in the admin, whose case page does not offer what would be refused and says why."""

import dataclasses
import re

import pytest
from django.urls import reverse

from permits import procedures, workflow
from permits.models import Application, DocumentType, Status
from tests.approvals import bureau_reviewer, second_reviewer, senior

pytestmark = pytest.mark.django_db


@pytest.fixture
def plain_reviewer(db):
    """A reviewer of the reviewers group only, who did not touch the case."""
    return bureau_reviewer("A223456781", "貿易局審核員乙")


@pytest.fixture
def in_second_review(make_case, applicant, reviewer):
    """An SHTC case the fixture's reviewer took through 初審 to 複審中."""
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    return workflow.transition(application=case, to=Status.SECOND_REVIEW, actor=reviewer)


def approve(case, actor):
    return workflow.transition(application=case, to=Status.APPROVED, actor=actor)


def refused(case, actor):
    with pytest.raises(workflow.TransitionNotAllowed) as error:
        approve(case, actor)
    assert error.value.code == "four_eyes"
    assert Application.objects.get(pk=case.pk).status != Status.APPROVED
    return str(error.value)


def test_shtc_wants_four_eyes_and_the_framework_does_not_by_default():
    assert procedures.get(DocumentType.SHTC_EXPORT).four_eyes is True
    assert procedures.Procedure(document_type="XX").four_eyes is False


def test_it_refuses_the_reviewer_who_took_the_case_through_initial_review(
        in_second_review, reviewer):
    refused(in_second_review, senior(reviewer))  # even with the permission


def test_it_refuses_a_reviewer_without_the_permission(in_second_review, plain_reviewer):
    refused(in_second_review, plain_reviewer)


def test_it_refuses_approval_straight_from_initial_review(make_case, applicant):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    refused(case, second_reviewer())


def test_it_counts_a_move_out_of_returned_as_initial_review(in_second_review, reviewer,
                                                           plain_reviewer):
    """退回初審 is 初審 again: who moved the case out of it took it through 初審."""
    other = senior(plain_reviewer)
    case = workflow.transition(application=in_second_review, to=Status.RETURNED,
                               actor=other, note="請重新審查最終用途。")
    case = workflow.transition(application=case, to=Status.SECOND_REVIEW, actor=other)
    refused(case, other)


def test_it_allows_a_second_senior_reviewer(in_second_review):
    approver = second_reviewer()
    case = approve(in_second_review, approver)
    assert case.status == Status.APPROVED and case.issued_version.version == 1
    assert case.status_changes.get(new=Status.APPROVED).actor == approver


def test_it_leaves_a_procedure_without_four_eyes_alone(make_case, applicant, reviewer,
                                                       monkeypatch):
    original = procedures.get
    monkeypatch.setattr(procedures, "get", lambda document_type: dataclasses.replace(
        original(document_type), four_eyes=False))
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    assert Status.APPROVED in workflow.allowed_moves(case, workflow.BUREAU)
    assert approve(case, reviewer).status == Status.APPROVED


def test_it_does_not_offer_approval_from_initial_review(make_case, applicant):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    moves = workflow.allowed_moves(case, workflow.BUREAU)
    assert Status.APPROVED not in moves and Status.SECOND_REVIEW in moves


# --- in the admin --------------------------------------------------------------------------


def case_page(client, case):
    response = client.get(reverse("admin:permits_application_change", args=[case.pk]))
    assert response.status_code == 200
    return response


def post_move(client, case, to):
    return client.post(reverse("admin:permits_application_move", args=[case.pk]),
                       {"to": to, "note": ""}, follow=True)


def levels(response):
    return [message.level_tag for message in response.context["messages"]]


def test_the_page_does_not_offer_approval_to_the_first_reviewer_and_says_why(
        client, in_second_review, reviewer):
    client.force_login(senior(reviewer))
    response = case_page(client, in_second_review)
    offered = {to for to, _label, _note in response.context["moves"]}
    assert Status.APPROVED not in offered and Status.REJECTED in offered
    html = response.content.decode()
    assert 'data-move="approved"' not in html
    assert re.search(r'data-testid="withheld-move">[^<]+</p>', html)


def test_the_page_offers_approval_to_a_second_senior_reviewer(client, in_second_review):
    client.force_login(second_reviewer())
    response = case_page(client, in_second_review)
    assert 'data-move="approved"' in response.content.decode()
    assert response.context["withheld_moves"] == []


def test_the_page_says_why_approval_waits_in_initial_review(client, make_case, applicant):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    client.force_login(second_reviewer())
    html = case_page(client, case).content.decode()
    assert 'data-move="approved"' not in html and 'data-testid="withheld-move"' in html


def test_an_approval_posted_by_the_first_reviewer_is_a_message(client, in_second_review,
                                                              reviewer):
    client.force_login(senior(reviewer))
    response = post_move(client, in_second_review, "approved")
    assert response.status_code == 200 and levels(response) == ["error"]
    assert Application.objects.get(pk=in_second_review.pk).status == Status.SECOND_REVIEW


def test_an_approval_posted_without_the_permission_is_a_message(client, in_second_review,
                                                               plain_reviewer):
    client.force_login(plain_reviewer)
    response = post_move(client, in_second_review, "approved")
    assert response.status_code == 200 and levels(response) == ["error"]
    assert Application.objects.get(pk=in_second_review.pk).status == Status.SECOND_REVIEW


def test_a_second_senior_reviewer_approves_in_the_admin(client, in_second_review):
    client.force_login(second_reviewer())
    response = post_move(client, in_second_review, "approved")
    assert levels(response) == ["success"]
    assert Application.objects.get(pk=in_second_review.pk).status == Status.APPROVED


def test_the_page_reads_no_more_for_four_eyes(client, in_second_review):
    """Who took the case through 初審 is read from the history the page read: the page's
    queries are those of a case whose procedure does not want four eyes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def asked(queries):
        return [q for q in queries.captured_queries
                if q["sql"].startswith('SELECT 1 AS "a" FROM "permits_statuschange"')]

    approver = second_reviewer()
    with CaptureQueriesContext(connection) as alone:  # without the page's history: a query
        workflow.four_eyes_problem(in_second_review, Status.APPROVED, approver)
    assert asked(alone)
    client.force_login(approver)
    case_page(client, in_second_review)  # caches warm
    with CaptureQueriesContext(connection) as queries:
        case_page(client, in_second_review)
    assert not asked(queries)
