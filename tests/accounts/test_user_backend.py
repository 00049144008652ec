"""portal.accounts.backends.UserBackend: the user of a session and its permissions read in
one query (issue 10), with Django's ModelBackend's semantics, on every request afresh."""

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.accounts.backends import UserBackend, _rows_sql
from portal.accounts.models import User

pytestmark = pytest.mark.django_db

OURS = "portal.accounts.backends.UserBackend"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
PASSWORD = "correct-horse-battery"
HOME = reverse("home")
ADMIN_LIST = reverse("admin:permits_application_changelist")


def permission(name):
    app_label, codename = name.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def request_user(client):
    """The user of the client's next request, as the middleware loads it."""
    return client.get(HOME).wsgi_request.user


def test_it_gives_the_user_model_backend_gives(reviewer, make_user):
    superuser = make_user("66666666", is_superuser=True, is_staff=True)
    for user in (reviewer, make_user("11111111"), superuser):
        ours, django = UserBackend().get_user(user.pk), ModelBackend().get_user(user.pk)
        assert type(ours) is type(django) and ours.pk == django.pk
        assert ours.get_deferred_fields() == django.get_deferred_fields() == set()
        assert (ours._state.adding, ours._state.db) == (django._state.adding,
                                                        django._state.db)
        fields = [field.attname for field in User._meta.concrete_fields]
        assert [getattr(ours, f) for f in fields] == [getattr(django, f) for f in fields]
        assert "_permission_rows" not in ours.__dict__
        for name in ("get_user_permissions", "get_group_permissions", "get_all_permissions"):
            assert getattr(ours, name)() == getattr(django, name)(), (user, name)
        assert ours.is_reviewer == django.is_reviewer
    assert UserBackend().get_user(10**20) is None
    assert UserBackend().get_user(reviewer.pk + 1000) is None


def test_it_reads_the_user_and_its_permissions_in_one_query(reviewer,
                                                              django_assert_num_queries):
    with django_assert_num_queries(1):
        user = UserBackend().get_user(reviewer.pk)
        assert user.has_perm("permits.view_application")
        assert not user.has_perm("permits.no_such_permission")
        assert user.is_reviewer


def test_an_applicant_pays_no_permission_read(applicant, django_assert_num_queries):
    with django_assert_num_queries(1):
        user = UserBackend().get_user(applicant.pk)
        assert not user.has_perm("permits.view_application")
        assert user.get_all_permissions() == set() and not user.is_reviewer


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_an_applicants_rows_are_not_read(applicant, reviewer):
    """EXPLAIN ANALYZE: the subquery of the rows is never run for an applicant."""
    sql = (f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT "  # noqa: S608
           f"{_rows_sql('postgresql', connection.ops.quote_name)} FROM accounts_user "
           f"WHERE accounts_user.id = %s")

    def plan(user):
        with connection.cursor() as cursor:
            cursor.execute(sql, [user.pk])
            return "\n".join(row[0] for row in cursor.fetchall())

    assert "Append (never executed)" in plan(applicant)  # the rows' UNION ALL
    assert "Append (actual" in plan(reviewer)


def test_new_sessions_name_it_and_old_ones_still_work(client, applicant):
    client.force_login(applicant)
    assert client.session[BACKEND_SESSION_KEY] == OURS
    session = client.session
    session[BACKEND_SESSION_KEY] = MODEL_BACKEND  # a session made before it
    session.save()
    assert request_user(client) == applicant
    client.logout()
    assert client.post(reverse("accounts:login"), {"username": applicant.identifier,
                                                   "password": PASSWORD}).status_code == 302
    assert client.session[BACKEND_SESSION_KEY] == OURS
    assert request_user(client) == applicant


def test_a_wrong_password_is_hashed_once(client, applicant, monkeypatch):
    calls = []
    original = ModelBackend.authenticate

    def counted(self, *args, **kwargs):
        calls.append(type(self))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ModelBackend, "authenticate", counted)
    response = client.post(reverse("accounts:login"), {"username": applicant.identifier,
                                                       "password": "wrong"})
    assert response.status_code == 400 and calls == [UserBackend]
    assert SESSION_KEY not in client.session


def test_changes_take_effect_on_the_next_request(client, make_user):
    user = make_user("11111111", is_staff=True)
    group = Group.objects.create(name="viewers")
    group.permissions.add(permission("permits.view_permit"))
    client.force_login(user)
    assert request_user(client).get_all_permissions() == set()
    user.user_permissions.add(permission("permits.view_application"))
    assert request_user(client).get_all_permissions() == {"permits.view_application"}
    user.groups.add(group)
    assert request_user(client).get_group_permissions() == {"permits.view_permit"}
    group.permissions.add(permission("accounts.view_user"))
    assert request_user(client).has_perm("accounts.view_user")
    group.permissions.remove(permission("accounts.view_user"))
    assert not request_user(client).has_perm("accounts.view_user")
    user.user_permissions.clear()
    assert request_user(client).get_all_permissions() == {"permits.view_permit"}
    user.groups.remove(group)
    assert request_user(client).get_all_permissions() == set()
    User.objects.filter(pk=user.pk).update(is_superuser=True)
    superuser = request_user(client)
    assert superuser.has_perm("permits.delete_application")
    assert superuser.get_group_permissions() == ModelBackend().get_group_permissions(
        User.objects.get(pk=user.pk))
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert not request_user(client).is_authenticated


def test_a_non_staff_user_has_its_groups_permissions(client, make_user):
    user = make_user("11111111")
    group = Group.objects.create(name="viewers")
    group.permissions.add(permission("permits.view_permit"))
    user.groups.add(group)
    client.force_login(user)
    assert request_user(client).has_perm("permits.view_permit")


def test_inactive_users_are_refused(client, make_user):
    user = make_user("11111111", is_active=False)
    assert UserBackend().get_user(user.pk) is None
    response = client.post(reverse("accounts:login"), {"username": user.identifier,
                                                       "password": PASSWORD})
    assert response.status_code == 400 and SESSION_KEY not in client.session


def test_a_password_change_ends_other_sessions(client, applicant):
    client.force_login(applicant)
    assert HASH_SESSION_KEY in client.session and request_user(client) == applicant
    applicant.set_password("another-horse-battery")
    applicant.save()
    assert not request_user(client).is_authenticated


def test_a_reviewers_admin_page_reads_the_user_once(client, reviewer):
    """One query for the user and its permissions: the session naming ModelBackend (as
    before) takes one more for the same page."""
    client.force_login(reviewer)
    client.get(ADMIN_LIST)
    with CaptureQueriesContext(connection) as ours:
        assert client.get(ADMIN_LIST).status_code == 200
    session = client.session
    session[BACKEND_SESSION_KEY] = MODEL_BACKEND
    session.save()
    with CaptureQueriesContext(connection) as before:
        assert client.get(ADMIN_LIST).status_code == 200
    assert len(ours) == len(before) - 1
    assert not any("auth_permission" in query["sql"] and "accounts_user" not in query["sql"]
                   for query in ours.captured_queries)
