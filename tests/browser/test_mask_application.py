"""輸入許可申請 in Chromium, as the mask manual shows it: log in, basic data → 下一步 →
新增貨品明細 → 確認 (twice) → 申請; the permit number on the page and in the e-mail a real SMTP
sink receives; then 非報單輸入口罩核銷 of the 郵包進口 permit (新增核銷 → 確認 → 核銷完成) and the
permit printed as a PDF.

Buttons are found by the name the catalogue gives their msgid (下一步, 確認, 申請...)."""


import pytest
from django.urls import reverse
from django.utils import translation

from masks.models import WriteOff
from permits.models import Application, Status
from reconciliation.models import LedgerEntry
from tests.services import log_in, orm, seed_reference_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "masks@anxin.example"


def t(msgid):
    with translation.override("zh-hant"):
        return translation.gettext(msgid)


@pytest.fixture
def mask_site(settings, smtp_sink, monkeypatch):
    """Mail through Django's SMTP backend to the sink."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_sink.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    return smtp_sink


def add_item(page, category, tariff_code, quantity, unit_price, origin):
    page.get_by_role("link", name=t("Add goods item")).click()
    page.locator(f"input[name=category][value={category}]").check()
    page.locator("#id_tariff_code").select_option(tariff_code)
    page.locator("#id_quantity").fill(quantity)
    page.locator("#id_unit_price").fill(unit_price)
    page.locator("#id_currency").select_option("TWD")
    page.locator("#id_origin_country").select_option(origin)
    page.get_by_role("button", name=t("Confirm")).click()
    page.wait_for_load_state()


def test_it_issues_a_mask_permit_writes_it_off_and_prints_it(applicant, live_server, page,
                                                             mask_site):
    orm(seed_reference_data)
    log_in(page, f"{live_server.url}/accounts/login/", applicant.identifier,
           "correct-horse-battery")
    menu_box = page.get_by_test_id("menu")
    menu_box.get_by_role("link", name=t("Import permit application")).click()

    # Basic data: the applicant's own, preset; the identifier locked (ACC-4).
    assert page.locator("#id_applicant_identifier").is_disabled()
    assert page.locator("#id_applicant_identifier").input_value() == applicant.identifier
    page.locator("#id_company_email").fill(EMAIL)
    page.locator("input[name=route][value=postal]").check()
    page.get_by_role("button", name=t("Next step")).click()
    page.wait_for_load_state()
    assert EMAIL in page.get_by_test_id("basic-data").inner_text()

    # 新增貨品明細, 確認; once more for the non-medical masks.
    add_item(page, "medical", "63079050311", "100", "5", "US")
    add_item(page, "non_medical", "63079050106", "200", "3.5", "CN")
    rows = page.get_by_test_id("items").locator("tbody tr")
    assert rows.count() == 2
    assert "6307.90.50.10-6" in rows.nth(1).inner_text()

    # 申請: the permit at once, its number on the page and in the mail.
    page.get_by_role("button", name=t("Apply")).click()
    page.wait_for_load_state()
    permit_no = page.get_by_test_id("permit-no").inner_text()
    application = orm(lambda: Application.objects.select_related("issued_version__permit")
                      .get(document_type="MK"))
    assert application.status == Status.APPROVED
    assert permit_no == application.issued_version.permit.permit_no
    [message] = mask_site.wait_for(1)
    assert message["To"] == EMAIL
    assert permit_no in message.get_body(("plain",)).get_content()

    # 郵包進口: the page links to the write-off (MASK-4); 新增核銷 comes prefilled.
    page.get_by_test_id("write-off-link").get_by_role("link").click()
    assert page.locator("#id_permit_no").input_value() == permit_no
    assert page.locator("input[name=route][value=postal]").is_checked()
    page.locator("#id_medical_quantity").fill("50")
    page.locator("#id_non_medical_quantity").fill("100")
    page.get_by_role("button", name=t("Confirm")).click()
    page.wait_for_load_state()
    assert permit_no in page.get_by_test_id("pending-write-off").inner_text()
    page.get_by_role("button", name=t("Write-off complete")).click()
    page.wait_for_load_state()
    assert permit_no in page.get_by_test_id("write-offs").inner_text()
    assert orm(WriteOff.objects.count) == 1
    assert orm(lambda: sorted(LedgerEntry.objects.values_list("line_no", "quantity"))) == [
        (1, 50), (2, 100)]

    # 列印: the reference copy as a PDF.
    response = page.request.get(live_server.url + reverse(
        "permits:permit_print", args=[application.issued_version.pk]))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")


DECLARATION = "AA11509120001B"


def make_mask_permit(applicant, *, route, items):
    """A mask permit filed and issued through masks.services (tests/masks/conftest.py)."""
    from masks import services
    from tests.masks.conftest import BASIC

    application = services.application_submit(
        actor=applicant, applicant=applicant, route=route, items=items,
        **{k: v for k, v in BASIC.items() if k != "route"})
    return application.issued_version.permit


def test_it_registers_declares_and_returns_a_mask_flow(applicant, live_server, page,
                                                       tmp_path):
    """口罩流向登錄作業 and 口罩流向退貨作業 as the manual shows them: the 10 masks cleared
    under a declaration are sold to a medical institution on 109/09/12, with the invoice as
    a PDF; 申報; then 4 of them come back (退貨) and go back to the stock; 申報."""
    import weasyprint

    from masks.models import Flow, FlowReturn, StockReport
    from tests.masks.test_flows import cleared_declaration

    orm(seed_reference_data)
    orm(cleared_declaration, make_mask_permit, applicant, quantity="10", number=DECLARATION)
    invoice = tmp_path / "invoice.pdf"
    weasyprint.HTML(string="<p>統一發票 口罩 10 片</p>").write_pdf(invoice)
    log_in(page, f"{live_server.url}/accounts/login/", applicant.identifier,
           "correct-horse-battery")

    # 2 (報單): the declaration number, 帶入報單資料; the cleared 10 are the stock.
    page.get_by_test_id("menu").get_by_role(
        "link", name=t("Face-mask flow registration")).click()
    page.locator("#id_d-declaration_no").fill(DECLARATION)
    page.get_by_role("button", name=t("Load declaration data")).click()
    page.wait_for_load_state()
    assert DECLARATION in page.get_by_test_id("stock-source").inner_text()
    assert page.get_by_test_id("stock").inner_text() == "10"

    # 流向登錄: 醫療院所, 10, 109/09/12, the invoice; 確認並回上一頁.
    page.get_by_role("link", name=t("Register a flow")).click()
    page.locator("input[name=category][value=medical_institution]").check()
    page.locator("#id_quantity").fill("10")
    page.locator("#id_date").fill("109/09/12")
    page.locator("#id_counterparty").fill("國立臺灣大學醫學院附設醫院")
    page.locator("#id_documents").set_input_files(invoice)
    page.get_by_role("button", name=t("Confirm and go back")).click()
    page.wait_for_load_state()
    assert page.get_by_test_id("stock").inner_text() == "0"
    assert "109/09/12" in page.get_by_test_id("flows").inner_text()
    download = page.request.get(live_server.url + page.get_by_test_id("flows").get_by_role(
        "link", name="invoice.pdf").get_attribute("href"))
    assert download.status == 200 and download.body().startswith(b"%PDF")

    # 申報.
    page.get_by_role("button", name=t("Declare"), exact=True).click()
    page.wait_for_load_state()
    flow = orm(Flow.objects.get)
    assert flow.declared_at is not None
    assert (flow.category, str(flow.date), flow.quantity) == ("medical_institution",
                                                              "2020-09-12", 10)

    # 口罩流向退貨作業: 帶入報單資料, click the flow, 4 returned, 確認並回上一頁, 申報.
    page.goto(f"{live_server.url}/")
    page.get_by_test_id("menu").get_by_role("link", name=t("Face-mask flow returns")).click()
    page.locator("#id_d-declaration_no").fill(DECLARATION)
    page.get_by_role("button", name=t("Load declaration data")).click()
    page.wait_for_load_state()
    page.get_by_test_id("declared-flows").get_by_role("link").first.click()
    page.locator("#id_quantity").fill("4")
    page.get_by_role("button", name=t("Confirm and go back")).click()
    page.wait_for_load_state()
    assert page.get_by_test_id("stock").inner_text() == "4"
    page.get_by_role("button", name=t("Declare"), exact=True).click()
    page.wait_for_load_state()
    returned = orm(FlowReturn.objects.get)
    assert (returned.quantity, returned.declared_at is not None) == (4, True)
    report = orm(StockReport.objects.get)
    assert (report.cleared, report.allocated, report.declared) == (10, 6, 6)
