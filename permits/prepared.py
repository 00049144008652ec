"""Queries compiled once per process (issue 10).

Django builds and compiles a queryset to SQL every time it is evaluated. For the queries a
busy page runs on every request (the page of 我的案件, its drafts, the stock notes), that
work cost more CPU than the database spent answering them: about 1.7 ms to build and compile
against 0.5 ms to execute and read, on the 2-core machine (bench/pages.py, profiled).

A PreparedQuery keeps the queryset as code, written with the ORM like any other, and has it
compiled once per process and database: `build` is called with a sentinel value for each
parameter, the SQL and its parameters are kept, and each evaluation substitutes the real
values for the sentinels (it is compiled twice, with two sets of sentinels: what differs is
a parameter). Only plain values can be parameters (a user's id, a revision, a number typed
in a form, a day's bounds, a text that a startswith or contains lookup makes its LIKE
pattern of, escaped as Django escapes it): a value that Django would rewrite otherwise while
compiling (a list for IN) is not found again among the compiled parameters, and the first
use says so (ImproperlyConfigured). A parameter is an int unless `kinds` says otherwise (str,
datetime.datetime, datetime.date): its sentinels are values of that kind.

A build that needs an instance where the caller has an id (the visibility rule takes a user)
makes an unsaved one around the sentinel: `Application.objects.visible_to(User(pk=user))`
compiles the rule of an ordinary account (its applicant or agent), so such a query is only
for users who do not see every case (ApplicationQuerySet.sees_every_case).
"""

import datetime
import functools
import json
import re
import threading

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, connections, router
from django.db.backends.utils import CursorDebugWrapper
from django.db.models import (
    Field,
    ForeignKey,
    Func,
    Lookup,
    Model,
    Q,
    Subquery,
    Value,
    signals,
)
from django.db.models.base import ModelState
from django.db.models.functions import Cast
from django.db.models.query import get_related_populators

# Sentinels of each kind, two sets (0 and 1): values inside the range of every integer field
# (a PositiveSmallIntegerField's too: Django refuses a lookup beyond its field's range), text
# with a non-character, instants of the years 1001 and 1002.
_SENTINELS = {
    int: lambda set_, n: 30_001 + 1_000 * set_ + n,
    str: lambda set_, n: f"\uffffprepared-{set_}-{n}\uffff",
    datetime.datetime: lambda set_, n: datetime.datetime(1001 + set_, 1, 1, 0, 0, n,
                                                          tzinfo=datetime.UTC),
    datetime.date: lambda set_, n: datetime.date(1001 + set_, 1, 1 + n),
}


def _same(value, sentinel):
    """Whether a compiled parameter is `sentinel` (or the backend's subclass of its type
    holding it: psycopg's Int4 for an int)."""
    return isinstance(value, type(sentinel)) and not isinstance(value, bool) and \
        value == sentinel


