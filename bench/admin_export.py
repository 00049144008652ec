"""匯出 Excel / 匯出 ODF of the reviewers' case list (issue 14, point 6): 10,000 cases exported
through the admin, against writing the same rows with the bare libraries.

    DATABASE_URL=postgres://eportal:eportal@127.0.0.1:5432/eportal \\
        .venv/bin/python bench/admin_export.py [--cases 10000] [--rounds 3] [--db eportal_exports]

Creates database --db if needed, migrates it and, if it holds fewer cases than --cases, adds
them in bulk (bulk_create, a few seconds): SHTC export cases of 200 applicants, a third filed
by an agent, over the last 120 days, in a mix of statuses (初審中, 協查中, 補件, 准件結案 with a
permit, 暫存), each with its status history. Then, the median of --rounds rounds:

  export   GET of the admin's export URL as a reviewer (the whole request: the list's
           ChangeList, the count, the cases and their history in chunks, the working-day
           clocks, the ROC dates, the file), .xlsx and .ods;
  rows     permits.admin_export.rows() alone (the database and the clocks, no file);
  bare     the same rows, already made, written by openpyxl's write-only mode (values
           appended) and by odfpy (a cell element a value, odfpy's own save): the bare
           writers of bench/items_io.py.

Each figure is wall time and CPU time of this process (the steadier on a shared machine;
PostgreSQL's own time is in the wall time only).

Goal: an export of 10,000 rows in at most a few seconds. bench/README.md, "Stop 22 (case
list export)", has the figures.
"""

import argparse
import datetime
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"  # DEBUG off, as production


def _arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", default="eportal_exports")
    return parser.parse_args()


def generate(count):
    """Add SHTC export cases (and their history and permits) up to `count`."""
    from django.db import transaction
    from django.utils import timezone

    from permits.models import Application, Permit, PermitVersion, Status, StatusChange
    from portal.accounts.models import User

    have = Application.objects.count()
    if have >= count:
        return
    rng = random.Random(2026)
    agent = User.objects.filter(identifier="04595252").first() or User.objects.create_user(
        "04595252", "PASSWORD", name="報關行", role="agent", address="臺北市",
        email="agent@example.com")
    applicants = list(User.objects.filter(role="applicant").order_by("pk")[:200])
    for n in range(len(applicants), 200):
        applicants.append(User.objects.create_user(
            f"B{n:09d}", "PASSWORD", name=f"測試科技股份有限公司{n}", role="applicant",
            address="新竹市", email=f"b{n}@example.com"))
    now = timezone.now()
    plan = [(Status.INITIAL_REVIEW, 40), (Status.CONSULTATION, 10), (Status.SUPPLEMENT, 10),
            (Status.APPROVED, 30), (Status.DRAFT, 10)]
    statuses = [status for status, weight in plan for _ in range(weight)]
    cases = []
    for n in range(have, count):
        applicant = rng.choice(applicants)
        status = rng.choice(statuses)
        submitted = None if status == Status.DRAFT else \
            now - datetime.timedelta(days=rng.randint(0, 120), minutes=rng.randint(0, 1440))
        cases.append(Application(
            document_type="SE", kind="new", status=status,
            receipt_no=None if submitted is None else f"RSE115{n:08d}",
            applicant=applicant, agent=agent if n % 3 == 0 else None,
            applicant_identifier=applicant.identifier, applicant_name=applicant.name,
            applicant_address="新竹市東區光復路二段101號",
            agent_identifier=agent.identifier if n % 3 == 0 else "",
            agent_name=agent.name if n % 3 == 0 else "",
            destination_country=rng.choice(["US", "JP", "DE", "CN", "AE", "KR", "SG"]),
            submitted_at=submitted))
    with transaction.atomic():
        made = Application.objects.bulk_create(cases, batch_size=2000)
        changes, permits = [], []
        for case in made:
            if case.submitted_at is None:
                continue
            moves = [Status.INITIAL_REVIEW]
            if case.status != Status.INITIAL_REVIEW:
                moves.append(case.status)
            for step, new in enumerate(moves):
                changes.append(StatusChange(
                    application=case, old=Status.DRAFT if step == 0 else moves[step - 1],
                    new=new, created_at=case.submitted_at + datetime.timedelta(days=3 * step)))
            if case.status == Status.APPROVED:
                permits.append((case, Permit(permit_no=f"PSE115{case.pk:08d}",
                                             document_type="SE", holder=case.applicant,
                                             verification_code="ABCDEFGH")))
        StatusChange.objects.bulk_create(changes, batch_size=5000)
        Permit.objects.bulk_create([permit for _case, permit in permits], batch_size=2000)
        PermitVersion.objects.bulk_create([
            PermitVersion(permit=permit, version=1, application=case,
                          valid_from=case.submitted_at.date(),
                          valid_until=case.submitted_at.date() + datetime.timedelta(days=180))
            for case, permit in permits], batch_size=2000)


