"""9-2-1 輸往伊朗北韓-最終用途保證書登錄作業 (SHTC-6; the SHTC manual §1.1.2 步驟2 to 4, FAQ 3.13
(2)): the pages as the exporter and the customs broker walk them, 附件申請 → 登錄中 with its
登錄編號, 列印最終用途保證書登錄資料 read back with pdftotext, the lock after registration (the
pages, crafted posts, 9-1-2), the bureau's reopening in the admin with its history, and the
cancellation refused by every path: 9-1-2's page and a crafted post, the service, the
workflow and the admin."""

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from permits import entry as permit_entry
from permits import workflow
from permits.models import Application, Item, OutboundEmail, Party, PartyRole, Status
from portal import menu
from shtc import iran, services
from shtc.iran_entry import IRAN_ASSURANCE
from shtc.models import ShtcApplication
from tests.permits.test_pdf import assert_one_face_subset, pdftotext
from tests.shtc.assurance import AGENT, ITEM
from tests.shtc.assurance import BASIC as ASSURANCE_BASIC
from tests.shtc.assurance import enter as assurance_enter
from tests.shtc.assurance import register as assurance_register
from tests.shtc.assurance import url as assurance_url

pytestmark = pytest.mark.django_db

BASIC = {**ASSURANCE_BASIC, "destination_country": "IR", "transit_port": "",
         "buyer-name": "Tehran Optics Co.", "buyer-address": "12 Valiasr Street, Tehran",
         "buyer-country": "IR", "consignee-same_as_buyer": "",
         "consignee-name": "Bandar Logistics Co.", "consignee-address": "3 Port Road, Bandar Abbas",
         "consignee-country": "IR",
         "end_user-name": "Persian Photonics Lab", "end_user-address": "5 Azadi Square, Tehran",
         "end_user-country": "IR"}
NORTH_KOREA = {"destination_country": "KP", "buyer-country": "KP", "consignee-country": "KP",
               "end_user-country": "KP"}
ITEMS = [ITEM, {**ITEM, "description": "Laser interferometer", "brand": "", "model": "",
                "specification": "", "control_no": "6A005.b", "quantity": "2",
                "unit": "SET", "unit_price": "8000.5", "currency": "EUR"}]
PHONE = "02-2351-0271"
PREFIX = "iran_assurance"


def url(name, *args):
    return assurance_url(name, *args, prefix=PREFIX)


def enter(client, **kwargs):
    """新增貨品明細/基本資料存檔 (on to the first item), then 確認 on each item: the draft."""
    return assurance_enter(client, prefix=PREFIX, base=BASIC, then="item_add", **kwargs)


def register(client, **kwargs):
    """The whole of 9-2-1: enter, then 附件申請. The assurance, registered (登錄中)."""
    return assurance_register(client, prefix=PREFIX, base=BASIC, then="item_add", **kwargs)


def case_page(client, case):
    return client.get(reverse("permits:application_detail", args=[case.pk]))


def document_url(case, slug):
    return reverse("shtc:case_document", args=[case.pk, slug])


def snapshot(case):
    """What the applicant could change: the case, its SHTC data, parties and items."""
    case = Application.objects.get(pk=case.pk)
    return (case.status, case.registration_no, case.destination_country, case.contact_person,
            case.updated_at,
            tuple(ShtcApplication.objects.filter(application=case).values_list(
                "partial_shipment", "transit_port", "end_use", "end_user_url")),
            tuple(Party.objects.filter(application=case).order_by("role").values_list(
                "role", "name", "address")),
            tuple(Item.objects.filter(application=case).order_by("line_no").values_list(
                "line_no", "description", "quantity", "unit_price", "currency")))


@pytest.fixture
def assurance(client, applicant):
    client.force_login(applicant)
    return register(client, items=ITEMS)


def reopen(reviewer, case, note="申請人來電：更正最終使用者地址。"):
    return workflow.transition(application=case, to=Status.DRAFT, actor=reviewer, note=note)


# --- the entry --------------------------------------------------------------------------------


