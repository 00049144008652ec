"""The reviewers' queues and the assignment of cases in the admin (issue 14, point 1).

On the case list (permits.admin.ApplicationAdmin): the filter 工作佇列 with three queues,
each with its count — 待分派 (in the bureau's hands, nobody assigned), 我的案件 (assigned to
me, not closed), 逾期 (in the bureau's hands, past the stage's due date, Application.
stage_due) — and the 承辦人 column. The three counts are one query (queue_counts) compiled
once per process: on PostgreSQL of the counters its triggers keep (QueueCount,
counter_statements), elsewhere an index-only scan of each queue's range, stopping at
COUNT_CAP; "1000+" beyond.

On the case page, below the moves: who has the case, and the buttons 指派給我, 指派給… (a
select of the active reviewers) and 取消指派, posted to assign_view, which goes through
permits.assignment.application_assign (the rules, under the row lock). The reviewers and the
assignee are read in the page's one round trip (PEOPLE_QUERY, permits.admin_case._read).
"""

import datetime
import functools
import html

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import BigIntegerField, DateField, IntegerField, Q, Subquery, Sum, Value
from django.db.models.functions import Cast, Coalesce
from django.db.models.sql import AND, Query
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from permits import assignment, workflow
from permits.models import QUEUE_STATUSES, Application, QueueCount
from permits.prepared import Opaque, PreparedQuery
from portal.accounts.models import User
from portal.forms import TextRuleMixin
from portal.languages import per_language

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


# How far each queue is counted (issue 10: no full count where none is needed): a queue of
# more cases is shown as COUNT_CAP and more ("1000+", shown_count), its count read from at
# most COUNT_CAP entries of its index range instead of all of them (6,542 for the bench
# reviewer's 我的案件, 15,400 for the three: 2 ms on every list page).
COUNT_CAP = 1000


class _CappedCount(Subquery):
    """COUNT(*) of the rows of `queryset` up to `cap`: `(SELECT COUNT(*) FROM (SELECT 1 ...
    LIMIT cap))`, at most `cap` entries of its index read. A count of `cap` is "`cap` or
    more"."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) capped)"

    def __init__(self, queryset, cap):
        # A constant, not a column: the rows are counted from the index alone.
        super().__init__(queryset.annotate(one=Value(1)).values("one")[:cap],
                         output_field=IntegerField())


class _OneRow:
    """What PreparedQuery compiles for a row of `columns` (expressions) read from no table:
    `SELECT column, column, ...`, as Django's Q.check() makes a query of no model."""

    def __init__(self, **columns):
        self.query = Query(None)
        for name, expression in columns.items():
            self.query.add_annotation(expression, name)


@functools.cache
def _counts_query(cap):
    """How many cases each queue holds for the user on the day, up to `cap` each, in one
    row of three scalar subqueries: every count over its queue's condition
    (queue_condition), an index-only scan of its own range (待分派 and 逾期 of
    application_queues, 0013; 我的案件 of application_assigned_list, 0014) that stops at
    `cap` entries (_CappedCount): 0.7 ms of execution at 100,000 cases for 1,000 each,
    against 2.2 ms for the whole ranges (15,400 entries; bench/README.md "Stop 25 (queue
    counts)"). (逾期's range is its statuses': where fewer than `cap` cases are overdue, every
    entry of them is read, its day checked in the index, as before.) Its plan is kept: the statuses
    written into its SQL, the reviewer and the day hidden from the planner (bench/README.md
    "Stop 24 (the list's queries)")."""
    def build(user, today):
        # The values hidden from the planner (Opaque): its plan is kept (keep_plan), the
        # same for every reviewer and day, without 1.2–2 ms of planning on each page.
        user, today = Opaque(user, BigIntegerField()), Opaque(today, DateField())
        return _OneRow(**{name: _CappedCount(Application.objects.filter(
            queue_condition(name, user, today)).order_by(), cap) for name in QUEUES})

    return PreparedQuery(build, parameters=("user", "today"),
                         kinds={"today": datetime.date}, keep_plan=True,
                         inline_constants=True)


