"""單證比對 (RECON-2): a declaration against the permit version in force on its date.

match_declarations() works on a batch: it loads the declarations, the permits they cite
with their versions and items, and the ledger balances in a fixed number of queries,
whatever the batch holds, then writes the results in one insert.
"""

from collections import defaultdict
from decimal import Decimal
from types import SimpleNamespace

from django.db import transaction
from django.db.models import Case, F, Q, Sum, Value, When
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from permits import procedures
from permits.models import Item, Permit, PermitVersion
from permits.prepared import among
from reconciliation import ledger
from reconciliation.models import (
    Declaration,
    DeclarationItem,
    Direction,
    FeedCounter,
    LedgerEntry,
    MatchResult,
    Result,
    new_coordination_id,
)

# Each reason: a code for customs' system and a sentence for people (stored in Chinese).
REASONS = {
    "permit_not_found": _("The permit number %(permit_no)s does not exist."),
    "permit_not_valid": _("The permit was not valid on the declaration date %(date)s."),
    "permit_revoked": _("The permit was cancelled before the declaration date."),
    "wrong_direction": _("The permit is for %(expected)s, the declaration is an %(actual)s."),
    "declarant_mismatch": _("The declarant %(declarant)s is not the permit's applicant "
                            "%(applicant)s."),
    "item_not_on_permit": _("Item %(item_no)s cites permit item %(line)s, which the permit "
                            "does not have."),
    "tariff_mismatch": _("Item %(item_no)s: tariff code %(declared)s differs from the "
                         "permit's %(permitted)s."),
    "currency_mismatch": _("Item %(item_no)s: currency %(declared)s differs from the "
                           "permit's %(permitted)s."),
    "unit_mismatch": _("Item %(item_no)s: unit %(declared)s differs from the permit's "
                       "%(permitted)s."),
    "quantity_over_balance": _("Item %(item_no)s: quantity %(declared)s is more than the "
                               "%(balance)s left on permit item %(line)s."),
}

def _reason(code, item=None, **params):
    """{"code", "item_no", "message"}: `item` is the declaration item's number, if any."""
    if item is not None:
        params["item_no"] = item
    with translation.override("zh-hant"):
        message = str(REASONS[code]) % params
    return {"code": code, "item_no": item, "message": message}


def version_in_force(versions, day, declaration_no=""):
    """The newest version issued on or before `day` (versions newest first), or a newer one
    issued by a 單證比對不符修正 of declaration `declaration_no`: the bureau corrected the
    permit for that declaration, which is matched against the correction whatever its date
    (SHTC-10, RECON-5). Versions carry the declaration_no of the case that issued them."""
    for version in versions:
        if timezone.localdate(version.issued_at) <= day or (
                declaration_no and version.declaration_no == declaration_no):
            return version
    return None


def check(declaration, permit, used, released, own_use):
    """The reasons (a list, empty for 相符) and the version matched against. Works on the
    plain rows load() reads: attributes as on the models."""
    if permit is None:
        return [_reason("permit_not_found", permit_no=declaration.permit_no)], None
    day = declaration.declared_on
    version = version_in_force(permit.versions, day, declaration.number)
    if version is None or not version.valid_from <= day <= version.valid_until:
        return [_reason("permit_not_valid", date=day.isoformat())], version
    reasons = []
    if permit.revoked_at is not None and timezone.localdate(permit.revoked_at) <= day:
        reasons.append(_reason("permit_revoked"))
    # Each procedure names the direction of the declarations that may cite its permits
    # (in memory: no query per declaration).
    expected = procedures.get(permit.document_type).direction
    if expected and declaration.direction != expected:
        reasons.append(_reason("wrong_direction", expected=Direction(expected).label,
                               actual=Direction(declaration.direction).label))
    if declaration.declarant_identifier != version.applicant_identifier:
        reasons.append(_reason("declarant_mismatch", declarant=declaration.declarant_identifier,
                               applicant=version.applicant_identifier))
    # What is left, not counting what this declaration itself already released.
    balances = ledger.balances_of(version.items, version.partial_shipment, used, released)
    items = {item.line_no: item for item in version.items}
    for item in declaration.items:
        permitted = items.get(item.permit_item_no)
        if permitted is None:
            reasons.append(_reason("item_not_on_permit", item.item_no,
                                   line=item.permit_item_no))
            continue
        for code, declared, allowed in (
                ("tariff_mismatch", item.tariff_code, permitted.tariff_code),
                ("currency_mismatch", item.currency, permitted.currency),
                ("unit_mismatch", item.unit, permitted.unit)):
            if declared != allowed:
                reasons.append(_reason(code, item.item_no, declared=declared,
                                       permitted=allowed))
        balance = balances.get(item.permit_item_no, Decimal(0)) + own_use.get(
            item.permit_item_no, Decimal(0))
        if item.quantity > balance:
            reasons.append(_reason("quantity_over_balance", item.item_no,
                                   declared=item.quantity.normalize(),
                                   balance=balance.normalize(), line=item.permit_item_no))
    return reasons, version


