"""The reviewers' queue counts (工作佇列: 待分派, 我的案件, 逾期) counted again from the cases:

    python manage.py recount_queues

PostgreSQL keeps them by triggers (permits.admin_queues.counter_statements, migration 0017),
so they never need this in the portal's own use. It is for a database whose cases were
written with the triggers off (a restore with --disable-triggers, session_replication_role
= replica): it locks the cases against writes for the count (about 50 ms at 100,000
cases) and says what changed. Nothing to do on SQLite, which counts the queues each time.
"""

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from permits import admin_queues
from permits.models import QueueCount


class Command(BaseCommand):
    help = "Count the reviewers' queues (工作佇列) again from the cases (PostgreSQL)."

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            self.stdout.write("Nothing to do: the queues are counted on each page here.")
            return
        with transaction.atomic():
            before = set(QueueCount.objects.values_list("kind", "key", "n"))
            with connection.cursor() as cursor:
                for sql in admin_queues.refill_statements():
                    cursor.execute(sql)
            after = set(QueueCount.objects.values_list("kind", "key", "n"))
        changed = len(before ^ after)
        self.stdout.write(f"{len(after)} counters; {changed} rows differed from the count."
                          if changed else f"{len(after)} counters; all were right.")