class PreparedQuery:
    """`build(**parameters)` → a queryset ending in values_list(); `rows(**values)` runs it
    with `values` for the parameters and returns its rows (tuples)."""

    def __init__(self, build, *, parameters, wrap=None, kinds=None, keep_plan=False,
                 inline_constants=False):
        self.build = build
        self.parameters = tuple(parameters)
        # Whether the query's own values (a status, a kind: not parameters) are written into
        # its SQL on PostgreSQL (_inlined) rather than bound: the planner of a kept plan
        # (keep_plan) sees them, and may use a partial index whose condition names them.
        self.inline_constants = inline_constants
        # Whether PostgreSQL may keep the statement's plan where the database's OPTIONS allow
        # prepared statements (plan_keeping_cursor): only for a query whose best plan does
        # not depend on the values (a case by its id). After five runs PostgreSQL may use
        # one generic plan for all values; for 申辦狀況查詢作業's list that plan took 35 ms
        # instead of 2.
        self.keep_plan = keep_plan
        # {parameter: int, str, datetime.datetime or datetime.date}; int if not named.
        self.kinds = dict(kinds or {})
        unknown = {kind for kind in self.kinds.values() if kind not in _SENTINELS}
        if unknown or set(self.kinds) - set(self.parameters):
            raise ImproperlyConfigured(f"PreparedQuery: kinds {self.kinds!r}")
        # wrap(sql) → the SQL run instead, with the compiled query as a subquery; its rows
        # are then returned as the database gives them (no converters).
        self.wrap = wrap
        self._compiled = {}
        self._lock = threading.Lock()

    def _sentinels(self, set_):
        return {name: _SENTINELS[self.kinds.get(name, int)](set_, n)
                for n, name in enumerate(self.parameters)}

    def _compile(self, alias):
        """The query compiled twice, with two sets of sentinels: a parameter of the SQL that
        differs between the two is the caller's parameter whose sentinels it holds; one that
        does not is the query's own (a status, a kind)."""
        compiled = []
        for set_ in (0, 1):
            compiler = self.build(**self._sentinels(set_)).query.get_compiler(using=alias)
            compiled.append((compiler, *compiler.as_sql()))
        (compiler, sql, params), (_other, other_sql, other_params) = compiled
        if sql != other_sql or len(params) != len(other_params):
            raise ImproperlyConfigured("PreparedQuery: the SQL depends on the values")
        first, second = self._sentinels(0), self._sentinels(1)
        slots = []  # (parameter or None, the type the backend gave its value or None)
        for value, other in zip(params, other_params, strict=True):
            name = adapt = None
            if type(value) is not type(other) or value != other:
                name = next((name for name in self.parameters
                             if _same(value, first[name]) and _same(other, second[name])),
                            None)
                if name is None:
                    name, adapt = self._adapted(alias, value, other, first, second)
                if name is None:
                    raise ImproperlyConfigured(
                        f"PreparedQuery: Django rewrote a parameter's value ({value!r})")
            # PostgreSQL's backend passes an integer field's value as psycopg's Int4 or Int2
            # (subclasses of int): the values put in its place are passed the same way.
            cast = adapt or (type(value) if name and type(value) is not type(first[name])
                             else None)
            slots.append((name, cast))
        missing = set(self.parameters) - {name for name, _cast in slots}
        if missing:
            raise ImproperlyConfigured(
                f"PreparedQuery: parameters {sorted(missing)} are not plain SQL parameters of "
                f"the compiled query")
        # What values_list() would do to each column (SQLite's dates are text, its
        # decimals floats): the compiler's own converters, applied to every row.
        fields = [select[0] for select in compiler.select[:compiler.col_count]]
        converters = compiler.get_converters(fields) if self.wrap is None else {}
        if self.inline_constants and connections[alias].vendor == "postgresql":
            sql, params, slots = _inlined(connections[alias], sql, params, slots)
        if self.wrap is not None:
            sql = self.wrap(sql)
        return sql, tuple(params), tuple(slots), converters, self._reading(compiler, alias)

    def _adapted(self, alias, value, other, first, second):
        """(parameter, the backend's adapter) when the compiled value is a datetime or date
        parameter's sentinel as the backend adapted it (SQLite passes them as text), else
        (None, None)."""
        ops = connections[alias].ops
        adapters = {datetime.datetime: ops.adapt_datetimefield_value,
                    datetime.date: ops.adapt_datefield_value}
        for name in self.parameters:
            adapt = adapters.get(self.kinds.get(name))
            if adapt and value == adapt(first[name]) and other == adapt(second[name]):
                return name, adapt
            if self.kinds.get(name) is str and isinstance(value, str):
                adapt = _like_pattern(ops, value, other, first[name], second[name])
                if adapt:
                    return name, adapt
        return None, None

    def _reading(self, compiler, alias):
        """What a subclass keeps of the compiled query to make its results (None here)."""
        return None

    def _statement(self, values):
        """(the database alias, the compiled query, its SQL's parameters for `values`)."""
        if set(values) != set(self.parameters):
            raise TypeError(f"PreparedQuery takes exactly {self.parameters}")
        alias = router.db_for_read(None)
        compiled = self._compiled.get(alias)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(alias) or self._compile(alias)
                self._compiled[alias] = compiled
        _sql, params, slots, _converters, _reading = compiled
        bound = [value if name is None else cast(values[name]) if cast else values[name]
                 for value, (name, cast) in zip(params, slots, strict=True)]
        return alias, compiled, bound

    @staticmethod
    def _converted(compiled, rows, connection):
        """(the compiled query's reading, `rows` converted as values_list() would)."""
        _sql, _params, _slots, converters, reading = compiled
        if not converters:
            return reading, rows
        converted = []
        for row in rows:
            row = list(row)
            for position, (functions, expression) in converters.items():
                for function in functions:
                    row[position] = function(row[position], expression, connection)
            converted.append(tuple(row))
        return reading, converted

    def _run(self, values):
        """(the compiled query's reading, its rows for `values`, converted)."""
        alias, compiled, bound = self._statement(values)
        if _beyond_integers(bound):  # no row has it (SQLite cannot even bind it)
            return compiled[4], []
        connection = connections[alias]
        with (plan_keeping_cursor(connection) if self.keep_plan else connection.cursor()) as cursor:
            cursor.execute(compiled[0], bound)
            rows = cursor.fetchall()
        return self._converted(compiled, rows, connection)

    def _result(self, reading, rows):
        """What the query gives for its converted `rows`: the rows (a subclass: instances)."""
        return rows

    def rows(self, **values):
        return self._run(values)[1]