def test_it_is_in_the_menu_after_9_1_2_with_the_manuals_buttons(client, applicant):
    client.force_login(applicant)
    labels = [str(entry.label) for _section, entries in menu.sections_for(applicant)
              for entry in entries]
    numbers = [label.split(" ")[0] for label in labels if label.startswith("9-")]
    assert numbers.index("9-2-1") == numbers.index("9-1-2") + 1
    page = client.get(url("basic"))
    assert page.status_code == 200
    with translation.override("en"):
        assert [str(IRAN_ASSURANCE.buttons[key]) for key in ("next", "add_item", "confirm",
                                                             "submit")] == [
            "Add goods item / save basic data", "Add goods item", "Confirm",
            "Attachment application"]
    html = page.content.decode()
    assert str(IRAN_ASSURANCE.title) in html and str(IRAN_ASSURANCE.buttons["next"]) in html
    # No 申請類別 box (帶入參考資料), no route without an assurance: 9-2-1 has neither.
    assert "reference_form" not in page.context or page.context["reference_form"] is None
    assert "assurance_route" not in page.context["form"].fields
    # The destination offers Iran and North Korea.
    codes = [code for code, _label in page.context["form"].fields["destination_country"].choices]
    assert codes == ["", "IR", "KP"]


def test_it_registers_the_assurance_and_gives_its_registration_number(client, applicant):
    client.force_login(applicant)
    draft = enter(client, items=ITEMS)
    review = client.get(url("review", draft.pk))
    assert review.status_code == 200
    assert [item.description for item in review.context["items"]] == [
        "Field programmable gate array", "Laser interferometer"]
    response = client.post(url("submit", draft.pk), follow=True)
    case = Application.objects.get(pk=draft.pk)
    assert case.status == Status.REGISTERED
    assert re.fullmatch(r"EEU[0-9]{11}", case.registration_no)
    assert case.receipt_no is None
    assert case.registration_no in response.content.decode()
    change = case.status_changes.get()
    assert (change.old, change.new, change.actor) == (Status.DRAFT, Status.REGISTERED, applicant)
    shtc = case.shtc
    assert shtc.with_assurance and shtc.end_use == "" and shtc.assurance_id is None
    assert iran.is_assurance(case) and iran.locked(case)
    # The status mail says what comes next: print, 9-2-2, and who reopens it.
    mail = OutboundEmail.objects.filter(application=case).latest("pk")
    assert "9-2-2" in mail.body and PHONE in mail.body
    assert {party.role: party.name for party in case.parties.all()} == {
        PartyRole.BUYER: "Tehran Optics Co.", PartyRole.CONSIGNEE: "Bandar Logistics Co.",
        PartyRole.END_USER: "Persian Photonics Lab"}


@pytest.mark.parametrize("country", ["US", "DE", "CN"])
def test_it_takes_only_iran_or_north_korea(client, applicant, country):
    client.force_login(applicant)
    response = client.post(url("basic"), {**BASIC, "destination_country": country,
                                          "buyer-country": country})
    assert response.status_code == 400
    codes = [error.code for error in
             response.context["form"].errors.as_data()["destination_country"]]
    assert codes == ["not_own_procedure"]
    assert "9-1-1" in " ".join(response.context["form"].errors["destination_country"])
    assert not Application.objects.filter(applicant=applicant).exists()


def test_9_1_1_still_refuses_iran_and_does_not_load_a_9_2_1_assurance(client, applicant,
                                                                      assurance):
    response = client.post(reverse("shtc:application_basic"),
                           {**ASSURANCE_BASIC, "destination_country": "IR"})
    assert response.status_code == 400
    response = client.post(reverse("shtc:application_basic"),
                           {"registration_no": assurance.registration_no,
                            "load_reference": "1"})
    assert response.status_code == 400
    assert response.context["reference_form"].has_error("registration_no", "own_procedure")
    assert Application.objects.filter(applicant=applicant).count() == 1


def test_each_entry_keeps_its_own_drafts(client, applicant):
    client.force_login(applicant)
    draft = enter(client)
    assert permit_entry.continue_url(draft) == url("edit", draft.pk)
    # 9-1-1's pages do not open it, nor 匯入暫存資料 there bring it back.
    for name in ("edit", "review"):
        assert client.get(reverse(f"shtc:application_{name}", args=[draft.pk])).status_code \
            == 404
    imported = client.post(reverse("shtc:application_basic"), {"draft_action": "import_draft"})
    assert imported.status_code == 200  # "no saved draft": the 9-2-1 one is not 9-1-1's
    # 我的案件's 繼續 (decided on the click: 9-1-1 and 9-2-1 share a document type) leads here.
    dashboard = client.get(reverse("permits:dashboard"))
    link = reverse("permits:draft_continue", args=[draft.pk])
    assert link in dashboard.content.decode()
    assert client.get(link).url == url("edit", draft.pk)


