"""The reviewers' case list drawn in Python (issue 10).

The case list is Django's change list (permits.admin.ApplicationAdmin: its URL, filters,
search, ordering, pagination and actions); what this module changes is only how its parts
become HTML. Django draws them with an inclusion tag each (the search form, the date
drill-down, the results table, the pagination, and a template per filter, each choice
through two or three template variables and a filter): about a third of the page's CPU. Here
each part is written as those templates write it, in one pass over values already made, and
admin/permits/application/change_list.html prints it. The HTML is the same but for blanks
(tests/permits/test_admin_list_html.py renders the page both ways, in both languages, for a
list with and without filters, search, date and pages, and compares them); a list this
does not draw (an editable list, a popup's rows) is left to Django's templates.

The page's cases are read by the queryset the change list built, compiled once per shape of
query (page_instances) and made without Model.__init__ (read_instances).
"""

import copy
import datetime
import functools
import re
from collections.abc import Sequence
from operator import itemgetter
from urllib.parse import quote_plus

from django.conf import settings
from django.contrib.admin.filters import ChoicesFieldListFilter, DateFieldListFilter
from django.contrib.admin.templatetags.admin_list import _coerce_field_name, result_headers
from django.contrib.admin.utils import label_for_field
from django.contrib.admin.views.main import (
    ALL_VAR,
    IS_FACETS_VAR,
    IS_POPUP_VAR,
    ORDER_VAR,
    PAGE_VAR,
    SEARCH_VAR,
    ChangeList,
)
from django.core.exceptions import EmptyResultSet, FullResultSet, ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import connections, router
from django.db.models import Lookup
from django.db.models.constants import LOOKUP_SEP
from django.db.models.expressions import Col
from django.db.models.query import ModelIterable
from django.db.models.sql.where import WhereNode
from django.dispatch import receiver
from django.template.loader import get_template
from django.templatetags.static import static
from django.utils import formats
from django.utils.choices import CallableChoiceIterator
from django.utils.encoding import iri_to_uri
from django.utils.functional import Promise
from django.utils.hashable import make_hashable
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext, ngettext

from permits import workdays
from permits.prepared import Opaque, PreparedQuery, made, plainly_made
from portal.dates import to_roc
from portal.escaping import escaped
from portal.languages import per_language
from portal.templatetags.roc import roc_years

_e = escaped  # the template's autoescape of a printed value (conditional_escape)
# What iri_to_uri() leaves as it is: a query string query_string() wrote is all of these.
_URI_SAFE = re.compile(r"[A-Za-z0-9_.~/#%\[\]=:;$&()+,!?*@'-]*").fullmatch


def as_uri(text):
    """{{ text|iriencode }} before its escape: iri_to_uri(), the text given back as it is
    when it has nothing to quote."""
    return text if type(text) is str and _URI_SAFE(text) else iri_to_uri(text)


def _n(number):
    """A number as a template prints it (localized), escaped: a whole number where no
    thousands are grouped as number_format() prints it, str() (its format settings looked up
    for each of the page's ninety numbers otherwise)."""
    if type(number) is int and not settings.USE_THOUSAND_SEPARATOR:
        return SafeString(number)
    return _e(formats.localize(number))


# --- The page's cases ------------------------------------------------------------------------


def read_instances(queryset):
    """The instances `queryset` gives (its select_related() rows in place, the fields it
    defers deferred), made without Model.__init__: Django's from_db() spent 0.5 ms of CPU
    on 51 cases of the list's 10 columns, and as much on their permit versions, where the
    query itself cost as much again. Through Django's own iteration for a model that
    reacts to being made (its own __init__ or from_db, pre_init or post_init receivers)
    or a queryset that does more than select_related() (annotations, prefetches, values)."""
    if not plainly_made(queryset.model) or queryset._iterable_class is not ModelIterable \
            or queryset._prefetch_related_lookups or queryset._known_related_objects \
            or queryset.query.annotation_select:
        return list(queryset)
    db = queryset.db
    compiler = queryset.query.get_compiler(using=db)
    rows = compiler.results_iter(compiler.execute_sql())
    reader = _Reader(compiler.klass_info, compiler.select, db)
    if not reader.plain:
        return list(queryset)
    return [reader.make(row) for row in rows]


def page_instances(queryset, offset, limit):
    """read_instances(queryset[offset:offset + limit]), the query compiled once per shape
    (_PageQuery): Django compiled the list's query of three tables again on every request,
    about a millisecond of CPU, as much as PostgreSQL's answer and the reading of its rows.
    A query of another shape than _shape() knows is compiled by Django, as before."""
    return list(page_rows(queryset, offset, limit))


def page_rows(queryset, offset, limit):
    """page_instances(queryset, offset, limit) as a PageRows (the query's rows, its
    instances made only when asked for) where the query was compiled once per shape; the
    instances otherwise."""
    query = queryset.query
    if (queryset._iterable_class is not ModelIterable or queryset._prefetch_related_lookups
            or queryset._known_related_objects or query.low_mark or query.high_mark
            or not plainly_made(queryset.model)
            or queryset.db != router.db_for_read(None)):  # (PreparedQuery's database)
        return read_instances(queryset[offset:offset + limit])
    values = []
    shape = _shape(query, queryset.db, values)
    prepared = _PAGES.get(shape) if shape is not None else None
    if prepared is None and shape is not None and shape not in _PAGES:
        if len(_PAGES) >= _PAGES_MAX:
            _PAGES.clear()
        prepared = _PAGES[shape] = _PageQuery.of(queryset, values)
    if prepared is None:
        return read_instances(queryset[offset:offset + limit])
    return prepared.page(limit=limit, offset=offset,
                         **{f"p{n}": value for n, value in enumerate(values)})


# {shape: its _PageQuery, or None for a shape that cannot be one}; a few shapes per list.
_PAGES = {}
_PAGES_MAX = 500
# The kinds of value a condition may compare with, as PreparedQuery's parameters.
_KINDS = {str: str, int: int, datetime.datetime: datetime.datetime,
          datetime.date: datetime.date}


def _shape(query, db, values):
    """What the SQL of `query` depends on but its conditions' values, which go in `values`:
    the model, the joins, the columns read, the related rows, the order and the WHERE tree
    with each condition's column, lookup and kind of value. None for a query that holds
    anything else (annotations, extra SQL, a subquery, a condition on an expression or
    with a value that is no plain one), whose SQL this cannot tell from its shape."""
    if (query.combinator or query.extra or query.annotations or query.distinct_fields
            or query.group_by is not None or query.select or query.values_select
            or query.select_for_update or query.subquery or query.extra_order_by
            or not query.default_cols):
        return None
    if any(getattr(join, "filtered_relation", None) is not None  # (its condition's values)
           for join in query.alias_map.values()):
        return None
    where = _where_shape(query.where, values)
    if where is None:
        return None
    joins = tuple((alias, join.table_name, getattr(join, "join_type", None),
                   getattr(join, "parent_alias", None), id(getattr(join, "join_field", None)),
                   bool(query.alias_refcount[alias]))  # (no refcount: not joined)
                  for alias, join in query.alias_map.items())
    names, defer = query.deferred_loading
    return (db, query.model, joins, where, make_hashable(query.select_related),
            tuple(sorted(names)), defer, query.order_by, query.default_ordering,
            query.standard_ordering, query.distinct)


