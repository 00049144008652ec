"""The feed from customs (RECON-1): one service behind the JSON endpoint, the management
command and the admin upload.

A message is one JSON object:

    {"message_id": "…", "type": "declaration", "declaration": {
        "number": "AA11500000001B", "direction": "import" | "export", "date": "2026-11-20",
        "declarant": "22099131", "broker": "04595252", "permit_no": "PMK11500000001",
        "revision": 0,
        "items": [{"item_no": 1, "tariff_code": "63079050311", "description": "…",
                   "quantity": "100", "unit": "PCE", "value": "500", "currency": "TWD",
                   "permit_item_no": 1}]}}
    {"message_id": "…", "type": "release", "declaration": "AA11500000001B",
     "items": [{"item_no": 1, "quantity": "100"}]}
    {"message_id": "…", "type": "cancellation", "declaration": "AA11500000001B",
     "reason": "…"}

A declaration with a higher revision than the one on file is an amendment and replaces it;
the same or a lower revision is the same declaration sent again and changes nothing. A
message_id seen before is ignored, whatever became of it: a rejected message, once fixed,
is sent again under a new message_id. Each message is validated whole: a bad one is
rejected with every reason, and the rest of a batch still goes in.
"""

import datetime
import re
import uuid
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Min, Q, Sum
from django.utils import timezone

from permits.models import Permit
from reconciliation import ledger
from reconciliation.models import (
    Declaration,
    DeclarationItem,
    Direction,
    InboundMessage,
    LedgerEntry,
    Result,
)

