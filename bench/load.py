"""A load test of the production shape on this machine (issue 10, point 6).

    .venv/bin/pip install -e ".[dev,bench]"     # locust (the `bench` extra)
    .venv/bin/python bench/load.py              # 50 users for 120 s
        [--users 50] [--spawn-rate 5] [--run-time 120] [--workers 3] [--threads 4]
        [--wait 1,3] [--max-requests 100000] [--db-name bench_load] [--redis-url URL]
        [--keep-alive] [--keep]

What runs, all on the loopback and stopped at the end (also on Ctrl-C, SIGTERM or an error):
- a throwaway PostgreSQL database (`bench_load`, dropped at the end), on the server that
  DATABASE_URL names (default postgres://eportal:eportal@127.0.0.1:5432);
- a private redis-server (the broker and cache; or --redis-url, e.g. a spare database of the
  machine's Redis) and an SMTP server of the bench's own (aiosmtpd) that the mail goes to;
- gunicorn with the production settings (DEBUG=0, a SECRET_KEY made for the run,
  ALLOWED_HOSTS=127.0.0.1, whitenoise serving what collectstatic put in a scratch folder),
  a Celery worker (--concurrency=2, as docker-compose.yml) and Celery beat;
- locust, headless, in its own process (bench/locustfile.py: it monkey-patches the standard
  library with gevent, so this script never imports it), for --run-time seconds and at most
  --max-requests requests.

Gunicorn: 3 workers x 4 threads (gthread) on 2 cores. A worker process runs Python one
thread at a time, so the CPU-bound part of a request (templates, forms, WeasyPrint) uses at
most one core per process: 3 processes keep both cores busy with one to spare while another
waits. Threads overlap what is not CPU (PostgreSQL, Redis, the client's socket); 4 per process
bound the concurrent requests at 12, and so the web's PostgreSQL connections at 12 (Django
keeps one per thread, CONN_MAX_AGE). More processes would only share the same 2 cores with
PostgreSQL, Celery and locust, and cost memory (WeasyPrint and its fonts in each).

The only departure from production: a settings module written to the scratch folder that
imports portal.settings and sets STATIC_ROOT and LOCALE_PATHS there (collectstatic and the
compiled catalogue), so that the run writes nothing into the work tree.

Seeded: --users applicant accounts and half as many agent accounts (one password, made for
the run), each applicant with three SHTC cases (one approved, `shtc_cases`),
a mask permit of its own and one filed by its agent, each imported through a declaration
released by customs (stock for 口罩流向登錄作業), and a customs service account.

Prints per page: requests, failures, p50/p95/p99 (locust's statistics), the requests per
second, the most PostgreSQL connections to the database at once (pg_stat_activity, polled
every 0.2 s, per process kind; and sessions waiting on a lock), the CPU each part used, the
mail delivered, and every failure and server-side error (tracebacks from the gunicorn and
Celery logs). Exits 1 if there was any. With --keep-alive the client reuses its connections to
gunicorn (see bench/locustfile.py's PROXY_HEADERS).
"""

import argparse
import contextlib
import datetime
import json
import os
import re
import resource
import secrets
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEFAULT_POSTGRES = "postgres://eportal:eportal@127.0.0.1:5432/eportal"
SETTINGS_MODULE = "bench_load_settings"
# The seeded mask permits: enough for every declaration customs posts in a run.
PERMIT_QUANTITY = 2_000_000
STOCK_QUANTITY = 1_000_000
SERVER_ERROR_RE = re.compile(r"Internal Server Error|Traceback|\[(ERROR|CRITICAL)\]"
                             r"|WORKER TIMEOUT|deadlock detected")
REQUEST_WARNING_RE = re.compile(r"^(Bad Request|Not Found|Forbidden|Unauthorized|"
                                r"Method Not Allowed|Gone)\b")
CELERY_ERROR_RE = re.compile(r"(ERROR|CRITICAL)/|Traceback")


class Stop(Exception):
    """SIGTERM: end the run as Ctrl-C does."""


def _terminate(_signum, _frame):
    raise Stop()


# --- processes ----------------------------------------------------------------------------


def start(args, *, log, env, name):
    """A process in a session of its own (Ctrl-C in the terminal is this script's to
    handle), writing to `log`."""
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log,  # noqa: S603
                               stderr=subprocess.STDOUT, start_new_session=True)
    process.bench_name = name
    return process


