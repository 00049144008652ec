"""Reading the bureau's screening list (REFERENCE.md: the export entity list) from a CSV file
into shtc.models.ScreeningEntry, as the admin's upload does (shtc/admin_screening.py).

The file's first line names its columns, in any order:

    name, aliases, country, source_list, note

name and source_list are required in every row; aliases are separated by ";"; country is an
ISO code of two letters or empty. The file is UTF-8 (a byte-order mark is dropped, as Excel
writes one) or Big5 (cp950, as Traditional Chinese Windows writes it).

A file is loaded whole or not at all: a file that is not text in its encoding, holds a NUL
byte, lacks a column, holds more than MAX_ROWS rows, or has any row that cannot be an entry is
refused with every reason (a line each), and nothing of it is loaded; a screening list loaded
in part would miss entries without anyone knowing. Each source list the file names is
replaced: its entries in the file are added or updated, those no longer in it are kept but
no longer in use (a risk flag may name them).
"""

import csv
import io
import re
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shtc.models import (
    SCREENING_ALIASES_MAX,
    SCREENING_NAME_MAX,
    SCREENING_NOTE_MAX,
    SCREENING_SOURCE_MAX,
    ScreeningEntry,
)

COLUMNS = ("name", "aliases", "country", "source_list", "note")
REQUIRED = ("name", "source_list")
LIMITS = {"name": SCREENING_NAME_MAX, "aliases": SCREENING_ALIASES_MAX,
          "source_list": SCREENING_SOURCE_MAX, "note": SCREENING_NOTE_MAX}
# The bureau's list held about 10,800 entries in 2025; five times that is a file gone wrong.
MAX_ROWS = 50_000
MAX_BYTES = 32 * 1024 * 1024
ENCODINGS = {"utf-8": "UTF-8", "cp950": "Big5 (cp950)"}
COUNTRY_RE = re.compile(r"[A-Z]{2}")
BATCH = 2000


class ScreeningFileError(Exception):
    """The file cannot be loaded: `messages` says why, a line each where it can."""

    def __init__(self, messages):
        super().__init__(messages)
        self.messages = list(messages)


@dataclass
class Outcome:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0


def _line_of(data, offset):
    return data.count(b"\n", 0, offset) + 1


def decode(data, encoding):
    """The text of `data` (bytes), or ScreeningFileError naming the line of the first NUL byte
    or of the first byte that is not text in `encoding`."""
    if b"\x00" in data:
        raise ScreeningFileError([_("Line %(line)s holds a NUL byte: the file is not CSV "
                                    "text.") % {"line": _line_of(data, data.index(b"\x00"))}])
    codec = "utf-8-sig" if encoding == "utf-8" else encoding
    if codec not in ("utf-8-sig", "cp950"):
        raise ScreeningFileError([_("Choose the file's encoding.")])
    try:
        return data.decode(codec)
    except UnicodeDecodeError as error:
        other = ENCODINGS["cp950" if encoding == "utf-8" else "utf-8"]
        raise ScreeningFileError([_(
            "Line %(line)s is not %(encoding)s text: choose the file's encoding (%(other)s?).")
            % {"line": _line_of(data, error.start), "encoding": ENCODINGS[encoding],
               "other": other}]) from None


