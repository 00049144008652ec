"""The reviewers' case list's 工作天 and 風險 columns (issue 14, points 2 and 4): the open
stage's working days of its target, an overdue one marked in words as well as in red, a
paused clock while the applicant has the case, a badge per kind of open risk flag (names
escaped), and three queries a page whatever its length."""

import datetime
import re

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from permits import admin as permits_admin
from permits.models import Application, Status, StatusChange
from permits.prepared import arrays_supported
from shtc.models import RiskFlag, RiskFlagKind
from tests.permits.test_admin_list import CHANGELIST, signed_in  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def rows(client, language="en", **params):
    """{case pk: the HTML of its row} of the list's first page."""
    client.cookies["django_language"] = language
    response = client.get(CHANGELIST, params)
    assert response.status_code == 200
    found = {}
    for row in re.findall(r"<tr>(.*?)</tr>", response.content.decode(), re.S):
        match = re.search(r'href="[^"]*/(\d+)/change/', row)
        if match:
            found[int(match.group(1))] = row
    return found


def cell(row, name):
    match = re.search(rf'<td class="field-{name}[^"]*">(.*?)</td>', row, re.S)
    assert match, row
    return match.group(1)


def backdate(case, days):
    StatusChange.objects.filter(application=case).update(
        created_at=timezone.now() - datetime.timedelta(days=days))


def test_a_case_in_initial_review_past_its_target_is_overdue(signed_in, make_case,  # noqa: F811
                                                               applicant):
    late = make_case(applicant, status=Status.INITIAL_REVIEW)
    backdate(late, 40)  # 40 calendar days: well past 7 working days
    fresh = make_case(applicant, status=Status.INITIAL_REVIEW)
    found = rows(signed_in)
    shown = cell(found[late.pk], "working_days")
    assert "case-clock-overdue" in shown
    assert re.search(r"\b\d\d/7 <strong>overdue</strong>", shown), shown  # words, not colour
    assert "Initial review" in shown and "due" in shown  # the title: stage and due date
    fresh_shown = cell(found[fresh.pk], "working_days")
    assert ">0/7<" in fresh_shown and "overdue" not in fresh_shown
    # The column's header, in Chinese too (an existing word: 風險).
    assert "<span>risk</span>" in signed_in.get(CHANGELIST).content.decode().lower()
    signed_in.cookies["django_language"] = "zh-hant"
    assert "<span>風險</span>" in signed_in.get(CHANGELIST).content.decode()


def test_a_case_with_the_applicant_shows_its_clock_paused(signed_in, make_case,  # noqa: F811
                                                          applicant, reviewer):
    waiting = make_case(applicant, status=Status.SUPPLEMENT, reviewer=reviewer)
    draft = make_case(applicant)
    issued = make_case(applicant, status=Status.APPROVED, reviewer=reviewer)
    found = rows(signed_in)
    assert "case-clock-paused" in cell(found[waiting.pk], "working_days")
    assert "paused (with the applicant)" in cell(found[waiting.pk], "working_days")
    for case in (draft, issued):  # no stage with a target open: blank
        assert cell(found[case.pk], "working_days").strip() in ("", "&nbsp;")


def test_a_case_with_a_screening_match_shows_its_badge(signed_in, make_case,  # noqa: F811
                                                       applicant):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    RiskFlag.objects.filter(application=case).delete()  # only those made here
    RiskFlag.objects.create(
        application=case, kind=RiskFlagKind.SCREENING_MATCH, score=93.4,
        params={"role": "end_user", "name": '<b>Evil & "Co"</b>', "listed": "Evil Co",
                "source_list": "<i>list</i>"})
    RiskFlag.objects.create(application=case, kind=RiskFlagKind.CONTROLLED_DESTINATION,
                            params={"country": "KP"})
    RiskFlag.objects.create(application=case, kind=RiskFlagKind.TRANSIT_PORT,  # decided
                            params={"port": "IRBND", "country": "IR"},
                            decided_at=timezone.now())
    other = make_case(applicant, status=Status.INITIAL_REVIEW)
    RiskFlag.objects.filter(application=other).delete()
    page = signed_in.get(CHANGELIST, HTTP_COOKIE="django_language=en").content.decode()
    assert "<b>Evil" not in page and "<i>list" not in page
    shown = cell(rows(signed_in)[case.pk], "risks")
    assert ">screening list, similarity 93</span>" in shown
    assert "&lt;b&gt;Evil &amp; &quot;Co&quot;&lt;/b&gt;" in shown  # the flag's words, escaped
    assert re.search(r'class="risk-badge risk-controlled_destination"[^>]*>North Korea<',
                     shown), shown
    assert "transit" not in shown.lower()  # decided: no badge
    assert shown.count("risk-badge") == 2
    assert cell(rows(signed_in)[other.pk], "risks").strip() in ("", "&nbsp;")
    zh = cell(rows(signed_in, "zh-hant")[case.pk], "risks")
    assert ">北韓</span>" in zh  # the countries' table speaks the page's language


