"""匯出 Excel / 匯出 ODF of the reviewers' case list (issue 14, point 6; permits/admin_export.py):
the list as filtered, read back with openpyxl and odfpy, its dates in the ROC calendar, its
clock, the same queries for 5 cases as for 50, the cap, and who may export."""

import datetime
import io
import re

import openpyxl
import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from odf import opendocument, table, text
from odf.namespaces import TABLENS

from permits import admin_export
from permits.models import Application, Status, StatusChange
from tests.permits.test_admin_list import CHANGELIST, cases, signed_in  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

XLSX = reverse("admin:permits_application_export_xlsx")
ODS = reverse("admin:permits_application_export_ods")
KEYS = [key for key, _header, _kind, _width in admin_export.COLUMNS]
TAIPEI = datetime.timezone(datetime.timedelta(hours=8))


def headers(response):
    """The export's headers in the language of the request that made it."""
    with translation.override(response.wsgi_request.LANGUAGE_CODE):
        return [str(header) for _key, header, _kind, _width in admin_export.COLUMNS]


def sheet_name(response):
    return {"en": "Applications", "zh-hant": "申請案件"}[response.wsgi_request.LANGUAGE_CODE]


def xlsx_rows(response):
    """The sheet's rows as {column key: value}, after checking the header row."""
    assert response.status_code == 200, response.get("Location")
    assert response["Content-Type"] == admin_export.CONTENT_TYPES["xlsx"]
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [sheet_name(response)]
    sheet = book.active
    assert sheet.freeze_panes == "A2"
    header = next(sheet.iter_rows(max_row=1))
    assert [cell.value for cell in header] == headers(response)
    assert all(cell.font.b for cell in header)
    kinds = {key: kind for key, _header, kind, _width in admin_export.COLUMNS}
    found = []
    for row in sheet.iter_rows(min_row=2):
        for cell, key in zip(row, KEYS, strict=True):
            if cell.value is not None:  # codes and ROC dates as text, never numbers
                assert cell.data_type == ("s" if kinds[key] == "text" else "n"), (key, cell)
        found.append({key: cell.value for key, cell in zip(KEYS, row, strict=True)})
    return found


def ods_rows(response):
    """The .ods's first sheet as odfpy reads it: [{column key: text}], header checked."""
    assert response.status_code == 200, response.get("Location")
    assert response["Content-Type"] == admin_export.CONTENT_TYPES["ods"]
    document = opendocument.load(io.BytesIO(response.content))
    sheets = document.spreadsheet.getElementsByType(table.Table)
    assert [sheet.getAttribute("name") for sheet in sheets] == [sheet_name(response)]
    lines = []
    for row in sheets[0].getElementsByType(table.TableRow):
        cells = []
        for cell in row.getElementsByType(table.TableCell):
            repeat = int(cell.attributes.get((TABLENS, "number-columns-repeated"), 1))
            words = "\n".join(str(p) for p in cell.getElementsByType(text.P))
            kind = cell.attributes.get(("urn:oasis:names:tc:opendocument:xmlns:office:1.0",
                                        "value-type"))
            cells.extend([(words, kind)] * repeat)
        lines.append(cells)
    assert [words for words, _kind in lines[0]] == headers(response)
    return [{key: (words, kind) for key, (words, kind) in zip(KEYS, line, strict=True)}
            for line in lines[1:]]


def by_number(found, key="receipt_no"):
    return {row[key] if not isinstance(row[key], tuple) else row[key][0]: row for row in found}


def test_it_exports_the_list_as_xlsx(signed_in, cases, make_case, applicant):  # noqa: F811
    make_case(applicant)  # a draft: no number, no date
    signed_in.cookies["django_language"] = "zh-hant"
    response = signed_in.get(XLSX)
    today = timezone.localdate()
    assert response["Content-Disposition"] == \
        f'attachment; filename="cases-{today:%Y%m%d}.xlsx"'
    found = xlsx_rows(response)
    assert len(found) == Application.objects.count() == 4
    filed, issued = cases["filed"], cases["issued"]
    rows = by_number(found)
    row = rows[filed.receipt_no]
    assert row["status"] == "初審中" and row["applicant_identifier"] == "22099131"
    assert row["applicant_name"] == filed.applicant_name
    assert row["destination_country"].startswith("DE ")
    assert re.fullmatch(r"1\d\d/\d\d/\d\d", row["submitted_at"])
    assert row["working_days"] == 0 and row["stage"] == "初審"
    by_agent = rows[cases["by_agent"].receipt_no]
    assert by_agent["agent_identifier"] == "04595252"
    permit = Application.objects.get(pk=issued.pk).issued_version
    assert rows[issued.receipt_no]["permit_no"] == permit.permit.permit_no
    assert rows[issued.receipt_no]["permit_version"] == permit.version
    assert rows[issued.receipt_no]["destination_country"].startswith("JP ")
    assert rows[None]["status"] == "暫存" and rows[None]["submitted_at"] is None


