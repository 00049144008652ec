"""The permissions statement of portal.accounts.backends kept prepared on the server where
PostgreSQL's prepared statements are allowed (issue 10, bench/README.md "Stop 24"): planned
no more, yet read afresh on every request, so that a revoked permission or group is seen at
the next one."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection

from portal.accounts.models import User

pytestmark = pytest.mark.django_db


def permissions_statement_runs():
    """(prepared?, generic plans used) of the permissions statement on the connection."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT generic_plans FROM pg_prepared_statements "
                       "WHERE statement LIKE %s", ['%FROM "auth_permission" p JOIN%'])
        rows = cursor.fetchall()
    return (bool(rows), rows[0][0] if rows else 0)


@pytest.mark.postgres
def test_the_permissions_statement_is_prepared_and_read_afresh(reviewer, client):
    extra = Group.objects.create(name="auditors")
    extra.permissions.add(Permission.objects.get(codename="delete_group",
                                                 content_type__app_label="auth"))
    reviewer.groups.add(extra)
    for _ in range(7):
        user = User.objects.get(pk=reviewer.pk)
        assert user.has_perm("auth.delete_group")
    prepared, generic = permissions_statement_runs()
    assert prepared and generic >= 1  # planned once for any user, kept
    reviewer.groups.remove(extra)  # revoked: the next read sees it
    assert not User.objects.get(pk=reviewer.pk).has_perm("auth.delete_group")
    client.force_login(reviewer)
    assert client.get("/admin/permits/application/").status_code == 200
    reviewer.groups.clear()  # no longer a reviewer: the next request is refused
    assert client.get("/admin/permits/application/").status_code in (302, 403)


def test_without_prepared_statements_it_reads_the_same(reviewer, monkeypatch):
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        monkeypatch.setattr(connection.connection, "prepare_threshold", None)
    user = User.objects.get(pk=reviewer.pk)
    assert user.has_perm("permits.view_application") and user.is_reviewer
    reviewer.groups.clear()
    user = User.objects.get(pk=reviewer.pk)
    assert not user.has_perm("permits.view_application") and not user.is_reviewer