def main():
    args = _arguments()
    sys.path.insert(0, str(ROOT / "bench"))
    from data import database_url, prepare

    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to the PostgreSQL server (any database on it).")
    os.environ["DATABASE_URL"] = database_url(args.db)

    import django

    django.setup()
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import translation
    from items_io import odfpy_write, openpyxl_write, timed

    from permits import admin_export, workdays
    from permits.models import Application
    from portal.accounts.models import REVIEWERS_GROUP, User

    prepare(args.db)
    started = time.perf_counter()
    generate(args.cases)
    print(f"{args.db}: {Application.objects.count():,d} cases "
          f"(made in {time.perf_counter() - started:.1f} s)", flush=True)
    reviewer = User.objects.filter(identifier="A123456789").first() or \
        User.objects.create_user("A123456789", "PASSWORD", name="審核員", is_staff=True,
                                 address="臺北市", email="r@example.com")
    reviewer.groups.add(Group.objects.get(name=REVIEWERS_GROUP))
    client = Client(headers={"x-forwarded-proto": "https"})  # behind the TLS proxy
    client.force_login(reviewer)
    client.cookies["django_language"] = "zh-hant"
    translation.activate("zh-hant")
    queryset = Application.objects.order_by("-submitted_at", "-pk")
    columns = admin_export.columns()
    rows = list(admin_export.rows(queryset, rules=workdays.load_rules()))
    sizes, queries = {}, {}

    def export(fmt):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse(f"admin:permits_application_export_{fmt}"))
        assert response.status_code == 200, response.status_code
        sizes[f"export {fmt}"], queries[fmt] = len(response.content), len(captured)

    contestants = {
        "export xlsx (request)": (export, "xlsx"),
        "export ods (request)": (export, "ods"),
        "rows only (db + clocks)": (lambda: list(admin_export.rows(
            queryset, rules=workdays.load_rules())),),
        "bare xlsx (openpyxl)": (openpyxl_write, rows, columns),
        "bare ods (odfpy)": (odfpy_write, rows, columns),
    }
    results = {name: [] for name in contestants}
    for _round in range(args.rounds):
        for name, (function, *call) in contestants.items():
            results[name].append(timed(function, *call))
    print(f"{len(rows):,d} rows x {len(columns)} columns, median of {args.rounds} rounds "
          "(wall / CPU seconds)")
    for name, times in results.items():
        wall = statistics.median(wall for wall, _cpu in times)
        cpu = statistics.median(cpu for _wall, cpu in times)
        size = sizes.get(name.split(" (")[0])
        print(f"  {name:26s} {wall:6.2f} / {cpu:5.2f}" + (f", {size / 1e6:.1f} MB" if size
                                                          else ""))
    print(f"  queries a request: xlsx {queries['xlsx']}, ods {queries['ods']} (session and "
          "user included)")


if __name__ == "__main__":
    main()
