"""The SHTC manual §1.1.2 步驟2 to 4 (9-2-1 輸往伊朗北韓-最終用途保證書登錄作業) in Chromium: the
exporter opens 9-2-1 from the menu, fills the basic data with Iran as the destination,
新增貨品明細/基本資料存檔 leads to the goods item, 確認, 附件申請 gives the 登錄編號 (登錄中), and
列印最終用途保證書登錄資料 downloads the registration data (read back with pdftotext) beside
the red-flag affidavit; the entry page then says the assurance is locked, with the bureau's
phone number. The buttons are found by their test ids: their words come from the catalogue."""

import re

import pytest
from django.urls import reverse

from permits.models import Application
from tests.services import log_in, orm, require_program, seed_shtc
from tests.shtc.assurance import ITEM
from tests.shtc.test_assurance_flow_browser import download, open_menu_entry, pdf_text
from tests.shtc.test_no_assurance_browser import fill

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"
BASIC = {"applicant_name_en": "Anxin Technology Co., Ltd.",
         "company_email": "export@anxin.example", "destination_country": "IR",
         "buyer-name": "Tehran Optics Co.", "buyer-address": "12 Valiasr Street, Tehran",
         "buyer-country": "IR",
         "end_user-name": "Persian Photonics Lab", "end_user-address": "5 Azadi Square, Tehran",
         "end_user-country": "IR"}


def register_in_9_2_1(page, basic=BASIC, item=ITEM):
    """9-2-1 steps 2 to 4 from the menu: the basic data, 新增貨品明細/基本資料存檔 on to the
    goods item, 確認, 附件申請. The page is the case's (登錄中); its 登錄編號."""
    open_menu_entry(page, "9-2-1")
    options = page.locator("#id_destination_country option")
    assert [options.nth(i).get_attribute("value") for i in range(options.count())] == [
        "", "IR", "KP"]
    fill(page, basic)
    page.locator("[name='partial_shipment'][value='True']").check()
    page.get_by_test_id("party-consignee").locator("[name='consignee-same_as_buyer']").check()
    page.get_by_test_id("next").click()  # 新增貨品明細/基本資料存檔
    page.wait_for_load_state()
    assert page.locator(".invalid-feedback, .alert-danger").all_inner_texts() == []
    assert page.get_by_test_id("item-form").is_visible()  # on to the first goods item
    fill(page, item)
    page.get_by_test_id("confirm").click()
    page.wait_for_load_state()
    assert item["description"] in page.locator("main").inner_text()
    page.get_by_test_id("apply").click()  # 附件申請
    page.wait_for_load_state()
    assert page.get_by_test_id("status").inner_text() == "登錄中"
    registration_no = page.locator("h1").inner_text().strip()
    assert re.fullmatch(r"EEU[0-9]{11}", registration_no), registration_no
    return registration_no


def test_an_exporter_registers_an_assurance_to_iran_and_prints_it(applicant, live_server,
                                                                   page, tmp_path):
    require_program("pdftotext", "poppler-utils")
    orm(seed_shtc)
    log_in(page, f"{live_server.url}/accounts/login/", applicant.identifier, PASSWORD)
    registration_no = register_in_9_2_1(page)
    assert "02-2351-0271" in page.get_by_test_id("next-step").inner_text()

    registration = download(page, page.get_by_test_id("link-iran-registration"), tmp_path)
    text = pdf_text(registration)
    assert registration_no in text and "WRITTEN ASSURANCE OF END USES" in text
    assert "Tehran Optics Co." in text and "Persian Photonics Lab" in text
    assert "Signature of the exporter" in text and "Signature of the foreign importer" in text
    assert "15,000.00" in text and "USD" in text
    affidavit = download(page, page.get_by_test_id("link-red-flag-affidavit"), tmp_path)
    assert registration_no in pdf_text(affidavit)
    # 取消申請 is not offered, and the entry page says only the bureau reopens it.
    assert page.get_by_test_id("link-filing").count() == 0
    pk = orm(lambda: Application.objects.get(registration_no=registration_no).pk)
    page.goto(f"{live_server.url}{reverse('shtc:iran_assurance_edit', args=[pk])}")
    page.wait_for_load_state()
    locked = page.get_by_test_id("assurance-locked").inner_text()
    assert registration_no in locked and "02-2351-0271" in locked
    assert page.get_by_test_id("basic-form").count() == 0
