"""The SHTC manual §1.1.1.2.1 (a case with an end-use assurance) in Chromium, in the portal's
words, from login to the printed permit:

    步驟1 登入 → 步驟2 功能選單 → 9-1-1 → 步驟3 基本資料 (買方, 收貨人 同買方資料, 最終使用者)
    → 下一步 → 步驟5 新增貨品明細 → 確認 → 登錄並列印最終用途保證書 (登錄編號)
    → 步驟6/7 the buyer-version assurance and the red-flag affidavit from the case page
    → 步驟8 9-1-2: 查詢 by 登錄編號, click it, 上傳檔案 for each required document,
      登錄最終用途並申請, 案件申請 (收件編號, 初審中)
    → a reviewer's 准件結案 in the admin, the validity rule on the reviewer's panel (SHTC-14)
    → the applicant sees 准件結案 and prints the permit (列印).

Once as the exporter itself, once as a customs broker filing for it; the exporter then sees
the broker's case in 我的案件 too."""

import re
import subprocess

import pytest

from permits.models import Application, Status
from shtc.models import Port
from tests.approvals import SECOND_REVIEWER_PASSWORD, second_reviewer
from tests.permits.test_attachments import pdf_bytes
from tests.services import log_in, orm, require_program, seed_shtc
from tests.shtc.assurance import AGENT, BASIC, ITEM
from tests.shtc.test_no_assurance_browser import fill

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"
REVIEWER_PASSWORD = "reviewer-password-1"
END_USE = "Wafer inspection in the end user's semiconductor fab in Tucson, Arizona."



def pdf_text(path):
    """What pdftotext reads in the PDF at `path` (a real PDF, or pdftotext fails)."""
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


def open_menu_entry(page, number):
    """功能選單, then the entry whose label starts with the manual's menu number."""
    page.locator("header").get_by_role("link", name="功能選單").click()
    page.wait_for_load_state()
    page.get_by_test_id("menu").get_by_role("link", name=re.compile(f"^{number} ")).click()
    page.wait_for_load_state()


def download(page, link, folder):
    """Click `link` and keep the file it downloads; its path."""
    with page.expect_download() as info:
        link.click()
    target = folder / info.value.suggested_filename
    info.value.save_as(target)
    return target


def register_assurance(page, *, as_agent):
    """9-1-1 steps 2 to 5: the case 登錄中 with its 登錄編號 (returned)."""
    open_menu_entry(page, "9-1-1")
    assert page.locator("#id_assurance_route_0").is_checked()  # with an assurance: the default
    basic = dict(BASIC)
    basic.pop("consignee-same_as_buyer")
    basic.pop("partial_shipment")
    fill(page, {**basic, **(AGENT if as_agent else {})})
    page.get_by_role("radio", name="分批", exact=True).check()
    page.get_by_test_id("party-consignee").get_by_label("同買方資料").check()
    page.get_by_role("button", name="下一步").click()
    page.wait_for_load_state()
    assert page.locator(".invalid-feedback, .alert-danger").all_inner_texts() == []
    assert "Sierra Photonics LLC" in page.content()
    page.get_by_role("link", name="新增貨品明細").click()
    page.wait_for_load_state()
    fill(page, ITEM)
    page.get_by_role("button", name="確認").click()
    page.wait_for_load_state()
    assert ITEM["description"] in page.locator("main").inner_text()  # 項次 1
    page.get_by_role("button", name="登錄並列印最終用途保證書").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("status").inner_text() == "登錄中"
    registration_no = page.locator("h1").inner_text().strip()
    assert re.fullmatch(r"E[A-Z0-9]{13}", registration_no), registration_no
    return registration_no


