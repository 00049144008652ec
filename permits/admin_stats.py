"""統計: the reviewers' statistics page in the admin (issue 14 point 7). Per week of a window
(the last 4, 12, 26 or 52 weeks, Monday to Sunday in Taipei, the current week the last):
the cases received (submitted), decided (closed by the bureau) and overdue; the median
working days of each review stage per procedure and per reviewer; and the weekly figures
drawn (permits.charts) and given as tables.

The working days are the clock's (permits.workdays): each case's clock is run over its
status history, as the case list and the case page run it, so that a figure here is the sum
of what those pages show. Definitions, said on the page too:

- received: submitted_at in the week;
- decided: moved by the bureau to a closed status (workflow.CLOSED, a move the table gives
  the bureau) in the week;
- overdue: the case's review stage went past its target in the week (the first working day
  after the stage's due date fell in it), or the case was decided in the week in a stage
  already past its target; a case counts once a week;
- a stage's working days: those of the clock, every span of the stage together (補件 not
  counted), counted when the case last left the stage in the window for another stage or a
  decision (not for 補件, after which it comes back); its reviewer is who made that move.

Cost: a constant number of queries whatever the data: the two weekly counts aggregated in
SQL (TruncWeek), the status history of the cases the window concerns (a change in it, or a
stage open now) in one query of the columns the clock reads, the clock's rules, the
reviewers' names. At 100,000 cases the clocks of a long window take more than a second of
Python, so the figures are kept in the cache per (window, day) for CACHE_SECONDS and the
page says when they were computed. Served from the cache, the page draws little more than
the admin's frame (issue 10): the figures' HTML is drawn once per process, language and
computation (drawn()), the frame from its skeleton (permits.admin_frame).
"""

import datetime
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from django import forms
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.signals import setting_changed
from django.db.models import Count, Q
from django.db.models.functions import TruncWeek
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from permits import admin_frame, charts, workdays, workflow
from permits.models import Application, DocumentType, ReviewStage, Status, StatusChange
from portal.dates import to_roc
from portal.forms import TextRuleMixin

WINDOWS = (4, 12, 26, 52)
DEFAULT_WINDOW = 12
CACHE_SECONDS = 300
CACHE_KEY = "permits:statistics:v1:{weeks}:{day}"
TEMPLATE = "admin/permits/application/statistics.html"
FIGURES_TEMPLATE = "admin/permits/application/statistics_figures.html"
WINDOW_TEMPLATE = "admin/permits/application/statistics_window.html"

# The moves that decide a case: to a closed status, made by the bureau (workflow.TRANSITIONS).
DECISIONS = frozenset(
    (old, new) for old, moves in workflow.TRANSITIONS.items()
    for new, who in moves.items() if new in workflow.CLOSED and who == workflow.BUREAU)


def decisions_q():
    """The status changes that are decisions (DECISIONS), as a filter."""
    q = Q()
    for old in sorted({old for old, _new in DECISIONS}):
        q |= Q(old=old, new__in=sorted(new for o, new in DECISIONS if o == old))
    return q


class WindowForm(TextRuleMixin, forms.Form):  # a forged value: a message, never a 500
    weeks = forms.TypedChoiceField(
        label=_("Weeks shown"), coerce=int, initial=DEFAULT_WINDOW,
        # Not Django's message, which repeats what was sent (a forged value of any length).
        error_messages={"invalid_choice": _("Choose one of the windows offered.")},
        choices=[(n, ngettext_lazy("the last %(weeks)s week", "the last %(weeks)s weeks",
                                   "weeks") % {"weeks": n}) for n in WINDOWS])


class Change(NamedTuple):
    """One status change as the clock reads it (workdays.clock: `new`, `created_at`)."""

    new: str
    created_at: datetime.datetime
    old: str
    actor_id: int | None


@dataclass
class Figures:
    """What the page shows, in codes and numbers (cached; the labels are the request's)."""

    weeks: list  # the Monday of each week, oldest first
    received: list  # a count a week
    decided: list
    overdue: list
    # {(document type, stage): (median working days, stages)}, and per (reviewer pk, stage)
    by_procedure: dict = field(default_factory=dict)
    by_reviewer: dict = field(default_factory=dict)
    reviewers: dict = field(default_factory=dict)  # {pk: name}
    computed_at: datetime.datetime | None = None


def _median(days):
    """The median of `days` (a whole number when it is one: 7, 3.5)."""
    value = statistics.median(days)
    return int(value) if value == int(value) else value


def window_start(weeks, today):
    """The Monday that starts the window of `weeks` weeks ending with the week of `today`."""
    return today - datetime.timedelta(days=today.weekday() + 7 * (weeks - 1))


def _weekly(queryset, field_name, start_day, weeks):
    """A count a week of `queryset` by `field_name`, aggregated in SQL (one query)."""
    found = {}
    for row in queryset.annotate(week=TruncWeek(field_name)).values("week").annotate(
            n=Count("pk")).order_by():
        found[timezone.localdate(row["week"])] = row["n"]
    return [found.get(start_day + datetime.timedelta(weeks=n), 0) for n in range(weeks)]


