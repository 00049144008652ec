"""帶入參考資料 on a procedure's new-case page (PERMIT-4; the SHTC manual §2.1 items 1-4) from
the framework alone (permits.entry, over the test procedure tests/testproc): 證書號碼,
原收件編號 or 保證書編號 loads an earlier case of the user into a new draft as a starting
point; another user's number is answered as an unknown one; 餘額註銷證號 still makes a 餘額重簽.
A procedure only names the fields (CaseEntry.reference_fields)."""

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from permits import changes, entry, workflow
from permits.models import Application, Kind, Permit, Status
from tests.approvals import approve
from tests.testproc.apps import DOCUMENT_TYPE
from tests.testproc.procedure import ENTRY

pytestmark = pytest.mark.django_db

BASIC = {"applicant_name": "台灣精密科技股份有限公司", "applicant_name_en": "TPT Co., Ltd.",
         "applicant_address": "新竹市東區力行路1號", "company_email": "export@tpt.example",
         "contact_person": "陳美玲", "contact_phone": "03-578-0000",
         "destination_country": "DE",
         "buyer-name": "Berlin Optics GmbH", "buyer-address": "Unter den Linden 1, Berlin",
         "buyer-country": "DE", "end_user-name": "Munich Lasers AG",
         "end_user-address": "Leopoldstrasse 5, Munich", "end_user-country": "DE"}
AGENT = {"applicant_identifier": "12345675", "agent_contact_person": "林順達",
         "agent_phone": "03-398-0000", "agent_email": "filing@shunda.example"}
ITEMS = [{"tariff_code": "85423100003", "description": "FPGA", "brand": "Xilinx",
          "model": "XCVU9P", "specification": "Virtex UltraScale+", "control_no": "3A001.a",
          "quantity": "20", "unit": "PCE", "unit_price": "4200", "currency": "USD",
          "origin_country": "US"},
         {"tariff_code": "90138000003", "description": "Laser module", "control_no": "6A005",
          "quantity": "2", "unit": "SET", "unit_price": "9000", "currency": "EUR",
          "origin_country": "DE"}]


@pytest.fixture(autouse=True)
def four_fields(monkeypatch):
    """The test procedure offers the four numbers of the SHTC manual, as 9-1-1 does."""
    monkeypatch.setattr(ENTRY, "reference_fields", entry.REFERENCE_FIELDS)


def url(name, *args):
    return reverse(f"testproc:application_{name}", args=args)


def enter(client, **basic):
    response = client.post(url("basic"), {**BASIC, **basic})
    assert response.status_code == 302, response.context["form"].errors
    draft = Application.objects.filter(status=Status.DRAFT).latest("pk")
    for item in ITEMS:
        assert client.post(url("item_add", draft.pk), item).status_code == 302
    return draft


def filed(client, **basic):
    """A case entered and filed (申請 → 初審中): it has its 收件編號."""
    draft = enter(client, **basic)
    assert client.post(url("submit", draft.pk)).status_code == 302
    case = Application.objects.get(pk=draft.pk)
    assert case.receipt_no
    return case


def issued(client, reviewer, **basic):
    case = filed(client, **basic)
    approve(case, reviewer)
    return Permit.objects.get(versions__application=case)


def registered(client, actor, **basic):
    """A case registered (登錄中) with its 登錄編號, the number 保證書編號 takes."""
    draft = enter(client, **basic)
    return workflow.transition(application=draft, to=Status.REGISTERED, actor=actor)


def load(client, **numbers):
    return client.post(url("basic"), {"load_reference": "1", **numbers})


def new_draft():
    return Application.objects.filter(status=Status.DRAFT).latest("pk")


def reference_codes(response, field):
    return [error.code for error in
            response.context["reference_form"].errors.as_data().get(field, [])]


def page_words(response, number):
    """The page, without the number typed and the one-time tokens of its forms."""
    html = response.content.decode().replace(number, "N")
    return re.sub(r'name="(csrfmiddlewaretoken|client_token)" value="[^"]*"', "", html)


