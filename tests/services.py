"""Real services for the tests: what is there, an SMTP sink, a Celery worker.

A test that needs a service calls `require(...)`: without the service it skips with the
reason, and with --require-services (CI) it fails instead (conftest.py).
"""

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.db import connection, connections

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
STRICT = {"on": False}  # set by conftest from --require-services


def require(available, reason):
    if available:
        return
    if STRICT["on"]:
        pytest.fail(f"required service missing: {reason}", pytrace=False)
    pytest.skip(reason)


def require_postgres():
    require(connection.vendor == "postgresql",
            "needs PostgreSQL: set DATABASE_URL=postgres://...")


def redis_url():
    return os.environ.get("REDIS_URL", "")


def test_redis_url():
    """REDIS_URL with the tests' own database number (15)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(redis_url())
    return urlunsplit(parts._replace(path="/15"))


def require_redis():
    url = redis_url()
    if url:
        import redis

        try:
            redis.Redis.from_url(url, socket_timeout=2).ping()
        except redis.RedisError as error:
            require(False, f"Redis at {url} does not answer: {error}")
    require(bool(url), "needs Redis: set REDIS_URL=redis://...")


def require_redis_server():
    require_program("redis-server", "redis-server")


def require_chromium():
    require(Path(CHROMIUM).exists(), f"needs Debian's Chromium at {CHROMIUM}")


def require_program(name, package):
    require(shutil.which(name) is not None, f"needs {name} (Debian package {package})")


def wait_until(predicate, *, timeout=30, failure="timed out"):
    """Poll `predicate` until it returns something true, and return that; fail after
    `timeout` seconds with `failure` (a string, or a callable giving one then)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(failure() if callable(failure) else failure)
        time.sleep(0.1)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Collector:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        # One append: atomic, so the test's thread reads the list while the server writes.
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


class _HangingCollector(_Collector):
    def __init__(self):
        super().__init__()
        self.hang_next = False
        self.hanging = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        if self.hang_next:  # take the message and never answer: the sender is mid-send
            self.hang_next = False
            self.hanging.set()
            await asyncio.sleep(3600)
        return await super().handle_DATA(server, session, envelope)


class SMTPSink:
    """A real SMTP server on 127.0.0.1 that keeps what it receives."""

    def __init__(self, port=None, *, can_hang=False):
        self.port = port or free_port()
        self.collector = _HangingCollector() if can_hang else _Collector()
        self.controller = Controller(self.collector, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self):
        return self.collector.messages

    @property
    def url(self):
        return f"smtp://127.0.0.1:{self.port}"

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    def hang_next(self):
        """Take the next message without ever answering (SMTPSink(can_hang=True)); returns
        the event set once a sender is stuck in it."""
        self.collector.hanging.clear()
        self.collector.hang_next = True
        return self.collector.hanging

    def wait_for(self, count, timeout=30):
        """The messages, once `count` have arrived."""
        wait_until(lambda: len(self.messages) >= count, timeout=timeout,
                   failure=lambda: f"{len(self.messages)} mails arrived, not {count}")
        return self.messages


@contextlib.contextmanager
def running_worker(*, email_url):
    """Start a Worker, wait until it answers, and route this process's tasks to it."""
    from portal.celery import app
    from portal.tasks import ping

    worker = Worker(email_url=email_url)
    saved = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        ping.delay().get(timeout=60)  # up and consuming
        yield worker
    finally:
        app.conf.task_always_eager = saved
        print(worker.stop()[-3000:])


def database_url():
    """The URL of the database this test process uses (the test database)."""
    s = connection.settings_dict
    if connection.vendor == "postgresql":
        return (f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:"
                f"{s['PORT'] or 5432}/{s['NAME']}")
    return f"sqlite:///{s['NAME']}"


