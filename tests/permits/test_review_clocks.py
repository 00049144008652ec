"""The reviewers' list's clocks kept per shape (bench/README.md "Stop 26 (review clocks)"):
a clock given its changes' days (permits.admin._page_clocks reads each once) is kept per
shape and rules (workdays.kept_clock), and equals the clock of its history and the clock
counted day by day, over many generated histories, statuses, document types, calendars,
time zones and days; the rules' change is seen by the next page's clocks; and the preserved
filters are encoded once a request."""

import datetime
import operator
import random
import zoneinfo

import pytest
from django.contrib.admin.options import ModelAdmin
from django.utils import timezone

from permits import admin as permits_admin
from permits import workdays
from permits.models import (
    DocumentType,
    ReviewStage,
    Status,
    WorkdayAdjustment,
    WorkdayKind,
)
from tests.permits.test_admin_list import CHANGELIST, cases, signed_in  # noqa: F401
from tests.permits.test_workday_rules_kept import Request, fresh  # noqa: F401 (the fixture)

D = datetime.date
ZONES = ("Asia/Taipei", "UTC", "America/Los_Angeles")


def day_by_day(*, status, document_type, history, rules, today):
    """A case's clock counted day by day (the reference): each stage's working days one by
    one; due, the target's working day counted from the stage's first day (a target of 0:
    that day), or while open and short of it, counted on from its last span's first day."""
    zone, calendar = timezone.get_current_timezone(), rules.calendar
    entered = [(change.new, change.created_at.astimezone(zone).date()) for change in history]
    spans = {}  # {stage: [(first, last)]}, in the order first entered
    # Each span ends on the next change's day, the last today (none without a change).
    for (new, first), last in zip(entered, [day for _new, day in entered[1:]] + [today],
                                  strict=False):
        if workdays.STAGE_OF.get(new) is not None:
            spans.setdefault(workdays.STAGE_OF[new], []).append((first, last))
    stages = []
    for stage, intervals in spans.items():
        worked = [first + datetime.timedelta(days=n) for first, last in intervals
                  for n in range(1, (last - first).days + 1)
                  if calendar.is_workday(first + datetime.timedelta(days=n))]
        target = rules.target(document_type, stage)
        is_open, due = stage == workdays.STAGE_OF.get(status), None
        if target == 0:
            due = intervals[0][0]
        elif target is not None and len(worked) >= target:
            due = worked[target - 1]
        elif target is not None and is_open:  # the days before the last span's counted
            first = intervals[-1][0]
            due, missing = first, target - sum(day <= first for day in worked)
            while missing:
                due += datetime.timedelta(days=1)
                missing -= calendar.is_workday(due)
        stages.append(workdays.StageClock(stage=stage, days=len(worked), target=target,
                                          open=is_open, due=due))
    return workdays.CaseClock(status=status, stages=tuple(stages),
                              days=sum(stage.days for stage in stages))


def calendars():
    """A plain calendar, and one with a typhoon day off, a weekday worked around the Lunar
    New Year and a Saturday worked (the bureau's adjustments)."""
    return [workdays.Calendar(), workdays.Calendar([
        (D(2026, 12, 9), WorkdayKind.DAY_OFF), (D(2027, 2, 8), WorkdayKind.DAY_OFF),
        (D(2026, 12, 12), WorkdayKind.WORKDAY), (D(2027, 1, 2), WorkdayKind.WORKDAY),
        (D(2025, 12, 31), WorkdayKind.DAY_OFF)])]


def rules_sets():
    """Targets for some stages of some procedures (others none), with each calendar."""
    stages = list(ReviewStage)
    targets = {}
    for number, document_type in enumerate(DocumentType):
        for offset, stage in enumerate(stages):
            if (number + offset) % 3:
                targets[(document_type.value, stage.value)] = (0, 1, 3, 7, 30)[
                    (number * 3 + offset) % 5]
    return [workdays.Rules(calendar=calendar, targets=dict(targets))
            for calendar in calendars()]


