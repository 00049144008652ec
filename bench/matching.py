"""單證比對 throughput: declarations matched per second against a read-only baseline.

    DATABASE_URL=postgres://... .venv/bin/python bench/matching.py [--permits 10000]
        [--declarations 100000] [--batch 1000] [--small 10] [--profile]

Generates (in a throwaway database, "bench_reminders_matching") the data matching meets in
service:
  permits   2 to 4 items; four in ten with 2 or 3 versions (更正 changing a quantity or
            adding an item, 餘額重簽 lowering every item), one in ten 不分批, one in five
            small (100 a line, so that the ledger uses lines up);
  declarations  1 to 5 items each (2.1 on average), dated over the permits' lives (so the
            version in force differs, and a few fall before the permit was valid), one in
            ten amended (revision 1 or 2, the earlier revisions' results already in the
            feed), 3% cancelled, 1% arrived before their permit was issued; a few with a
            wrong declarant, currency or permit item;
  ledger    six declarations in ten released within what every version allows, four items
            in ten in part, three in ten in two messages; a cancelled one's releases
            reversed (so the ledger sums, own releases and 不分批 rule are all exercised);
then, in the same run:
  baseline  reads the same rows in the same batches: declarations with their items, the
            permits with versions and items, the ledger sums (what matching must read);
  matching  reconciliation.matching.match_declarations over the same batches (reads, checks,
            writes the results and the feed sequence).
The two take turns batch by batch, so that both meet the same load on a shared machine.
Prints declarations per second for both, the ratio, the CPU each declaration cost the
client and (PostgreSQL on this machine) the database server, and the queries of a small
batch (--small) and of a full one, at the start, middle and end of the data: they must
not depend on the batch's size or content. --profile prints where 20 batches spend their
time (cProfile).
"""

import argparse
import datetime
import os
import random
import sys
import time
from collections import defaultdict
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
    Kind,
    Permit,
    PermitVersion,
    Status,
)
from portal.accounts.models import IdentifierType, User  # noqa: E402
from reconciliation import matching  # noqa: E402
from reconciliation.models import (  # noqa: E402
    Declaration,
    DeclarationItem,
    FeedCounter,
    LedgerEntry,
    MatchResult,
    Result,
)

TARIFFS = ["85423100003", "85177900002", "84715000004", "85423900001"]
# Permits: how many versions (1 issued, then 更正 / 餘額重簽), and when each was issued
# (days ago); the later versions keep the first one's validity.
VERSION_DAYS = {1: [150], 2: [150, 60], 3: [150, 90, 30]}
# Declarations: how many items (weights for 1 to 5).
ITEM_WEIGHTS = [40, 30, 15, 10, 5]


def _versions(permit_count, rng):
    """For each permit: [(kind, issued days ago, {line: quantity})], oldest first. Lines 2
    to 4; one permit in five is small (100 a line) so that the ledger uses some lines up;
    a later version changes one line's quantity (更正) or adds a line, or re-issues what is
    left (餘額重簽: every line lowered)."""
    plans = []
    for _n in range(permit_count):
        count = rng.choices([1, 2, 3], weights=[60, 30, 10])[0]
        size = 100 if rng.random() < 0.2 else 1000
        lines = {line: Decimal(size) for line in range(1, rng.randint(2, 4) + 1)}
        plan = [(Kind.NEW, VERSION_DAYS[count][0], dict(lines))]
        for days in VERSION_DAYS[count][1:]:
            lines = dict(lines)
            if rng.random() < 0.5:
                kind = Kind.CORRECTION
                if len(lines) < 4 and rng.random() < 0.5:
                    lines[len(lines) + 1] = Decimal(size)
                else:
                    line = rng.choice(list(lines))
                    lines[line] = Decimal(int(lines[line] * Decimal("1.5")))
            else:
                kind = Kind.BALANCE_REISSUE
                lines = {line: Decimal(int(q * Decimal("0.8"))) for line, q in lines.items()}
            plan.append((kind, days, lines))
        plans.append(plan)
    return plans