def assert_copied(draft, source):
    """What 帶入參考資料 brings and what it leaves: the data typed, not the numbers."""
    assert (draft.kind, draft.status) == (Kind.NEW, Status.DRAFT)
    assert draft.pk != source.pk and draft.document_type == source.document_type
    assert draft.receipt_no is None and draft.registration_no is None
    assert draft.submitted_at is None and draft.changes is None and draft.amends is None
    assert not draft.status_changes.exists() and not draft.attachments.exists()
    assert draft.destination_country == source.destination_country
    fields = ("name", "address", "country", "same_as_buyer")
    assert [(p.role, *(getattr(p, f) for f in fields)) for p in draft.parties.all()] == \
        [(p.role, *(getattr(p, f) for f in fields)) for p in source.parties.all()]
    columns = ("line_no", "tariff_code", "description", "brand", "model", "specification",
               "control_no", "quantity", "unit", "unit_price", "currency", "amount",
               "origin_country")
    assert list(draft.items.values_list(*columns)) == list(source.items.values_list(*columns))
    assert not draft.items.exclude(source_line_no=None).exists()


# --- the box ----------------------------------------------------------------------------------


def test_it_offers_the_four_numbers_of_the_manual(client, other_applicant):
    client.force_login(other_applicant)
    page = client.get(url("basic"))
    assert list(page.context["reference_form"].fields) == [
        "balance_permit_no", "permit_no", "receipt_no", "registration_no"]
    html = page.content.decode()
    assert 'name="permit_no"' in html and 'name="registration_no"' in html
    assert 'maxlength="14"' in html


def test_it_offers_only_the_balance_number_unless_the_entry_names_more(client, monkeypatch,
                                                                      other_applicant):
    monkeypatch.setattr(ENTRY, "reference_fields", None)
    client.force_login(other_applicant)
    page = client.get(url("basic"))
    assert list(page.context["reference_form"].fields) == ["balance_permit_no"]
    # A number the page does not offer loads nothing.
    response = load(client, receipt_no="RTP11500000001")
    assert response.status_code == 400
    assert [e.code for e in response.context["reference_form"].non_field_errors().as_data()] \
        == ["no_reference"]


def test_it_keeps_the_mask_page_as_it_was(client, applicant):
    client.force_login(applicant)
    page = client.get(reverse("masks:application_basic"))
    assert list(page.context["reference_form"].fields) == ["balance_permit_no"]


def test_it_shows_no_box_on_a_drafts_own_page(client, other_applicant):
    client.force_login(other_applicant)
    source = filed(client)
    draft = enter(client)
    page = client.get(url("edit", draft.pk))
    assert "reference_form" not in page.context
    count = Application.objects.count()
    response = client.post(url("edit", draft.pk), {"load_reference": "1",
                                                   "receipt_no": source.receipt_no})
    assert response.status_code == 400  # the basic form, posted without its data
    assert Application.objects.count() == count


# --- the three numbers ------------------------------------------------------------------------


def test_it_loads_a_filed_case_by_its_receipt_number(client, other_applicant):
    client.force_login(other_applicant)
    source = filed(client)
    response = load(client, receipt_no=source.receipt_no)
    draft = new_draft()
    assert response.status_code == 302 and response.url == url("edit", draft.pk)
    assert_copied(draft, source)
    assert (draft.applicant, draft.agent) == (other_applicant, None)
    page = client.get(response.url)
    assert source.receipt_no in " ".join(str(m) for m in page.context["messages"])
    # The draft's basic page shows the loaded data, to check and change before 下一步.
    assert page.context["form"]["destination_country"].value() == "DE"
    # The earlier case is only read.
    source.refresh_from_db()
    assert source.status == Status.INITIAL_REVIEW and source.items.count() == 2


def test_it_loads_the_issued_case_by_its_certificate_number(client, other_applicant,
                                                            reviewer):
    client.force_login(other_applicant)
    permit = issued(client, reviewer)
    response = load(client, permit_no=permit.permit_no)
    draft = new_draft()
    assert response.url == url("edit", draft.pk)
    assert_copied(draft, permit.current.application)
    assert draft.changes is None  # a new application, not a change of the permit
    permit.refresh_from_db()
    assert permit.revoked_at is None and permit.versions.count() == 1