def histories(rng, count):
    """`count` histories [workdays.Change] oldest first, each its case's status: changes a
    few hours to weeks apart from 2025-12 to 2027-02 (New Year, the Lunar New Year, the
    adjustments), at any time of day (the day differs by zone near midnight), some the same
    day, some on a weekend; any status, under review or not, repeated or not."""
    statuses = [status.value for status in Status]
    start = datetime.datetime(2025, 12, 20, tzinfo=datetime.UTC)
    made = []
    for _ in range(count):
        at = start + datetime.timedelta(days=rng.randrange(400), minutes=rng.randrange(1440))
        history = []
        for _change in range(rng.randrange(0, 8)):
            history.append(workdays.Change(rng.choice(statuses), at))
            at += rng.choice((datetime.timedelta(minutes=rng.randrange(1, 600)),
                              datetime.timedelta(days=rng.randrange(1, 40),
                                                 minutes=rng.randrange(1440))))
        made.append((history, rng.choice(statuses if not history
                                         else [history[-1].new, *statuses[:3]])))
    return made


def shape_days(history, zone):
    days = []
    for change in history:
        days += (change.new, change.created_at.astimezone(zone).date())
    return days


def test_a_clock_is_the_clock_counted_day_by_day():
    rng = random.Random(26)
    types = [document_type.value for document_type in DocumentType]
    generated = histories(rng, 300)
    for rules in rules_sets():
        for zone in ZONES:
            with timezone.override(zone):
                for history, status in generated:
                    document_type = rng.choice(types)
                    last = history[-1].created_at.date() if history else D(2026, 6, 1)
                    # Today: the last change's day, after it, or (a clock read late) before.
                    today = last + datetime.timedelta(days=rng.choice((0, 1, 3, 20, 90, -2)))
                    expected = day_by_day(status=status, document_type=document_type,
                                          history=history, rules=rules, today=today)
                    arguments = {"status": status, "document_type": document_type,
                                 "rules": rules, "today": today}
                    assert workdays.clock(history=history, **arguments) == expected
                    days = shape_days(history, zoneinfo.ZoneInfo(zone))
                    kept = workdays.clock(days=days, **arguments)
                    assert kept == expected
                    assert workdays.clock(days=days, **arguments) is kept  # kept
                    with workdays.one_today():  # the pinned zone, today given
                        assert workdays.clock(history=history, **arguments) == expected


def test_a_pages_clocks_are_each_cases_clock_counted_day_by_day():
    """_page_clocks() over pages of generated cases (some sharing a shape) equals each
    case's clock counted day by day, in each zone, today pinned, read twice (then kept)."""
    rng = random.Random(10)
    types = [document_type.value for document_type in DocumentType]
    generated = histories(rng, 300)
    generated += generated[:60]  # cases of the same shape
    page = []
    for number, (history, status) in enumerate(generated):
        page.append((number + 1, status, types[number % len(types)], history))
    changes = [(pk, change.new, change.created_at) for pk, _status, _type, history in page
               for change in history]
    for rules in rules_sets():
        for zone in ZONES:
            with timezone.override(zone), workdays.one_today():
                today = workdays.zone_and_today()[1]
                expected = {pk: day_by_day(status=status, document_type=document_type,
                                           history=history, rules=rules, today=today)
                            for pk, status, document_type, history in page}
                for _twice in range(2):
                    clocks = permits_admin._page_clocks(  # noqa: SLF001
                        page, operator.itemgetter(0), operator.itemgetter(1),
                        operator.itemgetter(2), changes, rules)
                    assert clocks == expected, zone
                for pk in range(1, 61):  # the same shape, the same clock
                    assert clocks[pk + 300] is clocks[pk]


