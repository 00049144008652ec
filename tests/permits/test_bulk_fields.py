"""permits.bulk_fields: the shortcut past a field's clean() gives what clean() gives. Every
field of every item form (and fields made to vary the limits the shortcut reads) is run over
a corpus of good and bad texts both ways, through the import's own _Checker._field_clean:
the same value (type and text), the same warnings, the same errors (codes, messages,
params). The shortcut must also be taken, for the corpus' good texts of the fields it knows,
or this would prove nothing."""

import copy
import random
from decimal import Decimal

import pytest
from django import forms
from django.core import validators
from django.core.exceptions import ValidationError

from masks.forms import CorrectionItemForm, MaskItemForm
from permits.bulk_fields import TEXT_RULE_RE, fast_clean
from permits.bulk_items import _Checker
from permits.fields import (
    AmountField,
    BaseItemForm,
    PlainDecimalField,
    PriceField,
    QuantityField,
    TariffCodeField,
    tariff_check_digit,
)
from portal.forms import _text_rule
from shtc.forms import ShtcItemForm
from shtc.iran_filing import IranApplicationItemForm

pytestmark = pytest.mark.django_db

ITEM_FORMS = (BaseItemForm, ShtcItemForm, IranApplicationItemForm, MaskItemForm,
              CorrectionItemForm)


class ThreeWholeDigits(PlainDecimalField):
    max_whole_digits = 3
    max_decimal_places = 0


class TwoPlaces(PlainDecimalField):
    max_whole_digits = 5
    max_decimal_places = 2
    allow_zero = True


def _with_text_rule(field):
    _text_rule(field)
    return field


def item_form_fields():
    """(name, field) of every item form, as a bound form has them (deep copies with the
    text rule, portal.forms.TextRuleMixin)."""
    for form_class in ITEM_FORMS:
        for name, field in form_class.base_fields.items():
            yield f"{form_class.__name__}.{name}", _with_text_rule(copy.deepcopy(field))


def made_fields():
    """Fields whose limits differ from the item forms', and some the shortcut must leave."""
    return {
        "char 2-5": _with_text_rule(forms.CharField(max_length=5, min_length=2)),
        "char required": _with_text_rule(forms.CharField()),
        "char no text rule": forms.CharField(max_length=8),
        "text area": _with_text_rule(forms.CharField(widget=forms.Textarea, required=False)),
        "quantity": _with_text_rule(QuantityField()),
        "price": _with_text_rule(PriceField()),
        "amount": _with_text_rule(AmountField(required=False)),
        "three whole digits": _with_text_rule(ThreeWholeDigits()),
        "two places": _with_text_rule(TwoPlaces()),
        "digits 6, 2": _with_text_rule(QuantityField(max_digits=6, decimal_places=2)),
        "tariff": _with_text_rule(TariffCodeField()),
        "tariff max 10": _with_text_rule(TariffCodeField(max_length=10)),
        # Left to clean(): a validator or an option the shortcut does not know.
        "char regex": _with_text_rule(forms.CharField(validators=[
            validators.RegexValidator(r"^[A-Z]+$")])),
        "char no strip": _with_text_rule(forms.CharField(strip=False)),
        "quantity minimum": _with_text_rule(QuantityField(min_value=Decimal(5))),
        "decimal": _with_text_rule(forms.DecimalField(max_digits=5, decimal_places=2)),
    }


LEFT_TO_CLEAN = {"char regex", "char no strip", "quantity minimum", "decimal", "tariff max 10"}

ALPHABET = ("0123456789" * 3 + ".,-+ eE" + "０１２．，" + "abcXYZ" + "貨品名稱" +
            "\t\n\r\x00\x01\x7f\x85\u200b\u200e\u2028\u3000\xa0'_")