def queue_counts(user, today=None):
    """{queue: count} for `user` on `today`, in one query, each count up to COUNT_CAP (a
    count of COUNT_CAP is COUNT_CAP or more: shown_count). On PostgreSQL read from the
    counters its triggers keep (_kept_counts_query), elsewhere counted (_counts_query)."""
    today = today or timezone.localdate()
    if connection.vendor == "postgresql":
        ((unassigned, mine, overdue),) = _kept_counts_query().rows(
            user=user.pk, day=(today - EPOCH).days)
        cap = COUNT_CAP
        return {UNASSIGNED: min(unassigned, cap), MINE: min(mine, cap),
                OVERDUE: min(overdue, cap)}
    ((unassigned, mine, overdue),) = _counts_query(COUNT_CAP).rows(user=user.pk, today=today)
    return {UNASSIGNED: unassigned, MINE: mine, OVERDUE: overdue}


# --- The counts kept by PostgreSQL (QueueCount) -----------------------------------------------

# The day 逾期's counters count from: a row's key is its stage_due - EPOCH in days.
EPOCH = datetime.date(1970, 1, 1)
# QueueCount.kind of each queue.
KINDS = {UNASSIGNED: "u", MINE: "m", OVERDUE: "o"}


@functools.cache
def _kept_counts_query():
    """The three counts read from QueueCount in one row: 待分派's row, the user's 我的案件
    row, and the sum of 逾期's rows of the days before the day (a few hundred rows at most,
    read by the counters' unique index): 0 where no row. Its plan is kept as
    _counts_query's (Opaque values, the kinds written in)."""
    def build(user, day):
        user, day = Opaque(user, BigIntegerField()), Opaque(day, BigIntegerField())
        counters = QueueCount.objects.order_by()
        overdue = counters.filter(kind=KINDS[OVERDUE], key__lt=day).values("kind").annotate(
            total=Cast(Sum("n"), BigIntegerField())).values("total")  # (SUM: numeric)
        return _OneRow(**{
            UNASSIGNED: Coalesce(Subquery(counters.filter(
                kind=KINDS[UNASSIGNED], key=0).values("n")), 0),
            MINE: Coalesce(Subquery(counters.filter(kind=KINDS[MINE], key=user).values("n")),
                           0),
            OVERDUE: Coalesce(Subquery(overdue, output_field=BigIntegerField()), 0)})

    return PreparedQuery(build, parameters=("user", "day"), keep_plan=True,
                         inline_constants=True)


