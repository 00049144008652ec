"""稽催信 (MASK-8) by hand, beside the daily Celery beat run (CELERY_BEAT_SCHEDULE):

    python manage.py send_stock_reminders                     # today, as beat runs it
    python manage.py send_stock_reminders --today 115/03/02   # the period of that day
    python manage.py send_stock_reminders --no-refresh        # keep the stock as it is

It calls the same service as the task: each applicant (and the filing agent, its copy) is
mailed once per period, so running it again, or beside beat, mails nobody twice.
"""

from django.core.management.base import BaseCommand, CommandError

from masks import services
from portal import dates


def _day(text):
    try:
        return dates.parse(text)
    except ValueError:
        raise CommandError(f"--today: {text!r} is not a date (115/03/02 or 2026-03-02)") \
            from None


class Command(BaseCommand):
    help = ("Mail the reminders (稽催信) for face-mask stock whose flows are not declared: "
            "once per applicant, filing agent and period.")

    def add_arguments(self, parser):
        parser.add_argument("--today", type=str, default=None,
                            help="the day to run as, ROC (115/03/02) or Gregorian "
                                 "(2026-03-02); default: today")
        parser.add_argument("--no-refresh", action="store_true",
                            help="do not bring the stock up to date from the write-off "
                                 "ledger first")

    def handle(self, *args, today=None, no_refresh=False, **options):
        day = _day(today) if today else None
        sent = services.reminders_send(today=day, refresh=not no_refresh)
        period = services.reminder_period(day)
        self.stdout.write(self.style.SUCCESS(
            f"{sent} reminder(s) queued for the period from {dates.to_roc(period)} "
            f"({period.isoformat()})."))
