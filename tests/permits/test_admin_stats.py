"""統計, the reviewers' statistics page (issue 14 point 7; permits/admin_stats.py, permits/
charts.py): the weekly counts of cases received, decided and overdue over a window crossing
Taiwan's holidays, the median working days per stage per procedure and per reviewer, the SVG
charts drawn from them, who may open the page, a forged window, and a constant number of
queries."""

import datetime
import importlib
import re
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from permits import admin_stats, charts, workflow
from permits.models import Application, DocumentType, ReviewStage, Status, StatusChange
from portal.accounts.models import IdentifierType

pytestmark = pytest.mark.django_db

URL = reverse("admin:permits_application_statistics")
TAIPEI = ZoneInfo("Asia/Taipei")
D = datetime.date
# A Friday. The 4-week window: the weeks of Mondays 09-21, 09-28, 10-05 and 10-12 (2026).
# Holidays in it: 中秋節 Fri 09-25, 教師節 Mon 09-28, 國慶日 observed Fri 10-09.
TODAY = D(2026, 10, 16)
WEEKS = [D(2026, 9, 21), D(2026, 9, 28), D(2026, 10, 5), D(2026, 10, 12)]
SE, EU = DocumentType.SHTC_EXPORT, DocumentType.END_USE
IR, CO, SR = ReviewStage.INITIAL_REVIEW, ReviewStage.CONSULTATION, ReviewStage.SECOND_REVIEW


@pytest.fixture(autouse=True)
def seeded_targets():
    """SHTC's targets as the data migration seeds them (初審 7, 協查 30 working days): a
    transactional test before may have emptied the table."""
    from django.apps import apps

    importlib.import_module("permits.migrations.0010_workday_calendar").seed_targets(apps, None)


@pytest.fixture
def colleague(make_user, reviewer):
    """A second reviewer (the reviewers group)."""
    user = make_user("B123456780", identifier_type=IdentifierType.NATIONAL_ID, is_staff=True,
                     name="第二審核員")
    user.groups.set(reviewer.groups.all())
    return user


def at(day, hour=10):
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=TAIPEI)


def case_with(make_case, applicant, steps, document_type=SE):
    """A case moved through `steps` [(status, day, actor or None for the applicant)] by
    transition(), each move then dated `day` (10:00 in Taipei); submitted the first day."""
    case = make_case(applicant)
    for status, _day, actor in steps:
        note = "理由" if workflow.note_required(status, workflow.BUREAU) else ""
        case = workflow.transition(application=case, to=status, actor=actor or applicant,
                                   note=note)
    changes = list(StatusChange.objects.filter(application=case).order_by("pk"))
    for change, (_status, day, _actor) in zip(changes, steps, strict=True):
        StatusChange.objects.filter(pk=change.pk).update(created_at=at(day))
    Application.objects.filter(pk=case.pk).update(submitted_at=at(steps[0][1]),
                                                  document_type=document_type)
    return case


@pytest.fixture
def window(make_case, applicant, reviewer, colleague):
    """Cases whose figures in the window are worked out by hand below (working days counted
    after the day a stage was entered, up to the day it was left)."""
    r1, r2 = reviewer, colleague
    make = lambda steps, **kw: case_with(make_case, applicant, steps, **kw)  # noqa: E731
    return {
        # In 初審 since Tue 09-29: 7 working days end Thu 10-08 (09-28 off); the first day
        # past the target is Mon 10-12, as Fri 10-09 is off: overdue in the week of 10-12,
        # not of 10-05.
        "late": make([(Status.INITIAL_REVIEW, D(2026, 9, 29), None)]),
        # 初審 2 days (r1 → 協查), 協查 6 (09-25, 09-28 off; r2 → 複審), 複審 1 (r2 rejects).
        "consulted": make([(Status.INITIAL_REVIEW, D(2026, 9, 22), None),
                           (Status.CONSULTATION, D(2026, 9, 24), r1),
                           (Status.SECOND_REVIEW, D(2026, 10, 6), r2),
                           (Status.REJECTED, D(2026, 10, 7), r2)]),
        # 初審 exactly 7 days (r1), on time; 複審 1 (r2 rejects Mon 10-05).
        "on_time": make([(Status.INITIAL_REVIEW, D(2026, 9, 21), None),
                         (Status.SECOND_REVIEW, D(2026, 10, 2), r1),
                         (Status.REJECTED, D(2026, 10, 5), r2)]),
        # Submitted before the window; 初審 due Wed 09-23, overdue from Thu 09-24; rejected
        # late by r1 on Wed 09-30 after 10 days: overdue in two weeks, decided in one.
        "closed_late": make([(Status.INITIAL_REVIEW, D(2026, 9, 14), None),
                             (Status.REJECTED, D(2026, 9, 30), r1)]),
        # An end-use assurance (no targets): 初審 3 days (r2), 複審 2 (r1 rejects).
        "assurance": make([(Status.INITIAL_REVIEW, D(2026, 9, 22), None),
                           (Status.SECOND_REVIEW, D(2026, 9, 29), r2),
                           (Status.REJECTED, D(2026, 10, 1), r1)], document_type=EU),
        # 補件 after 2 days of 初審, back on 10-05: 2 + 8 days, past 7 since Wed 10-14 (due
        # Tue 10-13); the move to 補件 finishes no stage.
        "paused": make([(Status.INITIAL_REVIEW, D(2026, 9, 21), None),
                        (Status.SUPPLEMENT, D(2026, 9, 23), r1),
                        (Status.INITIAL_REVIEW, D(2026, 10, 5), None)]),
        # Before the window, and decided before it: counted nowhere.
        "old": make([(Status.INITIAL_REVIEW, D(2026, 8, 3), None),
                     (Status.REJECTED, D(2026, 8, 20), r1)]),
    }


