"""Long lists of the cases a user may see, read from indexes (issue 10).

The visibility rule (ApplicationQuerySet.visible_to) is "applicant = me OR agent = me". As one
WHERE clause PostgreSQL answers it with a BitmapOr of the two indexes and then sorts every
visible case to show the newest 25: for a broker who filed 20,000 cases that sort is most of
the page. Here the rule is read as two branches that never share a case, "agent = me" and
"applicant = me AND agent is not me", each an index range already in the list's order
(the indexes application_*_list and application_*_filed). Each branch stops after the rows
the page needs and PostgreSQL merges the two (Merge Append): the cost follows the page
number, not the number of cases.

A page is one query. It reads the columns the lists show, with the permit version of each
case, and makes the cases from them (the rest of each row is deferred): Django's per-query
and per-instance work, not SQL, was most of what these pages cost. The lists are not
counted (a count reads every visible case again): pages go on with 上一頁 and 下一頁
(capped pagination, MAX_PAGE at the most).

The rule itself stays in visible_to(); this module only reads it faster, and its pages are
checked against visible_to() (tests/permits/test_listing.py). SQLite (the embedded default)
and bureau staff, who see every case, read the visible_to() queryset with the same columns.
"""

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import connection
from django.db.models import Count, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.encoding import force_str
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_lazy
from psycopg.types.numeric import Int8

from permits.models import Application, Item, Permit, PermitVersion, Status
from permits.prepared import PreparedQuery, made, plainly_made
from portal import dates
from portal.escaping import escaped

# A page number from the address bar is bounded before it becomes an OFFSET.
MAX_PAGE = 10_000
# Pages whose SQL each process keeps compiled (permits.prepared), oldest dropped first.
PREPARED_PAGES = 64
_PREPARED = {}

# What a list row shows of a case, and of the permit version it produced, in the order of
# the models' fields (Model.from_db reads them so); and the destination, which a procedure's
# hooks read per row (SHTC: an Iran / North Korea assurance takes no documents, shtc/iran.py).
def _in_model_order(model, names):
    return tuple(f.attname for f in model._meta.concrete_fields if f.attname in names)


CASE_COLUMNS = _in_model_order(Application, {
    "id", "created_at", "submitted_at", "document_type", "kind", "status", "receipt_no",
    "registration_no", "applicant_id", "agent_id", "applicant_name", "destination_country"})
# Where a draft's document type, kind and applicant are among them (DRAFT_COLUMNS).
_DRAFT_CASE_COLUMNS = tuple(CASE_COLUMNS.index(name)
                            for name in ("document_type", "kind", "applicant_name"))
_VERSION_FIELDS = _in_model_order(PermitVersion, {
    "id", "version", "valid_from", "valid_until", "permit_id"})
VERSION_COLUMNS = (*(f"issued_version__{name}" for name in _VERSION_FIELDS),
                   "issued_version__permit__permit_no")


@dataclass(frozen=True)
class Criteria:
    """What a query page (申辦狀況查詢作業) narrows the cases to, so that VisibleCases compiles
    its pages once per process for each combination of criteria given (permits.prepared)
    rather than on every request. `narrow(**criteria)` → the queryset of the cases meeting
    them, every criterion a keyword and None when not given; `values` are this request's;
    `kinds` the permits.prepared kind of each that is not an int (str, datetime...)."""

    name: str
    narrow: Callable
    values: dict
    kinds: dict = field(default_factory=dict)

    @property
    def given(self):
        return tuple(sorted(name for name, value in self.values.items() if value is not None))