def _where_shape(node, values):
    if isinstance(node, WhereNode):
        children = []
        for child in node.children:
            shape = _where_shape(child, values)
            if shape is None:
                return None
            children.append(shape)
        return (node.connector, node.negated, tuple(children))
    if not isinstance(node, Lookup) or type(node.lhs) is not Col or node.bilateral_transforms:
        return None
    value = node.rhs
    fixed = _fixed(node)
    if fixed is not None:  # part of the shape, not a parameter
        return (type(node), node.lookup_name, node.lhs.alias, id(node.lhs.target), fixed)
    kind = _KINDS.get(type(value))
    if kind is None and node.lookup_name == "any" and type(value) is list:
        kind = list  # permits.prepared.AnyOf: the list is one parameter
    if kind is None or not node.rhs_is_direct_value():
        return None
    values.append(value)
    return (type(node), node.lookup_name, node.lhs.alias, id(node.lhs.target), kind)


def _fixed(node):
    """The value of a condition that goes into its query's shape rather than a parameter,
    or None: IS NULL or IS NOT NULL (isnull), and IN a list of texts (a queue's statuses,
    permits.admin_queues: Django writes each a parameter of its own, so the SQL has as many
    as the list), as a tuple ("in", the texts). Not a list of numbers (the search's cases by
    their ids): each list its own shape, compiled twice."""
    value = node.rhs
    if node.lookup_name == "isnull" and type(value) is bool:
        return value
    if node.lookup_name == "in" and type(value) in (list, tuple) and value \
            and all(isinstance(item, str) for item in value) and node.rhs_is_direct_value():
        return ("in", *value)
    return None


class _PageQuery(PreparedQuery):
    """A page of a list's queryset as a PreparedQuery: the queryset's conditions' values its
    parameters (p0, p1, ...: the sentinels put in the conditions' place), the page's bounds
    after the compiled SQL (LIMIT written in it, OFFSET a parameter); its rows made into
    instances as read_instances() makes them (_Reader). Its plan kept where _plan_kept()
    says, the fixed values (_fixed()) written into the SQL for that plan to see them."""

    @classmethod
    def of(cls, queryset, values):
        """The _PageQuery of `queryset`'s shape (its conditions' `values`, as _shape() read
        them), or None where it cannot be one."""
        base = queryset._chain()
        base.query.clear_limits()
        kinds = []
        _where_kinds(base.query.where, kinds)
        names = [f"p{n}" for n in range(len(values))]

        postgresql = connections[queryset.db].vendor == "postgresql"
        kept = postgresql and _plan_kept(base.query.where)
        # The ids first where an index gives them in the list's order whatever the values
        # (_ids_first), the plan then kept (where the server's prepared statements are allowed:
        # planned each time it cost more than the page's SQL as it was); as the other shapes
        # if that SQL is not the one expected.
        first = postgresql and _ids_first(base.query) and _keeps_plans(connections[queryset.db])
        for ids_first in ((True, False) if first else (False,)):
            prepared = cls._made(base, names, kinds, values, kept=kept or ids_first,
                                 ids_first=ids_first)
            if prepared is not None:
                return prepared
        return None

    @classmethod
    def _made(cls, base, names, kinds, values, *, kept, ids_first):
        def build(**sentinels):
            built = base._chain()
            built.query.where = _with_values(base.query.where, sentinels, iter(names),
                                             opaque=kept)
            return built

        prepared = cls(build, parameters=names, kinds={
            name: int if kind is list else kind for name, kind in zip(names, kinds,
                                                                      strict=True)},
            keep_plan=kept, inline_constants=True)
        prepared.ids_first = base.model if ids_first else None
        try:  # compiled now, with the values of the queryset it is made of
            _alias, compiled, _bound = prepared._statement(
                {**dict(zip(names, values, strict=True)), "limit": 1, "offset": 0})
        except (ImproperlyConfigured, EmptyResultSet, FullResultSet):
            return None  # a shape whose values Django rewrites, or a WHERE it drops
        except Exception:  # noqa: BLE001 (a shape this cannot compile is Django's to compile)
            return None
        return prepared if compiled[4].plain else None

    def _reading(self, compiler, alias):
        return _Reader(compiler.klass_info, compiler.select, alias)

    ids_first = None  # the model whose page is read as its ids first (_ids_first_sql)

    def _statement(self, values):
        values = dict(values)
        limit, offset = int(values.pop("limit")), int(values.pop("offset"))
        alias, compiled, bound = super()._statement(values)
        # The bounds written in the SQL (integers): planned for a limit or offset that is a
        # parameter, a statement is planned for a tenth of its rows, and PostgreSQL kept no
        # plan (keep_plan), the plans made with the values costed lower. A page's statement
        # for each page number, the first one's the most used.
        sql = (_ids_first_sql(compiled[0], connections[alias], self.ids_first, limit, offset)
               if self.ids_first else f"{compiled[0]} LIMIT {limit:d} OFFSET {offset:d}")
        return alias, (sql, *compiled[1:]), bound

    def _result(self, reading, rows):
        return [reading.make(row) for row in rows]

    def instances(self, **values):
        return self._result(*self._run(values))

    def page(self, **values):
        """The rows as a PageRows."""
        reading, rows = self._run(values)
        return PageRows(rows, reading)


# The conditions (lookup, column) whose value a page's kept plan may leave to its
# parameters (_plan_kept): the queues' (permits.admin_queues: the reviewer, the day) and the
# date drill-down's bounds, each read in the list's order from an index whatever the value.
_KEPT_PLAN_CONDITIONS = {("exact", "assignee_id"), ("lt", "stage_due"),
                         ("gte", "submitted_at"), ("lt", "submitted_at")}


def _plan_kept(node):
    """Whether PostgreSQL may keep the plan of a page of the list whose WHERE tree is `node`
    (PreparedQuery's keep_plan, after five runs one generic plan for every value): when it
    compares no column with a value but those of _KEPT_PLAN_CONDITIONS (the values of
    _fixed() are written into the SQL). Not for a search's patterns, the cases a search
    found, a chosen status or country, whose best plan depends on how many cases have it
    (planned each time, as before)."""
    for child in node.children:
        if isinstance(child, WhereNode):
            if not _plan_kept(child):
                return False
        elif _fixed(child) is None and (child.lookup_name,
                                        child.lhs.target.column) not in _KEPT_PLAN_CONDITIONS:
            return False
    return True


# The conditions (columns compared by equality with a value) of a page whose ids an index
# gives in the list's order (its newest submitted first) whatever the values: an applicant's
# cases in a status (application_identifier_status, migration 0015; a search for a whole
# identifier, permits.admin._probed, with a chosen status).
_IDS_FIRST = {frozenset({"status", "applicant_identifier"})}
_IDS_FIRST_ORDER = '{table}."submitted_at" DESC NULLS LAST, {table}.{pk} DESC'


