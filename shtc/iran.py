"""Iran and North Korea, 9-2-1 輸往伊朗北韓-最終用途保證書登錄作業 (SHTC-6; the SHTC manual §1.1.2
步驟3 and 4, FAQ 3.13 (2)): which cases are its end-use assurances, and the rules that hold
for them once registered. Plain functions over a case, no request; the entry pages are
shtc/iran_entry.py, and ShtcProcedure (shtc/procedures.py), shtc/services.py and the 9-1-2
pages ask these.

    暫存 ─附件申請→ 登錄中 (登錄編號): locked. The applicant or agent changes nothing; the case
    cannot be cancelled, by anyone (FAQ 3.13 (2)), and is not filed itself: 9-2-2 files a
    new application loaded from it (shtc.procedures.is_iran_application).
    登錄中 ─the bureau reopens it, with a note (workflow: REGISTERED → DRAFT, BUREAU)→ 暫存,
    the same 登錄編號 kept ─附件申請→ 登錄中 again.

Error codes (tests look at these, never at the wording):

    never_cancelled  cancelling an assurance for Iran or North Korea once registered
    filed_in_9_2_2   filing the assurance itself (9-1-2's 案件申請): 9-2-2 files it
    locked           changing a registered assurance (the bureau reopens it)
    reopen_9_2_1     the bureau's reopening of anything but a 9-2-1 assurance
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from permits.models import DocumentType, Kind, Status
from shtc import rules

MESSAGES = {
    # FAQ 3.13 2., in the manual's words.
    "never_cancelled": _("An end-use assurance for Iran or North Korea cannot be cancelled "
                         "once it is registered."),
    "filed_in_9_2_2": _("An end-use assurance for Iran or North Korea is not filed here: "
                        "apply in 9-2-2 To Iran or North Korea: SHTC export permit "
                        "application, with its registration number."),
    # The manual §1.1.2 步驟4, in its words.
    "locked": _("Once the registration number is given, a field to be corrected is reopened "
                "only by the bureau: call the Trade Security and Control Section of the "
                "Bureau of Foreign Trade at %(phone)s."),
    # What the case page says next (ShtcProcedure.next_step): the manual §1.1.2 步驟4, 5.
    "registered_next": _("Print the end-use assurance registration data: the exporter signs "
                         "and dates it and e-mails the scan to the foreign importer, who "
                         "checks that the goods / quantities and amounts / currencies are "
                         "complete, signs and dates it and e-mails it back. Download the "
                         "red-flag list (abnormal transaction) affidavit for the applicant to "
                         "check, sign and stamp. With the signed assurance and the other "
                         "documents, apply in 9-2-2 To Iran or North Korea: SHTC export "
                         "permit application. The assurance cannot be cancelled."),
    "reopened_next": _("The bureau reopened this end-use assurance for changes: correct it "
                       "in 9-2-1, then click “Attachment application” again; its "
                       "registration number stays."),
    "reopen_9_2_1": _("Only an end-use assurance registered in 9-2-1 (Iran, North Korea) is "
                      "reopened for changes by the bureau."),
}


def own_procedure_countries():
    """The codes of the destinations of 9-2-1: the active controlled areas with a procedure
    of their own (Iran and North Korea as seeded; the bureau keeps them: shtc.rules)."""
    return sorted(code for code in rules.controlled_areas() if rules.has_own_procedure(code))


def is_assurance(application):
    """Whether the case is a 9-2-1 end-use assurance: an SHTC 新申請 to Iran or North Korea,
    being entered or registered, that is not a 9-2-2 application (those name the assurance
    they were loaded from)."""
    # Its statuses (never filed, never cancelled) first: a list of cases asks each row.
    if application.status not in (Status.DRAFT, Status.REGISTERED) or \
            application.document_type != DocumentType.SHTC_EXPORT or \
            application.kind != Kind.NEW or \
            not rules.has_own_procedure(application.destination_country):
        return False
    from shtc.procedures import is_iran_application

    return not is_iran_application(application)


def registered(application):
    """Whether an assurance has been registered: it has its 登錄編號 (kept when the bureau
    reopens it)."""
    return bool(application.registration_no) and is_assurance(application)


def locked(application):
    """Whether a 9-2-1 assurance is registered and not reopened: nothing of it changes."""
    return application.status == Status.REGISTERED and is_assurance(application)


def locked_message():
    """The manual's words on a locked assurance, with the phone of the bureau's Trade
    Security and Control Section (9-1-2's section_phone: shtc.services.BUREAU_PHONE)."""
    from shtc.services import BUREAU_PHONE

    return MESSAGES["locked"] % {"phone": BUREAU_PHONE}


def cancel_problem(application):
    """FAQ 3.13 (2): the ValidationError refusing to cancel a registered Iran / North Korea
    assurance (whoever asks, whatever its status since), or None."""
    if registered(application):
        return ValidationError(MESSAGES["never_cancelled"], code="never_cancelled")
    return None


def trade_ban(application):
    """[(code, message)] of the destination's trade ban (North Korea since 2017-09-26), shown
    on every step of 9-2-1; the own-procedure warning is 9-1-1's, not said here."""
    return [(code, message) for code, message
            in rules.destination_warnings(application.destination_country)
            if code == "trade_ban"] if application is not None else []