# A placeholder of Django's SQL, or an escaped percent sign.
_PLACEHOLDER = re.compile(r"%[%s]")


def _inlined(connection, sql, params, slots):
    """(sql, params, slots) with the query's own values (slots of no parameter) that are
    texts or integers written into the SQL as literals, quoted by psycopg."""
    from psycopg import sql as psycopg_sql

    connection.ensure_connection()
    raw = connection.connection
    values = iter(zip(params, slots, strict=True))
    kept_params, kept_slots = [], []

    def placed(match):
        if match.group() == "%%":
            return "%%"
        value, slot = next(values)
        if slot[0] is None and isinstance(value, (str, int)) and not isinstance(value, bool):
            literal = psycopg_sql.Literal(value).as_string(raw)
            return literal.replace("%", "%%")
        kept_params.append(value)
        kept_slots.append(slot)
        return "%s"

    sql = _PLACEHOLDER.sub(placed, sql)
    if next(values, None) is not None:
        raise ImproperlyConfigured("PreparedQuery: placeholders and parameters differ")
    return sql, tuple(kept_params), tuple(kept_slots)


def _beyond_integers(bound):
    """Whether a parameter is an int no integer column holds (a 64-bit one at most): an id
    typed into a URL, 10**20, which no row has; SQLite refuses to bind it (OverflowError)."""
    return any(type(value) is int and not -2**63 <= value < 2**63 for value in bound)


def _like_pattern(ops, value, other, first, second):
    """The function making a text parameter's LIKE pattern as Django's startswith,
    endswith and contains lookups (and their case-insensitive forms) make it, when the
    compiled `value` and `other` are the sentinels `first` and `second` so made (the
    sentinels hold no character that the pattern escapes), else None."""
    for prefix, suffix in (("", "%"), ("%", "%"), ("%", "")):
        if value == f"{prefix}{first}{suffix}" and other == f"{prefix}{second}{suffix}":
            return lambda text: f"{prefix}{ops.prep_for_like_query(text)}{suffix}"
    return None


