"""The working-day clock (issue 14, X3): how many working days a case has been in the bureau's
hands in each stage of its review, the day each stage's target runs out, and whether it is
overdue (the SHTC manual §1.6: 初審 in 3 to 7 working days, 協查 in 25 to 30).

The calendar is Taiwan's: Monday to Friday, less the national holidays of the `holidays`
package's TW calendar (its 補假 and bridging days off included, its 補班 Saturdays worked),
and with the bureau's own adjustments on top (permits.models.WorkdayAdjustment: a 補班 the
package does not know yet, a typhoon day off). The targets are data too (ReviewTarget), one
per procedure and stage; a stage without one has no due date.

Counting. A stage's days are the working days after the day it was entered, up to and
including the day it was left (or today): a case submitted on Monday has its first working
day on Tuesday, and with a target of 7 is due on the 7th working day after Monday. Time in a
status of no stage (補件: with the applicant) does not count; when the case comes back the
stage goes on from where it stopped, the day of the return not counted. Overdue: more days
than the target, i.e. today is past the due date.

One function computes the clock of one case from rows already read (clock()); clocks()
does it for a page of cases in two queries whatever their number: the status history of all
of them, and the rules (calendar adjustments and targets, load_rules(): one query, read once
per request through rules_for()).
"""

import datetime
import functools
from dataclasses import dataclass

import holidays
from django.db.models import CharField, DateField, IntegerField, Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from permits import workflow
from permits.models import (
    ReviewStage,
    ReviewTarget,
    Status,
    StatusChange,
    WorkdayAdjustment,
    WorkdayKind,
)
from permits.prepared import PreparedQuery
from portal.dates import to_roc

# The statuses in which each stage's clock runs. 退回初審 goes on with 初審.
STAGE_STATUSES = {
    ReviewStage.INITIAL_REVIEW: {Status.INITIAL_REVIEW, Status.RETURNED},
    ReviewStage.CONSULTATION: {Status.CONSULTATION},
    ReviewStage.SECOND_REVIEW: {Status.SECOND_REVIEW},
}
STAGE_OF = {status: stage for stage, statuses in STAGE_STATUSES.items()
            for status in statuses}
# Every status in which the bureau has the case belongs to a stage; the others (補件, and
# before submission) are time with the applicant.
assert set(STAGE_OF) == workflow.UNDER_REVIEW


def _weekday(day):
    return day.weekday() < 5


@functools.cache
def _national_exceptions(year):
    """{date: is a working day} of `year` where Taiwan's calendar departs from Monday to
    Friday: holidays (補假 and bridging days included) on weekdays, and 補班 Saturdays. The
    neighbouring years are read too: a bridging day's 補班 may fall in the next year."""
    calendar = holidays.TW(years=(year - 1, year, year + 1))
    found = {day: False for day in calendar if day.year == year and _weekday(day)}
    found.update({day: True for day in calendar.weekend_workdays if day.year == year})
    return found


def national_workday(day):
    """Whether `day` is a working day on the national calendar alone."""
    return _national_exceptions(day.year).get(day, _weekday(day))


def _weekdays_through(day):
    """Mondays to Fridays from 0001-01-01 (a Monday) through `day`."""
    weeks, rest = divmod(day.toordinal(), 7)
    return 5 * weeks + min(rest, 5)


