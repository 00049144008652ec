"""Delivering OutboundEmail rows at most once.

A sender first claims the row with one UPDATE that succeeds only if the row is unsent and
unclaimed (or its claim has lapsed). Two workers given the same row race on that UPDATE;
one wins, the other sends nothing. A worker killed after claiming leaves a claim that lapses
after CLAIM_LEASE, and the periodic task hands the row out again: the mail is not lost.
(If it died after the mail server accepted the message but before marking the row sent,
that one mail goes twice; no protocol can rule that window out.)
"""

import logging
import secrets
from datetime import timedelta

from django.core.mail import EmailMessage
from django.db.models import F, Q
from django.utils import timezone

from permits.models import OutboundEmail

logger = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=5)
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


def send(email_id):
    token = claim(email_id)
    if token is None:
        return SKIPPED  # sent already, or another worker has it
    email = OutboundEmail.objects.get(pk=email_id)
    try:
        EmailMessage(subject=email.subject, body=email.body, to=[email.to]).send()
    except Exception as error:  # the mail server is down or refused: try again later
        logger.warning("outbox %s: %s", email_id, error)
        OutboundEmail.objects.filter(pk=email_id, claim_token=token).update(
            claimed_until=None, claim_token="", last_error=str(error)[:2000])
        return FAILED
    OutboundEmail.objects.filter(pk=email_id, claim_token=token).update(
        sent_at=timezone.now(), claimed_until=None, last_error="")
    return SENT


def pending_ids(limit=500):
    return list(OutboundEmail.objects.filter(_available(timezone.now()))
                .order_by("created_at").values_list("pk", flat=True)[:limit])
