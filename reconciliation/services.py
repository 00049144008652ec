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
the same or a lower revision is the same declaration sent again and changes nothing
(status "duplicate"). A message_id seen before is not processed again, whatever became of
it, and gets the answer it got the first time, also when the same message_id arrives
several times at once: a rejected message, once fixed, is sent again under a new
message_id. Each message is validated whole and applied in a transaction (a savepoint) of
its own: a bad one is rejected with every reason and changes nothing, and the rest of a
batch still goes in.

The values, checked before anything is stored (the database must never be the one to
refuse a value; each rule names the column it protects):

- Whole numbers (item_no, permit_item_no, revision) are JSON integers: not strings, booleans
  or fractions (1.0). Item numbers run from 1, the revision from 0, all to 2,147,483,647
  (the columns are PostgreSQL integers).
- Quantities and values are written in plain decimal: a JSON string of ASCII digits with at
  most one point ("100", "2.5", "0.0001") or a JSON integer (100). Refused: a sign,
  exponent notation ("1e3", 1e3), spaces (" 1"), separators ("1,000", "1_000"), digits other
  than ASCII ("１０"), NaN, Infinity, and fractions as JSON numbers (2.5: a binary float,
  which cannot tell 1e3 from 1000). At most 4 digits after the point and, before it, 9 for a
  quantity and 15 for a value (the columns' precision). A quantity is more than 0, a value
  0 or more.
- The date is a JSON string YYYY-MM-DD (not 20261120, "20261120" nor an ISO week or time),
  a real day from 1912-01-01 (ROC year 1).
- Text is a JSON string, trimmed of surrounding spaces, within its column's length (after
  codes and identifiers are upper-cased). No control characters and no bidirectional
  overrides (U+202A-U+202E, U+2066-U+2069); the goods name and the cancellation reason may
  hold tabs and line breaks.
- Nowhere in a message, keys and fields the format does not name included, may a string
  hold U+0000 or a lone surrogate: the database cannot store them, and the message is kept
  as received (with U+FFFD in their place).
- A declaration or release lists 1 to 1,000 items, each item_no once. Fields the format
  does not name are kept with the message and otherwise ignored.
