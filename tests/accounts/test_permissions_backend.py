"""portal.accounts.backends.PermissionsBackend: ModelBackend's answers about a user's
permissions, the user's own and the groups', read in one query instead of two, with the
groups User.is_reviewer asks about (issue 10)."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission

from portal.accounts.backends import PermissionsBackend
from portal.accounts.models import REVIEWERS_GROUP, User

pytestmark = pytest.mark.django_db


def permission(name):
    app_label, codename = name.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


@pytest.fixture
def users(make_user):
    """Permissions of its own, of its groups (two, one permission in both), of both, none;
    an inactive user with some; a superuser."""
    viewers = Group.objects.create(name="viewers")
    viewers.permissions.add(permission("permits.view_application"),
                            permission("accounts.view_user"))
    editors = Group.objects.create(name="editors")
    editors.permissions.add(permission("permits.change_application"),
                            permission("accounts.view_user"))
    own = make_user("11111111")
    own.user_permissions.add(permission("permits.view_permit"))
    grouped = make_user("22222222")
    grouped.groups.add(viewers, editors)
    both = make_user("33333333")
    both.user_permissions.add(permission("permits.view_permit"),
                              permission("accounts.view_user"))
    both.groups.add(viewers)
    inactive = make_user("44444444", is_active=False)
    inactive.groups.add(viewers)
    return [own, grouped, both, make_user("55555555"), inactive,
            make_user("66666666", is_superuser=True)]


def fresh(user):
    return User.objects.get(pk=user.pk)  # no permission read yet


def test_it_answers_as_model_backend(users):
    ours, django = PermissionsBackend(), ModelBackend()
    for user in users:
        for method in ("get_user_permissions", "get_group_permissions",
                       "get_all_permissions"):
            assert getattr(ours, method)(fresh(user)) == getattr(django, method)(fresh(user)), \
                (user, method)
        for name in ("permits.view_application", "permits.view_permit", "accounts.view_user",
                     "permits.delete_application"):
            assert ours.has_perm(fresh(user), name) == django.has_perm(fresh(user), name)
        for app_label in ("permits", "accounts", "shtc"):
            assert ours.has_module_perms(fresh(user), app_label) == \
                django.has_module_perms(fresh(user), app_label)
        assert ours.get_all_permissions(fresh(user), obj=users[0]) == set()


def test_a_user_asks_one_query_for_all_its_permissions(users, django_assert_num_queries):
    """Through User.has_perm, which asks every backend: ModelBackend, listed after it,
    answers from what it read (a permission the user lacks asks both)."""
    grouped = fresh(users[1])
    with django_assert_num_queries(1):
        assert grouped.has_perm("permits.view_application")
        assert not grouped.has_perm("permits.delete_application")
        assert grouped.has_module_perms("permits")
        assert grouped.get_all_permissions() == {
            "permits.view_application", "permits.change_application", "accounts.view_user"}


def test_it_never_signs_anyone_in(client, users):
    """PermissionsBackend authenticates no one and loads no user, so no session names it:
    the test client's force_login takes the first backend that loads users (UserBackend,
    which the sign-up's login() names too)."""
    assert PermissionsBackend().authenticate(None, username="11111111",
                                             password="correct-horse-battery") is None
    assert not hasattr(PermissionsBackend, "get_user")
    client.force_login(users[0])
    assert client.session["_auth_user_backend"] != "portal.accounts.backends.PermissionsBackend"


def test_a_reviewer_is_known_from_the_same_query(reviewer, make_user,
                                                 django_assert_num_queries):
    staff = make_user("99999993", is_staff=True)
    staff.groups.add(Group.objects.create(name="other staff"))
    applicant = make_user("88888880")
    applicant.groups.add(Group.objects.get(name=REVIEWERS_GROUP))  # not staff: no reviewer
    for user, is_reviewer in ((reviewer, True), (staff, False), (applicant, False)):
        user = fresh(user)
        with django_assert_num_queries(1):
            user.has_perm("permits.review_application")
            assert user.is_reviewer is is_reviewer
        assert fresh(user).is_reviewer is is_reviewer  # without its permissions: asked


def test_a_user_read_again_sees_a_change_of_its_groups(reviewer):
    user = fresh(reviewer)
    assert user.has_perm("accounts.view_user") and user.is_reviewer
    user.groups.clear()
    user = fresh(reviewer)
    assert not user.has_perm("accounts.view_user") and not user.is_reviewer