def test_it_counts_cases_received_decided_and_overdue_per_week(window):
    figures = admin_stats.compute(4, TODAY)
    assert figures.weeks == WEEKS
    assert figures.received == [4, 1, 0, 0]
    assert figures.decided == [0, 2, 2, 0]
    assert figures.overdue == [1, 1, 0, 2]


def test_only_the_bureaus_closing_moves_are_decisions():
    decisions = admin_stats.DECISIONS
    assert (Status.SUPPLEMENT, Status.REJECTED) in decisions
    assert (Status.SECOND_REVIEW, Status.APPROVED) in decisions
    assert (Status.CONSULTATION, Status.CANCELLED) in decisions
    # A mask permit issued at once by the portal, an applicant's own cancellation: not.
    assert (Status.DRAFT, Status.APPROVED) not in decisions
    assert (Status.REGISTERED, Status.CANCELLED) not in decisions
    assert {new for _old, new in decisions} == workflow.CLOSED


def test_a_longer_window_reaches_further_back(window):
    figures = admin_stats.compute(12, TODAY)
    assert len(figures.weeks) == 12 and figures.weeks[-1] == WEEKS[-1]
    assert figures.weeks[0] == D(2026, 7, 27)
    assert sum(figures.received) == 7  # "old" and "closed_late" too
    assert sum(figures.decided) == 5


def test_it_gives_the_median_working_days_per_stage_and_procedure(window):
    figures = admin_stats.compute(4, TODAY)
    # (median, stages): 初審 of 2, 7 and 10 days; 複審 of 1 and 1.
    assert figures.by_procedure == {(SE, IR): (7, 3), (SE, CO): (6, 1), (SE, SR): (1, 2),
                                    (EU, IR): (3, 1), (EU, SR): (2, 1)}
    rows = dict(admin_stats.median_rows(figures.by_procedure, DocumentType.values,
                                        dict(DocumentType.choices)))
    assert rows[SE.label] == [(7, 3), (6, 1), (1, 2)]
    assert rows[EU.label] == [(3, 1), (None, 0), (2, 1)]
    assert DocumentType.MASK_IMPORT.label not in rows  # no stage: no row


def test_it_gives_the_median_working_days_per_reviewer(window, reviewer, colleague):
    figures = admin_stats.compute(4, TODAY)
    assert figures.by_reviewer == {
        (reviewer.pk, IR): (7, 3),  # 2, 7 and 10 days
        (reviewer.pk, SR): (2, 1),
        (colleague.pk, IR): (3, 1), (colleague.pk, CO): (6, 1), (colleague.pk, SR): (1, 2)}
    assert figures.reviewers == {reviewer.pk: reviewer.name, colleague.pk: colleague.name}
    rows = dict(admin_stats.median_rows(figures.by_reviewer, [reviewer.pk, colleague.pk],
                                        figures.reviewers))
    assert rows[reviewer.name] == [(7, 3), (None, 0), (2, 1)]
    # An even number of stages: the mean of the middle two.
    assert admin_stats._median([2, 3, 4, 9]) == 3.5  # noqa: SLF001


def test_it_draws_the_weeks_as_bars_whose_heights_follow_the_data():
    svg = str(charts.bar_chart(
        chart_id="c", title="Cases <per> week", description="Received & decided",
        categories=["115/09/21", "115/09/28"],
        series=[charts.Series("Received", (4, 1)), charts.Series("Decided", (0, 2))]))
    assert 'role="img"' in svg and 'aria-labelledby="c-title c-desc"' in svg
    assert '<title id="c-title">Cases &lt;per&gt; week</title>' in svg
    assert '<desc id="c-desc">Received &amp; decided</desc>' in svg
    bars = re.findall(r'<rect class="chart-bar chart-series-(\d)"[^>]*height="([\d.]+)" '
                      r'data-value="(\d+)"', svg)
    heights = {(series, value): float(height) for series, height, value in bars}
    assert len(bars) == 4
    assert heights[("0", "4")] == pytest.approx(4 * heights[("0", "1")])
    assert heights[("1", "2")] == pytest.approx(2 * heights[("0", "1")])
    assert heights[("1", "0")] == 0
    assert charts.nice_top(7) == 10 and charts.nice_top(23) == 25 and charts.nice_top(0) == 1
    assert "style=" not in svg and "<script" not in svg  # the CSP: classes and attributes