@dataclass(frozen=True)
class Drafts:
    """The drafts a list's first page shows above its cases (我的案件's 暫存中的案件), read by
    the page's own query: `of(user)` → the queryset of the drafts `user` may continue
    (permits.entry.drafts_of), listed newest saved first, at most `limit` of them."""

    of: Callable
    limit: int
    # `branches(user)` → of(user) as two querysets that never share a draft, each without an
    # OR (permits.entry.draft_branches): on PostgreSQL the page reads each from its own index
    # in the list's order, one plan for every user (VisibleCases._prepared keeps it).
    branches: Callable | None = None

    def rows(self, user):
        """Through the ORM (SQLite, bureau staff): the DRAFT_COLUMNS rows of `user`'s drafts,
        their items counted for those listed only (a subquery, evaluated after the LIMIT)."""
        item_count = Subquery(Item.objects.filter(application=OuterRef("pk")).order_by()
                              .values("application").annotate(n=Count("pk")).values("n"))
        return list(self.of(user).annotate(item_count=Coalesce(item_count, 0))
                    .order_by("-updated_at", "-pk").values_list(*DRAFT_COLUMNS)[:self.limit])


# What a draft's row holds (Drafts, VisibleCases.drafts_shown).
DRAFT_COLUMNS = ("pk", "document_type", "kind", "applicant_name", "updated_at", "item_count")