def test_it_loads_a_registered_case_by_its_assurance_number(client, other_applicant):
    client.force_login(other_applicant)
    source = registered(client, other_applicant)
    response = load(client, registration_no=source.registration_no)
    draft = new_draft()
    assert response.url == url("edit", draft.pk)
    assert_copied(draft, source)
    source.refresh_from_db()
    assert source.status == Status.REGISTERED


def test_it_files_the_loaded_draft_as_a_case_of_its_own(client, other_applicant):
    client.force_login(other_applicant)
    source = filed(client)
    load(client, receipt_no=source.receipt_no)
    draft = new_draft()
    assert client.post(url("submit", draft.pk)).status_code == 302
    draft.refresh_from_db()
    assert draft.status == Status.INITIAL_REVIEW
    assert draft.receipt_no and draft.receipt_no != source.receipt_no


def test_it_takes_the_applicants_data_from_its_account(client, other_applicant):
    client.force_login(other_applicant)
    source = filed(client, applicant_name="舊名稱股份有限公司", company_email="old@tpt.example")
    other_applicant.name, other_applicant.email = "台灣精密新名稱股份有限公司", "new@tpt.example"
    other_applicant.save()
    load(client, receipt_no=source.receipt_no)
    draft = new_draft()
    assert (draft.applicant_identifier, draft.applicant_name, draft.company_email) == (
        other_applicant.identifier, "台灣精密新名稱股份有限公司", "new@tpt.example")


def test_it_reads_full_width_and_lower_case_numbers(client, other_applicant):
    client.force_login(other_applicant)
    source = filed(client)
    typed = source.receipt_no.lower().translate({c: c + 0xFEE0 for c in range(0x30, 0x3A)})
    assert typed != source.receipt_no
    response = load(client, receipt_no=f"  {typed} ")
    assert response.status_code == 302
    assert_copied(new_draft(), source)


# --- agents (ACC-4) ---------------------------------------------------------------------------


def test_it_loads_an_agents_case_into_the_agents_draft(client, agent, other_applicant):
    client.force_login(agent)
    source = filed(client, **AGENT)
    agent.contact_person = "林新人"
    agent.save()
    response = load(client, receipt_no=source.receipt_no)
    draft = new_draft()
    assert response.url == url("edit", draft.pk)
    assert_copied(draft, source)
    assert (draft.applicant, draft.agent) == (other_applicant, agent)
    # The applicant's data as the agent typed them; the agent's own from its account.
    assert draft.applicant_name == source.applicant_name
    assert (draft.agent_identifier, draft.agent_contact_person) == (agent.identifier, "林新人")
    assert entry.drafts_of(agent).filter(pk=draft.pk).exists()
    assert client.get(url("edit", draft.pk)).status_code == 200
    # The draft is the agent's to enter: the applicant sees it in no entry page.
    client.force_login(other_applicant)
    assert client.get(url("edit", draft.pk)).status_code == 404


def test_it_loads_a_case_the_agent_filed_into_the_applicants_own_draft(client, agent,
                                                                       other_applicant,
                                                                       reviewer):
    client.force_login(agent)
    permit = issued(client, reviewer, **AGENT)
    client.force_login(other_applicant)
    response = load(client, permit_no=permit.permit_no)
    draft = new_draft()
    assert response.url == url("edit", draft.pk)
    assert (draft.applicant, draft.agent, draft.agent_identifier) == (other_applicant, None, "")
    assert entry.drafts_of(other_applicant).filter(pk=draft.pk).exists()


# --- not found: unknown and another user's alike ------------------------------------------------


@pytest.mark.parametrize("field", ["permit_no", "receipt_no", "registration_no",
                                   "balance_permit_no"])