def counter_statements(queue_statuses=QUEUE_STATUSES, under_review=UNDER_REVIEW):
    """The SQL that keeps QueueCount on PostgreSQL (run by migration 0017): a row trigger on
    the cases for INSERT, UPDATE (of status, assignee_id or stage_due only) and DELETE that
    takes the old row's place in the queues (queue_condition) out of the counters and puts the
    new row's in, and a TRUNCATE trigger that empties them.

    The statuses are written into the function: the migration passes those of the constants
    (QUEUE_STATUSES, UNDER_REVIEW) as they were when it was written, so a change of either
    needs a new migration that runs these statements again (CREATE OR REPLACE) and
    refill_statements() with the new statuses (tests/permits/test_queue_counters.py fails
    until then).

    Concurrency: a transaction that changes a counter row holds its lock until it commits,
    so cases moving in or out of the same queue (待分派, one reviewer's 我的案件, one due day)
    are written one transaction after the other; a list page reading the counters does not
    wait. Each case's changes are applied in one fixed order (kind, then key: the counters'
    own order), so two transactions of one change of a case each cannot deadlock on them;
    two transactions that each change several cases (an update() of many) may, in an
    unlucky order, and PostgreSQL then cancels one of them (deadlock detected)."""
    if not set(under_review) <= set(queue_statuses):
        raise ValueError("UNDER_REVIEW must be among QUEUE_STATUSES")
    table = QueueCount._meta.db_table
    cases = Application._meta.db_table

    queue, review = _listed(queue_statuses), _listed(under_review)
    place = """
    IF {row}.status IN ({review}) THEN
      {side}_u := {row}.assignee_id IS NULL;
      {side}_o := {row}.stage_due - DATE '{epoch}';
    END IF;
    IF {row}.status IN ({queue}) THEN
      {side}_m := {row}.assignee_id;
    END IF;"""
    old = place.format(row="OLD", side="old", review=review, queue=queue, epoch=EPOCH)
    new = place.format(row="NEW", side="new", review=review, queue=queue, epoch=EPOCH)
    return [
        f"""CREATE OR REPLACE FUNCTION permits_queue_count_add(k text, key_ bigint, delta bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  left_n bigint;
BEGIN
  INSERT INTO {table} AS c (kind, key, n) VALUES (k, key_, delta)
    ON CONFLICT (kind, key) DO UPDATE SET n = c.n + EXCLUDED.n RETURNING c.n INTO left_n;
  IF left_n = 0 THEN
    DELETE FROM {table} WHERE kind = k AND key = key_ AND n = 0;
  END IF;
END $$""",  # noqa: S608 (the tables' and statuses' names)
        """CREATE OR REPLACE FUNCTION permits_queue_count_move(k text, old_key bigint,
                                                    new_key bigint)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  -- the smaller key first (NULL: not in the queue)
  IF old_key IS NOT DISTINCT FROM new_key THEN
    RETURN;
  ELSIF new_key IS NULL OR (old_key IS NOT NULL AND old_key < new_key) THEN
    PERFORM permits_queue_count_add(k, old_key, -1);
    IF new_key IS NOT NULL THEN
      PERFORM permits_queue_count_add(k, new_key, 1);
    END IF;
  ELSE
    PERFORM permits_queue_count_add(k, new_key, 1);
    IF old_key IS NOT NULL THEN
      PERFORM permits_queue_count_add(k, old_key, -1);
    END IF;
  END IF;
END $$""",
        f"""CREATE OR REPLACE FUNCTION permits_queue_counts_row() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  old_u boolean := false;
  new_u boolean := false;
  old_m bigint;
  new_m bigint;
  old_o bigint;
  new_o bigint;
BEGIN
  IF TG_OP <> 'INSERT' THEN{old}
  END IF;
  IF TG_OP <> 'DELETE' THEN{new}
  END IF;
  -- in the counters' order: m (by key), o (by key), u
  PERFORM permits_queue_count_move('m', old_m, new_m);
  PERFORM permits_queue_count_move('o', old_o, new_o);
  PERFORM permits_queue_count_move('u', CASE WHEN old_u THEN 0 END,
                                   CASE WHEN new_u THEN 0 END);
  RETURN NULL;
END $$""",
        f"""CREATE OR REPLACE FUNCTION permits_queue_counts_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM {table};
  RETURN NULL;
END $$""",  # noqa: S608 (the tables' and statuses' names)
        f"DROP TRIGGER IF EXISTS permits_queue_counts_insert ON {cases}",
        f"""CREATE TRIGGER permits_queue_counts_insert AFTER INSERT ON {cases}
FOR EACH ROW WHEN (NEW.status IN ({queue})) EXECUTE FUNCTION permits_queue_counts_row()""",
        f"DROP TRIGGER IF EXISTS permits_queue_counts_update ON {cases}",
        f"""CREATE TRIGGER permits_queue_counts_update AFTER UPDATE ON {cases}
FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status
                   OR OLD.assignee_id IS DISTINCT FROM NEW.assignee_id
                   OR OLD.stage_due IS DISTINCT FROM NEW.stage_due)
EXECUTE FUNCTION permits_queue_counts_row()""",
        f"DROP TRIGGER IF EXISTS permits_queue_counts_delete ON {cases}",
        f"""CREATE TRIGGER permits_queue_counts_delete AFTER DELETE ON {cases}
FOR EACH ROW WHEN (OLD.status IN ({queue})) EXECUTE FUNCTION permits_queue_counts_row()""",
        f"DROP TRIGGER IF EXISTS permits_queue_counts_truncate ON {cases}",
        f"""CREATE TRIGGER permits_queue_counts_truncate AFTER TRUNCATE ON {cases}
FOR EACH STATEMENT EXECUTE FUNCTION permits_queue_counts_truncate()""",
    ]


def _listed(statuses):
    """The statuses as SQL's literals, for IN (...)."""
    return ", ".join("'" + status.replace("'", "''") + "'" for status in statuses)


