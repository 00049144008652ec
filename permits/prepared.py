"""Queries compiled once per process (issue 10).

Django builds and compiles a queryset to SQL every time it is evaluated. For the queries a
busy page runs on every request (the page of 我的案件, its drafts, the stock notes), that
work cost more CPU than the database spent answering them: about 1.7 ms to build and compile
against 0.5 ms to execute and read, on the 2-core machine (bench/pages.py, profiled).

A PreparedQuery keeps the queryset as code, written with the ORM like any other, and has it
compiled once per process and database: `build` is called with a sentinel value for each
parameter, the SQL and its parameters are kept, and each evaluation substitutes the real
values for the sentinels. Only plain values can be parameters (a user's id, a status): a
value that Django would rewrite while compiling (a LIKE pattern, a list for IN) is not found
again among the compiled parameters, and the first use says so (ImproperlyConfigured).
"""

import threading

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, connections, router
from django.db.models import Field, ForeignKey, Lookup, Q

# Values no caller passes: beyond any id this portal hands out, below bigint's lowest.
_SENTINEL_BASE = -9_100_000_000_000_000_000


class PreparedQuery:
    """`build(**parameters)` → a queryset ending in values_list(); `rows(**values)` runs it
    with `values` for the parameters and returns its rows (tuples)."""

    def __init__(self, build, *, parameters, wrap=None):
        self.build = build
        self.parameters = tuple(parameters)
        # wrap(sql) → the SQL run instead, with the compiled query as a subquery; its rows
        # are then returned as the database gives them (no converters).
        self.wrap = wrap
        self._compiled = {}
        self._lock = threading.Lock()

    def _compile(self, alias):
        sentinels = {name: _SENTINEL_BASE + n for n, name in enumerate(self.parameters)}
        queryset = self.build(**sentinels)
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        # What values_list() would do to each column (SQLite's dates are text, its
        # decimals floats): the compiler's own converters, applied to every row.
        fields = [select[0] for select in compiler.select[:compiler.col_count]]
        converters = compiler.get_converters(fields) if self.wrap is None else {}
        if self.wrap is not None:
            sql = self.wrap(sql)
        slots = []
        for value in params:
            name = next((name for name, sentinel in sentinels.items() if value == sentinel),
                        None)
            slots.append(name)
        missing = set(self.parameters) - set(slots)
        if missing:
            raise ImproperlyConfigured(
                f"PreparedQuery: parameters {sorted(missing)} are not plain SQL parameters of "
                f"the compiled query")
        return sql, tuple(params), tuple(slots), converters

    def rows(self, **values):
        if set(values) != set(self.parameters):
            raise TypeError(f"PreparedQuery takes exactly {self.parameters}")
        alias = router.db_for_read(None)
        compiled = self._compiled.get(alias)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(alias) or self._compile(alias)
                self._compiled[alias] = compiled
        sql, params, slots, converters = compiled
        bound = [values[name] if name else value for value, name in zip(params, slots,
                                                                         strict=True)]
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(sql, bound)
            rows = cursor.fetchall()
        if not converters:
            return rows
        converted = []
        for row in rows:
            row = list(row)
            for position, (functions, expression) in converters.items():
                for function in functions:
                    row[position] = function(row[position], expression, connection)
            converted.append(tuple(row))
        return converted


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


class PreparedInstances(PreparedQuery):
    """A PreparedQuery of whole instances of `model`: `build(**parameters)` → a queryset of
    `model` (every field read); `instances(**values)` → its instances, as iterating the
    queryset would give them."""

    def __init__(self, model, build, *, parameters):
        self.model = model
        self.attnames = tuple(field.attname for field in model._meta.concrete_fields)
        super().__init__(lambda **values: build(**values).values_list(*self.attnames),
                         parameters=parameters)

    def instances(self, **values):
        db = router.db_for_read(self.model)
        return [self.model.from_db(db, self.attnames, row) for row in self.rows(**values)]
