"""9-1-2 非輸往伊朗北韓-附件上傳暨戰略性高科技輸出許可申請/取消作業 (SHTC-2, SHTC-4,
SHTC-12; the SHTC manual §1.1.1.2.1 步驟8, §2.4 items 6 and 7, FAQ 3.13): the required
documents, 查詢 by number or ROC dates, the upload page, 登錄最終用途並申請 → 案件申請, 取消申請,
as the exporter and as the customs broker filing for it."""

import datetime

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from permits import documents, services, workflow
from permits.attachments import attachment_add
from permits.models import Application, Attachment, DocumentType, OutboundEmail, Status
from portal import dates, menu
from shtc import rules
from shtc.filing_forms import END_USE_MAX_LENGTH
from shtc.models import AssuranceRoute, ShtcApplication
from shtc.procedures import DOCUMENT_KINDS, PROCEDURE
from tests.approvals import approve
from tests.permits.test_attachments import pdf_bytes
from tests.shtc.assurance import register

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_root")]

BASE = ["assurance", "red_flag_affidavit", "catalogue", "transaction", "end_user_profile"]
# SHTC-2 item 7: the ten countries whose government approves a re-export of their goods.
TEN = ["US", "DE", "GR", "HU", "CZ", "ES", "TR", "RU", "BE", "FR"]
END_USE = "Wafer inspection in the end user's semiconductor fab in Arizona."
CASE_DATA = {"applicant_name": "安心科技股份有限公司", "applicant_address": "臺北市中正區",
             "company_email": "export@anxin.example"}



def item(origin="TW"):
    return {"tariff_code": "85423100003", "description": "Field programmable gate array",
            "quantity": "10", "unit": "PCE", "unit_price": "1500", "currency": "USD",
            "origin_country": origin}


def registered(applicant, *, actor=None, destination="US", origins=("TW",), url="",
               route=AssuranceRoute.WITH_ASSURANCE):
    """A case as 9-1-1 leaves it: 登錄中 with its 登錄編號 and its SHTC data."""
    case = services.application_create(
        document_type=DocumentType.SHTC_EXPORT, applicant=applicant, actor=actor or applicant,
        items=[item(origin) for origin in origins], destination_country=destination,
        **CASE_DATA)
    ShtcApplication.objects.create(application=case, end_user_url=url, assurance_route=route)
    return workflow.transition(application=case, to=Status.REGISTERED, actor=actor or applicant)


def required(case):
    return PROCEDURE.required_documents(Application.objects.get(pk=case.pk))


def upload_all(case, actor):
    for code, _label in documents.missing(case):
        attachment_add(application=case, actor=actor, document_kind=code,
                       upload=SimpleUploadedFile(f"{code}.pdf", pdf_bytes()))


def missing(case):
    return [code for code, _label in documents.missing(Application.objects.get(pk=case.pk))]


def url(name, case=None):
    return reverse(f"shtc:filing_{name}", args=[case.pk] if case else [])


def codes(response, field, form="form"):
    return [e.code for e in response.context[form].errors.as_data().get(field, [])]


# --- SHTC-2: the required documents ---------------------------------------------------------


def test_it_requires_items_1_to_5_of_an_export(applicant):
    assert required(registered(applicant)) == BASE


@pytest.mark.parametrize("destination", ["CN", "AE"])
def test_it_requires_the_business_licence_for_china_and_the_uae(applicant, destination):
    assert required(registered(applicant, destination=destination)) == [
        *BASE, "business_licence"]


@pytest.mark.parametrize("destination", ["US", "SG", "JP", "HK"])
def test_it_requires_no_business_licence_elsewhere(applicant, destination):
    assert "business_licence" not in required(registered(applicant, destination=destination))


def test_it_knows_the_ten_countries_of_item_7():
    assert sorted(rules.countries_needing_reexport_approval()) == sorted(TEN)


@pytest.mark.parametrize("origin", TEN)
def test_it_requires_the_reexport_approval_of_each_of_the_ten(applicant, origin):
    destination = "SG"
    assert required(registered(applicant, destination=destination, origins=(origin,))) == [
        *BASE, "import_declaration", "reexport_approval"]


@pytest.mark.parametrize("origin", TEN)
def test_it_needs_no_approval_when_the_goods_go_back(applicant, origin):
    assert required(registered(applicant, destination=origin, origins=(origin,))) == [
        *BASE, "import_declaration"]


