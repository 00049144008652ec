"""Load a file of customs messages (RECON-1): JSON lines, one message per line.

    python manage.py load_declarations feed-20261120.jsonl

Each message goes through services.receive like the endpoint's and the admin upload's: a
bad one is rejected with every reason and the rest still go in; a message received before
(same message_id) is not processed again, so loading a file twice is harmless. A line that is
not JSON is reported with its number. Declarations that arrived or changed are matched by the
Celery worker after commit.
"""

from django.core.management.base import BaseCommand, CommandError

from reconciliation import api


class Command(BaseCommand):
    help = "Load customs declarations, releases and cancellations from a JSON lines file."

    def add_arguments(self, parser):
        parser.add_argument("path", help="a JSON lines file (UTF-8), one message per line")

    def handle(self, *args, path, **options):
        try:
            with open(path, encoding="utf-8-sig") as file:
                text = file.read()
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error}") from None
        except UnicodeDecodeError:
            raise CommandError(f"{path} is not UTF-8 text") from None
        entries, broken = api.read_json_lines(text)
        outcome = api.receive_batch(entries, broken=broken, source="file")
        for line_no, message_id, errors in outcome.problems:
            label = f"line {line_no}" + (f" ({message_id})" if message_id else "")
            self.stdout.write(self.style.ERROR(f"{label}: rejected: {'; '.join(errors)}"))
        summary = (f"accepted: {outcome.accepted}, duplicate: {outcome.duplicate}, "
                   f"rejected: {outcome.rejected}, "
                   f"received before: {outcome.received_before}")
        style = self.style.WARNING if outcome.rejected else self.style.SUCCESS
        self.stdout.write(style(summary))
