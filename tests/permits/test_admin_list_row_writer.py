"""The reviewers' case list's rows written by one function a page (issue 10, stop 27:
permits.admin._case_row_writer): byte for byte the rows written cell by cell (_cell_html()
and _cell_writer(), and the (text, nowrap) pairs before them), in both languages and in
time zones with and without summer time, with empty and escaped values; the cell-by-cell
writers for columns that are not the list's own."""

import datetime

import pytest
from django.utils import timezone, translation

from permits import admin as permits_admin
from permits import admin_list
from permits.models import Application
from tests.permits.test_admin_list import (  # noqa: F401 (fixtures)
    CHANGELIST,
    cases,
    signed_in,
)
from tests.permits.test_admin_list_written import busy, old_rows  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

PAGES = ({}, {"queue": "mine"}, {"queue": "overdue"}, {"q": "22099131"}, {"o": "-9.1"},
         {"status__exact": "initial_review", "o": "-3"}, {"submitted_at__year": "2026"})
ZONES = ("Asia/Taipei", "Europe/London", "America/New_York", "UTC")
UTC = datetime.UTC


@pytest.fixture
def odd(busy, make_case, applicant, reviewer):  # noqa: F811
    """Besides `busy`: dates on either side of London's and New York's clock changes (an
    hour that does not exist there, one that comes twice), a draft with no number and no
    date, blank and escaped texts, an assignee whose name needs escaping, a blank one."""
    reviewer.name = '<i>"審核&\'員</i>'
    reviewer.save(update_fields=["name"])
    moments = [datetime.datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
               datetime.datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
               datetime.datetime(2026, 10, 25, 0, 59, tzinfo=UTC),
               datetime.datetime(2026, 10, 25, 1, 1, tzinfo=UTC),
               datetime.datetime(2026, 3, 8, 6, 59, tzinfo=UTC),
               datetime.datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
               datetime.datetime(2026, 11, 1, 6, 30, tzinfo=UTC),
               datetime.datetime(2026, 12, 31, 23, 59, tzinfo=UTC)]
    for moment in moments:
        case = make_case(applicant, status="initial_review", reviewer=reviewer)
        Application.objects.filter(pk=case.pk).update(submitted_at=moment, assignee=reviewer)
    blank = make_case(applicant, status="initial_review")
    Application.objects.filter(pk=blank.pk).update(
        applicant_name="   ", destination_country="", applicant_identifier="<&>'\"")
    draft = make_case(applicant)
    Application.objects.filter(pk=draft.pk).update(receipt_no=None, registration_no=None,
                                                   submitted_at=None)
    return busy


def written(cl, language, zone, *, one_function=True, monkeypatch=None):
    """The page's rows as case_rows() writes them (or cell by cell), in `language` and
    `zone`."""
    columns = [permits_admin._column(cl, name, index)
               for index, name in enumerate(cl.list_display)]
    with translation.override(language), timezone.override(zone):
        if one_function:
            return list(permits_admin.case_rows(cl, columns))
        with monkeypatch.context() as patch:
            patch.setattr(permits_admin, "_case_row_writer", lambda *args: None)
            return list(permits_admin.case_rows(cl, columns))


def writers_made(monkeypatch):
    """The functions _case_row_writer() gives (None where it gives none)."""
    made, original = [], permits_admin._case_row_writer
    monkeypatch.setattr(permits_admin, "_case_row_writer",
                        lambda *args: made.append(original(*args)) or made[-1])
    return made