def test_it_requires_only_the_import_declaration_from_another_origin(applicant):
    assert required(registered(applicant, destination="SG", origins=("JP",))) == [
        *BASE, "import_declaration"]


def test_it_requires_the_approval_when_one_item_of_several_needs_it(applicant):
    case = registered(applicant, destination="DE", origins=("TW", "DE", "US"))
    assert required(case) == [*BASE, "import_declaration", "reexport_approval"]


def test_it_combines_the_licence_and_the_reexport(applicant):
    assert required(registered(applicant, destination="CN", origins=("FR",))) == [
        *BASE, "business_licence", "import_declaration", "reexport_approval"]


@pytest.mark.parametrize(("destination", "origins"), [
    ("US", ("TW",)), ("SG", ("US",)), ("US", ("US",)), ("CN", ("JP",))])
def test_it_never_requires_the_import_certificate(applicant, destination, origins):
    # 若無則免附: the SHTC import certificate copy of a re-export only if there is one.
    assert "import_certificate" not in required(
        registered(applicant, destination=destination, origins=origins))


def test_it_takes_the_end_users_website_for_its_profile(applicant):
    case = registered(applicant, url="https://www.sierra-photonics.example/about")
    assert required(case) == ["assurance", "red_flag_affidavit", "catalogue", "transaction"]


@pytest.mark.parametrize("route", [AssuranceRoute.EXHIBITION, AssuranceRoute.SPECIAL_APPROVAL])
def test_it_leaves_the_route_without_assurance_to_its_own_rule(applicant, route):
    case = services.application_create(
        document_type=DocumentType.SHTC_EXPORT, applicant=applicant, actor=applicant,
        items=[item()], destination_country="US", **CASE_DATA)
    ShtcApplication.objects.create(application=case, assurance_route=route)
    assert "end_user_profile" not in required(case)


def test_it_requires_nothing_of_a_case_without_shtc_data(make_case, applicant):
    assert PROCEDURE.required_documents(make_case(applicant)) == []


def test_it_lists_what_is_missing_as_documents_arrive(applicant):
    case = registered(applicant, destination="AE")
    assert [code for code, _l in documents.missing(case)] == [*BASE, "business_licence"]
    attachment_add(application=case, actor=applicant, document_kind="business_licence",
                   upload=SimpleUploadedFile("licence.pdf", pdf_bytes()))
    assert [code for code, _l in documents.missing(case)] == BASE


# --- 查詢 ------------------------------------------------------------------------------------


def query(client, **data):
    return client.get(url("query"), {"document_type": "SE", **data})


def test_it_finds_the_case_by_its_registration_number(client, applicant):
    case = registered(applicant)
    client.force_login(applicant)
    response = query(client, number=case.registration_no.lower())
    assert response.status_code == 200
    assert [row["registration_no"] for row in response.context["page"].rows] == [
        case.registration_no]
    assert f'href="{url("case", case)}"' in response.content.decode()


def test_it_finds_a_filed_case_by_its_receipt_number(client, applicant):
    case = registered(applicant)
    upload_all(case, applicant)
    ShtcApplication.objects.filter(application=case).update(end_use=END_USE)
    case = workflow.transition(application=case, to=Status.INITIAL_REVIEW, actor=applicant)
    client.force_login(applicant)
    response = query(client, number=case.receipt_no)
    assert [row["receipt_no"] for row in response.context["page"].rows] == [case.receipt_no]


def test_it_finds_the_cases_of_a_date_range_in_roc_dates(client, applicant):
    old = registered(applicant)
    Application.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=40))
    new = registered(applicant)
    client.force_login(applicant)
    today = timezone.localdate()
    response = query(client, date_from=dates.to_roc(today - datetime.timedelta(days=7)),
                     date_to=dates.to_roc(today))
    assert [row["registration_no"] for row in response.context["page"].rows] == [
        new.registration_no]
    response = query(client, date_from=dates.to_roc(today - datetime.timedelta(days=60)))
    assert [row["registration_no"] for row in response.context["page"].rows] == [
        new.registration_no, old.registration_no]


def test_it_answers_another_users_number_as_an_unknown_one(client, applicant, other_applicant):
    case = registered(applicant)
    client.force_login(other_applicant)
    theirs = query(client, number=case.registration_no)
    unknown = query(client, number="EEU11599999999")
    assert theirs.status_code == unknown.status_code == 400
    assert codes(theirs, "number") == codes(unknown, "number") == ["not_found"]
    assert theirs.context["form"].errors["number"] == unknown.context["form"].errors["number"]
    assert theirs.context["page"] is None