def read(data, encoding="utf-8"):
    """[(line, {column: value})] of the file's entries, or ScreeningFileError with every
    problem found."""
    text = decode(data, encoding)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise ScreeningFileError([_("The file is empty.")])
        names = [cell.strip().lower() for cell in header]
        unknown = [name for name in names if name not in COLUMNS]
        missing = [name for name in REQUIRED if name not in names]
        if unknown or missing or len(set(names)) != len(names):
            raise ScreeningFileError([_(
                "Line 1 must name the columns %(columns)s (name and source_list required); it "
                "reads: %(header)s.") % {"columns": ", ".join(COLUMNS),
                                         "header": ", ".join(header)[:200]}])
        rows, problems, seen = [], [], {}
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) + len(problems) >= MAX_ROWS:
                raise ScreeningFileError([_(
                    "The file holds more than %(limit)s entries: split it by source list.")
                    % {"limit": f"{MAX_ROWS:,}"}])
            row, row_problems = _row(cells, names)
            key = (row.get("source_list"), row.get("name"), row.get("country"))
            if not row_problems and key in seen:
                row_problems.append(_("the same entry as line %(line)s") % {"line": seen[key]})
            if row_problems:
                problems.append(_("Line %(line)s: %(problems)s.") % {
                    "line": line, "problems": "; ".join(row_problems)})
            else:
                seen[key] = line
                rows.append((line, row))
    except csv.Error as error:
        raise ScreeningFileError([_("Line %(line)s cannot be read as CSV (%(error)s).") % {
            "line": reader.line_num, "error": error}]) from None
    if problems:
        raise ScreeningFileError(problems)
    if not rows:
        raise ScreeningFileError([_("The file holds no entry.")])
    return rows


def _row(cells, names):
    problems = []
    if len(cells) != len(names):
        return {}, [_("%(count)s values for %(columns)s columns") % {
            "count": len(cells), "columns": len(names)}]
    row = {name: " ".join(cell.split()) if name != "aliases" else cell.strip()
           for name, cell in zip(names, cells, strict=True)}
    for name in COLUMNS:
        row.setdefault(name, "")
    for name in REQUIRED:
        if not row[name]:
            problems.append(_("%(column)s is empty") % {"column": name})
    for name, limit in LIMITS.items():
        if len(row[name]) > limit:
            problems.append(_("%(column)s is longer than %(limit)s characters") % {
                "column": name, "limit": limit})
    row["country"] = row["country"].upper()
    if row["country"] and not COUNTRY_RE.fullmatch(row["country"]):
        problems.append(_("country must be two letters (an ISO code) or empty"))
    row["aliases"] = ";".join(alias.strip() for alias in row["aliases"].split(";")
                              if alias.strip())
    if len(row["aliases"]) > SCREENING_ALIASES_MAX and not any("aliases" in p for p in problems):
        problems.append(_("%(column)s is longer than %(limit)s characters") % {
            "column": "aliases", "limit": SCREENING_ALIASES_MAX})
    return row, problems


@transaction.atomic
def load(rows):
    """Replace the source lists `rows` name by their entries (see the module docstring)."""
    outcome = Outcome(read=len(rows))
    now = timezone.now()
    sources = {row["source_list"] for _line, row in rows}
    existing = {(entry.source_list, entry.name, entry.country): entry
                for entry in ScreeningEntry.objects.select_for_update()
                .filter(source_list__in=sources)}
    fields = ("aliases", "note")
    created, updated, kept = [], [], set()
    for _line, row in rows:
        key = (row["source_list"], row["name"], row["country"])
        entry = existing.get(key)
        kept.add(key)
        if entry is None:
            created.append(ScreeningEntry(updated_at=now, **row))
        elif not entry.active or any(getattr(entry, name) != row[name] for name in fields):
            for name in fields:
                setattr(entry, name, row[name])
            entry.active, entry.updated_at = True, now
            updated.append(entry)
        else:
            outcome.unchanged += 1
    ScreeningEntry.objects.bulk_create(created, batch_size=BATCH)
    ScreeningEntry.objects.bulk_update(updated, [*fields, "active", "updated_at"],
                                       batch_size=BATCH)
    retired = [entry.pk for key, entry in existing.items() if key not in kept and entry.active]
    if retired:
        ScreeningEntry.objects.filter(pk__in=retired).update(active=False, updated_at=now)
    # Every process's copy of the list (shtc.risk._screening) reloads on the new updated_at.
    outcome.created, outcome.updated, outcome.retired = len(created), len(updated), len(retired)
    return outcome
