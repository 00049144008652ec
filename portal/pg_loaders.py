"""PostgreSQL timestamps read by psycopg's C loader (issue 10).

Django reads every timestamptz through its BaseTzLoader (django.db.backends.postgresql.
psycopg_any): a Python subclass of psycopg's Python TimestamptzLoader, so psycopg's C loader
(psycopg_binary or psycopg_c) is never used. The Python one parses a value in about 13 µs
(38,000 instructions), the C one in 0.6 µs; the reviewers' case list reads about 130 a page
(its cases' dates and their status history), a millisecond and a half of CPU.

faster_timestamps() gives each new connection the same loader, Django's own class and time
zone, whose load() parses with the C loader and then does what Django's does (replace the
time zone by the connection's: the value is the same datetime, tzinfo and all). Where no C
module is installed, or the connection's DateStyle is not ISO (the Python loader refuses
it), Django's loader is left as it is. tests/test_pg_loaders.py compares the two.
"""

from django.db.backends.signals import connection_created


def _c_loader():
    try:
        from psycopg import _cmodule
    except ImportError:  # (psycopg 2, or no psycopg)
        return None
    module = getattr(_cmodule, "_psycopg", None)
    return getattr(module, "TimestamptzLoader", None)


def loader_class(timezone):
    """A subclass of Django's timestamptz loader for `timezone` reading with the C loader,
    or None where there is no C loader."""
    c_loader = _c_loader()
    if c_loader is None:
        return None
    from django.db.backends.postgresql.psycopg_any import BaseTzLoader

    class CTzLoader(BaseTzLoader):
        def __init__(self, oid, context=None):
            super().__init__(oid, context)
            # (None: Django's, which refuses a DateStyle other than ISO.)
            self._parse = (c_loader(oid, context).load if self._load_method == self._load_iso
                           else None)

        def load(self, data):
            if self._parse is None:
                return super().load(data)
            value = self._parse(data)
            # Already in the connection's time zone (the C loader's tzinfo for a session in
            # UTC is datetime.timezone.utc, Django's too): replace() would make its copy.
            return value if value.tzinfo is self.timezone else value.replace(
                tzinfo=self.timezone)

    CTzLoader.timezone = timezone
    CTzLoader.__qualname__ = CTzLoader.__name__ = "CTzLoader"
    return CTzLoader


_CLASSES = {}


def faster_timestamps(sender, connection, **kwargs):
    """Registers loader_class() on a new PostgreSQL connection, for the connection's time
    zone (the one Django's create_cursor() compares a cursor's with: equal, it registers
    nothing on the cursor)."""
    if connection.vendor != "postgresql" or not hasattr(connection.connection, "adapters"):
        return
    timezone = connection.timezone
    if timezone not in _CLASSES:
        _CLASSES[timezone] = loader_class(timezone)
    loader = _CLASSES[timezone]
    if loader is not None:
        connection.connection.adapters.register_loader("timestamptz", loader)


connection_created.connect(faster_timestamps, dispatch_uid="portal.pg_loaders")