def test_it_asks_for_a_number_or_dates(client, applicant):
    client.force_login(applicant)
    response = query(client)
    assert response.status_code == 400
    assert [e.code for e in response.context["form"].non_field_errors().as_data()] == [
        "no_criteria"]


def test_it_refuses_a_reversed_date_range(client, applicant):
    client.force_login(applicant)
    response = query(client, date_from="115/03/01", date_to="115/02/01")
    assert codes(response, "date_to") == ["date_order"]


def test_it_lists_the_agents_filings_to_the_agent(client, applicant, agent):
    case = registered(applicant, actor=agent)
    client.force_login(agent)
    response = query(client, number=case.registration_no)
    assert [row["url"] for row in response.context["page"].rows] == [url("case", case)]


def test_it_reads_the_list_in_a_fixed_number_of_queries(client, applicant):
    client.force_login(applicant)
    registered(applicant)
    today = dates.to_roc(timezone.localdate())
    with CaptureQueriesContext(connection) as one:
        query(client, date_from=today)
    for _ in range(4):
        registered(applicant)
    with CaptureQueriesContext(connection) as five:
        response = query(client, date_from=today)
    assert len(response.context["page"].rows) == 5
    assert len(five) == len(one)


def test_it_pages_a_long_list(client, applicant, monkeypatch):
    from shtc import filing_views

    monkeypatch.setattr(filing_views, "CASES_PER_PAGE", 2)
    for _ in range(3):
        registered(applicant)
    client.force_login(applicant)
    today = dates.to_roc(timezone.localdate())
    first = query(client, date_from=today)
    assert len(first.context["page"].rows) == 2 and first.context["page"].has_next()
    second = query(client, date_from=today, page="2")
    assert len(second.context["page"].rows) == 1


# --- the upload page ----------------------------------------------------------------------


def test_it_shows_the_case_and_what_is_missing(client, applicant):
    case = registered(applicant, destination="CN", origins=("US",))
    client.force_login(applicant)
    response = client.get(url("case", case))
    assert response.status_code == 200
    html = response.content.decode()
    assert case.registration_no in html
    assert 'data-kind="business_licence" data-uploaded="false"' in html
    assert 'data-kind="reexport_approval" data-uploaded="false"' in html
    kinds = [code for code, _label in response.context["upload_form"].fields[
        "document_kind"].choices if code]
    assert kinds == [*BASE, "business_licence", "import_declaration", "import_certificate",
                     "reexport_approval"]  # SHTC-2's drop-down
    assert 'data-testid="apply"' in html and 'data-testid="cancel"' in html


def test_it_reads_the_upload_page_in_a_fixed_number_of_queries(client, applicant):
    small = registered(applicant, destination="SG", origins=("US",))
    large = registered(applicant, destination="SG", origins=("US", "DE", "JP", "TW"))
    upload_all(large, applicant)
    client.force_login(applicant)
    client.get(url("case", small))  # the country names, read once per process and cached
    counts = []
    for case in (small, large):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url("case", case)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_it_uploads_a_document(client, applicant):
    case = registered(applicant)
    client.force_login(applicant)
    response = client.post(url("case", case), {
        "upload": "1", "document_kind": "catalogue",
        "file": SimpleUploadedFile("catalogue.pdf", pdf_bytes())})
    assert response.status_code == 302 and response.url == url("case", case)
    attachment = Attachment.objects.get(application=case)
    assert attachment.document_kind == "catalogue"
    page = client.get(url("case", case)).content.decode()
    assert 'data-kind="catalogue" data-uploaded="true"' in page
    assert reverse("permits:attachment_download", args=[attachment.pk]) in page


def test_it_shows_a_refused_file_next_to_the_field(client, applicant, private_root):
    case = registered(applicant)
    client.force_login(applicant)
    response = client.post(url("case", case), {
        "upload": "1", "document_kind": "catalogue",
        "file": SimpleUploadedFile("catalogue.pdf", b"MZ\x90\x00 not a pdf")})
    assert response.status_code == 400
    assert codes(response, "file", "upload_form") == ["type_not_allowed"]
    assert response.context["upload_form"]["document_kind"].value() == "catalogue"
    assert 'aria-describedby' in response.content.decode()
    assert not Attachment.objects.exists()
    assert not [path for path in private_root.rglob("*") if path.is_file()]


