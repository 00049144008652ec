"""The reviewers' admin shows values as the portal does (issue 9, point 17): dates in the ROC
calendar (115/12/02, with the time 115/12/02 14:05), tariff codes with their dots
(8542.31.00.00-3), quantities and amounts plain (10, 1500, never 10.0000 or 1E+3); the
moves are at the top of the case page, where a reviewer starts reading."""

import datetime
import re
from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from masks import services as mask_services
from masks.models import Flow, StockReport
from permits.models import Application, Permit, Status
from reconciliation.models import Declaration, LedgerEntry
from reconciliation.services import receive
from tests.masks.conftest import BASIC, item
from tests.reconciliation import helpers

pytestmark = pytest.mark.django_db

TAIPEI = datetime.timezone(datetime.timedelta(hours=8))
SUBMITTED = datetime.datetime(2026, 12, 2, 14, 5, tzinfo=TAIPEI)  # 115/12/02 14:05
# What the admin showed before: Django's dates (2026年12月2日, Dec. 2, 2026), codes without
# dots, four decimals.
AD_DATE = re.compile(r"20\d\d年|\b(Jan|Feb|March|April|May|June|July|Aug|Sept|Oct|Nov|Dec)"
                     r"\.? \d{1,2}, 20\d\d|\b20\d\d-\d\d-\d\d")
FOUR_DECIMALS = re.compile(r"\b\d+\.\d{4}\b")


def page(client, url, language="zh-hant"):
    client.cookies["django_language"] = language
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def text(html):
    """What a reviewer reads: without scripts, tags, and the values of hidden inputs."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def row(html, field):
    """The texts shown for `field` (by its CSS class field-<name>): the cells of a list or a
    tabular inline, and the read-only values of the case page's fieldsets."""
    cells = re.findall(rf'<t[dh] class="[^"]*field-{field}\b[^"]*"[^>]*>(.*?)</t[dh]>', html,
                       re.S)
    cells += re.findall(rf'<div class="[^"]*form-row[^"]*field-{field}\b.*?'
                        rf'<div class="readonly">(.*?)</div>', html, re.S)
    return [text(cell).strip() for cell in cells]


@pytest.fixture
def case(make_case, applicant, reviewer):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    Application.objects.filter(pk=case.pk).update(submitted_at=SUBMITTED)
    case.status_changes.update(created_at=SUBMITTED)
    return Application.objects.get(pk=case.pk)


@pytest.mark.parametrize("language", ["zh-hant", "en"])
def test_it_lists_cases_with_roc_dates(client, case, reviewer, language):
    client.force_login(reviewer)
    html = page(client, reverse("admin:permits_application_changelist"), language)
    assert row(html, "submitted_at") == ["115/12/02 14:05"]
    assert not AD_DATE.search(text(html))
    # The drill-down above the list counts ROC years too: ‹ 115年 12月2日 (‹ 115 Dec 2).
    hierarchy = text(re.search(r'<nav class="toplinks">.*?</nav>', html, re.S).group(0))
    hierarchy = hierarchy.replace("&lsaquo;", "‹")
    assert "2026" not in hierarchy
    assert ("‹ 115年" if language == "zh-hant" else "‹ 115") in hierarchy


@pytest.mark.parametrize("language", ["zh-hant", "en"])
def test_the_case_page_shows_roc_dates_codes_and_plain_numbers(client, case, reviewer,
                                                               language):
    client.force_login(reviewer)
    html = page(client, reverse("admin:permits_application_change", args=[case.pk]), language)
    assert row(html, "submitted_at") == ["115/12/02 14:05"]
    assert row(html, "tariff_code") == ["8542.31.00.00-3"]
    assert row(html, "quantity") == ["10"]
    assert row(html, "unit_price") == ["1500"]
    assert row(html, "amount") == ["15000"]
    assert "115/12/02 14:05" in row(html, "created_at")  # the status history
    assert not AD_DATE.search(text(html)), AD_DATE.search(text(html))
    assert not FOUR_DECIMALS.search(text(html)), FOUR_DECIMALS.search(text(html))