def plan_keeping_cursor(connection):
    """A cursor for SQL that never changes and keeps its plan (a PreparedQuery with
    keep_plan, the user's permissions in portal.accounts.backends): Django's own, or on
    PostgreSQL, where the server's prepared statements are allowed (psycopg's
    `prepare_threshold` in the database's OPTIONS: Django leaves it unset, which keeps them
    off, for connection poolers), one that binds the values on the server and has PostgreSQL
    keep the statement and its plan for the connection's life: the SQL of a PreparedQuery
    never changes, and planning a stock or a case with its visibility rule cost the server
    more than running it (issue 10, EXPLAIN ANALYZE: 0.76 ms planning, 0.05 ms execution)."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.ensure_connection()
    raw = connection.connection
    if getattr(raw, "prepare_threshold", None) is None:
        return connection.cursor()
    connection.validate_thread_sharing()
    cursor = _preparing_cursor_class()(raw)
    return (_PreparedDebugCursor(cursor, connection) if connection.queries_logged
            else connection.make_cursor(cursor))


class _PreparedDebugCursor(CursorDebugWrapper):
    """Django's debug cursor (DEBUG, CaptureQueriesContext), logging the SQL as written:
    Django asks psycopg for the query last sent, which a statement run by name has not."""

    def execute(self, sql, params=None):
        with self.debug_sql(sql, params):
            return self._execute_with_wrappers(sql, params, many=False,
                                               executor=self._execute)


@functools.cache
def _preparing_cursor_class():
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparingCursor(ServerBindingCursor):
        """Prepares every statement it runs (psycopg keeps the connection's prepared
        statements, the most used 100)."""

        def execute(self, query, params=None, *, prepare=True, binary=None):
            return super().execute(query, params, prepare=prepare, binary=binary)

    return PreparingCursor


def arrays_supported():
    """Whether the `__any` lookup works here (PostgreSQL's arrays)."""
    return connection.vendor == "postgresql"


def among(field, ids):
    """Q: `field` is one of `ids`. On PostgreSQL the ids are one array parameter (`__any`):
    Django makes an IN list of a thousand ids a thousand parameters, each prepared and
    quoted (about 6 ms of the client's CPU a list, bench/matching.py), and a PreparedQuery
    can take an array but not a list of varying length. Elsewhere, IN. `ids` may also be a
    PreparedQuery's parameter (its sentinel, an int)."""
    if not arrays_supported():
        return Q(**{f"{field}__in": ids})
    return Q(**{f"{field}__any": ids if isinstance(ids, (int, list)) else list(ids)})


def id_array(ids):
    """`ids` (integers) as the text of one PostgreSQL array, '{1,2,3}': for an array
    parameter (among(), `__any`) given to several statements of one round trip, encoded once.
    psycopg's dumper of a list looks at each id to choose the array's type, then dumps each,
    for every statement (about 60 µs of CPU for a page's fifty ids); a text is sent as it is,
    its type (unknown) taken from the SQL's cast (`::bigint[]`), on the server or bound by the
    client alike."""
    return "{" + ",".join([str(int(pk)) for pk in ids]) + "}"


@ForeignKey.register_lookup
@Field.register_lookup
class AnyOf(Lookup):
    """`field__any=ids`: equal to any of `ids` (PostgreSQL: `= ANY(%s::bigint[])`), the list
    being one parameter, so that a PreparedQuery can take it: IN (%s, %s, ...) has as many
    parameters as the list has ids, and so a new SQL text for every length."""

    lookup_name = "any"
    prepare_rhs = False

    def get_db_prep_lookup(self, value, connection):
        return "%s", [value]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs}::bigint[])", [*lhs_params, *rhs_params]


class Opaque(Func):
    """`value` (a PreparedQuery's parameter) as `(SELECT value::type)`: a value the planner
    does not see when it plans, so that the plan it makes with the value (a custom plan) is
    costed as the one it makes without (the generic plan) and PostgreSQL keeps the generic
    one after five runs (plan_cache_mode auto: it keeps it only when it is costed no higher
    than the custom plans). For a query whose best plan is the same whatever the value, such
    as the queues' counts (permits.admin_queues), each an index-only scan of its own range:
    the values seen, PostgreSQL planned them on every run, 1.2–2 ms at 100,000 cases, more
    than some of them took to run. Elsewhere (SQLite keeps no plan) the value as it is."""

    template = "(SELECT %(expressions)s)"

    def __init__(self, value, output_field):
        self.value = Value(value, output_field=output_field)
        super().__init__(Cast(self.value, output_field), output_field=output_field)

    def as_sql(self, compiler, connection, **extra_context):
        if connection.vendor != "postgresql":
            return compiler.compile(self.value)
        return super().as_sql(compiler, connection, **extra_context)


@Field.register_lookup
class Prefix(Lookup):
    """`field__prefix=text`: the text starts with `text` (one character at least), as a
    range of the column's text_pattern_ops index (`>= text AND < text with its last
    character the next one`, byte-wise, which in UTF-8 is the characters' order) with the
    text hidden from the planner (Opaque) on PostgreSQL: a kept plan can read that range
    for any text, where LIKE 'text%' is read from the index only when the planner sees the
    pattern (and so plans it each time). Elsewhere Django's startswith."""

    lookup_name = "prefix"
    start = "~>=~"  # (the range's start: the text itself)

    def as_sql(self, compiler, connection):
        if connection.vendor != "postgresql":
            return compiler.compile(self.lhs.get_lookup("startswith")(self.lhs, self.rhs))
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        text = f"({rhs})::text"
        return (f"({lhs}::text {self.start} (SELECT {text}) AND {lhs}::text ~<~ "
                f"(SELECT left({text}, -1) || chr(ascii(right({text}, 1)) + 1)))",
                [*lhs_params, *rhs_params, *lhs_params, *rhs_params, *rhs_params])


