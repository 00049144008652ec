"""A shortcut past a form field's clean() for the texts it would take unchanged, for checking
thousands of spreadsheet cells (permits.bulk_items): the same result, found without the text
rule's five passes, Django's to_python / validate / run_validators and their exceptions.

fast_clean(field) reads the field's own limits when the check starts (its class, its
max_length and min_length validators, its decimal digits and places, whether it takes 0) and
returns a function `shortcut(text)` that gives (cleaned value, warnings) for a text the field
takes as it is, or None for any other text, which then goes to field.clean() itself. It
never decides that a text is bad: every refusal, and so every message, is field.clean()'s.
A text is taken here only when each step of clean() would leave it as it is:

- the portal's text rule (portal.forms.clean_text): no invisible format character, line
  break, tab or control character (the rule's own patterns);
- CharField.to_python's strip: no blank at either end; not empty (required is clean()'s);
- the validators: only max_length, min_length and the NUL rule are known, their limits read
  from the field's validators;
- a number (permits.fields.PlainDecimalField): ASCII digits, at most one point with digits
  after it, no sign and no leading zero, within the field's digits before and after the point
  (the least of its own limits and its DecimalValidator's), 0 only where the field takes it;
  the value is the Decimal clean() makes (trailing zeros after the point dropped);
- a tariff code (permits.fields.TariffCodeField): 11 ASCII digits, with the field's own
  check-digit warnings (permits.fields.tariff_warnings).

A field of any other class, or whose class changes clean(), to_python(), validate() or
run_validators(), or with a validator not listed, gets None: all of its texts go to clean().
tests/permits/test_bulk_fields.py runs both over a corpus of good and bad texts of every
item form's fields and requires the same values, warnings and errors.
"""

import re
from decimal import Decimal

from django import forms
from django.core import validators

from permits.fields import (
    TARIFF_DIGITS_RE,
    PlainDecimalField,
    TariffCodeField,
    tariff_warnings,
)
from portal.forms import CONTROL_RE, INVISIBLE_RE, LINE_BREAK_RE

# What the text rule would change or refuse in a one-line field or a text area (the tab, the
# line feed, the NUL byte and the other controls are among these patterns or added).
TEXT_RULE_RE = re.compile("|".join((INVISIBLE_RE.pattern, LINE_BREAK_RE.pattern,
                                    CONTROL_RE.pattern, "[\t\n\x00]")))


def _methods_are(field, cls, names):
    """Whether `field`'s class takes each of `names` from `cls`, and the instance overrides
    only clean, and that only by the text rule's wrapper (portal.forms._text_rule)."""
    if any(getattr(type(field), name) is not getattr(cls, name) for name in names):
        return False
    own = vars(field)
    if "clean" in own and not own.get("_text_rule"):
        return False
    return not any(name in own for name in names if name != "clean")


def _length_limits(field):
    """(min, max) length of the field's validators, or None if it has one not known here."""
    low, high = 0, None
    for validator in field.validators:
        kind = type(validator)
        if kind is validators.ProhibitNullCharactersValidator:
            continue  # no NUL passes TEXT_RULE_RE
        if kind not in (validators.MaxLengthValidator, validators.MinLengthValidator):
            return None
        limit = validator.limit_value
        if callable(limit) or type(limit) is not int:
            return None
        if kind is validators.MaxLengthValidator:
            high = limit if high is None else min(high, limit)
        else:
            low = max(low, limit)
    return low, high


_CHAR_METHODS = ("clean", "to_python", "validate", "run_validators")


def _char_shortcut(field):
    if not field.strip or not _methods_are(field, forms.CharField, _CHAR_METHODS):
        return None
    limits = _length_limits(field)
    if limits is None:
        return None
    low, high = limits
    high = high if high is not None else float("inf")
    rule = TEXT_RULE_RE.search
    empty = field.empty_values

    def shortcut(text):
        if (type(text) is not str or not text or text in empty or not low <= len(text) <= high
                or text[0].isspace() or text[-1].isspace() or rule(text)):
            return None
        return text, ()

    return shortcut


def _tariff_shortcut(field):
    if not field.strip or not _methods_are(field, TariffCodeField, _CHAR_METHODS):
        return None
    limits = _length_limits(field)
    if limits is None:
        return None
    low, high = limits
    if not low <= 11 <= (high if high is not None else 11):
        return None
    digits = TARIFF_DIGITS_RE.fullmatch

    def shortcut(text):
        if type(text) is not str or not digits(text):
            return None
        found = tariff_warnings(text)
        field.warnings = found  # as clean() leaves it
        return text, tuple(found)

    return shortcut


def _decimal_shortcut(field):
    if not _methods_are(field, PlainDecimalField, _CHAR_METHODS):
        return None
    whole, places = field.max_whole_digits, field.max_decimal_places
    for validator in field.validators:
        if type(validator) is not validators.DecimalValidator:
            return None  # a minimum or maximum value: left to clean()
        if validator.max_digits is not None and validator.decimal_places is not None:
            whole = min(whole, validator.max_digits - validator.decimal_places)
        if validator.decimal_places is not None:
            places = min(places, validator.decimal_places)
        elif validator.max_digits is not None:
            return None
    if whole < 1 or places < 0:
        return None
    pattern = re.compile(rf"(?:0|[1-9][0-9]{{0,{whole - 1}}})"
                         + (rf"(?:\.[0-9]{{1,{places}}})?" if places else ""))
    number = pattern.fullmatch
    allow_zero = field.allow_zero

    def shortcut(text):
        if type(text) is not str or not number(text):
            return None
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        value = Decimal(text)
        if not value and not allow_zero:
            return None
        return value, ()

    return shortcut


def fast_clean(field):
    """The shortcut of `field` (module docstring), or None when it has none."""
    if isinstance(field, TariffCodeField):
        return _tariff_shortcut(field)
    if isinstance(field, PlainDecimalField):
        return _decimal_shortcut(field)
    if type(field) is forms.CharField:
        return _char_shortcut(field)
    return None