@pytest.mark.parametrize("language", ["zh-hant", "en"])
def test_one_functions_rows_are_the_cells_byte_for_byte(signed_in, odd,  # noqa: F811
                                                        language, monkeypatch):
    signed_in.cookies["django_language"] = language
    made = writers_made(monkeypatch)
    for params in PAGES:
        cl = signed_in.get(CHANGELIST, params).context["cl"]
        if not isinstance(cl.result_list, admin_list.PageRows):
            continue  # (SQLite's search: instances, cell by cell)
        for zone in ZONES:
            made.clear()
            rows = written(cl, language, zone)
            # (One function wrote them; an empty page has no clocks to read.)
            assert (made and made[0] is not None) or not rows, params
            by_cells = written(cl, language, zone, one_function=False,
                               monkeypatch=monkeypatch)
            assert rows == by_cells and len(rows) == len(cl.result_list), (params, zone)
            with translation.override(language), timezone.override(zone):
                columns = [permits_admin._column(cl, name, index)
                           for index, name in enumerate(cl.list_display)]
                assert rows == list(old_rows(cl, columns)), (params, zone)
        assert rows or params.get("queue") == "overdue", params
        if not params:  # every kind of value was written
            shown = "".join(rows)
            assert '<th class="field-number"><a href="' in shown
            assert "&lt;i&gt;&quot;審核&amp;&#x27;員&lt;/i&gt;" in shown
            assert "&lt;&amp;&gt;&#x27;&quot;" in shown
            assert 'class="field-applicant_name">-</td>' in shown
            assert 'class="field-submitted_at">-</td>' in shown
            assert "case-clock-overdue" in shown and "risk-badge" in shown


def test_the_dates_are_each_zones(signed_in, odd):  # noqa: F811
    """London's two 01:30s of 25 October are written apart; New York's 8 March skips 02:xx."""
    cl = signed_in.get(CHANGELIST, {"o": "-9.1"}).context["cl"]
    shown = {zone: "".join(written(cl, "en", zone)) for zone in ZONES}
    assert "115/10/25 01:59" in shown["Europe/London"]  # 00:59 UTC, summer time
    assert "115/10/25 01:01" in shown["Europe/London"]  # 01:01 UTC, winter time
    assert "115/03/29 02:30" in shown["Europe/London"]  # 01:30 UTC: summer time begun
    assert "115/03/29 00:30" in shown["Europe/London"]
    assert "115/03/08 01:59" in shown["America/New_York"]
    assert "115/11/01 01:30" in shown["America/New_York"]  # the hour twice
    assert "115/11/01 00:30" not in shown["America/New_York"]
    assert "115/03/29 08:30" in shown["Asia/Taipei"] and "115/12/31 23:59" in shown["UTC"]
    assert "116/01/01 07:59" in shown["Asia/Taipei"]


def test_a_key_that_is_not_a_number_gets_djangos_link(signed_in, busy):  # noqa: F811
    cl = signed_in.get(CHANGELIST).context["cl"]
    expected = written(cl, "zh-hant", "Asia/Taipei")
    page = cl.result_list
    at = page.at["id"]
    page.rows = [(*row[:at], str(row[at]), *row[at + 1:]) for row in page.rows]
    assert written(cl, "zh-hant", "Asia/Taipei") == expected and expected


def test_other_columns_are_written_cell_by_cell(signed_in, busy, monkeypatch):  # noqa: F811
    cl = signed_in.get(CHANGELIST).context["cl"]
    columns = [permits_admin._column(cl, name, index)
               for index, name in enumerate(cl.list_display)]
    empty = cl.model_admin.get_empty_value_display()
    assert permits_admin._case_row_writer(cl, columns, empty) is not None
    # Another order, a column fewer, another function for a column, a display's own
    # cells taken away: none.
    assert permits_admin._case_row_writer(cl, columns[::-1], empty) is None
    assert permits_admin._case_row_writer(cl, columns[:-1], empty) is None
    name, field, _display = columns[9]
    assert permits_admin._case_row_writer(
        cl, [*columns[:9], (name, field, lambda case: "x"), *columns[10:]], empty) is None
    monkeypatch.delattr(permits_admin.ApplicationAdmin.risks, "page_cell")
    assert permits_admin._case_row_writer(cl, columns, empty) is None


def test_a_subclass_overriding_a_column_is_written_cell_by_cell(signed_in, busy,  # noqa: F811
                                                                 monkeypatch):
    cl = signed_in.get(CHANGELIST).context["cl"]

    class Other(permits_admin.ApplicationAdmin):
        def number(self, obj):
            return "other"

    other = Other(Application, cl.model_admin.admin_site)
    monkeypatch.setattr(cl, "model_admin", other)
    columns = [permits_admin._column(cl, name, index)
               for index, name in enumerate(cl.list_display)]
    assert permits_admin._case_row_writer(cl, columns, "-") is None
