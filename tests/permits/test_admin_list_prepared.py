"""The reviewers' case list's queries compiled once per shape (issue 10, third pass): a page
of the list (permits.admin_list.page_instances), the search's probe (permits.admin.few_found)
and the date drill-down's bounds (permits.admin._date_range) give what Django's compiling of
the same querysets gives, in the same SQL, and are compiled again only for another shape."""

import re

import pytest
from django.db import connection
from django.db.models import Max, Min, Value
from django.db.models.functions import Upper
from django.test.utils import CaptureQueriesContext

from permits import admin as permits_admin
from permits import admin_list
from permits.models import Application, Status
from permits.prepared import PreparedQuery
from tests.permits.test_admin_list import (  # noqa: F401 (fixtures)
    CHANGELIST,
    cases,
    signed_in,
)
from tests.permits.test_admin_list_html import PARAMS, instances, submitted
from tests.services import require_postgres

pytestmark = pytest.mark.django_db

LISTS = [*PARAMS,
         {"q": "安心"}, {"q": "22099131 安心"}, {"q": "ab_%\\"}, {"p": "2"},
         {"submitted_at__year": "2026"}, {"status__exact": "initial_review", "kind__exact": "new"},
         {"submitted_at__gte": "2026-01-01 00:00:00+08:00",
          "submitted_at__lt": "2027-01-01 00:00:00+08:00"}]


def change_list(client, params):
    response = client.get(CHANGELIST, params)
    assert response.status_code == 200
    return response.context["cl"]


def related(made):
    """The related rows select_related() put in each instance, as instances() sees them."""
    return [[instances([row]) for row in case._state.fields_cache.values() if row is not None]
            for case in made]


def logged(sql):
    """The SQL as logged, a first page's "OFFSET 0" (which Django leaves out) taken out."""
    return sql.replace(" OFFSET 0", "")