def _histories(start):
    """{case pk: (document type, status, [Change])} of the cases the window concerns: those
    with a status change since `start`, and those in a review stage now (their stage may
    pass its target in the window without any change). One query."""
    concerned = StatusChange.objects.filter(created_at__gte=start).values("application_id")
    rows = StatusChange.objects.filter(
        Q(application_id__in=concerned)
        | Q(application__status__in=sorted(workflow.UNDER_REVIEW))).order_by(
        "application_id", "created_at", "pk").values_list(
        "application_id", "application__document_type", "application__status", "new",
        "created_at", "old", "actor_id")
    found = {}
    for pk, document_type, status, *change in rows:
        case = found.get(pk)
        if case is None:
            case = found[pk] = (document_type, status, [])
        case[2].append(Change(*change))
    return found


def _last_exit(history, stage):
    """The change by which the case last left `stage`, or None if it never did."""
    for index in range(len(history) - 2, -1, -1):
        if workdays.STAGE_OF.get(history[index].new) == stage:
            return history[index + 1]
    return None


def compute(weeks, today=None):
    """The Figures of the window of `weeks` weeks ending with the week of `today`."""
    today = today or timezone.localdate()
    start_day = window_start(weeks, today)
    start = timezone.make_aware(datetime.datetime.combine(start_day, datetime.time.min))
    figures = Figures(
        weeks=[start_day + datetime.timedelta(weeks=n) for n in range(weeks)],
        received=_weekly(Application.objects.filter(submitted_at__gte=start), "submitted_at",
                         start_day, weeks),
        decided=_weekly(StatusChange.objects.filter(decisions_q(), created_at__gte=start),
                        "created_at", start_day, weeks),
        overdue=[0] * weeks, computed_at=timezone.now())
    rules = workdays.load_rules()
    by_procedure, by_reviewer = defaultdict(list), defaultdict(list)
    overdue = Counter()  # week index -> cases

    def week_of(day):
        index = (day - start_day).days // 7
        return index if 0 <= index < weeks and day <= today else None

    for document_type, status, history in _histories(start).values():
        clock = workdays.clock(status=status, document_type=document_type, history=history,
                               rules=rules, today=today)
        late_weeks = set()
        stages = {stage.stage: stage for stage in clock.stages}
        for stage in clock.stages:
            if stage.overdue and stage.due is not None:
                late_weeks.add(week_of(rules.calendar.add(stage.due, 1)))
            if stage.open:
                continue
            left = _last_exit(history, stage.stage)
            if left is None or left.new == Status.SUPPLEMENT or left.created_at < start:
                continue
            by_procedure[(document_type, stage.stage)].append(stage.days)
            if left.actor_id is not None:
                by_reviewer[(left.actor_id, stage.stage)].append(stage.days)
        last = history[-1] if history else None
        if last is not None and (last.old, last.new) in DECISIONS and last.created_at >= start:
            stage = stages.get(workdays.STAGE_OF.get(last.old))
            if stage is not None and stage.overdue:
                late_weeks.add(week_of(timezone.localdate(last.created_at)))
        overdue.update(late_weeks - {None})
    figures.overdue = [overdue[n] for n in range(weeks)]
    # Only the medians are kept (the cache holds these, not tens of thousands of days).
    figures.by_procedure = {key: (_median(days), len(days)) for key, days in by_procedure.items()}
    figures.by_reviewer = {key: (_median(days), len(days)) for key, days in by_reviewer.items()}
    names = get_user_model().objects.filter(
        pk__in=sorted({pk for pk, _stage in by_reviewer})).values_list("pk", "name")
    figures.reviewers = dict(names)
    return figures


def window_end():
    """The day the window ends with (the tests set it)."""
    return timezone.localdate()


def figures_for(weeks, day=None):
    """compute()'s Figures, kept in the cache for CACHE_SECONDS per (window, day)."""
    day = day or window_end()
    key = CACHE_KEY.format(weeks=weeks, day=day.isoformat())
    figures = cache.get(key)
    if figures is None:
        figures = compute(weeks, day)
        cache.set(key, figures, CACHE_SECONDS)
    return figures


def median_rows(found, keys, labels):
    """[(label, [(median or None, count) a stage])] of `keys` (rows with data only), from
    {(key, stage): (median, count)}."""
    rows = []
    for key in keys:
        cells = [found.get((key, stage), (None, 0)) for stage in ReviewStage]
        if any(count for _median_days, count in cells):
            rows.append((labels[key], cells))
    return rows


