"""The working-day clock (issue 14, X3; permits/workdays.py): Taiwan's calendar with the
bureau's adjustments, a stage's days, due date and overdue flag from the status history, the
batch in constant queries, the applicant's expected date, the admin pages of the data."""

import datetime
import importlib
import threading
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from permits import workdays
from permits.models import (
    DocumentType,
    ReviewStage,
    ReviewTarget,
    Status,
    StatusChange,
    WorkdayAdjustment,
    WorkdayKind,
)
from permits.workdays import Calendar, Rules
from tests import services

D = datetime.date
TAIPEI = ZoneInfo("Asia/Taipei")
SHTC = DocumentType.SHTC_EXPORT
TARGETS = {(SHTC, ReviewStage.INITIAL_REVIEW): 7, (SHTC, ReviewStage.CONSULTATION): 30}


@pytest.fixture(autouse=True)
def seeded_targets(request):
    """The targets as the data migration seeds them: a transactional test before may have
    emptied the table."""
    if request.node.get_closest_marker("django_db"):
        from django.apps import apps

        importlib.import_module("permits.migrations.0010_workday_calendar").seed_targets(
            apps, None)


def at(day, hour=10):
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=TAIPEI)


def moves(*steps):
    """History rows [(status, date)], oldest first."""
    return [SimpleNamespace(new=status, created_at=at(day)) for status, day in steps]


# --- the calendar -----------------------------------------------------------------------

def test_it_skips_a_weekend():
    # Friday 2026-12-04 → Monday 12-07: only the Monday.
    assert Calendar().count(D(2026, 12, 4), D(2026, 12, 7)) == 1
    assert Calendar().add(D(2026, 12, 4), 1) == D(2026, 12, 7)


def test_it_skips_a_national_holiday_and_its_observed_day():
    # 國慶日 2026-10-10 is a Saturday, observed (補假) on Friday 10-09: Thursday 10-08 →
    # Tuesday 10-13 has two working days (Monday, Tuesday).
    calendar = Calendar()
    assert not calendar.is_workday(D(2026, 10, 9))
    assert calendar.count(D(2026, 10, 8), D(2026, 10, 13)) == 2
    # 春節 2026: 2/16 to 2/20 off.
    assert calendar.count(D(2026, 2, 13), D(2026, 2, 23)) == 1


def test_it_counts_the_national_make_up_saturday():
    # The package's 補班 Saturday 2025-02-08 (for the bridging day 2025-01-27) is worked.
    calendar = Calendar()
    assert calendar.is_workday(D(2025, 2, 8))
    assert calendar.count(D(2025, 2, 7), D(2025, 2, 10)) == 2


def test_it_counts_a_make_up_saturday_of_the_bureau():
    calendar = Calendar([(D(2026, 12, 12), WorkdayKind.WORKDAY)])
    assert calendar.count(D(2026, 12, 11), D(2026, 12, 14)) == 2
    assert calendar.add(D(2026, 12, 11), 1) == D(2026, 12, 12)
    assert Calendar().count(D(2026, 12, 11), D(2026, 12, 14)) == 1


def test_it_skips_a_typhoon_day_off():
    calendar = Calendar([(D(2026, 12, 9), WorkdayKind.DAY_OFF)])
    assert calendar.count(D(2026, 12, 8), D(2026, 12, 10)) == 1
    assert calendar.add(D(2026, 12, 8), 1) == D(2026, 12, 10)


def test_it_counts_across_years_as_day_by_day():
    calendar = Calendar([(D(2026, 12, 30), WorkdayKind.DAY_OFF),
                         (D(2027, 1, 2), WorkdayKind.WORKDAY)])
    start, end = D(2025, 11, 20), D(2027, 2, 20)
    by_day = sum(calendar.is_workday(start + datetime.timedelta(days=n))
                 for n in range(1, (end - start).days + 1))
    assert calendar.count(start, end) == by_day
    assert calendar.count(end, start) == 0


