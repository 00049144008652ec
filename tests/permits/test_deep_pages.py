"""我的案件's deep pages (page 2 on) as one statement whose plan PostgreSQL keeps (issue 10,
bench/README.md "Stop 26 (applicants' lists)"): the OFFSET a parameter, the branches not cut,
the page's length written in. They page exactly what visible_to() shows, for every user."""

import pytest

from permits.listing import VisibleCases, _DeepPage, case_page
from permits.models import Application, Status
from tests import services
from tests.permits.test_listing import cases  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

MY_CASES = ("-created_at", "-id")


def listed(user):
    return VisibleCases(Application.objects.exclude(status=Status.DRAFT), user=user,
                        ordering=MY_CASES, prepared="test_deep_pages")


@pytest.mark.usefixtures("cases")
def test_every_page_is_visible_tos(make_case, applicant, other_applicant, agent, reviewer):
    for _n in range(2):  # an agent's own cases too
        make_case(agent, status=Status.INITIAL_REVIEW)
    for user in (applicant, other_applicant, agent, reviewer):
        want = list(Application.objects.visible_to(user).exclude(status=Status.DRAFT)
                    .order_by(*MY_CASES))
        for size in (3, 5):
            for start in range(0, len(want) + 2 * size, size):
                page = listed(user)[start:start + size + 1]
                assert page == want[start:start + size + 1], (user, size, start)
                assert [case.permit_version for case in page] == \
                    [case.permit_version for case in want[start:start + size + 1]]


@pytest.mark.usefixtures("cases")
def test_a_page_past_the_end_is_the_last(agent):
    want = list(Application.objects.visible_to(agent).exclude(status=Status.DRAFT)
                .order_by(*MY_CASES))
    page = case_page(listed(agent), 40_000, per_page=5)
    assert page.number == -(-len(want) // 5)
    assert list(page) == want[(page.number - 1) * 5:]


def test_every_deep_page_of_a_length_is_one_kept_statement(applicant, agent):
    second, deep = listed(applicant)._prepared(3, 7), listed(agent)._prepared(30_000, 30_004)
    assert second is deep
    assert isinstance(deep, _DeepPage) and deep.keep_plan and deep.inline_constants
    assert listed(applicant)._prepared(0, 4) is not deep  # the first page: its own
    assert listed(applicant)._prepared(5, 11) is not deep  # another length


@pytest.mark.postgres
@pytest.mark.usefixtures("cases")
def test_the_deep_pages_are_one_prepared_statement(applicant, agent):
    """With PostgreSQL's prepared statements allowed, every deep page, for every user and
    offset (an OFFSET of any size bound as a bigint), is one statement on the server, its
    statuses written in for the partial indexes and its page's length in its text."""
    from django.db import connection

    services.require_postgres()
    connection.ensure_connection()
    before = connection.connection.prepare_threshold
    connection.connection.prepare_threshold = 0
    try:
        for user in (applicant, agent):
            for start in (3, 6, 9, 40_002, 3):
                listed(user)[start:start + 4]
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements "
                           "WHERE statement LIKE '%%OFFSET $%%'")
            statements = [row[0] for row in cursor.fetchall()]
    finally:
        connection.connection.prepare_threshold = before
    assert len(statements) == 1
    assert "LIMIT 4 OFFSET $4" in statements[0]
    assert "'draft'" in statements[0]
