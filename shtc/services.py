"""Writes on SHTC cases beyond the 9-1-1 entry (shtc/entry.py). 9-1-2 (SHTC-4, SHTC-12):
the end user's English website in place of its profile, 登錄最終用途並申請 → 案件申請, and
取消申請. Status changes go through permits.workflow.transition(); uploads through
permits.attachments.attachment_add().

Error codes (tests look at these, never at the wording):

    not_entitled     not the case's applicant or the agent who filed it
    not_open         the end user's website changed while the bureau holds the case
    not_registered   案件申請 or 取消申請 of a case that is no longer 登錄中 (FAQ 3.13: one
                     under review is cancelled by the bureau, on the phone)
    never_cancelled  取消申請 of an end-use assurance for Iran or North Korea (FAQ 3.13 (2))
    filed_in_9_2_2   案件申請 of such an assurance: 9-2-2 files it (shtc/iran.py)
    locked           the end user's website of such an assurance once registered (SHTC-6)
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from permits import procedures, workflow
from permits.models import Application, Status
from shtc import iran
from shtc.models import ShtcApplication

# FAQ 3.13 (2): the bureau's Trade Security and Control Section cancels a case under review.
BUREAU_PHONE = "02-2351-0271"

ERRORS = {
    "not_entitled": _("Only the applicant or the agent who filed the case may do this."),
    "not_open": _("The end user's website can be changed only while the case takes its "
                  "documents; this case is “%(status)s”."),
    "not_registered": _("This case is “%(status)s”, no longer registering: it cannot be "
                        "filed or cancelled here. To cancel a case under review, call the "
                        "Trade Security and Control Section of the Bureau of Foreign Trade "
                        "at %(phone)s."),
}


def _locked(application, actor):
    """The case, its row locked for the rest of the transaction; refused unless `actor` is
    its applicant or filing agent."""
    app = Application.objects.select_for_update().get(pk=application.pk)
    if workflow.actor_kind_of(actor, app) != workflow.APPLICANT:
        raise ValidationError(ERRORS["not_entitled"], code="not_entitled")
    return app


def _not_iran_assurance(app, code):
    """Refuse (`code`: iran.MESSAGES) a registered 9-2-1 assurance: it is locked (SHTC-6)
    and filed in 9-2-2."""
    if iran.locked(app):
        message = iran.locked_message() if code == "locked" else iran.MESSAGES[code]
        raise ValidationError(message, code=code)


def _registered(app):
    if app.status != Status.REGISTERED:
        raise ValidationError(ERRORS["not_registered"], code="not_registered",
                              params={"status": app.get_status_display(),
                                      "phone": BUREAU_PHONE})


@transaction.atomic
def end_user_url_set(*, application, actor, url):
    """Record the end user's English website (SHTC-2 item 5), or clear it with "": with a
    URL, the company profile is no longer a required document. Open while the profile may be
    uploaded (Procedure.upload_kinds: 登錄中, 補件, and a 9-2-2 application in 初審中), checked
    under the case's lock like an upload. Returns the ShtcApplication."""
    app = _locked(application, actor)
    _not_iran_assurance(app, "locked")
    if "end_user_profile" not in procedures.get(app.document_type).upload_kinds(app):
        raise ValidationError(ERRORS["not_open"], code="not_open",
                              params={"status": app.get_status_display()})
    shtc, _created = ShtcApplication.objects.update_or_create(
        application=app, defaults={"end_user_url": url})
    return shtc


@transaction.atomic
def application_file(*, application, actor, end_use):
    """登錄最終用途並申請 → 案件申請 (SHTC-4): store the specific end use (English, checked by
    the form) and move the case from 登錄中 to 初審中, which gives it its 收件編號 and queues
    the status mail (workflow.transition).

    The case is locked first. Only a case still 登錄中 is filed here: a case in 補件 goes
    back through 補件完成 (its documents, not its end use, were asked for). Whatever
    transition() refuses (a required document missing, ShtcProcedure.check_transition)
    raises workflow.TransitionNotAllowed and rolls the end use back with it: nothing is
    half-saved. Returns the filed case."""
    app = _locked(application, actor)
    _not_iran_assurance(app, "filed_in_9_2_2")
    _registered(app)
    ShtcApplication.objects.update_or_create(application=app, defaults={"end_use": end_use})
    return workflow.transition(application=app, to=Status.INITIAL_REVIEW, actor=actor)


@transaction.atomic
def application_cancel(*, application, actor):
    """取消申請 (SHTC-12, FAQ 3.13 (1)): cancel a case still 登錄中. A case under review is
    cancelled only by the bureau, on the applicant's call: refused with its phone number. An
    end-use assurance for Iran or North Korea is never cancelled once registered (FAQ 3.13
    (2)): refused here, under the case's lock, and by transition() whoever asks."""
    app = _locked(application, actor)
    problem = iran.cancel_problem(app)
    if problem:
        raise problem
    _registered(app)
    return workflow.transition(application=app, to=Status.CANCELLED, actor=actor)