@Field.register_lookup
class Longer(Prefix):
    """`field__longer=text`: the text starts with `text` and is longer, Prefix's range
    without the text itself (`> text`, where every longer text starting so lies): whether
    an identifier's beginning is one whole identifier (permits.admin._probe)."""

    lookup_name = "longer"
    start = "~>~"

    def as_sql(self, compiler, connection):
        if connection.vendor == "postgresql":
            return super().as_sql(compiler, connection)
        sql, params = compiler.compile(self.lhs.get_lookup("startswith")(self.lhs, self.rhs))
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"({sql} AND {lhs} <> {rhs})", [*params, *lhs_params, *rhs_params]


class _Listed(Field):
    """The output of ListOf: a list, which SQLite gives as its JSON text."""

    def from_db_value(self, value, expression, connection):
        return json.loads(value) if isinstance(value, str) else value


class ListOf(Subquery):
    """The values of the one column a (correlated) `queryset` selects, in its order, as a
    list in one column of the outer query: ARRAY(subquery) on PostgreSQL (as Django's
    ArraySubquery), json_group_array() over it on SQLite (make run's default database, where
    ARRAY() is a syntax error). `queryset` ends in values(field)."""

    template = "ARRAY(%(subquery)s)"

    def __init__(self, queryset):
        (self.column,) = queryset.query.values_select  # the name it selects its column as
        super().__init__(queryset, output_field=_Listed())

    def as_sqlite(self, compiler, connection, **extra_context):
        name = connection.ops.quote_name(self.column)
        return self.as_sql(compiler, connection, template=(
            f"(SELECT json_group_array(listed.{name}) FROM (%(subquery)s) listed)"),  # noqa: S608 (a quoted column name of the query's own)
            **extra_context)


class PreparedInstances(PreparedQuery):
    """A PreparedQuery of whole instances: `build(**parameters)` → a queryset of `model`
    (its select_related() and annotations included); `instances(**values)` → its instances,
    as iterating the queryset would give them (Django's ModelIterable, without compiling),
    the related rows of select_related() in place."""

    def __init__(self, model, build, *, parameters, kinds=None, keep_plan=False):
        self.model = model
        super().__init__(build, parameters=parameters, kinds=kinds, keep_plan=keep_plan)

    def _reading(self, compiler, alias):
        # As ModelIterable reads a compiled query's rows (django.db.models.query).
        klass_info, select = compiler.klass_info, compiler.select
        if klass_info["model"] is not self.model:
            raise ImproperlyConfigured(f"PreparedInstances of {self.model}: the query gives "
                                       f"{klass_info['model']}")
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        names = tuple(column[0].target.attname for column in select[start:end])
        return (start, end, names, [_made_related(populator) for populator in
                                    get_related_populators(klass_info, select, alias)],
                tuple(compiler.annotation_col_map.items()))

    def instances(self, **values):
        return self._result(*self._run(values))

    def _result(self, reading, rows):
        start, end, names, related, annotations = reading
        model = self.model
        db = router.db_for_read(model)
        plainly = plainly_made(model)  # (made(): from_db() without Model.__init__)
        result = []
        for row in rows:
            instance = made(model, db, names, row[start:end], plainly=plainly)
            for populator in related:
                populator.populate(row, instance)
            for name, position in annotations:
                setattr(instance, name, row[position])
            result.append(instance)
        return result