"""

import contextlib
import datetime
import logging
import re
import secrets
import uuid
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction
from django.db.models import Min, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from permits.models import Permit
from reconciliation import ledger
from reconciliation.models import (
    COORDINATION_ALPHABET,
    COORDINATION_LENGTH,
    Declaration,
    DeclarationItem,
    Direction,
    InboundMessage,
    LedgerEntry,
    Result,
)

NUMBER_RE = re.compile(r"[A-Z0-9]{14}")
TARIFF_RE = re.compile(r"[0-9]{11}")
CURRENCY_RE = re.compile(r"[A-Z]{3}")
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# ASCII digits only: a str pattern's [0-9] is the ASCII range, unlike \d or Decimal().
PLAIN_DECIMAL_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?")
INT_MAX = 2**31 - 1  # PostgreSQL integer, the PositiveIntegerFields' column
EARLIEST_DATE = datetime.date(1912, 1, 1)  # ROC year 1, the first the portal can show
MAX_ITEMS = 1000
MESSAGE_ID_MAX = InboundMessage._meta.get_field("message_id").max_length
# The ids the portal gives a message that came without a usable one; customs may not send
# one of this form, or it would get the answer of the message that bears it.
OWN_ID_PREFIX = "rejected-"
# What PostgreSQL cannot store in text or jsonb: U+0000 and lone surrogates (not UTF-8).
UNSTORABLE_RE = re.compile("[\x00\ud800-\udfff]")
# Control characters (C0 but tab and line breaks, DEL, C1) and bidirectional overrides,
# which reorder the text they are shown in.
CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
LINE_BREAKS_RE = re.compile("[\t\n\r]")
SHOWN = 40  # characters of a refused value repeated in its reason

log = logging.getLogger(__name__)


class MessageError(Exception):
    def __init__(self, errors):
        super().__init__("; ".join(errors))
        self.errors = errors


# --- validation -------------------------------------------------------------------------

def _shown(value):
    """A refused value as its reason repeats it: repr() (which escapes U+0000 and
    surrogates), cut short."""
    text = repr(value)
    return text if len(text) <= SHOWN else f"{text[:SHOWN - 1]}…"


def _printable(key):
    return UNSTORABLE_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", key)


def _path(parts):
    """items[0].quantity for ["declaration", "items", 0, "quantity"]: the names the other
    reasons use (a declaration's items are "items[i]", like a release's)."""
    if parts[:2] == ["declaration", "items"]:
        parts = parts[1:]
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{_printable(part)}" if text else _printable(part)
    return text


def _characters(value, problem):
    found = sorted({f"U+{ord(c):04X}" for c in UNSTORABLE_RE.findall(value)})
    return f"{problem} {', '.join(found)}, which cannot be stored"


def _unstorable(message):
    """The reason for each key and string anywhere in the message that holds a character
    the database cannot store. Walked without recursion: the body may nest deeply."""
    errors, stack = [], [([], message)]
    while stack:
        parts, value = stack.pop()
        if isinstance(value, str):
            if UNSTORABLE_RE.search(value):
                errors.append(f"{_path(parts) or 'message'}: {_characters(value, 'holds')}")
        elif isinstance(value, dict):
            for key, inner in reversed(value.items()):
                if isinstance(key, str) and UNSTORABLE_RE.search(key):
                    errors.append(f"{_path([*parts, key])}: "
                                  f"{_characters(key, 'the name of this field holds')}")
                stack.append(([*parts, key], inner))
        elif isinstance(value, list):
            stack.extend(([*parts, i], inner) for i, inner in reversed(list(enumerate(value))))
    return errors


def _storable(value):
    """The message as it can be kept: U+FFFD in place of what the database refuses."""
    if isinstance(value, str):
        return UNSTORABLE_RE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_storable(key): _storable(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_storable(inner) for inner in value]
    return value


def _text(data, key, errors, *, where="", pattern=None, max_length=None, required=True,
          upper=False, multiline=False):
    value = data.get(key)
    if value in (None, ""):
        if required:
            errors.append(f"{where}{key}: required")
        return ""
    if not isinstance(value, str):
        errors.append(f"{where}{key}: must be a string")
        return ""
    if UNSTORABLE_RE.search(value):
        return ""  # _unstorable() gives the reason, for this and every other string
    value = value.strip()
    if upper or pattern is not None:
        value = value.upper()
    if not value:
        if required:
            errors.append(f"{where}{key}: required")
        return ""
    controls = CONTROL_RE.search(value) or (not multiline and LINE_BREAKS_RE.search(value))
    if controls:
        errors.append(f"{where}{key}: holds the control character "
                      f"U+{ord(controls.group()):04X}")
    elif pattern is not None and not pattern.fullmatch(value):
        errors.append(f"{where}{key}: {_shown(value)} is not in the expected format")
    if max_length and len(value) > max_length:
        errors.append(f"{where}{key}: longer than {max_length} characters")
    return value


def _decimal(data, key, errors, *, where="", field, positive=True):
    """A quantity or value in plain decimal (see the top of this module), within the
    precision of `field`, the DecimalField it is stored in."""
    value = data.get(key)
    if value is None:
        errors.append(f"{where}{key}: required")
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        errors.append(f'{where}{key}: must be a number in plain decimal as a string, such as '
                      f'"100" or "2.5"')
        return None
    text = str(value)
    if not PLAIN_DECIMAL_RE.fullmatch(text):
        errors.append(f'{where}{key}: {_shown(value)} is not a number in plain decimal '
                      f'(ASCII digits and at most one point, such as "100" or "2.5")')
        return None
    places = field.decimal_places
    whole, _point, fraction = text.partition(".")
    if (len(whole.lstrip("0")) > field.max_digits - places
            or len(fraction.rstrip("0")) > places):
        errors.append(f"{where}{key}: at most {field.max_digits - places} digits before "
                      f"and {places} after the point")
        return None
    number = Decimal(text)
    if positive and not number:
        errors.append(f"{where}{key}: must be greater than 0")
        return None
    return number


def _whole(data, key, errors, *, where="", minimum=1, default=None):
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not (
            minimum <= value <= INT_MAX):
        errors.append(f"{where}{key}: must be a whole number from {minimum} to {INT_MAX}")
        return None
    return value


def _date(data, key, errors, *, where=""):
    value = data.get(key)
    date = None
    if isinstance(value, str) and DATE_RE.fullmatch(value):
        with contextlib.suppress(ValueError):  # no such day: 2026-02-30
            date = datetime.date.fromisoformat(value)
    if date is None:
        errors.append(f"{where}{key}: {_shown(value)} is not a date as a string YYYY-MM-DD")
    elif date < EARLIEST_DATE:
        errors.append(f"{where}{key}: before {EARLIEST_DATE.isoformat()} (ROC year 1)")
        date = None
    return date


def _items(data, errors, parse_item):
    items = data.get("items")
    if not isinstance(items, list) or not items:
        errors.append("items: at least one item is required")
        return []
    if len(items) > MAX_ITEMS:
        errors.append(f"items: at most {MAX_ITEMS} items")
        return []
    parsed = [parse_item(item if isinstance(item, dict) else {}, errors, f"items[{i}].")
              for i, item in enumerate(items)]
    numbers = [item["item_no"] for item in parsed if item.get("item_no")]
    if len(numbers) != len(set(numbers)):
        errors.append("items: item numbers repeat")
    return parsed


_FIELD = DeclarationItem._meta.get_field


def _declaration_item(data, errors, where):
    return {
        "item_no": _whole(data, "item_no", errors, where=where),
        "tariff_code": _text(data, "tariff_code", errors, where=where, pattern=TARIFF_RE),
        "description": _text(data, "description", errors, where=where, required=False,
                             max_length=_FIELD("description").max_length, multiline=True),
        "quantity": _decimal(data, "quantity", errors, where=where, field=_FIELD("quantity")),
        "unit": _text(data, "unit", errors, where=where, upper=True,
                      max_length=_FIELD("unit").max_length),
        "value": _decimal(data, "value", errors, where=where, field=_FIELD("value"),
                          positive=False),
        "currency": _text(data, "currency", errors, where=where, pattern=CURRENCY_RE),
        "permit_item_no": _whole(data, "permit_item_no", errors, where=where),
    }


def _release_item(data, errors, where):
    # Released quantities go into the ledger, whose column is the same as the item's.
    return {"item_no": _whole(data, "item_no", errors, where=where),
            "quantity": _decimal(data, "quantity", errors, where=where, field=_FIELD("quantity"))}


def message_id_of(message):
    """The message_id as parse() would take it, or "" when it is missing or unusable (so
    the message is kept under an id of ours)."""
    value = message.get("message_id") if isinstance(message, dict) else None
    if not isinstance(value, str):
        return ""
    value = value.strip()
    if (not value or len(value) > MESSAGE_ID_MAX or UNSTORABLE_RE.search(value)
            or CONTROL_RE.search(value) or LINE_BREAKS_RE.search(value)
            or value.startswith(OWN_ID_PREFIX)):
        return ""
    return value


def parse(message):
    """(message_id, kind, cleaned) of a message, or MessageError with every problem."""
    if not isinstance(message, dict):
        raise MessageError(["the message must be a JSON object"])
    errors = _unstorable(message)
    message_id = _text(message, "message_id", errors, max_length=MESSAGE_ID_MAX)
    if message_id.startswith(OWN_ID_PREFIX):
        errors.append(f"message_id: {OWN_ID_PREFIX!r} begins the ids the bureau gives "
                      f"messages without one; send another")
    kind = message.get("type")
    if kind == "declaration":
        body = message.get("declaration")
        if not isinstance(body, dict):
            errors.append("declaration: must be an object")
            body = {}
        direction = body.get("direction")
        if direction not in Direction.values:
            errors.append("declaration.direction: must be 'import' or 'export'")
        where = "declaration."
        cleaned = {
            "number": _text(body, "number", errors, where=where, pattern=NUMBER_RE),
            "direction": direction,
            "declared_on": _date(body, "date", errors, where=where),
            "revision": _whole(body, "revision", errors, where=where, minimum=0, default=0),
            "declarant_identifier": _text(body, "declarant", errors, where=where, upper=True,
                                          max_length=20),
            "broker_identifier": _text(body, "broker", errors, where=where, required=False,
                                       upper=True, max_length=20),
            "permit_no": _text(body, "permit_no", errors, where=where, pattern=NUMBER_RE),
            "items": _items(body, errors, _declaration_item),
        }
    elif kind in ("release", "cancellation"):
        cleaned = {"number": _text(message, "declaration", errors, pattern=NUMBER_RE)}
        if kind == "release":
            cleaned["items"] = _items(message, errors, _release_item)
        else:
            cleaned["reason"] = _text(message, "reason", errors, required=False,
                                      max_length=200, multiline=True)
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
    data = dict(data)  # left whole for a second attempt (see _apply)
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
    that changed are matched by Celery after commit (match_soon)."""
    records, changed = [], []
    for message in messages:
        record, declaration = _receive_one(message, source=source)
        records.append(record)
        if declaration is not None:
            changed.append(declaration.pk)
    if changed:
        match_soon(changed)
    return records


