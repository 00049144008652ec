"""A case of 10,000 goods items in the running portal (issue 13): what reads all its items,
timed once the import has put them there.

    DATABASE_URL=postgres://eportal:eportal@127.0.0.1:5432/eportal_x \\
        .venv/bin/python bench/items_pages.py [--items 10000] [--rounds 3] [--keep]

In the database DATABASE_URL names (migrated; the script adds its users and one 9-1-1
draft, and deletes the draft at the end unless --keep), through django.test.Client with DEBUG
off (bench/settings.py), the user logged in:
  review      the draft's review page (permits.entry.CaseEntry.review_view): its first, a
              middle and its last page of items; time, HTML size, queries;
  申請         the review page's last button (draft_submit: every item checked again), in a
              transaction rolled back afterwards, so that each round files the same draft;
  case page   the applicant's page of the filed case (permits.views), first and last page;
  admin page  the reviewers' case page of the filed case (permits.admin_case): first and
              last page of items;
  PDFs        the end-use assurance of the filed case and the permit of the case issued
              (permits.pdf: WeasyPrint), once each (minutes at 10,000 items).
Each figure is the median of --rounds requests (the PDFs: one).
"""

import argparse
import io
import logging
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from permits import pdf  # noqa: E402
from permits.models import Application, Item, Status  # noqa: E402
from portal.accounts.models import REVIEWERS_GROUP, IdentifierType, Role, User  # noqa: E402
from tests.approvals import approve  # noqa: E402
from tests.shtc import assurance  # noqa: E402

APPLICANT = "22099131"
REVIEWER = "A123456789"
CURRENCIES = ("USD", "EUR", "JPY", "TWD")
ORIGINS = ("TW", "US", "JP", "DE", "KR")


class Rollback(Exception):
    pass


def user(identifier, **fields):
    found = User.objects.filter(identifier=identifier).first()
    if found:
        return found
    defaults = {"name": f"公司 {identifier}", "address": "臺北市中正區重慶南路一段2號",
                "contact_person": "王小明", "phone": "02-2351-0000",
                "email": f"{identifier.lower()}@example.com"}
    return User.objects.create_user(identifier, "correct-horse-battery",
                                    **{**defaults, **fields})


def draft_of(client, count):
    """A 9-1-1 draft entered through its pages with one item, then `count` items in all
    (the rest written at once, as permits.bulk_items.replace_items writes them)."""
    draft = assurance.enter(client)
    first = draft.items.get()
    Item.objects.bulk_create([
        Item(application=draft, line_no=n, tariff_code=first.tariff_code,
             description=f"現場可程式閘陣列 第 {n} 批 <含配件> & 線材", brand=first.brand,
             model=f"XCVU9P-{n:05d}", specification=first.specification,
             control_no=first.control_no, quantity=n % 97 + 1, unit="PCE",
             unit_price=f"{1000 + n}.25", currency=CURRENCIES[n % len(CURRENCIES)],
             amount=(n % 97 + 1) * Decimal(f"{1000 + n}.25"),
             origin_country=ORIGINS[n % len(ORIGINS)])
        for n in range(2, count + 1)], batch_size=2000)
    return draft


def timed(client, method, url, rounds, **kwargs):
    """(median seconds, bytes, queries, response) of `rounds` requests."""
    times = []
    for _round in range(rounds):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = getattr(client, method)(url, **kwargs)
            content = response.content
            times.append(time.perf_counter() - start)
    return statistics.median(times), len(content), len(queries), response


def line(label, seconds, size=None, queries=None, status=None):
    extra = f"{size / 1024:9.0f} KB" if size is not None else " " * 12
    extra += f"{queries:6d} q" if queries is not None else ""
    extra += f"  [{status}]" if status is not None else ""
    print(f"{label:<34} {seconds * 1000:10.0f} ms {extra}", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--no-pdf", action="store_true")
    args = parser.parse_args()
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    logging.getLogger("celery").setLevel(logging.WARNING)

    applicant = user(APPLICANT, name="安心科技股份有限公司")
    reviewer = user(REVIEWER, identifier_type=IdentifierType.NATIONAL_ID, is_staff=True,
                    name="貿易局審核員")
    reviewer.groups.add(Group.objects.get_or_create(name=REVIEWERS_GROUP)[0])
    assert applicant.role == Role.APPLICANT
    # Production's SSL redirect (DEBUG off) sees the proxy's header.
    client = Client(headers={"x-forwarded-proto": "https"})
    client.force_login(applicant)
    staff = Client(headers={"x-forwarded-proto": "https"})
    staff.force_login(reviewer)
    start = time.perf_counter()
    draft = draft_of(client, args.items)
    print(f"{args.items:,} items in a 9-1-1 draft ({draft.pk}), made in "
          f"{time.perf_counter() - start:.1f} s")
    try:
        review = assurance.url("review", draft.pk)
        last = (args.items + 99) // 100
        for label, query in (("review, first page", ""),
                             ("review, middle page", f"?page={last // 2}"),
                             ("review, last page", f"?page={last}")):
            seconds, size, queries, response = timed(client, "get", review + query,
                                                     args.rounds)
            line(label, seconds, size, queries, response.status_code)
        times = []
        for _round in range(args.rounds):
            try:
                with transaction.atomic():
                    start = time.perf_counter()
                    response = client.post(assurance.url("submit", draft.pk))
                    times.append(time.perf_counter() - start)
                    status = response.status_code
                    case = Application.objects.get(pk=draft.pk)
                    assert case.status == Status.REGISTERED, (case.status, response)
                    if _round == 0:
                        pages(client, staff, case, args)
                    raise Rollback
            except Rollback:
                pass
        line("申請 (draft_submit)", statistics.median(times), status=status)
    finally:
        if not args.keep:
            Application.objects.filter(pk=draft.pk).delete()


def pages(client, staff, case, args):
    detail = reverse("permits:application_detail", args=[case.pk])
    admin = reverse("admin:permits_application_change", args=[case.pk])
    last = (args.items + 99) // 100
    for label, url, who in (("case page, first page", detail, client),
                            ("case page, last page", f"{detail}?page={last}", client),
                            ("admin case page, first page", admin, staff),
                            ("admin case page, last page", f"{admin}?page={last}", staff)):
        seconds, size, queries, response = timed(who, "get", url, args.rounds)
        line(label, seconds, size, queries, response.status_code)
    if args.no_pdf:
        return
    start = time.perf_counter()
    data = pdf.render_case_document(case, "assurance_buyer")
    line("assurance PDF", time.perf_counter() - start, len(data))
    case = assurance.file(case, case.applicant)  # 9-1-2: the documents, then filed
    reviewer = User.objects.get(identifier=REVIEWER)
    case = approve(case, reviewer)
    start = time.perf_counter()
    data = pdf.render_permit(case.issued_version)
    line("permit PDF", time.perf_counter() - start, len(data))


if __name__ == "__main__":
    sys.stdout = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", line_buffering=True)
    main()