def test_it_exports_the_list_as_ods_read_back_with_odfpy(signed_in, cases):  # noqa: F811
    signed_in.cookies["django_language"] = "en"
    response = signed_in.get(ODS)
    assert response["Content-Disposition"].startswith('attachment; filename="cases-')
    assert response["Content-Disposition"].endswith('.ods"')
    found = ods_rows(response)
    assert len(found) == 3
    issued = cases["issued"]
    row = by_number(found)[issued.receipt_no]
    assert row["status"] == ("Approved", "string")
    assert row["permit_version"] == ("1", "float")
    assert row["receipt_no"][1] == "string"


def test_a_name_like_a_formula_stays_text(signed_in, cases):  # noqa: F811
    filed = cases["filed"]
    Application.objects.filter(pk=filed.pk).update(applicant_name='=HYPERLINK("x","y")',
                                                    applicant_identifier="00123456")
    row = by_number(xlsx_rows(signed_in.get(XLSX)))[filed.receipt_no]
    assert row["applicant_name"] == '=HYPERLINK("x","y")'  # data_type "s": no formula
    assert row["applicant_identifier"] == "00123456"
    row = by_number(ods_rows(signed_in.get(ODS)))[filed.receipt_no]
    assert row["applicant_name"] == ('=HYPERLINK("x","y")', "string")
    assert row["applicant_identifier"] == ("00123456", "string")


def test_it_exports_only_what_the_filters_and_the_search_show(signed_in, cases,  # noqa: F811
                                                             applicant):
    found = xlsx_rows(signed_in.get(XLSX, {"status__exact": "approved"}))
    assert [row["receipt_no"] for row in found] == [cases["issued"].receipt_no]
    found = xlsx_rows(signed_in.get(ODS.replace("ods", "xlsx"), {"q": applicant.identifier}))
    assert {row["receipt_no"] for row in found} == {cases["filed"].receipt_no,
                                                   cases["by_agent"].receipt_no}
    found = ods_rows(signed_in.get(ODS, {"destination_country__exact": "JP"}))
    assert [row["receipt_no"][0] for row in found] == [cases["issued"].receipt_no]
    assert xlsx_rows(signed_in.get(XLSX, {"q": "nothing-like-it"})) == []


@pytest.mark.parametrize("order", ["", "1", "-1", "-9.1"])
def test_it_exports_in_the_lists_order(signed_in, cases, order):  # noqa: F811
    params = {"o": order} if order else {}
    shown = signed_in.get(CHANGELIST, params).context["cl"].result_list
    found = xlsx_rows(signed_in.get(XLSX, params))
    assert [row["receipt_no"] for row in found] == [case.receipt_no for case in shown]


def test_the_lists_links_carry_its_filters(signed_in, cases):  # noqa: F811
    page = signed_in.get(CHANGELIST, {"status__exact": "approved", "p": "1"}).content.decode()
    assert f'href="{XLSX}?status__exact=approved"' in page
    assert f'href="{ODS}?status__exact=approved"' in page
    signed_in.cookies["django_language"] = "zh-hant"
    page = signed_in.get(CHANGELIST).content.decode()
    assert ">匯出 Excel</a>" in page and ">匯出 ODF</a>" in page


def test_its_dates_are_roc_dates_in_taipei(signed_in, cases):  # noqa: F811
    filed = cases["filed"]
    # 17:30 UTC on 3 December is 01:30 on the 4th in Taipei.
    moment = datetime.datetime(2026, 12, 3, 17, 30, tzinfo=datetime.UTC)
    Application.objects.filter(pk=filed.pk).update(submitted_at=moment)
    StatusChange.objects.filter(application=filed).update(
        created_at=datetime.datetime(2026, 11, 20, 16, 5, tzinfo=datetime.UTC))
    row = by_number(xlsx_rows(signed_in.get(XLSX)))[filed.receipt_no]
    assert row["submitted_at"] == "115/12/04"
    assert row["last_change"] == "115/11/21"


def test_it_shows_the_clock_of_a_late_case(signed_in, cases, make_case, applicant,  # noqa: F811
                                           reviewer):
    late = cases["filed"]
    StatusChange.objects.filter(application=late).update(
        created_at=timezone.now() - datetime.timedelta(days=40))
    waiting = make_case(applicant, status=Status.SUPPLEMENT, reviewer=reviewer)
    signed_in.cookies["django_language"] = "zh-hant"
    rows = by_number(xlsx_rows(signed_in.get(XLSX)))
    row = rows[late.receipt_no]
    assert row["working_days"] > 7 and row["overdue"] == "逾期"
    assert re.fullmatch(r"1\d\d/\d\d/\d\d", row["due"])
    fresh = rows[cases["by_agent"].receipt_no]
    assert fresh["working_days"] == 0 and fresh["overdue"] is None and fresh["due"]
    paused = rows[waiting.receipt_no]
    assert paused["working_days"] is None and paused["stage"] and paused["due"] is None
    assert rows[cases["issued"].receipt_no]["stage"] is None  # closed: no clock