def test_it_refuses_a_kind_outside_the_list(client, applicant):
    case = registered(applicant)
    client.force_login(applicant)
    response = client.post(url("case", case), {
        "upload": "1", "document_kind": "supplement",
        "file": SimpleUploadedFile("x.pdf", pdf_bytes())})
    assert response.status_code == 400
    assert codes(response, "document_kind", "upload_form") == ["invalid_choice"]
    assert not Attachment.objects.exists()


def test_it_takes_the_end_users_website_instead_of_the_profile(client, applicant):
    case = registered(applicant)
    client.force_login(applicant)
    response = client.post(url("case", case), {"save_url": "1",
                                                "end_user_url": "www.sierra.example/en"})
    assert response.status_code == 302
    assert ShtcApplication.objects.get(application=case).end_user_url == \
        "https://www.sierra.example/en"
    assert "end_user_profile" not in missing(case)
    client.post(url("case", case), {"save_url": "1", "end_user_url": ""})
    assert "end_user_profile" in missing(case)


@pytest.mark.parametrize(("value", "code"), [
    ("ftp://files.example/profile", "url_scheme"),
    ("javascript:alert(1)", "invalid"),
    ("https://" + "a" * 300 + ".example", "max_length"),
    ("not a web address", "invalid"),
])
def test_it_refuses_a_bad_website(client, applicant, value, code):
    case = registered(applicant)
    client.force_login(applicant)
    response = client.post(url("case", case), {"save_url": "1", "end_user_url": value})
    assert response.status_code == 400
    assert code in codes(response, "end_user_url", "url_form")
    assert response.context["url_form"]["end_user_url"].value() == value
    assert ShtcApplication.objects.get(application=case).end_user_url == ""


def test_it_takes_uploads_in_supplement_too(client, applicant, reviewer):
    case = registered(applicant)
    upload_all(case, applicant)
    ShtcApplication.objects.filter(application=case).update(end_use=END_USE)
    workflow.transition(application=case, to=Status.INITIAL_REVIEW, actor=applicant)
    workflow.transition(application=case, to=Status.SUPPLEMENT, actor=reviewer,
                        note="請補附產品英文型錄。")
    client.force_login(applicant)
    page = client.get(url("case", case))
    assert page.context["upload_form"] is not None and page.context["may_resubmit"]
    assert not page.context["may_file"]
    response = client.post(url("case", case), {
        "upload": "1", "document_kind": "supplement",
        "file": SimpleUploadedFile("catalogue-v2.pdf", pdf_bytes())})
    assert response.status_code == 302
    assert Attachment.objects.filter(application=case, document_kind="supplement").exists()


def test_it_offers_no_upload_under_review_and_refuses_a_crafted_one(client, applicant):
    case = registered(applicant)
    upload_all(case, applicant)
    ShtcApplication.objects.filter(application=case).update(end_use=END_USE)
    workflow.transition(application=case, to=Status.INITIAL_REVIEW, actor=applicant)
    count = Attachment.objects.count()
    client.force_login(applicant)
    page = client.get(url("case", case))
    assert page.context["upload_form"] is None
    html = page.content.decode()
    # The section's number where cancelling is explained; the footer keeps the service line.
    assert "02-2351-0271" in html
    footer = html[html.index("<footer"):]
    assert settings.BUREAU_SERVICE_PHONE in footer and "02-2351-0271" not in footer
    response = client.post(url("case", case), {
        "upload": "1", "document_kind": "catalogue",
        "file": SimpleUploadedFile("late.pdf", pdf_bytes())})
    assert response.status_code == 400
    assert [e.code for e in response.context["upload_form"].non_field_errors().as_data()] == [
        "not_open"]
    assert Attachment.objects.count() == count


# --- 登錄最終用途並申請 → 案件申請 ------------------------------------------------------------


def file(client, case, end_use=END_USE):
    return client.post(url("apply", case), {"end_use": end_use})


def test_it_files_the_case_with_its_end_use(client, applicant):
    case = registered(applicant)
    upload_all(case, applicant)
    mails = OutboundEmail.objects.count()
    client.force_login(applicant)
    assert client.get(url("apply", case)).status_code == 200
    response = file(client, case, "  Wafer  inspection in the end user's fab.\n")
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.INITIAL_REVIEW
    assert case.receipt_no.startswith("RSE") and len(case.receipt_no) == 14
    assert case.shtc.end_use == "Wafer inspection in the end user's fab."
    assert [(c.old, c.new) for c in case.status_changes.all()][-1] == (
        Status.REGISTERED, Status.INITIAL_REVIEW)
    mail = OutboundEmail.objects.order_by("-pk").first()
    assert OutboundEmail.objects.count() == mails + 1
    assert mail.to == "export@anxin.example" and case.receipt_no in mail.subject + mail.body


