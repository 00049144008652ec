"""9-2-2 輸往伊朗北韓-戰略性高科技輸出許可申請作業 (SHTC-7, SHTC-13; the SHTC manual §1.1.2
步驟5): 新申請 with the 登錄編號 of the end-use assurance registered in 9-2-1 (shtc/iran_filing.py),
its refusals, the items only partly changeable and bounded by the assurance, 申請 → 收件編號,
the documents of SHTC-2 items 1 to 5 on the upload page, 協查 preselected for the reviewer,
North Korea's trade ban on every step, and the customs broker filing for the applicant."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from permits import documents, entry, workflow
from permits.attachments import attachment_add
from permits.models import Application, Attachment, Item, Kind, OutboundEmail, Status
from portal import menu
from shtc import iran_filing
from shtc.models import ShtcApplication
from shtc.procedures import IRAN_APPLICATION_KINDS, PROCEDURE
from tests.permits.test_attachments import pdf_bytes
from tests.services import seed_shtc
from tests.shtc.iran_cases import (
    AGENT,
    BASIC,
    ITEMS,
    apply,
    draft_of,
    enter,
    iran_assurance,
    url,
)
from tests.shtc.iran_cases import load as load_number
from tests.shtc.review_cases import parse_page
from tests.shtc.test_review import case_page  # the reviewer's admin page of a case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_root")]


def reference_codes(response):
    form = response.context["reference_form"]
    return [error.code for error in form.errors.as_data().get("registration_no", [])]


def item_codes(response, name):
    return [error.code for error in response.context["form"].errors.as_data().get(name, [])]


def upload(client, case, kind, name=None):
    return client.post(reverse("shtc:filing_case", args=[case.pk]), {
        "upload": "1", "document_kind": kind,
        "file": SimpleUploadedFile(name or f"{kind}.pdf", pdf_bytes())})


# --- 新申請: the assurance's 登錄編號 → 帶入參考資料 ----------------------------------------------


def test_the_menu_offers_9_2_2(client, applicant):
    client.force_login(applicant)
    names = [entry.url_name for _section, listed in menu.sections_for(applicant)
             for entry in listed if entry.url_name.startswith("shtc:")]
    # After 9-1-1 and 9-1-2 (and 9-2-1 when it is there).
    assert names.index("shtc:iran_application_basic") > names.index("shtc:filing_query")
    page = client.get(url("basic"))
    assert page.status_code == 200
    shown = parse_page(page.content)
    assert shown.by_testid("reference-form") is not None
    # A new application starts from the assurance only: no basic data to type.
    assert shown.by_testid("basic-form") is None
    assert list(page.context["reference_form"].fields) == ["registration_no"]


def test_it_loads_the_assurance_by_its_registration_number(client, applicant):
    assurance = iran_assurance(applicant)
    client.force_login(applicant)

    draft = draft_of(load_number(client, assurance.registration_no.lower()))

    assert draft.status == Status.DRAFT and draft.kind == Kind.NEW
    assert draft.destination_country == "IR" and draft.applicant == applicant
    assert draft.shtc.assurance == assurance
    assert draft.shtc.end_use == assurance.shtc.end_use
    rows = list(draft.items.order_by("line_no").values_list(
        "line_no", "source_line_no", "description", "quantity", "unit_price", "control_no"))
    assert rows == [(n, n, i["description"], Decimal(i["quantity"]), Decimal(i["unit_price"]),
                     i["control_no"]) for n, i in enumerate(ITEMS, start=1)]
    assert set(draft.parties.values_list("role", flat=True)) == {"buyer", "consignee",
                                                                "end_user"}
    # The assurance is only read: still 登錄中, its items as registered.
    assurance.refresh_from_db()
    assert assurance.status == Status.REGISTERED and assurance.items.count() == len(ITEMS)
    page = client.get(url("edit", draft.pk))
    assert page.status_code == 200
    assert assurance.registration_no in parse_page(page.content).by_testid(
        "entry-header").text()
    # 我的案件 continues it in 9-2-2, and 9-1-1 does not open it.
    assert entry.continue_url(draft) == url("edit", draft.pk)
    assert client.get(reverse("shtc:application_edit", args=[draft.pk])).status_code == 404
    dashboard = client.get(reverse("permits:dashboard"))
    [link] = [row["continue_url"] for row in dashboard.context["drafts"]]
    assert link == reverse("permits:draft_continue", args=[draft.pk])  # decided on the click
    assert client.get(link).url == url("edit", draft.pk)


def test_my_cases_costs_the_same_queries_whatever_kinds_of_draft_it_lists(client, applicant):
    """The 繼續 links of drafts whose entry their data decide (9-1-1, 9-2-1, 9-2-2 share SHTC's
    document type and kind) are decided on the click: the list asks nothing per draft."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from permits import services
    from permits.models import DocumentType

    client.force_login(applicant)
    dashboard = reverse("permits:dashboard")
    client.get(dashboard)  # warm: the session, the per-process compiled queries

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(dashboard).status_code == 200
        return len(captured)

    none = queries()
    draft_of(load_number(client, iran_assurance(applicant).registration_no))  # 9-2-2
    one = queries()
    plain = services.application_create(document_type=DocumentType.SHTC_EXPORT,
                                        applicant=applicant, actor=applicant,
                                        items=[dict(ITEMS[0])], destination_country="DE")
    several = queries()
    assert none == one == several
    page = client.get(dashboard).content.decode()
    assert reverse("permits:draft_continue", args=[plain.pk]) in page
    assert client.get(reverse("permits:draft_continue", args=[plain.pk])).url == reverse(
        "shtc:application_edit", args=[plain.pk])