def refill_statements(queue_statuses=QUEUE_STATUSES, under_review=UNDER_REVIEW):
    """QueueCount counted again from the cases, the cases locked against writes meanwhile
    (in a transaction: the lock is held until it ends)."""
    table, cases = QueueCount._meta.db_table, Application._meta.db_table
    queue, review = _listed(queue_statuses), _listed(under_review)
    return [
        f"LOCK TABLE {cases} IN SHARE ROW EXCLUSIVE MODE",
        f"DELETE FROM {table}",  # noqa: S608 (the tables' and statuses' names)
        f"""INSERT INTO {table} (kind, key, n)
SELECT 'm', assignee_id, COUNT(*) FROM {cases}
 WHERE status IN ({queue}) AND assignee_id IS NOT NULL GROUP BY assignee_id
UNION ALL
SELECT 'o', stage_due - DATE '{EPOCH}', COUNT(*) FROM {cases}
 WHERE status IN ({review}) AND stage_due IS NOT NULL GROUP BY stage_due
UNION ALL
SELECT 'u', 0, COUNT(*) FROM {cases}
 WHERE status IN ({review}) AND assignee_id IS NULL HAVING COUNT(*) > 0""",  # noqa: S608 (the tables' and statuses' names)
        f"ANALYZE {table}",
    ]


def drop_statements():
    """What counter_statements() made, removed (migration 0017 reversed)."""
    cases = Application._meta.db_table
    return [*(f"DROP TRIGGER IF EXISTS permits_queue_counts_{name} ON {cases}"
              for name in ("insert", "update", "delete", "truncate")),
            "DROP FUNCTION IF EXISTS permits_queue_counts_truncate()",
            "DROP FUNCTION IF EXISTS permits_queue_counts_row()",
            "DROP FUNCTION IF EXISTS permits_queue_count_move(text, bigint, bigint)",
            "DROP FUNCTION IF EXISTS permits_queue_count_add(text, bigint, bigint)"]


def shown_count(count):
    """A queue's count as the filter shows it: the number as the page prints numbers
    (localized; str() where no thousands are grouped, as permits.admin_list prints the
    list's numbers: localize() cost 18 µs a number), and COUNT_CAP (where queue_counts
    stopped counting) as "1000+", COUNT_CAP or more."""
    number = min(count, COUNT_CAP)
    number = formats.localize(number) if settings.USE_THOUSAND_SEPARATOR else str(number)
    return number if count < COUNT_CAP else _words()[1] % {"count": number}


# The queues' labels and the text of a count at the cap, looked up once a language: each
# lazy label cast to text was a gettext (about 10 µs) on every list page.
_words = per_language(lambda: ({name: str(label) for name, label in QUEUES.items()},
                               gettext("%(count)s+")))


class QueueFilter(admin.SimpleListFilter):
    """工作佇列: 待分派, 我的案件, 逾期, each with its count (one query, queue_counts)."""

    title = _("queue")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        counts = queue_counts(request.user)
        labels = _words()[0]
        return [(name, f"{labels[name]} ({shown_count(counts[name])})") for name in QUEUES]

    def queryset(self, request, queryset):
        name = self.value()
        if name not in QUEUES:
            return queryset
        today = timezone.localdate()
        if name == OVERDUE:
            return _overdue(queryset, today)
        return queryset.filter(queue_condition(name, request.user.pk, today))


@functools.lru_cache(maxsize=4)
def _overdue_where(today):
    """逾期's conditions on `today` as Django's filter() builds them (a WhereNode of its
    lookups): built once a day, not on every page of the queue (Django resolved the two
    lookups, each status and the day prepared, about 60 µs a page; bench/README.md "Stop
    26 (queues)"). Its columns are the case's own, so no join goes with it."""
    return Application.objects.filter(queue_condition(OVERDUE, None, today)).query.where


def _overdue(queryset, today):
    """`queryset` filtered to 逾期 on `today` as queryset.filter() would have filtered it:
    the same WHERE tree (_overdue_where()) and the table counted once a condition (what
    permits.admin_list reads for the page's compiled query). Django's filter() where the
    query is not a plain one of the cases, whose table's alias could be another."""
    query = queryset.query
    if (queryset.model is not Application or query.is_sliced or query.combinator
            or (query.alias_map and query.base_table != Application._meta.db_table)):
        return queryset.filter(queue_condition(OVERDUE, None, today))
    where = _overdue_where(today)
    clone = queryset._chain()
    query = clone.query
    for _condition in where.children:  # as Query.build_filter() refers to it
        query.get_initial_alias()
    query.where.add(where.clone(), AND)
    return clone


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
