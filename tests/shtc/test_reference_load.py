"""9-1-1 申請類別 新申請 with 帶入參考資料 (SHTC-1; the SHTC manual §1.1.1.2.1 step 2 and §2.1
items 1-4): 「餘額註銷證號」、「證書號碼」、「原收件編號」或「保證書編號」 loads the
user's earlier SHTC case into a new draft (permits.entry.reference_draft_create): the
basic data, 轉口港代碼 and 分批, buyer / consignee / end user, the items with their export
control numbers and the end use; not its numbers, status or documents. Another user's
number is answered as an unknown one."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from permits import documents, workflow
from permits.attachments import attachment_add
from permits.models import Application, Kind, Permit, Status
from shtc.models import ShtcApplication
from tests.approvals import approve
from tests.shtc.assurance import AGENT, BASIC, ITEM, register, url
from tests.test_access_matrix import pdf_bytes

pytestmark = pytest.mark.django_db

SECOND_ITEM = {**ITEM, "description": "Infrared camera core", "brand": "FLIR",
               "model": "Boson 640", "specification": "640 x 512, 12 um", "quantity": "3",
               "unit": "SET", "unit_price": "2500", "control_no": "6A003.b",
               "tariff_code": "90138000003"}


def load(client, **numbers):
    return client.post(url("basic"), {"load_reference": "1", **numbers})


def new_draft():
    return Application.objects.filter(status=Status.DRAFT).latest("pk")


def codes(response, field):
    return [e.code for e in response.context["reference_form"].errors.as_data().get(field, [])]


def filed(case, actor):
    """9-1-2 in short: every required document uploaded, 登錄最終用途並申請's end use, then
    案件申請 (初審中, 收件編號)."""
    ShtcApplication.objects.filter(application=case).update(
        end_use="Wafer inspection equipment at the end user's Tucson plant")
    for code, _label in documents.missing(case):
        attachment_add(application=case, actor=actor, document_kind=code,
                       upload=SimpleUploadedFile(f"{code}.pdf", pdf_bytes(),
                                                 content_type="application/pdf"))
    return workflow.transition(application=case, to=Status.INITIAL_REVIEW, actor=actor)


def issued(case, actor, reviewer):
    approve(filed(case, actor), reviewer)
    return Permit.objects.get(versions__application=case)


def assert_copied(draft, source):
    assert (draft.document_type, draft.kind, draft.status) == ("SE", Kind.NEW, Status.DRAFT)
    assert (draft.receipt_no, draft.registration_no, draft.changes_id) == (None, None, None)
    assert not draft.attachments.exists() and not draft.status_changes.exists()
    assert draft.destination_country == source.destination_country
    mine, theirs = (ShtcApplication.objects.get(application=case) for case in (draft, source))
    # The end use typed in 9-1-2 comes too, as typed: a starting point to check (SHTC-4).
    fields = ("transit_port", "partial_shipment", "end_use", "assurance_route")
    assert [getattr(mine, f) for f in fields] == [getattr(theirs, f) for f in fields]
    party = ("role", "name", "address", "country", "same_as_buyer", "name_zh")
    assert list(draft.parties.values_list(*party)) == list(source.parties.values_list(*party))
    item = ("line_no", "description", "brand", "model", "specification", "quantity", "unit",
            "unit_price", "currency", "amount", "tariff_code", "control_no", "origin_country")
    assert list(draft.items.values_list(*item)) == list(source.items.values_list(*item))
    assert not draft.items.exclude(source_line_no=None).exists()


def test_it_offers_the_four_numbers_of_step_2(client, applicant, agent):
    for user in (applicant, agent):
        client.force_login(user)
        page = client.get(url("basic"))
        assert list(page.context["reference_form"].fields) == [
            "balance_permit_no", "permit_no", "receipt_no", "registration_no"]
        assert 'data-testid="load-reference"' in page.content.decode()


def test_it_loads_a_registered_assurance_by_its_number_and_registers_the_copy(client,
                                                                              applicant):
    client.force_login(applicant)
    source = register(client, basic={"partial_shipment": "False"}, items=(ITEM, SECOND_ITEM))
    response = load(client, registration_no=source.registration_no)
    draft = new_draft()
    assert response.status_code == 302 and response.url == url("edit", draft.pk)
    assert_copied(draft, source)
    page = client.get(response.url)
    assert page.context["form"]["transit_port"].value() == "USLAX"
    assert source.registration_no in " ".join(str(m) for m in page.context["messages"])
    # 下一步 and 登錄並列印最終用途保證書 as for any new case: a registration number of its own.
    assert client.post(url("edit", draft.pk), BASIC).status_code == 302
    assert client.post(url("submit", draft.pk)).status_code == 302
    draft.refresh_from_db()
    assert draft.status == Status.REGISTERED
    assert draft.registration_no and draft.registration_no != source.registration_no
    assert draft.items.count() == 2


def test_it_loads_a_filed_case_by_its_receipt_number(client, applicant):
    client.force_login(applicant)
    source = filed(register(client), applicant)
    response = load(client, receipt_no=source.receipt_no)
    draft = new_draft()
    assert response.url == url("edit", draft.pk)
    assert_copied(draft, source)
    source.refresh_from_db()
    assert source.status == Status.INITIAL_REVIEW and source.attachments.exists()


def test_it_loads_the_issued_case_by_its_certificate_number(client, applicant, reviewer):
    client.force_login(applicant)
    permit = issued(register(client), applicant, reviewer)
    response = load(client, permit_no=permit.permit_no)
    draft = new_draft()
    assert response.url == url("edit", draft.pk)
    assert_copied(draft, permit.current.application)
    assert ShtcApplication.objects.get(application=draft).end_use.startswith("Wafer")


def test_it_loads_the_agents_case_for_the_agent(client, agent, applicant):
    client.force_login(agent)
    source = register(client, basic=AGENT)
    response = load(client, registration_no=source.registration_no)
    draft = new_draft()
    assert response.url == url("edit", draft.pk)
    assert_copied(draft, source)
    assert (draft.applicant, draft.agent, draft.agent_identifier) == (
        applicant, agent, agent.identifier)
    # ACC-4 on the loaded draft's page: the agent's identifier preset and locked.
    form = client.get(response.url).context["form"]
    assert form.fields["agent_identifier"].disabled
    assert form["applicant_identifier"].value() == applicant.identifier
    # The applicant sees the agent's case, and may load it into a draft of its own.
    client.force_login(applicant)
    load(client, registration_no=source.registration_no)
    own = new_draft()
    assert (own.applicant, own.agent) == (applicant, None)
    assert own.applicant_name == applicant.name  # from the applicant's account


@pytest.mark.parametrize("field", ["permit_no", "receipt_no", "registration_no"])
def test_it_answers_anothers_number_as_an_unknown_one(client, applicant, other_applicant,
                                                      reviewer, field):
    client.force_login(applicant)
    case = register(client)
    number = case.registration_no
    if field == "receipt_no":
        number = filed(case, applicant).receipt_no
    elif field == "permit_no":
        number = issued(case, applicant, reviewer).permit_no
    count = Application.objects.count()
    other = Client()
    other.force_login(other_applicant)
    theirs = load(other, **{field: number})
    nobodys = load(other, **{field: number[:-4] + "9999"})
    assert theirs.status_code == nobodys.status_code == 400
    assert codes(theirs, field) == codes(nobodys, field) == ["not_found"]
    assert theirs.context["reference_form"].errors[field] == \
        nobodys.context["reference_form"].errors[field]
    assert Application.objects.count() == count


def test_it_wants_exactly_one_number(client, applicant):
    client.force_login(applicant)
    source = register(client)
    count = Application.objects.count()
    response = load(client, registration_no=source.registration_no, receipt_no="RSE11500000001")
    assert response.status_code == 400
    form = response.context["reference_form"]
    assert [e.code for e in form.non_field_errors().as_data()] == ["several_references"]
    assert form["registration_no"].value() == source.registration_no  # the typing is kept
    assert [e.code for e in load(client).context["reference_form"]
            .non_field_errors().as_data()] == ["no_reference"]
    assert Application.objects.count() == count


def test_it_reads_a_registration_number_typed_in_full_width(client, applicant):
    client.force_login(applicant)
    source = register(client)
    full_width = source.registration_no.translate(
        {code: code + 0xFEE0 for code in range(0x21, 0x7F)})
    assert load(client, registration_no=full_width).status_code == 302
    assert_copied(new_draft(), source)