def test_a_new_page_post_without_a_number_makes_no_draft(client, applicant):
    client.force_login(applicant)
    response = client.post(url("basic"), BASIC)  # a crafted post of the basic data
    assert response.status_code == 400
    assert [e.code for e in response.context["reference_form"].non_field_errors().as_data()] \
        == ["no_reference"]
    assert not Application.objects.exists()


def test_it_refuses_an_unknown_number_and_anothers_alike(client, applicant, other_applicant):
    theirs = iran_assurance(other_applicant)
    client.force_login(applicant)

    unknown = load_number(client, "EEU11599999999")
    another = load_number(client, theirs.registration_no)

    assert unknown.status_code == another.status_code == 400
    assert reference_codes(unknown) == reference_codes(another) == ["not_found"]
    assert unknown.context["reference_form"].errors == another.context["reference_form"].errors
    assert Application.objects.filter(status=Status.DRAFT).count() == 0


def test_it_refuses_an_assurance_of_9_1_1(client, applicant):
    from tests.shtc.test_filing import registered

    other = registered(applicant, destination="US")
    client.force_login(applicant)

    response = load_number(client, other.registration_no)

    assert reference_codes(response) == ["not_iran"]
    assert "9-1-2" in " ".join(response.context["reference_form"].errors["registration_no"])
    assert not Application.objects.filter(status=Status.DRAFT).exists()


def test_it_refuses_an_assurance_the_bureau_reopened(client, applicant, reviewer):
    assurance = iran_assurance(applicant)
    # Reopened for a correction in 9-2-1 (helper iran's move): not until registered again.
    workflow.transition(application=assurance, to=Status.DRAFT, actor=reviewer,
                        note="申請人來電：更正最終使用者地址。")
    client.force_login(applicant)
    response = load_number(client, assurance.registration_no)
    assert reference_codes(response) == ["not_registered"]
    assert not Application.objects.filter(shtc__assurance=assurance).exists()
    # Nor one no longer registered at all (not a move 9-2-1 offers).
    Application.objects.filter(pk=assurance.pk).update(status=Status.CANCELLED)
    assert reference_codes(load_number(client, assurance.registration_no)) == [
        "not_registered"]