def test_it_answers_anothers_number_as_an_unknown_one(client, applicant, other_applicant,
                                                      reviewer, field):
    client.force_login(other_applicant)
    permit = issued(client, reviewer)
    if field in ("permit_no", "balance_permit_no"):
        changes.permit_revoke(permit=permit, actor=other_applicant, reason="餘額重簽")
    source = registered(client, other_applicant)
    number = {"permit_no": permit.permit_no, "balance_permit_no": permit.permit_no,
              "receipt_no": permit.current.application.receipt_no,
              "registration_no": source.registration_no}[field]
    unknown = number[:-4] + "9999"
    count = Application.objects.count()
    client = Client()  # without the other user's pending messages
    client.force_login(applicant)
    theirs, nobodys = load(client, **{field: number}), load(client, **{field: unknown})
    assert theirs.status_code == nobodys.status_code == 400
    assert reference_codes(theirs, field) == reference_codes(nobodys, field) == ["not_found"]
    # The same words, the number aside: nothing tells that the case exists.
    said = theirs.context["reference_form"].errors[field]
    assert said == nobodys.context["reference_form"].errors[field]
    assert page_words(theirs, number) == page_words(nobodys, unknown)
    assert theirs.context["reference_form"][field].value() == number  # the typing is kept
    assert Application.objects.count() == count


def test_it_finds_no_case_of_another_document_type(client, applicant, make_case, reviewer):
    mask = make_case(applicant, document_type="MK", status="approved", reviewer=reviewer)
    client.force_login(applicant)
    for field, number in (("receipt_no", mask.receipt_no),
                          ("permit_no", mask.issued_version.permit.permit_no)):
        assert reference_codes(load(client, **{field: number}), field) == ["not_found"]
    assert not Application.objects.filter(document_type=DOCUMENT_TYPE).exists()


# --- bad input --------------------------------------------------------------------------------


def test_it_wants_one_number(client, other_applicant):
    client.force_login(other_applicant)
    source = filed(client)
    count = Application.objects.count()
    for numbers, code in (({}, "no_reference"), ({"receipt_no": "   "}, "no_reference"),
                          ({"receipt_no": source.receipt_no, "permit_no": "PTP11500000001"},
                           "several_references")):
        response = load(client, **numbers)
        assert response.status_code == 400
        form = response.context["reference_form"]
        assert [e.code for e in form.non_field_errors().as_data()] == [code]
        assert str(form.non_field_errors()[0]) in response.content.decode()
    assert Application.objects.count() == count


@pytest.mark.parametrize(("typed", "code"), [
    ("RTP115\x0000001", "null_characters_not_allowed"),
    ("R" * 5000, "max_length"),
    ("9223372036854775808", "max_length"),
    ("RTP-1150000001", "number_format"),
    ("ＲＴＰ１１５０００００００１", None),  # full width: read as ASCII, then not found
    ("RTP١١٥00000001", "number_format"),  # Arabic-Indic digits are not read as digits
])
def test_it_answers_bad_input_next_to_the_field(client, other_applicant, typed, code):
    client.force_login(other_applicant)
    response = load(client, receipt_no=typed)
    assert response.status_code == 400
    assert reference_codes(response, "receipt_no") == [code or "not_found"]
    assert not Application.objects.exists()


# --- 餘額註銷證號 still makes a 餘額重簽 (SHTC-11) -------------------------------------------


def test_it_still_reissues_the_balance_of_a_cancelled_permit(client, other_applicant,
                                                             reviewer):
    client.force_login(other_applicant)
    permit = issued(client, reviewer)
    changes.permit_revoke(permit=permit, actor=other_applicant, reason="買方取消部分訂單")
    page = client.get(url("basic"), {"balance_permit_no": permit.permit_no})
    assert page.context["reference_form"]["balance_permit_no"].value() == permit.permit_no
    response = load(client, balance_permit_no=permit.permit_no)
    reissue = Application.objects.get(kind=Kind.BALANCE_REISSUE)
    assert response.url == url("edit", reissue.pk)
    assert reissue.changes == permit.current
    assert [(i.source_line_no, i.quantity) for i in reissue.items.all()] == [
        (1, Decimal(20)), (2, Decimal(2))]
