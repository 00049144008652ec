"""稽催信 (MASK-8) throughput: stock rows per second against a read-only baseline.

    DATABASE_URL=postgres://... .venv/bin/python bench/reminders.py [--holders 10000]
        [--sources 100000] [--batch 1000]

Generates (in a throwaway database, "bench_eportal_reminders") mask permits, one per applicant, and
customs import declarations citing them with their goods released on the ledger: one stock
source per declaration, nobody has opened 口罩流向登錄作業. Then, in the same run:
  baseline  reads the same rows in the same keyset batches: the declarations with their
            ledger sums, then the stock rows by applicant (what the job must read);
  refresh   masks.services.stock_reports_refresh: creates the 100,000 StockReport rows;
  remind    masks.services.reminders_send(refresh=False): one outbox row and one
            StockReminder per applicant (the Celery sends after commit are not queued here:
            delivery is the outbox's business, measured elsewhere);
  again     the whole job a second time in the same period: the refresh reads only the
            ledger entries and matching results after the first run's mark (none), and
            nobody is mailed twice; its time and queries as a fraction of the full job
            (refresh + remind; the goal: at most 10%);
  changed   the job once more after --changed new releases (1% by default) on as many
            sources: the refresh reads and writes only those.
Prints seconds, rows per second, the ratio to the baseline and the queries per batch.
"""

import argparse
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import F, Sum  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from masks import services  # noqa: E402
from masks.models import StockReminder, StockReport  # noqa: E402
from permits.models import DocumentType, OutboundEmail, Permit  # noqa: E402
from portal.accounts.models import IdentifierType, User  # noqa: E402
from reconciliation.models import Declaration, DeclarationItem, LedgerEntry  # noqa: E402


def generate(holder_count, source_count):
    today = timezone.localdate()
    password = make_password(None)
    users = User.objects.bulk_create([
        User(identifier=f"M{n:07d}", identifier_type=IdentifierType.PASSPORT, name=f"Co {n}",
             address="Taipei", contact_person="Wang", phone="02", email=f"m{n}@example.com",
             password=password) for n in range(holder_count)], batch_size=5000)
    permits = Permit.objects.bulk_create([
        Permit(permit_no=f"PMK115{n:08d}", document_type=DocumentType.MASK_IMPORT,
               holder=user, verification_code="ABCDEFGH")
        for n, user in enumerate(users)], batch_size=5000)
    declarations = Declaration.objects.bulk_create([
        Declaration(number=f"MD115{n:09d}", direction="import", declared_on=today,
                    declarant_identifier=permits[n % holder_count].holder.identifier,
                    permit_no=permits[n % holder_count].permit_no,
                    permit=permits[n % holder_count])
        for n in range(source_count)], batch_size=5000)
    items = DeclarationItem.objects.bulk_create([
        DeclarationItem(declaration=declaration, item_no=1, tariff_code="63079050311",
                        quantity=Decimal(100), unit="PCE", value=Decimal(500),
                        currency="TWD", permit_item_no=1)
        for declaration in declarations], batch_size=5000)
    LedgerEntry.objects.bulk_create([
        LedgerEntry(permit_id=item.declaration.permit_id, line_no=1,
                    quantity=Decimal(10 + n % 90), kind=LedgerEntry.Kind.RELEASE,
                    declaration_item=item, reference=item.declaration.number)
        for n, item in enumerate(items)], batch_size=5000)
    return len(declarations)


def release_more(count):
    """One more release (1 mask) on each of the first `count` declarations' items, as
    customs' later partial releases come in: new ledger entries after the job's mark."""
    items = DeclarationItem.objects.select_related("declaration").order_by("pk")[:count]
    LedgerEntry.objects.bulk_create([
        LedgerEntry(permit_id=item.declaration.permit_id, line_no=1, quantity=Decimal(1),
                    kind=LedgerEntry.Kind.RELEASE, declaration_item=item,
                    reference=item.declaration.number)
        for item in items], batch_size=5000)


