"""Changes of an issued permit and its cancellation (PERMIT-2, PERMIT-3, SHTC-8 to SHTC-11).

The gates of every change kind live in change_problem(), the one place that says whether a
change may be filed or issued: the entry pages call it (through check_change) when the change
is filed, and permits.services.permit_issue calls check_change again under the permit's row
lock when the bureau approves it, so that what customs recorded, or another change approved,
in between is seen and the change refused (nothing is half-saved: transition() is atomic).

    更正 (correction)                  no clearance recorded yet (PERMIT-3, SHTC-9)
    單證比對不符修正 (mismatch corr.)   a mismatch found by the matching, nothing released
                                     (SHTC-10)
    已通關相符修正 (cleared corr.)      a clearance recorded (masks, PERMIT-3)
    補正 (amendment)                   a case the bureau closed 補正結案, amended once (SHTC-8)
    餘額重簽 (balance re-issue)         a cancelled permit, re-issued once (SHTC-11)

A change of a permit (the first three) also needs the permit not cancelled and the version
it changes still the newest. A write-off without a declaration counts as clearance and release
(reconciliation.ledger.write_off sets the permit's facts): the mask manual allows 更正 only
before the permit has any record of entering customs procedures.

Error codes (ValidationError.code; tests and views look at these, never at the wording):

    not_found          no permit with that number among the user's (the same for another's)
    revoked            a change or a cancellation of a cancelled permit
    expired            a cancellation of a permit past its validity (SHTC-11)
    no_extension       展延: a permit is never extended (SHTC-14)
    not_current        the version changed is no longer the newest (names the newer one)
    has_clearance      更正 after a clearance
    no_mismatch        單證比對不符修正 without a mismatch
    has_release        單證比對不符修正 after a release
    unknown_declaration, declaration_matched, wrong_coordination_id  單證比對不符修正 of one
                       declaration with its 會辦識別碼 (reconciliation.services.mismatch_problem)
    no_clearance       已通關相符修正 before any clearance
    kind_not_allowed   a change kind the procedure does not offer
    not_amendable      補正 of a case not closed 補正結案
    already_amended    補正 of a case that already has one filed or approved
    not_revoked        餘額重簽 of a permit that was not cancelled
    already_reissued   餘額重簽 of a permit whose balance was already filed or re-issued
    below_used         a corrected item's quantity below what its line already used
    line_moved         an item with quantities used that no longer keeps its item number
    over_balance       a balance re-issue item above what is left of its line
    own_procedure      餘額重簽 of a permit its procedure does not re-issue for its balance
                       (Procedure.balance_reissue_problem: SHTC, to Iran or North Korea)
    unknown_source_line  an item citing an item the permit version does not have
    reason_required, reason_too_long  the reason for a cancellation
"""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from permits import notifications, procedures
from permits.models import (
    Application,
    Kind,
    Permit,
    PermitRevocation,
    PermitState,
    Status,
)
from permits.services import coded_error

ZERO = Decimal(0)
REASON_MAX_LENGTH = 500

# The change kinds of an issued permit: they add a version to it (PERMIT-2).
PERMIT_CHANGE_KINDS = (Kind.CORRECTION, Kind.MISMATCH_CORRECTION, Kind.CLEARED_CORRECTION)
# A case in one of these has been filed and not withdrawn: a second 補正 or 餘額重簽 of the
# same source is refused while one is (or was approved). A case closed 補正結案 is continued by
# its own 補正, so it still counts; a rejected or cancelled one frees the source again.
FILED = (Status.REGISTERED, Status.INITIAL_REVIEW, Status.CONSULTATION, Status.SECOND_REVIEW,
         Status.SUPPLEMENT, Status.RETURNED, Status.AMENDMENT_CLOSED, Status.APPROVED)

