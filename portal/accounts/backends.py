"""The user's permissions in one query (issue 10).

Django's ModelBackend reads a user's permissions in two queries, the user's own and those of
the user's groups, each built and compiled by the ORM (about 1.9 ms of CPU on every admin
page, where every view asks `has_view_permission` at least once). PermissionsBackend reads
both in one statement, written once per process, and leaves them where ModelBackend keeps
them (`_user_perm_cache`, `_group_perm_cache`, `_perm_cache` on the user), so that
ModelBackend, listed after it, answers from them without a query. It authenticates no one
and loads no user: ModelBackend still does that (the sessions name it).
"""

import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection

from permits.prepared import plan_keeping_cursor


@functools.cache
def _statement(quote):
    """The SQL: (app_label, codename, OWN) for the user's own permissions, (app_label,
    codename, GROUPS') for its groups', (None, the group's name, MEMBER) for each group it
    is in; the user's id three times. ModelBackend's two queries, written out with the
    tables' names, and User.is_reviewer's."""
    user = get_user_model()
    own = user._meta.get_field("user_permissions").remote_field.through._meta
    member = user._meta.get_field("groups").remote_field.through._meta
    group = user._meta.get_field("groups").related_model
    granted = group._meta.get_field("permissions").remote_field.through._meta
    content_type = Permission._meta.get_field("content_type").related_model._meta

    def column(meta, model):
        """The column of `meta`'s foreign key to `model`."""
        return next(quote(field.column) for field in meta.local_fields
                    if field.is_relation and field.related_model is model)

    permission = Permission._meta
    head = (f"SELECT ct.{quote(content_type.get_field('app_label').column)}, "  # noqa: S608
            f"p.{quote(permission.get_field('codename').column)}, %s "
            f"FROM {quote(permission.db_table)} p JOIN {quote(content_type.db_table)} ct "
            f"ON ct.{quote(content_type.pk.column)} = "
            f"p.{quote(permission.get_field('content_type').column)} "
            f"WHERE p.{quote(permission.pk.column)} IN ")
    return (  # the models' tables and columns, quoted
        head % OWN  # noqa: S608
        + f"(SELECT {column(own, Permission)} FROM {quote(own.db_table)} "  # noqa: S608
          f"WHERE {column(own, user)} = %s)"
        + " UNION ALL "
        + head % GROUPS
        + f"(SELECT g.{column(granted, Permission)} FROM {quote(granted.db_table)} g "  # noqa: S608
          f"JOIN {quote(member.db_table)} m ON m.{column(member, group)} = "
          f"g.{column(granted, group)} WHERE m.{column(member, user)} = %s)"
        + f" UNION ALL SELECT NULL, g.{quote(group._meta.get_field('name').column)}, "  # noqa: S608
          f"{MEMBER} FROM {quote(group._meta.db_table)} g JOIN {quote(member.db_table)} m "
          f"ON m.{column(member, group)} = g.{quote(group._meta.pk.column)} "
          f"WHERE m.{column(member, user)} = %s"
    )


OWN, GROUPS, MEMBER = 1, 0, 2  # what a row of _statement() is


def _read(user_obj):
    """Fill ModelBackend's three caches of `user_obj` in one query, and the names of its
    groups (`_group_names`, which User.is_reviewer reads: a query of its own on every
    reviewer's case page). Kept on the object as ModelBackend keeps what it reads: a user
    read again (each request reads its own) sees a change."""
    if user_obj.is_superuser:  # every permission, both ways, as ModelBackend reads it
        every = {f"{ct}.{name}" for ct, name in Permission.objects.values_list(
            "content_type__app_label", "codename").order_by()}
        own = group = every
    else:
        # Prepared on the server where prepared statements are allowed (permits.prepared.
        # plan_keeping_cursor): its SQL never changes, and PostgreSQL spent more time
        # planning it (0.9 ms on every admin page) than running it (bench/README.md
        # "Stop 24"). The rows are read afresh on every request all the same.
        with plan_keeping_cursor(connection) as cursor:
            cursor.execute(_statement(connection.ops.quote_name), [user_obj.pk] * 3)
            rows = cursor.fetchall()
        own = {f"{ct}.{name}" for ct, name, kind in rows if kind == OWN}
        group = {f"{ct}.{name}" for ct, name, kind in rows if kind == GROUPS}
        user_obj._group_names = frozenset(name for _ct, name, kind in rows if kind == MEMBER)
    user_obj._user_perm_cache = own
    user_obj._group_perm_cache = group
    user_obj._perm_cache = own | group


class PermissionsBackend:
    """ModelBackend's answers about permissions, read in one query. Not a BaseBackend: with
    no `get_user` it is never the backend a session names (Client.force_login takes the
    first backend that has one)."""

    def authenticate(self, request, **credentials):
        return None  # ModelBackend's work

    def _permissions(self, user_obj, obj, cache):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, cache):
            _read(user_obj)
        return getattr(user_obj, cache)

    def get_user_permissions(self, user_obj, obj=None):
        return self._permissions(user_obj, obj, "_user_perm_cache")

    def get_group_permissions(self, user_obj, obj=None):
        return self._permissions(user_obj, obj, "_group_perm_cache")

    def get_all_permissions(self, user_obj, obj=None):
        return self._permissions(user_obj, obj, "_perm_cache")

    def has_perm(self, user_obj, perm, obj=None):
        return perm in self.get_all_permissions(user_obj, obj)

    def has_module_perms(self, user_obj, app_label):
        return user_obj.is_active and any(
            perm[:perm.index(".")] == app_label for perm in self.get_all_permissions(user_obj))
