"""9-1-1's changes (SHTC-8 補正, SHTC-9 更正, SHTC-10 單證比對不符修正; the SHTC manual §1.2 to
§1.4): chosen as 申請類別 on 9-1-1's page, started on shtc:change_start (permits.change_views:
the number, the description, 帶入原始資料), fixed on the entry pages (shtc/changes.py),
registered, filed from 9-1-2 with the documents shtc.requirements asks (the assurance signed
again only when the change touches what it states), and approved by the bureau into the
permit's next version (PERMIT-2), the gates checked at each step (permits.changes).

The re-match after an approved mismatch correction and the reconciliation side of the
mismatch gate are tests/reconciliation's (helper "mismatch"); here, the start form's
refusals of it."""

import pytest
from django.urls import reverse
from django.utils import timezone

from permits import documents, entry, workflow
from permits.models import Application, Kind, Permit, Status
from reconciliation.models import MatchResult
from shtc import changes, requirements
from shtc import services as shtc_services
from shtc.models import ShtcApplication
from tests.approvals import approve, to_second_review
from tests.reconciliation import helpers
from tests.shtc.assurance import BASIC, submit
from tests.shtc.review_cases import END_USE, upload

pytestmark = pytest.mark.django_db

START = "shtc:change_start"


def url(step, *args):
    return reverse(f"shtc:change_{step}", args=args)


def start(client, kind, **fields):
    return client.post(reverse(START), {"kind": kind, **fields})


def errors(response):
    """{field: [codes]} of the start form."""
    return {name: [e.code for e in errors]
            for name, errors in response.context["form"].errors.as_data().items()}


def new_draft():
    return Application.objects.filter(status=Status.DRAFT).latest("pk")


def loaded(response):
    """The draft 帶入原始資料 made, after checking that its basic page is next."""
    assert response.status_code == 302, response.context and errors(response)
    draft = new_draft()
    assert response.url == url("edit", draft.pk)
    return draft


@pytest.fixture
def permit(shtc_case, applicant):
    """An SHTC permit of the applicant (US, one item of 10 FPGAs), filed by itself."""
    return shtc_case(status=Status.APPROVED).issued_version.permit


def register(client, draft):
    """The review page's last button: 登錄 (the case gets its 登錄編號)."""
    return submit(client, draft, prefix="change")


def file(case, actor):
    """9-1-2: upload what is still required, then 登錄最終用途並申請 → 案件申請."""
    for code, _label in documents.missing(Application.objects.get(pk=case.pk)):
        upload(case, code, actor=actor)
    return shtc_services.application_file(application=case, actor=actor, end_use=END_USE)


def change_item(client, draft, **changed):
    """Item 1 as loaded, with `changed` (as its form posts it), 確認."""
    data = entry.item_data(draft.items.get(line_no=1))
    response = client.post(url("item", draft.pk, 1), {**data, **changed})
    assert response.status_code == 302, response.context["form"].errors


def change_quantity(client, draft, quantity):
    change_item(client, draft, quantity=quantity, amount="")


def mismatch(permit, receive, *, number="AE11500000001M"):
    """An export declaration of 20 of the permit's 10 FPGAs: matching finds a mismatch
    (quantity_over_balance). Returns its MatchResult."""
    first = permit.current.application.items.get(line_no=1)
    records = receive(helpers.declaration(permit, number=number, items=[{
        "item_no": 1, "tariff_code": first.tariff_code, "description": "FPGA",
        "quantity": "20", "unit": first.unit, "value": "30000", "currency": first.currency,
        "permit_item_no": 1}]))
    assert [r.status for r in records] == ["accepted"], [r.errors for r in records]
    result = MatchResult.objects.filter(declaration__number=number).latest("seq")
    assert result.result == "mismatch" and result.coordination_id
    return result


# --- 申請類別 on 9-1-1's page -------------------------------------------------------------------


def test_it_offers_the_four_kinds_on_9_1_1s_page(client, applicant):
    client.force_login(applicant)
    page = client.get(reverse("shtc:application_basic")).content.decode()
    assert 'data-testid="application-kinds"' in page
    for kind in ("amendment", "correction", "mismatch_correction"):
        assert f'href="{reverse(START)}?kind={kind}"' in page
    form = client.get(reverse(START), {"kind": "correction"}).context["form"]
    assert form["kind"].value() == "correction"
    assert list(form.fields) == ["kind", "permit_no", "receipt_no", "declaration_no",
                                 "coordination_id", "change_description"]
    assert [value for value, _label in form.fields["kind"].choices] == [
        "amendment", "correction", "mismatch_correction"]


