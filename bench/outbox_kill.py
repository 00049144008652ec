"""How long a status mail waits when the worker sending it is killed mid-send (issue 9,
point 8).

    DATABASE_URL=postgres://... .venv/bin/python bench/outbox_kill.py [--rounds 3]
        [--modes child,worker]

The production shape (docker-compose.yml) on a throwaway database ("bench_eportal_outbox"),
a private redis-server and an SMTP server of the bench's own: a Celery worker (prefork, one
process) and a separate beat. Each round writes one outbox row, queues it, and lets the SMTP
server take the message but never answer, so the worker is mid-send; then it kills
  child   the pool process sending (what the OOM killer does): the worker itself lives on;
  worker  the whole worker (a crash, a host restart) and starts a new one at once;
and answers every later delivery. Prints, per round, the seconds from the kill until the
mail arrived, and how many times it arrived (must be 1).
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from permits.models import OutboundEmail  # noqa: E402
from permits.tasks import send_outbound_email  # noqa: E402
from tests import services  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def celery(*args, env, log):
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "portal", *args],  # noqa: S603
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def start_worker(env, log):
    return celery("worker", "--pool=prefork", "--concurrency=1", "--loglevel=INFO",
                  "--without-gossip", "--without-mingle", "--without-heartbeat",
                  "-n", f"bench-{uuid.uuid4().hex[:8]}@%h", env=env, log=log)


def children(pid):
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--modes", default="child,worker")
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()

    setup_test_environment()
    connection.settings_dict.setdefault("TEST", {})["NAME"] = "bench_eportal_outbox"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    smtp = services.SMTPSink(can_hang=True).start()
    redis_server = services.RedisServer().start()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", "DEBUG": "1",
           "REDIS_URL": redis_server.url, "DATABASE_URL": services.database_url(),
           "EMAIL_URL": smtp.url}
    scratch = Path(tempfile.mkdtemp(prefix="bench-outbox-"))
    log = (scratch / "celery.log").open("w")
    print(f"worker and beat log: {scratch / 'celery.log'}")
    beat = celery("beat", "--loglevel=INFO", "--schedule", str(scratch / "beat"), env=env,
                  log=log)
    worker = start_worker(env, log)
    figures = []
    try:
        with services.celery_broker(redis_server.url):
            for mode in args.modes.split(","):
                for n in range(args.rounds):
                    email = OutboundEmail.objects.create(to="bench@example.com",
                                                         subject=f"{mode} {n}", body="b")
                    before = len(smtp.messages)
                    hanging = smtp.hang_next()
                    send_outbound_email.delay(email.pk)
                    if not hanging.wait(120):
                        raise SystemExit("the worker never started sending")
                    time.sleep(1)  # well inside the SMTP read: the worker is mid-send
                    killed = time.monotonic()
                    if mode == "child":
                        for pid in children(worker.pid):
                            os.kill(pid, signal.SIGKILL)
                    else:
                        os.killpg(worker.pid, signal.SIGKILL)
                        worker.wait()
                        worker = start_worker(env, log)
                    services.wait_until(
                        lambda e=email, b=before: any(m["Subject"] == e.subject
                                                      for m in smtp.messages[b:]),
                        timeout=args.timeout, failure=f"{mode} {n}: the mail never came")
                    waited = time.monotonic() - killed
                    time.sleep(2)  # a second copy would come now
                    copies = sum(m["Subject"] == email.subject for m in smtp.messages)
                    figures.append((mode, waited))
                    print(f"{mode:6} round {n + 1}: mail arrived {waited:6.1f} s after the "
                          f"kill, {copies} cop{'y' if copies == 1 else 'ies'}", flush=True)
        for mode in args.modes.split(","):
            waits = [w for m, w in figures if m == mode]
            print(f"{mode:6}: {min(waits):.1f}-{max(waits):.1f} s "
                  f"(mean {sum(waits) / len(waits):.1f} s over {len(waits)} kills)")
    finally:
        stop(worker)
        stop(beat)
        log.close()
        redis_server.stop()
        smtp.stop()
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