def stop(process, timeout=30):
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_for(predicate, *, timeout, what, processes=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        for process in processes:
            if process.poll() is not None:
                raise SystemExit(f"{process.bench_name} exited ({process.returncode}) before "
                                 f"{what}")
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}")


def answers(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def cpu_seconds(process):
    """CPU seconds used by the processes of `process`'s session (a gunicorn master and its
    workers; a Celery worker and its pool), the children they reaped included."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == process.pid:  # the session: start() made each its own
            total += sum(int(field) for field in fields[11:15])  # utime stime cutime cstime
    return total / tick


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the database ---------------------------------------------------------------------------


def server_url(name):
    """DATABASE_URL (or the default) pointing at database `name` of the same server."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        url = DEFAULT_POSTGRES
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}", query=""))


def maintenance(sql):
    """Run `sql` on the server's maintenance database (CREATE and DROP DATABASE run outside
    a transaction); its rows, if it returns any."""
    import psycopg

    with psycopg.connect(server_url("postgres"), autocommit=True) as connection:
        cursor = connection.execute(sql)
        return cursor.fetchall() if cursor.description else None


class ConnectionPoller(threading.Thread):
    """The most connections to the database at once, from pg_stat_activity every `interval`
    seconds (through the maintenance database, so that this one does not count): in all,
    active (running a query), waiting on a lock, and per process kind (application_name)."""

    def __init__(self, db_name, interval=0.2):
        super().__init__(daemon=True)
        self.db_name = db_name
        self.interval = interval
        self.done = threading.Event()
        self.most = Counter()
        self.samples = 0
        self.lock_waits = 0  # sessions seen waiting on a lock, summed over the samples
        self.error = None

    def run(self):
        import psycopg

        try:
            with psycopg.connect(server_url("postgres"), autocommit=True) as connection:
                while not self.done.wait(self.interval):
                    rows = connection.execute(
                        "SELECT coalesce(application_name, ''), state, "
                        "wait_event_type = 'Lock', count(*) "
                        "FROM pg_stat_activity WHERE datname = %s GROUP BY 1, 2, 3",
                        (self.db_name,)).fetchall()
                    now = Counter()
                    for application, state, waiting, count in rows:
                        now["all"] += count
                        now[application or "(unnamed)"] += count
                        if state == "active":
                            now["active"] += count
                        if waiting:  # a row or table lock another transaction holds
                            now["waiting"] += count
                            self.lock_waits += count
                    for key, count in now.items():
                        self.most[key] = max(self.most[key], count)
                    self.samples += 1
        except Exception as error:  # noqa: BLE001 (reported at the end)
            self.error = error

    def stop(self):
        self.done.set()
        self.join(5)


# --- seeding -----------------------------------------------------------------------------------


def valid_bans(start, count):
    from portal.accounts.identifiers import is_valid_ban

    found, number = [], start
    while len(found) < count:
        if is_valid_ban(f"{number:08d}"):
            found.append(f"{number:08d}")
        number += 1
    return found


SHTC_ITEMS = [
    {"tariff_code": "85423100003", "description": "Field programmable gate array (FPGA)",
     "brand": "Xilinx", "model": "XCVU9P", "control_no": "3A001.a", "quantity": "20",
     "unit": "PCE", "unit_price": "4200", "currency": "USD", "origin_country": "US"},
    {"tariff_code": "85177900002", "description": "Encrypted network interface module",
     "brand": "Anxin", "model": "ANX-5A2", "control_no": "5A002.a", "quantity": "50",
     "unit": "PCE", "unit_price": "380.5", "currency": "USD", "origin_country": "TW"},
]


