"""Check digits of the identifiers an account is opened with (ACC-1, REFERENCE.md).

Plain functions: `is_valid_*` answers yes or no; `validate_identifier` raises a
ValidationError with a code the forms show next to the field.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

BAN_WEIGHTS = (1, 2, 1, 2, 1, 2, 4, 1)

# 身分證字號: the letter stands for a two-digit number (REFERENCE.md).
LETTER_CODES = {
    "A": 10, "B": 11, "C": 12, "D": 13, "E": 14, "F": 15, "G": 16, "H": 17, "I": 34,
    "J": 18, "K": 19, "L": 20, "M": 21, "N": 22, "O": 35, "P": 23, "Q": 24, "R": 25,
    "S": 26, "T": 27, "U": 28, "V": 29, "W": 32, "X": 30, "Y": 31, "Z": 33,
}
NATIONAL_ID_RE = re.compile(r"^[A-Z][12][0-9]{8}$")
RESIDENT_ID_RE = re.compile(r"^[A-Z][89][0-9]{8}$")  # new-style resident certificate (2021)
BAN_RE = re.compile(r"^[0-9]{8}$")
PASSPORT_RE = re.compile(r"^[A-Z0-9]{5,20}$")


def normalize(value):
    """Identifiers are compared upper-case and without surrounding or inner blanks, typed in
    ASCII or full width (portal.forms: the one rule of numeric and code fields)."""
    from portal.forms import to_ascii

    return re.sub(r"\s+", "", to_ascii(value or "")).upper()


def is_valid_ban(value):
    """統一編號: weights 1,2,1,2,1,2,4,1; the digits of each product are added.

    Since 2023-04-01 the sum must be divisible by 5 (before: 10); when the 7th digit is 7
    its product 28 may also count as 1, so S+1 divisible by 5 passes too. The new rule
    accepts every number the old one did.
    """
    if not BAN_RE.match(value):
        return False
    total = 0
    for digit, weight in zip(value, BAN_WEIGHTS, strict=True):
        product = int(digit) * weight
        total += product // 10 + product % 10
    if total % 5 == 0:
        return True
    return value[6] == "7" and (total + 1) % 5 == 0


def _letter_id_checksum_ok(value):
    code = LETTER_CODES[value[0]]
    total = code // 10 + (code % 10) * 9
    for digit, weight in zip(value[1:9], (8, 7, 6, 5, 4, 3, 2, 1), strict=True):
        total += int(digit) * weight
    total += int(value[9])
    return total % 10 == 0


def is_valid_national_id(value):
    """身分證字號 (letter, 1 or 2, eight digits) or a new-style resident certificate
    (letter, 8 or 9, eight digits): the same checksum."""
    if not (NATIONAL_ID_RE.match(value) or RESIDENT_ID_RE.match(value)):
        return False
    return _letter_id_checksum_ok(value)


def is_valid_passport(value):
    """Passports carry no check digit we can verify: 5 to 20 letters and digits."""
    return bool(PASSPORT_RE.match(value))


def validate_identifier(identifier_type, value):
    """Raise ValidationError unless `value` (normalized) is a valid identifier of the type."""
    from portal.accounts.models import IdentifierType

    if identifier_type == IdentifierType.BAN:
        if not BAN_RE.match(value):
            raise ValidationError(_("A unified business number has exactly 8 digits."),
                                  code="ban_format")
        if not is_valid_ban(value):
            raise ValidationError(_("This unified business number fails its check digit."),
                                  code="ban_checksum")
    elif identifier_type == IdentifierType.NATIONAL_ID:
        if not (NATIONAL_ID_RE.match(value) or RESIDENT_ID_RE.match(value)):
            raise ValidationError(
                _("An ID number is one letter followed by 9 digits, e.g. A123456789."),
                code="national_id_format",
            )
        if not is_valid_national_id(value):
            raise ValidationError(_("This ID number fails its check digit."),
                                  code="national_id_checksum")
    elif identifier_type == IdentifierType.PASSPORT:
        if not is_valid_passport(value):
            raise ValidationError(
                _("A passport number has 5 to 20 letters or digits."), code="passport_format"
            )
    else:
        raise ValidationError(_("Choose the kind of identifier."), code="identifier_type")


def axes_username(request, credentials):
    """django-axes counts failed logins per account: count `a123456789` and `A123456789 `
    as the same account, as the login itself does."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    return normalize(username)