def run_sql(queryset_read):
    """The statements `queryset_read()` runs, each with its values written in (a statement
    whose plan is kept is logged unbound), and the values a kept plan hides from the planner
    (permits.prepared.Opaque, `(SELECT (value)::type)`) as the values."""
    from psycopg import sql as psycopg_sql

    statements = []

    def kept(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(kept):
        result = queryset_read()
    written = []
    for sql, params in statements:
        if connection.vendor == "postgresql":
            values = iter(params or ())
            sql = re.sub(r"%[%s]", lambda match, values=values: "%" if match.group() == "%%"
                         else psycopg_sql.Literal(next(values)).as_string(connection.connection),
                         sql)
            sql = re.sub(r"\(SELECT \(('[^']*'(?:::\w+)?|\d+)\)::[a-z ]+\)", r"\1", sql)
        written.append(logged(sql))
    return result, written


@pytest.mark.parametrize("params", LISTS)
def test_a_page_is_what_django_reads(signed_in, cases, make_case, applicant,  # noqa: F811
                                     params, monkeypatch):
    monkeypatch.setattr(permits_admin, "FEW_FOUND", 1 if params.get("q") == "安心" else 1000)
    make_case(applicant)  # a draft: no number, no date
    queryset = change_list(signed_in, params).queryset
    for offset, limit in ((0, 3), (1, 2), (5, 3)):
        made, ours = run_sql(lambda: admin_list.page_instances(
            queryset, offset, limit))  # noqa: B023
        read, djangos = run_sql(lambda: list(queryset[offset:offset + limit]))  # noqa: B023
        assert instances(made) == instances(read), (params, offset)
        assert related(made) == related(read), (params, offset)
        assert ours == djangos, (params, offset)


def test_a_shape_is_compiled_once(signed_in, cases, monkeypatch):  # noqa: F811
    compiled = []
    compile_ = admin_list._PageQuery._compile  # noqa: SLF001

    def counted(self, alias):
        compiled.append(self)
        return compile_(self, alias)

    monkeypatch.setattr(admin_list._PageQuery, "_compile", counted)  # noqa: SLF001
    admin_list._PAGES.clear()  # noqa: SLF001
    shown = {}
    for status in (Status.INITIAL_REVIEW, Status.APPROVED, "no-such-status"):
        cl = change_list(signed_in, {"status__exact": status})
        shown[status] = {case.pk for case in cl.result_list}
    assert len(compiled) == 1
    assert shown == {Status.INITIAL_REVIEW: {cases["filed"].pk, cases["by_agent"].pk},
                     Status.APPROVED: {cases["issued"].pk}, "no-such-status": set()}
    change_list(signed_in, {"status__exact": Status.APPROVED, "o": "3"})  # another order
    change_list(signed_in, {"status__exact": Status.APPROVED, "kind__exact": "new"})
    assert len(compiled) == 3


def test_a_queryset_of_another_shape_is_read_by_django(cases):  # noqa: F811
    """Annotations, a list for IN, a condition on an expression: compiled by Django."""
    for queryset in (Application.objects.annotate(one=Value(1)).order_by("pk"),
                     Application.objects.filter(pk__in=[cases["filed"].pk]).order_by("pk"),
                     Application.objects.alias(upper=Upper("receipt_no")).filter(
                         upper__startswith="R").order_by("pk")):
        made = admin_list.page_instances(queryset, 0, 10)
        assert [case.pk for case in made] == [case.pk for case in queryset[:10]]
    assert getattr(made[0], "one", 1) == 1


@pytest.mark.parametrize("word", ["22099131", "0459", "安心", "安", "RSE", "ab_%\\", "%",
                                  "_", "PSE11500000001"])
def test_the_probe_finds_what_the_branches_find(cases, word):  # noqa: F811
    found = permits_admin.few_found(word)
    assert found is not None
    assert set(found) == set(permits_admin.case_matches(word, newest=permits_admin.FEW_FOUND
                                                        + 1))


def test_the_probe_says_many_past_few_found(cases, monkeypatch):  # noqa: F811
    monkeypatch.setattr(permits_admin, "FEW_FOUND", 1)
    assert permits_admin.few_found("22099131") is None
    assert set(permits_admin.few_found(cases["filed"].receipt_no)) == {cases["filed"].pk}


@pytest.mark.postgres
def test_the_probe_is_compiled_once_per_shape_of_word(cases, monkeypatch):  # noqa: F811
    """(On PostgreSQL: elsewhere each branch is asked alone, case_matches.)"""
    require_postgres()
    permits_admin._PROBES.clear()  # noqa: SLF001
    for word in ("22099131", "12345675", "04595252"):  # an identifier's beginning
        permits_admin.few_found(word)
    permits_admin.few_found("安心醫材")  # a name
    assert len(permits_admin._PROBES) == 2  # noqa: SLF001


def test_a_like_pattern_is_a_prepared_parameter(cases):  # noqa: F811
    """A startswith or contains lookup's text, escaped as Django escapes it."""
    query = PreparedQuery(
        lambda start, part: Application.objects.filter(
            applicant_identifier__startswith=start, applicant_name__icontains=part,
        ).order_by("pk").values_list("pk", flat=True),
        parameters=("start", "part"), kinds={"start": str, "part": str})
    for start, part in (("2209", "醫材"), ("", ""), ("2209", "%"), ("_", ""), ("\\", "")):
        assert [pk for (pk,) in query.rows(start=start, part=part)] == list(
            Application.objects.filter(applicant_identifier__startswith=start,
                                       applicant_name__icontains=part)
            .order_by("pk").values_list("pk", flat=True)), (start, part)


def test_the_date_drilldowns_bounds_are_djangos(signed_in, cases, make_case,  # noqa: F811
                                                applicant):
    make_case(applicant)  # a draft: no date
    day = submitted(cases["filed"])
    for params in ({}, {"submitted_at__year": day.year},
                   {"submitted_at__year": day.year, "submitted_at__month": day.month},
                   {"submitted_at__year": day.year - 1}):
        cl = change_list(signed_in, params)
        # Read with the page's clocks and flags (CaseChangeList.clocks_and_flags), on
        # PostgreSQL; read again here.
        kept = cl.__dict__.pop("bounds_rows", None)
        assert (kept is not None) == (connection.vendor == "postgresql"
                                      and bool(cl.result_list)), params
        with CaptureQueriesContext(connection) as queries:
            first, last = permits_admin._date_range(cl)  # noqa: SLF001
        assert len(queries) == 1
        if kept is not None:
            cl.bounds_rows = kept
            with CaptureQueriesContext(connection) as queries:
                assert permits_admin._date_range(cl) == (first, last)  # noqa: SLF001
            assert not queries
        cases_ = Application.objects.all()
        if params:
            start, end = (permits_admin.timezone.make_aware(permits_admin.datetime.datetime(
                int(params["submitted_at__year"]), int(params.get("submitted_at__month", 1)),
                1)), None)
            end = ((start + permits_admin.datetime.timedelta(days=32)).replace(day=1)
                   if "submitted_at__month" in params else start.replace(year=start.year + 1))
            cases_ = cases_.filter(submitted_at__gte=start, submitted_at__lt=end)
        bounds = cases_.aggregate(first=Min("submitted_at"), last=Max("submitted_at"))
        assert (first, last) == (bounds["first"], bounds["last"]), params


def test_a_date_across_midnight_is_shown_as_django_shows_it(signed_in, cases):  # noqa: F811
    """The rows' dates in the zone looked up once (permits.admin._datetime_cell): 16:30 UTC
    on New Year's Eve is 00:30 on New Year's Day in Taipei, as Django's own row says."""
    import datetime

    from django.contrib.admin.templatetags.admin_list import items_for_result

    Application.objects.filter(pk=cases["filed"].pk).update(
        submitted_at=datetime.datetime(2026, 12, 31, 16, 30, tzinfo=datetime.UTC))
    response = signed_in.get(CHANGELIST)
    cl = response.context["cl"]
    drawn = [row for [row] in response.context["case_results"]["results"]]
    assert drawn == ["".join(items_for_result(cl, case, None)) for case in cl.result_list]
    assert "116/01/01 00:30" in response.content.decode()


def kept_plans(sql_start):
    """{statement: (generic plans, custom plans)} of the connection's prepared statements
    starting with `sql_start`."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans, custom_plans "
                       "FROM pg_prepared_statements WHERE statement LIKE %s",
                       [sql_start.replace("%", "\\%") + "%"])
        return {statement: (generic, custom) for statement, generic, custom in cursor}


@pytest.fixture
def prepared_statements(db):
    """PostgreSQL's prepared statements allowed (permits.prepared.plan_keeping_cursor), on a fresh
    connection (none prepared yet)."""
    require_postgres()
    connection.ensure_connection()
    raw = connection.connection
    before = raw.prepare_threshold
    raw.prepare_threshold = 0
    yield
    raw.prepare_threshold = before


@pytest.mark.postgres
def test_the_queues_counts_keep_one_plan_for_every_reviewer_and_day(
        prepared_statements, cases, reviewer):  # noqa: F811
    """permits.admin_queues._counts_query: its values hidden from the planner (Opaque) and
    its statuses written in (inline_constants), PostgreSQL uses one generic plan after five
    runs (plan_cache_mode auto), read from the queues' indexes, instead of planning it on
    every page (1.2–2 ms at 100,000 cases)."""
    import datetime

    from permits import admin_queues

    today = datetime.date.today()
    for n in range(8):
        admin_queues._counts_query(admin_queues.COUNT_CAP).rows(  # noqa: SLF001
            user=reviewer.pk + n % 3, today=today - datetime.timedelta(days=n * 40))
    ((statement, (generic, custom)),) = kept_plans('SELECT (SELECT COUNT(*) FROM').items()
    assert custom == 5 and generic == 3, statement
    assert "'initial_review'" in statement and "(SELECT ($1)::bigint)" in statement


@pytest.mark.postgres
@pytest.mark.parametrize(("params", "kept"), [
    ({}, True), ({"queue": "mine"}, True), ({"queue": "overdue"}, True),
    ({"queue": "unassigned"}, True), ({"submitted_at__year": "2026"}, True),
    ({"status__exact": "initial_review"}, False), ({"q": "22099131"}, False),
    ({"destination_country__exact": "DE"}, False)])
def test_a_page_keeps_its_plan_only_where_any_value_is_served_alike(
        prepared_statements, signed_in, cases, params, kept):  # noqa: F811
    """permits.admin_list._plan_kept: the list's page keeps its plan (one generic plan for
    every value after five runs) only where its conditions are the queues' and the date
    drill-down's, which an index serves in the list's order whatever the value; a chosen
    status, country or a search is planned for its values on every page, as before."""
    admin_list._PAGES.clear()  # noqa: SLF001
    for _ in range(7):
        cl = change_list(signed_in, params)
    statements = kept_plans('SELECT "permits_application"."id"')
    if not kept:
        assert not statements
        return
    ((statement, (generic, custom)),) = statements.items()
    # (A statement of no parameters has its generic plan from the first run.)
    assert generic >= 2 and custom + generic == 7, statement
    assert statement.endswith("LIMIT 51 OFFSET 0")
    with connection.cursor() as cursor:  # its plan read from an index, in the list's order
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute(f"EXPLAIN {statement.replace('$1', '%s').replace('$2', '%s')}",
                       [None] * statement.count("$"))
        plan = "\n".join(row for (row,) in cursor.fetchall())
    assert "Seq Scan on permits_application" not in plan and " Sort " not in plan, plan
    assert cl.result_list is not None


@pytest.mark.postgres
def test_the_query_own_values_are_written_into_a_kept_plans_sql(prepared_statements, cases):  # noqa: F811,E501
    """PreparedQuery(inline_constants=True): the query's own texts and numbers quoted into
    its SQL (a quote in one doubled), its parameters still bound."""
    query = PreparedQuery(lambda pk: Application.objects.filter(
        pk=pk, applicant_name__in=["it's", "安心"], status="x%y").order_by().values_list(
        "pk", flat=True), parameters=("pk",), keep_plan=True, inline_constants=True)
    _alias, compiled, bound = query._statement({"pk": cases["filed"].pk})  # noqa: SLF001
    assert "'it''s'" in compiled[0] and "'x%%y'" in compiled[0] and bound == [
        cases["filed"].pk]
    assert query.rows(pk=cases["filed"].pk) == []
    Application.objects.filter(pk=cases["filed"].pk).update(applicant_name="it's",
                                                            status="x%y")
    assert query.rows(pk=cases["filed"].pk) == [(cases["filed"].pk,)]


@pytest.mark.postgres
def test_the_probe_of_a_word_of_digits_keeps_its_plan(prepared_statements, cases):  # noqa: F811
    """permits.admin._probe(kept=True): a word of digits is probed by one plan kept for
    every such word (the identifiers' beginnings read as ranges of their indexes, Prefix),
    which finds what the branches find; a word of letters is planned each time (a name
    found thousands of times is read newest first only when the planner sees it)."""
    words = ["22099131", "0459", "12345675", "2209", "9", "04595252", "1", "220991310"]
    for word in words:
        found = permits_admin.few_found(word)
        assert set(found) == set(permits_admin.case_matches(
            word, newest=permits_admin.FEW_FOUND + 1)), word
    for word in ("安心醫材", "ABC", "LTD"):
        permits_admin.few_found(word)
    plans = kept_plans("SELECT CARDINALITY(ids)")
    # (Both shapes of digits, a name's part or its beginning, are one statement.)
    assert [generic > 0 for generic, _custom in plans.values()] == [True], plans
    assert all("~>=~" in statement and "LIKE" in statement for statement in plans)