def _ledger_sums(permit_ids):
    """(used, released) of the permits: ledger.used_by_line() and
    ledger.released_permit_ids() in one query (the same entries, grouped once)."""
    used = defaultdict(lambda: defaultdict(lambda: Decimal(0)))
    shipped = defaultdict(lambda: Decimal(0))
    rows = (LedgerEntry.objects.filter(among("permit_id", permit_ids)).order_by()
            .values_list("permit_id", "line_no")
            .annotate(total=Sum("quantity"), shipped=Sum("quantity", filter=Q(
                kind__in=[LedgerEntry.Kind.RELEASE, LedgerEntry.Kind.REVERSAL],
                declaration_item__isnull=False))))
    for permit_id, line_no, total, out in rows:
        used[permit_id][line_no] = total
        shipped[permit_id] += out or 0
    return used, {permit_id for permit_id, total in shipped.items() if total > 0}


def _own_use(declaration_of):
    """{declaration_id: {line_no: quantity released under it}} (one query), given
    {declaration item id: its declaration's id} of the batch's items. Read by item ids, not
    through a join with the items, which let PostgreSQL scan the whole ledger per batch."""
    own = defaultdict(lambda: defaultdict(lambda: Decimal(0)))
    rows = (LedgerEntry.objects.filter(among("declaration_item_id", declaration_of))
            .order_by().values_list("declaration_item_id", "line_no")
            .annotate(total=Sum("quantity")))
    for item_id, line_no, total in rows:
        own[declaration_of[item_id]][line_no] += total
    return own


def _rows(queryset, *fields):
    return [SimpleNamespace(**row) for row in queryset.values(*fields)]


def load(declaration_ids):
    """Everything matching reads for a batch, as plain rows in a fixed number of queries
    (no model instances: this is the hot path of the feed): the live declarations with
    their items, the permits they cite with every version and its items, the ledger sums.
    No ORDER BY but the versions' (newest first): the models' default orderings join the
    declarations and applications tables to sort by their columns, whole, on every batch."""
    declarations = _rows(Declaration.objects.filter(among("pk", declaration_ids),
                                                    cancelled_at__isnull=True).order_by(),
                         "id", "number", "direction", "declared_on", "declarant_identifier",
                         "permit_no", "permit_id", "revision")
    if not declarations:
        return [], {}, {}, set(), {}
    items, declaration_of = defaultdict(list), {}
    for item in _rows(DeclarationItem.objects.filter(
            among("declaration_id", [d.id for d in declarations])).order_by(),
            "id", "declaration_id", "item_no", "tariff_code", "quantity", "unit", "currency",
            "permit_item_no"):
        items[item.declaration_id].append(item)
        declaration_of[item.id] = item.declaration_id
    for declaration in declarations:
        declaration.items = sorted(items[declaration.id], key=lambda i: i.item_no)

    permits = {p.permit_no: p for p in _rows(
        Permit.objects.filter(permit_no__in={d.permit_no for d in declarations}).order_by(),
        "id", "permit_no", "document_type", "revoked_at")}
    by_id = {p.id: p for p in permits.values()}
    versions = _rows(PermitVersion.objects.filter(among("permit_id", by_id))
                     .order_by("-version"),
                     "id", "permit_id", "version", "issued_at", "valid_from", "valid_until",
                     "partial_shipment", "application_id",
                     "application__applicant_identifier", "application__declaration_no",
                     "application__amends__declaration_no")
    permitted = defaultdict(list)
    for item in _rows(Item.objects.filter(among("application_id", [v.application_id
                                                                     for v in versions]))
                      .order_by(),
                      "application_id", "line_no", "tariff_code", "quantity", "unit",
                      "currency"):
        permitted[item.application_id].append(item)
    for permit in permits.values():
        permit.versions = []
    for version in versions:  # newest first
        version.applicant_identifier = version.application__applicant_identifier
        # The declaration a 單證比對不符修正 corrected: its own, or for a 補正 of one closed
        # 補正結案 (SHTC-8), the amended case's.
        version.declaration_no = (version.application__declaration_no
                                  or version.application__amends__declaration_no)
        version.items = permitted[version.application_id]
        by_id[version.permit_id].versions.append(version)

    used, released = _ledger_sums(by_id)
    own_use = _own_use(declaration_of)
    return declarations, permits, used, released, own_use


