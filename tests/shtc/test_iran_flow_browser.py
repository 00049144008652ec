"""The SHTC manual §1.1.2 (輸往伊朗、北韓) in Chromium, in the portal's words, from the end-use
assurance to the decision:

    步驟2 9-2-1 (helper iran's pages) → 步驟3 基本資料, 買方, 收貨人, 最終使用者 →
    步驟4 新增貨品明細/基本資料存檔 → 確認 → 附件申請 (登錄編號)
    → 步驟5 9-2-2: 保證書編號 → 帶入參考資料 → the end user's address completed → 下一步
      → 項次 1: a lower quantity → 確認 → 申請 (收件編號) → 上傳檔案, SHTC-2 items 1 to 5
    → the reviewer: 協查中 preselected (SHTC-13) → 複審中 → 准件結案 in the admin
    → the applicant sees 准件結案 in 我的案件."""

import re

import pytest

from permits.models import Application, Status
from tests.approvals import SECOND_REVIEWER_PASSWORD, second_reviewer
from tests.services import log_in, orm, seed_shtc
from tests.shtc.assurance import ITEM
from tests.shtc.test_assurance_flow_browser import (
    REVIEWER_PASSWORD,
    open_menu_entry,
    upload_required,
)
from tests.shtc.test_iran_assurance_browser import BASIC as IRAN_BASIC
from tests.shtc.test_iran_assurance_browser import register_in_9_2_1

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"
# 9-2-1's basic data with the end user's address only a city: 9-2-2 completes it.
ASSURANCE = {**IRAN_BASIC, "end_user-address": "Tehran"}
END_USER_ADDRESS = "7 Azadi Street, Tehran"


def apply_in_9_2_2(page, registration_no):
    """9-2-2: 保證書編號, 帶入參考資料, the data completed, a quantity lowered, 申請. The
    收件編號 (the page is then the case's upload page)."""
    open_menu_entry(page, "9-2-2")
    assert page.get_by_test_id("basic-form").count() == 0  # the number first
    page.locator("#id_registration_no").fill(registration_no)
    page.get_by_role("button", name="帶入參考資料").click()
    page.wait_for_load_state()
    assert registration_no in page.get_by_test_id("entry-header").inner_text()
    # The assurance's data are loaded; the end user's address is completed here.
    assert page.locator("[name='buyer-name']").input_value() == ASSURANCE["buyer-name"]
    page.locator("[name='end_user-address']").fill(END_USER_ADDRESS)
    page.get_by_role("button", name="下一步").click()
    page.wait_for_load_state()
    assert page.locator(".invalid-feedback, .alert-danger").all_inner_texts() == []
    main = page.locator("main").inner_text()
    assert END_USER_ADDRESS in main and ITEM["description"] in main
    assert page.get_by_test_id("add-item").count() == 0  # no item can be added

    page.get_by_test_id("item-link-1").click()
    page.wait_for_load_state()
    assert page.locator("#id_description").count() == 0  # only the four columns
    page.locator("#id_quantity").fill("11")  # above the assurance's 10
    page.get_by_role("button", name="確認").click()
    page.wait_for_load_state()
    assert "10" in page.locator(".invalid-feedback").first.inner_text()
    page.locator("#id_quantity").fill("6")
    page.get_by_role("button", name="確認").click()
    page.wait_for_load_state()

    page.get_by_role("button", name="申請").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("status").inner_text() == "初審中"
    assert "25" in page.get_by_test_id("consultation-note").inner_text()
    receipt_no = page.locator("h1").inner_text().strip()
    assert re.fullmatch(r"RSE[0-9]{11}", receipt_no), receipt_no
    return receipt_no


def move(page, to, label):
    button = page.locator(f"[data-move={to}]")
    button.click()
    page.wait_for_load_state()
    assert page.get_by_test_id("review-status").inner_text() == label


def review_in_the_admin(page, live_server, reviewer, case_pk):
    """協查中 preselected, then 複審中; 准件結案 by a second, senior reviewer (four eyes)."""
    page.context.clear_cookies()
    case_url = f"/admin/permits/application/{case_pk}/change/"
    log_in(page, f"{live_server.url}/admin/login/?next={case_url}", reviewer.identifier,
           REVIEWER_PASSWORD)
    suggested = page.locator("[data-suggested=yes]")
    assert suggested.count() == 1 and suggested.get_attribute("data-move") == "consultation"
    assert suggested.evaluate("element => element === document.activeElement")
    move(page, "consultation", "協查中")
    assert page.locator("[data-suggested=yes]").count() == 0
    move(page, "second_review", "複審中")
    assert page.locator("[data-move=approved]").count() == 0
    page.context.clear_cookies()
    senior = orm(second_reviewer)
    log_in(page, f"{live_server.url}/admin/login/?next={case_url}", senior.identifier,
           SECOND_REVIEWER_PASSWORD)
    move(page, "approved", "准件結案")
    page.context.clear_cookies()


def test_9_2_1_to_9_2_2_to_consultation_and_approval(applicant, reviewer, live_server, page,
                                                     settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.PRIVATE_MEDIA_ROOT.mkdir()
    orm(seed_shtc)
    orm(lambda: (reviewer.set_password(REVIEWER_PASSWORD), reviewer.save()))
    log_in(page, f"{live_server.url}/accounts/login/", applicant.identifier, PASSWORD)

    registration_no = register_in_9_2_1(page, ASSURANCE)  # helper iran's pages
    receipt_no = apply_in_9_2_2(page, registration_no)
    upload_required(page, tmp_path)  # SHTC-2 items 1 to 5, on the page 申請 led to
    case = orm(lambda: Application.objects.select_related("shtc__assurance").get(
        receipt_no=receipt_no))
    assert case.shtc.assurance.registration_no == registration_no
    assert orm(lambda: str(case.items.get(line_no=1).quantity.normalize())) == "6"

    review_in_the_admin(page, live_server, reviewer, case.pk)

    log_in(page, f"{live_server.url}/accounts/login/", applicant.identifier, PASSWORD)
    my_cases = page.get_by_test_id("my-cases")
    assert "准件結案" in my_cases.inner_text()
    my_cases.get_by_role("link", name=receipt_no).click()
    page.wait_for_load_state()
    assert page.get_by_test_id("status").inner_text() == "准件結案"
    case = orm(lambda: Application.objects.select_related("issued_version").get(pk=case.pk))
    assert case.status == Status.APPROVED and case.issued_version.permit_id
