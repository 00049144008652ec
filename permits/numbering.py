"""The portal's numbers. Each is 14 characters, like the real permits (REFERENCE.md):

    kind letter (1) + document type (2) + ROC year (3) + serial (8)

    收件編號 receipt number        R + MK + 115 + 00000042  →  RMK11500000042
    登錄編號 registration number   E + EU + 115 + 00000007  →  EEU11500000007
    許可證號碼 permit number        P + SE + 115 + 00000003  →  PSE11500000003

The serial restarts every ROC year (Asia/Taipei) per kind and document type. Numbers come
from a counter row locked for the rest of the caller's transaction: two submissions at once
queue on the lock and get consecutive numbers. If the caller's transaction rolls back, the
number goes back too; nothing printed or mailed ever carries a number that was not
committed, so the sequence has no holes that matter and no duplicates (unique columns).
"""

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from permits.models import NumberSequence

RECEIPT = "R"
REGISTRATION = "E"
PERMIT = "P"


def roc_year(moment=None):
    return timezone.localdate(moment or timezone.now()).year - 1911


def next_number(kind, document_type, moment=None):
    """The next number of `kind` for `document_type`; call inside a transaction."""
    year = roc_year(moment)
    key = {"kind": kind, "document_type": document_type, "roc_year": year}
    if not NumberSequence.objects.filter(**key).exists():
        try:
            with transaction.atomic():  # the first number of a year: two may race to create
                NumberSequence.objects.create(**key)
        except IntegrityError:
            pass
    # UPDATE … SET last = last + 1 takes the row lock and holds it until the caller commits.
    NumberSequence.objects.filter(**key).update(last=F("last") + 1)
    serial = NumberSequence.objects.get(**key).last
    return f"{kind}{document_type}{year:03d}{serial:08d}"