def list_queries(client):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(CHANGELIST).status_code == 200
    return [query["sql"] for query in queries]


def test_the_columns_cost_three_queries_for_5_or_40_cases(signed_in, make_case,  # noqa: F811
                                                          applicant, monkeypatch):
    signed_in.cookies["django_language"] = "en"
    for _ in range(5):
        backdate(make_case(applicant, status=Status.INITIAL_REVIEW), 20)
    list_queries(signed_in)  # what a process reads once (the reference tables) read
    few = list_queries(signed_in)
    assert len(rows(signed_in)) == 5
    for _ in range(35):
        backdate(make_case(applicant, status=Status.INITIAL_REVIEW), 20)
    many = list_queries(signed_in)
    found = rows(signed_in)
    assert len(found) == 40 and all("overdue" in cell(row, "working_days")
                                    for row in found.values())
    assert len(many) == len(few), (few, many)
    monkeypatch.setattr(permits_admin.CaseChangeList, "clocks_and_flags",
                        lambda self, request: None)
    without = list_queries(signed_in)
    # The history, the rules, the flags; on PostgreSQL the history and the flags in one
    # round trip (permits.prepared.together), logged as one query, with the date
    # drill-down's bounds, which were a query of their own.
    assert len(many) - len(without) == (1 if arrays_supported() else 3)
    if arrays_supported():
        assert len([sql for sql in without if "MIN(d), MAX(d)" in sql]) == 1
        assert len([sql for sql in many if "MIN(d), MAX(d)" in sql
                    and 'FROM "shtc_riskflag"' in sql]) == 1
    for table in ("permits_statuschange", "permits_reviewtarget", "shtc_riskflag"):
        assert len([sql for sql in many if f'FROM "{table}"' in sql]) == 1, table
        assert not [sql for sql in without if f'FROM "{table}"' in sql], table


def test_an_empty_page_reads_no_clock(signed_in, monkeypatch):  # noqa: F811
    assert not Application.objects.exists()
    list_queries(signed_in)
    with_columns = list_queries(signed_in)
    monkeypatch.setattr(admin.site._registry[Application], "list_display",  # noqa: SLF001
                        admin.site._registry[Application].list_display[:-2])  # noqa: SLF001
    assert len(list_queries(signed_in)) == len(with_columns)


def test_the_compiled_queries_give_what_the_engines_give(signed_in, make_case,  # noqa: F811
                                                         applicant, reviewer, monkeypatch):
    """The history and flags read by queries compiled once (PostgreSQL) draw the same cells
    as workdays.clocks() and shtc.risk.flags_of() (elsewhere)."""
    late = make_case(applicant, status=Status.INITIAL_REVIEW)
    backdate(late, 30)
    make_case(applicant, status=Status.SUPPLEMENT, reviewer=reviewer)
    make_case(applicant, status=Status.APPROVED, reviewer=reviewer)
    RiskFlag.objects.create(application=late, kind=RiskFlagKind.SCREENING_MATCH, score=91.0,
                            params={"role": "buyer", "name": "A & B", "listed": "AB"})
    RiskFlag.objects.create(application=late, kind=RiskFlagKind.WATCHED_DESTINATION,
                            params={"country": "CN"}, decided_at=timezone.now())
    compiled = rows(signed_in)
    assert "overdue" in cell(compiled[late.pk], "working_days")
    monkeypatch.setattr(permits_admin, "arrays_supported", lambda: False)
    assert rows(signed_in) == compiled
