"""permits.prepared.together() through psycopg 3's pipeline mode where PostgreSQL's prepared
statements are allowed: the statements of the queries that keep their plan (keep_plan) are
prepared on the server, so that it plans them no more, the others planned each time; the
same rows as each query alone, in one round trip logged as one query (issue 10,
bench/README.md "Stop 24"). Where prepared statements are off, the one text as before."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from permits import admin_queues, assignment
from permits.models import Item, StatusChange
from permits.prepared import PreparedInstances, PreparedQuery, together
from portal.accounts.models import REVIEWERS_GROUP, User

pytestmark = pytest.mark.django_db

ITEM = {"tariff_code": "85423100003", "description": "Field programmable gate array",
        "quantity": "10.0000", "unit": "PCE", "unit_price": "1500.0000", "currency": "USD",
        "origin_country": "TW"}


def queries(order):
    """A query of a case's history that keeps its plan and one of its items that does not,
    each of a SQL text no other test runs (their order)."""
    kept = PreparedInstances(StatusChange, lambda case: StatusChange.objects.filter(
        application=case).order_by(order, "pk"), parameters=("case",), keep_plan=True)
    planned = PreparedQuery(lambda case: Item.objects.filter(application=case).order_by(
        {"-created_at": "-line_no"}.get(order, "line_no"), "pk").values_list(
        "line_no", "quantity"), parameters=("case",))
    return kept, planned


def prepared_statements():
    """{SQL: generic plans used} of the connection's statements prepared on the server."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans FROM pg_prepared_statements")
        return dict(cursor.fetchall())


def held(statements, query, case_pk):
    """The number of generic plans of `query`'s statement if it is prepared, else None."""
    sql = query._statement({"case": case_pk})[1][0].replace("%s", "$1")
    return statements.get(sql)


@pytest.mark.postgres
def test_the_statements_that_keep_their_plan_are_prepared_on_the_server(
        applicant, make_case):
    case = make_case(applicant, items=[ITEM, {**ITEM, "quantity": "2"}])
    connection.ensure_connection()
    assert connection.connection.prepare_threshold is not None  # DB_PREPARED_STATEMENTS
    kept, planned = queries("-created_at")
    calls = [(kept, {"case": case.pk}), (planned, {"case": case.pk})]
    for _ in range(7):
        with CaptureQueriesContext(connection) as captured:
            batched = together(*calls)
        assert len(captured.captured_queries) == 1
    # Logged as the one text it was, the values in it.
    assert f"= {case.pk}" in captured.captured_queries[0]["sql"]
    statements = prepared_statements()
    # Planned once for any case after five runs (PostgreSQL's generic plan), kept.
    assert held(statements, kept, case.pk) >= 1
    assert held(statements, planned, case.pk) is None  # planned each time
    assert batched == [kept.instances(case=case.pk), planned.rows(case=case.pk)]
    assert batched[0] == list(case.status_changes.order_by("-created_at", "pk"))
    assert [int(quantity) for _line, quantity in batched[1]] == [2, 10]


@pytest.mark.postgres
def test_where_prepared_statements_are_off_nothing_is_prepared(applicant, make_case,
                                                                monkeypatch):
    case = make_case(applicant, items=[ITEM])
    connection.ensure_connection()
    monkeypatch.setattr(connection.connection, "prepare_threshold", None)
    kept, planned = queries("new")
    with CaptureQueriesContext(connection) as captured:
        batched = together((kept, {"case": case.pk}), (planned, {"case": case.pk}))
    assert len(captured.captured_queries) == 1
    assert held(prepared_statements(), kept, case.pk) is None
    assert batched == [kept.instances(case=case.pk), planned.rows(case=case.pk)]


def test_the_case_pages_people_are_the_active_reviewers_and_the_assignee(make_user,
                                                                         reviewer):
    """admin_queues.PEOPLE_QUERY (a UNION of the reviewers and the assignee, each read by
    its index) gives whom `IN (reviewers) OR pk = assignee` gave."""
    group = Group.objects.get(name=REVIEWERS_GROUP)
    colleague = make_user("B123456780", is_staff=True, name="同事")
    colleague.groups.add(group)
    former = make_user("C123456781", is_staff=True, is_active=False, name="前同事")
    former.groups.add(group)
    outsider = make_user("12345675", name="外部")
    for assignee in (0, reviewer.pk, former.pk, outsider.pk):
        expected = [(user.pk, user.identifier, user.name) for user in User.objects.filter(
            pk__in=[*assignment.reviewers().values_list("pk", flat=True), assignee]
        ).order_by("name", "pk")]
        assert admin_queues.PEOPLE_QUERY.rows(assignee=assignee) == expected
    assert {pk for pk, *_ in admin_queues.PEOPLE_QUERY.rows(assignee=former.pk)} == \
        {reviewer.pk, colleague.pk, former.pk}