# --- 更正 (SHTC-9) --------------------------------------------------------------------------


def test_it_loads_a_correction_by_the_certificate_number(client, applicant, permit):
    client.force_login(applicant)
    draft = loaded(start(client, "correction", permit_no=permit.permit_no.lower(),
                         change_description="更正最終使用者地址"))
    original = permit.current.application
    assert (draft.kind, draft.changes, draft.change_description) == (
        Kind.CORRECTION, permit.current, "更正最終使用者地址")
    assert (draft.applicant, draft.agent, draft.receipt_no, draft.registration_no) == (
        applicant, None, None, None)
    assert list(draft.items.values_list("line_no", "source_line_no", "quantity")) == [
        (1, 1, 10)]
    party = ("role", "name", "address", "country")
    assert list(draft.parties.values_list(*party)) == list(original.parties.values_list(*party))
    assert draft.shtc.end_use == original.shtc.end_use
    page = client.get(url("edit", draft.pk))
    assert permit.permit_no in page.context["header"]


def test_it_loads_a_correction_by_the_original_receipt_number(client, applicant, permit):
    client.force_login(applicant)
    receipt_no = permit.current.application.receipt_no
    draft = loaded(start(client, "correction", receipt_no=receipt_no,
                         change_description="更正數量"))
    assert draft.changes == permit.current


def test_it_issues_the_next_version_of_the_permit_on_approval(client, applicant, reviewer,
                                                              permit):
    client.force_login(applicant)
    draft = loaded(start(client, "correction", permit_no=permit.permit_no,
                         change_description="數量由 10 改為 8"))
    change_quantity(client, draft, "8")
    case = file(register(client, draft), applicant)
    assert (case.status, case.kind) == (Status.INITIAL_REVIEW, Kind.CORRECTION)
    approve(case, reviewer)
    permit.refresh_from_db()
    assert list(permit.versions.order_by("version").values_list("version", "application")) \
        == [(1, permit.versions.get(version=1).application_id), (2, case.pk)]
    assert permit.current.application.items.get().quantity == 8
    # Version 1 stays as it was issued (PERMIT-2).
    assert permit.versions.get(version=1).application.items.get().quantity == 10


def test_it_refuses_a_correction_after_a_clearance_next_to_the_kind(client, applicant,
                                                                    permit):
    Permit.objects.filter(pk=permit.pk).update(first_cleared_at=timezone.now())
    client.force_login(applicant)
    response = start(client, "correction", permit_no=permit.permit_no,
                     change_description="更正數量")
    assert response.status_code == 400 and errors(response) == {"kind": ["has_clearance"]}
    # What was typed is kept, nothing is saved.
    assert response.context["form"]["change_description"].value() == "更正數量"
    assert not Application.objects.filter(status=Status.DRAFT).exists()


def test_it_refuses_the_approval_when_a_clearance_arrived_after_filing(
        client, applicant, reviewer, permit, receive):
    client.force_login(applicant)
    draft = loaded(start(client, "correction", permit_no=permit.permit_no,
                         change_description="更正數量"))
    change_quantity(client, draft, "9")
    case = to_second_review(file(register(client, draft), applicant), reviewer)
    receive(helpers.declaration(permit, number="AE11500000009C"))  # customs meanwhile
    permit.refresh_from_db()
    assert permit.has_clearance()
    with pytest.raises(workflow.TransitionNotAllowed) as refused:
        approve(case, reviewer)
    assert refused.value.code == "change_refused"
    case.refresh_from_db()
    assert case.status == Status.SECOND_REVIEW and permit.versions.count() == 1


def test_it_refuses_the_filing_when_a_clearance_arrived_after_registering(
        client, applicant, permit):
    client.force_login(applicant)
    draft = register(client, loaded(start(client, "correction", permit_no=permit.permit_no,
                                          change_description="更正買方名稱")))
    Permit.objects.filter(pk=permit.pk).update(first_cleared_at=timezone.now())
    with pytest.raises(workflow.TransitionNotAllowed):
        shtc_services.application_file(application=draft, actor=applicant,
                                       end_use="Another end use, typed at filing.")
    draft = Application.objects.get(pk=draft.pk)  # nothing half-saved
    assert draft.status == Status.REGISTERED and draft.shtc.end_use == END_USE


