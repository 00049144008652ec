"""The applicant's side: 我的案件, the case page, 補件 resubmission, 申辦狀況查詢作業(含列印).
Every page from both sides: the entitled user succeeds, the outsider gets 404."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from permits import workflow
from permits.models import Application, Kind, Status
from tests.approvals import approve

QUERY = reverse("permits:query")


def detail(case):
    return reverse("permits:application_detail", args=[case.pk])


@pytest.mark.django_db
def test_it_lists_my_cases_newest_first(client, make_case, applicant, other_applicant):
    first = make_case(applicant, status=Status.INITIAL_REVIEW)
    second = make_case(applicant, status=Status.INITIAL_REVIEW)
    make_case(other_applicant, status=Status.INITIAL_REVIEW)
    make_case(applicant)  # a draft is not a case yet
    client.force_login(applicant)
    page = client.get(reverse("permits:dashboard")).context["page"]
    assert list(page.object_list) == [second, first]


@pytest.mark.django_db
def test_it_shows_an_agent_the_cases_it_filed(client, make_case, applicant, agent):
    case = make_case(applicant, actor=agent, status=Status.INITIAL_REVIEW)
    client.force_login(agent)
    assert list(client.get(reverse("permits:dashboard")).context["page"].object_list) == [case]
    assert client.get(detail(case)).status_code == 200


@pytest.mark.django_db
def test_it_puts_the_cases_that_need_me_on_the_home_page_first(client, make_case, applicant,
                                                               reviewer):
    waiting = make_case(applicant, status=Status.SUPPLEMENT, reviewer=reviewer)
    make_case(applicant, status=Status.INITIAL_REVIEW)
    client.force_login(applicant)
    [(_template, panel)] = client.get(reverse("home")).context["panels"]
    assert panel["cases"][0] == waiting


@pytest.mark.django_db
def test_it_shows_the_case_to_its_applicant(client, make_case, applicant):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    client.force_login(applicant)
    response = client.get(detail(case))
    assert response.status_code == 200 and case.receipt_no in response.content.decode()


@pytest.mark.django_db
def test_it_hides_the_case_from_another_applicant(client, make_case, applicant,
                                                  other_applicant):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    client.force_login(other_applicant)
    assert client.get(detail(case)).status_code == 404


@pytest.mark.django_db
def test_it_shows_what_to_supply_and_takes_the_resubmission(client, make_case, applicant,
                                                            reviewer):
    case = make_case(applicant, status=Status.SUPPLEMENT, reviewer=reviewer)
    client.force_login(applicant)
    page = client.get(detail(case))
    assert page.context["may_supplement"]
    assert page.context["supplement_request"] == "請補附產品英文型錄。"
    response = client.post(reverse("permits:application_resubmit", args=[case.pk]))
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.INITIAL_REVIEW
    assert case.status_changes.last().actor == applicant


@pytest.mark.django_db
def test_it_refuses_a_resubmission_by_another_applicant(client, make_case, applicant,
                                                        other_applicant, reviewer):
    case = make_case(applicant, status=Status.SUPPLEMENT, reviewer=reviewer)
    client.force_login(other_applicant)
    response = client.post(reverse("permits:application_resubmit", args=[case.pk]))
    assert response.status_code == 404
    case.refresh_from_db()
    assert case.status == Status.SUPPLEMENT


@pytest.mark.django_db
def test_it_says_why_a_resubmission_is_refused(client, make_case, applicant):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    client.force_login(applicant)
    response = client.post(reverse("permits:application_resubmit", args=[case.pk]),
                           follow=True)
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    case.refresh_from_db()
    assert case.status == Status.INITIAL_REVIEW


@pytest.mark.django_db
def test_it_finds_a_case_by_receipt_number(client, make_case, applicant):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    make_case(applicant, status=Status.INITIAL_REVIEW)
    client.force_login(applicant)
    response = client.get(QUERY, {"document_type": "SE", "number": case.receipt_no.lower()})
    assert list(response.context["page"].object_list) == [case]


@pytest.mark.django_db
def test_it_shows_every_version_of_a_certificate_newest_first(client, make_case, applicant,
                                                              reviewer):
    original = make_case(applicant, status=Status.APPROVED, reviewer=reviewer)
    version = original.issued_version
    change = make_case(applicant, kind=Kind.CORRECTION, changes=version,
                       change_description="更正產地")
    change = workflow.transition(application=change, to=Status.INITIAL_REVIEW, actor=applicant)
    change = approve(change, reviewer)
    client.force_login(applicant)
    response = client.get(QUERY, {"document_type": "SE", "number": version.permit.permit_no})
    rows = list(response.context["page"].object_list)
    assert rows == [change, original]
    assert [r.permit_version.version for r in rows] == [2, 1]


@pytest.mark.django_db
def test_it_searches_by_roc_date_range(client, make_case, applicant):
    old = make_case(applicant, status=Status.INITIAL_REVIEW)
    Application.objects.filter(pk=old.pk).update(
        submitted_at=datetime.datetime(2020, 9, 12, 10, tzinfo=datetime.UTC))
    recent = make_case(applicant, status=Status.INITIAL_REVIEW)
    client.force_login(applicant)
    response = client.get(QUERY, {"document_type": "SE", "date_from": "109/09/12",
                                  "date_to": "109/09/12"})
    assert list(response.context["page"].object_list) == [old]
    today = timezone.localdate().isoformat()
    response = client.get(QUERY, {"document_type": "SE", "date_from": today})
    assert list(response.context["page"].object_list) == [recent]


@pytest.mark.django_db
def test_it_never_finds_another_applicants_case(client, make_case, applicant,
                                                other_applicant):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    client.force_login(other_applicant)
    response = client.get(QUERY, {"document_type": "SE", "number": case.receipt_no})
    assert list(response.context["page"].object_list) == []


@pytest.mark.django_db
def test_it_asks_for_a_number_or_dates_and_keeps_the_input(client, applicant):
    client.force_login(applicant)
    response = client.get(QUERY, {"document_type": "SE", "date_from": "109/13/01"})
    form = response.context["form"]
    assert [e.code for e in form.errors.as_data()["date_from"]] == ["invalid"]
    assert 'value="109/13/01"' in response.content.decode()
    response = client.get(QUERY, {"document_type": "SE"})
    assert [e.code for e in response.context["form"].non_field_errors().as_data()] == [
        "no_criteria"]


@pytest.mark.django_db
def test_it_paginates_the_results(client, make_case, applicant):
    for _ in range(23):
        make_case(applicant, status=Status.INITIAL_REVIEW)
    client.force_login(applicant)
    today = timezone.localdate().isoformat()
    response = client.get(QUERY, {"document_type": "SE", "date_from": today, "page": 2})
    assert len(response.context["page"].object_list) == 3
