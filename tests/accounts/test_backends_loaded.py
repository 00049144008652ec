"""portal.accounts.models.User asks the authentication backends made once a process
(backend_methods), not made anew on every has_perm as django.contrib.auth.get_backends()
makes them (issue 10): the same answers as Django's own functions, and a changed
AUTHENTICATION_BACKENDS setting honoured at once."""

from unittest import mock

import pytest
from django.contrib import auth
from django.contrib.auth import models as auth_models
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.test import override_settings

from portal.accounts import models as accounts_models
from portal.accounts.models import User

pytestmark = pytest.mark.django_db

HERE = "tests.accounts.test_backends_loaded"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


class Denying:
    """Refuses everything, stopping the backends after it."""

    def has_perm(self, user_obj, perm, obj=None):
        raise PermissionDenied

    def has_module_perms(self, user_obj, app_label):
        raise PermissionDenied


class ObjectLevel:
    """Grants `permits.change_application` on objects only, and `special.perm` on none."""

    def get_user_permissions(self, user_obj, obj=None):
        return {"permits.change_application"} if obj is not None else set()

    def get_all_permissions(self, user_obj, obj=None):
        return self.get_user_permissions(user_obj, obj) | (
            {"special.perm"} if obj is None else set())

    def has_perm(self, user_obj, perm, obj=None):
        return perm in self.get_all_permissions(user_obj, obj)

    def has_module_perms(self, user_obj, app_label):
        return app_label == "special"


class Silent:
    """A backend with no permission methods at all (as axes' is)."""

    def authenticate(self, request, **credentials):
        return None


def permission(name):
    app_label, codename = name.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


@pytest.fixture
def users(make_user):
    viewers = Group.objects.create(name="viewers")
    viewers.permissions.add(permission("permits.view_application"))
    own = make_user("11111111")
    own.user_permissions.add(permission("permits.view_permit"))
    grouped = make_user("22222222")
    grouped.groups.add(viewers)
    inactive = make_user("44444444", is_active=False)
    inactive.groups.add(viewers)
    inactive_superuser = make_user("55555555", is_active=False, is_superuser=True)
    return [own, grouped, inactive, inactive_superuser, make_user("66666666"),
            make_user("77777777", is_superuser=True)]


def fresh(user):
    return User.objects.get(pk=user.pk)


def djangos(user, method, *args):
    """What django.contrib.auth.models.PermissionsMixin's `method` answers."""
    return getattr(auth_models.PermissionsMixin, method)(user, *args)


PERMS = ("permits.view_application", "permits.view_permit", "permits.change_application",
         "special.perm", "permits.delete_application")
BACKEND_LISTS = (
    None,  # the project's
    [f"{HERE}.Silent", f"{HERE}.ObjectLevel", MODEL_BACKEND],
    [f"{HERE}.Denying", MODEL_BACKEND],
    [MODEL_BACKEND, f"{HERE}.Denying", f"{HERE}.ObjectLevel"],
    [f"{HERE}.ObjectLevel", f"{HERE}.Denying"],
)


@pytest.mark.parametrize("backends", BACKEND_LISTS)
def test_the_answers_are_djangos(users, backends):
    """has_perm, has_perms, has_module_perms and the three get_*_permissions, with and without
    an object, for active, inactive and superusers, under several lists of backends: a
    PermissionDenied stops the backends after it, the first True wins."""
    settings = override_settings(AUTHENTICATION_BACKENDS=backends) if backends else None
    if settings:
        settings.enable()
    try:
        for user in users:
            for obj in (None, users[0]):
                for perm in PERMS:
                    assert fresh(user).has_perm(perm, obj) == \
                        djangos(fresh(user), "has_perm", perm, obj), (user, perm, obj, backends)
                assert fresh(user).has_perms(PERMS[:2], obj) == \
                    djangos(fresh(user), "has_perms", PERMS[:2], obj)
                for method in ("get_user_permissions", "get_group_permissions",
                               "get_all_permissions"):
                    assert getattr(fresh(user), method)(obj) == \
                        djangos(fresh(user), method, obj), (user, method, obj, backends)
            for app_label in ("permits", "special", "shtc"):
                assert fresh(user).has_module_perms(app_label) == \
                    djangos(fresh(user), "has_module_perms", app_label), (user, app_label)
    finally:
        if settings:
            settings.disable()


def test_the_backends_are_made_once(users):
    user = fresh(users[1])
    user.has_perm("permits.view_application")  # made here, if not already
    with mock.patch.object(auth, "load_backend", wraps=auth.load_backend) as load:
        assert user.has_perm("permits.view_application")
        assert not user.has_perm("permits.delete_application")
        assert user.has_module_perms("permits")
        assert user.get_all_permissions() == {"permits.view_application"}
        assert fresh(users[1]).has_perm("permits.view_application")
    assert load.call_count == 0


def test_a_changed_setting_is_honoured(users):
    user = users[0]
    assert fresh(user).has_perm("permits.view_permit")
    assert not fresh(user).has_perm("special.perm")
    with override_settings(AUTHENTICATION_BACKENDS=[f"{HERE}.ObjectLevel"]):
        assert not fresh(user).has_perm("permits.view_permit")  # no ModelBackend
        assert fresh(user).has_perm("special.perm")
        assert fresh(user).has_perm("permits.change_application", users[1])
        assert fresh(user).get_all_permissions() == {"special.perm"}
        with override_settings(AUTHENTICATION_BACKENDS=[f"{HERE}.Denying",
                                                        f"{HERE}.ObjectLevel"]):
            assert not fresh(user).has_perm("special.perm")
            assert not fresh(user).has_module_perms("special")
        assert fresh(user).has_perm("special.perm")
    # back to the project's
    assert fresh(user).has_perm("permits.view_permit")
    assert not fresh(user).has_perm("special.perm")
    assert fresh(user).get_all_permissions() == {"permits.view_permit"}


def test_no_backends_is_djangos_error(users):
    with override_settings(AUTHENTICATION_BACKENDS=[]), pytest.raises(ImproperlyConfigured):
        fresh(users[0]).has_perm("permits.view_permit")
    assert fresh(users[0]).has_perm("permits.view_permit")


def test_another_setting_keeps_the_backends(users):
    fresh(users[0]).has_perm("permits.view_permit")
    kept = accounts_models.backend_methods("has_perm")
    with override_settings(LANGUAGE_CODE="en"):
        assert accounts_models.backend_methods("has_perm") is kept
    with override_settings(AUTHENTICATION_BACKENDS=[MODEL_BACKEND]):
        assert accounts_models.backend_methods("has_perm") is not kept