def test_it_refuses_a_receipt_number_without_a_permit(client, applicant, shtc_case):
    case = shtc_case()  # 初審中: no permit yet
    client.force_login(applicant)
    response = start(client, "correction", receipt_no=case.receipt_no,
                     change_description="更正")
    assert errors(response) == {"receipt_no": ["no_permit"]}


def test_it_asks_for_the_description_and_one_number(client, applicant, permit):
    client.force_login(applicant)
    response = start(client, "correction")
    assert errors(response) == {"permit_no": ["number_required"],
                                "change_description": ["description_required"]}
    response = start(client, "correction", permit_no=permit.permit_no,
                     receipt_no=permit.current.application.receipt_no, change_description="x")
    assert errors(response) == {"receipt_no": ["several_references"]}
    response = start(client, "correction", permit_no="PSE-115", change_description="x")
    assert errors(response) == {"permit_no": ["number_format"]}
    assert not Application.objects.filter(status=Status.DRAFT).exists()


@pytest.mark.parametrize(("kind", "field"), [("correction", "permit_no"),
                                             ("correction", "receipt_no"),
                                             ("mismatch_correction", "permit_no")])
def test_it_answers_another_users_number_as_an_unknown_one(client, other_applicant, permit,
                                                           kind, field):
    numbers = {"permit_no": permit.permit_no,
               "receipt_no": permit.current.application.receipt_no}
    client.force_login(other_applicant)
    foreign = start(client, kind, change_description="更正", declaration_no="AE11500000001M",
                    coordination_id="ABCDEFGHJK", **{field: numbers[field]})
    unknown = start(client, kind, change_description="更正", declaration_no="AE11500000001M",
                    coordination_id="ABCDEFGHJK", **{field: numbers[field][:-3] + "999"})
    assert errors(foreign) == errors(unknown) == {field: ["not_found"]}
    assert not Application.objects.filter(status=Status.DRAFT).exists()


# --- whether the assurance is signed again (shtc.requirements) ------------------------------


def correction_of(permit, actor):
    return entry.change_draft_create(entry=changes.CHANGE, actor=actor, kind=Kind.CORRECTION,
                                     permit=permit, change_description="更正")


def test_it_asks_no_new_assurance_when_the_change_leaves_it_as_signed(applicant, permit):
    draft = correction_of(permit, applicant)
    draft.items.update(unit_price=1400, amount=14000)  # prices are not on the assurance
    Application.objects.filter(pk=draft.pk).update(contact_phone="02-2222-3333")
    original = permit.current.application
    assert requirements.assurance_changes(draft, original) == []
    assert not requirements.new_assurance_needed(draft)
    assert requirements.required_documents(draft) == []


@pytest.mark.parametrize("change", ["items", "parties", "end_use", "exporter", "shipment"])
def test_it_asks_the_assurance_signed_again_when_the_change_touches_it(applicant, permit,
                                                                      change):
    draft = correction_of(permit, applicant)
    if change == "items":
        draft.items.update(quantity=8, amount=12000)
    elif change == "parties":
        draft.parties.filter(role="end_user").update(address="7 Mesa Road")
    elif change == "end_use":
        ShtcApplication.objects.filter(application=draft).update(end_use="Another use.")
    elif change == "exporter":
        Application.objects.filter(pk=draft.pk).update(applicant_name_en="Anxin Tech Ltd.")
    else:
        ShtcApplication.objects.filter(application=draft).update(partial_shipment=False)
    draft = Application.objects.get(pk=draft.pk)
    assert requirements.assurance_changes(draft, permit.current.application) == [change]
    assert requirements.new_assurance_needed(draft)
    assert requirements.required_documents(draft) == ["assurance"]


def test_it_asks_the_documents_the_changed_data_newly_require(applicant, permit):
    draft = correction_of(permit, applicant)
    draft.items.update(origin_country="JP")  # now a re-export (SHTC-2 item 7)
    assert requirements.required_documents(draft) == ["import_declaration"]


def test_it_files_a_change_that_leaves_the_assurance_without_a_document(client, applicant,
                                                                        permit):
    client.force_login(applicant)
    draft = loaded(start(client, "correction", permit_no=permit.permit_no,
                         change_description="更正單價"))
    change_item(client, draft, unit_price="1400", amount="")
    review = client.get(url("review", draft.pk))
    assert review.context["entry_buttons"]["submit"] is changes.REGISTER
    case = shtc_services.application_file(application=register(client, draft),
                                          actor=applicant, end_use=END_USE)
    assert case.status == Status.INITIAL_REVIEW and not case.attachments.exists()