MESSAGES = {
    "not_found": _("No permit with this number was found among your permits."),
    "revoked": _("The permit was cancelled."),
    "expired": _("The permit's validity has ended: it can no longer be cancelled, nor its "
                 "balance re-issued. Cancel a permit for its balance before its validity "
                 "ends."),
    "no_extension": _("A permit whose validity has ended cannot be extended: apply "
                      "anew."),
    "not_current": _("The permit was changed meanwhile: version %(newer)s is now in force. "
                     "Load its data again."),
    "has_clearance": _("Customs has recorded a clearance under this permit: a correction "
                       "is no longer possible (choose another application kind)."),
    "no_mismatch": _("The matching found no mismatch for this permit: a mismatch correction "
                     "is not possible."),
    "has_release": _("Goods were already released under this permit: cancel it and apply "
                     "anew for the balance instead."),
    "no_clearance": _("Customs has recorded no clearance under this permit: a "
                      "post-clearance correction is not possible (choose Correction)."),
    "kind_not_allowed": _("“%(kind)s” is not offered for this document type."),
    "not_amendable": _("Only a case closed for amendment (補正結案) can be amended; case "
                       "%(number)s is “%(status)s”."),
    "already_amended": _("Case %(number)s already has an amendment: %(amendment)s."),
    "not_revoked": _("Only a cancelled permit can be re-issued for its balance: cancel "
                     "permit %(permit)s first (menu 14)."),
    "already_reissued": _("The balance of permit %(permit)s was already applied for: "
                          "%(case)s."),
    "below_used": _("Item %(line)s: %(used)s was already written off; the quantity cannot be "
                    "less."),
    "line_moved": _("Item %(line)s of the permit has quantities written off: it must stay "
                    "item %(line)s."),
    "over_balance": _("Item %(line)s: item %(source)s of the cancelled permit has %(balance)s "
                      "left; %(quantity)s is more than that."),
    "unknown_source_line": _("Item %(line)s cites item %(source)s of the permit, which it "
                             "does not have."),
    "reason_required": _("Enter the reason for the cancellation."),
    "reason_too_long": _("The reason may be at most %(max)s characters long."),
}


def error(code, **params):
    return coded_error(MESSAGES, code, **params)


def _ledger():
    # permits sits below reconciliation (whose models point at permits), so it never imports
    # it at load time; the write-off ledger is asked only when a change is checked.
    from reconciliation import ledger

    return ledger


# --- what a case changes ------------------------------------------------------------------


def _chain(application):
    """The case and the cases it amends, back to the first that is not a 補正."""
    chain = [application]
    while chain[-1].kind == Kind.AMENDMENT and chain[-1].amends_id and \
            chain[-1].amends_id not in {case.pk for case in chain}:
        chain.append(chain[-1].amends)
    return chain


def origin(application):
    """(kind, version): what `application` does to which permit version. A 補正 continues the
    case it amends (SHTC-8): a 補正 of a closed 更正 is still a 更正 of that permit, a 補正 of
    a closed 新申請 a new permit; it follows the chain of amendments to the first case that
    is not one."""
    root = _chain(application)[-1]
    kind = Kind.NEW if root.kind == Kind.AMENDMENT else Kind(root.kind)
    return kind, application.changes or root.changes


# --- the gates ------------------------------------------------------------------------------


def change_problem(*, kind, permit=None, version=None, amends=None, application=None,
                   declaration_no="", coordination_id=""):
    """Why a change of `kind` may not be filed or issued now (a ValidationError), or None.

    `permit` is the permit changed (or cancelled, for 餘額重簽); `version` the version the
    change was loaded from, if known; `amends` the case a 補正 amends; `application` the case
    being checked, if it exists, so that it does not count against itself. The caller holds
    the permit's row lock where a race matters (check_change does). A 單證比對不符修正 of one
    declaration (SHTC-10) gives its `declaration_no` and the mismatch's `coordination_id`
    (會辦識別碼): reconciliation.services.mismatch_problem checks them (its codes:
    unknown_declaration, no_mismatch, declaration_matched, wrong_coordination_id,
    has_release) instead of "some mismatch on the permit".
    """
    declaration = {"declaration_no": declaration_no, "coordination_id": coordination_id}
    kind = Kind(kind)
    if kind == Kind.NEW:
        return None
    if permit is None and amends is None:
        raise ValueError("a change names the permit it changes or the case it amends")
    procedure = procedures.get((permit or amends).document_type)
    if kind not in procedure.change_kinds:
        return error("kind_not_allowed", kind=kind.label)
    others = Application.objects.filter(status__in=FILED)
    if application is not None and application.pk is not None:
        others = others.exclude(pk=application.pk)
    if kind == Kind.AMENDMENT:
        if amends is None or amends.status != Status.AMENDMENT_CLOSED:
            return error("not_amendable", number=getattr(amends, "number", ""),
                         status=amends.get_status_display() if amends else "")
        amendment = others.filter(kind=Kind.AMENDMENT, amends=amends).first()
        if amendment is not None:
            return error("already_amended", number=amends.number, amendment=amendment.number)
        # What the amended case did to a permit, the amendment does: its gates apply too,
        # the closed cases it continues not counting against it.
        root_kind, root_version = origin(amends)
        if root_kind == Kind.NEW:
            return None
        others = others.exclude(pk__in=[case.pk for case in _chain(amends)])
        return _permit_problem(kind=root_kind, permit=permit or root_version.permit,
                               version=version or root_version, others=others, **declaration)
    return _permit_problem(kind=kind, permit=permit, version=version, others=others,
                           **declaration)