class VisibleCases:
    """The cases among `queryset` that `user` may see, ordered by `ordering` (a date field
    then the id, both descending: the order of the indexes). `cases[start:stop]` is one
    query and gives Application instances holding CASE_COLUMNS and their permit version
    (Application.permit_version, with its permit number). With `drafts` (Drafts), the first
    page's query reads the user's drafts too, as DRAFT_COLUMNS rows in `drafts_shown`: one
    query and one round trip for 我的案件's first page, where there were two. `related`:
    names of one-to-one rows of the case (Application.shtc) read with it, in place as
    select_related() puts them (None where the case has none): a query less on 9-1-2.
    `versions=False`: the permit versions not read (a list that shows none, 9-1-2's: two
    joins less to plan and run); case.permit_version then reads its own."""

    def __init__(self, queryset=None, *, user, ordering, prepared=None, criteria=None,
                 drafts=None, related=(), versions=True):
        if queryset is not None:
            self.queryset = queryset  # else narrowed when read (cached_property below)
        self.user = user
        self.ordering = ordering
        # A name under which the pages' SQL is compiled once per process (permits.prepared):
        # only for a `queryset` that is the same on every request, whoever asks; or the
        # Criteria the queryset was narrowed by, compiled once for each combination given.
        self.prepared = prepared
        self.criteria = criteria
        self.drafts = drafts
        self.drafts_shown = None  # read with the first page
        self.related = tuple(related)
        self.versions = versions

    @functools.cached_property
    def queryset(self):
        """The Criteria's cases: built only when read (a page compiled once per process
        does not need them; building the queryset cost a query page 0.3 ms)."""
        return self.criteria.narrow(**self.criteria.values)

    @property
    def _date_field(self):
        return self.ordering[0].lstrip("-")

    @functools.cached_property
    def _plain(self):
        return (connection.vendor != "postgresql"
                or Application.objects.sees_every_case(self.user))

    def _branches(self):
        filed = self.queryset.filter(agent=self.user)
        mine = self.queryset.filter(applicant=self.user).filter(
            Q(agent__isnull=True) | ~Q(agent=self.user))
        return filed, mine

    def _with_drafts(self, start):
        return self.drafts is not None and start == 0

    def _ordered(self):
        """The two branches as one UNION ALL in the list's order, neither cut: a deep page's
        ids, LIMIT and OFFSET added by the page's statement (_DeepPage), which PostgreSQL
        reads as one Merge Append of the two index ranges stopped at the page's end."""
        filed, mine = (branch.order_by(*self.ordering).values_list("id", self._date_field)
                       for branch in self._branches())
        return filed.union(mine, all=True).order_by(*self.ordering)

    def _union(self, stop, start=0):
        """The ids of the cases from `start` to `stop`, as (id, date) rows: one UNION ALL of
        the two branches, each in the list's order and cut at `stop` (index-only scans).
        On a first page with drafts, a third branch gives the newest drafts, (id, date saved,
        true) rows ahead of the cases' (id, date, false)."""
        date = self._date_field
        branches = [branch.order_by(*self.ordering) for branch in self._branches()]
        if not self._with_drafts(start):
            filed, mine = (branch.values_list("id", date)[:stop] for branch in branches)
            return filed.union(mine, all=True).order_by(*self.ordering)[start:stop]
        filed, mine = (branch.annotate(draft=Value(False)).values_list("id", date, "draft")
                       [:stop] for branch in branches)
        drafts = ((self.drafts.of(self.user),) if self.drafts.branches is None
                  else self.drafts.branches(self.user))
        drafts = [branch.order_by("-updated_at", "-id").annotate(draft=Value(True))
                  .values_list("id", "updated_at", "draft")[:self.drafts.limit]
                  for branch in drafts]
        # The drafts first, then as many cases as asked (more if there are fewer drafts).
        return filed.union(mine, *drafts, all=True).order_by(
            "-draft", *self.ordering)[:stop + self.drafts.limit]

    def _rows(self, key):
        start = key.start or 0
        if self._plain:
            if self._with_drafts(start):
                self.drafts_shown = self.drafts.rows(self.user)
            return self.queryset.visible_to(self.user).order_by(*self.ordering).values_list(
                *CASE_COLUMNS, *(VERSION_COLUMNS if self.versions else ()),
                *(f"{name}__{attname}" for name in self.related
                  for attname in _related(name)[1]))[key]
        # The page's ids first, then their rows joined with their versions and permits: the
        # joins run for the page only, not for every row a deep page skips.
        if self.criteria is not None:
            given = {name: self.criteria.values[name] for name in self.criteria.given}
            rows = self._prepared(start, key.stop).rows(user=self.user.pk, **given)
        elif self.prepared and start:
            rows = self._prepared(start, key.stop).rows(user=self.user.pk, offset=start)
        elif self.prepared:
            rows = self._prepared(start, key.stop).rows(user=self.user.pk)
        else:
            ids, params = self._union(key.stop, start).query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute(_page_sql(self._date_field, self._with_drafts(start),
                                         self.related, self.versions) % ids, params)
                rows = cursor.fetchall()
        rows = _dated(rows, _text_dates(self._date_field, self._with_drafts(start),
                                        self.related, self.versions))
        if not self._with_drafts(start):
            return rows
        # The drafts' rows come first, marked, with the date they were saved and how many
        # items they have (_page_sql).
        marked = len(CASE_COLUMNS) + len(VERSION_COLUMNS) * self.versions + sum(
            len(_related(name)[1]) for name in self.related)
        self.drafts_shown = [(row[0], *(row[index] for index in _DRAFT_CASE_COLUMNS),
                              row[marked + 1], row[marked + 2])
                             for row in rows if row[marked]]
        return [row for row in rows if not row[marked]][:key.stop - start]

    def _prepared(self, start, stop):
        criteria = self.criteria
        given = criteria.given if criteria is not None else ()
        with_drafts = self._with_drafts(start)
        # A deep page of a list without criteria (我的案件's page 2 on): one statement for
        # every page of its length, its OFFSET a parameter (_DeepPage).
        deep = criteria is None and start > 0
        key = (criteria.name if criteria is not None else self.prepared, given, self.ordering,
               None if deep else start, stop - start if deep else stop,
               self.drafts if with_drafts else None, self.related, self.versions)
        query = _PREPARED.get(key)
        if query is None and deep:
            queryset, ordering = self.queryset, self.ordering
            page_sql = _page_sql(self._date_field, False, self.related, self.versions)
            query = _PREPARED[key] = _DeepPage(
                lambda user: VisibleCases(queryset, user=user, ordering=ordering)._ordered(),
                parameters=("user",), keep_plan=True, inline_constants=True,
                wrap=lambda sql: page_sql % f"{sql} LIMIT {stop - start} OFFSET %s")
        if query is None:
            queryset, ordering, drafts = self.queryset, self.ordering, self.drafts
            page_sql = _page_sql(self._date_field, with_drafts, self.related, self.versions)

            def build(user, **values):
                if criteria is not None:  # the criteria given as parameters, the others None
                    cases = VisibleCases(user=user, ordering=ordering, criteria=Criteria(
                        criteria.name, criteria.narrow, dict.fromkeys(criteria.values) | values))
                else:
                    cases = VisibleCases(queryset, user=user, ordering=ordering, drafts=drafts)
                return cases._union(stop, start)

            kinds = {name: kind for name, kind in (criteria.kinds if criteria else {}).items()
                     if name in given}
            # 我的案件's first page (and the home box) keeps its plan: every branch is an index
            # range in the list's order cut at the page's end, so that the one plan PostgreSQL
            # keeps for all users is the one it makes for each, without planning it each time
            # (bench/README.md "Stop 25 (applicants' pages)"); the statuses written into the
            # SQL, for the partial indexes to serve it. Not the query pages' (their
            # criteria decide the plan), nor drafts read with an OR (Drafts.branches); a
            # deep page keeps its own (_DeepPage).
            keep_plan = (criteria is None and start == 0
                         and (not with_drafts or drafts.branches is not None))
            query = _PREPARED[key] = PreparedQuery(build, parameters=("user", *given),
                                                   kinds=kinds, keep_plan=keep_plan,
                                                   inline_constants=keep_plan,
                                                   wrap=lambda sql: page_sql % sql)
            if len(_PREPARED) > PREPARED_PAGES:  # the first pages are the ones asked for
                # (another thread may have dropped the same one: no KeyError)
                _PREPARED.pop(next(iter(_PREPARED), None), None)
        return query

    def count(self):
        """How many cases there are: read only when a page past the end was asked for."""
        if self._plain:
            return self.queryset.visible_to(self.user).count()
        filed, mine = (branch.order_by().values_list("id") for branch in self._branches())
        return filed.union(mine, all=True).count()

    def __getitem__(self, key):
        if not isinstance(key, slice) or key.step is not None or key.stop is None:
            raise TypeError("VisibleCases is read in pages (slices)")
        make = _maker(self.related, self.versions)
        return [make(row) for row in self._rows(key)]