def test_it_refuses_the_filing_of_a_touched_assurance_not_signed_again(client, applicant,
                                                                      permit):
    client.force_login(applicant)
    draft = loaded(start(client, "correction", permit_no=permit.permit_no,
                         change_description="更正數量"))
    change_quantity(client, draft, "8")
    case = register(client, draft)
    page = client.get(reverse("shtc:filing_case", args=[case.pk]))
    assert [code for code, _label, _up in page.context["required_documents"]] == ["assurance"]
    with pytest.raises(workflow.TransitionNotAllowed):
        shtc_services.application_file(application=case, actor=applicant, end_use=END_USE)
    upload(case, "assurance", actor=applicant)
    assert shtc_services.application_file(application=case, actor=applicant,
                                          end_use=END_USE).status == Status.INITIAL_REVIEW


# --- 補正 (SHTC-8) --------------------------------------------------------------------------


@pytest.fixture
def closed(shtc_case, reviewer):
    """A case the reviewer closed 補正結案."""
    return workflow.transition(application=shtc_case(), to=Status.AMENDMENT_CLOSED,
                               actor=reviewer, note="最終使用者地址有誤，請補正。")


def test_it_amends_a_case_closed_for_amendment_into_a_new_permit(client, applicant, reviewer,
                                                                 closed):
    client.force_login(applicant)
    draft = loaded(start(client, "amendment", receipt_no=closed.receipt_no))
    assert (draft.kind, draft.amends, draft.changes) == (Kind.AMENDMENT, closed, None)
    response = client.post(url("edit", draft.pk), {
        **BASIC, "end_user-address": "7 Mesa Road, Tucson, AZ",
        "end_user-name": "Sierra Photonics LLC"})
    assert response.status_code == 302, response.context["form"].errors
    case = register(client, draft)
    # The corrected assurance and every other document again (the manual §1.2).
    missing = [code for code, _label in documents.missing(case)]
    assert missing[:2] == ["assurance", "red_flag_affidavit"]
    with pytest.raises(workflow.TransitionNotAllowed):
        shtc_services.application_file(application=case, actor=applicant, end_use=END_USE)
    case = file(case, applicant)
    approve(case, reviewer)
    issued = Permit.objects.get(versions__application=case)
    assert issued.versions.count() == 1 and not Permit.objects.filter(
        versions__application=closed).exists()


def test_it_refuses_an_amendment_of_a_case_not_closed_for_amendment(client, applicant,
                                                                   shtc_case, permit):
    client.force_login(applicant)
    for case in (shtc_case(), permit.current.application):
        response = start(client, "amendment", receipt_no=case.receipt_no)
        assert errors(response) == {"receipt_no": ["not_amendable"]}
    assert not Application.objects.filter(status=Status.DRAFT).exists()


def test_it_refuses_a_second_amendment(client, applicant, closed):
    client.force_login(applicant)
    register(client, loaded(start(client, "amendment", receipt_no=closed.receipt_no)))
    response = start(client, "amendment", receipt_no=closed.receipt_no)
    assert errors(response) == {"receipt_no": ["already_amended"]}


def test_it_answers_another_users_closed_case_as_an_unknown_one(client, other_applicant,
                                                                closed):
    client.force_login(other_applicant)
    response = start(client, "amendment", receipt_no=closed.receipt_no)
    assert errors(response) == {"receipt_no": ["not_found"]}


def test_it_takes_only_the_receipt_number_for_an_amendment(client, applicant, closed, permit):
    client.force_login(applicant)
    response = start(client, "amendment", receipt_no=closed.receipt_no,
                     permit_no=permit.permit_no)
    assert errors(response) == {"permit_no": ["number_not_asked"]}


# --- 單證比對不符修正 (SHTC-10) ---------------------------------------------------------------


def test_it_loads_a_mismatch_correction(client, applicant, permit, receive):
    result = mismatch(permit, receive)
    client.force_login(applicant)
    draft = loaded(start(client, "mismatch_correction", permit_no=permit.permit_no,
                         declaration_no=result.declaration.number,
                         coordination_id=result.coordination_id.lower(),
                         change_description="報單數量 20，許可數量 10，修正為 20"))
    assert (draft.kind, draft.changes, draft.declaration_no, draft.coordination_id) == (
        Kind.MISMATCH_CORRECTION, permit.current, result.declaration.number,
        result.coordination_id)
    assert result.declaration.number in client.get(url("edit", draft.pk)).context["header"]