def generate(permit_count, declaration_count, rng):
    """The data the matching meets in service (see the module's docstring); returns the
    declaration ids, in the order customs sent them."""
    today = timezone.localdate()
    now = timezone.now()
    password = make_password(None)
    users = User.objects.bulk_create([
        User(identifier=f"B{n:07d}", identifier_type=IdentifierType.PASSPORT, name=f"Co {n}",
             address="Taipei", contact_person="Wang", phone="02", email=f"c{n}@example.com",
             password=password) for n in range(1000)])
    plans = _versions(permit_count, rng)
    holders = [users[n % len(users)] for n in range(permit_count)]
    apps = Application.objects.bulk_create([
        # Filed as new; a change's kind is set with the version it changes, below.
        Application(document_type=DocumentType.SHTC_EXPORT, kind=Kind.NEW,
                    status=Status.APPROVED,
                    applicant=holders[n], applicant_identifier=holders[n].identifier,
                    applicant_name="Co", applicant_address="Taipei",
                    company_email="c@example.com",
                    submitted_at=now - datetime.timedelta(days=days + 3))
        for n, plan in enumerate(plans) for _kind, days, _lines in plan], batch_size=5000)
    for index, app in enumerate(apps):
        app.receipt_no = f"RSE115{index:08d}"
    Application.objects.bulk_update(apps, ["receipt_no"], batch_size=5000)
    by_permit, index = [], 0
    for plan in plans:
        by_permit.append(apps[index:index + len(plan)])
        index += len(plan)
    Item.objects.bulk_create([
        Item(application=app, line_no=line, tariff_code=TARIFFS[line - 1], description="x",
             quantity=quantity, unit="PCE", unit_price=Decimal(10), currency="USD",
             amount=quantity * 10, origin_country="TW")
        for plan, papps in zip(plans, by_permit, strict=True)
        for (_kind, _days, lines), app in zip(plan, papps, strict=True)
        for line, quantity in lines.items()], batch_size=5000)
    permits = Permit.objects.bulk_create([
        Permit(permit_no=f"PSE115{n:08d}", document_type=DocumentType.SHTC_EXPORT,
               holder=holders[n], verification_code="ABCDEFGH")
        for n in range(permit_count)], batch_size=5000)
    partial = [rng.random() < 0.9 for _n in range(permit_count)]
    versions = PermitVersion.objects.bulk_create([
        PermitVersion(permit=permit, version=v + 1, application=app,
                      issued_at=now - datetime.timedelta(days=days),
                      valid_from=today - datetime.timedelta(days=plan[0][1]),
                      valid_until=today + datetime.timedelta(days=30),
                      partial_shipment=partial[n])
        for n, (permit, plan, papps) in enumerate(zip(permits, plans, by_permit, strict=True))
        for v, ((_kind, days, _lines), app) in enumerate(zip(plan, papps, strict=True))],
        batch_size=5000)
    # A change names the version it changes (PERMIT-2).
    kinds = [kind for plan in plans for kind, _days, _lines in plan]
    changed = []
    for (earlier, later), kind in zip(zip(versions, versions[1:], strict=False), kinds[1:],
                                      strict=True):
        if later.permit_id == earlier.permit_id:
            later.application.changes_id = earlier.pk
            later.application.kind = kind
            changed.append(later.application)
    Application.objects.bulk_update(changed, ["kind", "changes"], batch_size=5000)

    # Declarations: dated over the permits' lives, against the version in force then.
    declarations, lines, wanted = [], [], []
    for n in range(declaration_count):
        k = rng.randrange(permit_count)
        plan = plans[k]
        age = rng.randrange(0, plan[0][1] + 3)  # a few dated before the permit was valid
        in_force = next((lines for _kind, days, lines in reversed(plan) if days >= age),
                        plan[0][2])
        cancelled = rng.random() < 0.03
        revision = rng.choices([0, 1, 2], weights=[90, 8, 2])[0]
        declarations.append(Declaration(
            number=f"BD115{n:09d}", direction="export",
            declared_on=today - datetime.timedelta(days=age),
            declarant_identifier=("X9999999" if rng.random() < 0.05
                                  else holders[k].identifier),
            permit_no=permits[k].permit_no,
            # One in a hundred arrived before its permit was issued: matching resolves it.
            permit=None if rng.random() < 0.01 else permits[k],
            revision=revision, cancelled_at=now if cancelled else None))
        count = rng.choices(range(1, 6), weights=ITEM_WEIGHTS)[0]
        items = []
        for item_no in range(1, count + 1):
            line = rng.choice(list(in_force)) if rng.random() < 0.99 else 9
            items.append(DeclarationItem(
                item_no=item_no, tariff_code=TARIFFS[(line - 1) % len(TARIFFS)],
                quantity=Decimal(rng.randrange(1, 40)), unit="PCE",
                value=Decimal(100), currency="EUR" if rng.random() < 0.02 else "USD",
                permit_item_no=line))
        lines.append(items)
        wanted.append((k, cancelled))
    declarations = Declaration.objects.bulk_create(declarations, batch_size=5000)
    for declaration, items in zip(declarations, lines, strict=True):
        for item in items:
            item.declaration = declaration
    DeclarationItem.objects.bulk_create([i for items in lines for i in items],
                                        batch_size=5000)
    _ledger(plans, permits, partial, declarations, lines, wanted, rng)
    _earlier_results(declarations)
    return [d.pk for d in declarations]


