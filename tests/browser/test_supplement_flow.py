"""補件 in Chromium: the reviewer asks for documents in the admin, the applicant reads the
request on the case page, uploads a file and resubmits; the case is back in 初審中."""

import pytest

from permits.models import Application, Status
from tests.services import log_in, orm

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"



def test_it_takes_a_supplement_request_to_the_resubmission(make_case, applicant, reviewer,
                                                           live_server, page, tmp_path):
    # (Playwright is running: database work goes through orm(), see tests/services.py.)
    case = orm(make_case, applicant, status=Status.INITIAL_REVIEW)
    orm(lambda: (reviewer.set_password("reviewer-password-1"), reviewer.save()))

    # The reviewer asks for the product catalogue.
    log_in(page, f"{live_server.url}/admin/login/?next=/admin/permits/application/{case.pk}/"
                 "change/", reviewer.identifier, "reviewer-password-1")
    page.locator("#id_move_note").fill("請補附產品英文型錄。")
    page.locator("[data-move=supplement]").click()
    page.wait_for_load_state()
    assert orm(lambda: Application.objects.get(pk=case.pk).status) == Status.SUPPLEMENT
    page.context.clear_cookies()

    # The applicant sees the request on the case page, uploads and resubmits.
    log_in(page, f"{live_server.url}/accounts/login/", applicant.identifier,
           "correct-horse-battery")
    assert "補件" in page.get_by_test_id("my-cases").inner_text()
    page.get_by_test_id("my-cases").get_by_role("link", name=case.receipt_no).click()
    assert page.get_by_test_id("supplement-request").inner_text() == "請補附產品英文型錄。"
    catalogue = tmp_path / "catalogue.pdf"
    catalogue.write_bytes(PDF)
    page.locator("#id_document_kind").select_option("supplement")
    page.locator("#id_file").set_input_files(str(catalogue))
    page.get_by_role("button", name="上傳檔案").click()
    page.wait_for_load_state()
    assert "catalogue.pdf" in page.get_by_test_id("attachments").inner_text()
    page.get_by_role("button", name="補件完成，重新送審").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("status").inner_text() == "初審中"
    assert orm(lambda: list(Application.objects.get(pk=case.pk).status_changes
                            .values_list("new", flat=True))) == [
        "initial_review", "supplement", "initial_review"]