@pytest.mark.parametrize("refusal", ["wrong_coordination_id", "declaration_matched",
                                     "unknown_declaration", "has_release", "missing"])
def test_it_refuses_a_mismatch_correction_next_to_its_field(client, applicant, permit,
                                                            receive, refusal):
    result = mismatch(permit, receive)
    data = {"permit_no": permit.permit_no, "declaration_no": result.declaration.number,
            "coordination_id": result.coordination_id, "change_description": "修正數量"}
    expected = {"declaration_matched": {"declaration_no": ["declaration_matched"]},
                "unknown_declaration": {"declaration_no": ["unknown_declaration"]},
                "wrong_coordination_id": {"coordination_id": ["wrong_coordination_id"]},
                "has_release": {"kind": ["has_release"]},
                "missing": {"declaration_no": ["mismatch_reference_required"],
                            "coordination_id": ["mismatch_reference_required"]}}[refusal]
    if refusal == "wrong_coordination_id":
        data["coordination_id"] = "ABCDEFGHJK"
    elif refusal == "declaration_matched":
        receive(helpers.declaration(permit, number="AE11500000002M"))  # 4 of 10: a match
        data["declaration_no"] = "AE11500000002M"
    elif refusal == "unknown_declaration":
        data["declaration_no"] = "AE11599999999X"
    elif refusal == "has_release":
        receive(helpers.declaration(permit, number="AE11500000003R"),
                helpers.release("AE11500000003R"))
    else:
        data.update(declaration_no="", coordination_id="")
    client.force_login(applicant)
    response = start(client, "mismatch_correction", **data)
    assert response.status_code == 400 and errors(response) == expected
    assert response.context["form"]["change_description"].value() == "修正數量"
    assert not Application.objects.filter(status=Status.DRAFT).exists()


def test_it_files_a_mismatch_correction_as_a_correction(client, applicant, reviewer, permit,
                                                        receive):
    result = mismatch(permit, receive)
    client.force_login(applicant)
    draft = loaded(start(client, "mismatch_correction", permit_no=permit.permit_no,
                         declaration_no=result.declaration.number,
                         coordination_id=result.coordination_id, change_description="修正"))
    change_quantity(client, draft, "20")
    case = file(register(client, draft), applicant)
    assert [a.document_kind for a in case.attachments.all()] == ["assurance"]
    approve(case, reviewer)
    assert permit.versions.count() == 2


# --- agents (ACC-4) -----------------------------------------------------------------------


def test_it_lets_the_agent_file_a_correction_that_the_applicant_sees(client, applicant,
                                                                     agent, reviewer,
                                                                     shtc_case):
    permit = shtc_case(status=Status.APPROVED, actor=agent).issued_version.permit
    client.force_login(agent)
    draft = loaded(start(client, "correction", permit_no=permit.permit_no,
                         change_description="更正數量"))
    assert (draft.applicant, draft.agent) == (applicant, agent)
    # A change is the same applicant's: the agent cannot retype whom it is for.
    page = client.get(url("edit", draft.pk))
    assert page.context["form"].fields["applicant_identifier"].disabled
    change_quantity(client, draft, "7")
    case = file(register(client, draft), agent)
    client.force_login(applicant)
    assert client.get(reverse("permits:application_detail", args=[case.pk])).status_code == 200
    assert client.get(reverse("shtc:filing_case", args=[case.pk])).status_code == 200
    approve(case, reviewer)
    assert permit.versions.get(version=2).application == case


def test_it_lets_the_agent_amend_the_case_it_filed(client, applicant, agent, reviewer,
                                                   shtc_case, other_applicant):
    closed = workflow.transition(application=shtc_case(actor=agent),
                                 to=Status.AMENDMENT_CLOSED, actor=reviewer, note="請補正")
    client.force_login(agent)
    draft = loaded(start(client, "amendment", receipt_no=closed.receipt_no))
    assert (draft.applicant, draft.agent, draft.amends) == (applicant, agent, closed)
    assert Application.objects.visible_to(applicant).filter(pk=draft.pk).exists()


def test_it_hides_another_users_change_draft(client, applicant, other_applicant, permit):
    client.force_login(applicant)
    draft = loaded(start(client, "correction", permit_no=permit.permit_no,
                         change_description="更正"))
    client.force_login(other_applicant)
    assert client.get(url("edit", draft.pk)).status_code == 404
    assert client.post(url("submit", draft.pk)).status_code == 404
