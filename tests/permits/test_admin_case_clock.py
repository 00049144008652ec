"""The working-day clock and the risk flags on the reviewers' case page (issue 14, points 2
and 4; permits.admin_case.review_extras_html, shtc.review.risk_panel_html): each stage's
working days of its target with the due date in ROC, overdue said in words, paused while the
applicant has the case; an SHTC case's flags, escaped, read in the page's one round trip."""

import datetime
import importlib
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from masks.models import MaskApplication
from permits import admin_case, workdays
from permits.models import DocumentType, Status, StatusChange
from portal.dates import to_roc
from tests.browser.conftest import axe, browser, page  # noqa: F401 (fixtures)
from tests.permits.test_admin_case import change_url
from tests.services import log_in, orm, seed_reference_data, seed_shtc
from tests.shtc.review_cases import shtc_case  # noqa: F401 (a fixture)
from tests.shtc.test_risk_flags import listed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def seeded_targets():
    """The targets as the data migration seeds them (SHTC: 初審 7, 協查 30 working days): a
    transactional test before may have emptied the table."""
    from django.apps import apps

    importlib.import_module("permits.migrations.0010_workday_calendar").seed_targets(apps, None)


def drawn(client, case, language="en"):
    client.cookies["django_language"] = language
    response = client.get(change_url(case))
    assert response.status_code == 200
    assert "adminform" not in response.context  # the reviewers' own page
    return response.content.decode()


def section(html, testid):
    found = re.search(rf'<(section|li|p)[^>]*data-testid="{testid}".*?</\1>', html, re.S)
    assert found, testid
    return found.group(0)


def entered_initial_review(case, days_ago):
    when = timezone.now() - datetime.timedelta(days=days_ago)
    StatusChange.objects.filter(application=case, new=Status.INITIAL_REVIEW).update(
        created_at=when)
    return timezone.localdate(when)


def test_a_case_in_initial_review_shows_its_clock_and_due_date(client, reviewer, make_case,
                                                                applicant):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    entered = entered_initial_review(case, 0)
    client.force_login(reviewer)
    html = drawn(client, case)
    clock = section(html, "case-clock")
    due = workdays.load_rules().calendar.add(entered, 7)
    assert section(clock, "clock-initial_review") == (
        '<li class="case-clock-stage case-clock-open" data-testid="clock-initial_review">'
        f"Initial review: 0 of 7 working days, due {to_roc(due)}</li>")
    assert "overdue" not in clock and 'data-testid="clock-paused"' not in clock
    # Below the moves, above the case's data.
    assert html.index('id="review-moves"') < html.index('data-testid="case-clock"') \
        < html.index('id="application_form"')
    # The clock says the stage in the page's language.
    assert "初審" in section(drawn(client, case, "zh-hant"), "clock-initial_review")


def test_an_overdue_case_says_so_in_words_and_red(client, reviewer, make_case, applicant):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    entered = entered_initial_review(case, 30)  # some 20 working days: past 7
    client.force_login(reviewer)
    stage = section(drawn(client, case), "clock-initial_review")
    used = workdays.load_rules().calendar.count(entered, timezone.localdate())
    assert used > 7
    assert 'class="case-clock-stage case-clock-overdue case-clock-open"' in stage
    assert f"Initial review: {used} of 7 working days" in stage
    assert '<strong class="case-clock-late">overdue</strong>' in stage


def test_a_case_with_the_applicant_shows_its_clock_paused(client, reviewer, make_case,
                                                          applicant):
    case = make_case(applicant, status=Status.SUPPLEMENT, reviewer=reviewer)
    client.force_login(reviewer)
    clock = section(drawn(client, case), "case-clock")
    assert "Paused: the case is with the applicant" in section(clock, "clock-paused")
    # The stage it left, without a due date (no stage is open).
    stage = section(clock, "clock-initial_review")
    assert "of 7 working days" in stage and "due" not in stage and "case-clock-open" not in stage


def test_an_shtc_case_shows_its_flags_escaped(client, reviewer, shtc_case):  # noqa: F811
    listed("<script>alert(1)</script> Trading Company", source="UNSC")
    case = shtc_case(destination="CN", buyer="<script>alert(1)</script> Trading Co., Ltd.")
    client.force_login(reviewer)
    html = drawn(client, case)
    panel = section(html, "risk-panel")
    assert "<script>alert" not in html
    assert "Risk flags" in panel and 'data-testid="risk-none"' not in panel
    # Each kind named, each flag's sentence; the match with its entry, list and score.
    assert "Destination mainland China or the UAE" in panel
    assert "Matches the screening list" in panel
    match = section(panel, "risk-screening_match")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Trading Company" in match
    assert "UNSC" in match and "(score 100)" in match
    assert 'data-testid="risk-watched_destination"' in panel
    assert 'data-testid="risk-first_export"' in panel
    # In the portal's language too.
    assert "<h2 id=\"risk-panel-heading\">風險標示</h2>" in section(
        drawn(client, case, "zh-hant"), "risk-panel")


