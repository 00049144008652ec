"""Costs shared by the reviewers' admin pages cut (issue 10, stop 25): the page's case ids
encoded once for the history and the flags of the list's round trip
(permits.prepared.id_array), the same rows and the same list, byte for byte, in both
languages, as with the ids given to each statement as a list; the statements still prepared
on the server and their plans kept. (The backends made once: tests/accounts/
test_backends_loaded.py.)"""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from permits import admin as permits_admin
from permits.models import Application
from permits.prepared import id_array, together
from tests.permits.test_admin_list import CHANGELIST, cases, signed_in  # noqa: F401
from tests.permits.test_admin_list_written import busy  # noqa: F401

pytestmark = pytest.mark.django_db

_TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')

PARAMS = [{}, {"status__exact": "initial_review"}, {"queue": "mine"}, {"queue": "overdue"},
          {"q": "22099131"}, {"submitted_at__year": "2026"}]


def test_id_array_is_the_arrays_text():
    assert id_array([3, 1, 20]) == "{3,1,20}"
    assert id_array([]) == "{}"
    assert id_array(iter([7])) == "{7}"
    with pytest.raises((TypeError, ValueError)):
        id_array(["1); DROP TABLE x; --"])


def read(ids):
    changes, flags = together((permits_admin._page_history(), {"ids": ids}),
                              (permits_admin._page_flags(), {"ids": ids}))
    return changes, [(flag.pk, flag.application_id, flag.kind) for flag in flags]


@pytest.mark.postgres
@pytest.mark.parametrize("prepared", [True, False])
def test_the_encoded_ids_read_what_the_list_reads(busy, prepared, monkeypatch):  # noqa: F811
    connection.ensure_connection()
    if not prepared:  # the one text, bound by the client
        monkeypatch.setattr(connection.connection, "prepare_threshold", None)
    ids = list(Application.objects.order_by("-pk").values_list("pk", flat=True))
    for chosen in (ids, ids[:1], ids[1:3], [], [10**9]):
        as_list = read(chosen)
        with CaptureQueriesContext(connection) as captured:
            encoded = read(id_array(chosen))
        assert encoded == as_list, chosen
        assert len(captured.captured_queries) == 1  # one round trip
    assert any(read(ids)[1]) and read(ids)[0]  # (rows of both were compared)


@pytest.mark.postgres
def test_the_encoded_ids_statements_keep_their_plans(busy):  # noqa: F811
    ids = id_array(Application.objects.values_list("pk", flat=True))

    def held():
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement, parameter_types::text, generic_plans, "
                           "custom_plans FROM pg_prepared_statements")
            return {sql: rest for sql, *rest in cursor.fetchall()}

    expected = read(ids)
    for _ in range(7):
        assert read(ids) == expected
    statements = [query._statement({"ids": ids})[1][0].replace("%s", "$1")
                  for query in (permits_admin._page_history(), permits_admin._page_flags())]
    for sql in statements:
        types, generic, custom = held()[sql]
        assert types == "{bigint[]}"
        assert generic + custom >= 7  # every run through the one prepared statement
    # Its generic plan (the one PostgreSQL keeps when its cost is no worse than the custom
    # ones': on the bench's data, always; on a test's few rows it may plan each run) can be
    # made for the text's type and reads the same rows.
    before = {sql: held()[sql][1] for sql in statements}
    with connection.cursor() as cursor:
        cursor.execute("SET plan_cache_mode = force_generic_plan")
        try:
            assert read(ids) == expected
        finally:
            cursor.execute("RESET plan_cache_mode")
    for sql in statements:
        assert held()[sql][1] == before[sql] + 1


@pytest.mark.parametrize("language", ["zh-hant", "en"])
def test_the_list_is_the_list_read_with_the_ids_as_a_list(signed_in, busy, language,  # noqa: F811
                                                          monkeypatch):
    signed_in.cookies["django_language"] = language
    for params in PARAMS:
        response = signed_in.get(CHANGELIST, params)
        assert response.status_code == 200
        encoded = _TOKEN.sub(b"TOKEN", response.content)
        with monkeypatch.context() as patch:
            patch.setattr(permits_admin, "id_array", lambda ids: ids)
            response = signed_in.get(CHANGELIST, params)
        assert _TOKEN.sub(b"TOKEN", response.content) == encoded, params
