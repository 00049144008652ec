"""The portal's pages at 100,000 cases, each against a bare page for the same user.

    DATABASE_URL=postgres://eportal:eportal@127.0.0.1:5432/eportal \\
        .venv/bin/python bench/pages.py [--rounds 100] [--only 我的案件]
        [--db-small bench_pages_small] [--db-large bench_pages_large]

The databases are bench/data.py's (generate them first; they are kept). In process, through
django.test.Client, with DEBUG off (bench/settings.py), the user logged in:
  baseline  /bench/bare/, base.html for the same user and nothing else (bench/urls.py);
  timing    on the large database, after a few warm-up requests, `--rounds` requests of the
            page alternating with as many of the baseline (page first, then baseline first),
            so that whatever else the machine does falls on both; p50 and p95 of each, and
            the page's over the baseline's: the goal is p95 within 2.0x;
  queries   of one request of each page on the small and on the large database (the small
            one counted in a process of its own): they must not grow with the data; the
            script exits non-zero if any did.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"

WARM_UP = 5
BARE = "/bench/bare/"


def pages(targets):
    """(label, user, path, what the page must show: a regular expression) of every page in
    the issue's table and a few more around them. `targets` is bench.data.targets() of the
    database in use."""
    from django.urls import reverse
    from django.utils.http import urlencode

    from bench import data

    cases = reverse("permits:dashboard")
    year = "?" + urlencode({"document_type": "SE", "date_from": targets["year_from"],
                            "date_to": targets["year_to"]})
    query = reverse("permits:query") + year
    admin_list = reverse("admin:permits_application_changelist")
    se = reverse("permits:application_detail", args=[targets["se"]])
    case_link = r'href="/cases/\d+/"'
    change_link = r'href="/admin/permits/application/\d+/change/'
    return [
        ("我的案件, applicant (5,006 cases)", data.APPLICANT, cases, case_link),
        ("我的案件, applicant, page 150", data.APPLICANT, cases + "?page=150", case_link),
        ("我的案件, agent (20,001 cases)", data.AGENT, cases, case_link),
        ("我的案件, agent, page 500", data.AGENT, cases + "?page=500", case_link),
        ("申辦狀況查詢作業, one year, applicant", data.APPLICANT, query, case_link),
        ("申辦狀況查詢作業, one year, agent", data.AGENT, query, case_link),
        ("home (我的案件 box)", data.APPLICANT, reverse("home"), case_link),
        ("case detail (SHTC, v2)", data.APPLICANT, se, "PSE"),
        ("case detail (mask)", data.APPLICANT,
         reverse("permits:application_detail", args=[targets["mk"]]), "PMK"),
        ("單證比對查詢", data.APPLICANT,
         reverse("reconciliation:query") + "?" + urlencode({"number": targets["declaration"]}),
         data.MISMATCH_REASON),
        ("flow stock page", data.APPLICANT,
         reverse("masks:flow_report", args=[targets["stock"]]), data.FLOW_DOCUMENT),
        ("flow start (sources)", data.APPLICANT, reverse("masks:flow_start"), r"AM\d{12}"),
        # 輸入許可申請's basic data (permits/entry/basic.html, which 9-1-1 shares).
        ("mask basic page (輸入許可申請)", data.APPLICANT, reverse("masks:application_basic"),
         all_of('name="route"', 'name="applicant_name"', 'name="balance_permit_no"')),
        ("admin case list", data.REVIEWER, admin_list, change_link),
        ("admin list, status + identifier", data.REVIEWER,
         admin_list + "?" + urlencode({"status__exact": "initial_review", "q": data.APPLICANT}),
         change_link),
        ("admin case page", data.REVIEWER,
         reverse("admin:permits_application_change", args=[targets["se"]]), "PSE"),
        # The reviewer's queues (issue 14: permits/admin_queues.py), each with the three
        # counts beside the filter; 我的案件 and 逾期 need cases assigned and due dates
        # (bench/README.md "Stop 22 (queues)").
        ("admin queue 我的案件", data.REVIEWER, admin_list + "?queue=mine",
         all_of(change_link, 'href="[?]queue=overdue"')),
        ("admin queue 逾期", data.REVIEWER, admin_list + "?queue=overdue",
         all_of(change_link, 'href="[?]queue=unassigned"')),
        # 統計 (issue 14): its figures are cached per (window, day) for 5 minutes
        # (permits.admin_stats), so this is the page as served between two computations;
        # the computation itself is timed in bench/README.md's "Stop 22 (statistics)".
        ("admin statistics, 52 weeks (cached)", data.REVIEWER,
         reverse("admin:permits_application_statistics") + "?weeks=52",
         all_of('role="img"', 'id="weekly-table"')),
        *shtc_pages(targets),
    ]


def all_of(*patterns):
    """A regular expression that matches when every one of `patterns` is found."""
    return "(?s)" + "".join(f"(?=.*{pattern})" for pattern in patterns)


def shtc_pages(targets):
    """The SHTC pages of issue 11 (labels starting with "SHTC": `--only SHTC`): 9-1-1's
    basic page, 9-1-2's query, upload and apply pages, the case page of a case in 登錄中, the
    reviewer's case page of a case in 初審中 (its SHTC panel, with the validity computed for
    the day), the assurance PDF (checked with pdftotext) and the 轉口港代碼 look-up."""
    from django.urls import reverse
    from django.utils.http import urlencode

    from bench import data

    registered, number = targets["se_registered"], targets["se_registered_no"]
    filing = reverse("shtc:filing_query") + "?" + urlencode(
        {"document_type": "SE", "date_from": targets["year_from"],
         "date_to": targets["year_to"]})
    filing_link = r'href="/shtc/filing/\d+/"'
    return [
        ("SHTC 9-1-1 basic (帶入參考資料)", data.APPLICANT, reverse("shtc:application_basic"),
         all_of("帶入參考資料", 'name="registration_no"', 'name="destination_country"',
                'name="transit_port"')),
        ("SHTC 9-1-2 query, one year, applicant", data.APPLICANT, filing, filing_link),
        ("SHTC 9-1-2 query, one year, agent", data.AGENT, filing, filing_link),
        ("SHTC 9-1-2 query by 登錄編號", data.APPLICANT,
         reverse("shtc:filing_query") + "?" + urlencode({"document_type": "SE",
                                                        "number": number}),
         f'href="/shtc/filing/{registered}/"'),
        ("SHTC 9-1-2 upload page (登錄中)", data.APPLICANT,
         reverse("shtc:filing_case", args=[registered]),
         all_of(number, 'data-testid="upload"', 'data-testid="items"',
                'data-kind="catalogue" data-uploaded="true"',
                'data-kind="transaction" data-uploaded="false"')),
        ("SHTC 9-1-2 apply page", data.APPLICANT,
         reverse("shtc:filing_apply", args=[registered]),
         all_of(number, 'data-testid="end-use-form"', 'data-testid="missing-documents"')),
        ("SHTC case detail (登錄中)", data.APPLICANT,
         reverse("permits:application_detail", args=[registered]),
         all_of(number, 'procedure-row-transit-port', 'link-assurance-buyer', "link-filing")),
        ("SHTC admin case page (初審中)", data.REVIEWER,
         reverse("admin:permits_application_change", args=[targets["se_review"]]),
         all_of('data-testid="shtc-validity" data-state="computed"', 'data-testid="shtc-regimes"',
                'data-testid="shtc-documents"')),
        ("SHTC assurance PDF (buyer)", data.APPLICANT,
         reverse("shtc:case_document", args=[registered, "assurance-buyer"]),
         all_of("WRITTEN ASSURANCE", number)),
        ("SHTC port look-up (US)", data.APPLICANT,
         reverse("shtc:port_lookup") + "?" + urlencode({"country": "US"}),
         all_of('data-testid="port-codes"', "US[A-Z0-9]{3}")),
    ]


def clients(identifiers):
    """A logged-in client per user, as a browser behind the TLS proxy (X-Forwarded-Proto)."""
    from django.test import Client

    from portal.accounts.models import User

    result = {}
    for identifier in identifiers:
        client = Client(headers={"x-forwarded-proto": "https"})
        client.force_login(User.objects.get(identifier=identifier))
        result[identifier] = client
    return result


def text_of(response):
    """The page's text; a PDF's as pdftotext reads it."""
    if response.get("Content-Type", "").startswith("application/pdf"):
        return subprocess.run(["pdftotext", "-layout", "-", "-"],  # noqa: S607
                              input=response.content, stdout=subprocess.PIPE,
                              check=True).stdout.decode()
    return response.content.decode()


def get(client, path, must_show=None):
    response = client.get(path)
    if response.status_code != 200 or (must_show and not re.search(
            must_show, text_of(response))):
        sys.exit(f"{path}: {response.status_code}, {must_show!r} "
                 f"{'missing' if response.status_code == 200 else ''}")
    return response


def count_queries(client, path, must_show):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):
        get(client, path, must_show)
    with CaptureQueriesContext(connection) as captured:
        get(client, path, must_show)
    return len(captured)


def queries_of(selected):
    """{label: queries} of one request of each page (and the baseline) on this database."""
    from bench import data

    table = [page for page in pages(data.targets()) if page[0] in selected]
    users = clients({data.APPLICANT} | {user for _label, user, _path, _show in table})
    counts = {label: count_queries(users[user], path, show)
              for label, user, path, show in table}
    counts["baseline"] = count_queries(users[data.APPLICANT], BARE, None)
    return counts


def percentile(times, share):
    return statistics.quantiles(times, n=100, method="inclusive")[share - 1]


def timed(client, path):
    started = time.perf_counter()
    response = client.get(path)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        sys.exit(f"{path}: {response.status_code}")
    return elapsed


def measure(client, path, rounds):
    """([page seconds], [baseline seconds]), alternating the two, the order swapped every
    round."""
    for _ in range(WARM_UP):
        client.get(path)
        client.get(BARE)
    page, bare = [], []
    for n in range(rounds):
        if n % 2:
            bare.append(timed(client, BARE))
            page.append(timed(client, path))
        else:
            page.append(timed(client, path))
            bare.append(timed(client, BARE))
    return page, bare


def width(text):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def left(text, size):
    return text + " " * max(size - width(text), 0)


def small_counts(name, selected):
    """queries_of() on database `name`, in a process of its own (nothing cached from the
    other database)."""
    from bench.data import database_url

    env = {**os.environ, "DATABASE_URL": database_url(name)}
    out = subprocess.run(  # noqa: S603 (this script, with the labels of its own table)
        [sys.executable, __file__, "--queries-json", *selected], env=env, check=True,
        stdout=subprocess.PIPE, text=True).stdout  # its errors go to our stderr
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=100,
                        help="requests of each page (and as many of the baseline)")
    parser.add_argument("--only", default="", help="only the pages whose label has this")
    parser.add_argument("--db-small", default="bench_pages_small")
    parser.add_argument("--db-large", default="bench_pages_large")
    parser.add_argument("--queries-json", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.queries_json is not None:  # the child process of small_counts()
        import django

        django.setup()
        print(json.dumps(queries_of(set(args.queries_json))))
        return

    from bench.data import database_url

    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to the PostgreSQL server (any database on it).")
    os.environ["DATABASE_URL"] = database_url(args.db_large)

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from bench import data
    from permits.models import Application

    table = [page for page in pages(data.targets())
             if args.only.lower() in page[0].lower()]
    if not table:
        sys.exit(f"no page matches {args.only!r}")
    selected = [label for label, *_rest in table]
    small = small_counts(args.db_small, selected)
    large = queries_of(set(selected))
    users = clients({data.APPLICANT} | {user for _label, user, _path, _show in table})
    print(f"{connection.vendor} {connection.pg_version // 10000}, {args.db_large}: "
          f"{Application.objects.count():,d} cases; DEBUG={settings.DEBUG}; "
          f"{args.rounds} requests of each page alternating with as many of the baseline "
          f"(/bench/bare/, {large['baseline']} queries at both scales: "
          f"{small['baseline']}/{large['baseline']})")
    head = (f"{left('page', 38)} {'p50 ms':>7} {'p95 ms':>7} {'bare p95':>8} "
            f"{'×p50':>6} {'×p95':>6} {'q small':>7} {'q large':>7}")
    print(head)
    print("-" * width(head))
    grew, bare_all = [], []
    for label, user, path, _show in table:
        page, bare = measure(users[user], path, args.rounds)
        bare_all += bare
        p50, p95 = percentile(page, 50), percentile(page, 95)
        b50, b95 = percentile(bare, 50), percentile(bare, 95)
        # Only growth counts: the deep pages (150, 500) are past the end of the small
        # database's lists, where 我的案件 finds its last page (two more queries).
        flag = "  GREW" if large[label] > small[label] else ""
        if flag:
            grew.append(label)
        print(f"{left(label, 38)} {p50 * 1000:7.1f} {p95 * 1000:7.1f} {b95 * 1000:8.1f} "
              f"{p50 / b50:6.1f} {p95 / b95:6.1f} {small[label]:7d} {large[label]:7d}{flag}",
              flush=True)
    print(f"{left('baseline (all rounds)', 38)} {percentile(bare_all, 50) * 1000:7.1f} "
          f"{percentile(bare_all, 95) * 1000:7.1f}")
    if grew:
        sys.exit(f"query count grew with the data on: {', '.join(grew)}")


if __name__ == "__main__":
    main()