def corpus():
    chance = random.Random(20261203)
    texts = {"", " ", "0", "00", "0.0", "0.5", ".5", "5.", "05", "-0", "-5", "+5", "1e3",
             "1,005", "1 005", "1.2.3", "100.55", "100.5500", "100.00000", "600000",
             "12345", "123456", "1234", "99999.99", "99999.999", "100000", "0.0001",
             "0.00001", "0.00010", "1.10", "1.0", "10.", "NaN", "Infinity", "１２３",
             "１２．５", "5A002.a", "PCE", "貨品", " 貨品", "貨品 ", "a\tb", "a\nb", "a\x00b",
             "a\u200bb", "a\u2028b", "\u3000x", "x\xa0", "6307.90.50.31-1", "A" * 390,
             "A" * 391, "A" * 389, "B" * 5, "B" * 6, "B", "BB"}
    for whole in range(0, 18):
        for places in range(0, 7):
            texts.add(("9" * whole or "0") + ("." + "5" * places if places else ""))
            texts.add(("1" + "0" * whole) + ("." + "0" * places if places else ""))
    for _ in range(500):
        digits = f"{chance.randrange(10**10):010d}"
        texts.add(digits + str(tariff_check_digit(digits)))
        texts.add(digits + str((tariff_check_digit(digits) + 1) % 10))
        texts.add(digits)
        texts.add(str(chance.randrange(1, 10**9)) + "." + str(chance.randrange(10**4)))
        texts.add("".join(chance.choice(ALPHABET) for _ in range(chance.randrange(1, 14))))
    return sorted(texts)


def plain(field, text):
    """What clean() gives, as compared."""
    try:
        value = field.clean(text)
    except ValidationError as error:
        return ("error", [(item.code, item.params) for item in error.error_list],
                error.messages)
    return ("ok", type(value), str(value), tuple(getattr(field, "warnings", ())))


def through_checker(field, text, shortcut):
    """What the import gets (_Checker._field_clean with the shortcut), as compared."""
    value, warnings, error = _Checker._field_clean({}, field, text, shortcut)
    if error is not None:
        return ("error", [(item.code, item.params) for item in error.error_list],
                error.messages)
    return ("ok", type(value), str(value), tuple(warnings))


@pytest.fixture
def fields():
    return {**dict(item_form_fields()), **made_fields()}


def test_the_shortcut_gives_what_clean_gives(fields):
    texts = corpus()
    taken = {}
    for label, field in fields.items():
        shortcut = fast_clean(field)
        if shortcut is None:
            continue
        taken[label] = 0
        for text in texts:
            if shortcut(text) is not None:
                taken[label] += 1
            assert through_checker(field, text, shortcut) == plain(field, text), (label, text)
    # Every text field, number and tariff code of the item forms has its shortcut, and it
    # is taken: for a name, a number of the field's limits, an 11-digit code.
    for label, field in fields.items():
        known = type(field) is forms.CharField or isinstance(
            field, TariffCodeField | PlainDecimalField)
        if label in LEFT_TO_CLEAN or label == "char no text rule":
            continue
        assert (label in taken) == known, label
        if known:
            assert taken[label] > 20, (label, taken[label])


def test_what_the_shortcut_leaves_to_clean(fields):
    for label in LEFT_TO_CLEAN:
        assert fast_clean(fields[label]) is None, label
    # A field with a text rule or validators changed after the shortcut was made is not a
    # concern: the import makes the shortcut from the form it cleans with.
    shortcut = fast_clean(fields["quantity"])
    assert shortcut("100.50") == (Decimal("100.5"), ())
    assert str(shortcut("100.50")[0]) == "100.5"
    assert shortcut("0") is None  # refused by clean() (not_positive)
    assert shortcut("1234567890") is None  # 10 digits before the point: clean() says why


def test_the_text_rule_pattern_covers_the_rule():
    # Every character the text rule changes or refuses is one the shortcut leaves.
    from portal.forms import clean_text

    for code in range(0x3000):
        char = chr(code)
        text = f"a{char}b"
        try:
            unchanged = clean_text(text) == text and clean_text(text, multiline=True) == text
        except ValidationError:
            unchanged = False
        if not unchanged:
            assert TEXT_RULE_RE.search(text), hex(code)


def test_the_check_digit_by_table_is_the_rule():
    # permits.fields.tariff_check_digit reads its digits by table (the import checks 10,000
    # codes): the same digit as the rule written out (REFERENCE.md), for every first digit
    # pair and many codes.
    def by_rule(first10):
        total = 0
        for position, char in enumerate(first10, start=1):
            digit = int(char)
            if position == 1:
                total += digit * 2 % 10
            elif position % 2:
                total += digit * 2 - 9 if digit * 2 > 9 else digit * 2
            else:
                total += digit
        return (10 - total % 10) % 10

    chance = random.Random(7)
    codes = [f"{chance.randrange(10**10):010d}" for _ in range(20_000)]
    codes += [str(digit) * 10 for digit in range(10)]
    for code in codes:
        assert tariff_check_digit(code) == by_rule(code), code
    for bad in ("", None, "123456789", "12345678901", "１２３４５６７８９０", "123456789a"):
        with pytest.raises(ValueError):
            tariff_check_digit(bad)