class Calendar:
    """The national calendar with the bureau's adjustments [(date, kind)] applied."""

    def __init__(self, adjustments=()):
        self._adjusted = {day: kind == WorkdayKind.WORKDAY for day, kind in adjustments}
        self._years = {}

    def _exceptions(self, year):
        """[(date, +1 | -1)] of `year`: a weekend day worked, a weekday off."""
        found = self._years.get(year)
        if found is None:
            days = dict(_national_exceptions(year))
            days.update((day, works) for day, works in self._adjusted.items()
                        if day.year == year)
            found = self._years[year] = [(day, 1 if works else -1)
                                         for day, works in days.items()
                                         if works != _weekday(day)]
        return found

    def is_workday(self, day):
        works = self._adjusted.get(day)
        return national_workday(day) if works is None else works

    def count(self, after, through):
        """The working days after `after` up to and including `through` (0 if none)."""
        if through <= after:
            return 0
        total = _weekdays_through(through) - _weekdays_through(after)
        for year in range(after.year, through.year + 1):
            total += sum(sign for day, sign in self._exceptions(year) if after < day <= through)
        return total

    def add(self, start, days):
        """The `days`-th working day after `start` (`start` itself for 0)."""
        day = start
        while days > 0:
            day += datetime.timedelta(days=1)
            if self.is_workday(day):
                days -= 1
        return day


@dataclass(frozen=True)
class Rules:
    """What the clock reads besides a case's history: the calendar and the targets
    {(document type, stage): working days}."""

    calendar: Calendar
    targets: dict

    def target(self, document_type, stage):
        return self.targets.get((document_type, stage))


def load_rules(document_types=None):
    """The calendar's adjustments and the targets (of `document_types`, or all), in one
    query."""
    return rules_from(_rules_rows(document_types))


def _rules_rows(document_types=None):
    """The query of load_rules(): rows (date, kind or stage, document type, working days)."""
    # No ORDER BY in the parts of a UNION (SQLite refuses it): the models' orderings off.
    targets = ReviewTarget.objects.order_by()
    if document_types is not None:
        targets = targets.filter(document_type__in=list(document_types))
    # One UNION ALL of both tables: (date, kind or stage, document type, working days).
    return WorkdayAdjustment.objects.order_by().annotate(
        a_doc=Value("", output_field=CharField()),
        a_days=Value(0, output_field=IntegerField()),
    ).values_list("date", "kind", "a_doc", "a_days").union(
        targets.annotate(t_date=Value(None, output_field=DateField())).values_list(
            "t_date", "stage", "document_type", "working_days"), all=True)


# All the rules, by a query compiled once per process: a page that reads its parts in one
# round trip (permits.prepared.together: the reviewers' case page) reads them there, and
# puts them where rules_for() finds them (rules_from()).
RULES_QUERY = PreparedQuery(_rules_rows, parameters=())


def rules_from(rows, request=None):
    """Rules of the rows of _rules_rows() (RULES_QUERY's), kept for `request` if given."""
    adjustments, found = [], {}
    for day, code, document_type, days in rows:
        if day is None:
            found[(document_type, code)] = days
        else:
            adjustments.append((day, code))
    rules = Rules(calendar=Calendar(adjustments), targets=found)
    if request is not None:
        request._workday_rules = rules
    return rules


def rules_for(request):
    """The rules read once for the whole of `request` (every clock a page shows)."""
    rules = getattr(request, "_workday_rules", None)
    if rules is None:
        rules = request._workday_rules = load_rules()
    return rules


@dataclass(frozen=True)
class StageClock:
    stage: str
    days: int  # working days in the bureau's hands in this stage so far
    target: int | None  # None: the procedure sets none for this stage
    open: bool  # the case is in this stage now
    # The day the target runs out (an open stage with a target), or ran out (a stage left
    # after it did); None otherwise.
    due: datetime.date | None

    @property
    def label(self):
        return ReviewStage(self.stage).label

    @property
    def overdue(self):
        """More working days than the target (for an open stage: today is past `due`)."""
        return self.target is not None and self.days > self.target


@dataclass(frozen=True)
class CaseClock:
    status: str
    stages: tuple  # StageClock, in the order first entered
    days: int  # working days in the bureau's hands, every stage together

    @property
    def current(self):
        """The stage the case is in now, or None (with the applicant, or closed)."""
        return next((stage for stage in self.stages if stage.open), None)

    @property
    def paused(self):
        """The clock stands still: the applicant has the case (補件)."""
        return self.status == Status.SUPPLEMENT

    @property
    def due(self):
        current = self.current
        return current.due if current else None

    @property
    def overdue(self):
        """The stage the case is in now is past its target."""
        current = self.current
        return bool(current and current.overdue)