NUMBER_RE = re.compile(r"^[A-Z0-9]{14}$")
TARIFF_RE = re.compile(r"^[0-9]{11}$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


class MessageError(Exception):
    def __init__(self, errors):
        super().__init__("; ".join(errors))
        self.errors = errors


# --- validation -------------------------------------------------------------------------

def _text(data, key, errors, *, where="", pattern=None, max_length=None, required=True):
    value = data.get(key)
    if value in (None, ""):
        if required:
            errors.append(f"{where}{key}: required")
        return ""
    if not isinstance(value, str):
        errors.append(f"{where}{key}: must be a string")
        return ""
    value = value.strip().upper() if pattern is not None else value.strip()
    if not value:
        if required:
            errors.append(f"{where}{key}: required")
        return ""
    if pattern is not None and not pattern.match(value):
        errors.append(f"{where}{key}: {value!r} is not in the expected format")
    if max_length and len(value) > max_length:
        errors.append(f"{where}{key}: longer than {max_length} characters")
    return value


def _decimal(data, key, errors, *, where="", positive=True):
    value = data.get(key)
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors.append(f"{where}{key}: {value!r} is not a number")
        return None
    if not number.is_finite() or (positive and number <= 0) or number < 0:
        errors.append(f"{where}{key}: must be {'greater than 0' if positive else '0 or more'}")
        return None
    if number != number.quantize(Decimal("0.0001")) or abs(number) >= Decimal(10) ** 13:
        errors.append(f"{where}{key}: at most 13 digits before and 4 after the point")
        return None
    return number


def _whole(data, key, errors, *, where=""):
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        errors.append(f"{where}{key}: must be a whole number from 1")
        return None
    return value


def _items(data, errors, parse_item):
    items = data.get("items")
    if not isinstance(items, list) or not items:
        errors.append("items: at least one item is required")
        return []
    parsed = [parse_item(item if isinstance(item, dict) else {}, errors, f"items[{i}].")
              for i, item in enumerate(items)]
    numbers = [item["item_no"] for item in parsed if item.get("item_no")]
    if len(numbers) != len(set(numbers)):
        errors.append("items: item numbers repeat")
    return parsed


def _declaration_item(data, errors, where):
    return {
        "item_no": _whole(data, "item_no", errors, where=where),
        "tariff_code": _text(data, "tariff_code", errors, where=where, pattern=TARIFF_RE),
        "description": _text(data, "description", errors, where=where, required=False,
                             max_length=390),
        "quantity": _decimal(data, "quantity", errors, where=where),
        "unit": _text(data, "unit", errors, where=where, max_length=10).upper(),
        "value": _decimal(data, "value", errors, where=where, positive=False),
        "currency": _text(data, "currency", errors, where=where, pattern=CURRENCY_RE),
        "permit_item_no": _whole(data, "permit_item_no", errors, where=where),
    }


def _release_item(data, errors, where):
    return {"item_no": _whole(data, "item_no", errors, where=where),
            "quantity": _decimal(data, "quantity", errors, where=where)}


def parse(message):
    """(message_id, kind, cleaned) of a message, or MessageError with every problem."""
    errors = []
    if not isinstance(message, dict):
        raise MessageError(["the message must be a JSON object"])
    message_id = _text(message, "message_id", errors, max_length=64)
    kind = message.get("type")
    if kind == "declaration":
        body = message.get("declaration")
        if not isinstance(body, dict):
            errors.append("declaration: must be an object")
            body = {}
        date = None
        try:
            date = datetime.date.fromisoformat(str(body.get("date")))
        except ValueError:
            errors.append(f"declaration.date: {body.get('date')!r} is not a date (YYYY-MM-DD)")
        direction = body.get("direction")
        if direction not in Direction.values:
            errors.append("declaration.direction: must be 'import' or 'export'")
        revision = body.get("revision", 0)
        if isinstance(revision, bool) or not isinstance(revision, int) or revision < 0:
            errors.append("declaration.revision: must be a whole number from 0")
        cleaned = {
            "number": _text(body, "number", errors, where="declaration.", pattern=NUMBER_RE),
            "direction": direction, "declared_on": date, "revision": revision,
            "declarant_identifier": _text(body, "declarant", errors, where="declaration.",
                                          max_length=20).upper(),
            "broker_identifier": _text(body, "broker", errors, where="declaration.",
                                       required=False, max_length=20).upper(),
            "permit_no": _text(body, "permit_no", errors, where="declaration.",
                               pattern=NUMBER_RE),
            "items": _items(body, errors, _declaration_item),
        }
    elif kind in ("release", "cancellation"):
        cleaned = {"number": _text(message, "declaration", errors, pattern=NUMBER_RE)}
        if kind == "release":
            cleaned["items"] = _items(message, errors, _release_item)
        else:
            cleaned["reason"] = _text(message, "reason", errors, required=False,
                                      max_length=200)
    else:
        errors.append("type: must be 'declaration', 'release' or 'cancellation'")
        cleaned = {}
    if errors:
        raise MessageError(errors)
    return message_id, kind, cleaned


# --- applying ---------------------------------------------------------------------------

def _refresh_permit_facts(permit_ids):
    """PERMIT-3's facts, from what is on file: cleared = cited by a declaration customs has
    not cancelled, or written off without a declaration (the mask manual: 更正 only before
    any clearance record); released = goods released and not reversed, or written off."""
    for permit in Permit.objects.filter(pk__in=permit_ids):
        cleared = permit.declarations.filter(cancelled_at__isnull=True).aggregate(
            first=Min("received_at"))["first"]
        written_off = permit.ledger_entries.filter(kind=LedgerEntry.Kind.WRITE_OFF).aggregate(
            first=Min("created_at"))["first"]
        if written_off is not None:
            cleared = min(cleared, written_off) if cleared else written_off
        released = None
        if (permit.ledger_entries.filter(declaration_item__isnull=False)
                .aggregate(net=Sum("quantity"))["net"] or 0) > 0:
            released = permit.ledger_entries.filter(
                kind=LedgerEntry.Kind.RELEASE).aggregate(first=Min("created_at"))["first"]
        if written_off is not None:
            released = min(released, written_off) if released else written_off
        if (permit.first_cleared_at, permit.first_released_at) != (cleared, released):
            Permit.objects.filter(pk=permit.pk).update(first_cleared_at=cleared,
                                                       first_released_at=released)


def _apply_declaration(data):
    """Returns the declaration to (re)match, or None when nothing changed."""
    items = data.pop("items")
    existing = Declaration.objects.select_for_update().filter(number=data["number"]).first()
    if existing is not None and data["revision"] <= existing.revision:
        return None  # the same declaration again (or an older revision): nothing to do
    if existing is not None and existing.cancelled_at is not None:
        raise MessageError([f"declaration {existing.number} was cancelled"])
    permit = Permit.objects.filter(permit_no=data["permit_no"]).first()
    if existing is None:
        declaration = Declaration.objects.create(permit=permit, **data)
    else:
        # An amendment replaces the earlier revision. Items already released stay, with
        # their ledger entries; an amendment may change them but not remove them.
        declaration = existing
        kept = {i["item_no"] for i in items}
        removed = declaration.items.exclude(item_no__in=kept)
        if removed.filter(ledger_entries__isnull=False).exists():
            raise MessageError(["an amendment cannot remove an item that was released"])
        removed.delete()
        for field, value in data.items():
            setattr(declaration, field, value)
        declaration.permit = permit
        declaration.result = Result.PENDING  # until the new revision is matched
        declaration.save()
    for item in items:
        DeclarationItem.objects.update_or_create(
            declaration=declaration, item_no=item["item_no"],
            defaults={k: v for k, v in item.items() if k != "item_no"})
    if existing is not None and existing.permit_id and existing.permit_id != getattr(
            permit, "pk", None):
        _refresh_permit_facts([existing.permit_id])
    if permit is not None:
        _refresh_permit_facts([permit.pk])
    return declaration


def _apply_release(data):
    declaration = (Declaration.objects.select_for_update(of=("self",))
                   .filter(number=data["number"]).select_related("permit").first())
    if declaration is None:
        raise MessageError([f"declaration {data['number']} is not on file"])
    if declaration.cancelled_at is not None:
        raise MessageError([f"declaration {declaration.number} was cancelled"])
    if declaration.permit is None:
        raise MessageError([f"permit {declaration.permit_no} does not exist"])
    items = {item.item_no: item for item in declaration.items.all()}
    released = dict(LedgerEntry.objects.filter(declaration_item__declaration=declaration)
                    .values_list("declaration_item__item_no").annotate(total=Sum("quantity")))
    errors, lines, sources = [], {}, {}
    for entry in data["items"]:
        item = items.get(entry["item_no"])
        if item is None:
            errors.append(f"item {entry['item_no']} is not on the declaration")
            continue
        if released.get(item.item_no, 0) + entry["quantity"] > item.quantity:
            errors.append(f"item {item.item_no}: release beyond the declared quantity")
            continue
        lines[item.permit_item_no] = lines.get(item.permit_item_no, 0) + entry["quantity"]
        sources[item.permit_item_no] = item
    if errors:
        raise MessageError(errors)
    try:
        ledger.write_off(permit=declaration.permit, lines=lines,
                         kind=LedgerEntry.Kind.RELEASE, reference=declaration.number,
                         declaration_items=sources)
    except ValidationError as error:
        raise MessageError([str(m) for m in error.messages]) from None
    _refresh_permit_facts([declaration.permit_id])
    return declaration


def _apply_cancellation(data):
    declaration = Declaration.objects.select_for_update().filter(number=data["number"]).first()
    if declaration is None:
        raise MessageError([f"declaration {data['number']} is not on file"])
    if declaration.cancelled_at is not None:
        return declaration
    declaration.cancelled_at = timezone.now()
    declaration.save(update_fields=["cancelled_at", "updated_at"])
    ledger.reverse(entries=LedgerEntry.objects.filter(
        declaration_item__declaration=declaration, kind=LedgerEntry.Kind.RELEASE,
        reversed_by__isnull=True), reference=f"{declaration.number} cancelled")
    if declaration.permit_id:
        _refresh_permit_facts([declaration.permit_id])
    return declaration


def receive(messages, *, source):
    """Process a batch of messages; return the InboundMessage of each, in order. Each
    message commits on its own, so one bad message never holds up the others; declarations
    that changed are matched by Celery after commit."""
    from reconciliation.tasks import match_declarations_task

    records, changed = [], []
    for message in messages:
        record, declaration = _receive_one(message, source=source)
        records.append(record)
        if declaration is not None:
            changed.append(declaration.pk)
    if changed:
        transaction.on_commit(lambda: match_declarations_task.delay(changed))
    return records


def _receive_one(message, *, source):
    raw_id = message.get("message_id") if isinstance(message, dict) else None
    raw_id = raw_id.strip() if isinstance(raw_id, str) else ""
    if raw_id:
        seen = InboundMessage.objects.filter(message_id=raw_id).first()
        if seen is not None:
            return seen, None  # processed once already
    record = InboundMessage(payload=message if isinstance(message, dict) else {"raw": message},
                            source=source, message_id=raw_id)
    declaration = None
    try:
        message_id, kind, data = parse(message)
        record.message_id, record.kind = message_id, kind
        record.declaration_number = data.get("number", "")
        with transaction.atomic():
            if kind == "declaration":
                declaration = _apply_declaration(data)
                record.declaration = declaration or Declaration.objects.filter(
                    number=data["number"]).first()
            else:
                record.declaration = (_apply_release(data) if kind == "release"
                                      else _apply_cancellation(data))
            record.status = (InboundMessage.Status.DUPLICATE
                             if kind == "declaration" and declaration is None
                             else InboundMessage.Status.ACCEPTED)
            record.save()
    except MessageError as error:
        declaration = None
        record.status = InboundMessage.Status.REJECTED
        record.errors = error.errors
        if not record.message_id or len(record.message_id) > 64:
            # Kept all the same, under an id of ours, so that the bureau sees it.
            record.message_id = f"rejected-{uuid.uuid4().hex}"
        try:
            with transaction.atomic():
                record.save()
        except IntegrityError:
            pass  # the same message_id, rejected at the same moment by a twin request
    except IntegrityError:
        # The same message_id arriving twice at once: the other request processed it.
        return InboundMessage.objects.get(message_id=record.message_id), None
    return record, declaration


def rematch_permit(permit):
    """Match again every live declaration citing the permit (RECON-5: after an approved
    mismatch correction the bureau matches itself and tells customs)."""
    from reconciliation.tasks import match_declarations_task

    ids = list(Declaration.objects.filter(
        Q(permit=permit) | Q(permit_no=permit.permit_no), cancelled_at__isnull=True)
        .values_list("pk", flat=True))
    if ids:
        transaction.on_commit(lambda: match_declarations_task.delay(ids))
    return ids
