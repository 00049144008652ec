"""The re-import obligation of an exhibition permit (SHTC-5 (1); manual §1.1.1.2.2 步驟4 item
1): goods exported for an exhibition without an end-use assurance come back after the show,
and the exporter closes the permit (銷案) with the proof of re-import (再輸入證明文件) within
its validity. The case page and the permit PDF say so (ShtcProcedure.detail_rows); the
applicant uploads the proof on the approved case's page (ShtcProcedure.upload_kinds); and
while it is outstanding, a daily job (shtc.tasks.send_reimport_reminders, Celery beat)
mails the case's company e-mail 30 and 7 days before the validity ends and once after.

Each step is mailed once: a ReimportReminder row per permit and step, inserted with its
outbox row under a unique constraint. A step is due when its day has come and no reminder
of that step or a later one was sent; so a job that did not run for a while sends only the
latest step due, never an earlier one after it. The proof stops the reminders, on any
version of the permit. Permits cancelled (註銷) are not reminded; nor are those that ended
more than EXPIRED_WINDOW ago (the one reminder after expiry is due within it).
"""

import datetime

from django.db import IntegrityError, transaction
from django.db.models import Case, Exists, IntegerField, OuterRef, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from permits import notifications
from permits.models import Attachment, DocumentType, OutboundEmail, PermitVersion
from portal.templatetags.roc import roc
from shtc.models import AssuranceRoute, ReimportReminder, ReimportReminderStep
from shtc.procedures import REIMPORT_PROOF

Step = ReimportReminderStep
# How many days before the last day of validity each reminder is due.
DAYS_BEFORE = {Step.DAYS_30: 30, Step.DAYS_7: 7}
# The reminder after expiry is sent within this many days of it, not for older permits.
EXPIRED_WINDOW = datetime.timedelta(days=30)
BATCH_SIZE = 500
TEMPLATE = "shtc/emails/reimport_reminder"


def proofs(permit_id):
    """The proofs of re-import uploaded to any case of the permit, oldest first."""
    return Attachment.objects.filter(application__issued_version__permit_id=permit_id,
                                     document_kind=REIMPORT_PROOF).order_by("uploaded_at")


def obligation_text(application):
    """What the case page and the permit PDF say of the obligation (SHTC-5 (1)), with the
    day the validity ends once the permit is issued, and the proof once it came."""
    version = application.permit_version
    sold = _("Goods sold during the exhibition: the exporter must still supply the "
             "importing country's import certificate or end-use certificate, or an end-use "
             "assurance of the foreign importer or end user, declaring the end use and end "
             "user truthfully.")
    if version is None:
        return " ".join((_("Once the permit is issued, close it within its validity with the "
                           "proof of re-import of the exhibition goods."), sold))
    proof = proofs(version.permit_id).values_list("uploaded_at", flat=True).first()
    if proof is not None:
        return " ".join((_("Proof of re-import received on %(date)s.")
                         % {"date": roc(timezone.localdate(proof))}, sold))
    return " ".join((_("Close this permit with the proof of re-import of the exhibition goods "
                       "by %(date)s (the end of its validity): upload it on the case page.")
                     % {"date": roc(version.valid_until)}, sold))


def _due_step(today):
    """The reminder step due for a version, as SQL over its valid_until."""
    return Case(
        When(valid_until__lt=today, then=Value(Step.EXPIRED)),
        When(valid_until__lte=today + datetime.timedelta(days=DAYS_BEFORE[Step.DAYS_7]),
             then=Value(Step.DAYS_7)),
        default=Value(Step.DAYS_30), output_field=IntegerField())


def outstanding(today):
    """The permit versions in force of exhibition permits not cancelled, without a proof of
    re-import, whose validity ends within 30 days or ended within EXPIRED_WINDOW, and whose
    due step (annotated `due`) was not mailed yet, nor a later one."""
    newer = PermitVersion.objects.filter(permit_id=OuterRef("permit_id"),
                                         version__gt=OuterRef("version"))
    proof = Attachment.objects.filter(application__issued_version__permit_id=OuterRef(
        "permit_id"), document_kind=REIMPORT_PROOF)
    sent = ReimportReminder.objects.filter(permit_id=OuterRef("permit_id"),
                                           step__gte=OuterRef("due"))
    return (PermitVersion.objects
            .filter(permit__document_type=DocumentType.SHTC_EXPORT,
                    permit__revoked_at__isnull=True,
                    application__shtc__assurance_route=AssuranceRoute.EXHIBITION,
                    valid_until__gte=today - EXPIRED_WINDOW,
                    valid_until__lte=today + datetime.timedelta(days=DAYS_BEFORE[Step.DAYS_30]))
            .exclude(Exists(newer)).exclude(Exists(proof))
            .annotate(due=_due_step(today))
            .exclude(Exists(sent)))


def _mail(version, step, today):
    application = version.application
    return notifications.case_mail(application, template=TEMPLATE, context={
        "permit_no": version.permit.permit_no, "valid_until": version.valid_until,
        "expired": step == Step.EXPIRED,
        "days_left": (version.valid_until - today).days + 1})  # the last day counts


def _send_batch(versions, today):
    """One transaction: the outbox rows and the reminder rows of `versions`; the mail is
    queued after commit. Four queries whatever the batch holds."""
    mails = [(version, _mail(version, version.due, today)) for version in versions]
    with transaction.atomic():
        emails = OutboundEmail.objects.bulk_create([mail for _v, mail in mails])
        ReimportReminder.objects.bulk_create([
            ReimportReminder(permit_id=version.permit_id, step=version.due,
                             valid_until=version.valid_until, email=email)
            for (version, _mail_), email in zip(mails, emails, strict=True)])
        notifications.queue_after_commit(email.pk for email in emails)
    return len(emails)


def reminders_send(*, today=None, batch_size=BATCH_SIZE):
    """Mail every exhibition permit's applicant whose proof of re-import is outstanding and
    whose reminder step is due (module docstring). Batches of `batch_size` permits, each a
    fixed number of queries; a batch that meets a reminder another run wrote meanwhile (the
    unique constraint) is rolled back and read again without it. Returns how many mails."""
    today = today or timezone.localdate()
    pending = (outstanding(today).select_related("permit", "application__applicant")
               .order_by("pk"))
    sent, last, retries = 0, 0, 0
    while versions := list(pending.filter(pk__gt=last)[:batch_size]):
        try:
            sent += _send_batch(versions, today)
        except IntegrityError:
            retries += 1
            if retries > 3:
                raise
            continue
        last = versions[-1].pk
    return sent