def _permit_problem(*, kind, permit, version, others, declaration_no="", coordination_id=""):
    if kind == Kind.BALANCE_REISSUE:
        # SHTC-11: cancel first (menu 14), then re-issue what is left, once.
        problem = procedures.get(permit.document_type).balance_reissue_problem(permit)
        if problem:
            return problem
        if permit.revoked_at is None:
            return error("not_revoked", permit=permit.permit_no)
        reissue = others.filter(kind=Kind.BALANCE_REISSUE, changes__permit=permit).first()
        if reissue is not None:
            return error("already_reissued", permit=permit.permit_no, case=reissue.number)
        return None
    if permit.revoked_at is not None:
        return error("revoked")
    current = permit.versions.order_by("-version").first()
    if version is not None and current is not None and current.pk != version.pk:
        return error("not_current", newer=current.version)
    if kind == Kind.CORRECTION and permit.has_clearance():
        return error("has_clearance")
    if kind == Kind.MISMATCH_CORRECTION and (declaration_no or coordination_id):
        # SHTC-10: that declaration's mismatch, by its 會辦識別碼 (above reconciliation's
        # models, like _ledger()).
        from reconciliation.services import mismatch_problem

        return mismatch_problem(permit=permit, declaration_no=declaration_no,
                                coordination_id=coordination_id)
    if kind == Kind.MISMATCH_CORRECTION:
        # A declaration customs cancelled no longer counts (RECON-1).
        if not permit.declarations.filter(result="mismatch",
                                          cancelled_at__isnull=True).exists():
            return error("no_mismatch")
        if permit.has_release():
            return error("has_release")
    if kind == Kind.CLEARED_CORRECTION and not permit.has_clearance():
        return error("no_clearance")
    return None


def items_problem(application):
    """The problems of a change's or balance re-issue's items against the ledger of the
    permit it comes from (a list of ValidationErrors, empty if none).

    The ledger counts what was used per item number (項次) of the permit, whatever version
    is in force, so a line with quantities used keeps its number in the new version, cites
    itself and keeps at least what was used (PERMIT-3). A balance re-issue asks for no more
    than what is left of each line of the cancelled permit (SHTC-11).
    """
    kind, version = origin(application)
    if kind == Kind.NEW or version is None:
        return []
    items = list(application.items.order_by("line_no"))
    source_lines = set(version.application.items.values_list("line_no", flat=True))
    problems = [error("unknown_source_line", line=item.line_no, source=item.source_line_no)
                for item in items
                if item.source_line_no is not None and item.source_line_no not in source_lines]
    if problems:
        return problems
    if kind == Kind.BALANCE_REISSUE:
        left = _balances(version)
        asked = defaultdict(lambda: ZERO)
        for item in items:
            if item.source_line_no is not None:
                asked[item.source_line_no] += item.quantity
        for item in items:
            source = item.source_line_no
            if source is not None and asked[source] > left.get(source, ZERO):
                problems.append(error("over_balance", line=item.line_no, source=source,
                                      balance=left.get(source, ZERO), quantity=asked[source]))
        return problems
    permit = version.permit
    used = _ledger().used_by_line([permit])[permit.pk]
    by_line = {item.line_no: item for item in items}
    for line_no, quantity in sorted(used.items()):
        if quantity <= 0:
            continue
        item = by_line.get(line_no)
        if item is None or item.source_line_no != line_no:
            problems.append(error("line_moved", line=line_no))
        elif item.quantity < quantity:
            problems.append(error("below_used", line=line_no, used=quantity))
    return problems