def test_it_refuses_to_file_with_documents_missing(client, applicant):
    case = registered(applicant, destination="CN")
    upload_all(case, applicant)
    Attachment.objects.filter(application=case, document_kind="business_licence").delete()
    client.force_login(applicant)
    response = file(client, case)
    assert response.status_code == 400
    errors = response.context["form"].non_field_errors().as_data()
    assert [e.code for e in errors] == ["procedure"]
    with translation.override("zh-hant"):  # the page's language: the missing one named
        assert str(dict(DOCUMENT_KINDS)["business_licence"]) in str(errors[0].message)
    assert response.context["form"]["end_use"].value() == END_USE  # the typing kept
    case.refresh_from_db()
    assert case.status == Status.REGISTERED and case.receipt_no is None
    assert case.shtc.end_use == ""  # nothing half-saved
    assert case.status_changes.count() == 1


def test_it_requires_the_end_use(client, applicant):
    case = registered(applicant)
    upload_all(case, applicant)
    client.force_login(applicant)
    for blank in ("", "   ", "\u200b"):
        response = file(client, case, blank)
        assert response.status_code == 400
        assert codes(response, "end_use") == ["required"]
    case.refresh_from_db()
    assert case.status == Status.REGISTERED


@pytest.mark.parametrize(("value", "code"), [
    ("用於半導體晶圓檢測", "not_english"),
    ("Wafer inspection 晶圓檢測", "not_english"),
    ("----", "no_letters"),
    ("a" * (END_USE_MAX_LENGTH + 1), "max_length"),
    ("Wafer\x00inspection", "null_characters_not_allowed"),
])
def test_it_takes_the_end_use_in_english_only(client, applicant, value, code):
    case = registered(applicant)
    upload_all(case, applicant)
    client.force_login(applicant)
    response = file(client, case, value)
    assert response.status_code == 400
    assert codes(response, "end_use") == [code]
    case.refresh_from_db()
    assert case.status == Status.REGISTERED and case.shtc.end_use == ""


def test_it_reads_full_width_letters_as_english(client, applicant):
    case = registered(applicant)
    upload_all(case, applicant)
    client.force_login(applicant)
    assert file(client, case, "Ｗａｆｅｒ inspection").status_code == 302
    case.refresh_from_db()
    assert case.shtc.end_use == "Wafer inspection"


def test_it_checks_the_end_use_under_the_lock_of_the_move(applicant):
    # Whoever moves the case (not only the page): 案件申請 needs the end use (SHTC-4).
    case = registered(applicant)
    upload_all(case, applicant)
    with pytest.raises(workflow.TransitionNotAllowed) as error:
        workflow.transition(application=case, to=Status.INITIAL_REVIEW, actor=applicant)
    assert error.value.code == "procedure"
    case.refresh_from_db()
    assert case.status == Status.REGISTERED


def test_it_refuses_to_file_a_case_under_review(client, applicant):
    case = registered(applicant)
    upload_all(case, applicant)
    client.force_login(applicant)
    assert file(client, case).status_code == 302
    case.refresh_from_db()
    receipt_no = case.receipt_no
    page = client.get(url("apply", case))
    assert page.status_code == 200 and not page.context["may_file"]
    assert "02-2351-0271" in page.content.decode()
    response = file(client, case, "Something else entirely.")  # a crafted POST
    assert response.status_code == 400
    assert [e.code for e in response.context["form"].non_field_errors().as_data()] == [
        "not_registered"]
    case.refresh_from_db()
    assert case.receipt_no == receipt_no and case.shtc.end_use == END_USE
    assert case.status == Status.INITIAL_REVIEW


def test_it_lets_the_agent_file_for_the_applicant(client, applicant, agent):
    case = registered(applicant, actor=agent)
    upload_all(case, agent)
    client.force_login(agent)
    assert file(client, case).status_code == 302
    case.refresh_from_db()
    assert case.status == Status.INITIAL_REVIEW
    assert case.status_changes.last().actor == agent


# --- 取消申請 -------------------------------------------------------------------------------


