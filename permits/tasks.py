"""Sending the outbox. Tasks take ids and call into permits.outbox."""

import logging
from datetime import timedelta

from celery import shared_task
from celery.signals import worker_ready

from permits import outbox

logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=None)
def send_outbound_email(self, email_id):
    """Send one outbox row. On an SMTP failure the row stays unsent and the task retries
    with a growing pause (30 s doubling up to 30 min); the periodic task below is the
    safety net for tasks that were lost (a worker killed, the broker restarted). A row that
    another sender holds is tried again when that claim lapses: if the holder was killed
    (this task redelivered after its pool process died), the mail goes out then."""
    result = outbox.send(email_id)
    if self.request.is_eager:
        # (In-process, without a broker, nothing can wait: the row stays in the outbox.)
        return result
    if result == outbox.FAILED:
        delay = min(30 * 2 ** self.request.retries, 30 * 60)
        raise self.retry(countdown=delay)
    if result == outbox.SKIPPED and (until := outbox.held_until(email_id)):
        raise self.retry(eta=until + timedelta(seconds=1))
    return result


@shared_task(ignore_result=False)  # its answer is read (settings: results are ignored)
def resend_unsent_emails():
    """Queue every unsent row that no worker holds: run every minute by Celery beat."""
    ids = outbox.pending_ids()
    for email_id in ids:
        send_outbound_email.delay(email_id)
    return len(ids)


@worker_ready.connect
def resend_what_a_dead_worker_held(**kwargs):
    """A worker that starts (often because the one before it died mid-send: docker restarts
    it at once) runs the resend as soon as the claims that worker held have lapsed, instead
    of at beat's next minute after that (issue 9, point 8; bench/outbox_kill.py)."""
    resend_unsent_emails.apply_async(countdown=outbox.CLAIM_LEASE.total_seconds() + 1)


@shared_task
def purge_drafts():
    """Delete drafts untouched for DRAFT_MAX_AGE_DAYS, the unsaved input (ACC-3) of filed
    cases or as old, and goods item imports older than a day: run nightly by Celery beat.
    Returns how many drafts."""
    from permits import autosave, entry, item_imports

    autosave.unsaved_purge()
    item_imports.imports_purge()
    return entry.drafts_purge()


@shared_task
def check_item_import(import_id):
    """Read and check an uploaded spreadsheet of goods items (SHTC-17), saving its progress
    for the page that follows it. A worker killed mid-check leaves the message for another
    (acks late), which checks the file again from the start."""
    from permits import item_imports

    return item_imports.import_check(import_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=60, retry_backoff_max=60 * 60,
             max_retries=12)
def archive_permit_version(version_id):
    """Store the archive copy of an issued permit version (permits.pdf.archive_permit_version),
    queued by permits.services.permit_issue once the approval commits; retried while the
    storage (a bucket) cannot be written."""
    from permits import pdf
    from permits.models import PermitVersion

    version = PermitVersion.objects.select_related("permit", "application").get(pk=version_id)
    return pdf.archive_permit_version(version)


# How far back the nightly sweep looks for a version whose archive copy is missing.
ARCHIVE_SWEEP_DAYS = 3


@shared_task
def archive_missing_permit_versions():
    """The archive's safety net, run nightly by Celery beat: the copy of every version issued
    in the last ARCHIVE_SWEEP_DAYS days that is not in the storage (its task lost with a
    broker down at commit, or failed for good) is stored now. Returns how many."""
    from django.utils import timezone

    from permits import pdf
    from permits.models import PermitVersion
    from permits.storage import private_storage

    since = timezone.now() - timedelta(days=ARCHIVE_SWEEP_DAYS)
    stored = 0
    for version in (PermitVersion.objects.filter(issued_at__gte=since)
                    .select_related("permit", "application").order_by("pk").iterator()):
        if not private_storage.exists(pdf.archive_name(version)):
            pdf.archive_permit_version(version)
            stored += 1
    return stored