def mismatch_declaration(application):
    """{"declaration_no", "coordination_id"} a 單證比對不符修正 carries (SHTC-10), as
    change_problem takes them: the case's own, or for a 補正 those of the case it continues."""
    for case in _chain(application):
        if case.declaration_no or case.coordination_id:
            return {"declaration_no": case.declaration_no,
                    "coordination_id": case.coordination_id}
    return {"declaration_no": "", "coordination_id": ""}


def _balances(version):
    """{line_no: what is left on the ledger} of the permit `version` a balance re-issue was
    loaded from (releases less reversals and write-offs, per 項次)."""
    ledger = _ledger()
    permit = version.permit
    return ledger.balances_of(version.application.items.all(), version.partial_shipment,
                              ledger.used_by_line([permit])[permit.pk],
                              permit.pk in ledger.released_permit_ids([permit]))


@dataclass(frozen=True)
class ItemBalance:
    """What bounds the quantity of item `line_no` of a balance re-issue (SHTC-11): `left` of
    item `source` of the cancelled permit, less what the case's other items citing it ask."""

    line_no: int
    source: int
    left: Decimal

    def problem(self, quantity):
        """The over_balance error of `quantity`, or None."""
        if quantity is None or quantity <= self.left:
            return None
        return error("over_balance", line=self.line_no, source=self.source, balance=self.left,
                     quantity=quantity)


def item_balance(application, line_no):
    """The ItemBalance of item `line_no` of `application` if it is a balance re-issue (or a
    補正 of one) whose item cites a line of the cancelled permit; None otherwise. The item
    forms bound the quantity with it (permits.entry.CaseEntry.item_form_kwargs), when the
    item is confirmed and again at 申請; check_change has the last word, under the lock."""
    if line_no is None:
        return None
    kind, version = origin(application)
    if kind != Kind.BALANCE_REISSUE or version is None:
        return None
    item = application.items.filter(line_no=line_no).first()
    if item is None or item.source_line_no is None:
        return None
    others = (application.items.filter(source_line_no=item.source_line_no)
              .exclude(line_no=line_no).aggregate(total=Sum("quantity"))["total"] or ZERO)
    left = _balances(version).get(item.source_line_no, ZERO)
    return ItemBalance(line_no=line_no, source=item.source_line_no,
                       left=max(left - others, ZERO))


def item_balances(application, items):
    """{line_no: ItemBalance} of `items` (all the case's items), as item_balance gives them
    one by one, in a fixed number of queries (checking thousands of items at once: the
    spreadsheet import, SHTC-17). Empty unless `application` is a balance re-issue."""
    kind, version = origin(application)
    if kind != Kind.BALANCE_REISSUE or version is None:
        return {}
    left = _balances(version)
    cited = defaultdict(lambda: ZERO)
    for item in items:
        if item.source_line_no is not None:
            cited[item.source_line_no] += item.quantity
    return {item.line_no: ItemBalance(
        line_no=item.line_no, source=item.source_line_no,
        left=max(left.get(item.source_line_no, ZERO)
                 - (cited[item.source_line_no] - item.quantity), ZERO))
        for item in items if item.source_line_no is not None}


@transaction.atomic
def check_change(application):
    """Raise ValidationError (every problem) if the change `application` may not be filed or
    issued now; nothing for a 新申請.

    Locks first, then reads: the permit it changes (or whose balance it re-issues) and, for a
    補正, the case it amends. Two changes of one version approved at once queue on the
    permit's lock, and the second sees the version the first issued (not_current); a
    clearance recorded meanwhile is seen too (reconciliation writes it under the same lock).
    """
    if application.kind == Kind.NEW:
        return
    kind, version = origin(application)
    amends = None
    if application.kind == Kind.AMENDMENT:
        amends = Application.objects.select_for_update().get(pk=application.amends_id)
    permit = None
    if version is not None:
        permit = Permit.objects.select_for_update().get(pk=version.permit_id)
    problem = change_problem(kind=application.kind, permit=permit, version=version,
                             amends=amends, application=application,
                             **mismatch_declaration(application))
    problems = [problem] if problem else items_problem(application)
    if problems:
        raise ValidationError(problems)


