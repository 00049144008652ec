"""A double-clicked "申請" creates one case (the form's one-time client token)."""


import pytest
from django.core.exceptions import ValidationError

from permits import services
from permits.models import Application, DocumentType
from tests import services as test_services

ITEM = {"tariff_code": "63079050311", "description": "醫用口罩", "quantity": "100",
        "unit": "PCE", "unit_price": "5", "currency": "TWD", "origin_country": "TW"}


def create(user, token):
    return services.application_create(document_type=DocumentType.MASK_IMPORT,
                                       applicant=user, actor=user, items=[ITEM],
                                       client_token=token)


@pytest.mark.django_db
def test_it_returns_the_first_case_for_a_repeated_token(applicant):
    first = create(applicant, "token-1")
    assert create(applicant, "token-1") == first
    assert Application.objects.count() == 1 and first.items.count() == 1


@pytest.mark.django_db
def test_it_refuses_a_token_of_another_filer(applicant, other_applicant):
    create(applicant, "token-1")
    with pytest.raises(ValidationError) as error:
        create(other_applicant, "token-1")
    assert error.value.code == "token_reused"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_creates_one_case_when_two_requests_race(applicant):
    test_services.require_postgres()
    results = test_services.run_concurrently(
        *[lambda: create(applicant, "double-click").pk] * 2)
    assert len(set(results)) == 1
    assert Application.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_issues_one_permit_when_one_draft_is_applied_from_two_tabs(applicant):
    """申請 of one draft from two tabs (two clients, two sessions, no shared token): the row
    lock lets one file it; the other finds it filed and is told so. One case, one permit."""
    from django.test import Client

    from masks.models import MaskApplication
    from permits.models import Permit, Status

    test_services.require_postgres()
    test_services.seed_reference_data()
    draft = services.application_create(document_type=DocumentType.MASK_IMPORT,
                                        applicant=applicant, actor=applicant,
                                        items=[{**ITEM, "category": "medical"}])
    MaskApplication.objects.create(application=draft, route="postal")
    url = f"/masks/apply/{draft.pk}/submit/"

    def submit():
        client = Client()
        client.force_login(applicant)
        response = client.post(url)
        return response.status_code, response.get("Location") or response.content[:3000]

    results = test_services.run_concurrently(submit, submit, submit)
    assert {code for code, _url in results} == {302}
    assert len({target for _code, target in results}) == 1  # all lead to the issued case
    draft.refresh_from_db()
    assert draft.status == Status.APPROVED
    assert Application.objects.count() == 1 and Permit.objects.count() == 1
    assert draft.status_changes.count() == 1