def _ids_first(query):
    """Whether the page of `query` is read as its ids first (_ids_first_sql), its plan kept:
    its WHERE the conditions of one of _IDS_FIRST, on the list's own table. Planned with
    the values, its statement of three joins cost PostgreSQL 0.6 ms of planning to 0.2 of
    running (an applicant with 5,006 cases in the bench); a plan kept for the statement as
    it was read an applicant's 13,795 approved cases by a bitmap and a sort (138 ms). Its
    ids read first, by the index, in a subquery the kept plan reads alike for any values,
    the rows then by their ids: 0.01 ms planning, 0.3-0.4 running, for either."""
    where = query.where
    if where.connector != "AND" or where.negated or not where.children:
        return False
    columns = set()
    for child in where.children:
        if (not isinstance(child, Lookup) or child.lookup_name != "exact"
                or type(child.lhs) is not Col or child.lhs.alias != query.base_table
                or type(child.rhs) is not str or _fixed(child) is not None):
            return False
        columns.add(child.lhs.target.column)
    return len(columns) == len(where.children) and frozenset(columns) in _IDS_FIRST


def _keeps_plans(connection):
    """Whether a statement's plan may be kept on `connection` (PostgreSQL's): the server's
    prepared statements allowed, as permits.prepared.plan_keeping_cursor asks."""
    connection.ensure_connection()
    return getattr(connection.connection, "prepare_threshold", None) is not None


def _ids_first_sql(sql, connection, model, limit, offset):
    """The page's SQL `sql` (Django's, compiled: SELECT ... FROM the table and its joins
    WHERE ... ORDER BY the list's order) reading the page's ids first: `WHERE id =
    ANY(ARRAY(SELECT id FROM the table WHERE ... ORDER BY ... LIMIT ... OFFSET ...))`, the
    same rows in the same order (the order ends with the id). ImproperlyConfigured for SQL
    of another form (_PageQuery.of then makes the page's SQL as for other shapes)."""
    quote = connection.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    head, found, rest = sql.partition(" WHERE ")
    where, ordered, order = rest.rpartition(" ORDER BY ")
    if (not found or not ordered or " WHERE " in where or " ORDER BY " in where
            or not head.startswith("SELECT ") or f" FROM {table}" not in head
            or order != _IDS_FIRST_ORDER.format(table=table, pk=pk)):
        raise ImproperlyConfigured("_ids_first_sql: not the SQL of a page in the list's order")
    ids = (f"SELECT {table}.{pk} FROM {table} WHERE {where} ORDER BY {order} "  # noqa: S608
           f"LIMIT {limit:d} OFFSET {offset:d}")
    return f"{head} WHERE {table}.{pk} = ANY(ARRAY({ids})) ORDER BY {order}"


def _where_kinds(node, kinds):
    """The kinds of the conditions' values of WHERE tree `node`, in _shape()'s order."""
    for child in node.children:
        if isinstance(child, WhereNode):
            _where_kinds(child, kinds)
        elif _fixed(child) is None:
            kinds.append(list if type(child.rhs) is list else _KINDS[type(child.rhs)])


def _with_values(node, values, names, *, opaque=False):
    """A copy of WHERE tree `node` with its conditions' values the `values` p0, p1, ... in
    order (the sentinels: a condition's value is already what its field prepares); with
    `opaque`, each hidden from the planner (permits.prepared.Opaque: a plan kept, made
    without the values, is then costed as the plans made with them, and PostgreSQL keeps it)."""
    copied = node.create(connector=node.connector, negated=node.negated)
    for child in node.children:
        if isinstance(child, WhereNode):
            copied.children.append(_with_values(child, values, names, opaque=opaque))
        elif _fixed(child) is not None:
            copied.children.append(child)
        else:
            leaf = copy.copy(child)
            value = values[next(names)]
            leaf.rhs = Opaque(value, child.lhs.output_field) if opaque else value
            copied.children.append(leaf)
    return copied


class _Reader:
    """Makes the instance of a compiled query's `klass_info` from a row, and its related
    instances (select_related), as ModelIterable and RelatedPopulator do."""

    def __init__(self, klass_info, select, db):
        self.model = klass_info["model"]
        self.db = db
        self.positions = tuple(klass_info["select_fields"])
        self.names = tuple(select[i][0].target.attname for i in self.positions)
        self.pk = self.names.index(self.model._meta.pk.attname) \
            if self.model._meta.pk.attname in self.names else None
        self.local_setter = klass_info.get("local_setter")
        self.remote_setter = klass_info.get("remote_setter")
        self.related = [_Reader(info, select, db)
                        for info in klass_info.get("related_klass_infos", [])]
        field = klass_info.get("field")  # (select_related: the relation it follows)
        self.name = None if field is None else (
            field.related_query_name() if klass_info.get("reverse") else field.name)
        self.plain = plainly_made(self.model) and self.pk is not None \
            and not klass_info.get("from_parent") \
            and all(related.plain for related in self.related)

    def make(self, row):
        instance = made(self.model, self.db, self.names, [row[i] for i in self.positions],
                        plainly=True)  # (self.plain: checked once)
        for related in self.related:
            related.populate(row, instance)
        return instance

    def populate(self, row, parent):
        found = None if row[self.positions[self.pk]] is None else self.make(row)
        self.local_setter(parent, found)
        if found is not None:
            self.remote_setter(found, parent)

    def layout(self, prefix=""):
        """{path: its position in a row}: each field's attname, a related instance's
        (select_related) prefixed with its relation's name and "__", and each
        relation's name (a reverse one-to-one's: its query name, as select_related() names
        it) for its instance's key (None in a row that has none)."""
        at = {prefix + name: position for name, position in zip(self.names, self.positions,
                                                                strict=True)}
        for related in self.related:
            if related.name is not None:
                at.update(related.layout(f"{prefix}{related.name}__"))
                at[prefix + related.name] = related.positions[related.pk]
        return at


class PageRows(Sequence):
    """A page of the list's cases as its query's rows (tuples, `rows`), read by position
    (getter(): the reviewers' list's rows, permits.admin.case_rows): making the fifty cases,
    their permit versions, permits and assignees as instances cost a third of the page's
    query (issue 10, profiled). Its instances (read_instances()'s) are made when the page
    is indexed or iterated (Django's rows of a list this does not draw, a popup's), with
    the values annotate() added to the rows as their attributes."""

    def __init__(self, rows, reader, at=None, added=()):
        self.rows = rows
        self._reader = reader
        self.at = reader.layout() if at is None else at
        self._added = added  # ((name, position), ...) of annotate()
        self._made = None

    def getter(self, path):
        """A function of a row giving its value at `path` (_Reader.layout(), or a name
        annotate() added); KeyError for a path the rows do not hold."""
        return itemgetter(self.at[path])

    def annotate(self, name, values):
        """Each row with its value of `values` (in the rows' order) added as `name`."""
        position = len(self.rows[0]) if self.rows else 0
        self.rows = [(*row, value) for row, value in zip(self.rows, values, strict=True)]
        self.at = {**self.at, name: position}
        self._added = (*self._added, (name, position))
        if self._made is not None:
            for instance, value in zip(self._made, values, strict=True):
                setattr(instance, name, value)

    @property
    def instances(self):
        if self._made is None:
            make, added = self._reader.make, self._added
            self._made = []
            for row in self.rows:
                instance = make(row)
                for name, position in added:
                    setattr(instance, name, row[position])
                self._made.append(instance)
        return self._made

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return PageRows(self.rows[index], self._reader, self.at, self._added)
        return self.instances[index]

    def __iter__(self):
        return iter(self.instances)