class _MadeRelated:
    """A RelatedPopulator (select_related()'s rows of a related model) that makes its
    instances as made() does, without Model.__init__ where their model allows it: the users
    beside a case page's attachments, history and flags went through __init__, which walks
    every field (issue 10). The rest as Django's populate(): None for a row without one, each
    set on the other."""

    def __init__(self, populator):
        self.populator = populator
        self.related = [_made_related(each) for each in populator.related_populators]

    def populate(self, row, from_obj):
        populator = self.populator
        values = row[populator.cols_start:populator.cols_end]
        if values[populator.pk_idx] is None:
            obj = None
        else:
            obj = made(populator.model_cls, populator.db, populator.init_list, values)
            for each in self.related:
                each.populate(row, obj)
        populator.local_setter(from_obj, obj)
        if obj is not None:
            populator.remote_setter(obj, from_obj)


def _made_related(populator):
    """`populator` as a _MadeRelated, or itself where its columns are reordered for the
    model's __init__ (a child model's parent's: Django's reorder_for_init)."""
    return populator if populator.reorder_for_init is not None else _MadeRelated(populator)


def plainly_made(model):
    """Whether instances of `model` may be made without Model.__init__ (made()): nothing of
    it reacts to being made (its own __init__ or from_db, pre_init or post_init receivers)."""
    return (model.__init__ is Model.__init__
            and model.from_db.__func__ is Model.from_db.__func__
            and not signals.pre_init.has_listeners(model)
            and not signals.post_init.has_listeners(model))


def made(model, db, names, values, *, plainly=None):
    """model.from_db(db, names, values), the fields not in `names` deferred, without
    Model.__init__ where `model` allows it (plainly_made(), or `plainly` as the caller
    found it): __init__ walks every field of the model to skip the deferred ones, and 78
    instances a page of 我的案件, or the admin list's 51 cases and their permit versions,
    cost more CPU than the page's query (issue 10, profiled). The same instance: its
    state, and its fields' values in its __dict__."""
    if not (plainly_made(model) if plainly is None else plainly):
        return model.from_db(db, names, values)
    instance = model.__new__(model)
    state = instance._state = ModelState()
    state.adding, state.db = False, db
    instance.__dict__.update(zip(names, values, strict=True))
    return instance


def together(*calls):
    """Run `calls`, (a PreparedQuery, {parameter: value}) each, in one round trip to the
    database where it can: the results in order, rows or instances as each query's rows()
    or instances() gives them.

    On PostgreSQL with psycopg 3's client-side binding (Django's default), the statements go
    as one text, separated by semicolons, and their results are read one after the other
    (nextset()): one round trip, logged as one query, the statements read in one snapshot.
    A round trip cost the client about 0.1 ms of CPU and the page the server's reply time;
    the case page read its four parts and the permit's versions in five (issue 10). Where
    PostgreSQL's prepared statements are allowed, they go through psycopg's pipeline
    instead (_pipelined), one round trip too, those of the queries that keep their plan
    (keep_plan) prepared on the server: planning the reviewer's case page's nine took it
    longer than running them. Elsewhere each runs alone."""
    statements = [(query, *query._statement(values)) for query, values in calls]
    aliases = {alias for _query, alias, _compiled, _bound in statements}
    if len(calls) < 2 or len(aliases) != 1 or not _batches(connections[aliases.pop()]) or \
            any(_beyond_integers(bound) for *_rest, bound in statements):
        return [query._result(*query._run(values)) for query, values in calls]
    connection = connections[statements[0][1]]
    if _pipelines(connection):
        return [query._result(*PreparedQuery._converted(compiled, rows, connection))
                for (query, _alias, compiled, _bound), rows in zip(
                    statements, _pipelined(connection, statements), strict=True)]
    results = []
    with connection.cursor() as cursor:
        cursor.execute(";\n".join(compiled[0] for _query, _alias, compiled, _bound in statements),
                       [value for *_rest, bound in statements for value in bound])
        for position, (query, _alias, compiled, _bound) in enumerate(statements):
            if position and not cursor.nextset():
                raise RuntimeError("together(): a statement gave no result")
            results.append(query._result(*PreparedQuery._converted(
                compiled, cursor.fetchall(), connection)))
    return results


def _pipelines(connection):
    """Whether together() sends its statements through psycopg 3's pipeline mode
    (_pipelined): PostgreSQL where the server's prepared statements are allowed
    (plan_keeping_cursor), libpq able to pipeline."""
    connection.ensure_connection()
    if getattr(connection.connection, "prepare_threshold", None) is None:
        return False
    import psycopg

    return psycopg.Pipeline.is_supported()


