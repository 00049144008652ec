"""Status e-mail (PERMIT-5): an outbox row per change, written in the caller's transaction
and sent by Celery after commit (permits.tasks)."""

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from permits.models import OutboundEmail, Status
from portal import menu

# What the applicant must do next, per new status (FAQ 3.3, 3.8, SHTC-4, SHTC-8).
NEXT_STEP = {
    Status.REGISTERED: _("Upload the documents and submit the case (9-1-2), or cancel it."),
    Status.INITIAL_REVIEW: _("Nothing for now: the bureau reviews the case (3 to 7 working "
                             "days; cases in consultation take longer)."),
    Status.CONSULTATION: _("Nothing for now: the case is in inter-agency consultation (25 "
                           "to 30 working days)."),
    Status.SECOND_REVIEW: _("Nothing for now: the case is in second review."),
    Status.SUPPLEMENT: _("Supply what the bureau asks for below: open the case in the "
                         "portal, upload the documents and resubmit it."),
    Status.RETURNED: _("Nothing for now: the case went back to initial review."),
    Status.AMENDMENT_CLOSED: _("The case was closed for amendment: file an amendment (補正) "
                               "with the original receipt number."),
    Status.REJECTED: _("The case was rejected; the reason is below."),
    # The menu named in the reader's language (issue 9, point 16), as the menu shows it.
    Status.APPROVED: format_lazy(
        _("The permit was issued. Print its reference copy from {menu} if you need one."),
        menu=menu.path(_("Application / write-off query"),
                       _("Application status query (with printing)"))),
    Status.CANCELLED: _("The case was cancelled."),
}


def queue_status_mail(application, *, old, note=""):
    """Write the outbox row for the case's new status; it is sent after commit.

    Mail goes to the company e-mail given on the case (申請公司 E-mail), in the applicant
    account's language, until the case is closed (PERMIT-5): the closing status is the last
    one mailed. Back to 暫存 is mailed only as the bureau's 開放權限 of a registered case
    (SHTC-6: a 9-2-1 assurance reopened for changes, 登錄中 → 暫存), told as such.
    """
    reopened = application.status == Status.DRAFT and old == Status.REGISTERED
    if application.status == Status.DRAFT and not reopened:
        return None
    from permits import procedures

    language = application.applicant.language or settings.LANGUAGE_CODE
    with translation.override(language):
        context = {
            "application": application,
            "old_status": Status(old).label,
            "new_status": application.get_status_display(),
            # The procedure's word on it (permits.procedures: NEXT_STEP by default).
            "next_step": procedures.get(application.document_type).next_step(application),
            "note": note,
            "permit_version": (application.permit_version
                               if application.status == Status.APPROVED else None),
            # Users never see 暫存 as a status: a case filed and issued at once (masks,
            # MASK-3) is told as "permit … issued", with its number in the subject; a case
            # filed to the bureau as "filed, now …".
            "issued_at_once": old == Status.DRAFT and application.status == Status.APPROVED,
            "filed": old == Status.DRAFT,
            "reopened": reopened,
            "case_url": settings.PORTAL_BASE_URL + reverse("permits:application_detail",
                                                           args=[application.pk]),
        }
        subject = " ".join(render_to_string("emails/status_subject.txt", context).split())
        body = render_to_string("emails/status.txt", context)
    # *decision*: status mail goes to the company e-mail only, as FAQ 3.12 says; a filing
    # agent follows its cases on the dashboard.
    email = OutboundEmail.objects.create(application=application, to=application.company_email,
                                         subject=subject, body=body)
    transaction.on_commit(lambda: _enqueue(email.pk))
    return email


def _enqueue(pk):
    """Queue the row's sending. With the broker down the row simply stays unsent: the
    request that committed it still succeeds, and beat's resend sends it later."""
    from permits.tasks import send_outbound_email
    from portal.tasks import enqueue

    enqueue(send_outbound_email, pk)


def queue_cancellation_mail(permit, revocation):
    """Write the outbox row telling the applicant that `permit` was cancelled (註銷, SHTC-11):
    the number, the day (ROC calendar), the reason and how to apply for the balance. It goes
    to the company e-mail on the case of the version in force, as status mail does."""
    from permits import procedures

    application = permit.current.application
    language = application.applicant.language or settings.LANGUAGE_CODE
    problem = procedures.get(permit.document_type).balance_reissue_problem(permit)
    with translation.override(language):
        context = {
            "application": application,
            "permit": permit,
            "revocation": revocation,
            # A permit its procedure does not re-issue for its balance says where instead.
            "reissue_note": " ".join(str(message) for message in problem) if problem else "",
            "case_url": settings.PORTAL_BASE_URL + reverse("permits:application_detail",
                                                           args=[application.pk]),
        }
        subject = " ".join(render_to_string("emails/cancellation_subject.txt",
                                            context).split())
        body = render_to_string("emails/cancellation.txt", context)
    email = OutboundEmail.objects.create(application=application, to=application.company_email,
                                         subject=subject, body=body)
    transaction.on_commit(lambda: _enqueue(email.pk))
    return email


def case_mail(application, *, template, context=None):
    """An unsaved outbox row about `application` that is not a status change (SHTC-5: the
    reminder to send the proof of re-import), to the company e-mail of the case like status
    mail, in the applicant account's language (select_related("applicant") to read many).
    The subject is `template`_subject.txt, the body `template`.txt, rendered with the case,
    its page's address and `context`. The caller saves it (in bulk, in the transaction that
    records why it was sent) and queues it with queue_after_commit()."""
    language = application.applicant.language or settings.LANGUAGE_CODE
    with translation.override(language):
        context = {"application": application,
                   "case_url": settings.PORTAL_BASE_URL + reverse(
                       "permits:application_detail", args=[application.pk]),
                   **(context or {})}
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        body = render_to_string(f"{template}.txt", context)
    return OutboundEmail(application=application, to=application.company_email,
                         subject=subject[:250], body=body)


def queue_after_commit(email_ids):
    """Queue the sending of the outbox rows `email_ids` once the current transaction commits
    (rows written in bulk, such as reminders)."""
    ids = list(email_ids)
    transaction.on_commit(lambda: _enqueue_many(ids))


def _enqueue_many(ids):
    from permits.tasks import send_outbound_email
    from portal.tasks import enqueue

    for pk in ids:
        if enqueue(send_outbound_email, pk) is None:
            break  # the broker is down: the others would fail the same way; beat resends