def test_it_cancels_a_registered_case_after_confirmation(client, applicant):
    case = registered(applicant)
    client.force_login(applicant)
    confirm = client.get(url("cancel", case))
    assert confirm.status_code == 200 and 'data-testid="confirm-cancel"' in \
        confirm.content.decode()
    case.refresh_from_db()
    assert case.status == Status.REGISTERED  # asking changes nothing
    response = client.post(url("cancel", case))
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.CANCELLED
    assert OutboundEmail.objects.filter(to="export@anxin.example").exists()


def test_it_lets_the_agent_cancel_and_the_applicant_see_it(client, applicant, agent):
    case = registered(applicant, actor=agent)
    client.force_login(agent)
    assert client.post(url("cancel", case)).status_code == 302
    case.refresh_from_db()
    assert case.status == Status.CANCELLED
    client.force_login(applicant)
    page = client.get(url("case", case))
    assert page.status_code == 200 and page.context["closed"]
    assert not page.context["may_file"]


def test_it_gives_the_phone_number_for_a_case_under_review(client, applicant):
    case = registered(applicant)
    upload_all(case, applicant)
    client.force_login(applicant)
    file(client, case)
    page = client.get(url("cancel", case))
    html = page.content.decode()
    assert page.status_code == 200 and "02-2351-0271" in html
    assert 'data-testid="confirm-cancel"' not in html
    response = client.post(url("cancel", case))  # crafted
    assert response.status_code == 400
    assert "02-2351-0271" in response.context["error"]
    case.refresh_from_db()
    assert case.status == Status.INITIAL_REVIEW


def test_it_refuses_to_cancel_twice(client, applicant):
    case = registered(applicant)
    client.force_login(applicant)
    client.post(url("cancel", case))
    response = client.post(url("cancel", case))
    assert response.status_code == 400
    case.refresh_from_db()
    assert case.status == Status.CANCELLED and case.status_changes.count() == 2


# --- who may ------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["case", "apply", "cancel"])
def test_it_hides_the_pages_from_another_applicant(client, applicant, other_applicant, page):
    case = registered(applicant)
    client.force_login(other_applicant)
    assert client.get(url(page, case)).status_code == 404
    assert client.post(url(page, case), {"end_use": END_USE, "upload": "1"}).status_code == 404
    case.refresh_from_db()
    assert case.status == Status.REGISTERED


@pytest.mark.parametrize("page", ["query", "case", "apply", "cancel"])
def test_it_leaves_the_bureau_to_the_admin(client, applicant, reviewer, page):
    case = registered(applicant)
    client.force_login(reviewer)
    assert client.get(url(page, None if page == "query" else case)).status_code == 403


def test_it_does_not_open_a_draft(client, applicant):
    case = services.application_create(document_type=DocumentType.SHTC_EXPORT,
                                       applicant=applicant, actor=applicant, items=[item()],
                                       **CASE_DATA)
    client.force_login(applicant)
    assert client.get(url("case", case)).status_code == 404


# --- the menu and the case page --------------------------------------------------------------


def test_it_is_on_the_menu_after_9_1_1(applicant):
    with translation.override("en"):
        entries = [entry for _section, listed in menu.sections_for(applicant)
                   for entry in listed if entry.url_name.startswith("shtc:")]
        labels = [str(entry.label) for entry in entries]
    assert [entry.url_name for entry in entries][:2] == ["shtc:application_basic",
                                                         "shtc:filing_query"]
    assert labels[1] == ("9-1-2 Not to Iran or North Korea: document upload and SHTC export "
                         "permit application / cancellation")
    with translation.override("zh-hant"):
        assert str(entries[1].label) == \
            "9-1-2 非輸往伊朗北韓-附件上傳暨戰略性高科技輸出許可申請/取消作業"


def test_it_is_linked_from_the_case_page_while_the_applicant_holds_the_case(
        client, applicant, reviewer):
    case = registered(applicant)
    client.force_login(applicant)
    detail = reverse("permits:application_detail", args=[case.pk])
    assert f'href="{url("case", case)}"' in client.get(detail).content.decode()
    upload_all(case, applicant)
    ShtcApplication.objects.filter(application=case).update(end_use=END_USE)
    workflow.transition(application=case, to=Status.INITIAL_REVIEW, actor=applicant)
    assert f'href="{url("case", case)}"' not in client.get(detail).content.decode()
    workflow.transition(application=case, to=Status.SUPPLEMENT, actor=reviewer, note="補件")
    assert f'href="{url("case", case)}"' in client.get(detail).content.decode()