def test_an_assurance_serves_one_application(client, applicant, reviewer):
    assurance = iran_assurance(applicant)
    client.force_login(applicant)
    filed = apply(client, enter(client, assurance))

    response = load_number(client, assurance.registration_no)

    assert reference_codes(response) == ["already_used"]
    message = " ".join(response.context["reference_form"].errors["registration_no"])
    assert filed.receipt_no in message and assurance.registration_no in message
    # Rejected, the assurance is free again.
    workflow.transition(application=filed, to=Status.REJECTED, actor=reviewer,
                        note="不符出口管制規定。")
    assert load_number(client, assurance.registration_no).status_code == 302


def other_draft(applicant, assurance):
    """A second draft loaded from `assurance`, as if from a number loaded before the first
    (帶入參考資料 again opens the first: permits.entry.loaded_draft)."""
    return entry.draft_from(entry=iran_filing.IRAN_APPLICATION, actor=applicant,
                            source=assurance, kind=Kind.NEW,
                            items=iran_filing.IRAN_APPLICATION.reference_items(assurance))


def test_a_second_draft_of_one_assurance_is_refused_at_apply(client, applicant):
    assurance = iran_assurance(applicant)
    client.force_login(applicant)
    first = enter(client, assurance)
    # Drafts do not count: both may be entered (a second load would open the first).
    second = other_draft(applicant, assurance)
    assert client.post(url("edit", second.pk), BASIC).status_code == 302
    apply(client, first)

    response = client.post(url("submit", second.pk))

    assert response.status_code == 302 and response.url == url("review", second.pk)
    second.refresh_from_db()
    assert second.status == Status.DRAFT and second.receipt_no is None
    shown = [str(m) for m in client.get(response.url).context["messages"]]
    assert any(first.receipt_no in message for message in shown)


# --- the items: from the assurance, four columns change ----------------------------------------


def test_no_item_can_be_added_or_deleted(client, applicant):
    assurance = iran_assurance(applicant)
    client.force_login(applicant)
    draft = enter(client, assurance)
    review = client.get(url("review", draft.pk))
    shown = parse_page(review.content)
    assert shown.by_testid("add-item") is None
    assert review.context["entry_item_add_url"] == ""
    # Crafted: the framework's paths for a new item or a deletion, and 9-1-1's for this draft.
    root = url("edit", draft.pk)
    assert client.post(f"{root}items/new/", ITEMS[0]).status_code == 404
    assert client.post(f"{root}items/1/delete/").status_code == 404
    assert client.post(reverse("shtc:application_item_add", args=[draft.pk]),
                       ITEMS[0]).status_code == 404
    assert client.post(url("item", draft.pk, 3), ITEMS[0]).status_code == 404
    assert draft.items.count() == len(ITEMS)


def test_only_quantity_unit_amount_and_currency_change(client, applicant):
    assurance = iran_assurance(applicant)
    client.force_login(applicant)
    draft = enter(client, assurance)
    page = client.get(url("item", draft.pk, 1))
    assert list(page.context["form"].fields) == ["quantity", "unit", "amount", "currency"]

    response = client.post(url("item", draft.pk, 1), {
        "quantity": "4", "unit": "pce", "amount": "5800", "currency": "EUR",
        # Crafted: the columns the page does not offer.
        "description": "Something else", "tariff_code": "84713000006", "unit_price": "1",
        "control_no": "5A002.a", "origin_country": "US", "model": "X", "line_no": "9",
        "source_line_no": "2"})

    assert response.status_code == 302
    item = draft.items.get(line_no=1)
    registered = assurance.items.get(line_no=1)
    assert (item.quantity, item.unit, item.amount, item.currency) == (
        Decimal(4), "PCE", Decimal(5800), "EUR")
    for name in ("description", "tariff_code", "unit_price", "control_no", "origin_country",
                 "model", "brand", "specification"):
        assert getattr(item, name) == getattr(registered, name), name
    assert item.source_line_no == 1


def test_an_empty_amount_follows_the_quantity(client, applicant):
    client.force_login(applicant)
    draft = enter(client, iran_assurance(applicant))
    client.post(url("item", draft.pk, 2), {"quantity": "1", "unit": "SET", "amount": "",
                                           "currency": "USD"})
    assert draft.items.get(line_no=2).amount == Decimal(250000)