def test_the_agent_files_it_for_the_applicant_who_sees_the_same_case(client, agent, applicant,
                                                                      other_applicant,
                                                                      tmp_path):
    client.force_login(agent)
    case = register(client, basic=AGENT)
    assert (case.applicant, case.agent) == (applicant, agent)
    assert case.agent_email == AGENT["agent_email"]
    for user in (agent, applicant):
        client.force_login(user)
        page = case_page(client, case)
        assert page.status_code == 200 and case.registration_no in page.content.decode()
        response = client.get(document_url(case, "iran-registration"))
        assert response.status_code == 200
        path = tmp_path / f"{user.pk}.pdf"
        path.write_bytes(response.content)
        assert case.registration_no in pdftotext(path)
    # The agent's assurance is locked for the agent too (ACC-4: the same rules).
    client.force_login(agent)
    assert client.get(url("edit", case.pk)).status_code == 403


def test_another_users_id_is_not_found(client, assurance, applicant, other_applicant, agent):
    client.force_login(applicant)
    draft = enter(client)
    for user in (other_applicant, agent):
        client.force_login(user)
        for case in (draft, assurance):
            for name in ("edit", "review", "item_add"):
                assert client.get(url(name, case.pk)).status_code == 404, (user, name)
            assert client.get(url("item", case.pk, 1)).status_code == 404
            assert client.post(url("submit", case.pk)).status_code == 404
            assert client.post(url("item_delete", case.pk, 1)).status_code == 404
        assert case_page(client, assurance).status_code == 404
        for slug in ("iran-registration", "red-flag-affidavit"):
            assert client.get(document_url(assurance, slug)).status_code == 404
        assert client.get(reverse("shtc:filing_cancel", args=[assurance.pk])).status_code \
            == 404
    assert Application.objects.get(pk=draft.pk).status == Status.DRAFT


def test_it_warns_of_north_korea_on_every_step_and_in_the_admin(client, applicant, reviewer):
    client.force_login(applicant)
    basic = client.get(url("basic"))
    # At once when North Korea is chosen (static/shtc/destination.js reads this JSON) …
    assert "KP" in basic.context["warnings_by_country"]()
    assert "106/09/26" in " ".join(basic.context["warnings_by_country"]()["KP"])
    assert "IR" not in basic.context["warnings_by_country"]()
    # … and on each page of the case, in the heading, never the "not here" of 9-1-1.
    draft = enter(client, basic=NORTH_KOREA)
    pages = [client.get(url(name, draft.pk)) for name in ("edit", "review", "item_add")]
    pages.append(client.get(url("item", draft.pk, 1)))
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        assert 'data-testid="step-warnings"' in html and 'data-code="trade_ban"' in html
        assert "106/09/26" in html
        assert "9-2-1 輸往伊朗北韓-最終用途保證書登錄作業, not here" not in html
        assert "not here" not in " ".join(message for _code, message in page.context[
            "step_warnings"])
    client.post(url("submit", draft.pk))
    for page in (client.get(url("edit", draft.pk)), case_page(client, draft)):
        assert "106/09/26" in page.content.decode()
    # An Iran case has no ban to say.
    iran_case = enter(client)
    assert client.get(url("review", iran_case.pk)).context["step_warnings"] == []
    client.force_login(reviewer)
    admin_page = client.get(reverse("admin:permits_application_change", args=[draft.pk]))
    html = admin_page.content.decode()
    assert 'data-code="trade_ban"' in html and "106/09/26" in html


# --- the documents ------------------------------------------------------------------------------