# --- The links ------------------------------------------------------------------------------


def query_string(params, new_params=None, remove=None, quoted=None, around=None):
    """ChangeList.get_query_string(): `params` (name: [values]) without the names starting
    with one of `remove`, with `new_params` (None removes one), sorted, as Django's
    urlencode(doseq=True) writes them, each text quoted once in `quoted` (a dict kept by
    the caller). Django's own costs 60,000 instructions a link. A link that only sets one
    parameter to a text (the columns' sorting: three a column) is that text between the
    other parameters, written once a page and name in `around` (a dict kept by the caller
    for the same `params`); so is a link that removes only parameters the list has not
    (the date drill-down's links)."""
    quoted = {} if quoted is None else quoted
    if remove and around is not None and not any(
            name.startswith(prefix) for name in params for prefix in remove):
        remove = None  # (nothing to remove)
    if around is not None and not remove and new_params and len(new_params) == 1:
        ((name, value),) = new_params.items()
        if type(name) is str and type(value) is str:
            done = around.get(name)
            if done is None:
                before = query_string({key: item for key, item in params.items()
                                       if key < name}, quoted=quoted)
                after = query_string({key: item for key, item in params.items()
                                      if key > name}, quoted=quoted)[1:]
                done = around[name] = (("?" if before == "?" else before + "&")
                                       + quote_plus(name) + "=",
                                       "&" + after if after else "")
            return done[0] + quoted_text(value, quoted) + done[1]

    def quote(text):
        return quoted_text(text, quoted)

    def text(value):
        if value is None:  # as Django's urlencode() refuses it
            raise TypeError("Cannot encode None in a query string.")
        return value if isinstance(value, bytes) else str(value)

    params = dict(params)
    for prefix in remove or ():
        for name in [name for name in params if name.startswith(prefix)]:
            del params[name]
    for name, value in (new_params or {}).items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    pairs = []
    for name, value in sorted(params.items()):
        key = quote(text(name))
        if isinstance(value, str | bytes):
            pairs.append(f"{key}={quote(value)}")
            continue
        try:
            values = iter(value)
        except TypeError:
            pairs.append(f"{key}={quote(text(value))}")
            continue
        pairs.extend(f"{key}={quote(text(item))}" for item in values)
    return "?" + "&".join(pairs)


def quoted_text(text, quoted):
    """quote_plus(text), kept in `quoted`."""
    done = quoted.get(text)
    if done is None:
        done = quoted[text] = quote_plus(text)
    return done


# --- The page's scripts and styles ------------------------------------------------------------

_MEDIA = {}


def rendered_media(media):
    """{"js": HTML, "css": HTML} of a forms.Media, for the template's {{ media.js }} and
    {{ media.css }}: Django merges the lists and writes each file's URL again for every page
    (a tenth of the page's template); they are the same for the same lists, here made once
    per process for each."""
    key = (settings.STATIC_URL, tuple(tuple(paths) for paths in media._js_lists),
           tuple(tuple(sorted((kind, tuple(paths)) for kind, paths in css.items()))
                 for css in media._css_lists))
    done = _MEDIA.get(key)
    if done is None:
        done = _MEDIA[key] = {"js": mark_safe(str(media["js"])),  # noqa: S308 (Django's)
                              "css": mark_safe(str(media["css"]))}  # noqa: S308
    return done


# --- The page's parts -------------------------------------------------------------------------


def page_parts(cl, context):
    """{part: HTML} of the list's search form, date drill-down, results table (None where
    Django draws the rows: context["case_results"] is None), pagination and filters, for
    admin/permits/application/change_list.html."""
    results = context.get("case_results")
    parts = {
        "search": search_form(cl),
        "drilldown": drilldown(context.get("drilldown")),
        "results": results_table(results) if results else None,
        "pagination": pagination(cl),
        "filters": filters(cl),
    }
    # Every value printed is escaped above (_e), as the templates escape it.
    return {name: None if part is None else mark_safe(part)  # noqa: S308
            for name, part in parts.items()}


# The template content_block() writes the block "content" of.
CHANGE_LIST = "admin/permits/application/change_list.html"


def content_block(cl, template_name, context, csrf_token, links):
    """The block "content" of admin/permits/application/change_list.html as its template
    draws it (byte for byte: tests/permits/test_admin_list_written.py), from the parts
    page_parts() wrote (context["lean"]), or None where the template draws it: a list with
    Django's rows, a popup, an editable list, actions, an "Add" button. `links`: the paths
    of the exports (Excel, ODF) and of the statistics. Rendering the block's template cost
    more than a millisecond of CPU a page (its two includes, a {% url %} each)."""
    lean = context.get("lean") or {}
    if (template_name != CHANGE_LIST or not lean.get("results") or cl.formset
            or context.get("is_popup") or context.get("has_add_permission")
            or context.get("action_form")
            or any(lean.get(part) is None for part in ("search", "drilldown", "pagination",
                                                       "filters"))):
        return None
    xlsx, ods, statistics = (_e(link) for link in links)
    query = _e(cl.get_query_string())
    filtered = " filtered" if cl.has_filters else ""
    return SafeString(
        '\n  <div id="content-main">\n    \n        <ul class="object-tools">\n          \n'
        "            \n            \n"
        f'<li><a href="{xlsx}{query}" class="case-export">{_e(gettext("Export Excel"))}</a></li>\n'
        f'<li><a href="{ods}{query}" class="case-export">{_e(gettext("Export ODF"))}</a></li>\n'
        "\n\n            \n"
        f'<li><a href="{statistics}" class="viewlink">{_e(gettext("Statistics"))}</a></li>\n'
        "\n\n          \n        </ul>\n    \n    \n"
        f'    <div class="module{filtered}" id="changelist">\n'
        '      <div class="changelist-form-container">\n'
        f'        {lean["search"]}\n        {lean["drilldown"]}\n\n'
        '        <form id="changelist-form" method="post" novalidate>'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{_e(csrf_token)}">\n'
        "        \n\n        \n          \n          "
        f'{lean["results"]}\n          \n        \n        {lean["pagination"]}\n'
        "        </form>\n      </div>\n"
        f'      {lean["filters"]}\n    </div>\n  </div>\n')


# --- The search form: admin/permits/application/search_form.html ----------------------------


@functools.cache
def _search_icon():
    """The search icon's URL, escaped: static() asked the storage on every page (forgotten
    when a setting changes: _forget)."""
    return _e(static("admin/img/search.svg"))