def shtc_cases(*, applicant, agent, reviewer):
    """Three SHTC cases of an applicant, made through the framework's services only (no
    SHTC data: the pages the load test visits do not need them): one in 初審中 filed by the
    agent, one in 補件, one 准件結案 with a permit to print."""
    from django.db import transaction

    from permits import services, workflow
    from permits.models import Application, DocumentType, Status

    if Application.objects.filter(applicant=applicant).exists():
        return
    with transaction.atomic():
        waiting_review = services.application_create(
            document_type=DocumentType.SHTC_EXPORT, applicant=applicant, actor=agent,
            items=SHTC_ITEMS, destination_country="DE")
        workflow.transition(application=waiting_review, to=Status.INITIAL_REVIEW, actor=agent)

        supplement = services.application_create(
            document_type=DocumentType.SHTC_EXPORT, applicant=applicant, actor=applicant,
            items=SHTC_ITEMS[:1], destination_country="JP")
        workflow.transition(application=supplement, to=Status.INITIAL_REVIEW, actor=applicant)
        workflow.transition(application=supplement, to=Status.SUPPLEMENT, actor=reviewer,
                            note="請補附最終使用者公司介紹（英文）及交易文件（Purchase Order）。")

        approved = services.application_create(
            document_type=DocumentType.SHTC_EXPORT, applicant=applicant, actor=applicant,
            items=SHTC_ITEMS, destination_country="US")
        workflow.transition(application=approved, to=Status.INITIAL_REVIEW, actor=applicant)
        from tests.approvals import approve  # 複審 by a second reviewer (four eyes)

        approve(approved, reviewer)


