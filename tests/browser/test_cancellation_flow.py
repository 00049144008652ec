"""拾肆 簽審文件註銷或展延 in Chromium, as the SHTC manual (§1.5, §2.1) and the mask manual show
it (SHTC-11, SHTC-14): a mask permit of two items, part of item 1 written off; from the menu,
註銷, the permit number and a reason, 帶入參考資料 (the permit and its balances), 申請; the
mask 輸入許可申請 opens with 餘額註銷證號 filled in, 帶入參考資料 loads the balances (no item
can be added), 下一步, 申請: a new permit number. /verify/ shows the old one cancelled. 展延
is refused next to the choice; bureau staff get 403.

Buttons and labels are found by the name the catalogue gives their msgid (註銷, 帶入參考資料,
申請...); the menu entry by the manual's own words."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from masks.models import Route
from permits.models import Application, Kind, Permit, PermitState, Status
from tests.browser.conftest import ARTIFACTS
from tests.masks.conftest import BASIC, item
from tests.services import log_in, orm, seed_reference_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"
MENU_LABEL = "簽審文件註銷或展延"  # 拾肆, as the SHTC manual names it
REASON = "契約取消，餘量改以新證輸入。"



def t(msgid):
    with translation.override("zh-hant"):
        return translation.gettext(msgid)


def issue_mask_permit(applicant):
    """輸入許可申請 as 申請 files it: 郵包進口, 100 medical and 200 non-medical masks."""
    from masks import services

    application = services.application_submit(
        actor=applicant, applicant=applicant, route=Route.POSTAL,
        items=[item("medical", "100"), item("non_medical", "200", unit_price="3.5")],
        **{k: v for k, v in BASIC.items() if k != "route"})
    return application.issued_version.permit


def write_off(applicant, permit, medical):
    from masks import services

    return services.write_off_record(actor=applicant, permit=permit, route=Route.POSTAL,
                                     medical_quantity=Decimal(medical),
                                     non_medical_quantity=Decimal(0))


@pytest.fixture
def mail(settings, smtp_sink):
    """Mail through Django's SMTP backend to a real SMTP sink."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_sink.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    return smtp_sink


def column(table, heading):
    """The cells of the column headed `heading`, row by row."""
    headings = [text.strip() for text in table.locator("thead th").all_inner_texts()]
    index = headings.index(heading)
    return [row.locator("td").nth(index).inner_text().strip()
            for row in table.locator("tbody tr").all()]