# --- the whole of 步驟8, after 9-1-1's pages --------------------------------------------------


def test_it_follows_step_8_after_9_1_1(client, agent, applicant):
    from tests.shtc.assurance import AGENT, ITEM

    client.force_login(agent)
    case = register(client, basic={**AGENT, "assurance_route": "assurance"},
                    items=[{**ITEM, "origin_country": "DE"}])
    # 輸入收件/登錄編號後，點選查詢 … 點選收件編號進入該案件檔案上傳頁面
    found = query(client, number=case.registration_no)
    link = found.context["page"].rows[0]["url"]
    page = client.get(link)
    assert page.status_code == 200
    missing = [code for code, _label, uploaded in page.context["required_documents"]
               if not uploaded]
    assert missing == [*BASE, "import_declaration", "reexport_approval"]
    # 點選上傳檔案上傳相對應文件
    for code in missing:
        response = client.post(link, {"upload": "1", "document_kind": code,
                                      "file": SimpleUploadedFile(f"{code}.pdf", pdf_bytes())})
        assert response.status_code == 302
    # 點選登錄最終用途並申請輸入 … 點選案件申請以送出本申請案
    assert file(client, case).status_code == 302
    case.refresh_from_db()
    assert case.status == Status.INITIAL_REVIEW and case.receipt_no
    # The applicant sees it filed too.
    client.force_login(applicant)
    rows = query(client, number=case.receipt_no).context["page"].rows
    assert [row["status"] for row in rows] == [Status.INITIAL_REVIEW.label]


# --- without an end-use assurance (SHTC-5): filed by 申請, documents after ------------------


def filed_without_assurance(applicant, route=AssuranceRoute.EXHIBITION):
    """A case as 9-1-1's 申請 leaves it without an assurance: straight to 初審中, its documents
    still to come in 9-1-2 (manual §1.1.1.2.2 步驟7)."""
    case = services.application_create(
        document_type=DocumentType.SHTC_EXPORT, applicant=applicant, actor=applicant,
        items=[item()], destination_country="US", **CASE_DATA)
    ShtcApplication.objects.create(application=case, assurance_route=route, end_use=END_USE)
    return workflow.transition(application=case, to=Status.INITIAL_REVIEW, actor=applicant)


def under_review_with_assurance(applicant):
    case = registered(applicant)
    upload_all(case, applicant)
    ShtcApplication.objects.filter(application=case).update(end_use=END_USE)
    return workflow.transition(application=case, to=Status.INITIAL_REVIEW, actor=applicant)


def test_it_lists_a_case_filed_without_an_assurance_as_open_for_documents(client, applicant):
    without = filed_without_assurance(applicant)
    with_assurance = under_review_with_assurance(applicant)
    client.force_login(applicant)
    rows = {row["receipt_no"]: row for row in query(
        client, date_from=dates.to_roc(timezone.localdate())).context["page"].rows}
    assert rows[without.receipt_no]["uploads_open"] is True
    assert rows[with_assurance.receipt_no]["uploads_open"] is False
    html = query(client, number=without.receipt_no).content.decode()
    assert 'data-testid="row-upload"' in html and f'href="{url("case", without)}"' in html


def test_it_reads_a_list_of_cases_without_assurance_in_a_fixed_number_of_queries(
        client, applicant):
    client.force_login(applicant)
    filed_without_assurance(applicant)
    today = dates.to_roc(timezone.localdate())
    with CaptureQueriesContext(connection) as one:
        query(client, date_from=today)
    for route in (AssuranceRoute.EXHIBITION, AssuranceRoute.SPECIAL_APPROVAL):
        filed_without_assurance(applicant, route)
    under_review_with_assurance(applicant)
    registered(applicant)
    with CaptureQueriesContext(connection) as five:
        response = query(client, date_from=today)
    assert len(response.context["page"].rows) == 5
    assert len(five) == len(one)