def print_documents(page, registration_no, folder):
    """Steps 6 and 7: the buyer's version of the assurance and the affidavit, as PDFs."""
    assurance = download(page, page.get_by_test_id("link-assurance-buyer"), folder)
    affidavit = download(page, page.get_by_test_id("link-red-flag-affidavit"), folder)
    assurance_text, affidavit_text = pdf_text(assurance), pdf_text(affidavit)
    assert registration_no in assurance_text and "WRITTEN ASSURANCE" in assurance_text
    assert "Pacific Optics Inc." in assurance_text
    assert registration_no in affidavit_text


def upload_required(page, folder):
    """On a case's upload page: 上傳檔案 for each required document still missing, SHTC-2
    items 1 to 5 (a one-page PDF each), until none is."""
    missing = page.locator("[data-testid=required-documents] [data-uploaded=false]")
    kinds = [missing.nth(i).get_attribute("data-kind") for i in range(missing.count())]
    assert kinds == ["assurance", "red_flag_affidavit", "catalogue", "transaction",
                     "end_user_profile"]
    for kind in kinds:
        document = folder / f"{kind}.pdf"
        document.write_bytes(pdf_bytes())
        page.locator("#id_document_kind").select_option(kind)
        page.locator("#id_file").set_input_files(str(document))
        page.get_by_test_id("upload").get_by_role("button", name="上傳檔案").click()
        page.wait_for_load_state()
        assert page.locator(f"[data-testid=required-documents] [data-kind={kind}]"
                            ).get_attribute("data-uploaded") == "true"
    assert page.locator("[data-testid=required-documents] [data-uploaded=false]").count() == 0


def file_in_9_1_2(page, registration_no, folder):
    """Step 8: 查詢, the number, 上傳檔案 per required document, 登錄最終用途並申請, 案件申請.
    Returns the 收件編號."""
    open_menu_entry(page, "9-1-2")
    page.locator("#id_number").fill(registration_no)
    page.get_by_role("button", name="查詢").click()
    page.wait_for_load_state()
    page.get_by_test_id("filing-cases").get_by_role("link", name=registration_no,
                                                    exact=True).click()
    page.wait_for_load_state()
    upload_required(page, folder)
    page.get_by_role("link", name="登錄最終用途並申請").click()
    page.wait_for_load_state()
    page.locator("#id_end_use").fill(END_USE)
    page.get_by_role("button", name="案件申請").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("status").inner_text() == "初審中"
    receipt_no = page.locator("h1").inner_text().strip()
    assert re.fullmatch(r"RSE[0-9]{11}", receipt_no), receipt_no
    return receipt_no


def approve_in_the_admin(page, live_server, reviewer, case_pk):
    """The reviewer takes the case to 複審中, and a second, senior reviewer makes its 准件結案
    (four eyes, issue 14); the panel then says which validity rule applied (SHTC-14)."""
    case_url = f"/admin/permits/application/{case_pk}/change/"
    page.context.clear_cookies()
    log_in(page, f"{live_server.url}/admin/login/?next={case_url}", reviewer.identifier,
           REVIEWER_PASSWORD)
    validity = page.get_by_test_id("shtc-validity")
    assert validity.get_attribute("data-state") == "computed"
    assert validity.get_attribute("data-months") == "24"  # the US: all four regimes
    assert page.get_by_test_id("shtc-end-use").inner_text().strip() == END_USE
    page.locator("[data-move=second_review]").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("review-status").inner_text() == "複審中"
    assert page.locator("[data-move=approved]").count() == 0
    page.context.clear_cookies()
    senior = orm(second_reviewer)
    log_in(page, f"{live_server.url}/admin/login/?next={case_url}", senior.identifier,
           SECOND_REVIEWER_PASSWORD)
    page.locator("[data-move=approved]").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("review-status").inner_text() == "准件結案"
    validity = page.get_by_test_id("shtc-validity")
    assert validity.get_attribute("data-state") == "recorded"
    assert validity.get_attribute("data-months") == "24"
    text = validity.inner_text()
    assert "SHTC-14 (1)" in text and ("瓦聖納協議" in text or "Wassenaar" in text), text
    page.context.clear_cookies()