def test_it_cancels_a_permit_and_reissues_its_balance(applicant, live_server, page, mail):
    orm(seed_reference_data)
    old = orm(issue_mask_permit, applicant)
    orm(write_off, applicant, old, "30")  # item 1: 70 of 100 left; item 2 untouched
    log_in(page, f"{live_server.url}/accounts/login/", applicant.identifier, PASSWORD)

    # 拾肆 簽審文件註銷或展延 from the menu; 註銷, the number, 帶入參考資料.
    page.get_by_test_id("menu").get_by_role("link", name=MENU_LABEL).click()
    form = page.get_by_test_id("cancellation")
    form.get_by_label(t("Cancellation"), exact=True).check()
    page.locator("#id_permit_no").fill(old.permit_no.lower())  # typed as it comes
    page.locator("#id_reason").fill(REASON)
    form.get_by_role("button", name=t("Load reference data")).click()
    page.wait_for_load_state()
    reference = page.get_by_test_id("reference")
    assert reference.get_by_test_id("reference-permit-no").inner_text().startswith(
        old.permit_no)
    items = reference.get_by_test_id("reference-items")
    assert column(items, t("Quantity")) == ["100", "200"]
    assert column(items, t("Balance")) == ["70", "200"]
    # The reason typed is still there after 帶入參考資料.
    assert page.locator("#id_reason").input_value() == REASON
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "cancellation.png", full_page=True)

    # 申請: cancelled at once; on to 輸入許可申請 with 餘額註銷證號 filled in.
    page.get_by_test_id("cancellation").get_by_role("button", name=t("Apply")).click()
    page.wait_for_load_state()
    assert orm(lambda: Permit.objects.get(pk=old.pk).state) == PermitState.REVOKED
    assert orm(lambda: Permit.objects.get(pk=old.pk).revocation.reason) == REASON
    assert page.url.startswith(live_server.url + reverse("masks:application_basic"))
    reference_form = page.get_by_test_id("reference-form")
    assert reference_form.get_by_label(t("Cancelled permit number for balance re-issue")) \
        .input_value() == old.permit_no

    # 帶入參考資料: the data of the cancelled permit, each quantity its balance.
    reference_form.get_by_role("button", name=t("Load reference data")).click()
    page.wait_for_load_state()
    assert old.permit_no in page.get_by_test_id("entry-header").inner_text()
    assert page.locator("input[name=route][value=postal]").is_checked()
    page.get_by_role("button", name=t("Next step")).click()
    page.wait_for_load_state()
    table = page.get_by_test_id("items")
    assert column(table, t("Quantity")) == ["70", "200"]
    assert page.get_by_test_id("add-item").count() == 0  # no 新增貨品明細 (SHTC-11)
    assert page.get_by_role("link", name=t("Add goods item")).count() == 0
    page.screenshot(path=ARTIFACTS / "balance-reissue-review.png", full_page=True)

    # 申請: a new permit, with its own number.
    page.get_by_test_id("apply-form").get_by_role("button", name=t("Apply")).click()
    page.wait_for_load_state()
    new_no = page.get_by_test_id("permit-no").inner_text()
    assert new_no and new_no != old.permit_no
    reissue = orm(lambda: Application.objects.select_related(
        "issued_version__permit", "changes__permit").get(kind=Kind.BALANCE_REISSUE))
    assert reissue.status == Status.APPROVED
    assert reissue.changes.permit_id == old.pk
    assert reissue.issued_version.permit.permit_no == new_no
    assert orm(lambda: list(reissue.items.order_by("line_no").values_list(
        "source_line_no", "quantity"))) == [(1, Decimal(70)), (2, Decimal(200))]

    # Three mails to the company e-mail: the first permit, its cancellation (with the
    # reason), the new permit.
    messages = mail.wait_for(3)
    assert {message["To"] for message in messages} == {BASIC["company_email"]}
    bodies = [message.get_body(("plain",)).get_content() for message in messages]
    assert [old.permit_no in body and REASON in body for body in bodies].count(True) == 1
    assert any(new_no in body for body in bodies)

    # /verify/ with the cancelled permit's number and code: shown cancelled.
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/verify/")
    page.locator("#id_no").fill(old.permit_no)
    page.locator("#id_code").fill(old.verification_code)
    page.get_by_role("button", name=t("Verify")).click()
    page.wait_for_load_state()
    result = page.get_by_test_id("verify-result")
    assert result.get_attribute("data-state") == PermitState.REVOKED


def test_it_refuses_an_extension_next_to_the_choice(applicant, live_server, page):
    orm(seed_reference_data)
    permit = orm(issue_mask_permit, applicant)
    log_in(page, f"{live_server.url}/accounts/login/", applicant.identifier, PASSWORD)
    page.get_by_test_id("menu").get_by_role("link", name=MENU_LABEL).click()
    form = page.get_by_test_id("cancellation")
    form.get_by_label(t("Extension"), exact=True).check()
    page.locator("#id_permit_no").fill(permit.permit_no)
    page.locator("#id_reason").fill("展延有效期限")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        form.get_by_role("button", name=t("Apply")).click()
    assert posted.value.status == 400
    page.wait_for_load_state()
    # SHTC-14: said next to the choice (the radio group's own error), nothing cancelled.
    choice = page.locator("#div_id_action")
    assert choice.locator(".invalid-feedback").count() == 1
    assert choice.locator(".invalid-feedback").is_visible()
    assert page.locator("#div_id_permit_no .invalid-feedback").count() == 0
    assert page.locator("input[name=action][value=extend]").is_checked()
    assert orm(lambda: Permit.objects.get(pk=permit.pk).state) == PermitState.VALID


def test_it_shows_bureau_staff_a_403(reviewer, live_server, page):
    orm(lambda: (reviewer.set_password("reviewer-password-1"), reviewer.save()))
    log_in(page, f"{live_server.url}/admin/login/?next=/admin/", reviewer.identifier,
           "reviewer-password-1")
    response = page.goto(live_server.url + reverse("permits:cancellation"))
    assert response.status == 403
    page.goto(f"{live_server.url}/")
    assert page.get_by_test_id("menu").get_by_role("link", name=MENU_LABEL).count() == 0
