"""單證比對 throughput: declarations matched per second against a read-only baseline.

    DATABASE_URL=postgres://... .venv/bin/python bench/matching.py [--permits 10000]
        [--declarations 100000] [--batch 1000]

Generates (in a throwaway database) permits with two items each and declarations citing
them (one in ten with something wrong), then, in the same run:
  baseline  reads the same rows in the same batches: declarations with their items, the
            permits with versions and items, the ledger sums (what matching must read);
  matching  reconciliation.matching.match_declarations over the same batches (reads, checks,
            writes the results and the feed sequence).
Prints declarations per second for both, the ratio, and the queries per batch (which must
not depend on the batch's content).
"""

import argparse
import datetime
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from permits.models import (  # noqa: E402
    Application,
    DocumentType,
    Item,
    Permit,
    PermitVersion,
    Status,
)
from portal.accounts.models import IdentifierType, User  # noqa: E402
from reconciliation import matching  # noqa: E402
from reconciliation.models import Declaration, DeclarationItem  # noqa: E402

TARIFFS = ["85423100003", "85177900002"]


def generate(permit_count, declaration_count, rng):
    today = timezone.localdate()
    now = timezone.now()
    password = make_password(None)
    users = User.objects.bulk_create([
        User(identifier=f"B{n:07d}", identifier_type=IdentifierType.PASSPORT, name=f"Co {n}",
             address="Taipei", contact_person="Wang", phone="02", email=f"c{n}@example.com",
             password=password) for n in range(1000)])
    apps = Application.objects.bulk_create([
        Application(document_type=DocumentType.SHTC_EXPORT, status=Status.APPROVED,
                    receipt_no=f"RSE115{n:08d}", applicant=users[n % 1000],
                    applicant_identifier=users[n % 1000].identifier,
                    applicant_name="Co", applicant_address="Taipei",
                    company_email="c@example.com", submitted_at=now)
        for n in range(permit_count)], batch_size=5000)
    Item.objects.bulk_create([
        Item(application=app, line_no=line, tariff_code=TARIFFS[line - 1], description="x",
             quantity=Decimal(1000), unit="PCE", unit_price=Decimal(10), currency="USD",
             amount=Decimal(10000), origin_country="TW")
        for app in apps for line in (1, 2)], batch_size=5000)
    permits = Permit.objects.bulk_create([
        Permit(permit_no=f"PSE115{n:08d}", document_type=DocumentType.SHTC_EXPORT,
               holder=app.applicant, verification_code="ABCDEFGH")
        for n, app in enumerate(apps)], batch_size=5000)
    PermitVersion.objects.bulk_create([
        PermitVersion(permit=permit, version=1, application=app, issued_at=now,
                      valid_from=today - datetime.timedelta(days=30),
                      valid_until=today + datetime.timedelta(days=150))
        for permit, app in zip(permits, apps, strict=True)], batch_size=5000)
    declarations, lines = [], []
    for n in range(declaration_count):
        k = rng.randrange(permit_count)
        wrong = n % 10 == 0
        declarations.append(Declaration(
            number=f"BD115{n:09d}", direction="export", declared_on=today,
            declarant_identifier="X9999999" if wrong else apps[k].applicant_identifier,
            permit_no=permits[k].permit_no, permit=permits[k]))
    declarations = Declaration.objects.bulk_create(declarations, batch_size=5000)
    for n, declaration in enumerate(declarations):
        line = 1 + n % 2
        lines.append(DeclarationItem(
            declaration=declaration, item_no=1, tariff_code=TARIFFS[line - 1],
            quantity=Decimal(rng.randrange(1, 50)), unit="PCE", value=Decimal(100),
            currency="EUR" if n % 20 == 0 else "USD", permit_item_no=line))
    DeclarationItem.objects.bulk_create(lines, batch_size=5000)
    return [d.pk for d in declarations]


def read_only(ids):
    """What matching must read, nothing more: the baseline (the same loader)."""
    return matching.load(ids)


def run(label, function, batches):
    started = time.perf_counter()
    for batch in batches:
        with transaction.atomic():
            function(batch)
    elapsed = time.perf_counter() - started
    return elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--permits", type=int, default=10000)
    parser.add_argument("--declarations", type=int, default=100000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()

    setup_test_environment()
    # A database of the benchmark's own, so that a test run at the same time is not touched.
    connection.settings_dict.setdefault("TEST", {})["NAME"] = "bench_eportal"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        started = time.perf_counter()
        ids = generate(args.permits, args.declarations, random.Random(2026))
        print(f"{connection.vendor}: {args.permits} permits, {len(ids)} declarations "
              f"generated in {time.perf_counter() - started:.1f} s")
        batches = [ids[i:i + args.batch] for i in range(0, len(ids), args.batch)]
        with CaptureQueriesContext(connection) as first:
            matching.match_declarations(batches[0])
        with CaptureQueriesContext(connection) as last:
            matching.match_declarations(batches[-1])
        baseline = run("baseline", read_only, batches)
        matched = run("matching", matching.match_declarations, batches)
        n = len(ids)
        print(f"baseline (read only): {n / baseline:9.0f} declarations/s")
        print(f"matching:             {n / matched:9.0f} declarations/s "
              f"(ratio to baseline {matched / baseline:.2f})")
        print(f"queries per batch of {args.batch}: {len(first)} (first), {len(last)} (last)")
        print(f"results: {Declaration.objects.filter(result='match').count()} match, "
              f"{Declaration.objects.filter(result='mismatch').count()} mismatch")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