def figure_values(weeks, figures):
    """The figures' part of the page's context (what statistics_figures.html draws): the
    charts, the tables' rows, when they were computed; the labels in the active language."""
    labels = [to_roc(monday) for monday in figures.weeks]
    weekly = [
        charts.Series(gettext("Received"), tuple(figures.received)),
        charts.Series(gettext("Decided"), tuple(figures.decided)),
        charts.Series(gettext("Overdue"), tuple(figures.overdue)),
    ]
    weekly_chart = charts.bar_chart(
        chart_id="chart-weekly", title=gettext("Cases per week"),
        description=gettext("Cases received, decided and overdue in each of the last "
                            "%(weeks)s weeks, by the Monday that starts the week; the table "
                            "below gives the same figures.") % {"weeks": weeks},
        categories=labels, series=weekly)
    document_labels = dict(DocumentType.choices)
    procedures = median_rows(figures.by_procedure, DocumentType.values, document_labels)
    reviewer_keys = sorted(figures.reviewers, key=lambda pk: (figures.reviewers[pk], pk))
    reviewers = median_rows(figures.by_reviewer, reviewer_keys, figures.reviewers)
    median_chart = charts.bar_chart(
        chart_id="chart-medians", title=gettext("Median working days per stage"),
        description=gettext("The median working days of each review stage, per procedure, "
                            "of the stages finished in the window; the table below gives "
                            "the same figures."),
        categories=[label for label, _cells in procedures],
        series=[charts.Series(stage.label, tuple(cells[number][0] or 0
                                                 for _label, cells in procedures))
                for number, stage in enumerate(ReviewStage)]) if procedures else ""
    return {
        "weeks": weeks, "computed_at": timezone.localtime(figures.computed_at),
        "cache_minutes": CACHE_SECONDS // 60,
        "weekly_rows": list(zip(labels, figures.received, figures.decided, figures.overdue,
                                strict=True)),
        "totals": (sum(figures.received), sum(figures.decided), sum(figures.overdue)),
        "weekly_chart": weekly_chart, "median_chart": median_chart,
        "stages": list(ReviewStage), "procedures": procedures, "reviewers": reviewers,
    }


# {(weeks, day, language, time zone, when the figures were computed): (their HTML, their
# figure_values())}: the page's figures drawn once per process and computation (2/3 of what
# the page cost when served from the cache: the charts, the tables' hundreds of numbers
# localised one by one). A new computation (another computed_at) is drawn anew and the
# drawing of the one before it forgotten, so the page never shows figures other than the
# cache's; a change of any setting (formats, time zone, templates) forgets them all.
_DRAWN = {}
_DRAWN_MAX = 64  # 4 windows x 2 languages x a few days; past it all are forgotten


# {(language, the window as sent or None): the HTML of statistics_window.html} of the forms
# with no error to say (one of WINDOWS sent, or none): the same for every request.
_WINDOW_FORMS = {}


@receiver(setting_changed)
def _forget(**kwargs):
    _DRAWN.clear()
    _WINDOW_FORMS.clear()


def window_html(form):
    """The window's form as statistics_window.html draws it: kept where it has no error to
    say (the value sent, one of WINDOWS, or none), drawn for the request where it has."""
    if form.errors:
        return SafeString(render_to_string(WINDOW_TEMPLATE, {"form": form}))
    key = (get_language(), form.data.get("weeks") if form.is_bound else None)
    found = _WINDOW_FORMS.get(key)
    if found is None:
        if len(_WINDOW_FORMS) >= _DRAWN_MAX:
            _WINDOW_FORMS.clear()
        found = _WINDOW_FORMS[key] = SafeString(render_to_string(WINDOW_TEMPLATE,
                                                                 {"form": form}))
    return found


def drawn(weeks, day, figures):
    """(the HTML of statistics_figures.html, figure_values()) of `figures`, the figures of
    the window of `weeks` weeks ending with the week of `day`, in the active language."""
    key = (weeks, day, get_language(), timezone.get_current_timezone_name(),
           figures.computed_at)
    found = _DRAWN.get(key)
    if found is None:
        values = figure_values(weeks, figures)
        found = (SafeString(render_to_string(FIGURES_TEMPLATE, values)), values)
        for other in list(_DRAWN):  # an earlier computation of the same window and day
            if other[:4] == key[:4]:
                _DRAWN.pop(other, None)
        if len(_DRAWN) >= _DRAWN_MAX:
            _DRAWN.clear()
        _DRAWN[key] = found
    return found


def statistics_view(model_admin, request):
    """The page: for staff who may view the cases (the reviewers); anyone else is refused as
    the admin refuses (admin_view: the login page for who is not staff)."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    form = WindowForm(request.GET if "weeks" in request.GET else None)
    # A forged window (not one of WINDOWS) is said next to the field; the default is shown.
    weeks = form.cleaned_data["weeks"] if form.is_bound and form.is_valid() else DEFAULT_WINDOW
    day = window_end()
    html, values = drawn(weeks, day, figures_for(weeks, day))
    response = TemplateResponse(request, TEMPLATE, {
        **model_admin.admin_site.each_context(request),
        "title": _("Statistics"), "opts": model_admin.model._meta, "form": form,
        **values, "figures": html, "window_form": window_html(form),
    })
    # The frame drawn once per process (permits.admin_frame).
    return admin_frame.framed_content(request, response)