def _ledger(plans, permits, partial, declarations, lines, wanted, rng):
    """Releases, as customs sends them, within what every version of the permit allows
    (the ledger never overdraws): six declarations in ten released, some in part, some in
    two messages; a cancelled one's releases reversed."""
    used = defaultdict(Decimal)
    released = set()
    entries, reversals = [], []
    for declaration, items, (k, cancelled) in zip(declarations, lines, wanted, strict=True):
        if rng.random() >= 0.6:
            continue
        if not partial[k] and k in released:
            continue  # 不分批: used up by its first shipment
        limit = {line: min(v[2][line] for v in plans[k] if line in v[2])
                 for line in plans[k][-1][2]}
        mine = []
        for item in items:
            quantity = item.quantity
            if rng.random() < 0.4:
                quantity = max(Decimal(1), (quantity * Decimal(rng.randint(3, 8)) / 10)
                               .quantize(Decimal(1)))
            line = item.permit_item_no
            if used[k, line] + quantity > limit.get(line, Decimal(0)):
                continue
            used[k, line] += quantity
            parts = [quantity]
            if quantity > 1 and rng.random() < 0.3:  # two release messages
                half = (quantity / 2).quantize(Decimal(1))
                parts = [half, quantity - half]
            mine += [LedgerEntry(permit=permits[k], line_no=line, quantity=part,
                                 kind=LedgerEntry.Kind.RELEASE, declaration_item=item,
                                 reference=declaration.number) for part in parts if part]
        if mine:
            released.add(k)
        entries += mine
        if cancelled:
            reversals += mine
    LedgerEntry.objects.bulk_create(entries, batch_size=5000)
    LedgerEntry.objects.bulk_create([
        LedgerEntry(permit_id=entry.permit_id, line_no=entry.line_no, quantity=-entry.quantity,
                    kind=LedgerEntry.Kind.REVERSAL, reverses=entry,
                    declaration_item=entry.declaration_item,
                    reference=f"{entry.reference} cancelled") for entry in reversals],
        batch_size=5000)


def _earlier_results(declarations):
    """The results of the revisions an amendment replaced, already in customs' feed."""
    results = [MatchResult(declaration=declaration, revision=revision, result=Result.MATCH)
               for declaration in declarations for revision in range(declaration.revision)]
    for seq, result in enumerate(results, start=1):
        result.seq = seq
    MatchResult.objects.bulk_create(results, batch_size=5000)
    FeedCounter.objects.create(pk=1, last=len(results))


def read_only(ids):
    """What matching must read, nothing more: the baseline (the same loader)."""
    return matching.load(ids)


def run(function, batches):
    started = time.perf_counter()
    for batch in batches:
        with transaction.atomic():
            function(batch)
    return time.perf_counter() - started