def copies(case, count, start=0):
    """`count` copies of `case` with their status history, made in bulk, numbered from
    `start`."""
    changes = list(StatusChange.objects.filter(application=case).order_by("pk"))
    made = Application.objects.bulk_create([
        Application(**{**{field.attname: getattr(case, field.attname)
                          for field in Application._meta.concrete_fields
                          if not field.primary_key},
                       "receipt_no": f"RSE199{n:08d}", "registration_no": None,
                       "client_token": None}) for n in range(start, start + count)])
    StatusChange.objects.bulk_create([
        StatusChange(**{**{field.attname: getattr(change, field.attname)
                           for field in StatusChange._meta.concrete_fields
                           if not field.primary_key}, "application_id": copy.pk})
        for copy in made for change in changes])
    return made


def queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", [XLSX, ODS])
def test_it_costs_the_same_queries_for_5_cases_as_for_50(signed_in, make_case,  # noqa: F811
                                                         applicant, url,
                                                         django_assert_num_queries):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    copies(case, 4)
    signed_in.get(url)  # the process's caches (the countries' names, the session's user)
    few = queries(signed_in, url)
    copies(case, 45, start=4)
    with django_assert_num_queries(few):
        response = signed_in.get(url)
    found = xlsx_rows(response) if url == XLSX else ods_rows(response)
    assert len(found) == 50


def test_it_reads_the_cases_in_chunks(signed_in, make_case, applicant, monkeypatch):  # noqa: F811
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    StatusChange.objects.filter(application=case).update(
        created_at=timezone.now() - datetime.timedelta(days=40))
    copies(case, 9)
    monkeypatch.setattr(admin_export, "CHUNK", 3)
    signed_in.cookies["django_language"] = "en"
    found = xlsx_rows(signed_in.get(XLSX))
    assert len(found) == 10 and len({row["receipt_no"] for row in found}) == 10
    # Each case's clock from its own history, whichever chunk it was in.
    assert all(row["overdue"] == "overdue" for row in found)


def test_it_refuses_a_list_longer_than_the_cap(signed_in, cases, monkeypatch):  # noqa: F811
    monkeypatch.setattr(admin_export, "MAX_ROWS", 2)
    response = signed_in.get(XLSX, {"submitted_at__isnull": "False"})
    assert response.status_code == 302
    assert response["Location"] == f"{CHANGELIST}?submitted_at__isnull=False"
    [message] = get_messages(response.wsgi_request)
    assert message.level_tag == "error" and "2" in str(message)
    # Narrowed, it goes.
    assert len(xlsx_rows(signed_in.get(XLSX, {"status__exact": "approved"}))) == 1


@pytest.mark.parametrize("params", [
    {"status__exact": "\x00"},
    {"status__exact": "not-a-choice"},
    {"no_such_field": "1"},
    {"submitted_at__gte": "not a date"},
    {"submitted_at__year": "99999999999999999999"},
    {"destination_country__exact": "Z" * 5000},
    {"q": "a\x00b"},
    {"o": "99.x.-"},
    {"p": "9223372036854775808"},
    {"id__in": "1,2,x"},
])
def test_a_forged_filter_never_fails(signed_in, cases, params):  # noqa: F811
    for url in (XLSX, ODS):
        response = signed_in.get(url, params)
        assert response.status_code in (200, 302), (params, response.status_code)
        if response.status_code == 302:
            assert response["Location"].startswith(CHANGELIST)


def test_only_those_who_may_see_the_list_may_export(client, cases, make_user):  # noqa: F811
    staff = make_user("A223456781", is_staff=True)  # staff outside the reviewers
    client.force_login(staff)
    assert client.get(XLSX).status_code == 403
    assert client.get(ODS).status_code == 403
    applicant = cases["filed"].applicant
    client.force_login(applicant)
    response = client.get(XLSX)
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_it_is_read_with_get_only(signed_in, cases):  # noqa: F811
    assert signed_in.post(XLSX).status_code == 405


@pytest.mark.parametrize("params", [
    {"status__exact": "\x00"},
    {"destination_country__exact": "\x00"},
    {"\x00": "1"},
    {"submitted_at__year": "99999999999999999999"},
])
def test_the_list_itself_refuses_a_forged_filter(signed_in, cases, params):  # noqa: F811
    """The list's queryset is the export's: what the export refuses, the list refuses as
    Django refuses an unknown filter (to ?e=1), not with a 500."""
    response = signed_in.get(CHANGELIST, params)
    assert response.status_code == 302 and response["Location"].endswith("?e=1")
    response = signed_in.get(XLSX, params)
    assert response.status_code == 302 and response["Location"] == CHANGELIST