class Worker:
    """`celery -A portal worker` in its own process, over the tests' own Redis database, on
    the test database."""

    def __init__(self, *, email_url="", extra_env=None):
        import redis

        redis.Redis.from_url(test_redis_url()).flushdb()  # no task left from another test
        self.queue = "celery"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DEBUG": "1",
            "REDIS_URL": test_redis_url(),
            "DATABASE_URL": database_url(),
            **({"EMAIL_URL": email_url} if email_url else {}),
            **(extra_env or {}),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool=solo",
             "--loglevel=INFO", "--without-gossip", "--without-mingle",
             "--without-heartbeat", "-n", f"test-{uuid.uuid4().hex[:8]}@%h"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )

    def stop(self):
        self.process.terminate()
        try:
            out, _ = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, _ = self.process.communicate()
        return out.decode(errors="replace")


class RedisServer:
    """A private redis-server for one test, on a free port from 6390 up, keeping nothing on
    disk: a test may stop it (Redis down) and start it again. Never the machine's Redis."""

    def __init__(self):
        self.port = None
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        import redis

        for port in range(self.port or 6390, 6490):
            with socket.socket() as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as redis does
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    continue
            self.port = port
            self.process = subprocess.Popen(
                ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            client = redis.Redis(port=port, socket_connect_timeout=0.5)
            deadline = time.monotonic() + 10
            while self.process.poll() is None and time.monotonic() < deadline:
                with contextlib.suppress(redis.RedisError):
                    if client.ping():
                        return self
                time.sleep(0.05)
            self.stop()  # another process took the port meanwhile: try the next one
        raise RuntimeError("no free port for a private redis-server in 6390-6489")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


@contextlib.contextmanager
def celery_broker(url):
    """Queue this process's tasks on the broker (and result store) at `url` instead of
    running them in-process, until the block ends. Celery caches its connection pools and
    result backend; they are dropped on the way in and out."""
    from portal.celery import app

    keys = ("broker_url", "result_backend", "task_always_eager")
    saved = {key: app.conf[key] for key in keys}

    def forget_connections():
        app._pool = None
        app.amqp._producer_pool = None
        app._backend_cache = None
        app._local = threading.local()

    app.conf.update(broker_url=url, result_backend=url, task_always_eager=False)
    forget_connections()
    try:
        yield app
    finally:
        app.conf.update(saved)
        forget_connections()


def orm(function, *args, **kwargs):
    """Run database code from a browser test. Playwright's sync API keeps an event loop in
    the test's thread, where Django refuses synchronous ORM calls (and where a connection
    would belong to the loop's context and outlive the test), so the call runs in a thread of
    its own that closes its connection when done."""

    def call():
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


def run_concurrently(*calls):
    """Run each call in its own thread, all released at once by a barrier, each with its own
    database connection (closed after). Returns their results in order; re-raises the first
    exception. For races that only a real database can decide (PostgreSQL)."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)
    errors = []

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as error:  # noqa: BLE001 (re-raised below)
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def seed_reference_data():
    """Countries, currencies and mask codes as the migrations seed them. A transactional test
    (live server, browser, races) flushes the tables at its end, so a later one loads them
    again; both loaders are idempotent. Tables that already hold every row of the seed files
    are left alone: reloading them row by row cost 1.6 s, in every test of the bad-input
    corpus."""
    import importlib

    from django.apps import apps

    reference = importlib.import_module("permits.migrations.0002_reference_data")
    seeded = all(
        apps.get_model("permits", model).objects.count() == len(reference.read_rows(filename))
        for model, filename in (("Country", "countries.csv"), ("Currency", "currencies.csv")))
    if not seeded:
        reference.load_reference_data(apps, None)
    importlib.import_module("masks.migrations.0002_mask_codes").load_codes(apps, None)


def seed_shtc():
    """seed_reference_data() and SHTC's regimes and controlled areas (Iran, North Korea), as
    the migrations seed them: for a transactional test after one that emptied the tables."""
    import importlib

    from django.apps import apps

    seed_reference_data()
    migration = importlib.import_module("shtc.migrations.0002_reference_data")
    migration.load_regimes(apps, None)
    migration.load_areas(apps, None)


def log_in(page, url, identifier, password):
    """Log in through the login page at `url` (the portal's or the admin's) in Playwright's
    `page`, and wait for the page it leads to."""
    page.goto(url)
    page.locator("#id_username").fill(identifier)
    page.locator("#id_password").fill(password)
    page.locator("main [type=submit], #login-form [type=submit]").first.click()
    page.wait_for_load_state()
