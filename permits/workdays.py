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

The rules change seldom (the bureau's admin pages, permits.admin_workdays), and building
their calendar cost a page about as much as reading them: rules_for() keeps them per
process (kept_rules()), under a version token in Django's cache (Redis in production), which
a save or delete of either model replaces once its transaction commits (_rules_changed). So
each request reads one cache key, no SQL, and a change shows in every process at its next
request. The kept rules are not used inside a transaction (its own changes, or a rollback of
them, would be kept), nor while the cache cannot be reached (then the rules are read from the
database, as before); the token expires after VERSION_TTL seconds, so that a change whose
token could not be replaced (the cache down at that moment, a bulk update that sends no
signal) shows within that time.
"""

import bisect
import contextlib
import contextvars
import datetime
import functools
import itertools
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import NamedTuple

import holidays
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import CharField, DateField, IntegerField, Value
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import gettext
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
from permits.prepared import PreparedQuery, among
from portal.dates import to_roc
from portal.languages import per_language

logger = logging.getLogger(__name__)

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


def _weekday_numbered(number):
    """The Monday to Friday that is the `number`-th from 0001-01-01 (_weekdays_through's
    inverse on Mondays to Fridays)."""
    weeks, rest = divmod(number - 1, 5)
    return datetime.date.fromordinal(7 * weeks + rest + 1)


# Entries of each of a Calendar's memos (count(), add()) before it is emptied: a few MB.
MEMO_SIZE = 50_000


def _remember(memo, key, value):
    """`value`, kept in `memo` under `key` (the memo emptied first if full)."""
    if len(memo) >= MEMO_SIZE:
        memo.clear()
    memo[key] = value
    return value


class Calendar:
    """The national calendar with the bureau's adjustments [(date, kind)] applied."""

    def __init__(self, adjustments=()):
        self._adjusted = {day: kind == WorkdayKind.WORKDAY for day, kind in adjustments}
        self._years = {}
        # count() and add() of the dates asked before: a calendar is kept per process with
        # its rules (kept_rules(), replaced with them when they change), and the cases of a
        # list share their days (today, the days stages were entered). Bounded: emptied when
        # full.
        self._counted = {}
        self._added = {}

    def _exceptions(self, year):
        """([date], [sum of the signs up to each]) of `year`'s departures from Monday to
        Friday, in order: +1 a weekend day worked, -1 a weekday off. (A calendar is kept
        per process with its rules, kept_rules(): each year's made once.)"""
        found = self._years.get(year)
        if found is None:
            days = dict(_national_exceptions(year))
            days.update((day, works) for day, works in self._adjusted.items()
                        if day.year == year)
            ordered = sorted((day, 1 if works else -1) for day, works in days.items()
                             if works != _weekday(day))
            found = self._years[year] = ([day for day, _sign in ordered],
                                         list(itertools.accumulate(
                                             sign for _day, sign in ordered)))
        return found

    def _departures_through(self, day):
        """The sum of the departures of `day`'s year up to and including `day`."""
        days, sums = self._exceptions(day.year)
        position = bisect.bisect_right(days, day)
        return sums[position - 1] if position else 0

    def is_workday(self, day):
        works = self._adjusted.get(day)
        return national_workday(day) if works is None else works

    def count(self, after, through):
        """The working days after `after` up to and including `through` (0 if none)."""
        total = self._counted.get((after, through))
        return total if total is not None else _remember(
            self._counted, (after, through), self._count(after, through))

    def _count(self, after, through):
        if through <= after:
            return 0
        total = _weekdays_through(through) - _weekdays_through(after)
        total += self._departures_through(through) - self._departures_through(after)
        for year in range(after.year, through.year):  # the whole years' ends between
            sums = self._exceptions(year)[1]
            total += sums[-1] if sums else 0
        return total

    def add(self, start, days):
        """The `days`-th working day after `start` (`start` itself for 0): the first day
        after `start` through which count() gives `days`. Found from the Monday to Friday
        as many after (count() tells how many of those the calendar takes away), then
        onwards by the days still missing; where a weekend day worked came before, day by
        day."""
        found = self._added.get((start, days))
        return found if found is not None else _remember(
            self._added, (start, days), self._add(start, days))

    def _add(self, start, days):
        day = start
        while days > 0:
            end = _weekday_numbered(_weekdays_through(day) + days)
            found = self.count(day, end)
            if found < days:
                day, days = end, days - found
            elif found == days and self.is_workday(end):
                return end
            else:
                return self._add_day_by_day(day, days)
        return day

    def _add_day_by_day(self, day, days):
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
    # {shape: its CaseClock} of kept_clock(): the rules are kept per process (kept_rules(),
    # replaced when they change), and the list's pages show the same cases' clocks again.
    clocks: dict = field(default_factory=dict, compare=False, repr=False)

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
    """The rules read once for the whole of `request` (every clock a page shows): those the
    process keeps if they are current (kept_rules), else read (and kept)."""
    rules = getattr(request, "_workday_rules", None)
    if rules is None:
        rules, token = kept_rules()
        if rules is None:
            rules = keep_rules(rules_from(RULES_QUERY.rows()), token)
        request._workday_rules = rules
    return rules


# --- The rules kept per process --------------------------------------------------------------

VERSION_KEY = "permits:workdays:rules-version"
VERSION_TTL = 300  # seconds: how long a change may go unseen if its token was not replaced
CACHE_RETRY = 30  # seconds without asking the cache after it failed
_kept = None  # (token, Rules)
_cache_failed_at = None


def _token():
    """The current version token of the rules in Django's cache (made if there is none), or
    None where kept rules must not be used: inside a transaction, or the cache unreachable
    (logged; not asked again for CACHE_RETRY seconds, so that a dead Redis costs a page its
    timeout once, not every time)."""
    global _cache_failed_at
    if connection.in_atomic_block:
        return None
    if _cache_failed_at is not None and time.monotonic() - _cache_failed_at < CACHE_RETRY:
        return None
    try:
        token = cache.get(VERSION_KEY)
        if token is None:
            token = uuid.uuid4().hex
            if not cache.add(VERSION_KEY, token, VERSION_TTL):
                token = cache.get(VERSION_KEY)  # another process's, made meanwhile
    except Exception:  # noqa: BLE001 (any failure of the cache: read the rules instead)
        logger.warning("workday rules: the cache cannot be read; rules read from the database",
                       exc_info=True)
        _cache_failed_at = time.monotonic()
        return None
    _cache_failed_at = None
    return token


def kept_rules():
    """(the rules this process keeps if they are current, else None; the current token, or
    None where none may be kept): one read of the cache, no SQL."""
    token = _token()
    kept = _kept
    if token is not None and kept is not None and kept[0] == token:
        return kept[1], token
    return None, token


def keep_rules(rules, token):
    """Keep `rules`, read after `token` was (kept_rules), for the requests that find the same
    token; returns them. Read after the token: a change committed in between is in them, and
    its new token makes the next request read them again."""
    global _kept
    if token is not None:
        _kept = (token, rules)
    return rules


def _replace_token():
    try:
        cache.set(VERSION_KEY, uuid.uuid4().hex, VERSION_TTL)
    except Exception:  # noqa: BLE001 (the saved change must stand: VERSION_TTL bounds the rest)
        logger.warning("workday rules: the cache cannot be written; other processes see the "
                       "change within %s s", VERSION_TTL, exc_info=True)


def _rules_changed(sender, using=None, **kwargs):
    """A calendar adjustment or a target saved or deleted: every process's kept rules are
    old once the transaction commits (not before: a process reading meanwhile would keep
    the old rows under the new token)."""
    transaction.on_commit(_replace_token, using=using)


for _model in (WorkdayAdjustment, ReviewTarget):
    post_save.connect(_rules_changed, sender=_model,
                      dispatch_uid=f"workday_rules_{_model.__name__}_saved")
    post_delete.connect(_rules_changed, sender=_model,
                        dispatch_uid=f"workday_rules_{_model.__name__}_deleted")


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


# (time zone, today) of the page being drawn (one_today()), or None.
_ONE_TODAY = contextvars.ContextVar("workdays_one_today", default=None)


@contextlib.contextmanager
def one_today():
    """Within it, clock() takes the time zone and today looked up on entering, not for each
    case: the look-ups (the current zone through asgiref's Local, now(), its local date)
    cost a third of a clock, fifty a page of the reviewers' list. For a page's drawing
    (permits.admin.ApplicationAdmin.changelist_view), in which the zone does not change:
    its cases' clocks counted to the same day."""
    zone = timezone.get_current_timezone()
    token = _ONE_TODAY.set((zone, timezone.now().astimezone(zone).date()))
    try:
        yield
    finally:
        _ONE_TODAY.reset(token)


def zone_and_today(today=None):
    """(the time zone clock() counts in, `today` or the zone's today): one_today()'s if
    pinned."""
    pinned = _ONE_TODAY.get()
    if pinned is not None:
        return pinned if today is None else (pinned[0], today)
    zone = timezone.get_current_timezone()  # (looked up once, not for each date)
    return zone, timezone.now().astimezone(zone).date() if today is None else today


def clock(*, status, document_type, history=(), rules, today=None, days=None):
    """The clock of one case in `status` from its status history `history` (StatusChange
    rows, or anything with `new` and `created_at`, oldest first), read by nobody here. Or,
    instead of `history`, `days`: its changes as [new, day, new, day, ...], each day already
    in the time zone clock() counts in (permits.admin._page_clocks reads them so); then the
    clock is kept for its shape (kept_clock())."""
    zone, today = zone_and_today(today)
    if days is not None:
        return kept_clock((today, status, document_type, *days), rules)
    shape = [today, status, document_type]
    for change in history:  # each change's day read once
        shape += (change.new, change.created_at.astimezone(zone).date())
    return _shape_clock(shape, rules)


# Shapes kept per Rules by kept_clock() before the memo is emptied (a page has at most fifty).
CLOCK_MEMO_SIZE = 5_000


def kept_clock(shape, rules):
    """clock() of `shape`, a tuple (today, status, document type, then each change's new
    status and its day in the zone clock() counts in, oldest first): everything a clock
    reads besides `rules`. Computed once per shape and rules (Rules.clocks; bounded): the
    same CaseClock (immutable) for every case and page of that shape."""
    kept = rules.clocks
    found = kept.get(shape)
    if found is None:
        if len(kept) >= CLOCK_MEMO_SIZE:
            kept.clear()
        found = kept[shape] = _shape_clock(shape, rules)
    return found


def _shape_clock(shape, rules):
    """clock() of `shape` (kept_clock()'s)."""
    today, status, document_type = shape[0], shape[1], shape[2]
    calendar = rules.calendar
    # stage -> [(first day, last day)], in the order first entered: a span runs from the
    # day of a change into a stage to the day of the next change (or today).
    spans = {}
    running = None  # the spans of the stage the previous change entered, and its first day
    for index in range(3, len(shape), 2):
        day = shape[index + 1]
        if running is not None:
            running[0].append((running[1], day))
        stage = STAGE_OF.get(shape[index])
        running = None if stage is None else (spans.setdefault(stage, []), day)
    if running is not None:
        running[0].append((running[1], today))
    open_stage = STAGE_OF.get(status)
    stages, total = [], 0
    for stage, intervals in spans.items():
        counts = [calendar.count(first, last) for first, last in intervals]
        days = sum(counts)
        total += days
        target = rules.target(document_type, stage)
        is_open, due = stage == open_stage, None
        if target is not None:
            # The span in which the target ran out, or (an open stage) runs out: the last.
            used, last = 0, len(counts) - 1
            for number, counted in enumerate(counts):
                if used + counted >= target or (is_open and number == last):
                    due = calendar.add(intervals[number][0], target - used)
                    break
                used += counted
        stages.append(StageClock(stage=stage, days=days, target=target, open=is_open,
                                 due=due))
    return CaseClock(status=status, stages=tuple(stages), days=total)


# ({stage: its label}, the three sentences of describe()): each label was a lazy text cast
# (a ReviewStage made and its translation looked up) on every row of the list.
_words = per_language(lambda: (
    {stage.value: str(stage.label) for stage in ReviewStage},
    gettext("%(stage)s: %(days)s working days"),
    gettext("%(stage)s: %(days)s of %(target)s working days, due %(due)s"),
    gettext("%(stage)s: %(days)s of %(target)s working days")))


def describe(stage):
    """A stage's clock in words, for the reviewers' list and case page: its working days, of
    its target if it has one, and while open its due date ("初審：5／7 個工作天，期限
    115/12/09"). Overdue is StageClock.overdue (the page shows it in red)."""
    labels, untargeted, open_, left = _words()
    values = {"stage": labels[stage.stage], "days": stage.days, "target": stage.target,
              "due": to_roc(stage.due)}
    if stage.target is None:
        return untargeted % values
    return (open_ if stage.open else left) % values


class Change(NamedTuple):
    """A status change as clock() reads it."""

    new: str
    created_at: datetime.datetime


def histories(ids, model=StatusChange):
    """{case id: [Change]} of the cases `ids`, oldest first, as clock() reads them, in one
    query; `model`: StatusChange, or a migration's historical one."""
    found = {}
    changes = model.objects.filter(among("application_id", list(ids))).order_by(
        "application_id", "created_at", "pk")
    for case_id, new, created_at in changes.values_list("application_id", "new", "created_at"):
        found.setdefault(case_id, []).append(Change(new, created_at))
    return found


def clocks(applications, *, rules=None, today=None):
    """{pk: CaseClock} of `applications` (a page of cases): their history in one query, and
    the rules in one more unless given."""
    applications = list(applications)
    rules = rules or load_rules()
    history = histories([a.pk for a in applications])
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