def search_form(cl):
    if not cl.search_fields:
        return ""
    help_text = cl.search_help_text
    described = ' aria-describedby="searchbar_helptext"' if help_text else ""
    parts = ['\n<div id="toolbar"><form id="changelist-search" method="get" role="search">\n'
             "<div><!-- DIV needed for valid HTML -->\n"
             f'<label for="searchbar"><img src="{_search_icon()}" '
             'alt="Search"></label>\n'
             f'<input type="text" size="40" name="{SEARCH_VAR}" value="{_e(cl.query)}" '
             f'id="searchbar"{described}>'
             f'\n<input type="submit" value="{_e(gettext("Search"))}">\n']
    if cl.result_count != cl.full_result_count:
        if cl.paginator.more:
            count = gettext("more than %(counter)s results") % {
                "counter": _n(cl.paginator.shown_to)}
        else:
            count = ngettext("%(counter)s result", "%(counter)s results", cl.result_count) % {
                "counter": _n(cl.result_count)}
        link = "?"
        if cl.is_popup:
            link += f"{IS_POPUP_VAR}=1" + ("&amp;" if cl.add_facets else "")
        if cl.add_facets:
            link += IS_FACETS_VAR
        total = (gettext("%(full_result_count)s total") % {
            "full_result_count": _n(cl.full_result_count)} if cl.show_full_result_count
            else _e(gettext("Show all")))
        parts.append(f'<span class="small quiet">{count} (<a href="{link}">{total}</a>)'
                     "</span>\n")
    parts.extend(f'<input type="hidden" name="{_e(name)}" value="{_e(value)}">\n'
                 for name, value in cl.params.items() if name != SEARCH_VAR)
    parts.append("</div>\n")
    if help_text:
        parts.append('<br class="clear">\n'
                     f'<div class="help" id="searchbar_helptext">{_e(help_text)}</div>\n')
    parts.append("</form></div>\n")
    return "".join(parts)


# --- The date drill-down: admin/date_hierarchy.html (ROC years) ------------------------------


def drilldown(parts):
    """`parts`: permits.admin.date_drilldown()'s {show, back, choices}, or None."""
    if not parts or not parts["show"]:
        return ""
    out = ['\n<nav class="toplinks">\n']
    back, language = parts["back"], get_language()
    if back:
        out.append(f'<a href="{_e(back["link"])}" class="date-back">&lsaquo; '
                   f'{_roc_title(back["title"], language)}</a>')
    out.append("\n")
    for choice in parts["choices"]:
        title = _roc_title(choice["title"], language)
        out.append(f'\n<a href="{_e(choice["link"])}">{title}</a>\n' if choice.get("link")
                   else f"\n{title}\n")
    out.append("\n</nav>\n")
    return "".join(out)


_ROC_TITLES = {}  # {(a title, language): its _roc_title()}, bounded
_ROC_TITLES_MAX = 4096


def _roc_title(title, language):
    """_e(roc_years(title)) of a drill-down's title in `language`, the one in force: a
    text's once a process (a year's, a month's: a pattern's substitution each, with a
    look-up of the language, for each of the drill-down's links)."""
    if type(title) is not str:  # (a lazy text: "All dates")
        return _e(roc_years(title))
    key = (title, language)
    done = _ROC_TITLES.get(key)
    if done is None:
        if len(_ROC_TITLES) >= _ROC_TITLES_MAX:
            _ROC_TITLES.clear()
        done = _ROC_TITLES[key] = _e(roc_years(title))
    return done


# --- The table: admin/permits/application/change_list_results.html --------------------------


def headers(cl):
    """Django's result_headers(cl), the same dicts: what each column shows and whether it
    sorts found once per process (_header_columns: label_for_field() looked each column
    up, a FieldDoesNotExist raised for each display; format_html() escaped each class);
    the sorting and its three links made for the list's own order, as Django makes them."""
    key = (type(cl.model_admin), cl.model, tuple(cl.list_display),
           None if cl.sortable_by is None else tuple(cl.sortable_by))
    columns = _HEADERS.get(key, _HEADERS)
    if columns is _HEADERS:
        columns = _HEADERS[key] = _header_columns(cl)
    if columns is None:  # a column whose header this does not keep
        return list(result_headers(cl))
    ordering_field_columns = cl.get_ordering_field_columns()
    # The same headers for the same columns, language, order and list's parameters (their
    # links), kept per process (a copy of each dict given: the caller's to change).
    kept_key = None
    if (type(cl).get_query_string in SORTED_QUERY_STRINGS
            and all(fixed is not None or isinstance(text, Promise)
                    for text, _name, fixed in columns)):
        kept_key = (key, get_language(), tuple(ordering_field_columns.items()),
                    _params_key(cl))
        kept = _KEPT_HEADERS.get(kept_key)
        if kept is not None:
            return [dict(header) for header in kept]
    out = _made_headers(cl, columns, ordering_field_columns)
    if kept_key is not None:
        if len(_KEPT_HEADERS) >= _KEPT_HEADERS_MAX:
            _KEPT_HEADERS.clear()
        _KEPT_HEADERS[kept_key] = [dict(header) for header in out]
    return out


# {(the columns' key, language, order, the list's parameters): headers()}, bounded
_KEPT_HEADERS = {}
_KEPT_HEADERS_MAX = 512


def _made_headers(cl, columns, ordering_field_columns):
    out = []
    for i, (text, name, fixed) in enumerate(columns):
        if fixed is not None:  # not sortable: the same each time
            out.append(dict(fixed))
            continue
        if text is None:  # a label this does not keep
            text = label_for_field(cl.list_display[i], cl.model, model_admin=cl.model_admin)
        is_sorted = i in ordering_field_columns
        order_type, new_order_type, sort_priority = "", "asc", 0
        if is_sorted:
            order_type = ordering_field_columns.get(i).lower()
            sort_priority = list(ordering_field_columns).index(i) + 1
            new_order_type = {"asc": "desc", "desc": "asc"}[order_type]
            class_attrib = format_html(' class="{}"', " ".join(
                ["sortable", f"column-{name}", f"sorted {order_type}ending"]))
        else:
            class_attrib = _sortable_class(name)
        primary, remove, toggle = [], [], []
        for j, ot in ordering_field_columns.items():
            if j == i:  # this column: to the front
                param = ("-" if new_order_type == "desc" else "") + str(j)
                primary.insert(0, param)
                toggle.append(param)
            else:
                param = ("-" if ot == "desc" else "") + str(j)
                primary.append(param)
                toggle.append(param)
                remove.append(param)
        if not is_sorted:
            primary.insert(0, ("-" if new_order_type == "desc" else "") + str(i))
        out.append({
            "text": text, "sortable": True, "sorted": is_sorted,
            "ascending": order_type == "asc", "sort_priority": sort_priority,
            "url_primary": cl.get_query_string({ORDER_VAR: ".".join(primary)}),
            "url_remove": cl.get_query_string({ORDER_VAR: ".".join(remove)}),
            "url_toggle": cl.get_query_string({ORDER_VAR: ".".join(toggle)}),
            "class_attrib": class_attrib})
    return out


# {(admin class, model, columns, sortable_by): _header_columns()}
_HEADERS = {}


