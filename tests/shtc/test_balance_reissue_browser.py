"""The SHTC manual §1.5 (餘額重簽, SHTC-11) in Chromium, in the portal's words:

    an approved SHTC permit of two items (10 and 5 PCE); customs sends, through its API
    (POST /api/customs/messages), an export declaration citing both items and the release of
    4 of item 1 and all 5 of item 2 → 拾肆 簽審文件註銷或展延 → 註銷, 原證書號碼, 註銷理由,
    帶入參考資料 (the balances: 6 and 0) → 申請 → 9-1-1 opens with 餘額註銷證號 filled in →
    帶入參考資料 → 下一步: item 1 alone, at 6 → 7 refused next to the quantity, 5 taken →
    登錄並列印最終用途保證書 (登錄中, 登錄編號) → the end-use assurance PDF shows 5 PCE
    (pdftotext).

Buttons and labels by the manual's own words (the catalogue's zh-hant)."""

import json
import re

import pytest
from django.urls import reverse

from permits.models import Application, Kind, Permit, PermitState, Status
from reconciliation.models import CustomsClient, LedgerEntry
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_cancellation_flow import column
from tests.reconciliation import helpers
from tests.services import log_in, orm
from tests.shtc.review_cases import ITEM
from tests.shtc.test_assurance_flow_browser import download, pdf_text, set_up

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"
REASON = "買方取消部分訂單，餘量重新申請。"
SECOND = {**ITEM, "description": "Radiation hardened SRAM", "quantity": "5",
          "unit_price": "200"}
DECLARATION = "AA11500000042R"


def customs_token():
    """A customs service account, as a superuser creates it in the admin; its token."""
    account = CustomsClient(name="關務署")
    token = account.new_token()
    account.save()
    return token


def send_to_customs_api(page, live_server, token, messages):
    """POST /api/customs/messages over HTTP as customs' system does (its token, no session);
    the status the answer gives each message."""
    response = page.context.request.post(
        live_server.url + reverse("reconciliation:api_messages"), data=json.dumps(messages),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"})
    assert response.ok, response.text()
    return [result["status"] for result in response.json()]


def test_it_cancels_an_shtc_permit_and_reissues_its_balance(applicant, reviewer, shtc_case,
                                                            live_server, page, settings,
                                                            tmp_path):
    set_up(reviewer, settings, tmp_path)
    case = orm(shtc_case, status=Status.APPROVED, items=[dict(ITEM), dict(SECOND)])
    old = orm(lambda: Permit.objects.get(versions__application=case))

    # Customs: the export declaration citing items 1 and 2, released 4 and 5.
    token = orm(customs_token)
    items = [{"item_no": 1, "tariff_code": ITEM["tariff_code"], "description": "FPGA",
              "quantity": "4", "unit": "PCE", "value": "6000", "currency": "USD",
              "permit_item_no": 1},
             {"item_no": 2, "tariff_code": ITEM["tariff_code"], "description": "SRAM",
              "quantity": "5", "unit": "PCE", "value": "1000", "currency": "USD",
              "permit_item_no": 2}]
    declaration = orm(helpers.declaration, old, number=DECLARATION, items=items)
    release = helpers.release(DECLARATION, items=[{"item_no": 1, "quantity": "4"},
                                                  {"item_no": 2, "quantity": "5"}])
    assert send_to_customs_api(page, live_server, token, [declaration, release]) == [
        "accepted", "accepted"]
    assert orm(lambda: sorted(LedgerEntry.objects.filter(permit=old).values_list(
        "line_no", "quantity"))) == [(1, 4), (2, 5)]

    log_in(page, f"{live_server.url}/accounts/login/", applicant.identifier, PASSWORD)
    # 拾肆 簽審文件註銷或展延 → 註銷, the number and the reason, 帶入參考資料.
    page.get_by_test_id("menu").get_by_role("link", name="簽審文件註銷或展延").click()
    page.wait_for_load_state()
    form = page.get_by_test_id("cancellation")
    form.get_by_label("註銷", exact=True).check()
    page.locator("#id_permit_no").fill(old.permit_no)
    page.locator("#id_reason").fill(REASON)
    form.get_by_role("button", name="帶入參考資料").click()
    page.wait_for_load_state()
    reference = page.get_by_test_id("reference-items")
    assert column(reference, "數量") == ["10", "5"]
    assert column(reference, "餘額") == ["6", "0"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "shtc-cancellation.png", full_page=True)

    # 申請: cancelled at once; 9-1-1 opens with 餘額註銷證號 filled in.
    page.get_by_test_id("cancellation").get_by_role("button", name="申請").click()
    page.wait_for_load_state()
    assert orm(lambda: Permit.objects.get(pk=old.pk).state) == PermitState.REVOKED
    assert page.url.startswith(live_server.url + reverse("shtc:application_basic"))
    reference_form = page.get_by_test_id("reference-form")
    assert reference_form.get_by_label("餘額註銷證號").input_value() == old.permit_no

    # 帶入參考資料: the permit's data, each quantity its balance; item 2 (all exported) gone.
    reference_form.get_by_role("button", name="帶入參考資料").click()
    page.wait_for_load_state()
    assert old.permit_no in page.get_by_test_id("entry-header").inner_text()
    page.get_by_role("button", name="下一步").click()
    page.wait_for_load_state()
    table = page.get_by_test_id("items")
    assert column(table, "數量") == ["6"]
    assert ITEM["description"] in table.inner_text()
    assert SECOND["description"] not in table.inner_text()
    assert page.get_by_test_id("add-item").count() == 0  # nothing can be added

    # Above the balance: refused next to the quantity, the typing kept; then lowered to 5.
    table.get_by_test_id("item-link-1").click()
    page.wait_for_load_state()
    assert page.locator("#id_description").is_disabled()
    page.locator("#id_quantity").fill("7")
    page.get_by_role("button", name="確認").click()
    page.wait_for_load_state()
    feedback = page.locator("#div_id_quantity .invalid-feedback").inner_text()
    assert "6" in feedback and "7" in feedback, feedback
    assert page.locator("#id_quantity").input_value() == "7"
    page.locator("#id_quantity").fill("5")
    page.get_by_role("button", name="確認").click()
    page.wait_for_load_state()
    assert column(page.get_by_test_id("items"), "數量") == ["5"]
    page.screenshot(path=ARTIFACTS / "shtc-balance-reissue-review.png", full_page=True)

    # 登錄並列印最終用途保證書: 登錄中 with its 登錄編號.
    page.get_by_role("button", name="登錄並列印最終用途保證書").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("status").inner_text() == "登錄中"
    registration_no = page.locator("h1").inner_text().strip()
    assert re.fullmatch(r"E[A-Z0-9]{13}", registration_no), registration_no
    reissue = orm(lambda: Application.objects.get(registration_no=registration_no))
    assert (reissue.kind, reissue.status) == (Kind.BALANCE_REISSUE, Status.REGISTERED)
    assert orm(lambda: list(reissue.items.values_list("source_line_no", "quantity"))) == [
        (1, 5)]

    # The end-use assurance prints the balance re-issued: 5 PCE of item 1, not item 2.
    assurance = download(page, page.get_by_test_id("link-assurance-buyer"), tmp_path)
    text = pdf_text(assurance)
    assert registration_no in text and "WRITTEN ASSURANCE" in text
    assert ITEM["description"] in text and SECOND["description"] not in text
    row = next(line for line in text.splitlines() if ITEM["control_no"] in line)
    assert row.split()[-2:] == ["5", "PCE"], row  # … 3A001.a   5   PCE