def test_the_case_page_offers_the_registration_data_and_the_affidavit(client, assurance):
    page = case_page(client, assurance)
    links = {link["code"]: link["url"] for link in page.context["procedure_links"]}
    # Neither 9-1-1's buyer / consignee versions nor 9-1-2's upload page (SHTC-7: the
    # documents go with the 9-2-2 application).
    assert links == {slug: document_url(assurance, slug)
                     for slug in ("iran-registration", "red-flag-affidavit")}
    assert page.context["attachment_form"] is None
    assert page.context["required_documents"] == []
    for slug in ("assurance-buyer", "assurance-consignee"):
        assert client.get(document_url(assurance, slug)).status_code == 404
    # A 9-1-1 case does not offer 9-2-1's registration data.
    nine_one_one = assurance_register(client)
    assert client.get(document_url(nine_one_one, "iran-registration")).status_code == 404


def test_it_prints_the_registration_data_for_the_exporter_and_the_importer(client, assurance,
                                                                           tmp_path):
    response = client.get(document_url(assurance, "iran-registration"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{assurance.registration_no}-iran-registration.pdf"')
    path = tmp_path / "registration.pdf"
    path.write_bytes(response.content)
    text = pdftotext(path)
    flat = re.sub(r"\s+", " ", text)
    assert "WRITTEN ASSURANCE OF END USES" in text and "Registration data" in text
    assert assurance.registration_no in text
    for party in ("Tehran Optics Co.", "Bandar Logistics Co.", "Persian Photonics Lab"):
        assert party in text
    # Goods / quantities and amounts / currencies, for the foreign importer to check.
    for word in ("Field programmable gate array", "Laser interferometer", "3A001.a", "6A005.b",
                 "1,500.00", "8,000.50", "15,000.00", "16,001.00", "USD", "EUR",
                 "Currency", "Amount", "Total"):
        assert word in text, word
    # Two signatures: the exporter's with its date, the foreign importer's after checking.
    for word in ("Signature of the exporter", "Signature of the foreign importer",
                 "Foreign importer", "Date", "Name and title", "Company stamp"):
        assert word in text, word
    assert "goods / quantities and the amounts / currencies above are complete" in flat
    assert "Signature of the end user" not in text
    assert "Undertakings of the foreign importer" in text
    assert_one_face_subset(path)  # pdf/base.html's one face, as every document


def test_it_prints_the_red_flag_affidavit(client, assurance, tmp_path):
    response = client.get(document_url(assurance, "red-flag-affidavit"))
    assert response.status_code == 200
    path = tmp_path / "affidavit.pdf"
    path.write_bytes(response.content)
    text = pdftotext(path)
    assert "紅色警戒清單(異常交易)檢核切結書" in text and assurance.registration_no in text


# --- locked after registration ---------------------------------------------------------------


def test_its_pages_refuse_every_change_and_say_who_reopens_it(client, assurance):
    before = snapshot(assurance)
    for page in (client.get(url("edit", assurance.pk)), client.get(url("review", assurance.pk)),
                 client.get(url("item_add", assurance.pk)),
                 client.get(url("item", assurance.pk, 1))):
        assert page.status_code == 403
        html = page.content.decode()
        assert 'data-testid="assurance-locked"' in html and PHONE in html
        assert assurance.registration_no in html
    crafted = [
        client.post(url("edit", assurance.pk), {**BASIC, "destination_country": "KP",
                                                "contact_person": "李四"}),
        client.post(url("item_add", assurance.pk), ITEM),
        client.post(url("item", assurance.pk, 1), {**ITEM, "quantity": "9999"}),
        client.post(url("item_delete", assurance.pk, 2)),
        client.post(url("submit", assurance.pk)),
    ]
    assert [response.status_code for response in crafted] == [403] * 5
    assert snapshot(assurance) == before
    # 9-1-2's end user website is one of its fields too.
    with pytest.raises(ValidationError) as refused:
        services.end_user_url_set(application=assurance, actor=assurance.applicant,
                                  url="https://persian-photonics.example")
    assert refused.value.code == "locked" and PHONE in refused.value.messages[0]
    response = client.post(reverse("shtc:filing_case", args=[assurance.pk]),
                           {"save_url": "1", "end_user_url": "https://x.example"})
    assert response.status_code == 400
    assert snapshot(assurance) == before


def test_the_case_page_says_only_the_bureau_reopens_it(client, assurance):
    page = case_page(client, assurance)
    next_step = page.context["next_step"]
    assert PHONE in next_step and "9-2-2" in next_step
    with translation.override("en"):
        assert "only by the bureau" in str(iran.locked_message())
    assert 'data-testid="next-step"' in page.content.decode()


def test_it_is_filed_in_9_2_2_not_in_9_1_2(client, assurance):
    page = client.get(reverse("shtc:filing_case", args=[assurance.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="iran-assurance"' in html
    assert 'data-testid="apply"' not in html and 'data-testid="cancel"' not in html
    assert page.context["upload_form"] is None
    response = client.post(reverse("shtc:filing_apply", args=[assurance.pk]),
                           {"end_use": "Metrology of optical lenses in the laboratory."})
    assert response.status_code == 400
    assert response.context["form"].has_error("__all__", "filed_in_9_2_2")
    with pytest.raises(workflow.TransitionNotAllowed):
        workflow.transition(application=assurance, to=Status.INITIAL_REVIEW,
                            actor=assurance.applicant)
    assert Application.objects.get(pk=assurance.pk).status == Status.REGISTERED


# --- never cancelled (FAQ 3.13 (2)) ------------------------------------------------------------


def test_9_1_2_offers_no_cancellation_and_refuses_a_crafted_post(client, assurance):
    cancel_url = reverse("shtc:filing_cancel", args=[assurance.pk])
    page = client.get(cancel_url)
    html = page.content.decode()
    assert page.status_code == 200 and not page.context["may_cancel"]
    assert 'data-testid="confirm-cancel"' not in html
    assert 'data-testid="iran-assurance"' in html
    response = client.post(cancel_url)
    assert response.status_code == 400
    with translation.override("en"):
        reason = str(iran.MESSAGES["never_cancelled"])
    assert response.context["error"] == str(iran.MESSAGES["never_cancelled"])
    assert reason == ("An end-use assurance for Iran or North Korea cannot be cancelled "
                      "once it is registered.")
    assert Application.objects.get(pk=assurance.pk).status == Status.REGISTERED


def test_no_code_path_cancels_it(assurance, applicant, reviewer):
    with pytest.raises(ValidationError) as refused:
        services.application_cancel(application=assurance, actor=applicant)
    assert refused.value.code == "never_cancelled"
    with pytest.raises(workflow.TransitionNotAllowed) as refused:
        workflow.transition(application=assurance, to=Status.CANCELLED, actor=applicant)
    assert refused.value.code == "procedure"
    with pytest.raises((workflow.TransitionNotAllowed, PermissionDenied)):
        workflow.transition(application=assurance, to=Status.CANCELLED, actor=reviewer,
                            note="申請人來電要求取消")
    # Reopened, it is a draft again, and still never cancelled.
    reopened = reopen(reviewer, assurance)
    with pytest.raises(workflow.TransitionNotAllowed):
        workflow.transition(application=reopened, to=Status.CANCELLED, actor=applicant)
    assert Application.objects.get(pk=assurance.pk).status == Status.DRAFT
    # The draft purge keeps it: it is the applicant's assurance, not an abandoned draft.
    Application.objects.filter(pk=assurance.pk).update(
        updated_at=timezone.now() - timezone.timedelta(days=3650))
    permit_entry.drafts_purge()
    assert Application.objects.filter(pk=assurance.pk).exists()


def test_the_admin_offers_no_cancellation_and_refuses_one(client, assurance, reviewer):
    client.force_login(reviewer)
    change_url = reverse("admin:permits_application_change", args=[assurance.pk])
    page = client.get(change_url)
    moves = [to for to, _label, _note in page.context["moves"]]
    assert moves == [Status.DRAFT]
    response = client.post(reverse("admin:permits_application_move", args=[assurance.pk]),
                           {"to": Status.CANCELLED, "note": "申請人來電要求取消"}, follow=True)
    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert Application.objects.get(pk=assurance.pk).status == Status.REGISTERED


# --- reopened by the bureau -------------------------------------------------------------------


def test_a_reviewer_reopens_it_with_a_note_and_the_applicant_registers_it_again(
        client, assurance, applicant, reviewer):
    number = assurance.registration_no
    client.force_login(reviewer)
    change_url = reverse("admin:permits_application_change", args=[assurance.pk])
    page = client.get(change_url)
    html = page.content.decode()
    assert 'data-move="draft"' in html
    with translation.override("en"):
        assert [str(label) for to, label, note in page.context["moves"]] == [
            "Reopen for changes"]
    assert page.context["moves"][0][2]  # a note is required
    move_url = reverse("admin:permits_application_move", args=[assurance.pk])
    # Without a note: refused, nothing moves.
    client.post(move_url, {"to": Status.DRAFT, "note": " "})
    assert Application.objects.get(pk=assurance.pk).status == Status.REGISTERED
    client.post(move_url, {"to": Status.DRAFT, "note": "申請人來電：更正最終使用者地址。"})
    case = Application.objects.get(pk=assurance.pk)
    assert case.status == Status.DRAFT and case.registration_no == number
    change = case.status_changes.order_by("created_at", "pk").last()
    assert (change.old, change.new, change.actor, change.note) == (
        Status.REGISTERED, Status.DRAFT, reviewer, "申請人來電：更正最終使用者地址。")
    # The applicant corrects it in 9-2-1 …
    client.force_login(applicant)
    page = case_page(client, case)
    assert "9-2-1" in page.context["next_step"]
    assert {link["code"]: link["url"] for link in page.context["procedure_links"]} == {
        "iran-assurance": url("edit", case.pk)}
    edit = client.get(url("edit", case.pk))
    assert edit.status_code == 200 and number in edit.context["header"]
    response = client.post(url("edit", case.pk), {**BASIC, "end_user-address":
                                                  "7 Enghelab Street, Tehran"})
    assert response.status_code == 302 and response.url == url("review", case.pk)
    response = client.post(url("item", case.pk, 2), {**ITEMS[1], "quantity": "1"})
    assert response.status_code == 302
    # … and 附件申請 registers it again, under the same 登錄編號.
    client.post(url("submit", case.pk))
    case = Application.objects.get(pk=case.pk)
    assert case.status == Status.REGISTERED and case.registration_no == number
    assert case.parties.get(role=PartyRole.END_USER).address == "7 Enghelab Street, Tehran"
    assert [(c.old, c.new) for c in case.status_changes.order_by("created_at", "pk")] == [
        (Status.DRAFT, Status.REGISTERED), (Status.REGISTERED, Status.DRAFT),
        (Status.DRAFT, Status.REGISTERED)]
    history = case_page(client, case).content.decode()
    assert "申請人來電：更正最終使用者地址。" in history
    assert client.get(url("edit", case.pk)).status_code == 403  # locked again


def test_only_a_9_2_1_assurance_is_reopened(client, applicant, reviewer):
    client.force_login(applicant)
    case = assurance_register(client)
    client.force_login(reviewer)
    page = client.get(reverse("admin:permits_application_change", args=[case.pk]))
    assert Status.DRAFT not in [to for to, _label, _note in page.context["moves"]]
    with pytest.raises(workflow.TransitionNotAllowed) as refused:
        workflow.transition(application=case, to=Status.DRAFT, actor=reviewer, note="開放")
    assert refused.value.code == "procedure"
    # Nor by the applicant, of its own assurance.
    client.force_login(applicant)
    assurance = register(client)
    with pytest.raises(PermissionDenied):
        workflow.transition(application=assurance, to=Status.DRAFT, actor=applicant,
                            note="開放")


def test_the_registration_data_are_a_tagged_archival_pdf_in_english(client, assurance,
                                                                    tmp_path):
    # Issue 15: PDF/UA-1 and PDF/A-3b, titled, in English (the form's language) whatever
    # the applicant reads, its text in the layout's order.
    from tests.permits.pdf_standards import check_accessible_and_archival
    from tests.permits.test_pdf_standards import in_order

    path = tmp_path / "registration.pdf"
    path.write_bytes(client.get(document_url(assurance, "iran-registration")).content)
    types = check_accessible_and_archival(
        path, title=f"End-use assurance registration data {assurance.registration_no}",
        lang="en")
    assert types.count("H1") == 1 and "Table" in types
    assert in_order(pdftotext(path), ["WRITTEN ASSURANCE OF END USES", "Goods",
                                      "Signature of the exporter",
                                      "Signature of the foreign importer"])