def test_the_moves_come_first_on_the_case_page(client, case, reviewer):
    client.force_login(reviewer)
    html = page(client, reverse("admin:permits_application_change", args=[case.pk]))
    moves = html.index('id="review-moves"')
    assert moves < html.index('id="application_form"')  # above the case's data
    assert moves < html.index("field-tariff_code")  # and above its items
    # one form: one note, one set of buttons (准件結案 waits for 複審中: four eyes)
    assert html.count('data-move="second_review"') == 1
    # A reviewer at the end of the page is one link away from the moves.
    assert html.rindex('href="#review-moves"') > html.index("field-tariff_code")
    # No inline style (the Content-Security-Policy refuses them).
    section = html[moves:html.index("</form>", moves)]
    assert "style=" not in section


def test_a_closed_case_says_so_at_the_top(client, make_case, applicant, reviewer):
    closed = make_case(applicant, status=Status.APPROVED, reviewer=reviewer)
    client.force_login(reviewer)
    html = page(client, reverse("admin:permits_application_change", args=[closed.pk]))
    assert html.index('id="review-moves"') < html.index('id="application_form"')
    assert "data-move=" not in html


def test_the_permit_page_shows_roc_dates(client, make_case, applicant, reviewer):
    approved = make_case(applicant, status=Status.APPROVED, reviewer=reviewer)
    permit = approved.issued_version.permit
    version = permit.current
    client.force_login(reviewer)
    html = page(client, reverse("admin:permits_permit_change", args=[permit.pk]))
    roc = f"{version.valid_from.year - 1911:03d}/{version.valid_from:%m/%d}"
    assert row(html, "valid_from") == [roc]
    assert re.fullmatch(r"\d{3}/\d\d/\d\d \d\d:\d\d", row(html, "created_at")[0])
    assert not AD_DATE.search(text(html))
    listing = page(client, reverse("admin:permits_permit_changelist"))
    assert re.fullmatch(r"\d{3}/\d\d/\d\d \d\d:\d\d", row(listing, "created_at")[0])


@pytest.fixture
def mask_flow(applicant):
    """A mask import declaration of 1000 masks released, and a flow of 20 of them."""
    application = mask_services.application_submit(
        actor=applicant, applicant=applicant, route="declaration",
        items=[item(quantity="1000")], **{k: v for k, v in BASIC.items() if k != "route"})
    permit = application.issued_version.permit
    number = "AA11500000777B"
    receive([helpers.declaration(permit, number=number, direction="import", items=[{
        "item_no": 1, "tariff_code": "63079050311", "description": "口罩", "quantity": "1000",
        "unit": "PCE", "value": "50.5", "currency": "TWD", "permit_item_no": 1}])],
        source="test")
    receive([helpers.release(number, items=[{"item_no": 1, "quantity": "1000"}])],
            source="test")
    # Released the day before the flow's fixed date, whatever day the suite runs on (a flow
    # may not be dated before its masks were cleared, MASK-7).
    LedgerEntry.objects.filter(permit=permit).update(created_at=SUBMITTED - datetime.timedelta(
        days=1))
    declaration = mask_services.declaration_find(user=applicant, number=number)
    report = mask_services.stock_report_load(declaration=declaration)
    return mask_services.flow_register(actor=applicant, report=report, category="own_use",
                                       quantity=Decimal("20"), date=datetime.date(2026, 12, 2))


