"""Required documents (SHTC-2, SHTC-4): the procedure decides from the case's data which
documents it needs; the case page lists them with what is missing and offers the upload;
the case is not filed until each is there."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from permits import documents, procedures, services, workflow
from permits.attachments import attachment_add
from permits.models import Attachment, DocumentType, Status
from permits.procedures import COMMON_DOCUMENT_KINDS, Procedure
from tests.permits.test_attachments import pdf_bytes

ITEM = {"tariff_code": "85423100003", "description": "Field programmable gate array",
        "quantity": "10", "unit": "PCE", "unit_price": "1500", "currency": "USD",
        "origin_country": "TW"}


class LicenceProcedure(Procedure):
    """A copy of the business licence only for mainland China (as SHTC-2 item 6)."""

    def required_documents(self, application):
        return ["licence"] if application.destination_country == "CN" else []


@pytest.fixture(autouse=True)
def procedure(monkeypatch):
    # monkeypatch puts the registry back as it was after each test.
    procedure = LicenceProcedure(
        document_type=DocumentType.SHTC_EXPORT,
        document_kinds=[("licence", "Business licence copy"), *COMMON_DOCUMENT_KINDS])
    monkeypatch.setitem(procedures._registry, DocumentType.SHTC_EXPORT, procedure)
    return procedure


def create(applicant, *, actor=None, destination="CN"):
    return services.application_create(
        document_type=DocumentType.SHTC_EXPORT, applicant=applicant, actor=actor or applicant,
        items=[dict(ITEM)], destination_country=destination)


def upload(case, actor, kind="licence"):
    return attachment_add(application=case, actor=actor, document_kind=kind,
                          upload=SimpleUploadedFile("licence.pdf", pdf_bytes()))


def submit(case, actor):
    return workflow.transition(application=case, to=Status.INITIAL_REVIEW, actor=actor)


@pytest.mark.django_db
def test_it_refuses_to_file_a_case_without_its_required_document(applicant):
    case = create(applicant)
    with pytest.raises(workflow.TransitionNotAllowed) as error:
        submit(case, applicant)
    assert error.value.code == "procedure"
    case.refresh_from_db()
    assert case.status == Status.DRAFT
    assert not case.status_changes.exists()


@pytest.mark.django_db
def test_it_files_the_case_once_the_document_is_uploaded(applicant):
    case = create(applicant)
    upload(case, applicant)
    submit(case, applicant)
    case.refresh_from_db()
    assert case.status == Status.INITIAL_REVIEW


@pytest.mark.django_db
def test_it_is_not_satisfied_by_a_document_of_another_kind(applicant):
    case = create(applicant)
    upload(case, applicant, kind="other")
    with pytest.raises(workflow.TransitionNotAllowed) as error:
        submit(case, applicant)
    assert error.value.code == "procedure"


@pytest.mark.django_db
def test_it_requires_the_document_only_where_the_data_call_for_it(applicant):
    case = create(applicant, destination="DE")
    assert documents.status(case) == []
    submit(case, applicant)
    case.refresh_from_db()
    assert case.status == Status.INITIAL_REVIEW


@pytest.mark.django_db
def test_it_refuses_a_registered_case_too(applicant):
    case = create(applicant)
    case = workflow.transition(application=case, to=Status.REGISTERED, actor=applicant)
    with pytest.raises(workflow.TransitionNotAllowed) as error:
        submit(case, applicant)
    assert error.value.code == "procedure"
    upload(case, applicant)
    assert submit(case, applicant).status == Status.INITIAL_REVIEW


@pytest.mark.django_db
def test_it_refuses_to_issue_an_auto_issued_case_without_it(applicant, procedure):
    procedure.auto_issue = True
    case = create(applicant)
    with pytest.raises(workflow.TransitionNotAllowed) as error:
        workflow.transition(application=case, to=Status.APPROVED, actor=None)
    assert error.value.code == "procedure"


@pytest.mark.django_db
def test_it_lists_each_required_document_with_whether_it_is_there(applicant):
    case = create(applicant)
    assert documents.status(case) == [("licence", "Business licence copy", False)]
    assert documents.missing(case) == [("licence", "Business licence copy")]
    upload(case, applicant)
    assert documents.status(case) == [("licence", "Business licence copy", True)]
    assert documents.missing(case) == []


# --- The case page ------------------------------------------------------------------------


def detail(client, user, case):
    client.force_login(user)
    return client.get(reverse("permits:application_detail", args=[case.pk]))


@pytest.mark.django_db
def test_it_shows_the_missing_document_on_the_case_page(client, applicant):
    case = create(applicant)
    response = detail(client, applicant, case)
    assert response.status_code == 200
    assert response.context["required_documents"] == [
        ("licence", "Business licence copy", False)]
    assert 'data-kind="licence" data-uploaded="false"' in response.content.decode()


@pytest.mark.django_db
def test_it_shows_the_document_as_uploaded(client, applicant):
    case = create(applicant)
    upload(case, applicant)
    response = detail(client, applicant, case)
    assert 'data-kind="licence" data-uploaded="true"' in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Status.DRAFT, Status.REGISTERED])
def test_it_offers_the_upload_before_the_case_is_filed(client, applicant, status):
    case = create(applicant)
    if status == Status.REGISTERED:
        case = workflow.transition(application=case, to=Status.REGISTERED, actor=applicant)
    response = detail(client, applicant, case)
    assert response.context["attachment_form"] is not None
    assert 'data-testid="upload"' in response.content.decode()


@pytest.mark.django_db
def test_it_offers_the_upload_to_the_filing_agent(client, applicant, agent):
    case = create(applicant, actor=agent)
    response = detail(client, agent, case)
    assert response.context["attachment_form"] is not None


@pytest.mark.django_db
def test_it_offers_no_upload_once_the_case_is_with_the_bureau(client, applicant):
    case = create(applicant)
    upload(case, applicant)
    submit(case, applicant)
    response = detail(client, applicant, case)
    assert response.context["attachment_form"] is None
    assert 'data-testid="upload"' not in response.content.decode()


@pytest.mark.django_db
def test_it_offers_no_upload_to_a_reviewer(client, applicant, reviewer):
    case = create(applicant)
    response = detail(client, reviewer, case)
    assert response.status_code == 200
    assert response.context["attachment_form"] is None


@pytest.mark.django_db
def test_it_hides_the_case_page_from_another_applicant(client, applicant, other_applicant):
    case = create(applicant)
    assert detail(client, other_applicant, case).status_code == 404


@pytest.mark.django_db
def test_it_takes_the_upload_from_the_case_page_of_a_draft(client, applicant):
    case = create(applicant)
    client.force_login(applicant)
    response = client.post(reverse("permits:attachment_upload", args=[case.pk]), {
        "document_kind": "licence", "file": SimpleUploadedFile("licence.pdf", pdf_bytes())})
    assert response.status_code == 302
    assert Attachment.objects.filter(application=case, document_kind="licence").exists()
    assert documents.missing(case) == []
