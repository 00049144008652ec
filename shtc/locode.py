"""Reading a UN/LOCODE release into the port table (轉口港代碼, SHTC-15).

An official release comes as CSV files (the code list in up to three parts), without a
header, each row with these columns:

    Ch, Country (ISO 3166 alpha-2), Location (3), Name, Name without diacritics,
    Subdivision, Function (8), Status, Date (YYMM), IATA, Coordinates, Remarks

e.g. ``,"AD","ALV","Andorra la Vella","Andorra la Vella",,"--34-6--","AI","0601",,
"4230N 00131E",``. A row without a location code is a country heading (``.ANDORRA``) or a
reference entry (Ch "="): neither is a location, and both are passed over. The seed in
shtc/data/ is written in the same layout, so the migration, the command (load_locode) and
the admin upload read files through the same code.

Loading is idempotent: a location already on file with the same data is left alone, a
changed one is updated, a new one is added; nothing is deleted (a code a permit named stays
readable even if a later release drops it). A file that is not text in the chosen encoding
or not CSV is refused whole, with its line; a row that cannot be a location (bad code, no
name, a value too long for its column) is skipped and reported with its line.
"""

import csv
import io
import re
from dataclasses import dataclass, field

from django.db import connections, router, transaction
from django.utils.translation import gettext_lazy as _

COUNTRY_RE = re.compile(r"[A-Z]{2}")
# UN/LOCODE gives new locations three letters or digits 2-9 (no 0 or 1, read as O and I), but
# older entries with a 0 are still in the list (DEB90 Brandscheid/Eifel, IT940 Villanova).
LOCATION_RE = re.compile(r"[A-Z0-9]{3}")
# Columns of the official layout.
CHANGE, COUNTRY, LOCATION, NAME, NAME_ASCII, SUBDIVISION, FUNCTION, STATUS, DATE, IATA, \
    COORDINATES, REMARKS = range(12)
# (column, Port field, longest value accepted)
STORED = ((NAME, "name", 100), (NAME_ASCII, "name_ascii", 100),
          (SUBDIVISION, "subdivision", 3), (FUNCTION, "function", 8), (STATUS, "status", 2),
          (IATA, "iata", 3), (COORDINATES, "coordinates", 15))
FIELDS = [name for _column, name, _limit in STORED] + ["country", "edition"]
BATCH = 2000
ENCODINGS = {"utf-8": _("UTF-8"), "iso-8859-1": _("ISO 8859-1 (Latin-1)")}


class LocodeFileError(Exception):
    """The file cannot be read as a UN/LOCODE CSV: nothing of it is loaded."""

    def __init__(self, message, *, line=None):
        super().__init__(message)
        self.message, self.line = message, line


@dataclass
class Outcome:
    read: int = 0  # locations in the files
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list = field(default_factory=list)  # [(file name, line, reason)]


def decode(data, *, encoding="utf-8"):
    """The text of `data` (bytes); a UTF-8 byte-order mark is dropped. LocodeFileError names
    the line of the first byte that is not text in `encoding`."""
    codec = "utf-8-sig" if encoding == "utf-8" else encoding
    try:
        return data.decode(codec)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise LocodeFileError(
            _("Line %(line)s is not %(encoding)s text: choose the file's encoding.")
            % {"line": line, "encoding": ENCODINGS.get(encoding, encoding)},
            line=line) from None
    except LookupError:
        raise LocodeFileError(_("Unknown encoding %(encoding)s.") % {"encoding": encoding}) \
            from None


def read_rows(text):
    """[(line, values)] of the locations in `text`, and [(line, reason)] of the rows passed
    over as wrong. `values` holds the Port fields of one location, "code" included."""
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise LocodeFileError(_("Line %(line)s holds a NUL character: this is not a CSV "
                                "text file.") % {"line": line}, line=line)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows, problems = [], []
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if line == 1 and row[COUNTRY:COUNTRY + 1] == ["Country"]:
                continue  # a header, as some republished copies add
            values, reason = _location(row)
            if reason:
                problems.append((line, reason))
            elif values:
                rows.append((line, values))
    except csv.Error as error:
        raise LocodeFileError(_("Line %(line)s is not valid CSV (%(error)s).")
                              % {"line": reader.line_num, "error": error},
                              line=reader.line_num) from None
    return rows, problems