def test_the_mask_pages_show_roc_dates_codes_and_plain_numbers(client, mask_flow, reviewer):
    client.force_login(reviewer)
    codes = page(client, reverse("admin:masks_maskcode_changelist"))
    assert "6307.90.50.31-1" in row(codes, "tariff_code")
    flows = page(client, reverse("admin:masks_flow_changelist"))
    assert row(flows, "date") == ["115/12/02"]
    assert row(flows, "quantity") == ["20"]
    assert row(flows, "returned") == ["0"]
    flow = page(client, reverse("admin:masks_flow_change", args=[mask_flow.pk]))
    assert row(flow, "date") == ["115/12/02"] and row(flow, "quantity") == ["20"]
    assert not AD_DATE.search(text(flow)) and not FOUR_DECIMALS.search(text(flow))
    report = StockReport.objects.get(flows=mask_flow)
    stock = page(client, reverse("admin:masks_stockreport_change", args=[report.pk]))
    assert row(stock, "cleared") == ["1000"]
    assert row(stock, "date") == ["115/12/02"]  # the flows inline
    assert not AD_DATE.search(text(stock)) and not FOUR_DECIMALS.search(text(stock))
    assert Flow.objects.count() == 1


def test_the_declaration_pages_show_roc_dates_codes_and_plain_numbers(client, mask_flow,
                                                                      reviewer):
    declaration = Declaration.objects.get()
    Declaration.objects.filter(pk=declaration.pk).update(declared_on=datetime.date(2026, 12, 2))
    client.force_login(reviewer)
    listing = page(client, reverse("admin:reconciliation_declaration_changelist"))
    assert row(listing, "declared_on") == ["115/12/02"]
    html = page(client, reverse("admin:reconciliation_declaration_change",
                                args=[declaration.pk]))
    assert row(html, "declared_on") == ["115/12/02"]
    assert row(html, "tariff_code") == ["6307.90.50.31-1"]
    assert row(html, "quantity") == ["1000"] and row(html, "value") == ["50.5"]
    # The write-off entries: the release of 1000, never 1E+3, at an ROC time.
    ledger = text(re.search(r"field-write_offs.*?</table>", html, re.S).group(0))
    assert re.search(r"\d{3}/\d\d/\d\d \d\d:\d\d .* 1000\b", ledger), ledger
    assert "E+" not in ledger
    assert not AD_DATE.search(text(html)) and not FOUR_DECIMALS.search(text(html))
    entries = page(client, reverse("admin:reconciliation_ledgerentry_changelist"))
    assert row(entries, "quantity") == ["1000"]


def test_every_admin_list_and_page_answers(client, case, mask_flow, reviewer, admin_user):
    """The display functions fit every admin of the portal, for a reviewer and a superuser
    (who may change what reviewers only see)."""
    for user in (reviewer, admin_user):
        client.force_login(user)
        for model, model_admin in admin.site._registry.items():
            opts = model._meta
            if not model_admin.has_view_permission(_request(user)):
                continue
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
            assert client.get(url).status_code == 200, url
            first = model._default_manager.first()
            if first is not None:
                url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change",
                              args=[first.pk])
                assert client.get(url).status_code == 200, url
            if model_admin.has_add_permission(_request(user)):
                url = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
                assert client.get(url).status_code == 200, url
    assert Permit.objects.exists()


def test_a_reviewer_still_types_a_new_mask_code_as_digits(client, reviewer):
    from masks.models import MaskCode

    client.force_login(reviewer)
    response = client.post(reverse("admin:masks_maskcode_add"), {
        "tariff_code": "63079050999", "category": "medical", "description": "測試口罩",
        "active": "on"})
    assert response.status_code == 302
    code = MaskCode.objects.get(tariff_code="63079050999")
    html = page(client, reverse("admin:masks_maskcode_change", args=[code.pk]))
    assert 'name="tariff_code" value="63079050999"' in html  # the input, as stored


def _request(user):
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def test_it_shows_times_in_taipei(case):
    from permits.admin import shown

    display = shown(Application, "submitted_at")
    assert display(case) == "115/12/02 14:05"
    utc = Application(submitted_at=datetime.datetime(2026, 12, 1, 16, 30, tzinfo=datetime.UTC))
    assert display(utc) == "115/12/02 00:30"
    assert display(Application(submitted_at=None)) == admin.site.empty_value_display
    assert timezone.get_current_timezone_name() == "Asia/Taipei"
