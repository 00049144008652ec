"""A mail whose worker was killed mid-send (issue 9, point 8): the claim on the outbox row is
short and renewed by a heartbeat while the mail is being sent, and the task redelivered for
the row waits for a dead claim to lapse instead of giving up. Still at most once per claim.
bench/outbox_kill.py gives the figures."""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone

from permits import outbox, tasks
from permits.models import OutboundEmail
from tests import services


class SlowBackend(EmailBackend):
    """A mail server that takes its time: longer than the (shortened) lease."""

    seconds = 1.5

    def send_messages(self, messages):
        time.sleep(self.seconds)
        return super().send_messages(messages)


def make_email(subject="s"):
    return OutboundEmail.objects.create(to="a@example.com", subject=subject, body="b")


@pytest.mark.django_db(transaction=True)
def test_it_keeps_the_claim_of_a_slow_send_past_the_lease(settings, monkeypatch):
    settings.EMAIL_BACKEND = "tests.faults.test_outbox_lease.SlowBackend"
    monkeypatch.setattr(outbox, "CLAIM_LEASE", timedelta(seconds=0.6))
    monkeypatch.setattr(outbox, "HEARTBEAT", timedelta(seconds=0.15), raising=False)
    email = make_email()
    results = {}
    sender = threading.Thread(target=lambda: results.update(first=outbox.send(email.pk)))
    sender.start()
    time.sleep(1.0)  # the first sender is still talking to the mail server, past its lease
    try:
        assert outbox.send(email.pk) == outbox.SKIPPED
        assert outbox.held_until(email.pk) is not None
    finally:
        sender.join()
    assert results["first"] == outbox.SENT
    assert len(mail.outbox) == 1
    assert OutboundEmail.objects.get(pk=email.pk).claimed_until is None


@pytest.mark.django_db
def test_it_lets_a_dead_senders_claim_lapse_within_the_lease():
    email = make_email()
    before = timezone.now()
    assert outbox.claim(email.pk)  # then the worker is killed: nothing renews the claim
    lapses = OutboundEmail.objects.get(pk=email.pk).claimed_until
    assert lapses - before <= timedelta(seconds=60)
    assert outbox.held_until(email.pk) == lapses


@pytest.mark.django_db
def test_it_tries_a_redelivered_task_again_when_the_dead_claim_lapses(monkeypatch):
    """acks_late + reject_on_worker_lost redeliver the task of a killed pool process at
    once: it must wait for the claim the dead process left, not give the mail up."""
    email = make_email()
    assert outbox.claim(email.pk)
    claim_ends = OutboundEmail.objects.get(pk=email.pk).claimed_until
    retries = []

    def retry(**options):
        retries.append(options)
        return Retry("again", when=options.get("eta"))

    monkeypatch.setattr(tasks.send_outbound_email, "retry", retry)
    with pytest.raises(Retry):
        tasks.send_outbound_email(email.pk)  # as a worker runs it (not in-process, eager)
    assert claim_ends <= retries[0]["eta"] <= claim_ends + timedelta(seconds=5)
    assert mail.outbox == []


@pytest.mark.django_db
def test_it_does_not_retry_a_row_already_sent(monkeypatch, django_capture_on_commit_callbacks):
    email = make_email()
    assert outbox.send(email.pk) == outbox.SENT
    monkeypatch.setattr(tasks.send_outbound_email, "retry",
                        lambda **options: pytest.fail("retried a sent row"))
    assert tasks.send_outbound_email(email.pk) == outbox.SKIPPED
    assert len(mail.outbox) == 1


# --- a real worker, killed mid-send -----------------------------------------------------------

def _children(pid):
    found = []
    for stat in os.scandir("/proc"):
        if not stat.name.isdigit():
            continue
        try:
            with open(f"/proc/{stat.name}/stat") as file:
                fields = file.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.name))
    return found


def _start_worker(env):
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool=prefork",
         "--concurrency=1", "--loglevel=INFO", "--without-gossip", "--without-mingle",
         "--without-heartbeat", "-n", f"test-{uuid.uuid4().hex[:8]}@%h"],
        cwd=services.ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True)


def _stop_worker(worker, signal_number=signal.SIGTERM):
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal_number)
    try:
        out, _ = worker.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        out, _ = worker.communicate()
    return out.decode(errors="replace")


@pytest.mark.postgres
@pytest.mark.redis_server
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("killed", ["pool process", "worker"])
def test_it_sends_the_mail_of_a_worker_killed_mid_send_within_a_minute(killed):
    """A prefork worker over a private Redis, killed while the mail server holds the message
    unanswered: its pool process alone (the OOM killer; the task is redelivered at once), or
    the whole worker, started again at once (docker's restart). No beat runs: the mail must
    go out once, soon after the dead claim lapses (it took 5 to 6 minutes with beat)."""
    services.require_postgres()
    services.require_redis_server()
    sink = services.SMTPSink(can_hang=True).start()
    server = services.RedisServer().start()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", "DEBUG": "1",
           "REDIS_URL": server.url, "DATABASE_URL": services.database_url(),
           "EMAIL_URL": sink.url}
    worker = _start_worker(env)
    try:
        email = make_email("killed mid-send")
        hanging = sink.hang_next()
        with services.celery_broker(server.url):
            tasks.send_outbound_email.delay(email.pk)
        assert hanging.wait(60), "the worker never started sending"
        time.sleep(1)
        started = time.monotonic()
        if killed == "pool process":
            for pid in _children(worker.pid):
                os.kill(pid, signal.SIGKILL)
        else:
            _stop_worker(worker, signal.SIGKILL)
            worker = _start_worker(env)
        sink.wait_for(1, timeout=90)
        waited = time.monotonic() - started
        print(f"mail sent {waited:.1f} s after the {killed} was killed")
        services.wait_until(lambda: OutboundEmail.objects.get(pk=email.pk).sent_at,
                            timeout=10)
        time.sleep(2)
        assert len(sink.messages) == 1
        assert waited < 60
    finally:
        print(_stop_worker(worker)[-3000:])
        server.stop()
        sink.stop()