def _header_columns(cl):
    """[(label, column's name, None)] of each sortable column, [(None, None, its header)]
    of the others, as result_headers() finds them; a sortable column's label that is no
    lazy text (one made in the language of the moment) None, looked up on each page. None
    where a column that does not sort has such a label (the action checkbox's)."""
    columns = []
    for i, field_name in enumerate(cl.list_display):
        text, attr = label_for_field(field_name, cl.model, model_admin=cl.model_admin,
                                     return_attr=True)
        is_field_sortable = cl.sortable_by is None or field_name in cl.sortable_by
        if attr:
            field_name = _coerce_field_name(field_name, i)
            if field_name == "action_checkbox":  # its label in the language of the moment
                return None
            admin_order_field = getattr(attr, "admin_order_field", None)
            if isinstance(attr, property) and hasattr(attr, "fget"):
                admin_order_field = getattr(attr.fget, "admin_order_field", None)
            if not admin_order_field and LOOKUP_SEP not in field_name:
                is_field_sortable = False
        kept = text if isinstance(text, Promise) else None
        if not is_field_sortable:
            if kept is None:
                return None
            columns.append((None, None, {
                "text": text, "class_attrib": format_html(' class="column-{}"', field_name),
                "sortable": False}))
        else:
            columns.append((kept, field_name, None))
    return columns


@functools.cache
def _sortable_class(name):
    return format_html(' class="{}"', " ".join(["sortable", f"column-{name}"]))


def results_table(results):
    """`results`: permits.admin.case_result_list()'s context (headers, the rows' HTML).
    Byte for byte what the template draws (tests/permits/test_admin_lean.py)."""
    hidden = results["result_hidden_fields"]
    out = ["\n"]
    if hidden:
        out.append('\n<div class="hiddenfields">\n' + "".join(str(item) for item in hidden)
                   + "\n</div>\n")
    out.append("\n")
    if not results["results"]:
        return "".join(out) + "\n"
    several = results["num_sorted_fields"] > 1
    language = get_language()
    out.append('\n<div class="results">\n<table id="result_list">\n<thead>\n<tr>\n')
    for header in results["result_headers"]:
        out.append(f'\n<th scope="col"{header["class_attrib"]}>\n   ')
        if header["sortable"] and header["sort_priority"] > 0:
            priority = _n(header["sort_priority"])
            title = gettext("Sorting priority: %(priority_number)s") % {
                "priority_number": priority}
            ascending = "ascending" if header["ascending"] else "descending"
            out.append(
                '\n       <div class="sortoptions">\n'
                f'         <a class="sortremove" href="{_e(header["url_remove"])}" '
                f'title="{_e(gettext("Remove from sorting"))}"></a>\n         '
                + (f'<span class="sortpriority" title="{title}">{priority}</span>'
                   if several else "")
                + f'\n         <a href="{_e(header["url_toggle"])}" class="toggle {ascending}" '
                f'title="{_e(gettext("Toggle sorting"))}"></a>\n       </div>\n   ')
        text = _header_text(header["text"], language)
        out.append('\n   <div class="text">'
                   + (f'<a href="{_e(header["url_primary"])}">{text}</a>' if header["sortable"]
                      else f"<span>{text}</span>")
                   + '</div>\n   <div class="clear"></div>\n</th>')
    out.append(f"\n</tr>\n</thead>\n<tbody>\n{results['body']}\n</tbody>\n</table>\n</div>\n\n")
    return "".join(out)


# {(id of a column's label, language): (the label, its header's text escaped)}, bounded
_HEADER_TEXTS = {}


@receiver(setting_changed)
def _forget(*, setting, **kwargs):
    """The texts and URLs kept here are made anew after a setting changes (the tests'
    override_settings: the catalogues, the static files' storage)."""
    _HEADER_TEXTS.clear()
    _search_icon.cache_clear()
    _FILTERS.clear()
    _ROC_TITLES.clear()
    _KEPT_HEADERS.clear()


def _header_text(label, language):
    """_e(capfirst(label)) of a column's `label` in `language`, the one in force: a lazy
    label (most) kept a language, the same object's (a column's label lives as long as its
    admin): cast, capitalised and escaped on every page, its translation looked up three
    times, it cost more than the rest of the table's head."""
    if not isinstance(label, Promise):
        return _e(capfirst(label))
    key = (id(label), language)
    kept = _HEADER_TEXTS.get(key)
    if kept is None or kept[0] is not label:
        if len(_HEADER_TEXTS) >= 1000:
            _HEADER_TEXTS.clear()
        kept = _HEADER_TEXTS[key] = (label, _e(capfirst(label)))
    return kept[1]


# --- The pagination: admin/permits/application/pagination.html -----------------------------


def pagination(cl):
    """As Django's {% pagination %} and paginator_number, with the count of
    permits.admin.PageAheadPaginator ("more than 100 cases")."""
    paginator = cl.paginator
    required = (not cl.show_all or not cl.can_show_all) and cl.multi_page
    out = ['\n<p class="paginator">\n']
    if required:
        for number in paginator.get_elided_page_range(cl.page_num):
            if type(number) is not int and number == paginator.ELLIPSIS:  # (lazy: a cast)
                out.append(f"\n{_e(number)} \n")
            elif number == cl.page_num:
                out.append(f'\n<span class="this-page">{_e(number)}</span> \n')
            else:
                end = ' class="end"' if number == paginator.num_pages else ""
                out.append(f'\n<a href="{_e(cl.get_query_string({PAGE_VAR: number}))}"{end}>'
                           f"{_e(number)}</a> \n")
    out.append("\n")
    opts = cl.opts
    if getattr(paginator, "more", False):
        out.append(gettext("more than %(counter)s %(name)s") % {
            "counter": _n(paginator.shown_to), "name": _e(opts.verbose_name_plural)})
    else:
        name = opts.verbose_name if cl.result_count == 1 else opts.verbose_name_plural
        out.append(f"{_n(cl.result_count)} {_e(name)}")
    out.append("\n")
    if cl.can_show_all and not cl.show_all and cl.multi_page:
        out.append(f'<a href="{_e(cl.get_query_string({ALL_VAR: ""}))}" class="showall">'
                   f'{_e(gettext("Show all"))}</a>')
    out.append("\n")
    if cl.formset and cl.result_count:
        out.append(f'<input type="submit" name="_save" class="default" '
                   f'value="{_e(gettext("Save"))}">')
    out.append("\n</p>\n")
    return "".join(out)


# --- The filters: the change list's filters block and admin/filter.html ---------------------


def filters(cl):
    if not cl.has_filters:
        return ""
    out = ['\n<nav id="changelist-filter" aria-labelledby="changelist-filter-header">\n'
           f'<h2 id="changelist-filter-header">{_e(gettext("Filter"))}</h2>\n']
    if cl.is_facets_optional or cl.has_active_filters:
        out.append('<div id="changelist-filter-extra-actions">\n')
        if cl.is_facets_optional:
            out.append("<h3>\n" + (
                f'<a href="{_e(cl.remove_facet_link)}" class="hidelink">'
                f'{_e(gettext("Hide counts"))}</a>' if cl.add_facets else
                f'<a href="{_e(cl.add_facet_link)}" class="viewlink">'
                f'{_e(gettext("Show counts"))}</a>') + "\n</h3>")
        out.append("\n")
        if cl.has_active_filters:
            out.append(f'<h3>\n<a href="{_e(cl.clear_all_filters_qs)}">&#10006; '
                       f'{_e(gettext("Clear all filters"))}</a>\n</h3>')
        out.append("\n</div>")
    out.append("\n")
    out.extend(one_filter(cl, spec) for spec in cl.filter_specs)
    out.append("\n</nav>\n")
    return "".join(out)