class _DeepPage(PreparedQuery):
    """A deep page of 我的案件 (VisibleCases._prepared): `rows(user=…, offset=…)`, the OFFSET
    the statement's last parameter, bound as a bigint whatever its size (psycopg binds a
    small int as a smallint and keeps a statement per combination of types), so that every
    deep page of a list is one statement whose plan PostgreSQL keeps. Its LIMIT stays in the
    text: a LIMIT parameter is planned for a tenth of the rows, and that generic plan hashed
    every permit version (50 ms for the broker's page 500); with the page's length written
    in, the generic plan is the one made for each user and page (bench/README.md "Stop 26
    (applicants' lists)")."""

    def _statement(self, values):
        values = dict(values)
        offset = Int8(values.pop("offset"))
        alias, compiled, bound = super()._statement(values)
        return alias, compiled, [*bound, offset]


@functools.cache
def _related(name):
    """(model, attnames of its columns) of the one-to-one row `name` of a case."""
    model = Application._meta.get_field(name).related_model
    return model, tuple(field.attname for field in model._meta.concrete_fields)


# _page_sql reads a timestamp as ISO text in UTC (to_char, below) and the page makes it with
# datetime.fromisoformat (_dated): psycopg's timestamptz loader that Django registers is
# Python (its parser, then Django's replace of the zone), about 38,000 instructions a value,
# and a page of 我的案件 has some sixty (two a case, one a draft): a fifth of the page's own
# CPU. fromisoformat gives the same aware datetime in UTC (datetime.timezone.utc, as Django's
# loader gives it for a database in UTC, USE_TZ on: _reads_text_dates);
# tests/permits/test_fixed_text.py compares them with the ORM's.
_ISO_UTC = """'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'"""


@functools.cache
def _reads_text_dates():
    return (settings.USE_TZ and connection.vendor == "postgresql"
            and connection.timezone_name == "UTC")