def baseline(batch_size):
    """Read what the job reads, in the same keyset batches, and nothing more."""
    rows = 0
    declarations = Declaration.objects.order_by("pk").values_list("pk", "permit_id",
                                                                  "permit__holder_id")
    last = 0
    while batch := list(declarations.filter(pk__gt=last)[:batch_size]):
        last = batch[-1][0]
        rows += len(batch)
        list(LedgerEntry.objects.filter(
            declaration_item__declaration_id__in=[row[0] for row in batch])
            .values_list("declaration_item__declaration_id")
            .annotate(total=Sum("quantity")).order_by())
        list(StockReport.objects.filter(declaration_id__in=[row[0] for row in batch])
             .values_list("pk", "cleared", "allocated"))
    holders = (StockReport.objects.filter(cleared__gt=F("declared")).order_by("holder_id")
               .values_list("holder_id", flat=True).distinct())
    last = 0
    while ids := list(holders.filter(holder_id__gt=last)[:batch_size]):
        last = ids[-1]
        list(StockReport.objects.filter(holder_id__in=ids).values(
            "holder_id", "declaration__number", "permit__permit_no", "cleared", "declared"))
        list(User.objects.filter(pk__in=ids).values_list("pk", "email", "language", "name"))
    return rows


def timed(function, *args, **kwargs):
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = function(*args, **kwargs)
        elapsed = time.perf_counter() - started
    return result, elapsed, len(queries)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--holders", type=int, default=10000)
    parser.add_argument("--sources", type=int, default=100000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--changed", type=int, default=None,
                        help="sources with a new release before the last run (1%%)")
    args = parser.parse_args()

    setup_test_environment()
    # A database of the benchmark's own, so that a test run at the same time is not touched.
    connection.settings_dict.setdefault("TEST", {})["NAME"] = "bench_eportal_reminders"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    services._enqueue = lambda ids: None  # noqa: SLF001 (see the docstring)
    try:
        started = time.perf_counter()
        n = generate(args.holders, args.sources)
        print(f"{connection.vendor}: {args.holders} applicants, {n} stock sources generated "
              f"in {time.perf_counter() - started:.1f} s")
        source_batches = -(-n // args.batch)
        holder_batches = -(-args.holders // args.batch)

        # The baseline runs twice (before and after the reports exist) so that it reads
        # the same stock rows the job does; the second run is the one compared.
        baseline(args.batch)
        _written, refresh_s, refresh_q = timed(services.stock_reports_refresh,
                                               batch_size=args.batch)
        _rows, base_s, base_q = timed(baseline, args.batch)
        sent, remind_s, remind_q = timed(services.reminders_send, batch_size=args.batch,
                                         refresh=False)
        again, again_s, again_q = timed(services.reminders_send, batch_size=args.batch)
        changed = args.changed if args.changed is not None else max(n // 100, 1)
        release_more(changed)
        (_written, changed_s, changed_q) = timed(services.reminders_send,
                                                 batch_size=args.batch)
        job_s = refresh_s + remind_s
        job_q = refresh_q + remind_q
        print(f"baseline (read only):  {base_s:7.2f} s {n / base_s:9.0f} rows/s "
              f"({base_q} queries)")
        print(f"refresh (create rows): {refresh_s:7.2f} s {n / refresh_s:9.0f} rows/s "
              f"({refresh_q} queries, {refresh_q / source_batches:.1f} per batch)")
        print(f"reminders ({sent} mails): {remind_s:7.2f} s {n / remind_s:9.0f} rows/s "
              f"({remind_q} queries, {remind_q / holder_batches:.1f} per batch)")
        print(f"job total:             {job_s:7.2f} s {n / job_s:9.0f} rows/s "
              f"(ratio to baseline {job_s / base_s:.2f})")
        print(f"second run, same period: {again_s:7.2f} s, {again} mails, {again_q} queries "
              f"({again_s / job_s:.1%} of the job's time, {again_q / job_q:.1%} of its "
              f"queries)")
        print(f"after {changed} new releases: {changed_s:7.2f} s, {changed_q} queries "
              f"({changed_s / job_s:.1%} of the job's time, {changed_q / job_q:.1%} of its "
              f"queries)")
        print(f"rows: {StockReport.objects.count()} stock, "
              f"{StockReminder.objects.count()} reminders, "
              f"{OutboundEmail.objects.count()} outbox")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