def test_a_quantity_above_the_assurance_is_refused_in_the_form(client, applicant):
    client.force_login(applicant)
    draft = enter(client, iran_assurance(applicant))

    response = client.post(url("item", draft.pk, 1), {
        "quantity": "10.5", "unit": "PCE", "amount": "", "currency": "USD"})

    assert response.status_code == 400
    assert item_codes(response, "quantity") == ["over_assurance"]
    assert "10" in " ".join(response.context["form"].errors["quantity"])
    assert response.context["form"]["quantity"].value() == "10.5"  # as typed
    assert draft.items.get(line_no=1).quantity == Decimal(10)
    # The assurance's own quantity is fine.
    assert client.post(url("item", draft.pk, 1), {
        "quantity": "10", "unit": "PCE", "amount": "", "currency": "USD"}).status_code == 302


def test_a_quantity_above_the_assurance_is_refused_at_apply(client, applicant):
    assurance = iran_assurance(applicant)
    client.force_login(applicant)
    draft = enter(client, assurance)
    # The assurance's quantity lowered after the item was confirmed (the bureau reopened
    # 9-2-1 for the applicant).
    assurance.items.filter(line_no=1).update(quantity=Decimal(3))

    response = client.post(url("submit", draft.pk))

    assert response.status_code == 400
    assert item_codes(response, "quantity") == ["over_assurance"]
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT and draft.receipt_no is None


