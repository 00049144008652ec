"""Writes of the mask procedure (DOMAIN.md §3): filing a permit application, which issues the
permit at once (MASK-3); correcting an issued permit (MASK-10, PERMIT-3); writing off the
quantities imported without a declaration (MASK-5). Views call these and nothing else that
writes.

Error codes (ValidationError.code; tests and views look at these, never at the wording):

    not_found            no mask permit with that number that the user may see
    has_clearance        更正 after customs recorded a clearance (PERMIT-3)
    no_mismatch          單證比對不符修正 without a mismatch found by the matching
    has_release          單證比對不符修正 after goods were released
    no_clearance         已通關相符修正 before any clearance
    revoked              a change or write-off of a cancelled permit
    not_current          the permit was changed since its data were loaded
    below_used           a corrected quantity below what was already written off
    not_valid            a write-off against a permit not valid today
    declaration_route    a write-off of a permit whose import situation is 報單
    route_mismatch       a write-off under another import situation than the permit's
    over_permit          a write-off of more than the permit has left in a category
    no_items             申請 without goods items
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from masks.models import WRITE_OFF_ROUTES, Category, MaskApplication, Route, WriteOff
from permits import services as permit_services
from permits import workflow
from permits.models import Application, DocumentType, Kind, Permit, PermitState, Status
from reconciliation import ledger
from reconciliation.models import LedgerEntry

ZERO = Decimal(0)

MESSAGES = {
    "not_found": _("No face-mask import permit with this number was found among your "
                   "permits."),
    "has_clearance": _("Customs has recorded a clearance under this permit: a correction "
                       "is no longer possible (choose another application kind)."),
    "no_mismatch": _("The matching found no mismatch for this permit: a mismatch correction "
                     "is not possible."),
    "has_release": _("Goods were already released under this permit: cancel it and apply "
                     "anew for the balance instead."),
    "no_clearance": _("Customs has recorded no clearance under this permit: a "
                      "post-clearance correction is not possible (choose Correction)."),
    "revoked": _("The permit was cancelled."),
    "not_current": _("The permit was changed meanwhile: load its original data again."),
    "below_used": _("Item %(line)s: %(used)s was already written off; the quantity cannot be "
                    "less."),
    "not_valid": _("The permit is not valid today."),
    "declaration_route": _("This permit is for an import through a customs declaration: "
                           "customs writes its quantities off."),
    "route_mismatch": _("The permit was issued for “%(route)s”."),
    "over_permit": _("The permit has %(balance)s left for %(category)s; %(quantity)s is more "
                     "than that."),
    "no_items": _("Add at least one goods item."),
}

# The change kinds of an issued mask permit (MASK-10).
CHANGE_KINDS = (Kind.CORRECTION, Kind.MISMATCH_CORRECTION, Kind.CLEARED_CORRECTION)


def error(code, **params):
    return ValidationError(MESSAGES[code], code=code, params=params or None)


def visible_permits(user):
    """The mask permits `user` may see: those whose cases they may see (ACC-4)."""
    return (Permit.objects.filter(
        document_type=DocumentType.MASK_IMPORT,
        versions__application__in=Application.objects.visible_to(user)).distinct())


def permit_find(*, user, permit_no):
    """The mask permit numbered `permit_no` that `user` may see. Another user's permit gives
    the same error as an unknown number, so a number tells nothing about other users."""
    number = (permit_no or "").strip().upper()
    permit = visible_permits(user).filter(permit_no=number).first()
    if permit is None:
        raise error("not_found")
    return permit


def route_of(version):
    """The import situation of a permit version (of its case), or None for a case filed
    without one (not through these pages)."""
    try:
        return version.application.mask.route
    except MaskApplication.DoesNotExist:
        return None


# --- 輸入許可申請 (MASK-1 to MASK-4) ----------------------------------------------------------


@transaction.atomic
def application_submit(*, actor, applicant, route, items, client_token=None, **basic):
    """申請: file the case with its items and issue the permit at once (MASK-3).

    `basic` is the basic data (permits.services.PARTY_FIELDS); `items` the goods items as
    permits.services.item_add takes them. A repeated request with the same `client_token`
    (a double-clicked 申請) returns the first request's case, already issued. The status
    e-mail with the permit number goes to the company e-mail given, through the outbox that
    transition() writes.
    """
    if not items:
        raise error("no_items")
    application = permit_services.application_create(
        document_type=DocumentType.MASK_IMPORT, applicant=applicant, actor=actor,
        items=items, client_token=client_token, **basic)
    if application.status != Status.DRAFT:
        return application  # the first request issued it (this whole function is atomic)
    MaskApplication.objects.create(application=application, route=route)
    # No reviewer: the portal issues it (workflow.SYSTEM), recording who filed it.
    return workflow.transition(application=application, to=Status.APPROVED, actor=actor,
                               system=True)


# --- 更正輸入許可 (MASK-10, PERMIT-2, PERMIT-3) -------------------------------------------------


def correction_problem(*, permit, kind):
    """Why `kind` may not change `permit` now (a ValidationError), or None (PERMIT-3)."""
    if permit.revoked_at is not None:
        return error("revoked")
    if kind == Kind.CORRECTION and permit.has_clearance():
        return error("has_clearance")
    if kind == Kind.MISMATCH_CORRECTION:
        if not permit.declarations.filter(result="mismatch").exists():
            return error("no_mismatch")
        if permit.has_release():
            return error("has_release")
    if kind == Kind.CLEARED_CORRECTION and not permit.has_clearance():
        return error("no_clearance")
    return None


def used_by_line(permit):
    """{line_no: quantity written off or released} of a permit."""
    return dict(ledger.used_by_line([permit])[permit.pk])


def below_used(*, permit, line_no, quantity):
    """The error for a corrected quantity below what line `line_no` already used, or None."""
    used = used_by_line(permit).get(line_no, ZERO)
    if quantity < used:
        return error("below_used", line=line_no, used=used)
    return None


@transaction.atomic
def correction_submit(*, actor, version, kind, description, items, client_token=None,
                      **basic):
    """申請 of a change (更正, 單證比對不符修正, 已通關相符修正) of the permit version `version`:
    a case of `kind` that changes it, issued at once as the permit's next version
    (permits.services.permit_issue); the earlier versions stay as they were (PERMIT-2).

    The permit row is locked first, and what PERMIT-3 allows is checked under the lock: a
    clearance that customs records, or another change approved, between loading the data
    and 申請 is seen here, and the change refused.
    """
    if not items:
        raise error("no_items")
    permit = Permit.objects.select_for_update().get(pk=version.permit_id)
    repeated = bool(client_token) and Application.objects.filter(
        client_token=client_token).exists()
    if not repeated:  # a repeated 申請 returns the first one's case below, unchecked
        if permit.current.pk != version.pk:
            raise error("not_current")
        problem = correction_problem(permit=permit, kind=kind)
        if problem:
            raise problem
        used = used_by_line(permit)
        for item in items:
            if Decimal(item["quantity"]) < used.get(item["line_no"], ZERO):
                raise error("below_used", line=item["line_no"], used=used[item["line_no"]])
    original = version.application
    application = permit_services.application_create(
        document_type=DocumentType.MASK_IMPORT, kind=kind, changes=version,
        applicant=original.applicant, actor=actor, change_description=description,
        items=[{k: v for k, v in item.items() if k != "line_no"} for item in items],
        client_token=client_token, **basic)
    if application.status != Status.DRAFT:
        return application
    MaskApplication.objects.create(application=application,
                                   route=route_of(version) or Route.DECLARATION)
    return workflow.transition(application=application, to=Status.APPROVED, actor=actor,
                               system=True)


# --- 非報單輸入口罩核銷 (MASK-5) ---------------------------------------------------------------


def write_off_problems(*, permit, route):
    """Why `permit` cannot be written off under `route` (a list of ValidationErrors)."""
    version = permit.current
    permit_route = route_of(version)
    if permit_route not in WRITE_OFF_ROUTES:
        return [error("declaration_route")]
    problems = []
    if route != permit_route:
        problems.append(error("route_mismatch", route=Route(permit_route).label))
    if permit.state != PermitState.VALID:
        problems.append(error("revoked" if permit.state == PermitState.REVOKED
                              else "not_valid"))
    return problems


def category_balances(permit):
    """{category: [(line_no, balance)]} of the permit version in force, in line order."""
    balances = ledger.balances(permit)
    lines = {category: [] for category in Category}
    for item in permit.current.application.items.order_by("line_no"):
        if item.category in lines:
            lines[item.category].append((item.line_no, balances.get(item.line_no, ZERO)))
    return lines


def write_off_allocate(*, permit, quantities):
    """{line_no: quantity}: each category's quantity spread over that category's items in
    line order, each item taking what it has left. Raises ValidationError(code=
    "over_permit"), keyed by category, when a category has less left than asked
    (*decision*, MASK-5: never more than the permit allows per category)."""
    lines, problems = {}, {}
    for category, available in category_balances(permit).items():
        quantity = quantities.get(category) or ZERO
        left = sum((balance for _line, balance in available), ZERO)
        if quantity > left:
            problems[category] = error("over_permit", balance=left, quantity=quantity,
                                       category=Category(category).label)
            continue
        for line_no, balance in available:
            take = min(balance, quantity)
            if take > 0:
                lines[line_no] = take
                quantity -= take
    if problems:
        raise ValidationError(problems)
    return lines


@transaction.atomic
def write_off_record(*, actor, permit, route, medical_quantity, non_medical_quantity,
                     client_token=None):
    """核銷完成: record a write-off without a declaration on the reconciliation ledger.

    The permit row is locked before the balances are read, and the ledger writes every
    line in one call under the same lock: two write-offs against one permit at once queue
    on the lock, the second allocates from what the first left, and either all of a
    write-off's lines are written or none (ValidationError, code "over_permit" by category
    or the ledger's "over_balance"). A repeated request with the same `client_token` returns
    the first one's write-off.
    """
    permit = Permit.objects.select_for_update().get(pk=permit.pk)
    if client_token:
        existing = WriteOff.objects.filter(client_token=client_token).first()
        if existing is not None:
            return existing
    problems = write_off_problems(permit=permit, route=route)
    if problems:
        raise ValidationError(problems)
    lines = write_off_allocate(permit=permit, quantities={
        Category.MEDICAL: medical_quantity, Category.NON_MEDICAL: non_medical_quantity})
    record = WriteOff.objects.create(
        permit=permit, route=route, medical_quantity=medical_quantity or ZERO,
        non_medical_quantity=non_medical_quantity or ZERO, actor=actor,
        client_token=client_token)
    ledger.write_off(permit=permit, lines=lines, kind=LedgerEntry.Kind.WRITE_OFF, actor=actor,
                     reference=record.reference)
    return record