def _receive_one(message, *, source):
    """(the InboundMessage, the declaration to match or None). The message is its own
    transaction (a savepoint inside a caller's): whatever becomes of it, the others of the
    batch stay as they are."""
    message_id = message_id_of(message)
    if message_id:
        seen = InboundMessage.objects.filter(message_id=message_id).first()
        if seen is not None:
            return seen, None  # processed once already: the answer it got then
    record = InboundMessage(
        payload=_storable(message if isinstance(message, dict) else {"raw": message}),
        source=source, status=InboundMessage.Status.REJECTED,
        # Without a usable id it is kept all the same, under an id of ours, so that the
        # bureau sees it.
        message_id=message_id or f"{OWN_ID_PREFIX}{uuid.uuid4().hex}")
    try:
        with transaction.atomic():
            # Claim the message_id first: the same message_id arriving at the same moment
            # waits on the unique index until this commits, then fails and answers what
            # this one stored (below). So a message is applied once, and every answer
            # about it is the stored one.
            record.save()
            declaration = _process(record, message)
            record.save()
    except IntegrityError:
        twin = (InboundMessage.objects.filter(message_id=message_id).first()
                if message_id else None)
        if twin is None:
            raise
        return twin, None
    except DataError:
        # The message itself could not be kept as received (nothing of it was applied):
        # keep the fact and the reason, so that customs gets an answer and not a 500.
        log.exception("customs message %s: the database refused to keep it", message_id)
        record = InboundMessage.objects.create(
            payload={"refused": "the database refused the message as received"},
            source=source, status=InboundMessage.Status.REJECTED,
            message_id=f"{OWN_ID_PREFIX}{uuid.uuid4().hex}",
            errors=["the message could not be stored as received; the bureau has been told"])
        declaration = None
    return record, declaration


