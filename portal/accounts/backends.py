"""The user's permissions in one query (issue 10).

Django's ModelBackend reads a user's permissions in two queries, the user's own and those of
the user's groups, each built and compiled by the ORM (about 1.9 ms of CPU on every admin
page, where every view asks `has_view_permission` at least once). PermissionsBackend reads
both in one statement, written once per process, and leaves them where ModelBackend keeps
them (`_user_perm_cache`, `_group_perm_cache`, `_perm_cache` on the user), so that
ModelBackend, listed after it, answers from them without a query. It authenticates no one
and loads no user.

UserBackend, a ModelBackend and the one that authenticates (sessions name it), reads the
user and those rows in one statement (get_user): the request of a reviewer's page pays no
query for its permissions, an applicant's none for a read it does not need.
"""

import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Expression

from permits.prepared import PreparedInstances, _Listed, plan_keeping_cursor


def _models():
    """The user model, the tables of its own permissions and its groups, the group model,
    the table of the groups' permissions and the content types' (their _meta, or model)."""
    user = get_user_model()
    group = user._meta.get_field("groups").related_model
    return (user, user._meta.get_field("user_permissions").remote_field.through._meta,
            user._meta.get_field("groups").remote_field.through._meta, group,
            group._meta.get_field("permissions").remote_field.through._meta,
            Permission._meta.get_field("content_type").related_model._meta)


def _column(quote, meta, model):
    """The column of `meta`'s foreign key to `model`, quoted."""
    return next(quote(field.column) for field in meta.local_fields
                if field.is_relation and field.related_model is model)


@functools.cache
def _statement(quote):
    """The SQL: (app_label, codename, OWN) for the user's own permissions, (app_label,
    codename, GROUPS') for its groups', (None, the group's name, MEMBER) for each group it
    is in; the user's id three times. ModelBackend's two queries, written out with the
    tables' names, and User.is_reviewer's."""
    user, own, member, group, granted, content_type = _models()
    column = functools.partial(_column, quote)

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


# What each text of the user's `_permission_rows` is, by its first character: the rest is a
# permission (app_label.codename) of its own, of its groups, of a superuser (every one, both
# ways, as _read reads it), or the name of a group it is in.
_ROW_OWN, _ROW_GROUPS, _ROW_EVERY, _ROW_MEMBER = "o", "g", "a", "m"


@functools.cache
def _rows_sql(vendor, quote):
    """The `_permission_rows` column of the user's row: NULL for a user who can have no
    permission (inactive, or neither staff nor superuser and in no group and with none of
    its own: an applicant, whose request so pays only the two index probes of EXISTS, the
    rows' subquery not run), else a list of texts (_ROW_*), as PostgreSQL's ARRAY() or, on
    SQLite, json_group_array()'s text. _statement()'s rows with the user's id the outer
    row's, written once per database vendor from the models' meta."""
    user, own, member, group, granted, content_type = _models()
    column = functools.partial(_column, quote)
    permission = Permission._meta

    me = f"{quote(user._meta.db_table)}.{quote(user._meta.pk.column)}"
    flag = {name: f"{quote(user._meta.db_table)}.{quote(user._meta.get_field(name).column)}"
            for name in ("is_active", "is_superuser", "is_staff")}
    name = (f"ct.{quote(content_type.get_field('app_label').column)} || '.' || "
            f"p.{quote(permission.get_field('codename').column)}")
    joined = (f"FROM {quote(permission.db_table)} p JOIN {quote(content_type.db_table)} ct "
              f"ON ct.{quote(content_type.pk.column)} = "
              f"p.{quote(permission.get_field('content_type').column)}")
    mine = (f"SELECT {column(own, Permission)} FROM {quote(own.db_table)} "  # noqa: S608
            f"WHERE {column(own, user)} = {me}")
    memberships = (f"FROM {quote(member.db_table)} m "  # noqa: S608
                   f"WHERE m.{column(member, user)} = {me}")
    rows = (  # the models' tables and columns, quoted
        f"SELECT '{_ROW_OWN}' || {name} AS r {joined} "  # noqa: S608
        f"WHERE p.{quote(permission.pk.column)} IN ({mine})"
        f" UNION ALL SELECT '{_ROW_GROUPS}' || {name} {joined} "
        f"WHERE p.{quote(permission.pk.column)} IN (SELECT g.{column(granted, Permission)} "
        f"FROM {quote(granted.db_table)} g JOIN {quote(member.db_table)} m "
        f"ON m.{column(member, group)} = g.{column(granted, group)} "
        f"WHERE m.{column(member, user)} = {me})"
        f" UNION ALL SELECT '{_ROW_MEMBER}' || g.{quote(group._meta.get_field('name').column)} "
        f"FROM {quote(group._meta.db_table)} g JOIN {quote(member.db_table)} m "
        f"ON m.{column(member, group)} = g.{quote(group._meta.pk.column)} "
        f"WHERE m.{column(member, user)} = {me}")
    every = f"SELECT '{_ROW_EVERY}' || {name} AS r {joined}"  # noqa: S608

    def listed(query):
        if vendor == "postgresql":
            return f"ARRAY({query})"
        return f"(SELECT json_group_array(x.r) FROM ({query}) x)"  # noqa: S608

    return (f"CASE WHEN NOT {flag['is_active']} THEN NULL "
            f"WHEN {flag['is_superuser']} THEN {listed(every)} "
            f"WHEN {flag['is_staff']} OR EXISTS ({mine}) OR EXISTS (SELECT 1 {memberships}) "
            f"THEN {listed(rows)} END")


