"""The write-off ledger (核銷, RECON-4): balances derived from append-only entries.

Every write locks the permit row first (SELECT … FOR UPDATE), then reads the balance, then
appends: two releases or write-offs against the same permit at once queue on the lock, and
the second sees what the first used, so no balance ever goes below zero. (SQLite has no row
locks, but it also lets only one writer in at a time.)
"""

from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from permits.models import Permit
from reconciliation.models import LedgerEntry

ZERO = Decimal(0)


def used_by_line(permits):
    """{permit_id: {line_no: quantity used}} for many permits in one query."""
    used = defaultdict(lambda: defaultdict(lambda: ZERO))
    rows = (LedgerEntry.objects.filter(permit__in=permits).values("permit_id", "line_no")
            .annotate(total=Sum("quantity")))
    for row in rows:
        used[row["permit_id"]][row["line_no"]] = row["total"]
    return used


def released_permit_ids(permits):
    """The permits with any goods released and not reversed (one query)."""
    rows = (LedgerEntry.objects.filter(permit__in=permits,
                                       kind__in=[LedgerEntry.Kind.RELEASE,
                                                 LedgerEntry.Kind.REVERSAL],
                                       declaration_item__isnull=False)
            .values("permit_id").annotate(total=Sum("quantity")).filter(total__gt=0))
    return {row["permit_id"] for row in rows}


def has_release(permit):
    """Were goods released under `permit`, by its ledger (SHTC-10, FAQ 3.9): a release
    under a declaration, not reversed, or a write-off without a declaration (which PERMIT-3
    counts as goods imported). Read under the permit's row lock where a race matters."""
    return (permit.pk in released_permit_ids([permit])
            or LedgerEntry.objects.filter(permit=permit,
                                          kind=LedgerEntry.Kind.WRITE_OFF).exists())


def balances_of(items, partial_shipment, used, released):
    """{line_no: balance} of a permit version's items (objects with line_no and quantity),
    given what is used on each line and whether anything was released. A 不分批 permit is
    used up by its first shipment."""
    if not partial_shipment and released:
        return {item.line_no: ZERO for item in items}
    return {item.line_no: max(item.quantity - used.get(item.line_no, ZERO), ZERO)
            for item in items}


def balances(permit):
    """{line_no: balance} for the permit's version in force."""
    version = permit.current
    return balances_of(version.application.items.all(), version.partial_shipment,
                       used_by_line([permit])[permit.pk],
                       permit.pk in released_permit_ids([permit]))


@transaction.atomic
def write_off(*, permit, lines, kind, actor=None, reference="", declaration_items=None):
    """Use quantities of a permit: `lines` is {line_no: quantity}. All or nothing: if any
    line would go below zero, nothing is written and ValidationError(code="over_balance")
    says which. `declaration_items` maps line_no to the DeclarationItem released, if any.
    Returns the entries written."""
    permit = Permit.objects.select_for_update().get(pk=permit.pk)
    available = balances(permit)
    problems = []
    for line_no, quantity in lines.items():
        if line_no not in available:
            problems.append(ValidationError(
                _("The permit has no item %(line)s."), code="no_such_item",
                params={"line": line_no}))
        elif quantity > available[line_no]:
            problems.append(ValidationError(
                _("Item %(line)s has %(balance)s left; %(quantity)s is more than that."),
                code="over_balance",
                params={"line": line_no, "balance": available[line_no],
                        "quantity": quantity}))
    if problems:
        raise ValidationError(problems)
    entries = LedgerEntry.objects.bulk_create([
        LedgerEntry(permit=permit, line_no=line_no, quantity=quantity, kind=kind,
                    actor=actor, reference=reference,
                    declaration_item=(declaration_items or {}).get(line_no))
        for line_no, quantity in lines.items() if quantity > 0])
    if kind == LedgerEntry.Kind.WRITE_OFF and entries:
        # A write-off without a declaration (MASK-5) means the goods were imported: for
        # PERMIT-3 it is a clearance and a release record, as a declaration's are (the mask
        # manual allows 更正 only before any record of entering customs procedures). Set
        # under the lock taken above, only if not set yet.
        at = entries[0].created_at
        Permit.objects.filter(pk=permit.pk).update(
            first_cleared_at=Coalesce("first_cleared_at", Value(at)),
            first_released_at=Coalesce("first_released_at", Value(at)))
    return entries


@transaction.atomic
def reverse(*, entries, actor=None, reference=""):
    """Give back what `entries` used (e.g. customs cancelled the declaration)."""
    reversals = []
    for entry in entries:
        if entry.kind == LedgerEntry.Kind.REVERSAL or hasattr(entry, "reversed_by"):
            continue
        Permit.objects.select_for_update().filter(pk=entry.permit_id).first()
        reversals.append(LedgerEntry.objects.create(
            permit_id=entry.permit_id, line_no=entry.line_no, quantity=-entry.quantity,
            kind=LedgerEntry.Kind.REVERSAL, reverses=entry, actor=actor,
            declaration_item=entry.declaration_item, reference=reference))
    return reversals