def test_the_gates_are_asked_again_under_the_assurances_lock(applicant):
    assurance = iran_assurance(applicant)
    draft = entry.reference_draft_create(entry=iran_filing.IRAN_APPLICATION, actor=applicant,
                                         field=entry.REGISTRATION_NO,
                                         number=assurance.registration_no)
    iran_filing.check_filing(draft, actor=applicant)  # as loaded: nothing to say

    draft.items.filter(line_no=2).update(quantity=Decimal(3))
    draft.items.filter(line_no=1).update(source_line_no=7)
    with pytest.raises(ValidationError) as refused:
        iran_filing.check_filing(draft, actor=applicant)
    assert sorted(e.code for e in refused.value.error_list) == ["not_assurance_item",
                                                                 "over_assurance"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_applications_of_one_assurance_filed_at_once_file_one(applicant):
    seed_shtc()  # Iran's controlled area: a transactional test before may have emptied it
    assurance = iran_assurance(applicant)
    first = entry.reference_draft_create(entry=iran_filing.IRAN_APPLICATION, actor=applicant,
                                         field=entry.REGISTRATION_NO,
                                         number=assurance.registration_no)
    drafts = [first, other_draft(applicant, assurance)]
    barrier = threading.Barrier(2)
    outcomes = []

    def file(draft):
        try:
            barrier.wait()
            entry.draft_submit(entry=iran_filing.IRAN_APPLICATION, application=draft,
                               actor=applicant)
            outcomes.append("filed")
        except ValidationError as error:
            outcomes.append(error.error_list[0].code)
        finally:
            connection.close()

    threads = [threading.Thread(target=file, args=(draft,)) for draft in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["already_used", "filed"]
    assert Application.objects.filter(shtc__assurance=assurance,
                                      status=Status.INITIAL_REVIEW).count() == 1


# --- 下一步, 申請 ------------------------------------------------------------------------------


def test_next_shows_the_whole_case_and_apply_gives_the_receipt_number(client, applicant):
    assurance = iran_assurance(applicant)
    client.force_login(applicant)
    draft = enter(client, assurance)

    review = client.get(url("review", draft.pk))
    shown = parse_page(review.content)
    whole = shown.text()
    for text in ("Tehran Electronics Industries", "7 Azadi Street, Tehran",
                 ITEMS[1]["description"], BASIC["company_email"]):
        assert text in whole, text
    assert shown.by_testid("apply") is not None

    response = client.post(url("submit", draft.pk))

    draft.refresh_from_db()
    assert draft.status == Status.INITIAL_REVIEW and draft.receipt_no
    assert draft.registration_no is None  # the assurance keeps its 登錄編號
    # 直接進行檢附文件上傳作業: the upload page at once, the number said.
    assert response.url == reverse("shtc:filing_case", args=[draft.pk])
    page = client.get(response.url)
    assert any(draft.receipt_no in str(m) for m in page.context["messages"])
    assert [(c.old, c.new) for c in draft.status_changes.all()] == [
        (Status.DRAFT, Status.INITIAL_REVIEW)]
    # A second 申請 (another tab) files nothing more.
    again = client.post(url("submit", draft.pk))
    assert again.status_code == 302 and draft.status_changes.count() == 1
    # The end user completed in 9-2-2, the assurance untouched.
    end_user = draft.parties.get(role="end_user")
    assert end_user.address == "7 Azadi Street, Tehran"
    assert assurance.parties.get(role="end_user").address == "Tehran"


def test_the_case_page_says_consultation_takes_25_to_30_working_days(client, applicant):
    client.force_login(applicant)
    case = apply(client, enter(client, iran_assurance(applicant)))
    page = parse_page(client.get(reverse("permits:application_detail",
                                         args=[case.pk])).content)
    said = page.by_testid("next-step").text()
    assert "25" in said and "30" in said and "9-2-2" in said
    assert case.shtc.assurance.registration_no in page.by_testid(
        "procedure-row-assurance").text()
    assert page.by_testid("link-filing") is not None
    # The status mail says it too.
    mail = OutboundEmail.objects.filter(application=case).latest("pk")
    assert "25" in mail.body and "30" in mail.body


# --- the documents (SHTC-2 items 1 to 5) -------------------------------------------------------


def test_the_documents_of_items_1_to_5_are_uploaded_after_apply(client, applicant):
    client.force_login(applicant)
    case = apply(client, enter(client, iran_assurance(applicant)))
    assert [code for code, _label in documents.missing(case)] == list(IRAN_APPLICATION_KINDS)
    page = client.get(reverse("shtc:filing_case", args=[case.pk]))
    offered = [code for code, _label in page.context["upload_form"].fields[
        "document_kind"].choices if code]
    assert offered == list(IRAN_APPLICATION_KINDS)
    assert page.context["filed_iran_application"] and not page.context["may_file"]

    # Another kind of SHTC-2 (item 6) is not taken.
    refused = upload(client, case, "business_licence")
    assert refused.status_code == 400
    for kind in IRAN_APPLICATION_KINDS[:-1]:
        assert upload(client, case, kind).status_code == 302, kind
    # Item 5: the end user's English website instead of its profile.
    response = client.post(reverse("shtc:filing_case", args=[case.pk]),
                           {"save_url": "1", "end_user_url": "https://tei.example/en"})
    assert response.status_code == 302
    assert documents.missing(Application.objects.get(pk=case.pk)) == []
    assert Attachment.objects.filter(application=case).count() == 4
    case.refresh_from_db()
    assert case.status == Status.INITIAL_REVIEW  # the bureau had it all along


def test_uploads_close_once_the_bureau_moves_the_case(client, applicant, reviewer):
    client.force_login(applicant)
    case = apply(client, enter(client, iran_assurance(applicant)))
    workflow.transition(application=case, to=Status.CONSULTATION, actor=reviewer)
    page = client.get(reverse("shtc:filing_case", args=[case.pk]))
    assert page.context["upload_form"] is None
    with pytest.raises(ValidationError):
        attachment_add(application=case, actor=applicant, document_kind="catalogue",
                       upload=SimpleUploadedFile("late.pdf", pdf_bytes()))


# --- the reviewer: 協查 preselected (SHTC-13), North Korea's ban ----------------------------------


def suggested(shown):
    return [button["data-move"] for button in shown.find_all("button")
            if button.get("data-suggested") == "yes"]


def test_the_admin_preselects_consultation(client, applicant, reviewer, shtc_case):
    client.force_login(applicant)
    case = apply(client, enter(client, iran_assurance(applicant)))
    shown = case_page(client, reviewer, case)
    assert suggested(shown) == [Status.CONSULTATION]
    assert shown.by_testid("suggested-move") is not None
    assert PROCEDURE.suggested_move(case) == Status.CONSULTATION

    # Back from consultation, nothing is preselected; nor for another destination.
    workflow.transition(application=case, to=Status.CONSULTATION, actor=reviewer)
    workflow.transition(application=case, to=Status.RETURNED, actor=reviewer, note="再審。")
    assert suggested(case_page(client, reviewer, case)) == []
    assert suggested(case_page(client, reviewer, shtc_case(destination="US"))) == []


def test_north_korea_shows_the_trade_ban_on_every_step(client, applicant, reviewer):
    assurance = iran_assurance(applicant, destination="KP")
    client.force_login(applicant)
    draft = enter(client, assurance, basic={"buyer-country": "KP", "end_user-country": "KP"})

    def ban(response):
        assert response.status_code == 200
        block = parse_page(response.content).by_testid("step-warnings")
        assert block is not None
        return [p["data-code"] for p in block.find_all("p")]

    for page in (url("edit", draft.pk), url("review", draft.pk), url("item", draft.pk, 1)):
        assert ban(client.get(page)) == ["trade_ban"], page
    case = apply(client, draft)
    assert ban(client.get(reverse("shtc:filing_case", args=[case.pk]))) == ["trade_ban"]
    # The reviewer's panel says it too.
    panel = case_page(client, reviewer, case).by_testid("shtc-warnings")
    assert "trade_ban" in {li["data-code"] for li in panel.find_all("li")}


def test_iran_shows_no_trade_ban(client, applicant):
    client.force_login(applicant)
    draft = enter(client, iran_assurance(applicant))
    assert parse_page(client.get(url("review", draft.pk)).content).by_testid(
        "step-warnings") is None


# --- the customs broker (ACC-4) and everyone else -----------------------------------------------


def test_an_agent_files_it_and_the_applicant_sees_the_same_case(client, applicant, agent):
    assurance = iran_assurance(applicant, actor=agent)
    client.force_login(agent)
    draft = enter(client, assurance, basic={**AGENT, "applicant_identifier": "12345675"})
    draft.refresh_from_db()
    # The applicant is the assurance's, whatever the agent types.
    assert (draft.applicant, draft.agent) == (applicant, agent)
    assert draft.applicant_identifier == applicant.identifier
    assert draft.agent_contact_person == AGENT["agent_contact_person"]
    case = apply(client, draft)
    assert upload(client, case, "catalogue").status_code == 302

    client.force_login(applicant)
    for page in (reverse("permits:application_detail", args=[case.pk]),
                 reverse("shtc:filing_case", args=[case.pk])):
        assert client.get(page).status_code == 200, page
    mine = client.get(reverse("permits:dashboard"))
    assert case.receipt_no in mine.content.decode()


def test_an_agent_cannot_see_an_assurance_the_applicant_registered(client, applicant, agent):
    assurance = iran_assurance(applicant)
    client.force_login(agent)
    assert reference_codes(load_number(client, assurance.registration_no)) == ["not_found"]


def test_another_user_finds_nothing(client, applicant, other_applicant, agent):
    client.force_login(applicant)
    draft = enter(client, iran_assurance(applicant))
    for user in (other_applicant, agent):
        client.force_login(user)
        for page in (url("edit", draft.pk), url("review", draft.pk), url("item", draft.pk, 1)):
            assert client.get(page).status_code == 404, page
        assert client.post(url("submit", draft.pk)).status_code == 404
        assert client.post(url("item", draft.pk, 1), {
            "quantity": "1", "unit": "PCE", "currency": "USD"}).status_code == 404
    client.force_login(applicant)
    case = apply(client, draft)
    client.force_login(other_applicant)
    assert client.get(reverse("shtc:filing_case", args=[case.pk])).status_code == 404
    assert upload(client, case, "catalogue").status_code == 404
    assert Item.objects.filter(application=case, quantity=1).count() == 0
    assert ShtcApplication.objects.get(application=case).end_user_url == ""