def _selected(expression, field):
    """The text of `expression` (a column of `field`) in _page_sql's SELECT."""
    if _reads_text_dates() and field is not None and field.get_internal_type() == \
            "DateTimeField":
        return f"to_char({expression} AT TIME ZONE 'UTC', {_ISO_UTC})"
    return expression


@functools.cache
def _text_dates(date_field, drafts=False, related=(), versions=True):
    """The positions, in a row of _page_sql(date_field, drafts, related, versions), of the
    timestamps it reads as text."""
    if not _reads_text_dates():
        return ()
    fields = [*(Application._meta.get_field(name) for name in CASE_COLUMNS),
              *((*(PermitVersion._meta.get_field(name) for name in _VERSION_FIELDS),
                 Permit._meta.get_field("permit_no")) if versions else ()),
              *(_related(name)[0]._meta.get_field(attname) for name in related
                for attname in _related(name)[1])]
    if drafts:
        fields += [None, Application._meta.get_field(date_field), None]
    return tuple(position for position, field in enumerate(fields)
                 if field is not None and field.get_internal_type() == "DateTimeField")


def _dated(rows, positions):
    """`rows` with their timestamps at `positions` (read as text: _text_dates) made."""
    if not positions:
        return rows
    made_rows = []
    for row in rows:
        row = list(row)
        for position in positions:
            value = row[position]
            if value is not None:
                row[position] = _from_iso(value)
        made_rows.append(row)
    return made_rows


_from_iso = datetime.fromisoformat


@functools.cache
def _page_sql(date_field, drafts=False, related=(), versions=True):
    """SELECT the list columns of the cases whose (id, `date_field`) rows a subquery (%s)
    gives, in its order, with their permit versions' (unless not `versions`), then the
    columns of each one-to-one row `related` (_related).
    Written out once from the models' tables and columns. With `drafts`, the subquery's
    rows are marked (id, date, draft), and each row says whether it is a draft's and, for a
    draft, when it was saved and how many items it has (counted for the drafts only), the
    drafts first."""
    def column(model, name):
        return f'{model._meta.db_table}."{model._meta.get_field(name).column}"'

    def selected(model, name):
        return _selected(column(model, name), model._meta.get_field(name))

    application, permit_version, permit, item = (model._meta.db_table for model in
                                                 (Application, PermitVersion, Permit, Item))
    columns = [selected(Application, name) for name in CASE_COLUMNS]
    version_joins = ""
    if versions:
        columns += [*(selected(PermitVersion, name) for name in _VERSION_FIELDS),
                    f"{permit}.permit_no"]
        version_joins = (
            f"LEFT JOIN {permit_version} ON {permit_version}.application_id = page.id "
            f"LEFT JOIN {permit} ON {permit}.id = {permit_version}.permit_id ")
    joins, related_columns = [], ""
    for name in related:
        field = Application._meta.get_field(name).remote_field  # the row's key to its case
        model, alias = field.model, f"related_{name}"
        related_columns += "".join(
            ", " + _selected(f'{alias}."{model._meta.get_field(attname).column}"',
                             model._meta.get_field(attname))
            for attname in _related(name)[1])
        joins.append(f'LEFT JOIN {model._meta.db_table} AS {alias} '
                     f'ON {alias}."{field.column}" = page.id ')
    draft_columns, draft_order = "", ""
    if drafts:
        item_application = column(Item, "application")
        saved = _selected(f'page."{date_field}"', Application._meta.get_field(date_field))
        draft_columns = (f", page.draft, CASE WHEN page.draft THEN {saved} END, "  # noqa: S608
                         f"CASE WHEN page.draft THEN (SELECT COUNT(*) FROM {item} "
                         f"WHERE {item_application} = page.id) END")
        draft_order = "page.draft DESC, "
    # Only the models' own table and column names and a field name of the code's ordering
    # go into the text; every value is a parameter of the subquery.
    return (
        f"SELECT {', '.join(columns)}{related_columns}{draft_columns} "  # noqa: S608
        f"FROM (%s) AS page "
        f"JOIN {application} ON {application}.id = page.id "
        f"{version_joins}{''.join(joins)}"
        f'ORDER BY {draft_order}page."{date_field}" DESC, page.id DESC')