def _location(row):
    """(values, None) for a location, (None, None) for a heading or reference row,
    (None, reason) for a row that is neither."""
    if len(row) < NAME + 1:
        return None, _("too few columns (%(count)s)") % {"count": len(row)}
    row = [cell.strip() for cell in row] + [""] * (12 - len(row))
    if not row[LOCATION]:
        return None, None  # a country heading or a reference entry (Ch "=")
    country, location = row[COUNTRY].upper(), row[LOCATION].upper()
    if not COUNTRY_RE.fullmatch(country) or not LOCATION_RE.fullmatch(location):
        return None, _("%(code)s is not a location code (two letters, then three letters or "
                       "digits)") % {"code": f"{row[COUNTRY]}{row[LOCATION]}"}
    if not row[NAME]:
        return None, _("%(code)s has no name") % {"code": country + location}
    values = {"code": country + location, "country": country}
    for column, name, limit in STORED:
        if len(row[column]) > limit:
            return None, _("%(code)s: %(value)s is longer than %(limit)s characters") % {
                "code": country + location, "value": row[column], "limit": limit}
        values[name] = row[column]
    values["name_ascii"] = values["name_ascii"] or values["name"]
    return values, None


@transaction.atomic
def load(rows, *, edition, model=None, update=True):
    """Add or update the locations `rows` ([(line, values)] of read_rows) in bulk; return the
    Outcome. The same location twice in `rows` keeps its last row. `model` is the Port model
    (a migration passes its historical one); `update=False` only adds what is missing (the
    seed, which must not undo a newer release loaded over it)."""
    if model is None:
        from shtc.models import Port as model
    latest = {values["code"]: {**values, "edition": edition} for _line, values in rows}
    outcome = Outcome(read=len(latest))
    codes, changed = list(latest), []
    for start in range(0, len(codes), BATCH):
        batch = codes[start:start + BATCH]
        on_file = {row["code"]: row for row in
                   model.objects.filter(code__in=batch).values("code", *FIELDS)}
        for code in batch:
            values, before = latest[code], on_file.get(code)
            # The edition alone does not make a change: a second load of the same data, or
            # a new release repeating a location, writes nothing.
            if before is not None and (not update or all(
                    before[name] == values[name] for name in FIELDS if name != "edition")):
                outcome.unchanged += 1
                continue
            if before is None:
                outcome.created += 1
            else:
                outcome.updated += 1
            changed.append(values)
    _upsert(model, changed)
    return outcome


def _upsert(model, rows):
    """INSERT … ON CONFLICT (code) DO UPDATE of `rows` (dicts of every field). PostgreSQL gets
    them through COPY into a temporary table: bulk_create compiles a placeholder for every
    value, which took most of the 13 s the seed's 80,910 rows needed (now about 4 s)."""
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        for start in range(0, len(rows), BATCH):
            model.objects.bulk_create([model(**row) for row in rows[start:start + BATCH]],
                                      update_conflicts=True, unique_fields=["code"],
                                      update_fields=FIELDS)
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ["code", *FIELDS]
    columns = [quote(model._meta.get_field(name).column) for name in names]
    updates = ", ".join(f"{column} = EXCLUDED.{column}" for column in columns[1:])
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE locode_load (LIKE {table}) ON COMMIT DROP")
        with cursor.copy(f"COPY locode_load ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[name] for name in names])
        cursor.execute(f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
                       f"SELECT {', '.join(columns)} FROM locode_load "
                       f"ON CONFLICT ({columns[0]}) DO UPDATE SET {updates}")
        cursor.execute("DROP TABLE locode_load")


def load_texts(texts, *, edition, model=None):
    """Read and load several files of one release ([(file name, text)]) as one: all or
    nothing if one of them cannot be read (LocodeFileError, with the file named)."""
    rows, problems = [], []
    for name, text in texts:
        try:
            file_rows, file_problems = read_rows(text)
        except LocodeFileError as error:
            raise LocodeFileError(f"{name}: {error.message}", line=error.line) from None
        rows.extend(file_rows)
        problems.extend((name, line, reason) for line, reason in file_problems)
    outcome = load(rows, edition=edition, model=model)
    outcome.problems = problems
    return outcome


EDITION_RE = re.compile(r"(?<!\d)(\d{4}-\d)(?!\d)")


def edition_from_name(name):
    """The edition a release's file name carries ("2024-2 UNLOCODE CodeListPart1.csv" →
    "2024-2"), or ""."""
    match = EDITION_RE.search(name)
    return match.group(1) if match else ""