def one_filter(cl, spec):
    """A filter as {% admin_list_filter %} draws it: admin/filter.html written out, a
    template of WRITTEN_FILTERS written out, or any other filter's own template."""
    written = WRITTEN_FILTERS.get(spec.template)
    if written is not None:
        return written(cl, spec)
    drawn = choice_filter(cl, spec)
    if drawn is not None:
        return drawn
    drawn = date_filter(cl, spec)
    if drawn is not None:
        return drawn
    if spec.template != "admin/filter.html":
        return get_template(spec.template).render(
            {"title": spec.title, "choices": list(spec.choices(cl)), "spec": spec})
    return listed_filter(cl, spec)


def listed_filter(cl, spec):
    """admin/filter.html of `spec`, from its choices()."""
    out = [filter_head(spec.title), "<ul>\n"]
    for choice in spec.choices(cl):
        selected = ' class="selected"' if choice["selected"] else ""
        out.append(f'<li{selected}>\n'
                   f'<a href="{_e(as_uri(choice["query_string"]))}">'
                   f'{_e(choice["display"])}</a></li>\n')
    out.append("</ul>\n</details>\n")
    return "".join(out)


def choice_filter(cl, spec):
    """admin/filter.html of a filter of a choice field (Django's ChoicesFieldListFilter, its
    choices() not overridden) as one_filter() draws it from spec.choices(cl), without them:
    the labels and the head once a process and language (_choice_labels: each label, lazy,
    was cast to text and escaped on every page), each choice's link the list's other
    parameters, sorted and quoted once a filter, around the choice's own (get_query_string()
    made the whole link anew for each of the page's thirty choices). None where Django's
    choices() are drawn: counts shown (facets), a choice of no value, choices given by a
    callable, another template, a list whose get_query_string() is not the list's."""
    if (not isinstance(spec, ChoicesFieldListFilter)
            or type(spec).choices is not ChoicesFieldListFilter.choices
            or spec.template != "admin/filter.html" or cl.add_facets
            or type(cl).get_query_string not in SORTED_QUERY_STRINGS):
        return None
    labels = _choice_labels(spec)
    if labels is None:
        return None
    # What the HTML is made of but the labels (kept with them): the field, its parameters'
    # names, the list's parameters (the choice chosen among them).
    key = (ChoicesFieldListFilter, type(spec), spec.field, spec.lookup_kwarg,
           spec.lookup_kwarg_isnull, get_language(), _params_key(cl))
    drawn = _FILTERS.get(key)
    if drawn is None:
        drawn = _kept_filter(key, _choice_filter(cl, spec, labels))
    return drawn


def _choice_filter(cl, spec, labels):
    head, choices = labels
    kwarg, isnull = spec.lookup_kwarg, spec.lookup_kwarg_isnull
    chosen = spec.lookup_val
    params = {name: value for name, value in cl.filter_params.items()
              if not name.startswith(isnull)}
    quoted, around = cl.__dict__.setdefault("quoted", {}), {}
    out = [filter_head_of(head), "<ul>\n",
           '<li class="selected">\n' if chosen is None else "<li>\n",
           f'<a href="{_e(as_uri(cl.get_query_string(remove=[kwarg, isnull])))}">'
           f'{_e(gettext("All"))}</a></li>\n']
    for text, shown in choices:
        selected = chosen is not None and text in chosen
        link = as_uri(query_string(params, {kwarg: text}, quoted=quoted, around=around))
        out.append('<li class="selected">\n' if selected else "<li>\n")
        out.append(f'<a href="{_e(link)}">{shown}</a></li>\n')
    out.append("</ul>\n</details>\n")
    return "".join(out)


# {(filter class, field, language): (the filter's title, escaped, [(a value as text, its
# label's HTML)])}
_CHOICE_LABELS = {}
# {(kind, filter class, what its HTML is made of, ...): the HTML} of choice_filter() and
# date_filter(), bounded (_FILTERS_MAX); emptied when a setting changes (_forget).
_FILTERS = {}
_FILTERS_MAX = 512


def _kept_filter(key, drawn):
    if len(_FILTERS) >= _FILTERS_MAX:
        _FILTERS.clear()
    _FILTERS[key] = drawn
    return drawn


def _params_key(cl):
    """The list's parameters (cl.filter_params, {name: [values]}) as a key, made once a
    page: each filter's links are made of them (get_query_string())."""
    key = cl.__dict__.get("params_key")
    if key is None:
        key = cl.__dict__["params_key"] = tuple(
            (name, tuple(values)) for name, values in sorted(cl.filter_params.items()))
    return key


def date_filter(cl, spec):
    """listed_filter() of a filter of a date (Django's DateFieldListFilter, its __init__()
    and choices() not overridden: "Any date", "Today", "Past 7 days", ...), drawn once a
    day, language and list's parameters: its links are the list's parameters with the
    day's bounds (get_query_string(): each written anew), its titles lazy texts cast on
    every page. None where listed_filter() draws it each time: counts shown (facets),
    another template, a list whose get_query_string() is not the list's."""
    kind = type(spec)
    if (not isinstance(spec, DateFieldListFilter)
            or kind.__init__ is not DateFieldListFilter.__init__
            or kind.choices is not DateFieldListFilter.choices
            or spec.template != "admin/filter.html" or cl.add_facets
            or type(cl).get_query_string not in SORTED_QUERY_STRINGS):
        return None
    # The links are the day's (today as __init__ found it, in the time zone in force: the
    # other bounds are made from it) and the field's (null: "No date", "Has date"); the
    # chosen one is among the list's parameters.
    today = spec.links[1][1][spec.lookup_kwarg_since]
    key = (DateFieldListFilter, kind, spec.field, spec.field_path, spec.field.null,
           str(today), getattr(today, "tzinfo", None), get_language(), _params_key(cl))
    drawn = _FILTERS.get(key)
    if drawn is None:
        drawn = _kept_filter(key, listed_filter(cl, spec))
    return drawn


# The change lists' get_query_string() that write a link as Django's does: the list's
# parameters with the changes, sorted, urlencode()d (permits.admin.CaseChangeList adds its own).
SORTED_QUERY_STRINGS = {ChangeList.get_query_string}


def _choice_labels(spec):
    field = spec.field
    if isinstance(field.choices, CallableChoiceIterator):
        return None
    key = (type(spec), field, get_language())
    labels = _CHOICE_LABELS.get(key)
    if labels is None:
        choices = list(field.flatchoices)
        if any(type(lookup) not in (str, int) for lookup, _title in choices):
            return None  # (None: Django's own choice of no value; others as urlencode() says)
        labels = _CHOICE_LABELS[key] = (
            _e(spec.title), [(str(lookup), _e(title)) for lookup, title in choices])
    return labels


def filter_head_of(title):
    """filter_head() of a filter whose title, escaped, is `title`."""
    return (f'\n<details data-filter-title="{title}" open>\n<summary>\n'
            + gettext(" By %(filter_title)s ") % {"filter_title": title}
            + "\n</summary>\n")