def test_the_kept_clocks_are_per_rules_and_bounded(monkeypatch):
    monkeypatch.setattr(workdays, "CLOCK_MEMO_SIZE", 5)
    plain, typhoon = rules_sets()[0], rules_sets()[1]
    day = datetime.datetime(2026, 12, 7, 2, tzinfo=datetime.UTC)
    history = [workdays.Change(Status.INITIAL_REVIEW, day)]
    arguments = {"status": Status.INITIAL_REVIEW, "document_type": DocumentType.SHTC_EXPORT,
                 "days": shape_days(history, zoneinfo.ZoneInfo("Asia/Taipei"))}
    with timezone.override("Asia/Taipei"):
        first = workdays.clock(rules=plain, today=D(2026, 12, 11), **arguments)
        other = workdays.clock(rules=typhoon, today=D(2026, 12, 11), **arguments)
        assert (first.days, other.days) == (4, 3)  # each rules' calendar, 12/9 off
        for number in range(12):  # other days fill the memo, emptied on the way
            workdays.clock(rules=plain, today=D(2026, 12, 12) + datetime.timedelta(number),
                           **arguments)
            assert len(plain.clocks) <= 5
        assert workdays.clock(rules=plain, today=D(2026, 12, 11), **arguments) == first


@pytest.mark.usefixtures("fresh")
def test_a_calendar_change_is_seen_by_the_next_pages_clocks(monkeypatch):
    changes = [(1, Status.INITIAL_REVIEW.value,
                datetime.datetime(2026, 11, 30, 2, tzinfo=datetime.UTC))]
    page = [(1, Status.INITIAL_REVIEW.value, DocumentType.SHTC_EXPORT.value)]
    original = workdays.zone_and_today
    monkeypatch.setattr(workdays, "zone_and_today",
                        lambda today=None: original(today or D(2026, 12, 9)))

    def clock():
        with timezone.override("Asia/Taipei"):
            return permits_admin._page_clocks(  # noqa: SLF001
                page, operator.itemgetter(0), operator.itemgetter(1),
                operator.itemgetter(2), changes, workdays.rules_for(Request()))[1]

    for _twice in range(2):  # the second from the kept rules and their kept clocks
        first = clock().current
        assert (first.days, first.due) == (7, D(2026, 12, 9))
    WorkdayAdjustment.objects.create(date=D(2026, 12, 3), kind=WorkdayKind.DAY_OFF)
    typhoon = clock().current
    assert (typhoon.days, typhoon.due) == (6, D(2026, 12, 10))
    WorkdayAdjustment.objects.all().delete()
    again = clock().current
    assert (again.days, again.due) == (7, D(2026, 12, 9))


@pytest.mark.django_db
def test_the_preserved_filters_are_encoded_once_a_request(signed_in, cases,  # noqa: F811
                                                          monkeypatch):
    encoded = []
    original = ModelAdmin.get_preserved_filters
    monkeypatch.setattr(ModelAdmin, "get_preserved_filters", lambda self, request:
                        encoded.append(request.GET.urlencode()) or original(self, request))
    for query in ({"status__exact": "initial_review", "q": "22099131"}, {"queue": "overdue"},
                  {}):
        encoded.clear()
        response = signed_in.get(CHANGELIST, query)
        assert response.status_code == 200
        assert len(encoded) == 1, query
        cl = response.context_data["cl"]
        assert cl.preserved_filters == response.context_data["preserved_filters"] == \
            original(cl.model_admin, response.wsgi_request)


def test_the_preserved_filters_follow_the_request(rf):
    from django.contrib.admin import site
    from django.urls import resolve

    from permits.models import Application

    model_admin = site._registry[Application]  # noqa: SLF001
    request = rf.get(CHANGELIST, {"status__exact": "approved"})
    request.resolver_match = resolve(CHANGELIST)
    first = model_admin.get_preserved_filters(request)
    assert first == ModelAdmin.get_preserved_filters(model_admin, request) != ""
    assert model_admin.get_preserved_filters(request) is first  # encoded once
    request.GET = request.GET.copy()  # another query: encoded anew
    request.GET["q"] = "1"
    assert model_admin.get_preserved_filters(request) == \
        ModelAdmin.get_preserved_filters(model_admin, request) != first
    request.resolver_match = resolve(f"{CHANGELIST}1/change/")  # another page of the admin
    assert model_admin.get_preserved_filters(request) == \
        ModelAdmin.get_preserved_filters(model_admin, request)
