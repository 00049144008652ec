"""The reviewers' list of an applicant's cases in a status (a search for a whole identifier
that finds many, with a chosen status; issue 10, stop 25): its page read as its ids first
(permits.admin_list._ids_first_sql), by application_identifier_status in the list's order,
then the rows by their ids, the plan kept: the same page, byte for byte, as the page read
as before, in both languages, before and after PostgreSQL keeps its plan."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import F, Q
from django.test.utils import CaptureQueriesContext

from permits import admin as permits_admin
from permits import admin_list
from permits.models import Application
from tests.permits.test_admin_list import (  # noqa: F401 (fixtures)
    CHANGELIST,
    cases,
    signed_in,
)
from tests.permits.test_admin_list_prepared import kept_plans, prepared_statements  # noqa: F401
from tests.permits.test_admin_list_written import _TOKEN, busy  # noqa: F401 (fixture)
from tests.services import require_postgres

pytestmark = pytest.mark.django_db

ORDER = (F("submitted_at").desc(nulls_last=True), "-pk")
PARAMS = [{"q": "22099131", "status__exact": "initial_review"},
          {"q": "22099131", "status__exact": "approved"},
          {"q": "22099131", "status__exact": "initial_review", "p": "2"},
          {"q": "22099131", "status__exact": "returned"},
          {"q": "22099131"}, {"q": "22099131", "status__exact": "initial_review", "o": "-5.1"},
          {"q": "22099131", "status__exact": "initial_review", "queue": "mine"}]


def page(client, params):
    response = client.get(CHANGELIST, params)
    assert response.status_code == 200
    return (_TOKEN.sub(b"TOKEN", response.content),
            [case.pk for case in response.context["cl"].result_list])


@pytest.mark.parametrize(("query", "first"), [
    (Application.objects.filter(status="initial_review", applicant_identifier="1"), True),
    (Application.objects.filter(Q(applicant_identifier="1"), status__exact="x"), True),
    (Application.objects.filter(applicant_identifier="1"), False),
    (Application.objects.filter(status="x", applicant_identifier__startswith="1"), False),
    (Application.objects.filter(status="x", applicant_identifier="1", assignee_id=1), False),
    (Application.objects.filter(Q(status="x") | Q(applicant_identifier="1")), False),
    (Application.objects.exclude(status="x", applicant_identifier="1"), False),
    (Application.objects.filter(status="x", agent_identifier="1"), False),
    (Application.objects.filter(status="x", status_changes__new="x",
                                applicant_identifier="1"), False)])
def test_which_pages_are_read_ids_first(query, first):
    assert admin_list._ids_first(query.query) is first  # noqa: SLF001


def test_only_sql_in_the_lists_order_is_read_ids_first():
    from django.db import connection

    def compiled(queryset):
        return str(queryset.query)  # (the shape of the SQL is what counts here)

    queryset = Application.objects.filter(status="x", applicant_identifier="1")
    sql = compiled(queryset.order_by(*ORDER))
    if connection.vendor == "postgresql":
        read = admin_list._ids_first_sql(sql, connection, Application, 51, 50)  # noqa: SLF001
        assert read.count("LIMIT 51 OFFSET 50") == 1 and read.startswith(sql.split(" WHERE ")[0])
        assert read.endswith(sql[sql.rindex(" ORDER BY "):])
    for other in (queryset.order_by("-submitted_at", "-pk"), queryset.order_by(*ORDER[::-1]),
                  Application.objects.order_by(*ORDER)):
        with pytest.raises(ImproperlyConfigured):
            admin_list._ids_first_sql(compiled(other), connection, Application, 51, 0)  # noqa: SLF001


@pytest.mark.postgres
@pytest.mark.parametrize("language", ["zh-hant", "en"])
def test_the_page_read_ids_first_is_the_page_byte_for_byte(
        prepared_statements, signed_in, busy, language, monkeypatch):  # noqa: F811
    """Each page as read before (no shape read ids first), then eight times read ids first
    (PostgreSQL keeps the plan after five), on pages of two cases (a second page's offset)."""
    require_postgres()
    signed_in.cookies["django_language"] = language
    monkeypatch.setattr(permits_admin, "FEW_FOUND", 0)  # 22099131 finds "many"
    monkeypatch.setattr(permits_admin.ApplicationAdmin, "list_per_page", 2)
    shown = []
    for params in PARAMS:
        admin_list._PAGES.clear()  # noqa: SLF001
        with monkeypatch.context() as patch:
            patch.setattr(admin_list, "_IDS_FIRST", set())
            before = page(signed_in, params)
        admin_list._PAGES.clear()  # noqa: SLF001
        for _ in range(8):
            assert page(signed_in, params) == before, params
        shown += before[1]
    assert len(shown) >= 5  # (the pages hold cases)
    read = kept_plans('SELECT "permits_application"."id"')
    firsts = {sql: plans for sql, plans in read.items() if "= ANY(ARRAY(SELECT" in sql}
    assert firsts and all(generic >= 3 for generic, _custom in firsts.values()), read


@pytest.mark.postgres
def test_its_kept_plan_reads_the_ids_from_the_index_in_order(
        prepared_statements, signed_in, busy, monkeypatch):  # noqa: F811
    require_postgres()
    monkeypatch.setattr(permits_admin, "FEW_FOUND", 0)
    admin_list._PAGES.clear()  # noqa: SLF001
    with CaptureQueriesContext(connection) as queries:
        for _ in range(7):
            page(signed_in, {"q": "22099131", "status__exact": "initial_review"})
    rows = {q["sql"] for q in queries if "ANY(ARRAY(SELECT" in q["sql"]}
    assert len(rows) == 1  # one statement for every value
    ((statement, (generic, custom)),) = [
        item for item in kept_plans('SELECT "permits_application"."id"').items()
        if "ANY(ARRAY(SELECT" in item[0]]
    assert custom == 5 and generic == 2, statement
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute(f"EXPLAIN {statement.replace('$1', '%s').replace('$2', '%s')}",
                       ["initial_review", "22099131"])
        plan = [row for (row,) in cursor.fetchall()]
    # The ids: read from an index in the list's order, no sort (on the bench's 100,000 cases
    # application_identifier_status, an index-only scan; the test's few cases may be read
    # from another index of the status). The rows by their ids: the test's tables are too
    # small for their index to be read.
    start = next(number for number, row in enumerate(plan) if row.strip().startswith("->  Limit"))
    depth = len(plan[start]) - len(plan[start].lstrip())
    ids = [row for row in plan[start + 1:]
           if len(row) - len(row.lstrip()) > depth or not row.strip()]
    ids = "\n".join(ids[:next((n for n, row in enumerate(plan[start + 1:])
                               if len(row) - len(row.lstrip()) <= depth), len(ids))])
    assert "Index" in ids and "Sort" not in ids and "Seq Scan" not in ids, plan


@pytest.mark.postgres
def test_without_kept_plans_the_page_is_read_as_before(signed_in, busy, monkeypatch):  # noqa: F811
    """Planned on every page, the ids first cost more than the page's SQL as it was."""
    require_postgres()
    monkeypatch.setattr(permits_admin, "FEW_FOUND", 0)
    connection.ensure_connection()
    monkeypatch.setattr(connection.connection, "prepare_threshold", None)
    admin_list._PAGES.clear()  # noqa: SLF001
    with CaptureQueriesContext(connection) as queries:
        page(signed_in, {"q": "22099131", "status__exact": "initial_review"})
    admin_list._PAGES.clear()  # noqa: SLF001
    assert not any("ANY(ARRAY(SELECT" in q["sql"] for q in queries)
    assert any('"applicant_identifier" = ' in q["sql"] for q in queries)