def print_permit(page, folder, case):
    """列印 on the case page: the permit PDF with its number and the export control number."""
    assert page.get_by_test_id("status").inner_text() == "准件結案"
    permit_no = page.get_by_test_id("permit-no").inner_text().strip()
    assert permit_no == case.issued_version.permit.permit_no
    href = page.get_by_role("link", name="列印").get_attribute("href")
    response = page.context.request.get(page.url.split("/", 3)[0] + "//"
                                        + page.url.split("/", 3)[2] + href)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    permit = folder / "permit.pdf"
    permit.write_bytes(response.body())
    text = pdf_text(permit)
    assert permit_no in text and ITEM["control_no"] in text


def the_case(registration_no):
    return Application.objects.select_related("issued_version__permit").get(
        registration_no=registration_no)


def set_up(reviewer, settings, tmp_path):
    require_program("pdftotext", "poppler-utils")
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.PRIVATE_MEDIA_ROOT.mkdir()
    orm(seed_shtc)
    # The transit port too: an earlier transactional test may have emptied the port table.
    orm(lambda: Port.objects.get_or_create(code=BASIC["transit_port"], defaults={
        "country": "US", "name": "Los Angeles", "edition": "test"}))
    orm(lambda: (reviewer.set_password(REVIEWER_PASSWORD), reviewer.save()))


def test_it_follows_the_manual_as_the_exporter(applicant, reviewer, live_server, page,
                                               settings, tmp_path):
    set_up(reviewer, settings, tmp_path)
    log_in(page, f"{live_server.url}/accounts/login/", applicant.identifier, PASSWORD)
    registration_no = register_assurance(page, as_agent=False)
    print_documents(page, registration_no, tmp_path)
    receipt_no = file_in_9_1_2(page, registration_no, tmp_path)
    case = orm(the_case, registration_no)
    assert (case.status, case.receipt_no, case.applicant_id, case.agent_id) == (
        Status.INITIAL_REVIEW, receipt_no, applicant.pk, None)

    approve_in_the_admin(page, live_server, reviewer, case.pk)

    log_in(page, f"{live_server.url}/accounts/login/", applicant.identifier, PASSWORD)
    my_cases = page.get_by_test_id("my-cases")
    assert "准件結案" in my_cases.inner_text()
    my_cases.get_by_role("link", name=receipt_no).click()
    page.wait_for_load_state()
    print_permit(page, tmp_path, orm(the_case, registration_no))


def test_it_follows_the_manual_as_the_customs_broker(applicant, agent, reviewer, live_server,
                                                     page, settings, tmp_path):
    set_up(reviewer, settings, tmp_path)
    log_in(page, f"{live_server.url}/accounts/login/", agent.identifier, PASSWORD)
    registration_no = register_assurance(page, as_agent=True)
    print_documents(page, registration_no, tmp_path)
    receipt_no = file_in_9_1_2(page, registration_no, tmp_path)
    case = orm(the_case, registration_no)
    assert (case.applicant_id, case.agent_id) == (applicant.pk, agent.pk)

    approve_in_the_admin(page, live_server, reviewer, case.pk)

    # The broker sees the decision and prints the permit …
    log_in(page, f"{live_server.url}/accounts/login/", agent.identifier, PASSWORD)
    page.get_by_test_id("my-cases").get_by_role("link", name=receipt_no).click()
    page.wait_for_load_state()
    print_permit(page, tmp_path, orm(the_case, registration_no))
    page.context.clear_cookies()
    # … and so does the exporter it filed for, in 我的案件.
    log_in(page, f"{live_server.url}/accounts/login/", applicant.identifier, PASSWORD)
    my_cases = page.get_by_test_id("my-cases")
    assert "准件結案" in my_cases.inner_text()
    my_cases.get_by_role("link", name=receipt_no).click()
    page.wait_for_load_state()
    print_permit(page, tmp_path, orm(the_case, registration_no))