def filter_head(title):
    """The <details> and <summary> that open admin/filter.html."""
    return filter_head_of(_e(title))


def destination_filter(cl, spec):
    """admin/permits/application/destination_filter.html (permits.admin.DestinationFilter:
    its first choice carries the form's hidden inputs and the countries' options)."""
    first = next(iter(spec.choices(cl)))
    hidden = "".join(f'<input type="hidden" name="{_e(name)}" value="{_e(value)}">'
                     for name, value in first["hidden"])
    selected = " selected" if first["selected"] else ""
    return ("\n" + filter_head(spec.title)
            + f'<form method="get" class="destination-filter">\n{hidden}\n'
            f'<select name="{_e(spec.parameter_name)}" aria-label="{_e(spec.title)}">\n'
            f'<option value=""{selected}>{_e(first["display"])}</option>\n'
            f'{first["options"]}\n</select>\n'
            f'<input type="submit" value="{_e(gettext("Filter"))}">\n</form>\n</details>\n')


# Filters whose own template is written out here.
WRITTEN_FILTERS = {"admin/permits/application/destination_filter.html": destination_filter}


# --- The working-day clock and the risk flags (issue 14, points 2 and 4) ----------------------


# (the paused cell, the overdue mark) of the 工作天 cells in the language in force: their
# words were looked up (gettext) and escaped on each row.
_clock_words = per_language(lambda: (
    SafeString('<span class="case-clock case-clock-paused">'
               + _e(gettext("paused (with the applicant)")) + "</span>"),
    " <strong>" + _e(gettext("overdue")) + "</strong>"))


def clock_cell(clock):
    """The 工作天 cell of a case (permits.workdays.CaseClock, or None): the open stage's working
    days used of its target ("5/7"), an overdue one marked in words as well as in red ("9/7
    逾期"), its stage and due date in the title (workdays.describe); "paused" while the
    applicant has the case (補件); "" when no stage with a target is open."""
    if clock is None:
        return ""
    current = clock.current
    if current is None or current.target is None:
        if clock.paused and any(stage.target is not None for stage in clock.stages):
            return _clock_words()[0]
        return ""
    text = f"{_n(current.days)}/{_n(current.target)}"
    kind = "case-clock"
    if current.overdue:
        kind += " case-clock-overdue"
        text += _clock_words()[1]
    return SafeString(f'<span class="{kind}" title="{_e(workdays.describe(current))}">'
                      f"{text}</span>")


def _badge_label(kind, flags, names):
    """The short words of the badge of the open flags `flags` of one `kind`."""
    from shtc.models import RiskFlagKind

    def countries():
        found = []
        for flag in flags:
            code = (flag.params or {}).get("country", "")
            name = names.get(code, code)
            if name and name not in found:
                found.append(name)
        return "、".join(found)

    if kind in (RiskFlagKind.CONTROLLED_DESTINATION, RiskFlagKind.WATCHED_DESTINATION):
        return countries() or RiskFlagKind(kind).label
    if kind == RiskFlagKind.SCREENING_MATCH:
        scores = [flag.score for flag in flags if flag.score is not None]
        if scores:
            return gettext("screening list, similarity %(score)s") % {
                "score": f"{max(scores):.0f}"}
        return gettext("screening list")
    if kind == RiskFlagKind.REEXPORT:
        return gettext("re-export")
    if kind == RiskFlagKind.FIRST_EXPORT:
        return gettext("first export")
    if kind == RiskFlagKind.TRANSIT_PORT:
        return gettext("transit port")
    return str(kind)


def risk_cell(flags):
    """The 風險 cell of a case: a short badge per kind of its open flags (those no reviewer
    has decided on: shtc.models.RiskFlag), first raised first, each flag's sentence in the
    badge's title; "" for none."""
    from permits.fields import country_names

    kinds = {}
    for flag in flags or ():
        if flag.decided_at is None:
            kinds.setdefault(flag.kind, []).append(flag)
    if not kinds:
        return ""
    names = country_names()
    return mark_safe(" ".join(  # noqa: S308 (escaped)
        f'<span class="risk-badge risk-{_e(kind)}" title="{_e(" ".join(f.text for f in of))}">'
        f"{_e(_badge_label(kind, of, names))}</span>" for kind, of in kinds.items()))


# --- The rows' cells, a page's worth (permits.admin.case_rows) -------------------------------


def _page_value(get, name, default):
    """A function of a case giving its attribute `name` (`default` for none), or with
    `get` (PageRows.getter: the case a row) the row's value of `name`."""
    if get is not None:
        return get(name)
    return lambda case: getattr(case, name, default)


def clock_cells(get=None):
    """A function of a case giving its 工作天 cell (clock_cell() of its list_clock) for one
    page of the list, in the language in force: the cell of an open stage with a target
    depends only on that stage's clock (StageClock: stage, days, target, open, due), so the
    page's cases in the same stage with the same days and due date share it (the words and
    the due date's text, 19 µs a cell, written once). Cases that share their clock (one
    CaseClock: permits.admin._page_clocks) get its cell at once. With `get`, of a row
    (_page_value)."""
    clock_of, of_clock = _page_value(get, "list_clock", None), page_clock_cell()
    return lambda case: of_clock(clock_of(case))


def page_clock_cell():
    """clock_cells()' function for one page, of the clock itself (a CaseClock or None): the
    row writer of the reviewers' list (permits.admin._case_row_writer) reads the clock from
    the row itself."""
    seen, done = {}, {}  # done: {id(clock): (clock, its cell)}

    def cell(clock):
        if clock is None:
            return ""
        kept = done.get(id(clock))
        if kept is not None and kept[0] is clock:
            return kept[1]
        current = clock.current
        if current is None or current.target is None:
            found = clock_cell(clock)
        else:
            found = seen.get(current)
            if found is None:
                found = seen[current] = clock_cell(clock)
        done[id(clock)] = (clock, found)
        return found

    return cell


def risk_cells(get=None):
    """A function of a case giving its 風險 cell (risk_cell() of its list_flags) for one
    page: "" at once for a case with no open flag, most of them. With `get`, of a row."""
    flags_of = _page_value(get, "list_flags", ())

    def cell(case):
        flags = flags_of(case)
        return risk_cell(flags) if flags else ""

    return cell


_ROC_DAYS = {}  # {date: its ROC text (to_roc)}, bounded
_ROC_DAYS_MAX = 4096
_MINUTES = tuple(f"{hour:02d}:{minute:02d}" for hour in range(24) for minute in range(60))


def roc_minute(value):
    """roc_datetime_local(`value`), a datetime already in the zone it is shown in: its day's
    text kept (a page's cases fall on a few days), its time's one of the day's 1,440: the
    formatting cost 5 µs of the list's 8 µs a date."""
    day = value.date()
    text = _ROC_DAYS.get(day)
    if text is None:
        if len(_ROC_DAYS) >= _ROC_DAYS_MAX:
            _ROC_DAYS.clear()
        text = _ROC_DAYS[day] = to_roc(day)
    return f"{text} {_MINUTES[value.hour * 60 + value.minute]}"
