"""portal.pg_loaders: PostgreSQL's timestamps read by psycopg's C loader give what Django's
own loader gives (the same datetime, the same tzinfo)."""

import datetime

import pytest
from django.db import connection

from portal import pg_loaders

pytestmark = pytest.mark.django_db

VALUES = ["2024-12-04 23:27:06.560774+00", "2026-01-01 00:00:00+00",
          "1999-12-31 23:59:59.999999+00", "2026-03-04 05:06:07.123456+08",
          "2026-06-30 16:00:00.5-05:30", "0001-01-01 00:00:00+00",
          "9999-12-31 23:59:59.999999+00", "2024-02-29 12:00:00+14"]


def _postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's loader")
    if pg_loaders._c_loader() is None:
        pytest.skip("no C module of psycopg")


def _read(loader_class, values=VALUES, setting=None):
    """`values` as read through `loader_class` on this connection (after `setting`, a SET
    LOCAL statement, if given)."""
    connection.ensure_connection()
    with connection.cursor() as cursor:
        if setting:
            cursor.execute(setting)
        cursor.cursor.adapters.register_loader("timestamptz", loader_class)
        cursor.execute("SELECT " + ", ".join(["%s::timestamptz"] * len(values)), values)
        return cursor.fetchone()


def test_the_connection_reads_timestamps_with_the_c_loader():
    _postgresql()
    connection.ensure_connection()
    loader = connection.connection.adapters.get_loader(1184, 0)
    assert loader.__name__ == "CTzLoader"
    assert loader.timezone == connection.timezone  # (Django's cursors register nothing more)
    from permits.models import StatusChange

    StatusChange.objects.exists()  # a query through Django's cursor works


def test_the_values_are_djangos():
    _postgresql()
    from django.db.backends.postgresql.psycopg_any import BaseTzLoader

    class Djangos(BaseTzLoader):
        timezone = connection.timezone

    ours, djangos = _read(pg_loaders.loader_class(connection.timezone)), _read(Djangos)
    assert ours == djangos
    assert [value.tzinfo for value in ours] == [value.tzinfo for value in djangos]
    assert all(value.tzinfo is datetime.UTC for value in ours)
    assert ours[0] == datetime.datetime(2024, 12, 4, 23, 27, 6, 560774, tzinfo=datetime.UTC)


def test_a_naive_loader_gives_naive_values():
    """USE_TZ off: Django's loader drops the time zone, and so does ours."""
    _postgresql()
    values = _read(pg_loaders.loader_class(None))
    assert all(value.tzinfo is None for value in values)
    assert values[0] == datetime.datetime(2024, 12, 4, 23, 27, 6, 560774)


def test_another_datestyle_is_refused_as_django_refuses_it():
    _postgresql()
    from django.db.backends.postgresql.psycopg_any import BaseTzLoader

    class Djangos(BaseTzLoader):
        timezone = connection.timezone

    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL DateStyle = 'German'")
        for loader_class in (pg_loaders.loader_class(connection.timezone), Djangos):
            cursor.cursor.adapters.register_loader("timestamptz", loader_class)
            with pytest.raises(Exception) as refused:
                cursor.execute("SELECT %s::timestamptz", [VALUES[0]])
                cursor.fetchone()
            assert "DateStyle" in str(refused.value) or "datestyle" in str(refused.value).lower()



def test_a_session_in_another_zone_gives_djangos_values():
    """The C loader's value already in the connection's zone is given as it is; in another
    session zone its tzinfo is replaced, as Django's loader does."""
    _postgresql()
    from django.db.backends.postgresql.psycopg_any import BaseTzLoader

    class Djangos(BaseTzLoader):
        timezone = connection.timezone

    values = [value for value in VALUES if not value.startswith("9999")]  # (year 10000)
    ours, djangos = (_read(loader_class, values, "SET LOCAL TIME ZONE 'Asia/Taipei'")
                     for loader_class in (pg_loaders.loader_class(connection.timezone),
                                          Djangos))
    assert ours == djangos
    assert [value.tzinfo for value in ours] == [value.tzinfo for value in djangos]
    assert [value.utcoffset() for value in ours] == [value.utcoffset() for value in djangos]