def seed(*, applicant_count, agent_count, password):
    """The accounts, cases, permits, stock and customs account; what the simulated users
    need to know of them (the JSON that bench/locustfile.py reads)."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from masks import services as masks
    from masks.models import MaskCode, Route
    from permits.models import Application, DocumentType, Status
    from portal.accounts.models import REVIEWERS_GROUP, IdentifierType, Role, User
    from reconciliation import services as customs
    from reconciliation.models import CustomsClient

    hashed = make_password(password)  # one hash (PBKDF2 is slow on purpose) for every account
    bans = valid_bans(30_000_000, applicant_count + agent_count)

    def account(identifier, role, n):
        kind = "applicant" if role == Role.APPLICANT else "agent"
        return User(identifier=identifier, identifier_type=IdentifierType.BAN, role=role,
                    name=f"負載測試{'報關' if role == Role.AGENT else '醫材'}{n:03d}股份有限公司",
                    name_en=f"Load {kind} {n}", address="臺北市中正區重慶南路一段2號",
                    contact_person="王小明", phone="02-2351-0000",
                    email=f"load-{kind}-{n}@bench.invalid", password=hashed)

    applicants = User.objects.bulk_create(
        [account(ban, Role.APPLICANT, n) for n, ban in enumerate(bans[:applicant_count])])
    agents = User.objects.bulk_create(
        [account(ban, Role.AGENT, n) for n, ban in enumerate(bans[applicant_count:])])
    reviewer = User.objects.create(
        identifier="A123456789", identifier_type=IdentifierType.NATIONAL_ID,
        role=Role.APPLICANT, name="貿易局審核員", address="臺北市中正區湖口街1號",
        contact_person="貿易局審核員", phone="02-2397-7384", email="reviewer@bench.invalid",
        is_staff=True, password=make_password(None))
    reviewer.groups.add(Group.objects.get_or_create(name=REVIEWERS_GROUP)[0])

    codes = {category: MaskCode.objects.active().filter(category=category)
             .values_list("tariff_code", flat=True).first()
             for category in ("medical", "non_medical")}
    today = timezone.localdate().isoformat()
    data = {"applicants": [], "agents": [], "mask_codes": codes,
            "customs": {"permits": []}}
    by_agent = {agent.pk: {"identifier": agent.identifier, "email": agent.email,
                           "applicants": [], "declarations": [], "versions": []}
                for agent in agents}

    for n, applicant in enumerate(applicants):
        agent = agents[n % len(agents)]
        shtc_cases(applicant=applicant, agent=agent, reviewer=reviewer)
        mine = {"identifier": applicant.identifier, "name": applicant.name,
                "email": applicant.email, "declarations": [], "versions": []}
        approved = Application.objects.get(applicant=applicant, status=Status.APPROVED,
                                           document_type=DocumentType.SHTC_EXPORT)
        mine["versions"].append(approved.issued_version.pk)
        for k, actor in enumerate((applicant, agent)):
            application = masks.application_submit(
                actor=actor, applicant=applicant, route=Route.DECLARATION,
                items=[{"category": "medical", "tariff_code": codes["medical"],
                        "description": "醫用口罩", "quantity": str(PERMIT_QUANTITY),
                        "unit": "PCE", "unit_price": "5", "currency": "TWD",
                        "origin_country": "TW"}],
                applicant_name=applicant.name, applicant_name_en=applicant.name_en,
                applicant_address=applicant.address, company_email=applicant.email,
                contact_person=applicant.contact_person, contact_phone=applicant.phone)
            version = application.issued_version
            permit = version.permit
            number = f"LS{n:06d}{k:06d}"
            records = customs.receive([
                {"message_id": f"SEED-{number}", "type": "declaration", "declaration": {
                    "number": number, "direction": "import", "date": today,
                    "declarant": applicant.identifier, "broker": agent.identifier,
                    "permit_no": permit.permit_no,
                    "items": [{"item_no": 1, "tariff_code": codes["medical"],
                               "description": "醫用口罩", "quantity": str(STOCK_QUANTITY),
                               "unit": "PCE", "value": str(STOCK_QUANTITY * 5),
                               "currency": "TWD", "permit_item_no": 1}]}},
                {"message_id": f"SEED-{number}-R", "type": "release", "declaration": number,
                 "items": [{"item_no": 1, "quantity": str(STOCK_QUANTITY)}]},
            ], source="bench")
            refused = [record.errors for record in records if record.status == "rejected"]
            if refused:
                raise SystemExit(f"seeding: customs refused {number}: {refused}")
            mine["declarations"].append(number)
            mine["versions"].append(version.pk)
            data["customs"]["permits"].append({
                "permit_no": permit.permit_no, "tariff_code": codes["medical"],
                "holder": applicant.identifier, "broker": agent.identifier})
            if actor == agent:
                by_agent[agent.pk]["declarations"].append(number)
                by_agent[agent.pk]["versions"].append(version.pk)
        by_agent[agent.pk]["applicants"].append(
            {"identifier": applicant.identifier, "name": applicant.name,
             "email": applicant.email})
        data["applicants"].append(mine)
    data["agents"] = [entry for entry in by_agent.values() if entry["applicants"]]

    client = CustomsClient(name="bench-load")
    data["customs"]["token"] = client.new_token()
    client.save()
    data["password"] = password
    data["run"] = "".join(secrets.choice(string.ascii_uppercase) for _ in range(3))
    return data


def counts(since):
    """What the run did, from the database."""
    from django.db.models import Q

    from masks.models import Flow
    from permits.models import Application, DocumentType, OutboundEmail, Status
    from reconciliation.models import InboundMessage

    return {
        "mask permits issued": Application.objects.filter(
            document_type=DocumentType.MASK_IMPORT, status=Status.APPROVED,
            updated_at__gte=since).count(),
        "flows registered": Flow.objects.count(),
        "customs messages accepted": InboundMessage.objects.filter(
            source="api", status="accepted").count(),
        "mails queued": OutboundEmail.objects.filter(created_at__gte=since).count(),
        "mails unsent": OutboundEmail.objects.filter(
            Q(created_at__gte=since), sent_at__isnull=True).count(),
    }


# --- the report ---------------------------------------------------------------------------------


def width(text):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text, size, right=False):
    space = " " * max(0, size - width(text))
    return space + text if right else text + space


def table(stats):
    """The per-page table of the statistics bench/locustfile.py wrote."""
    headings = ["page", "requests", "fail", "p50 ms", "p95 ms", "p99 ms", "max ms", "req/s"]
    lines = [[row["name"], row["requests"], row["failures"], row["p50"], row["p95"],
              row["p99"], f"{row['max'] or 0:.0f}", f"{row['rps']:.1f}"]
             for row in [*stats["pages"], stats["total"]]]
    sizes = [max(width(str(line[i])) for line in [headings, *lines])
             for i in range(len(headings))]
    out = []
    for line in [headings, None, *lines[:-1], None, lines[-1]]:
        if line is None:
            out.append("  ".join("-" * size for size in sizes))
            continue
        out.append("  ".join(pad(str(cell), size, right=i > 0)
                             for i, (cell, size) in enumerate(zip(line, sizes, strict=True))))
    return "\n".join(out)


def log_problems(path, pattern, context=25):
    """The lines of `path` matching `pattern`, each with what follows it (a traceback)."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    found, skip_to = [], -1
    for i, line in enumerate(lines):
        if i <= skip_to or not pattern.search(line):
            continue
        block = [line]
        for follower in lines[i + 1:i + 1 + context]:
            if not follower.startswith((" ", "Traceback", "During handling", "The above")) \
                    and not re.match(r"^\w+(\.\w+)*(Error|Exception|Warning)?:", follower):
                break
            block.append(follower)
        skip_to = i + len(block) - 1
        found.append("\n".join(block))
    return found