def test_an_shtc_case_without_flags_says_none_and_a_mask_case_has_no_panel(
        client, reviewer, make_case, applicant):
    shtc = make_case(applicant, status=Status.INITIAL_REVIEW)  # no parties: no flag
    mask = make_case(applicant, document_type=DocumentType.MASK_IMPORT)
    MaskApplication.objects.create(application=mask, route="postal")
    client.force_login(reviewer)
    assert section(drawn(client, shtc), "risk-none")
    html = drawn(client, mask)
    assert 'data-testid="risk-panel"' not in html and "risk-flag" not in html
    assert 'data-testid="case-clock"' in html  # a draft: not yet in the bureau's hands
    assert "Not yet in the bureau" in section(html, "case-clock")


def test_a_viewer_who_does_not_review_sees_neither(client, make_user, make_case, applicant):
    from django.contrib.auth.models import Permission

    viewer = make_user("B223456783", identifier_type="national_id", is_staff=True)
    viewer.user_permissions.add(*Permission.objects.filter(
        codename__in=["view_application", "view_item", "view_attachment"]))
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    client.force_login(viewer)
    html = drawn(client, case)
    assert 'data-testid="case-clock"' not in html and 'data-testid="risk-panel"' not in html


@pytest.mark.postgres
def test_the_flags_come_in_the_round_trip_and_the_clock_costs_one_query(
        client, reviewer, shtc_case, monkeypatch):  # noqa: F811
    case = shtc_case(destination="CN")
    client.force_login(reviewer)

    def counted():
        drawn(client, case)  # caches warm
        with CaptureQueriesContext(connection) as queries:
            drawn(client, case)
        return [query["sql"] for query in queries.captured_queries]

    with_them = counted()
    with monkeypatch.context() as patch:
        patch.setattr(admin_case, "_flagged", lambda case: False)
        patch.setattr(admin_case, "review_extras_html", lambda *args: "")
        without = counted()
    # The flags and the rules of the calendar and targets (permits.workdays.RULES_QUERY) in
    # the round trip of the tables, the history among them: no query more.
    trip = next(sql for sql in with_them if '"shtc_riskflag"' in sql)
    assert {'"permits_statuschange"', '"permits_attachment"', '"permits_workdayadjustment"',
            '"permits_reviewtarget"'} <= set(re.findall(r'"\w+"', trip))
    assert len(with_them) == len(without), (len(with_them), len(without))
    assert sum('"permits_workdayadjustment"' in sql for sql in with_them) == 1


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_reviewer_reads_the_clock_and_the_flags_in_chromium(reviewer, shtc_case,  # noqa: F811
                                                              live_server, page, axe):  # noqa: F811
    """In Chromium, in both languages: the overdue clock and the flags as a reviewer sees
    them, the page passing the WCAG 2.1 AA audit (axe-core), the red said in words."""
    orm(seed_reference_data)
    orm(seed_shtc)
    orm(listed, "Acme Trading Company Limited")
    case = orm(shtc_case, destination="CN", buyer="Acme Trading Co., Ltd.")
    orm(entered_initial_review, case, 30)
    orm(lambda: (reviewer.set_password("reviewer-password-1"), reviewer.save()))
    for language, heading in (("zh-hant", "風險標示"), ("en", "Risk flags")):
        page.context.clear_cookies()
        page.context.add_cookies([{"name": "django_language", "value": language,
                                   "url": live_server.url}])
        log_in(page, f"{live_server.url}/admin/login/?next=/admin/", reviewer.identifier,
               "reviewer-password-1")
        page.goto(f"{live_server.url}{change_url(case)}")
        axe.audit(page)
        late = page.locator("[data-testid=clock-initial_review] .case-clock-late")
        if language == "en":  # (the catalogue's words for the new text come with the merge)
            assert late.inner_text() == "overdue"
        assert late.is_visible()
        assert page.locator("#risk-panel-heading").inner_text() == heading
        assert page.locator("[data-testid=risk-screening_match]").is_visible()
        assert page.locator("[data-testid=risk-watched_destination]").is_visible()