def _case(row, related=()):
    """An Application from a list row, with its permit version (or None) in place, so that
    case.permit_version reads no more, and its one-to-one rows `related` (or None)."""
    return _maker(related)(row)


def _maker(related=(), versions=True):
    """_case() for the rows of one page: the database and whether each model may be made
    plainly (permits.prepared.plainly_made: two signals asked, through their weak
    references, for each of a page's 75 instances) looked up once a page. Not `versions`:
    the rows hold none, and case.permit_version is left to read its own."""
    db = connection.alias
    models = (Application, PermitVersion, Permit, *(_related(name)[0] for name in related))
    plainly = {model: plainly_made(model) for model in models}
    case_end = len(CASE_COLUMNS)
    version_end = case_end + len(VERSION_COLUMNS) * versions
    set_version = Application.issued_version.related.set_cached_value
    set_permit = PermitVersion.permit.field.set_cached_value
    ones = []
    for name in related:
        model, names = _related(name)
        ones.append((model, names, names.index(model._meta.pk.attname),
                     getattr(Application, name).related.set_cached_value))

    def make(row):
        case = made(Application, db, CASE_COLUMNS, row[:case_end],
                    plainly=plainly[Application])
        if versions:
            *version_values, permit_no = row[case_end:version_end]
            version = None
            if version_values[0] is not None:
                version = made(PermitVersion, db, _VERSION_FIELDS, version_values,
                               plainly=plainly[PermitVersion])
                set_permit(version, made(Permit, db, ("id", "permit_no"),
                                         (version.permit_id, permit_no),
                                         plainly=plainly[Permit]))
            set_version(case, version)
        position = version_end
        for model, names, pk_index, set_one in ones:
            values = row[position:position + len(names)]
            position += len(names)
            set_one(case, None if values[pk_index] is None
                    else made(model, db, names, values, plainly=plainly[model]))
        return case

    return make


class CasePage:
    """One page of a VisibleCases list, with what templates/permits/includes/pagination.html
    reads (the attributes of Django's Page; the number of pages is not known)."""

    paginator = None

    def __init__(self, object_list, *, number, has_next):
        self.object_list = object_list
        self.number = number
        self._has_next = has_next

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)

    def has_next(self):
        return self._has_next

    def has_previous(self):
        return self.number > 1

    def has_other_pages(self):
        return self.has_next() or self.has_previous()

    def next_page_number(self):
        return self.number + 1

    def previous_page_number(self):
        return self.number - 1


def case_page(cases, number, *, per_page):
    """Page `number` (as typed in the address: anything not a number is page 1) of
    `cases`, one more row read to know whether a next page exists. Past the end (an old
    link, a typed number): the last page, as Django's Paginator.get_page gives it."""
    try:
        number = min(max(int(number), 1), MAX_PAGE)
    except (TypeError, ValueError):
        number = 1
    start = (number - 1) * per_page
    rows = cases[start:start + per_page + 1]
    if not rows and number > 1:
        number = max(math.ceil(cases.count() / per_page), 1)
        start = (number - 1) * per_page
        rows = cases[start:start + per_page + 1]
    return CasePage(rows[:per_page], number=number, has_next=len(rows) > per_page)


# --- The rows of the case lists ----------------------------------------------------------------


@functools.cache
def _choices(model, name):
    return dict(model._meta.get_field(name).flatchoices)


def choice_labels(model, name):
    """value → what instance.get_<name>_display() gives for it, in the current language,
    without an instance (for rows read as values), each label translated once."""
    choices, seen = _choices(model, name), {}

    def label(value):
        text = seen.get(value)
        if text is None:
            text = seen[value] = force_str(choices.get(value, value), strings_only=True)
        return text

    return label


# A key no URL of the portal holds otherwise, reversed in place of a row's (key_link).
LINK_KEY = 918_273_645


