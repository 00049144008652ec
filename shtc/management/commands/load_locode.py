"""Load an official UN/LOCODE release into the port table (轉口港代碼, SHTC-15).

    python manage.py load_locode "2024-2 UNLOCODE CodeListPart1.csv" \\
        "2024-2 UNLOCODE CodeListPart2.csv" "2024-2 UNLOCODE CodeListPart3.csv"

The files are read as shtc/locode.py says (the release's own CSV layout, no header). The
edition is read from the file names (2024-2) unless --edition names it. Loading is
idempotent and all or nothing: a file that is not text in the encoding or not CSV stops the
command before anything is written; a row that is not a location is skipped and reported.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, no_translations

from shtc import locode


class Command(BaseCommand):
    help = "Load the location codes of an official UN/LOCODE release (CSV code list)."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="csv",
                            help="the release's code list, in one or more CSV files")
        parser.add_argument("--edition", default="",
                            help="the release, e.g. 2024-2 (default: from the file names)")
        parser.add_argument("--encoding", default="utf-8", choices=sorted(locode.ENCODINGS),
                            help="the files' encoding (default: utf-8)")

    @no_translations  # an operator's console: the messages as written, in English
    def handle(self, *args, paths, edition, encoding, **options):
        edition = edition.strip() or self._edition(paths)
        texts = []
        for path in paths:
            try:
                data = Path(path).read_bytes()
            except OSError as error:
                raise CommandError(f"cannot read {path}: {error}") from None
            try:
                texts.append((path, locode.decode(data, encoding=encoding)))
            except locode.LocodeFileError as error:
                raise CommandError(f"{path}: {error.message}") from None
        try:
            outcome = locode.load_texts(texts, edition=edition)
        except locode.LocodeFileError as error:
            raise CommandError(error.message) from None
        for name, line, reason in outcome.problems:
            self.stdout.write(self.style.ERROR(f"{name}, line {line}: skipped: {reason}"))
        summary = (f"UN/LOCODE {edition}: {outcome.read} locations read, "
                   f"{outcome.created} added, {outcome.updated} changed, "
                   f"{outcome.unchanged} already on file, {len(outcome.problems)} rows skipped")
        style = self.style.WARNING if outcome.problems else self.style.SUCCESS
        self.stdout.write(style(summary))

    def _edition(self, paths):
        editions = {locode.edition_from_name(Path(path).name) for path in paths}
        if len(editions) != 1 or "" in editions:
            raise CommandError("name the release with --edition (e.g. --edition 2024-2): "
                               "the file names do not say one edition")
        return editions.pop()