def _process(record, message):
    """Validate and apply the message, setting the record's status and errors; returns the
    declaration to match, if any."""
    try:
        _message_id, kind, data = parse(message)
        record.kind = kind
        record.declaration_number = data.get("number", "")
        declaration = _apply(kind, data)
    except MessageError as error:
        record.status = InboundMessage.Status.REJECTED
        record.errors = error.errors
        return None
    except DataError:
        # The checks in parse() are meant to leave the database nothing to refuse; if it
        # still does, this message alone is rejected (its changes were rolled back by
        # _apply's savepoint) and the bureau finds why in the log.
        log.exception("customs message %s: the database refused a value", record.message_id)
        record.status = InboundMessage.Status.REJECTED
        record.errors = ["a value could not be stored; the bureau has been told"]
        return None
    if kind == "declaration":
        record.declaration = declaration or Declaration.objects.filter(
            number=data["number"]).first()
        record.status = (InboundMessage.Status.ACCEPTED if declaration is not None
                         else InboundMessage.Status.DUPLICATE)
    else:
        record.declaration = declaration
        record.status = InboundMessage.Status.ACCEPTED
        declaration = None  # releases and cancellations are not matched again here
    return declaration


def _apply(kind, data, *, attempts=3):
    """Apply a valid message in a savepoint of its own: all of it or nothing. A declaration
    filed at the same moment by another message (another message_id, the same number)
    makes the insert fail once the other commits; then it is on file, and a second attempt
    treats this one as the same declaration again or an amendment."""
    apply = {"declaration": _apply_declaration, "release": _apply_release,
             "cancellation": _apply_cancellation}[kind]
    for attempt in range(attempts):
        try:
            with transaction.atomic():
                return apply(data)
        except IntegrityError:
            if attempt == attempts - 1:
                raise


