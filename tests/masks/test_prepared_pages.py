"""The pages built on permits.prepared (我的案件, its drafts, 申辦狀況查詢作業, the case page,
單證比對查詢, the stock pages) with PostgreSQL's prepared statements allowed (issue 10): they
show what they show with Django's own cursor, their statements prepared by the server."""

import datetime

import pytest

from permits.models import Status
from tests import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def server_prepared(db):
    """PostgreSQL's prepared statements allowed on the connection, as the database's OPTIONS
    ({"prepare_threshold": 5}, psycopg's setting) allow them: PreparedQuery then binds its
    values on the server and prepares its statements (permits.prepared.plan_keeping_cursor)."""
    from django.db import connection

    connection.ensure_connection()
    before = connection.connection.prepare_threshold  # on by default (DB_PREPARED_STATEMENTS)
    connection.connection.prepare_threshold = 5
    yield connection
    connection.connection.prepare_threshold = before


@pytest.mark.postgres
def test_the_pages_queries_run_as_server_prepared_statements(
        server_prepared, client, url, make_case, make_mask_permit, applicant, agent, reviewer):
    """With prepared statements allowed, every page built on permits.prepared (我的案件, its
    drafts, 申辦狀況查詢作業, the case page, 單證比對查詢, the stock pages) shows what it
    shows with Django's own cursor, its statements prepared by the server."""
    from masks import services as mask_services
    from tests.masks.test_flows import add_flow, cleared_declaration

    services.require_postgres()
    issued = make_case(applicant, actor=agent, status=Status.APPROVED, reviewer=reviewer)
    make_case(applicant)  # a draft
    declaration = cleared_declaration(make_mask_permit, applicant, quantity="20")
    report = mask_services.stock_report_load(declaration=declaration)
    client.force_login(applicant)
    add_flow(client, url, report, documents=("a.pdf",), quantity="2")
    today = datetime.date.today().isoformat()
    se_number = issued.issued_version.permit.permit_no
    shared = {  # the SE case, filed by the agent: both see it
        url("permits:query") + f"?document_type=SE&date_from={today}&date_to={today}":
            [issued.receipt_no, se_number],
        url("permits:query") + f"?document_type=SE&number={issued.receipt_no}":
            [issued.receipt_no],
        url("permits:application_detail", issued.pk): [se_number],
    }
    applicants = {  # the applicant's own: its draft, its mask permit's stock
        url("permits:dashboard"): [issued.receipt_no, 'data-testid="drafts"'],
        url("reconciliation:query") + f"?number={declaration.number}":
            [declaration.number, 'data-testid="items"'],
        url("masks:flow_report", report.pk): [declaration.number, "a.pdf"],
        url("masks:flow_start"): [declaration.number],
    }
    for user, pages in ((applicant, shared | applicants), (agent, shared)):
        client.force_login(user)
        for path, shown in pages.items():
            response = client.get(path)
            assert response.status_code == 200, path
            for text in shown:
                assert text in response.content.decode(), (path, text)
    client.force_login(agent)
    assert client.get(url("masks:flow_report", report.pk)).status_code == 404
    assert client.get(url("reconciliation:query") + f"?number={declaration.number}"
                      ).context["declaration"] is None
    with server_prepared.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        statements = [row[0] for row in cursor.fetchall()]
    # The look-ups by id (the case, the declaration, the stock) keep their plans, and so do
    # the case page's parts, read together in one round trip after the case (permits.
    # prepared.together, through psycopg's pipeline: bench/README.md "Stop 24"); the lists
    # (but 我的案件's first page, below), whose best plan depends on the values, do not.
    # 口罩流向登錄作業's list keeps one plan for every user (the user's id hidden from the
    # planner, its constants written in: masks.services._newest_sources; tested in
    # test_sources_kept_plan.py).
    assert len(statements) >= 7
    for table in ("permits_application", "reconciliation_declaration", "masks_stockreport"):
        assert [statement for statement in statements
                if statement.startswith(f'SELECT "{table}"."id"')], table
    assert [statement for statement in statements if 'FROM "permits_item"' in statement]
    flow_start = [statement for statement in statements
                  if statement.startswith("WITH filed AS MATERIALIZED")]
    assert len(flow_start) == 1
    # 我的案件's first page keeps its plan (its branches are index ranges cut at the page:
    # permits.listing.VisibleCases._prepared), its statuses written into it.
    my_cases = [statement for statement in statements
                if "UNION" in statement and "page.draft" in statement]
    assert len(my_cases) == 1
    assert "'draft'" in my_cases[0]
    # So do its stock notes, read by NOTE_PERMITS ids whatever the page (masks.services).
    notes = [statement for statement in statements
             if statement.startswith('(SELECT "reconciliation_ledgerentry"."permit_id"')]
    assert len(notes) == 1
    assert f"${2 * mask_services.NOTE_PERMITS})" in notes[0]
    # (The user's permissions, portal.accounts.backends, one statement by the user's id.)
    assert not [statement for statement in statements
                if "UNION" in statement and statement not in flow_start + my_cases + notes
                and 'FROM "auth_permission" p' not in statement]
