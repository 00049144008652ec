"""The reviewers' queues and the assignment of cases in the admin (issue 14, point 1).

On the case list (permits.admin.ApplicationAdmin): the filter 工作佇列 with three queues,
each with its count — 待分派 (in the bureau's hands, nobody assigned), 我的案件 (assigned to
me, not closed), 逾期 (in the bureau's hands, past the stage's due date, Application.
stage_due) — and the 承辦人 column. The three counts are one query (queue_counts: FILTER
aggregates over the open cases, grouped by status, one index-only scan of the partial index
application_queues, migration 0013) compiled once per process.

On the case page, below the moves: who has the case, and the buttons 指派給我, 指派給… (a
select of the active reviewers) and 取消指派, posted to assign_view, which goes through
permits.assignment.application_assign (the rules, under the row lock). The reviewers and the
assignee are read in the page's one round trip (PEOPLE_QUERY, permits.admin_case._read).
"""

import datetime
import functools
import html

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import BigIntegerField, DateField, Func, IntegerField, Q, Subquery
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from permits import assignment, workflow
from permits.models import QUEUE_STATUSES, Application
from permits.prepared import Opaque, PreparedQuery
from portal.accounts.models import User
from portal.forms import TextRuleMixin

UNASSIGNED, MINE, OVERDUE = "unassigned", "mine", "overdue"
QUEUES = {UNASSIGNED: _("Unassigned"), MINE: _("My cases"), OVERDUE: _("Overdue")}
# The bureau's hands, named in the order of QUEUE_STATUSES (the index's condition).
UNDER_REVIEW = [status for status in QUEUE_STATUSES if status in workflow.UNDER_REVIEW]


def queue_condition(name, user_id, today):
    """Q of the queue `name` for the user `user_id` on `today`."""
    if name == UNASSIGNED:
        return Q(status__in=UNDER_REVIEW, assignee__isnull=True)
    if name == MINE:
        # Assigned and not closed: an assigned case is in QUEUE_STATUSES until it closes
        # (permits.assignment.OPEN).
        return Q(status__in=QUEUE_STATUSES, assignee=user_id)
    return Q(status__in=UNDER_REVIEW, stage_due__lt=today)


@functools.cache
def _counts_query():
    """How many cases each queue holds for the user on the day, in one row: the 待分派
    cases counted, and beside them the other two queues' counts, each a scalar subquery;
    every count over its queue's condition (queue_condition), an index-only scan of its own
    range (待分派 and 逾期 of application_queues, 0013; 我的案件 of application_assigned_list,
    0014): 1.0 ms at 100,000 cases, against 2.2 ms for FILTER aggregates over every open
    case grouped by status (bench/README.md "Stop 23 (clocks and queues)"). Its plan is
    kept: the statuses written into its SQL, the reviewer and the day hidden from the
    planner (bench/README.md "Stop 24 (the list's queries)")."""
    def build(user, today):
        # The values hidden from the planner (Opaque): its plan is kept (keep_plan), the
        # same for every reviewer and day, without 1.2–2 ms of planning on each page.
        user, today = Opaque(user, BigIntegerField()), Opaque(today, DateField())

        def cases(name):
            return Application.objects.filter(queue_condition(name, user, today)).order_by()

        def counted(name):
            return Subquery(cases(name).annotate(n=_COUNT).values("n"))

        return cases(UNASSIGNED).annotate(
            unassigned=_COUNT, mine=counted(MINE), overdue=counted(OVERDUE)).values_list(
            "unassigned", "mine", "overdue")

    return PreparedQuery(build, parameters=("user", "today"),
                         kinds={"today": datetime.date}, keep_plan=True,
                         inline_constants=True)


# COUNT(*) of a query's rows, with no GROUP BY (Django's Count() in annotate() groups by the
# model's columns).
_COUNT = Func(template="COUNT(*)", output_field=IntegerField())


def queue_counts(user, today=None):
    """{queue: count} for `user` on `today`, in one query."""
    today = today or timezone.localdate()
    ((unassigned, mine, overdue),) = _counts_query().rows(user=user.pk, today=today)
    return {UNASSIGNED: unassigned, MINE: mine, OVERDUE: overdue}


class QueueFilter(admin.SimpleListFilter):
    """工作佇列: 待分派, 我的案件, 逾期, each with its count (one query, queue_counts)."""

    title = _("queue")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        counts = queue_counts(request.user)
        return [(name, f"{label} ({counts[name]})") for name, label in QUEUES.items()]

    def queryset(self, request, queryset):
        name = self.value()
        if name not in QUEUES:
            return queryset
        return queryset.filter(queue_condition(name, request.user.pk, timezone.localdate()))


def assignee_cell(case):
    """The 承辦人 cell of the list: the assignee's name (read with the page's cases)."""
    user = case.assignee
    return user.name if user is not None else ""


# --- The case page --------------------------------------------------------------------------


