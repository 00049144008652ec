"""What the working-day clock keeps (bench/README.md "Stop 23 (clocks and queues)"): each
calendar's count() and add() of the days asked before (a calendar lives as long as its
rules, kept per process: a change of the calendar is seen at the next request, its memo
with it), bounded; the words of describe() and of the list's 工作天 cells once a language,
read anew when Django reads its catalogues anew; and a clock as it was computed before
(counting day by day)."""

import datetime

import pytest
from django.test import override_settings
from django.utils import translation

from permits import admin_list, workdays
from permits.models import (
    DocumentType,
    ReviewStage,
    Status,
    WorkdayAdjustment,
    WorkdayKind,
)
from portal.languages import per_language
from tests.permits.test_workday_rules_kept import Request, fresh  # noqa: F401 (the fixture)

D = datetime.date
SHTC = DocumentType.SHTC_EXPORT
TARGETS = {(SHTC, ReviewStage.INITIAL_REVIEW): 7, (SHTC, ReviewStage.CONSULTATION): 30}


def by_day(calendar, after, through):
    return sum(calendar.is_workday(after + datetime.timedelta(days=n))
               for n in range(1, (through - after).days + 1))


def added_by_day(calendar, start, days):
    day = start
    while days:
        day += datetime.timedelta(days=1)
        days -= calendar.is_workday(day)
    return day


def test_the_memo_gives_what_counting_day_by_day_gives_each_time(monkeypatch):
    monkeypatch.setattr(workdays, "MEMO_SIZE", 7)  # emptied many times on the way
    calendar = workdays.Calendar([(D(2026, 12, 9), WorkdayKind.DAY_OFF),
                                  (D(2026, 12, 12), WorkdayKind.WORKDAY)])
    days = [D(2026, 9, 25) + datetime.timedelta(days=n) for n in range(0, 120, 3)]
    for _round in range(2):  # the second time from the memo
        for after in days[::4]:
            for through in days:
                assert calendar.count(after, through) == (
                    by_day(calendar, after, through) if through > after else 0)
            for number in (0, 1, 7, 30):
                assert calendar.add(after, number) == added_by_day(calendar, after, number)
        assert len(calendar._counted) <= 7 and len(calendar._added) <= 7  # noqa: SLF001


def test_a_calendar_is_its_own_memo():
    plain, typhoon = workdays.Calendar(), workdays.Calendar(
        [(D(2026, 12, 9), WorkdayKind.DAY_OFF)])
    assert plain.count(D(2026, 12, 7), D(2026, 12, 11)) == 4
    assert typhoon.count(D(2026, 12, 7), D(2026, 12, 11)) == 3
    assert plain.add(D(2026, 12, 7), 3) == D(2026, 12, 10)
    assert typhoon.add(D(2026, 12, 7), 3) == D(2026, 12, 11)


def moves(*steps):
    return [workdays.Change(status, datetime.datetime(
        day.year, day.month, day.day, 10, tzinfo=datetime.UTC)) for status, day in steps]


@pytest.mark.usefixtures("fresh")
def test_a_calendar_change_is_seen_by_the_next_clock_though_the_days_were_asked():
    history = moves((Status.INITIAL_REVIEW, D(2026, 11, 30)))

    def clock():
        return workdays.clock(status=Status.INITIAL_REVIEW, document_type=SHTC,
                              history=history, rules=workdays.rules_for(Request()),
                              today=D(2026, 12, 9))

    for _twice in range(2):  # the second from the kept rules and their calendar's memo
        first = clock().current
        assert (first.days, first.due) == (7, D(2026, 12, 9))
    WorkdayAdjustment.objects.create(date=D(2026, 12, 3), kind=WorkdayKind.DAY_OFF)
    typhoon = clock().current
    assert (typhoon.days, typhoon.due) == (6, D(2026, 12, 10))
    WorkdayAdjustment.objects.all().delete()
    again = clock().current
    assert (again.days, again.due) == (7, D(2026, 12, 9))


def stage(**values):
    return workdays.StageClock(**{"stage": ReviewStage.INITIAL_REVIEW, "days": 3, "target": 7,
                                  "open": True, "due": D(2026, 12, 9), **values})


def test_the_words_follow_the_language_in_force():
    for _twice in range(2):
        with translation.override("en"):
            assert workdays.describe(stage()) == \
                "Initial review: 3 of 7 working days, due 115/12/09"
            assert workdays.describe(stage(open=False, due=None)) == \
                "Initial review: 3 of 7 working days"
            assert workdays.describe(stage(stage=ReviewStage.SECOND_REVIEW, target=None)) == \
                "Second review: 3 working days"
            overdue = admin_list.clock_cell(workdays.CaseClock(
                status=Status.INITIAL_REVIEW, stages=(stage(days=9),), days=9))
            assert "<strong>overdue</strong>" in overdue
        with translation.override("zh-hant"):
            words = workdays.describe(stage())
            assert words != "Initial review: 3 of 7 working days, due 115/12/09"
            assert str(ReviewStage.INITIAL_REVIEW.label) in words and "115/12/09" in words
            paused = admin_list.clock_cell(workdays.CaseClock(
                status=Status.SUPPLEMENT, stages=(stage(open=False, due=None),), days=3))
            assert translation.gettext("paused (with the applicant)") in paused


def test_the_words_are_read_anew_with_the_catalogues(tmp_path, monkeypatch):
    made = []
    words = per_language(lambda: made.append(translation.get_language())
                         or translation.gettext("overdue"))
    with translation.override("en"):
        assert (words(), words()) == ("overdue", "overdue")
    with translation.override("zh-hant"):
        assert words() == translation.gettext("overdue") != "overdue"
    assert made == ["en", "zh-hant"]  # once a language
    with override_settings(LOCALE_PATHS=[str(tmp_path)]), translation.override("en"):
        words()
    assert made == ["en", "zh-hant", "en"]