def server_cpu():
    """CPU seconds the database server process of this connection has used, or None when
    it is not on this machine (PostgreSQL: one process per connection, /proc/<pid>/stat).
    With the client's CPU it says what a batch costs whatever else runs on a shared
    machine."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def timed(batches):
    """Wall, client CPU and server CPU seconds of the baseline and of matching, batch by
    batch in turns, so that both see the same load on a shared machine."""
    totals = {read_only: [0.0, 0.0, 0.0], matching.match_declarations: [0.0, 0.0, 0.0]}
    for batch in batches:
        for function, total in totals.items():
            server = server_cpu()
            wall, cpu = time.perf_counter(), time.process_time()
            with transaction.atomic():
                function(batch)
            total[0] += time.perf_counter() - wall
            total[1] += time.process_time() - cpu
            if server is not None:
                total[2] += server_cpu() - server
    return tuple(tuple(total) for total in totals.values())


def cpu_line(n, wall, client, server):
    text = f"client CPU {client / n * 1e6:.0f} µs"
    if server:
        text += (f", server CPU {server / n * 1e6:.0f} µs a declaration; on an idle machine "
                 f"about {n / (client + server):.0f}/s")
    return text


def queries(ids):
    """The queries matching `ids` takes, rolled back (the timed run finds them as they
    were)."""
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        matching.match_declarations(ids)
        transaction.set_rollback(True)
    return sum(1 for query in captured
               if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT",
                                                "ROLLBACK TO SAVEPOINT")))


def describe():
    entries = LedgerEntry.objects
    return (f"{Permit.objects.count()} permits with {PermitVersion.objects.count()} versions "
            f"and {Item.objects.count()} items; "
            f"{Declaration.objects.count()} declarations with "
            f"{DeclarationItem.objects.count()} items "
            f"({Declaration.objects.filter(revision__gt=0).count()} amended, "
            f"{Declaration.objects.filter(cancelled_at__isnull=False).count()} cancelled, "
            f"{Declaration.objects.filter(permit__isnull=True).count()} before their "
            f"permit); ledger {entries.filter(kind='release').count()} releases, "
            f"{entries.filter(kind='reversal').count()} reversals; "
            f"{MatchResult.objects.count()} earlier results in the feed")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--permits", type=int, default=10000)
    parser.add_argument("--declarations", type=int, default=100000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--small", type=int, default=10, help="the small batch's size")
    parser.add_argument("--profile", action="store_true",
                        help="print where matching spends its time (cProfile, 20 batches)")
    args = parser.parse_args()

    setup_test_environment()
    # A database of the benchmark's own, so that a test run at the same time is not touched.
    connection.settings_dict.setdefault("TEST", {})["NAME"] = "bench_reminders_matching"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        started = time.perf_counter()
        ids = generate(args.permits, args.declarations, random.Random(2026))
        print(f"{connection.vendor}: generated in {time.perf_counter() - started:.1f} s: "
              f"{describe()}")
        batches = [ids[i:i + args.batch] for i in range(0, len(ids), args.batch)]
        middle = len(ids) // 2
        small = [queries(ids[i:i + args.small]) for i in (0, middle, len(ids) - args.small)]
        large = [queries(batch) for batch in (batches[0], batches[len(batches) // 2],
                                              batches[-1])]
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.runcall(run, matching.match_declarations, batches[:20])
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        base, matched = timed(batches)
        n = len(ids)
        print(f"baseline (read only): {n / base[0]:9.0f} declarations/s "
              f"({cpu_line(n, *base)})")
        print(f"matching:             {n / matched[0]:9.0f} declarations/s "
              f"(ratio to baseline {matched[0] / base[0]:.2f}; {cpu_line(n, *matched)})")
        print(f"queries per batch (first, middle, last): {small} for {args.small} "
              f"declarations, {large} for {args.batch}")
        print(f"results: {Declaration.objects.filter(result='match').count()} match, "
              f"{Declaration.objects.filter(result='mismatch').count()} mismatch, "
              f"{Declaration.objects.filter(result='pending').count()} not matched "
              f"(cancelled)")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