def _people(assignee):
    """The active reviewers and the case's assignee (0: none) whoever they are: (pk,
    identifier, name), by name. Their keys as a UNION of the two, each read by its index:
    `IN (reviewers) OR pk = assignee` read every user (a sequential scan, 0.6-1.0 ms at
    2,004 users, bench/README.md "Stop 24")."""
    people = assignment.reviewers().order_by().values("pk").union(
        User.objects.filter(pk=assignee).order_by().values("pk"))
    return User.objects.filter(pk__in=people).order_by("name", "pk").values_list(
        "pk", "identifier", "name")


PEOPLE_QUERY = PreparedQuery(_people, parameters=("assignee",), keep_plan=True)


def people_from(rows, request):
    """Keep PEOPLE_QUERY's rows for `request` (read in the case page's round trip)."""
    request._case_people = rows


def _people_for(request, case):
    rows = getattr(request, "_case_people", None)
    if rows is None:  # Django's change form (a superuser's): a query of its own
        rows = request._case_people = PEOPLE_QUERY.rows(assignee=case.assignee_id or 0)
    return rows


def assignment_html(request, case, token=None):
    """The 指派 section of a reviewer's case page: who has the case, and the buttons the
    user may use now (permits.assignment's rules; they are checked again on posting)."""
    escape = html.escape
    rows = _people_for(request, case)
    names = {pk: f"{name} ({identifier})" for pk, identifier, name in rows}
    user = request.user
    # The words first (xgettext does not read a gettext() inside an f-string).
    heading, label = escape(gettext("Assignment")), escape(gettext("Assigned to"))
    who = escape(names.get(case.assignee_id, "") if case.assignee_id
                 else gettext("Unassigned"))
    parts = ['<section class="module case-assignment" aria-labelledby="case-assignment-heading" '
             'data-testid="case-assignment">\n'
             f'<h2 id="case-assignment-heading">{heading}</h2>\n'
             f'<p>{label}: <strong data-testid="assignee">{who}</strong></p>\n']
    supervisor = assignment.may_assign_others(user)
    take = assignment.may_take(user, case)
    if take or (supervisor and case.status in assignment.OPEN):
        url = escape(reverse("admin:permits_application_assign", args=[case.pk]))
        parts.append(
            f'<form method="post" action="{url}" class="case-assignment-form">\n'
            '<input type="hidden" name="csrfmiddlewaretoken" '
            f'value="{token or get_token(request)}">\n'
            f'<input type="hidden" name="seen" value="{case.assignee_id or 0}">\n')
        if take:
            words = escape(gettext("Assign to me"))
            parts.append('<button type="submit" name="action" value="take" class="button" '
                         f'data-testid="assign-take">{words}</button>\n')
        if supervisor:
            options = "".join(
                f'<option value="{pk}"{" selected" if pk == case.assignee_id else ""}>'
                f"{escape(name)}</option>"
                for pk, name in names.items())
            label, words = escape(gettext("Assign to")), escape(gettext("Assign"))
            parts.append(
                f'<label for="id_assignee">{label}</label>\n'
                f'<select name="assignee" id="id_assignee">{options}</select>\n'
                '<button type="submit" name="action" value="give" class="button" '
                f'data-testid="assign-give">{words}</button>\n')
            if case.assignee_id:
                words = escape(gettext("Unassign"))
                parts.append('<button type="submit" name="action" value="release" '
                             f'class="button" data-testid="assign-release">{words}</button>\n')
        parts.append("</form>\n")
    parts.append("</section>\n")
    return "".join(parts)


class AssignForm(TextRuleMixin, forms.Form):  # forged values: messages, never a 500
    action = forms.ChoiceField(choices=[("take", "take"), ("give", "give"),
                                        ("release", "release")])
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    # The assignee's id the page showed (0: nobody): what the user decided on.
    seen = forms.IntegerField(required=False, min_value=0, max_value=2 ** 63 - 1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignment.reviewers()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") == "give" and cleaned.get("assignee") is None \
                and "assignee" not in self.errors:
            self.add_error("assignee", _("Choose a reviewer."))
        return cleaned


def assign_view(model_admin, request, pk):
    """指派給我, 指派給…, 取消指派 (a button on the case page): only through
    assignment.application_assign; a refusal is a message on the case page. (A reviewer's
    POST: ApplicationAdmin.case_button.)"""
    case = get_object_or_404(Application, pk=pk)
    form = AssignForm(request.POST)
    if not form.is_valid():
        errors = [str(error) for field in form.errors.values() for error in field]
        messages.error(request, " ".join([gettext("The case was not assigned:"), *errors]))
        return redirect("admin:permits_application_change", pk)
    action = form.cleaned_data["action"]
    assignee = {"take": request.user, "give": form.cleaned_data["assignee"],
                "release": None}[action]
    try:
        case = assignment.application_assign(application=case, assignee=assignee,
                                             actor=request.user, seen=form.cleaned_data["seen"])
    except (assignment.AssignmentRefused, PermissionDenied) as error:
        messages.error(request, str(error))
    else:
        if assignee is None:
            messages.success(request, gettext("%(case)s is unassigned.") % {"case": case})
        else:
            messages.success(request, gettext("%(case)s is assigned to %(name)s.") % {
                "case": case, "name": assignee.name})
    return redirect("admin:permits_application_change", pk)