def key_link(url):
    """pk → `url` (reversed with LINK_KEY for its key) with `pk` in the key's place: a list
    reverses each of its links once, not once a row (a reverse() costs about 25 µs of CPU)."""
    head, tail = url.split(str(LINK_KEY))
    return lambda pk: f"{head}{int(pk)}{tail}"


BADGES = {Status.SUPPLEMENT: "warning", Status.APPROVED: "success",
          Status.REJECTED: "secondary", Status.CANCELLED: "secondary"}
ACTIONS = {Status.SUPPLEMENT: gettext_lazy("Action needed: supply documents"),
           Status.REGISTERED: gettext_lazy("Action needed: upload and submit")}


class CaseRows:
    """The <tr> rows of a case table (case_rows()), printed by
    templates/permits/includes/case_table.html as `{{ rows }}`; false when there are none.
    `validity`: whether they have the 有效期限 column (the table's header says so too)."""

    def __init__(self, html, *, count, validity):
        self.count, self.validity = count, validity
        self.html = mark_safe(html)  # noqa: S308 (case_rows escapes every value)

    def __html__(self):
        return self.html

    def __str__(self):  # a template prints str(rows)
        return self.html

    def __bool__(self):
        return self.count > 0

    def __len__(self):
        return self.count


def roc_dates():
    """A function giving what the `roc` filter (portal/templatetags/roc.py) gives for a
    date or datetime, the time zone looked up once (by the filter, once a value: a
    thread-local look-up, a row or two of a list each). tests/permits/test_fixed_text.py
    compares them."""
    zone = timezone.get_current_timezone()

    def text(value):
        if not value:
            return ""
        if getattr(value, "tzinfo", None) is not None:
            value = value.astimezone(zone)
        return dates.to_roc(value)

    return text


def case_rows(cases, *, validity=False):
    """The rows of the case table (templates/permits/includes/case_table.html) for `cases`
    (VisibleCases' instances, or any Application with its permit version at hand), with the
    有效期限 column if `validity`: a link to the case under its number (or 暫存 for none)
    and its permit number and version, the procedure's note (Procedure.dashboard_notes, as
    `case.dashboard_note`), the document type, kind, applicant, application date, the
    status as a badge with what the user must do.

    Written out here, every value escaped: as a template loop, each value a template prints
    costs Django's engine a lookup, localisation and escaping (about 5 µs), and a model
    attribute a failed subscription first; a table of 25 rows cost 0.8 ms in the template
    against 0.2 ms here (issue 10, profiled). Each label (document type, kind, status) is
    translated once per table. tests/permits/test_listing.py checks the rows' cells."""
    url = key_link(reverse("permits:application_detail", args=[LINK_KEY]))
    roc = roc_dates()
    draft = escaped(gettext("(draft)"))
    labels = {}

    def label(case, name):
        value = getattr(case, name)
        text = labels.get((name, value))
        if text is None:
            text = labels[name, value] = escaped(getattr(case, f"get_{name}_display")())
        return text

    rows = []
    for case in cases:
        version = case.permit_version
        link = url(case.pk)
        permit = (f'<a href="{link}">{escaped(version.permit.permit_no)}</a> '
                  f'<span class="text-secondary small">v{version.version}</span>'
                  if version else "")
        note = getattr(case, "dashboard_note", "")
        if note:
            note = (f'<div class="small text-secondary" data-testid="dashboard-note">'
                    f"{escaped(note)}</div>")
        action = ACTIONS.get(case.status)
        action = f'<div class="small text-danger">{escaped(action)}</div>' if action else ""
        until = f"<td>{roc(version.valid_until) if version else ''}</td>" if validity else ""
        rows.append(
            f'<tr><td><a href="{link}">{escaped(case.number) or draft}</a></td>'
            f"<td>{permit}{note}</td>"
            f'<td class="small">{label(case, "document_type")}</td>'
            f'<td class="small">{label(case, "kind")}</td>'
            f'<td class="small">{escaped(case.applicant_name)}</td>'
            f"<td>{roc(case.submitted_at)}</td>"
            f'<td><span class="badge text-bg-{BADGES.get(case.status, "primary")}">'
            f'{label(case, "status")}</span>{action}</td>{until}</tr>')
    return CaseRows("\n".join(rows), count=len(rows), validity=validity)