# --- the run ----------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=5,
                        help="users started per second (default 5: all 50 in 10 s)")
    parser.add_argument("--run-time", type=int, default=120, help="seconds (default 120)")
    parser.add_argument("--wait", default="1,3",
                        help="seconds a user waits between two tasks, min,max (default 1,3)")
    parser.add_argument("--max-requests", type=int, default=100_000,
                        help="stop after this many requests (default 100000)")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--db-name", default="bench_load")
    parser.add_argument("--redis-url", default="",
                        help="a Redis database to use instead of a private redis-server "
                             "(it is flushed)")
    parser.add_argument("--keep-alive", action="store_true",
                        help="reuse connections to gunicorn (default: one per request, as "
                             "a proxy such as nginx does towards its upstream by default)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the scratch folder (logs) and the database")
    args = parser.parse_args()
    if not re.fullmatch(r"[a-z_][a-z0-9_]*load[a-z0-9_]*", args.db_name):
        parser.error("--db-name: lower-case letters, digits and _, with 'load' in it")
    if not 0 < args.users <= 500 or not 0 < args.run_time <= 3600:
        parser.error("--users from 1 to 500, --run-time from 1 to 3600 s")

    signal.signal(signal.SIGTERM, _terminate)
    # Ctrl-C, also when started in the background (where a shell leaves SIGINT ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    scratch = Path(tempfile.mkdtemp(prefix="bench-load-"))
    outcome = {"failed": True}

    def tidy():  # the last thing done: the logs stay until every process has stopped
        if outcome["failed"] or args.keep:
            print(f"logs kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)

    with contextlib.ExitStack() as cleanup:
        cleanup.callback(tidy)
        try:
            outcome["failed"] = run(args, scratch, cleanup)
        except (KeyboardInterrupt, Stop):
            print("\ninterrupted: stopping everything", flush=True)
    sys.exit(1 if outcome["failed"] else 0)


def run(args, scratch, cleanup):
    print(f"scratch folder: {scratch}", flush=True)
    # The settings: production's, with the collected static files and the compiled
    # catalogue in the scratch folder.
    (scratch / f"{SETTINGS_MODULE}.py").write_text(
        "from portal.settings import *  # noqa: F403\n"
        f"STATIC_ROOT = {str(scratch / 'static')!r}\n"
        f"LOCALE_PATHS = [{str(scratch / 'locale')!r}]\n", encoding="utf-8")
    for po in (ROOT / "locale").glob("*/LC_MESSAGES/django.po"):
        mo = scratch / po.relative_to(ROOT).with_suffix(".mo")
        mo.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["msgfmt", "--check-format", "-o", str(mo), str(po)],  # noqa: S603,S607
                       check=True)

    # The database.
    maintenance(f'DROP DATABASE IF EXISTS "{args.db_name}" WITH (FORCE)')
    maintenance(f'CREATE DATABASE "{args.db_name}"')
    if not args.keep:
        cleanup.callback(maintenance, f'DROP DATABASE IF EXISTS "{args.db_name}" WITH (FORCE)')
    db_url = server_url(args.db_name)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    private = scratch / "private"
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "EMAIL_", "CELERY_",
                                   "STORAGE_", "AWS_"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
        "PYTHONPATH": os.pathsep.join([str(scratch), str(ROOT)]),
        "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "127.0.0.1",
        "PORTAL_BASE_URL": base_url, "PRIVATE_MEDIA_ROOT": str(private),
        "DEFAULT_FROM_EMAIL": "輸出入貨品電子簽證系統 <noreply@bench.invalid>",
        "LOG_LEVEL": "INFO",
    })

    def portal_env(kind, **extra):
        # application_name tells the process kinds apart in pg_stat_activity.
        return {**env, "DATABASE_URL": f"{db_url}?application_name=bench-{kind}", **extra}

    setup_log = (scratch / "setup.log").open("w")
    cleanup.callback(setup_log.close)
    print("migrate, collectstatic ...", flush=True)
    for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
        subprocess.run([PYTHON, "manage.py", *command, "-v0"], cwd=ROOT,  # noqa: S603
                       env=portal_env("setup"), stdout=setup_log, stderr=subprocess.STDOUT,
                       check=True)

    # Seed in this process, tasks in-process and mail kept in memory: nothing of it reaches
    # the worker or the SMTP server.
    os.environ.update(portal_env("seed", REDIS_URL="", EMAIL_URL="memorymail://",
                                  LOG_LEVEL="ERROR"))
    sys.path[:0] = [str(scratch), str(ROOT)]
    import django

    django.setup()
    from django.db import connections
    from django.utils import timezone

    from tests import services

    started = time.monotonic()
    data = seed(applicant_count=args.users, agent_count=max(1, args.users // 2),
                password=secrets.token_urlsafe(12))
    data_file = scratch / "data.json"
    data_file.touch(mode=0o600)
    data_file.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    print(f"seeded {len(data['applicants'])} applicants, {len(data['agents'])} agents, "
          f"{len(data['customs']['permits'])} mask permits with stock in "
          f"{time.monotonic() - started:.0f} s", flush=True)
    connections.close_all()

    # Mail, broker, worker, beat, web.
    smtp = services.SMTPSink().start()
    cleanup.callback(smtp.stop)
    if args.redis_url:
        import redis

        redis.Redis.from_url(args.redis_url).flushdb()
        redis_url = args.redis_url
    else:
        redis_server = services.RedisServer().start()
        cleanup.callback(redis_server.stop)
        redis_url = redis_server.url
    served = {"REDIS_URL": redis_url, "EMAIL_URL": smtp.url}

    celery_log_path = scratch / "celery.log"
    celery_log = celery_log_path.open("w")
    cleanup.callback(celery_log.close)
    worker = start([PYTHON, "-m", "celery", "-A", "portal", "worker", "--loglevel=INFO",
                    "--concurrency=2", "-n", f"bench-load-{os.getpid()}@%h"],
                   log=celery_log, env=portal_env("worker", **served), name="celery worker")
    cleanup.callback(stop, worker)
    beat = start([PYTHON, "-m", "celery", "-A", "portal", "beat", "--loglevel=INFO",
                  "--schedule", str(scratch / "celerybeat-schedule")],
                 log=celery_log, env=portal_env("beat", **served), name="celery beat")
    cleanup.callback(stop, beat)
    gunicorn_log_path = scratch / "gunicorn.log"
    gunicorn_log = gunicorn_log_path.open("w")
    cleanup.callback(gunicorn_log.close)
    web = start([PYTHON, "-m", "gunicorn", "portal.wsgi", "--bind", f"127.0.0.1:{port}",
                 "--workers", str(args.workers), "--threads", str(args.threads),
                 "--worker-class", "gthread", "--error-logfile", "-",
                 # Not ~/.gunicorn/gunicorn.ctl, which another gunicorn may be using.
                 "--no-control-socket",
                 "--access-logfile", str(scratch / "access.log")],
                log=gunicorn_log, env=portal_env("web", **served), name="gunicorn")
    cleanup.callback(stop, web)
    wait_for(lambda: answers(f"{base_url}/healthz"), timeout=60, what="gunicorn's /healthz",
             processes=[web])
    wait_for(lambda: " ready." in celery_log_path.read_text(errors="replace"), timeout=60,
             what="the Celery worker", processes=[worker, beat])
    print(f"gunicorn {base_url} ({args.workers} workers x {args.threads} threads, gthread), "
          f"Celery worker (2 processes) and beat, Redis {redis_url}, SMTP {smtp.url}",
          flush=True)

    # The run.
    poller = ConnectionPoller(args.db_name)
    poller.start()
    cleanup.callback(poller.stop)
    since = timezone.now()
    servers = {"gunicorn": web, "Celery worker": worker, "beat": beat}
    cpu_before = {name: cpu_seconds(process) for name, process in servers.items()}
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_before = os.getloadavg()[0]
    run_started = time.monotonic()
    locust_log_path = scratch / "locust.log"
    locust_log = locust_log_path.open("w")
    cleanup.callback(locust_log.close)
    spawn = args.users / args.spawn_rate
    stats_file = scratch / "stats.json"
    print(f"locust: {args.users} users ({args.spawn_rate}/s), {args.run_time} s ...",
          flush=True)
    locust = start([PYTHON, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"),
                    "--headless", "--users", str(args.users),
                    "--spawn-rate", str(args.spawn_rate), "--run-time", f"{args.run_time}s",
                    "--host", base_url,
                    "--stop-timeout", "15", "--only-summary", "--loglevel", "WARNING"],
                   log=locust_log,
                   env={**env, "BENCH_LOAD_DATA": str(data_file), "BENCH_LOAD_WAIT": args.wait,
                        "BENCH_LOAD_MAX_REQUESTS": str(args.max_requests),
                        "BENCH_LOAD_STATS": str(stats_file),
                        "BENCH_LOAD_KEEPALIVE": "1" if args.keep_alive else "0"},
                   name="locust")
    cleanup.callback(stop, locust)
    try:
        locust.wait(timeout=args.run_time + spawn + 120)
    except subprocess.TimeoutExpired:
        print("locust overran its time: stopped", flush=True)
        stop(locust)
    elapsed = time.monotonic() - run_started
    load_after = os.getloadavg()[0]
    cpu = {name: cpu_seconds(process) - cpu_before[name] for name, process in servers.items()}
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # locust is the one reaped
    cpu["locust"] = (children.ru_utime + children.ru_stime
                     - children_before.ru_utime - children_before.ru_stime)
    poller.stop()
    data_file.unlink()

    # What the run left: mail still to send, logs.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and counts(since)["mails unsent"]:
        time.sleep(1)
    done = counts(since)
    connections.close_all()

    stats = json.loads(stats_file.read_text(encoding="utf-8")) if stats_file.exists() else None
    server_errors = log_problems(gunicorn_log_path, SERVER_ERROR_RE)
    request_warnings = Counter(
        line.split(":")[0] + ": " + line.split(":", 1)[1].strip().split("?")[0]
        for line in gunicorn_log_path.read_text(errors="replace").splitlines()
        if REQUEST_WARNING_RE.match(line))
    celery_errors = log_problems(celery_log_path, CELERY_ERROR_RE)
    max_connections = maintenance("SHOW max_connections")[0][0]

    print()
    print(f"=== bench/load.py {datetime.date.today()}: {args.users} users, {args.run_time} s, "
          f"wait {args.wait} s, gunicorn {args.workers}x{args.threads} gthread, "
          f"{'kept-alive connections' if args.keep_alive else 'a connection per request'} ===")
    if locust.returncode not in (0, 1):
        print(f"locust exited with {locust.returncode}: see {locust_log_path}")
    print(table(stats) if stats else f"no statistics (see {locust_log_path})")
    total = stats["total"] if stats else None
    if total:
        print(f"\nrequests: {total['requests']}, {total['rps']:.1f}/s; "
              f"failures: {total['failures']}")
    print("PostgreSQL connections to the database at once, at most: "
          f"{poller.most['all']} (active {poller.most['active']}, waiting on a lock "
          f"{poller.most['waiting']}; "
          + ", ".join(f"{name.removeprefix('bench-')} {count}"
                      for name, count in sorted(poller.most.items())
                      if name not in ("all", "active", "waiting"))
          + f"; {poller.samples} samples, with {poller.lock_waits} sessions waiting on a lock "
          f"in all; server max_connections {max_connections})")
    if poller.error:
        print(f"connection poller failed: {poller.error!r}")
    print(f"CPU seconds in {elapsed:.0f} s on {os.cpu_count()} cores: "
          + ", ".join(f"{name} {seconds:.0f}" for name, seconds in cpu.items())
          + f"; load average {load_before:.1f} before, {load_after:.1f} after (the whole "
          "machine: other work running counts)")
    print("; ".join(f"{name}: {count}" for name, count in done.items())
          + f"; mails received by the SMTP server: {len(smtp.messages)}")
    for row in stats["errors"] if stats else []:
        print(f"FAILURE {row['count']}x {row['method']} {row['name']}: {row['error']}")
    for row in stats["exceptions"] if stats else []:
        print(f"EXCEPTION in the locustfile {row['count']}x: {row['message']}\n"
              f"{row['traceback']}")
    for problem in server_errors:
        print(f"SERVER ERROR (gunicorn log):\n{problem}")
    for line, count in request_warnings.most_common():
        print(f"request warning {count}x: {line}")
    for problem in celery_errors:
        print(f"CELERY ERROR:\n{problem}")
    failure_count = total["failures"] if total else 1
    return bool(failure_count or (stats and stats["exceptions"]) or server_errors
                or celery_errors
                or done["mails unsent"] or locust.returncode not in (0, None)
                or poller.error)


if __name__ == "__main__":
    main()