def _pipelined(connection, statements):
    """The rows of each of `statements` (together()'s), sent in one round trip through
    psycopg 3's pipeline mode: each bound on the server, and the statement of a query that
    keeps its plan (keep_plan) prepared on the first run and then run by name, so that
    PostgreSQL plans it no more (the reviewer's case page's nine look-ups by the case's key
    took it 1.2 ms of planning at rest, 4.7 ms under load, against 1-3 ms of running them:
    bench/README.md "Stop 24"); the others planned each time, as before. One Sync after
    the statements: in autocommit mode one implicit transaction, as the semicolon-separated
    text was. Logged as one query (that text, the values in it: _PipelinedDebugCursor) and
    run through the connection's execute wrappers, as that text was. It costs the client
    a little more CPU than the text (psycopg sends and polls once per statement)."""
    from django.db.backends.postgresql.base import ServerBindingCursor

    raw = connection.connection
    fetched = []

    class Pipelined:
        """The cursor Django's wrapper runs: execute() sends the statements."""

        def execute(self, sql, params=None):
            cursors = []
            with raw.pipeline():
                for query, _alias, compiled, bound in statements:
                    cursor = ServerBindingCursor(raw)
                    cursor.execute(compiled[0], bound, prepare=bool(query.keep_plan))
                    cursors.append(cursor)
            for cursor in cursors:
                fetched.append(cursor.fetchall())
                cursor.close()

        def close(self):
            pass

    connection.validate_thread_sharing()
    cursor = Pipelined()
    wrapper = (_PipelinedDebugCursor(cursor, connection) if connection.queries_logged
               else connection.make_cursor(cursor))
    wrapper.execute(";\n".join(compiled[0] for _query, _alias, compiled, _bound in statements),
                    [value for *_rest, bound in statements for value in bound])
    return fetched


class _PipelinedDebugCursor(CursorDebugWrapper):
    """Django's debug cursor (DEBUG, CaptureQueriesContext) for _pipelined(): the statements
    logged as the one text, the values in it, that together() sent before the pipeline."""

    def execute(self, sql, params=None):
        import psycopg

        with self.debug_sql(psycopg.ClientCursor(self.db.connection).mogrify(sql, params),
                            params):
            return self._execute_with_wrappers(sql, params, many=False,
                                               executor=self._execute)


def _batches(connection):
    """Whether `connection` runs several statements with parameters in one execute():
    PostgreSQL through psycopg 3 with client-side binding, Django's default (not with the
    server_side_binding option, whose cursor sends one statement at a time)."""
    if connection.vendor != "postgresql":
        return False
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    return is_psycopg3 and connection.settings_dict["OPTIONS"].get(
        "server_side_binding") is not True


def in_place(instance, name, parts):
    """`parts` (instances of a model with a foreign key to `instance`'s) put in `instance` as
    prefetch_related(`name`) puts them: `instance.<name>.all()` reads no more, its filter is
    still the relation's, and each part knows `instance` without a query."""
    queryset = getattr(instance, name).get_queryset()  # the relation's own filter
    queryset._result_cache = parts
    queryset._prefetch_done = True
    back = getattr(type(instance), name).field
    for part in parts:
        back.set_cached_value(part, instance)
    instance.__dict__.setdefault("_prefetched_objects_cache", {})[name] = queryset
    return queryset


class PagedInstances(PreparedInstances):
    """A PreparedInstances read a page at a time: `instances(limit=…, offset=…, **values)`,
    also in together(). The bounds are parameters appended to the compiled SQL as LIMIT and
    OFFSET: a sliced queryset cannot be a PreparedQuery, as Django writes a slice's bounds
    into its SQL. The build's queryset must be ordered (a page of an unordered query is any
    rows) and not sliced."""

    def _statement(self, values):
        values = dict(values)
        try:
            limit, offset = int(values.pop("limit")), int(values.pop("offset"))
        except KeyError:
            raise TypeError(f"PagedInstances takes {self.parameters}, limit and offset") \
                from None
        alias, compiled, bound = super()._statement(values)
        return (alias, (f"{compiled[0]} LIMIT %s OFFSET %s", *compiled[1:]),
                [*bound, limit, offset])