class _PermissionRows(Expression):
    """The SQL of _rows_sql() as an annotation (a list: permits.prepared.ListOf's field)."""

    def __init__(self):
        super().__init__(output_field=_Listed())

    def as_sql(self, compiler, connection):
        return _rows_sql(connection.vendor, connection.ops.quote_name), []


@functools.cache
def _user_statement():
    """The user by its id with its `_permission_rows`: compiled once per process, its plan
    kept as _read's (the same for every id)."""
    user = get_user_model()
    return PreparedInstances(
        user, lambda pk: user._default_manager.filter(pk=pk).annotate(
            _permission_rows=_PermissionRows()),
        parameters=("pk",), keep_plan=True)


def _fill(user_obj, rows):
    """What _read leaves on `user_obj`, from its `_permission_rows` (None: it has none)."""
    own, group, names = set(), set(), set()
    for row in rows or ():
        kind, text = row[0], row[1:]
        if kind == _ROW_OWN:
            own.add(text)
        elif kind == _ROW_GROUPS:
            group.add(text)
        elif kind == _ROW_MEMBER:
            names.add(text)
        else:  # _ROW_EVERY: a superuser's
            own.add(text)
    if user_obj.is_superuser:
        group = own  # as _read: every permission both ways, its groups not read
    else:
        user_obj._group_names = frozenset(names)
    user_obj._user_perm_cache = own
    user_obj._group_perm_cache = group
    user_obj._perm_cache = own | group


class UserBackend(PermissionsBackend, ModelBackend):
    """ModelBackend, with the user and its permissions read in one query (issue 10).

    get_user() reads the user's row as ModelBackend.get_user() does (the same instance:
    every field loaded, its state that of a row read from the database) and, in the same
    statement, the rows _read reads, only for a user who can have any (_rows_sql: an
    applicant's request reads none); it leaves them where _read does, so that neither this
    backend's permission methods (PermissionsBackend's) nor ModelBackend's read them again.
    Each request reads its user, and so its permissions, afresh: a change shows on the next.

    It authenticates (ModelBackend.authenticate), so that sessions name it. Sessions that
    name ModelBackend (made before it, or by a login() that names it) keep working:
    ModelBackend stays listed after it, loads their users in its own query, and this
    backend reads their permissions when asked (_read), as before. As ModelBackend is
    listed, django.contrib.auth.authenticate() would ask it again whenever this backend
    refuses, hashing the password twice; both refuse the same credentials (the same code
    and rows), so a refusal here ends the search at once (PermissionDenied, which Django
    takes as every remaining backend's refusal: user_login_failed is sent all the same).
    Only ModelBackend may follow it in AUTHENTICATION_BACKENDS.

    Where the session's id is not an int (ModelBackend's own lookup decides what it
    means), ModelBackend's get_user() and _read, as before."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = ModelBackend.authenticate(self, request, username, password, **kwargs)
        if user is None:
            raise PermissionDenied
        return user

    def get_user(self, user_id):
        if type(user_id) is not int:
            return super().get_user(user_id)
        users = _user_statement().instances(pk=user_id)
        if not users:
            return None
        user = users[0]
        _fill(user, user.__dict__.pop("_permission_rows"))
        return user if self.user_can_authenticate(user) else None
