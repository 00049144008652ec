"""Reviewers in the admin (ACC-5): the case list, the case page and the moves."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from permits.models import Application, Status
from tests.approvals import second_reviewer

CHANGELIST = reverse("admin:permits_application_changelist")


def move(client, case, to, note=""):
    return client.post(reverse("admin:permits_application_move", args=[case.pk]),
                       {"to": to, "note": note}, follow=True)


@pytest.mark.django_db
def test_it_lists_cases_in_a_constant_number_of_queries(client, make_case, applicant,
                                                        reviewer):
    client.force_login(reviewer)
    make_case(applicant, status=Status.APPROVED, reviewer=reviewer)
    with CaptureQueriesContext(connection) as few:
        assert client.get(CHANGELIST).status_code == 200
    for _ in range(10):
        make_case(applicant, status=Status.APPROVED, reviewer=reviewer)
    with CaptureQueriesContext(connection) as many:
        client.get(CHANGELIST)
    assert len(many) == len(few)


@pytest.mark.django_db
def test_it_finds_a_case_by_applicant_identifier_and_filters_by_status(
        client, make_case, applicant, other_applicant, reviewer):
    mine = make_case(applicant, status=Status.INITIAL_REVIEW)
    make_case(other_applicant, status=Status.INITIAL_REVIEW)
    client.force_login(reviewer)
    response = client.get(CHANGELIST, {"q": applicant.identifier})
    assert list(response.context["cl"].result_list) == [mine]
    response = client.get(CHANGELIST, {"status__exact": "supplement"})
    assert list(response.context["cl"].result_list) == []


@pytest.mark.django_db
def test_it_offers_the_moves_of_the_table(client, make_case, applicant, reviewer):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    client.force_login(reviewer)
    response = client.get(reverse("admin:permits_application_change", args=[case.pk]))
    offered = {to for to, _label, _note in response.context["moves"]}
    # An SHTC case is approved in 複審中, by a second reviewer (four eyes), and the page
    # says so.
    assert offered == {"consultation", "second_review", "supplement", "amendment_closed",
                       "rejected", "cancelled"}
    assert 'data-testid="withheld-move"' in response.content.decode()


@pytest.mark.django_db
def test_it_takes_a_case_from_initial_review_to_approval(client, make_case, applicant,
                                                         reviewer):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    client.force_login(reviewer)
    for to in ("consultation", "second_review"):
        response = move(client, case, to)
        assert [m.level_tag for m in response.context["messages"]] == ["success"]
    senior = second_reviewer()  # four eyes: a second reviewer approves
    client.force_login(senior)
    response = move(client, case, "approved")
    assert [m.level_tag for m in response.context["messages"]] == ["success"]
    case.refresh_from_db()
    assert case.status == Status.APPROVED and case.issued_version.version == 1
    assert list(case.status_changes.values_list("new", "actor")) == [
        ("initial_review", applicant.pk), ("consultation", reviewer.pk),
        ("second_review", reviewer.pk), ("approved", senior.pk)]


@pytest.mark.django_db
def test_it_says_why_a_wrong_move_is_refused(client, make_case, applicant, reviewer):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    client.force_login(reviewer)
    response = move(client, case, "registered")
    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    response = move(client, case, "supplement", note="")  # 補件 needs to say what
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    case.refresh_from_db()
    assert case.status == Status.INITIAL_REVIEW


@pytest.mark.django_db
def test_it_refuses_moves_by_staff_outside_the_reviewers_group(client, make_case, applicant,
                                                               make_user):
    staff = make_user("A223456781", identifier_type="national_id", is_staff=True)
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    client.force_login(staff)
    response = client.post(reverse("admin:permits_application_move", args=[case.pk]),
                           {"to": "approved"})
    assert response.status_code == 403
    assert Application.objects.get(pk=case.pk).status == Status.INITIAL_REVIEW


@pytest.mark.django_db
def test_it_keeps_applicants_out_of_the_back_office(client, make_case, applicant):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    client.force_login(applicant)
    response = client.post(reverse("admin:permits_application_move", args=[case.pk]),
                           {"to": "approved"})
    assert response.status_code == 302 and "/admin/login/" in response.url
    assert Application.objects.get(pk=case.pk).status == Status.INITIAL_REVIEW


@pytest.mark.django_db
def test_it_shows_the_case_read_only(client, make_case, applicant, reviewer):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    client.force_login(reviewer)
    html = client.get(reverse("admin:permits_application_change", args=[case.pk])
                      ).content.decode()
    assert 'name="applicant_name"' not in html and case.applicant_name in html
    assert "Field programmable gate array" in html  # the items


@pytest.mark.django_db
def test_it_shows_reviewers_the_table_it_enforces(client, reviewer, applicant):
    client.force_login(reviewer)
    response = client.get(reverse("admin:permits_application_workflow"))
    assert response.status_code == 200
    rows = {row["status"]: row for row in response.context["rows"]}
    assert len(rows) == len(Status) and "補件" in response.content.decode()
    assert len(rows[Status.INITIAL_REVIEW]["moves"]) == 7
    client.force_login(applicant)
    assert client.get(reverse("admin:permits_application_workflow")).status_code == 302


def inline_models(response):
    """The models of the case page's tables and panels, in their order (its inlines: the
    reviewers' own page, permits.admin_case, draws each as Django's change form would)."""
    return [inline.model for inline in response.context["inlines"]]


@pytest.mark.django_db
def test_it_adds_the_procedures_own_inlines_to_the_case_page(client, make_case, applicant,
                                                             reviewer):
    from masks.models import MaskApplication
    from permits.models import Attachment, DocumentType, Item, Party, StatusChange

    shtc = make_case(applicant, status=Status.INITIAL_REVIEW)
    mask = make_case(applicant, document_type=DocumentType.MASK_IMPORT)
    MaskApplication.objects.create(application=mask, route="postal")
    client.force_login(reviewer)
    page = reverse("admin:permits_application_change", args=[mask.pk])
    response = client.get(page)
    assert inline_models(response) == [Item, MaskApplication, Attachment, StatusChange]
    response = client.get(reverse("admin:permits_application_change", args=[shtc.pk]))
    # SHTC asks for a buyer, a consignee and an end user (SHTC-15), and adds the reviewer's
    # panel (shtc.admin.ShtcReviewInline).
    from shtc.models import ShtcApplication

    assert inline_models(response) == [Item, Party, ShtcApplication, Attachment, StatusChange]


@pytest.mark.django_db
def test_it_shows_the_parties_of_a_procedure_that_asks_for_them(client, make_case, applicant,
                                                                reviewer, monkeypatch):
    from permits import procedures
    from permits.models import DocumentType, Party, PartyRole

    monkeypatch.setitem(procedures._registry, DocumentType.SHTC_EXPORT,  # noqa: SLF001
                        procedures.Procedure(document_type=DocumentType.SHTC_EXPORT,
                                             parties=(PartyRole.BUYER,)))
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    Party.objects.create(application=case, role=PartyRole.BUYER, name="Hans Müller GmbH",
                         address="Berliner Str. 1, Berlin", country="DE")
    client.force_login(reviewer)
    response = client.get(reverse("admin:permits_application_change", args=[case.pk]))
    assert Party in inline_models(response)
    assert "Hans Müller GmbH" in response.content.decode()
    assert 'name="parties-0-name"' not in response.content.decode()  # read-only