def _coordination_ids(results):
    """Give each mismatch of `results` its 會辦識別碼 (SHTC-10): the one an earlier mismatch
    of the same revision of the declaration got (matching it again changes nothing for
    customs or the applicant), or a new one. One query, and only when there are mismatches."""
    mismatches = [result for result in results if result.result == Result.MISMATCH]
    if not mismatches:
        return
    earlier = (MatchResult.objects
               .filter(among("declaration_id", [r.declaration_id for r in mismatches]),
                       result=Result.MISMATCH).exclude(coordination_id="").order_by()
               .values_list("declaration_id", "revision", "coordination_id"))
    known = {(declaration_id, revision): code for declaration_id, revision, code in earlier}
    for result in mismatches:
        result.coordination_id = known.get((result.declaration_id, result.revision)) or \
            new_coordination_id()


@transaction.atomic
def match_declarations(declaration_ids):
    """Match each declaration (not cancelled) and publish the results for customs; return
    the MatchResult rows. Queries: a fixed number per call, not per declaration."""
    declarations, permits, used, released, own_use = load(declaration_ids)
    if not declarations:
        return []
    results, by_result, resolved = [], defaultdict(list), []
    for declaration in declarations:
        permit = permits.get(declaration.permit_no)
        reasons, version = check(
            declaration, permit, used[permit.id] if permit else {},
            permit is not None and permit.id in released, own_use[declaration.id])
        if permit is not None and declaration.permit_id is None:
            resolved.append((declaration.id, permit.id))  # issued after it arrived
        result = Result.MISMATCH if reasons else Result.MATCH
        by_result[result].append(declaration.id)
        results.append(MatchResult(declaration_id=declaration.id, revision=declaration.revision,
                                   result=result, reasons=reasons,
                                   permit_version_id=version.id if version else None))
    _coordination_ids(results)
    # The feed's sequence numbers, under the counter's row lock: whoever commits first got
    # the lower numbers, so customs' cursor never skips a result committed late.
    counter, _created = FeedCounter.objects.select_for_update().get_or_create(pk=1)
    for offset, result in enumerate(results, start=1):
        result.seq = counter.last + offset
    counter.last += len(results)
    counter.save(update_fields=["last"])
    MatchResult.objects.bulk_create(results)
    # Two UPDATEs for the results (not one per row). The permit is resolved at arrival and
    # only needs setting here when it was issued after the declaration came in: in the same
    # UPDATEs, so that the queries stay the same however many there are.
    permits_found = {"permit_id": Case(
        *[When(pk=declaration_id, then=Value(permit_id))
          for declaration_id, permit_id in resolved],
        default=F("permit_id"), output_field=Declaration._meta.get_field("permit_id"),
    )} if resolved else {}
    for result, ids in by_result.items():
        Declaration.objects.filter(among("pk", ids)).update(
            result=result, updated_at=timezone.now(), **permits_found)
    return results