@pytest.mark.django_db
def test_it_reads_the_adjustments_and_targets_in_one_query(django_assert_num_queries):
    WorkdayAdjustment.objects.create(date=D(2026, 12, 9), kind=WorkdayKind.DAY_OFF)
    WorkdayAdjustment.objects.create(date=D(2026, 12, 12), kind=WorkdayKind.WORKDAY)
    with django_assert_num_queries(1):
        rules = workdays.load_rules()
    # The data migration's targets (SHTC manual §1.6); masks have none.
    assert rules.target(SHTC, ReviewStage.INITIAL_REVIEW) == 7
    assert rules.target(SHTC, ReviewStage.CONSULTATION) == 30
    assert rules.target(DocumentType.MASK_IMPORT, ReviewStage.INITIAL_REVIEW) is None
    assert not rules.calendar.is_workday(D(2026, 12, 9))
    assert rules.calendar.is_workday(D(2026, 12, 12))


# --- one case's clock ---------------------------------------------------------------------

RULES = Rules(calendar=Calendar(), targets=TARGETS)


def test_it_counts_the_stage_and_gives_its_due_date():
    # Submitted Monday 2026-11-30: 7 working days → Wednesday 12-09.
    history = moves((Status.INITIAL_REVIEW, D(2026, 11, 30)))
    clock = workdays.clock(status=Status.INITIAL_REVIEW, document_type=SHTC, history=history,
                           rules=RULES, today=D(2026, 12, 9))
    assert (clock.current.stage, clock.current.days, clock.due) == (
        ReviewStage.INITIAL_REVIEW, 7, D(2026, 12, 9))
    assert not clock.overdue
    late = workdays.clock(status=Status.INITIAL_REVIEW, document_type=SHTC, history=history,
                          rules=RULES, today=D(2026, 12, 10))
    assert (late.current.days, late.due, late.overdue) == (8, D(2026, 12, 9), True)


def test_it_stops_the_clock_while_the_applicant_has_the_case():
    # 初審 Monday 11-30 → 補件 Wednesday 12-02 (2 days: Tue, Wed) → back Monday 12-07.
    history = moves((Status.INITIAL_REVIEW, D(2026, 11, 30)), (Status.SUPPLEMENT, D(2026, 12, 2)),
                    (Status.INITIAL_REVIEW, D(2026, 12, 7)))
    paused = workdays.clock(status=Status.SUPPLEMENT, document_type=SHTC, history=history[:2],
                            rules=RULES, today=D(2026, 12, 30))
    assert (paused.paused, paused.current, paused.days, paused.overdue) == (True, None, 2, False)
    back = workdays.clock(status=Status.INITIAL_REVIEW, document_type=SHTC, history=history,
                          rules=RULES, today=D(2026, 12, 10))
    # 2 before, 3 since (Tue to Thu); the 5 left run out on Monday 12-14.
    assert (back.current.days, back.due, back.overdue) == (5, D(2026, 12, 14), False)
    assert workdays.clock(status=Status.INITIAL_REVIEW, document_type=SHTC, history=history,
                          rules=RULES, today=D(2026, 12, 15)).overdue


def test_it_keeps_each_stage_apart_and_returned_goes_on_with_initial_review():
    history = moves((Status.INITIAL_REVIEW, D(2026, 11, 30)),
                    (Status.CONSULTATION, D(2026, 12, 3)),  # 初審 3 days
                    (Status.RETURNED, D(2026, 12, 10)),  # 協查 5 days
                    (Status.SECOND_REVIEW, D(2026, 12, 14)),  # 初審 2 more (Fri, Mon)
                    (Status.APPROVED, D(2026, 12, 15)))  # 複審 1 day
    clock = workdays.clock(status=Status.APPROVED, document_type=SHTC, history=history,
                           rules=RULES, today=D(2027, 3, 1))
    assert [(s.stage, s.days, s.target, s.open) for s in clock.stages] == [
        (ReviewStage.INITIAL_REVIEW, 5, 7, False), (ReviewStage.CONSULTATION, 5, 30, False),
        (ReviewStage.SECOND_REVIEW, 1, None, False)]
    assert (clock.days, clock.current, clock.overdue) == (11, None, False)
    assert [s.due for s in clock.stages] == [None, None, None]  # none ran out