# --- 帶入參考資料 with 餘額註銷證號 (SHTC-11) ---------------------------------------------------

ITEM_COPY_FIELDS = ("category", "tariff_code", "description", "brand", "model",
                    "specification", "control_no", "unit", "unit_price", "currency",
                    "origin_country")


def balance_items(permit):
    """The items of the permit's version in force with each quantity set to what is left of
    it on the ledger (not yet exported or imported), for a 餘額重簽 case: dicts as
    permits.services.item_add takes them, each with `source_line_no`. Items with nothing left
    are left out; the amount follows the quantity."""
    ledger = _ledger()
    left = ledger.balances(permit)
    rows = []
    for item in permit.current.application.items.order_by("line_no"):
        balance = left.get(item.line_no, ZERO)
        if balance <= 0:
            continue
        row = {name: getattr(item, name) for name in ITEM_COPY_FIELDS}
        row.update(quantity=balance, source_line_no=item.line_no,
                   amount=(balance * item.unit_price).quantize(Decimal("0.0001")))
        rows.append(row)
    return rows


def items_with_balance(permit):
    """The items of the version in force with their balance on the ledger, for showing."""
    left = _ledger().balances(permit)
    items = list(permit.current.application.items.order_by("line_no"))
    for item in items:
        item.balance = left.get(item.line_no, ZERO)
    return items


# --- 註銷 (menu 拾肆 簽審文件註銷或展延, SHTC-11) -------------------------------------------------


def permit_find(*, user, permit_no):
    """The permit numbered `permit_no` that `user` may see; another user's permit gives the
    same error as an unknown number, so a number tells nothing about other users' permits."""
    number = (permit_no or "").strip().upper()
    permit = Permit.objects.visible_to(user).filter(permit_no=number).first()
    if permit is None:
        raise error("not_found")
    return permit


def clean_reason(reason):
    reason = (reason or "").strip()
    if not reason:
        raise error("reason_required")
    if len(reason) > REASON_MAX_LENGTH:
        raise error("reason_too_long", max=REASON_MAX_LENGTH)
    if "\x00" in reason:
        raise ValidationError(_("Null characters are not allowed."), code="null_characters")
    return reason


def cancel_problem(permit):
    """Why `permit` cannot be cancelled now (a ValidationError), or None."""
    state = permit.state
    if state == PermitState.REVOKED:
        return error("revoked")
    if state == PermitState.EXPIRED:
        # SHTC-11: a permit is cancelled for its balance before its validity ends.
        return error("expired")
    return None


@transaction.atomic
def permit_revoke(*, permit, actor, reason):
    """註銷: cancel `permit` at once (SHTC-11), with the reason, and mail the applicant.

    The permit row is locked, then checked: a second 申請 (a double click, another tab) waits
    for the first and is refused as already cancelled. From the moment recorded, matching
    refuses declarations dated after it (RECON-2) and /verify/ shows it cancelled. Returns the
    PermitRevocation.
    """
    reason = clean_reason(reason)
    if not Permit.objects.visible_to(actor).filter(pk=permit.pk).exists():
        raise error("not_found")
    permit = Permit.objects.select_for_update().get(pk=permit.pk)
    problem = cancel_problem(permit)
    if problem:
        raise problem
    now = timezone.now()
    try:
        # The one-to-one row is the last guard if two requests ever got past the lock.
        with transaction.atomic():
            revocation = PermitRevocation.objects.create(permit=permit, reason=reason,
                                                         actor=actor, created_at=now)
    except IntegrityError:
        raise error("revoked") from None
    permit.revoked_at = now
    permit.save(update_fields=["revoked_at"])
    notifications.queue_cancellation_mail(permit, revocation)
    return revocation
