"""輸入許可申請 in Chromium, as the mask manual shows it: log in, basic data → 下一步 →
新增貨品明細 → 確認 (twice) → 申請; the permit number on the page and in the e-mail a real SMTP
sink receives; then 非報單輸入口罩核銷 of the 郵包進口 permit (新增核銷 → 確認 → 核銷完成) and the
permit printed as a PDF.

Buttons are found by the name the catalogue gives their msgid (下一步, 確認, 申請...)."""

import importlib

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import translation

from masks.models import WriteOff
from permits.models import Application, Status
from reconciliation.models import LedgerEntry
from tests.services import orm

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


def seed_reference_data():
    # An earlier test of this process without a transaction of its own may have flushed
    # what the migrations seeded; both loaders are idempotent.
    importlib.import_module("permits.migrations.0002_reference_data").load_reference_data(
        apps, None)
    importlib.import_module("masks.migrations.0002_mask_codes").load_codes(apps, None)


def log_in(page, url, identifier, password):
    page.goto(url)
    page.locator("#id_username").fill(identifier)
    page.locator("#id_password").fill(password)
    page.locator("main [type=submit]").first.click()
    page.wait_for_load_state()


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