def test_it_gives_the_day_the_target_ran_out_in_an_earlier_span():
    history = moves((Status.INITIAL_REVIEW, D(2026, 11, 2)), (Status.SUPPLEMENT, D(2026, 11, 20)),
                    (Status.INITIAL_REVIEW, D(2026, 12, 7)))
    clock = workdays.clock(status=Status.INITIAL_REVIEW, document_type=SHTC, history=history,
                           rules=RULES, today=D(2026, 12, 8))
    assert (clock.current.days, clock.due, clock.overdue) == (15, D(2026, 11, 11), True)
    # While with the applicant: late, but not overdue now (the clock stands still).
    paused = workdays.clock(status=Status.SUPPLEMENT, document_type=SHTC, history=history[:2],
                            rules=RULES, today=D(2026, 12, 1))
    (stage,) = paused.stages
    assert (stage.days, stage.due, stage.overdue, paused.overdue) == (
        14, D(2026, 11, 11), True, False)


def test_it_describes_each_stage_in_words():
    history = moves((Status.INITIAL_REVIEW, D(2026, 11, 30)),
                    (Status.SECOND_REVIEW, D(2026, 12, 1)))
    clock = workdays.clock(status=Status.SECOND_REVIEW, document_type=SHTC, history=history,
                           rules=RULES, today=D(2026, 12, 3))
    with translation.override("en"):
        assert [workdays.describe(stage) for stage in clock.stages] == [
            "Initial review: 1 of 7 working days", "Second review: 2 working days"]
        clock = workdays.clock(status=Status.INITIAL_REVIEW, document_type=SHTC,
                               history=history[:1], rules=RULES, today=D(2026, 12, 3))
        assert workdays.describe(clock.current) == \
            "Initial review: 3 of 7 working days, due 115/12/09"


def test_it_gives_no_due_date_without_a_target():
    history = moves((Status.INITIAL_REVIEW, D(2026, 11, 30)))
    clock = workdays.clock(status=Status.INITIAL_REVIEW, document_type=DocumentType.END_USE,
                           history=history, rules=RULES, today=D(2027, 6, 1))
    assert (clock.due, clock.overdue, clock.current.days > 100) == (None, False, True)


# --- a page of cases ----------------------------------------------------------------------

def _under_review(make_case, applicant, count):
    cases = [make_case(applicant, status=Status.INITIAL_REVIEW) for _ in range(count)]
    StatusChange.objects.filter(application__in=cases, new=Status.INITIAL_REVIEW).update(
        created_at=at(D(2026, 11, 30)))
    return cases


@pytest.mark.django_db
def test_it_reads_a_page_of_cases_in_two_queries_whatever_its_length(make_case, applicant):
    cases = _under_review(make_case, applicant, 50)
    counts = []
    for page in (cases[:5], cases):
        with CaptureQueriesContext(connection) as queries:
            found = workdays.clocks(page, today=D(2026, 12, 10))
        counts.append(len(queries))
        assert len(found) == len(page)
        assert {(c.current.days, c.due, c.overdue) for c in found.values()} == {
            (8, D(2026, 12, 9), True)}
    assert counts == [2, 2]


@pytest.mark.django_db
def test_it_reads_once_per_request(rf):
    request = rf.get("/")
    first = workdays.rules_for(request)
    assert workdays.rules_for(request) is first


# --- the applicant's expected date ---------------------------------------------------------

@pytest.mark.django_db
def test_it_tells_the_applicant_when_the_initial_review_should_end(
        client, make_case, applicant):
    case = _under_review(make_case, applicant, 1)[0]
    client.force_login(applicant)
    client.cookies["django_language"] = "en"
    response = client.get(reverse("permits:application_detail", args=[case.pk]))
    assert response.status_code == 200
    assert response.context["review_expected"] == \
        "Expected to complete the initial review by 115/12/09"
    assert b'data-testid="review-expected"' in response.content