@pytest.fixture
def signed_in(client, reviewer):
    client.force_login(reviewer)
    client.cookies["django_language"] = "en"
    return client


def test_the_page_draws_the_charts_and_tables(signed_in, window, reviewer, monkeypatch):
    monkeypatch.setattr(admin_stats, "window_end", lambda: TODAY)
    response = signed_in.get(URL, {"weeks": "4"})
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('role="img"') == 2  # the weeks, the medians per procedure
    assert '<title id="chart-weekly-title">Cases per week</title>' in page
    # The bars of "received" are as high as the weeks' counts say: 4, 1, 0, 0.
    start = page.index('id="chart-weekly"')
    weekly = page[start:page.index("</svg>", start)]
    received = [float(h) for h in re.findall(
        r'chart-bar chart-series-0"[^>]*height="([\d.]+)"', weekly)]
    assert received[0] == pytest.approx(4 * received[1]) and received[2:] == [0, 0]
    # The same figures in a table, its headers scoped.
    table = page[page.index('id="weekly-table"'):]
    assert '<th scope="row">115/09/21</th><td>4</td><td>0</td><td>1</td>' in table
    assert '<th scope="row">115/10/12</th><td>0</td><td>0</td><td>2</td>' in table
    assert '<th scope="col">Received</th>' in table
    procedures = page[page.index('id="procedure-table"'):]
    assert re.search(r"SHTC export permit</th><td>7 \(3\)</td><td>6 \(1\)</td><td>1 \(2\)</td>",
                     procedures)
    reviewers = page[page.index('id="reviewer-table"'):]
    assert f'<th scope="row">{reviewer.name}</th><td>7 (3)</td>' in reviewers
    assert "Overdue: a review stage of the case went past its target" in page
    assert re.search(r"Figures as of \d\d:\d\d", page)


def test_it_is_linked_from_the_index_and_the_case_list(signed_in):
    for url in (reverse("admin:index"), reverse("admin:permits_application_changelist")):
        assert f'href="{URL}"' in signed_in.get(url).content.decode()
    assert "<h1>Statistics</h1>" in signed_in.get(URL).content.decode()


def test_the_figures_are_kept_for_the_day_and_window(signed_in, make_case, applicant):
    first = signed_in.get(URL).context["weekly_rows"]
    make_case(applicant, status=Status.INITIAL_REVIEW)
    assert signed_in.get(URL).context["weekly_rows"] == first  # cached: "as of" the time
    cache.clear()
    assert sum(row[1] for row in signed_in.get(URL).context["weekly_rows"]) == 1


@pytest.mark.parametrize("value", ["9223372036854775808", "a\x00b", "\x00", "text", "13",
                                   "-4", "@" * 5000])
def test_a_forged_window_is_said_next_to_the_field(signed_in, value):
    response = signed_in.get(URL, {"weeks": value})
    assert response.status_code == 200
    # The portal's words, not Django's, which would repeat the value sent (of any length);
    # a NUL gets the text rule's own message (portal.forms.TextRuleMixin), as on every form.
    error = response.context["form"].errors.as_data()["weeks"][0]
    if "\x00" in value:
        assert error.code == "null_characters_not_allowed"
    else:
        assert error.code == "invalid_choice"
        assert response.context["form"].errors["weeks"] == ["Choose one of the windows offered."]
    assert response.context["weeks"] == admin_stats.DEFAULT_WINDOW
    assert 'class="errorlist' in response.content.decode()


def test_each_window_shows_its_weeks(signed_in):
    for weeks in admin_stats.WINDOWS:
        response = signed_in.get(URL, {"weeks": str(weeks)})
        assert len(response.context["weekly_rows"]) == weeks


def test_staff_outside_the_reviewers_are_refused(client, make_user):
    client.force_login(make_user("99999993", is_staff=True))
    assert client.get(URL).status_code == 403


def test_an_applicant_is_sent_to_the_admins_login(client, applicant):
    client.force_login(applicant)
    response = client.get(URL)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def page_queries(client):
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL, {"weeks": "52"}).status_code == 200
    return len(queries)


def test_the_page_costs_the_same_queries_for_5_or_50_cases(signed_in, make_case, applicant,
                                                           reviewer, colleague):
    def add(count):
        for number in range(count):
            case = make_case(applicant, status=Status.INITIAL_REVIEW)
            if number % 2:
                workflow.transition(application=case, to=Status.REJECTED, note="理由",
                                    actor=reviewer if number % 4 == 1 else colleague)

    add(5)
    page_queries(signed_in)  # what a process reads once read
    few = page_queries(signed_in)
    add(45)
    assert page_queries(signed_in) == few