@pytest.mark.parametrize("route", [AssuranceRoute.EXHIBITION, AssuranceRoute.SPECIAL_APPROVAL])
def test_it_takes_the_documents_of_a_case_filed_without_an_assurance(client, applicant,
                                                                     route):
    case = filed_without_assurance(applicant, route)
    client.force_login(applicant)
    page = client.get(url("case", case))
    assert page.status_code == 200
    kinds = [code for code, _label in page.context["upload_form"].fields[
        "document_kind"].choices if code]
    assert "exhibition_brief" in kinds and "special_approval" in kinds
    assert "reimport_proof" not in kinds  # only once approved (SHTC-5 (1))
    assert page.context["url_form"] is None  # the website stands in for the assurance route's
    html = page.content.decode()
    # Already filed: nothing to file or cancel here; the bureau cancels on the phone.
    assert not page.context["may_file"] and not page.context["may_resubmit"]
    for button in ('data-testid="apply"', 'data-testid="cancel"', 'data-testid="resubmit"'):
        assert button not in html
    assert 'data-testid="filed-without-assurance"' in html and "02-2351-0271" in html
    kind = "catalogue" if route == AssuranceRoute.EXHIBITION else "special_approval"
    assert f'data-kind="{kind}" data-uploaded="false"' in html
    response = client.post(url("case", case), {
        "upload": "1", "document_kind": kind,
        "file": SimpleUploadedFile(f"{kind}.pdf", pdf_bytes())})
    assert response.status_code == 302 and response.url == url("case", case)
    assert Attachment.objects.get(application=case).document_kind == kind
    case.refresh_from_db()
    assert case.status == Status.INITIAL_REVIEW and case.status_changes.count() == 1
    assert f'data-kind="{kind}" data-uploaded="true"' in \
        client.get(url("case", case)).content.decode()


def test_it_refuses_the_re_import_proof_before_approval(client, applicant):
    case = filed_without_assurance(applicant)
    client.force_login(applicant)
    response = client.post(url("case", case), {
        "upload": "1", "document_kind": "reimport_proof",
        "file": SimpleUploadedFile("proof.pdf", pdf_bytes())})
    assert response.status_code == 400
    assert codes(response, "document_kind", "upload_form") == ["invalid_choice"]
    assert not Attachment.objects.exists()


def test_it_refuses_to_file_or_cancel_a_case_filed_without_an_assurance(client, applicant):
    case = filed_without_assurance(applicant)
    client.force_login(applicant)
    response = file(client, case, "Something else entirely.")
    assert response.status_code == 400
    assert [e.code for e in response.context["form"].non_field_errors().as_data()] == [
        "not_registered"]
    response = client.post(url("cancel", case))
    assert response.status_code == 400 and "02-2351-0271" in response.context["error"]
    case.refresh_from_db()
    assert case.status == Status.INITIAL_REVIEW and case.shtc.end_use == END_USE


def test_it_hides_a_case_filed_without_an_assurance_from_another_applicant(
        client, applicant, other_applicant):
    case = filed_without_assurance(applicant)
    client.force_login(other_applicant)
    response = client.post(url("case", case), {
        "upload": "1", "document_kind": "catalogue",
        "file": SimpleUploadedFile("catalogue.pdf", pdf_bytes())})
    assert response.status_code == 404
    assert client.get(url("case", case)).status_code == 404
    assert not Attachment.objects.exists()


def test_it_offers_only_the_re_import_proof_once_an_exhibition_permit_is_approved(
        client, applicant, reviewer):
    case = filed_without_assurance(applicant)
    approve(case, reviewer)
    client.force_login(applicant)
    page = client.get(url("case", case))
    kinds = [code for code, _label in page.context["upload_form"].fields[
        "document_kind"].choices if code]
    assert kinds == ["reimport_proof"]
    assert not page.context["filed_without_assurance"]  # the bureau no longer reviews it


def test_it_closes_the_upload_of_an_approved_special_case(client, applicant, reviewer):
    case = filed_without_assurance(applicant, AssuranceRoute.SPECIAL_APPROVAL)
    approve(case, reviewer)
    client.force_login(applicant)
    page = client.get(url("case", case))
    assert page.context["upload_form"] is None
    detail = client.get(reverse("permits:application_detail", args=[case.pk]))
    assert f'href="{url("case", case)}"' not in detail.content.decode()


def test_it_links_9_1_2_from_the_page_of_a_case_filed_without_an_assurance(
        client, applicant, reviewer):
    case = filed_without_assurance(applicant)
    client.force_login(applicant)
    detail = reverse("permits:application_detail", args=[case.pk])
    assert f'href="{url("case", case)}"' in client.get(detail).content.decode()
    workflow.transition(application=case, to=Status.SECOND_REVIEW, actor=reviewer)
    # 複審中: the procedure takes no more documents (upload_kinds), so no link.
    assert f'href="{url("case", case)}"' not in client.get(detail).content.decode()