@pytest.mark.django_db
def test_it_costs_the_case_page_one_query_under_review_and_none_otherwise(
        make_case, applicant, django_assert_num_queries):
    case = _under_review(make_case, applicant, 1)[0]
    history = list(case.status_changes.all())
    with django_assert_num_queries(1):
        assert workdays.expected_completion(case, history, today=D(2026, 12, 1))
    draft = make_case(applicant)
    with django_assert_num_queries(0):
        assert workdays.expected_completion(draft, []) == ""


@pytest.mark.django_db
def test_it_says_nothing_while_the_applicant_has_the_case(make_case, applicant, reviewer):
    case = make_case(applicant, status=Status.SUPPLEMENT, reviewer=reviewer)
    assert workdays.expected_completion(case, list(case.status_changes.all())) == ""


@pytest.mark.django_db
def test_it_says_nothing_for_a_stage_without_target(make_case, applicant):
    case = _under_review(make_case, applicant, 1)[0]
    ReviewTarget.objects.filter(document_type=SHTC).delete()
    assert workdays.expected_completion(case, list(case.status_changes.all())) == ""


# --- the admin pages of the data -----------------------------------------------------------

@pytest.fixture
def keeper(reviewer):
    """A reviewer also given the adjustments' add and change permissions."""
    reviewer.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="permits",
        codename__in=["add_workdayadjustment", "change_workdayadjustment",
                      "change_reviewtarget"]))
    return reviewer


def _post(client, url, **data):
    client.cookies["django_language"] = "en"
    return client.post(url, {"date": "115/12/09", "kind": WorkdayKind.DAY_OFF, "note": "颱風",
                             **data})


ADD = "admin:permits_workdayadjustment_add"


@pytest.mark.django_db
def test_it_adds_a_typhoon_day_in_the_roc_calendar(client, keeper):
    client.force_login(keeper)
    response = _post(client, reverse(ADD))
    assert response.status_code == 302
    assert WorkdayAdjustment.objects.get().date == D(2026, 12, 9)


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value", "code"), [
    ("date", "99999/01/01", "invalid"),
    ("date", "99999-01-01", "invalid"),
    ("date", "115/\u0000/01", "null_characters_not_allowed"),
    ("date", "9223372036854775808", "invalid"),
    ("date", "2150-01-01", "out_of_range"),
    ("note", "颱\u0000風", "null_characters_not_allowed"),
    ("note", "長" * 201, "max_length"),
    ("kind", "\u0000", "null_characters_not_allowed"),
    ("kind", "holiday", "invalid_choice"),
])
def test_it_refuses_bad_input_next_to_the_field(client, keeper, field, value, code):
    client.force_login(keeper)
    response = _post(client, reverse(ADD), **{field: value})
    assert response.status_code == 400
    form = response.context["form"]
    assert code in [error.code for error in form.errors.as_data()[field]]
    assert form.data[field] == value  # the typing kept
    assert not WorkdayAdjustment.objects.exists()


@pytest.mark.django_db
def test_it_refuses_a_second_adjustment_of_a_date(client, keeper):
    existing = WorkdayAdjustment.objects.create(date=D(2026, 12, 9), kind=WorkdayKind.DAY_OFF)
    client.force_login(keeper)
    response = _post(client, reverse(ADD), note="again")
    assert response.status_code == 400
    assert [e.code for e in response.context["form"].errors.as_data()["date"]] == ["unique"]
    assert b"already has an adjustment" in response.content
    assert list(WorkdayAdjustment.objects.values_list("pk", "note")) == [(existing.pk, "")]


