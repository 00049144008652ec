"""Sending the outbox. Tasks take ids and call into permits.outbox."""

import logging

from celery import shared_task

from permits import outbox

logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=None)
def send_outbound_email(self, email_id):
    """Send one outbox row. On an SMTP failure the row stays unsent and the task retries
    with a growing pause (30 s doubling up to 30 min); the periodic task below is the
    safety net for tasks that were lost (a worker killed, the broker restarted)."""
    result = outbox.send(email_id)
    if result == outbox.FAILED and not self.request.is_eager:
        # (In-process, without a broker, nothing can wait: the row stays in the outbox.)
        delay = min(30 * 2 ** self.request.retries, 30 * 60)
        raise self.retry(countdown=delay)
    return result


@shared_task
def resend_unsent_emails():
    """Queue every unsent row that no worker holds: run every minute by Celery beat."""
    ids = outbox.pending_ids()
    for email_id in ids:
        send_outbound_email.delay(email_id)
    return len(ids)


@shared_task
def purge_drafts():
    """Delete drafts untouched for DRAFT_MAX_AGE_DAYS: run nightly by Celery beat."""
    from permits import entry

    return entry.drafts_purge()