def rematch_permit(permit):
    """Match again every live declaration citing the permit (RECON-5: after an approved
    mismatch correction the bureau matches itself and tells customs)."""
    ids = list(Declaration.objects.filter(
        Q(permit=permit) | Q(permit_no=permit.permit_no), cancelled_at__isnull=True)
        .values_list("pk", flat=True))
    if ids:
        match_soon(ids)
    return ids


def match_soon(ids):
    """Once the caller's transaction commits, queue the matching of the declarations `ids`
    for the worker (RECON-2, RECON-5). When the broker cannot take it (Redis down), match
    them here instead: customs waits for these results and nothing else would ever make
    them (the request that committed still answers; the matching of a batch costs well
    under a second)."""
    from portal.tasks import enqueue
    from reconciliation.tasks import match_declarations_task

    def run():
        if enqueue(match_declarations_task, ids) is None:
            from reconciliation import matching

            matching.match_declarations(ids)

    transaction.on_commit(run)


# --- 單證比對不符修正 (SHTC-10): the declaration's mismatch and its 會辦識別碼 -------------------

MISMATCH_MESSAGES = {
    "unknown_declaration": {
        Direction.EXPORT: _("No export declaration with this number cites permit "
                            "%(permit)s."),
        Direction.IMPORT: _("No import declaration with this number cites permit "
                            "%(permit)s."),
        None: _("No declaration with this number cites permit %(permit)s."),
    },
    "no_mismatch": _("Declaration %(number)s has not been matched with the permit yet: there "
                     "is no mismatch to correct."),
    "declaration_matched": _("Declaration %(number)s matched the permit: a mismatch "
                             "correction is not possible."),
    "wrong_coordination_id": _("The coordination ID is not the one of the mismatch of "
                               "declaration %(number)s: see the declaration matching "
                               "query."),
}
COORDINATION_ID_RE = re.compile(f"[{COORDINATION_ALPHABET}]{{{COORDINATION_LENGTH}}}")


def clean_coordination_id(value):
    """A 會辦識別碼 as typed: upper case, without spaces or hyphens."""
    return re.sub(r"[\s\-]", "", value or "").upper()


def mismatch_problem(*, permit, declaration_no, coordination_id):
    """Why a 單證比對不符修正 of `permit` for declaration `declaration_no` with the 會辦識別碼
    `coordination_id` may not be filed or approved now (a ValidationError with a code, see
    MISMATCH_MESSAGES), or None (SHTC-10, FAQ 3.10): a live declaration of the procedure's
    direction (export for SHTC) cites the permit, the newest matching of its revision on
    file found a mismatch, the id is that mismatch's, and nothing was released under the
    permit (the ledger). permits.changes calls this when a change is filed and again at
    approval, under the permit's row lock. Anything typed is taken: a value that cannot be
    a declaration number or an id is refused like a wrong one, never looked up."""
    from permits import changes, procedures

    number = (declaration_no or "").strip().upper()
    direction = procedures.get(permit.document_type).direction or None
    declaration = None
    if NUMBER_RE.fullmatch(number):
        declarations = Declaration.objects.filter(
            Q(permit=permit) | Q(permit_no=permit.permit_no), number=number,
            cancelled_at__isnull=True)
        if direction:
            declarations = declarations.filter(direction=direction)
        declaration = declarations.first()
    if declaration is None:
        return ValidationError(MISMATCH_MESSAGES["unknown_declaration"][direction],
                               code="unknown_declaration", params={"permit": permit.permit_no})
    # The newest result of the revision on file (an amendment not matched yet has none).
    result = (declaration.results.filter(revision=declaration.revision).order_by("-seq")
              .first())
    if result is None:
        return _mismatch_error("no_mismatch", number)
    if result.result != Result.MISMATCH:
        return _mismatch_error("declaration_matched", number)
    typed = clean_coordination_id(coordination_id)
    if not (COORDINATION_ID_RE.fullmatch(typed) and result.coordination_id
            and secrets.compare_digest(typed, result.coordination_id)):
        return _mismatch_error("wrong_coordination_id", number)
    if ledger.has_release(permit):
        return changes.error("has_release")
    return None


def _mismatch_error(code, number):
    return ValidationError(MISMATCH_MESSAGES[code], code=code, params={"number": number})