@pytest.mark.django_db
@pytest.mark.parametrize(("day", "kind", "code"), [
    ("115/12/08", WorkdayKind.WORKDAY, "already_workday"),  # a Tuesday
    ("115/12/12", WorkdayKind.DAY_OFF, "already_off"),  # a Saturday
    ("115/10/09", WorkdayKind.DAY_OFF, "already_off"),  # 國慶日 observed
])
def test_it_refuses_an_adjustment_that_changes_nothing(client, keeper, day, kind, code):
    client.force_login(keeper)
    response = _post(client, reverse(ADD), date=day, kind=kind)
    assert response.status_code == 400
    assert [e.code for e in response.context["form"].errors.as_data()["kind"]] == [code]


@pytest.mark.django_db
def test_it_changes_an_adjustment(client, keeper):
    adjustment = WorkdayAdjustment.objects.create(date=D(2026, 12, 9), kind=WorkdayKind.DAY_OFF)
    client.force_login(keeper)
    url = reverse("admin:permits_workdayadjustment_change", args=[adjustment.pk])
    assert _post(client, url, date="115/12/12", kind=WorkdayKind.WORKDAY).status_code == 302
    adjustment.refresh_from_db()
    assert (adjustment.date, adjustment.kind) == (D(2026, 12, 12), WorkdayKind.WORKDAY)
    bad = _post(client, url, date="115/12/12", kind=WorkdayKind.WORKDAY, note="a\u0000")
    assert bad.status_code == 400


@pytest.mark.django_db
def test_it_lets_reviewers_read_but_not_change(client, reviewer):
    adjustment = WorkdayAdjustment.objects.create(date=D(2026, 12, 9), kind=WorkdayKind.DAY_OFF)
    client.force_login(reviewer)
    assert client.get(reverse("admin:permits_workdayadjustment_changelist")).status_code == 200
    assert _post(client, reverse(ADD)).status_code == 403
    url = reverse("admin:permits_workdayadjustment_change", args=[adjustment.pk])
    assert _post(client, url, note="changed").status_code == 403
    adjustment.refresh_from_db()
    assert adjustment.note == ""


@pytest.mark.django_db
@pytest.mark.parametrize(("value", "code"), [
    ("9223372036854775808", "max_value"), ("0", "min_value"), ("7\u0000", "invalid"),
    ("", "required")])
def test_it_refuses_a_bad_target(client, keeper, value, code):
    target = ReviewTarget.objects.get(document_type=SHTC, stage=ReviewStage.INITIAL_REVIEW)
    client.force_login(keeper)
    client.cookies["django_language"] = "en"
    response = client.post(reverse("admin:permits_reviewtarget_change", args=[target.pk]),
                           {"document_type": SHTC, "stage": ReviewStage.INITIAL_REVIEW,
                            "working_days": value})
    assert response.status_code == 400
    assert code in [e.code for e in response.context["form"].errors.as_data()["working_days"]]
    target.refresh_from_db()
    assert target.working_days == 7


@pytest.mark.django_db
def test_it_refuses_a_second_target_for_a_stage(client, keeper):
    keeper.user_permissions.add(Permission.objects.get(codename="add_reviewtarget"))
    client.force_login(keeper)
    client.cookies["django_language"] = "en"
    response = client.post(reverse("admin:permits_reviewtarget_add"),
                           {"document_type": SHTC, "stage": ReviewStage.INITIAL_REVIEW,
                            "working_days": "5"})
    assert response.status_code == 400
    assert b"already has a target" in response.content
    assert ReviewTarget.objects.filter(document_type=SHTC).count() == 2


@pytest.mark.django_db(transaction=True)
def test_it_tells_the_second_of_two_staff_adding_a_date_at_once(keeper):
    services.require_postgres()  # two connections writing at once: SQLite locks the file
    barrier, answers = threading.Barrier(2), []

    def add(note):
        try:
            client = Client()
            client.force_login(keeper)
            barrier.wait()
            answers.append(_post(client, reverse(ADD), note=note).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=add, args=(note,)) for note in ("一", "二")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [302, 400]
    assert WorkdayAdjustment.objects.count() == 1