def clock(*, status, document_type, history, rules, today=None):
    """The clock of one case in `status` from its status history `history` (StatusChange
    rows, or anything with `new` and `created_at`, oldest first), read by nobody here."""
    today = today or timezone.localdate()
    calendar = rules.calendar
    spans = {}  # stage -> [(first day, last day)], in order
    history = list(history)
    for index, change in enumerate(history):
        stage = STAGE_OF.get(change.new)
        if stage is None:
            continue
        left = history[index + 1].created_at if index + 1 < len(history) else None
        spans.setdefault(stage, []).append(
            (timezone.localdate(change.created_at),
             timezone.localdate(left) if left is not None else today))
    open_stage = STAGE_OF.get(status)
    stages, total = [], 0
    for stage, intervals in spans.items():
        days = sum(calendar.count(first, last) for first, last in intervals)
        total += days
        target = rules.target(document_type, stage)
        is_open, due = stage == open_stage, None
        if target is not None:
            # The span in which the target ran out, or (an open stage) runs out: the last.
            used = 0
            for number, (first, last) in enumerate(intervals):
                counted = calendar.count(first, last)
                if used + counted >= target or (is_open and number == len(intervals) - 1):
                    due = calendar.add(first, target - used)
                    break
                used += counted
        stages.append(StageClock(stage=stage, days=days, target=target, open=is_open,
                                 due=due))
    return CaseClock(status=status, stages=tuple(stages), days=total)


def describe(stage):
    """A stage's clock in words, for the reviewers' list and case page: its working days, of
    its target if it has one, and while open its due date ("初審：5／7 個工作天，期限
    115/12/09"). Overdue is StageClock.overdue (the page shows it in red)."""
    values = {"stage": stage.label, "days": stage.days, "target": stage.target,
              "due": to_roc(stage.due)}
    if stage.target is None:
        return _("%(stage)s: %(days)s working days") % values
    if stage.open:
        return _("%(stage)s: %(days)s of %(target)s working days, due %(due)s") % values
    return _("%(stage)s: %(days)s of %(target)s working days") % values


def clocks(applications, *, rules=None, today=None):
    """{pk: CaseClock} of `applications` (a page of cases): their history in one query, and
    the rules in one more unless given."""
    applications = list(applications)
    rules = rules or load_rules()
    history = {}
    for change in StatusChange.objects.filter(
            application_id__in=[a.pk for a in applications]).only(
            "application_id", "new", "created_at").order_by("application_id", "created_at",
                                                            "pk"):
        history.setdefault(change.application_id, []).append(change)
    return {a.pk: clock(status=a.status, document_type=a.document_type,
                        history=history.get(a.pk, ()), rules=rules, today=today)
            for a in applications}


# The applicant's words, one sentence a stage (the "預計於 115/12/11 前完成初審").
EXPECTED = {
    ReviewStage.INITIAL_REVIEW: _("Expected to complete the initial review by %(date)s"),
    ReviewStage.CONSULTATION: _("Expected to complete the inter-agency consultation by "
                                "%(date)s"),
    ReviewStage.SECOND_REVIEW: _("Expected to complete the second review by %(date)s"),
}


def expected_completion(application, history, today=None):
    """The applicant's words for when the stage their case is in should end ("預計於
    115/12/11 前完成初審"), or "" when no stage with a target is open. Reads the rules (one
    query) only for a case under review."""
    stage = STAGE_OF.get(application.status)
    if stage is None:
        return ""
    rules = load_rules([application.document_type])
    if rules.target(application.document_type, stage) is None:
        return ""
    current = clock(status=application.status, document_type=application.document_type,
                    history=history, rules=rules, today=today).current
    if current is None or current.due is None:
        return ""
    return EXPECTED[stage] % {"date": to_roc(current.due)}
