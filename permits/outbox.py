"""Delivering OutboundEmail rows at most once.

A sender first claims the row with one UPDATE that succeeds only if the row is unsent and
unclaimed (or its claim has lapsed). Two workers given the same row race on that UPDATE;
one wins, the other sends nothing: each claim sends at most once. A worker killed after
claiming leaves a claim that lapses after CLAIM_LEASE, and the row is handed out again: the
mail is not lost. (If it died after the mail server accepted the message but before marking
the row sent, that one mail goes twice; no protocol can rule that window out.)

The lease is short and a heartbeat renews it while the mail is being sent (issue 9, point 8:
with a 5-minute lease a killed worker's mail waited 5 to 6 minutes; bench/outbox_kill.py).
A live sender keeps its claim however slow the mail server is; a dead one stops renewing and
its claim lapses within CLAIM_LEASE. The task queued again for the row (acks_late and
reject_on_worker_lost redeliver it when a pool process dies) waits for that moment
(held_until) instead of giving up; beat's resend is the net for a worker that died whole.
A claim could only lapse under a live sender if the database missed every renewal for
CLAIM_LEASE - HEARTBEAT; the sender then logs that it lost its claim.
"""

import contextlib
import logging
import secrets
import threading
from datetime import timedelta

from django.core.mail import EmailMessage
from django.db import DatabaseError, connection, connections
from django.db.models import F, Q
from django.utils import timezone

from permits.models import OutboundEmail

logger = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(seconds=30)
HEARTBEAT = timedelta(seconds=10)  # two renewals may fail before the claim lapses
SENT, FAILED, SKIPPED = "sent", "failed", "skipped"


def _available(now):
    return Q(sent_at__isnull=True) & (Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))


def claim(email_id):
    """Claim the row for this sender; the token proves the claim later, or None."""
    token = secrets.token_hex(16)
    now = timezone.now()
    won = OutboundEmail.objects.filter(_available(now), pk=email_id).update(
        claimed_until=now + CLAIM_LEASE, claim_token=token, attempts=F("attempts") + 1)
    return token if won else None


def _renew(email_id, token):
    """Extend this sender's claim; False if it is no longer this sender's."""
    return bool(OutboundEmail.objects.filter(pk=email_id, claim_token=token,
                                             sent_at__isnull=True)
                .update(claimed_until=timezone.now() + CLAIM_LEASE))


@contextlib.contextmanager
def _heartbeat(email_id, token):
    """Renew the claim every HEARTBEAT, from a thread of its own, while the block runs."""
    if connection.in_atomic_block:
        # Sent inside a transaction (tasks run in-process): the claim is not visible to
        # any other sender before commit, and a second connection would wait on our lock.
        yield
        return
    stopped = threading.Event()

    def beat():
        try:
            while not stopped.wait(HEARTBEAT.total_seconds()):
                try:
                    if not _renew(email_id, token):
                        logger.warning("outbox %s: the claim was lost while sending", email_id)
                        return
                except DatabaseError as error:  # try again at the next beat
                    logger.warning("outbox %s: claim not renewed: %s", email_id, error)
        finally:
            connections.close_all()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"outbox-heartbeat-{email_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stopped.set()
        thread.join()


def send(email_id):
    token = claim(email_id)
    if token is None:
        return SKIPPED  # sent already, or another worker has it
    email = OutboundEmail.objects.get(pk=email_id)
    with _heartbeat(email_id, token):
        try:
            EmailMessage(subject=email.subject, body=email.body, to=[email.to]).send()
        except Exception as error:  # the mail server is down or refused: try again later
            logger.warning("outbox %s: %s", email_id, error)
            OutboundEmail.objects.filter(pk=email_id, claim_token=token).update(
                claimed_until=None, claim_token="", last_error=str(error)[:2000])
            return FAILED
    marked = OutboundEmail.objects.filter(pk=email_id, claim_token=token).update(
        sent_at=timezone.now(), claimed_until=None, last_error="")
    if not marked:
        logger.warning("outbox %s: sent after its claim was lost; another sender may have "
                       "sent it too", email_id)
        OutboundEmail.objects.filter(pk=email_id, sent_at__isnull=True).update(
            sent_at=timezone.now())
    return SENT


def held_until(email_id):
    """When the live claim of another sender on the unsent row lapses, or None (the row is
    sent, gone or free)."""
    return (OutboundEmail.objects
            .filter(pk=email_id, sent_at__isnull=True, claimed_until__gte=timezone.now())
            .values_list("claimed_until", flat=True).first())


def pending_ids(limit=500):
    return list(OutboundEmail.objects.filter(_available(timezone.now()))
                .order_by("created_at").values_list("pk", flat=True)[:limit])