def decimal_texts(places=4):
    """A function printing a Decimal as `{{ value|floatformat:"-4" }}` does (`places` for 4):
    a whole number without decimals, any other rounded half up to `places` decimals, with
    the page's decimal separator.

    The filter looks up the language's number formats on every call: three quantities in
    each of 50 rows were a fifth of 口罩流向登錄作業's page (issue 10, profiled). Here they
    are looked up once per list. With USE_THOUSAND_SEPARATOR (not the portal's setting) the
    filter itself prints them. tests/permits/test_listing.py compares both."""
    if settings.USE_THOUSAND_SEPARATOR:
        return lambda value: floatformat(value, -places)
    separator = formats.get_format("DECIMAL_SEPARATOR")
    step = Decimal(1).scaleb(-places)

    def text(value):
        value = Decimal(value)
        if value == int(value):
            return str(int(value))
        value = value.quantize(step, ROUND_HALF_UP)
        return f"{value or abs(value):f}".replace(".", separator)  # never "-0.0000"

    return text


# --- The permits a user may see, from the holder (issue 10) -----------------------------------


@functools.cache
def visible_permits_sql():
    """SQL selecting the ids of the permits of one document type that a user may see, with
    the parameters (user id, document type, user id, document type), for PostgreSQL and users
    who do not see every case (the caller checks sees_every_case).

    The rule is Permit.visible_to: a permit some version of which came from a case the user
    may see, as its applicant or as the agent who filed it. Read through every version of
    every case, that is a join of all the user's cases (5,006 for the bench's applicant)
    with the versions. Every version of a permit is filed for the permit's holder
    (permits.services.permit_issue makes the holder the first case's applicant, and a change
    or 餘額重簽 is drawn from a case of the permit with its applicant: entry.draft_from), so
    "applicant = me" is read as "holder = me" (one index range), and only the agent's
    branch goes through the versions. tests/permits/test_visible_permits.py compares both on
    cases filed by applicants and by agents, changes included."""
    return f"{held_permits_sql()} UNION ALL {filed_permits_sql()}"


def held_permits_sql():
    """visible_permits_sql()'s first branch: the ids of the permits of one document type
    that a user holds, with the parameters (user id, document type)."""
    permit = Permit._meta.db_table
    return (f"SELECT {permit}.id FROM {permit} "  # noqa: S608 (table names of the models)
            f"WHERE {permit}.holder_id = %s AND {permit}.document_type = %s")


def filed_permits_sql():
    """visible_permits_sql()'s second branch: the ids of the permits of one document type
    with a version from a case that a user filed as agent (a permit as often as it has such
    versions), with the parameters (user id, document type)."""
    permit, version, application = (model._meta.db_table for model in
                                    (Permit, PermitVersion, Application))
    return (
        f"SELECT {version}.permit_id FROM {application} "  # noqa: S608 (table names)
        f"JOIN {version} ON {version}.application_id = {application}.id "
        f"JOIN {permit} ON {permit}.id = {version}.permit_id "
        f"WHERE {application}.agent_id = %s AND {permit}.document_type = %s")


def visible_permit_ids(user, document_type):
    """The ids of the permits of `document_type` that `user` may see (a set): Permit.visible_to
    on SQLite and for bureau staff, visible_permits_sql() otherwise."""
    if connection.vendor != "postgresql" or Application.objects.sees_every_case(user):
        return set(Permit.objects.visible_to(user).filter(document_type=document_type)
                   .values_list("pk", flat=True))
    if not user.is_authenticated:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(visible_permits_sql(), [user.pk, document_type, user.pk, document_type])
        return {row[0] for row in cursor.fetchall()}
