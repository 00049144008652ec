"""The goods-item fields every procedure shares (貨品明細: PERMIT-8, PERMIT-9, SHTC-16):
tariff code, quantity, unit, unit price, currency, amount, origin country and the export
control number. Plain functions for the rules (the spreadsheet import reuses them), form
fields over them, and BaseItemForm for `permits.models.Item`, which the mask and SHTC item
forms subclass.

Error codes (tests and callers look at these, never at the wording):

    tariff_format        tariff code neither 11 digits nor NNNN.NN.NN.NN-C
    invalid              not a plain number: letters, 1e3, 5., +5, 1.2.3
    thousands_separator  1,005  600,000  1 005  1'005  10,00,000
    decimal_point        a fraction without its point or with leading zeros: .5 ,5 0,5 05
    max_whole_digits     too many digits before the point (quantity 9, unit price 13, amount 15)
    max_decimal_places   more than 4 digits after the point (trailing zeros do not count)
    not_positive         a quantity of 0 or below
    negative             a unit price or amount below 0
    invalid_choice       a currency or country code that is unknown or not in use
    control_no_format    export control number
    unit_format          unit code

A tariff code whose check digit does not fit is not refused: REFERENCE.md's rule is
reconstructed, not published, so it only gives a warning (`tariff_warnings`, collected into
`form.warnings` by FieldWarningsMixin).

Full-width characters: a Chinese input method in full-width mode types ０-９, Ａ-Ｚ, '．',
'，' and so on (U+FF01-U+FF5E). Every field here reads them as the ASCII characters they
stand for (portal.forms.to_ascii, the one rule of every numeric and code field of the portal,
dates included), then applies the same strict rules (so '１，００５' is still a thousands
separator). Other non-ASCII digits are refused.
"""

import re
import time
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import signals
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from permits.models import Country, Currency, Item
from portal.forms import PortalModelForm, field_label, to_ascii


@dataclass(frozen=True)
class FieldWarning:
    """Something the user should look at that does not block the form."""

    code: str
    message: str

    def __str__(self):
        return str(self.message)


# --- Tariff code (號列, REFERENCE.md "Tariff codes") -------------------------------------------

TARIFF_FORMAT_MESSAGE = _(
    "Enter the tariff code as 11 digits, such as 63079050311 or 6307.90.50.31-1.")
TARIFF_CHECK_DIGIT_WARNING = _(
    "The last digit of tariff code %(code)s is usually %(expected)s. Please check the code.")

TARIFF_DIGITS_RE = re.compile(r"[0-9]{11}")
TARIFF_DISPLAY_RE = re.compile(r"([0-9]{4})\.([0-9]{2})\.([0-9]{2})\.([0-9]{2})-([0-9])")


def normalize_tariff_code(text, *, allow_separators=True):
    """The stored form (11 digits) of a tariff code typed as 63079050311 or, when
    `allow_separators`, in the display form 6307.90.50.31-1. Only the display form's own dots
    and dash are removed: inner blanks, letters, other separators or a wrong length raise
    ValidationError(code="tariff_format"). The spreadsheet import passes
    allow_separators=False (SHTC-17: 11 digits, nothing else)."""
    value = to_ascii(text if text is not None else "").strip()
    if TARIFF_DIGITS_RE.fullmatch(value):
        return value
    match = TARIFF_DISPLAY_RE.fullmatch(value) if allow_separators else None
    if match:
        return "".join(match.groups())
    raise ValidationError(TARIFF_FORMAT_MESSAGE, code="tariff_format")


def tariff_check_digit(first10):
    """The 11th digit from the first ten, by the rule that reproduces 78 real codes
    (REFERENCE.md): position 1 doubled mod 10; positions 3, 5, 7, 9 doubled, minus 9 above 9;
    positions 2, 4, 6, 8, 10 as they are; check = (10 - total mod 10) mod 10."""
    if not _TEN_DIGITS_RE.fullmatch(first10 or ""):
        raise ValueError(f"expected 10 digits, got {first10!r}")
    # By table, per byte of the ASCII digits (a spreadsheet import checks 10,000 codes).
    d = first10.encode()
    total = (_FIRST_DOUBLED[d[0]] + _DOUBLED[d[2]] + _DOUBLED[d[4]] + _DOUBLED[d[6]]
             + _DOUBLED[d[8]] + d[1] + d[3] + d[5] + d[7] + d[9] - 5 * 48)
    return (10 - total % 10) % 10


_TEN_DIGITS_RE = re.compile(r"[0-9]{10}")
# Indexed by the byte of an ASCII digit: position 1 doubled mod 10; 3, 5, 7, 9 doubled,
# minus 9 above 9.
_FIRST_DOUBLED = {48 + digit: digit * 2 % 10 for digit in range(10)}
_DOUBLED = {48 + digit: digit * 2 - 9 if digit * 2 > 9 else digit * 2 for digit in range(10)}


def format_tariff_code(code):
    """63079050311 -> 6307.90.50.31-1. Anything that is not 11 digits comes back unchanged,
    so a legacy value still shows."""
    if code is None:
        return ""
    if not TARIFF_DIGITS_RE.fullmatch(code):
        return code
    return f"{code[:4]}.{code[4:6]}.{code[6:8]}.{code[8:10]}-{code[10]}"


def tariff_warnings(code):
    """Warnings about a well-formed tariff code (stored or display form): a check digit that
    does not fit the rule. A malformed code gives none here: that is the field's error."""
    try:
        code = normalize_tariff_code(code)
    except ValidationError:
        return []
    expected = tariff_check_digit(code[:10])
    if int(code[10]) == expected:
        return []
    # The rule is reconstructed, not published (position 3 was never seen above 4): warn only.
    message = TARIFF_CHECK_DIGIT_WARNING % {"code": format_tariff_code(code),
                                            "expected": expected}
    return [FieldWarning("tariff_check_digit", message)]


class TariffCodeField(forms.CharField):
    """Accepts 63079050311 or 6307.90.50.31-1; cleans to the 11 digits. After clean(),
    `warnings` holds the check-digit warning, if any."""

    default_error_messages = {"tariff_format": TARIFF_FORMAT_MESSAGE}

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(
            attrs={"placeholder": "6307.90.50.31-1", "autocomplete": "off"}))
        super().__init__(**kwargs)
        self.warnings = []

    def __deepcopy__(self, memo):
        result = super().__deepcopy__(memo)
        result.warnings = []
        return result

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return value
        try:
            return normalize_tariff_code(value)
        except ValidationError:
            raise ValidationError(self.error_messages["tariff_format"],
                                  code="tariff_format") from None

    def prepare_value(self, value):
        # Stored codes show in the display form; anything else as typed.
        return format_tariff_code(value) if isinstance(value, str) else value

    def clean(self, value):
        self.warnings = []
        value = super().clean(value)
        if value:
            self.warnings = tariff_warnings(value)
        return value


# --- Quantities and money (PERMIT-9) ----------------------------------------------------------

NUMBER_MESSAGES = {
    "invalid": _("Enter a number such as 100.55 or 600000."),
    "thousands_separator": _(
        "Write the number without thousands separators, such as 1005 rather than 1,005."),
    "decimal_point": _(
        "Write a fraction with a decimal point and without leading zeros, such as 0.5."),
    "max_whole_digits": _("Enter at most %(max)s digits before the decimal point."),
    "max_decimal_places": _("Enter at most %(max)s digits after the decimal point."),
    "not_positive": _("Enter a number greater than 0."),
    "negative": _("Enter a number of 0 or more."),
}

PLAIN_NUMBER_RE = re.compile(r"(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?")
# 1,005 / 600,000 / 1 005 / 1'005 / 1_005 (Decimal() itself would take the last one).
GROUPED_RE = re.compile(r"-?[1-9][0-9]{0,2}(?:[,' _\u00a0\u202f][0-9]{3})+(?:\.[0-9]*)?")
# A decimal comma (0,5 ,5 1,25), a missing leading digit (.5) or leading zeros (05, 007).
DECIMAL_COMMA_RE = re.compile(r"-?[0-9]*,[0-9]+")
NO_LEADING_DIGIT_RE = re.compile(r"-?\.[0-9]+")
LEADING_ZERO_RE = re.compile(r"-?0[0-9]+(?:\.[0-9]+)?")
SEPARATED_DIGITS_RE = re.compile(r"-?[0-9][0-9,.' _\u00a0\u202f]*")


def _number_text(value):
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | Decimal):
        return format(Decimal(value), "f")
    if isinstance(value, float):
        # A spreadsheet cell: repr() is the shortest text that reads back as the same float.
        return format(Decimal(repr(value)), "f")
    return to_ascii(value).strip()


def parse_decimal(value, *, max_whole_digits, max_decimal_places=4, allow_zero=False):
    """A Decimal from text written as PERMIT-9 asks: digits, at most one decimal point, no
    thousands separators, no exponent, no leading zeros (0.5, not .5, 0,5 or 05). Below 0 is
    never allowed; 0 only with `allow_zero`. Raises ValidationError with the codes listed in
    the module docstring (params: max)."""
    text = _number_text(value)
    match = PLAIN_NUMBER_RE.fullmatch(text)
    if not match:
        if GROUPED_RE.fullmatch(text):
            code = "thousands_separator"
        elif (DECIMAL_COMMA_RE.fullmatch(text) or NO_LEADING_DIGIT_RE.fullmatch(text)
              or LEADING_ZERO_RE.fullmatch(text)):
            code = "decimal_point"
        elif "," in text and SEPARATED_DIGITS_RE.fullmatch(text):
            code = "thousands_separator"  # 10,00,000 or 1.005,5: separators all the same
        else:
            code = "invalid"
        raise ValidationError(NUMBER_MESSAGES[code], code=code)
    sign, whole, fraction = match.group(1), match.group(2), (match.group(3) or "").rstrip("0")
    if whole != "0" and len(whole) > max_whole_digits:
        raise ValidationError(NUMBER_MESSAGES["max_whole_digits"], code="max_whole_digits",
                              params={"max": max_whole_digits})
    if len(fraction) > max_decimal_places:
        raise ValidationError(NUMBER_MESSAGES["max_decimal_places"],
                              code="max_decimal_places", params={"max": max_decimal_places})
    number = Decimal(f"{whole}.{fraction}" if fraction else whole)
    if sign and number:
        code = "negative" if allow_zero else "not_positive"
        raise ValidationError(NUMBER_MESSAGES[code], code=code)
    if not number and not allow_zero:
        raise ValidationError(NUMBER_MESSAGES["not_positive"], code="not_positive")
    return number


def plain_decimal(value):
    """100.5500 -> '100.55', 600000.0000 -> '600000': how a stored number is shown back, in a
    form the field accepts again (never 6E+5, never grouped)."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


class PlainNumberInput(forms.TextInput):
    """A text input, not type="number": a browser empties a number input holding "1,005",
    and the user must get their text back with the reason (STYLE.md, views)."""

    def __init__(self, attrs=None):
        super().__init__({"inputmode": "decimal", "autocomplete": "off", **(attrs or {})})

    def format_value(self, value):
        if isinstance(value, Decimal) and value.is_finite():
            return plain_decimal(value)
        return super().format_value(value)


class PlainDecimalField(forms.DecimalField):
    """A DecimalField that reads the text by parse_decimal()'s rules. Subclasses set the
    digit limits of their model column."""

    widget = PlainNumberInput
    max_whole_digits = 9
    max_decimal_places = 4
    allow_zero = False
    default_error_messages = NUMBER_MESSAGES

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", self.max_whole_digits + self.max_decimal_places)
        kwargs.setdefault("decimal_places", self.max_decimal_places)
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values or (isinstance(value, str) and not to_ascii(value).strip()):
            return None
        try:
            return parse_decimal(value, max_whole_digits=self.max_whole_digits,
                                 max_decimal_places=self.max_decimal_places,
                                 allow_zero=self.allow_zero)
        except ValidationError as error:
            raise ValidationError(self.error_messages[error.code], code=error.code,
                                  params=error.params) from None


class QuantityField(PlainDecimalField):
    """數量 (PERMIT-9): up to 9 digits before the point and 4 after, greater than 0; fits
    Item.quantity (13, 4)."""

    max_whole_digits = 9


class PriceField(PlainDecimalField):
    """單價: 0 or more, up to 13 digits before the point and 4 after (Item.unit_price 17, 4)."""

    max_whole_digits = 13
    allow_zero = True


class AmountField(PlainDecimalField):
    """金額: 0 or more, up to 15 digits before the point and 4 after (Item.amount 19, 4)."""

    max_whole_digits = 15
    allow_zero = True


# --- Currency and country (reference tables, ISO 4217 and ISO 3166-1) ------------------------

BLANK_CHOICE = ("", "---------")


def name_field():
    """The column of a reference table's name in the current language: name_zh in Chinese,
    name_en in English (point 16: the English UI names countries in English)."""
    return "name_zh" if (get_language() or "").startswith("zh") else "name_en"


# Reference tables change a few times a year, through the admin, and are read on most
# pages (a case page names its countries, every item form lists them): each process keeps
# them for REFERENCE_TTL seconds. A save or delete clears this process's copy at once
# (signals below); other processes see it within the TTL. Procedures keep what they derive
# from their own reference tables here too (reference_cached: shtc.rules' regimes and
# controlled areas), so that one call, reference_rows_forget(), clears all of it.
REFERENCE_TTL = 60
_reference_rows = {}


def reference_cached(key, load):
    """load() kept in this process under `key` (a tuple naming what it is, and the language
    when it holds words) for REFERENCE_TTL seconds, or until reference_rows_forget()."""
    cached = _reference_rows.get(key)
    if cached is None or cached[0] < time.monotonic():
        cached = _reference_rows[key] = (time.monotonic() + REFERENCE_TTL, load())
    return cached[1]


def reference_rows(model, *, active_only=False):
    """[(code, name)] of the reference table `model` in the current language, cached."""
    name = name_field()

    def load():
        rows = model.objects.filter(active=True) if active_only else model.objects.all()
        return list(rows.values_list("code", name))

    return reference_cached((model, name, active_only), load)


def reference_rows_forget(**_kwargs):
    _reference_rows.clear()


def forget_reference_on_change(*models):
    """Clear this process's reference copies whenever a row of `models` is saved or deleted
    (through the admin or any model save; bulk loads wait for the TTL)."""
    for model in models:
        label = f"{model._meta.app_label}_{model.__name__}"
        signals.post_save.connect(reference_rows_forget, sender=model,
                                  dispatch_uid=f"reference_rows_{label}_save")
        signals.post_delete.connect(reference_rows_forget, sender=model,
                                    dispatch_uid=f"reference_rows_{label}_delete")


forget_reference_on_change(Country, Currency)


def country_names(codes=None):
    """{code: name} of the countries (those of `codes`, or all), in the current language:
    {"DE": "德國"} in Chinese, {"DE": "Germany"} in English. Read inside the request or the
    translation.override() whose language the page or document speaks."""
    names = dict(reference_rows(Country))
    return names if codes is None else {code: names[code] for code in codes if code in names}


def _reference_choices(model):
    # Read when the choices are iterated, so in the language of the request being answered.
    rows = reference_rows(model, active_only=True)
    return [BLANK_CHOICE, *((code, f"{code} {name}") for code, name in rows)]


def currency_choices():
    """The currencies in use, labelled "USD 美元" ("USD US Dollar" in English)."""
    return _reference_choices(Currency)


def country_choices():
    """The countries in use, labelled "CN 中國大陸" (short names, REFERENCE.md; "CN China"
    in English)."""
    return _reference_choices(Country)


def _attrs_html(attrs):
    # As django/forms/widgets/attrs.html writes them.
    return "".join(
        f" {name}" if value is True else f' {name}="{conditional_escape(value)}"'
        for name, value in attrs.items() if value is not False)


class CodeSelect(forms.Select):
    """Selects the option even when the bound value was typed in lower case ("cn").

    Renders the markup of Django's select.html and select_option.html, but in Python: the
    templates cost one render per option, 250 for a country (a page with four country
    selects spent half its time there). The options of a reference field's own choices
    (`reference_choices`, set by ReferenceCodeField) are escaped once per process and
    language and kept with the reference rows, as one text; each render only marks the
    selected one.
    Grouped choices (optgroup) and multiple selects go through Django's templates."""

    reference_choices = None  # the function whose choices are the reference table's

    def format_value(self, value):
        return [v.upper() for v in super().format_value(value)]

    def _options(self):
        """The options' markup, or None for grouped choices: (the whole list with nothing
        selected, {value: where " selected" goes in the first option of that value}, in the
        options' order). A render puts " selected" in place instead of joining 250 options
        again (issue 10, profiled)."""
        body, places = [], {}
        end = 0
        for value, label in self.choices:
            if isinstance(label, list | tuple):
                return None
            value = "" if value is None else str(value)
            head = f'\n  <option value="{conditional_escape(value)}"'
            tail = f">{conditional_escape(label)}</option>\n"
            body += (head, tail)
            places.setdefault(value, end + len(head))
            end += len(head) + len(tail)
        return "".join(body), places

    def _kept_options(self):
        """_options(), kept per process and language while the choices are the reference
        table's; else None."""
        source = getattr(self.choices, "func", None)
        if source is None or source is not self.reference_choices:
            return None
        return reference_cached(
            ("options", source.__module__, source.__qualname__, get_language()), self._options)

    def use_required_attribute(self, initial):
        # Django's asks the choices for their first one, which builds all 250 of them.
        options = self._kept_options()
        if options is None or self.allow_multiple_selected:
            return super().use_required_attribute(initial)
        return (forms.Widget.use_required_attribute(self, initial)
                and next(iter(options[1]), None) == "")

    def render(self, name, value, attrs=None, renderer=None):
        if self.allow_multiple_selected:
            return super().render(name, value, attrs, renderer)
        options = self._kept_options() or self._options()
        if options is None:
            return super().render(name, value, attrs, renderer)
        body, places = options
        # Django marks the first option whose value is among the wanted ones, and no other.
        chosen = min((places[each] for each in self.format_value(value) if each in places),
                     default=None)
        if chosen is not None:
            body = f"{body[:chosen]} selected{body[chosen:]}"
        attrs = self.build_attrs(self.attrs, attrs)
        return mark_safe(  # noqa: S308 (name, attributes, values and labels escaped)
            f'<select name="{conditional_escape(name)}"{_attrs_html(attrs)}>{body}\n</select>')


class ReferenceCodeField(forms.ChoiceField):
    """A choice over a reference table's active rows that also takes the code typed in any
    case (users type "cn", the spreadsheet import passes cell text). Cleans to the code
    string, which is what the Item columns store."""

    widget = CodeSelect
    model = None
    choices_function = None

    def __init__(self, **kwargs):
        # A function, so the rows are read when a form is built, not when this module loads.
        kwargs.setdefault("choices", type(self).choices_function)
        super().__init__(**kwargs)
        if isinstance(self.widget, CodeSelect):
            # While its choices are the reference table's, the widget keeps their markup.
            self.widget.reference_choices = type(self).choices_function

    def to_python(self, value):
        return to_ascii(super().to_python(value)).strip().upper()

    def valid_value(self, value):
        return self.model.objects.filter(active=True, pk=value).exists()


class CurrencyField(ReferenceCodeField):
    model = Currency
    choices_function = staticmethod(currency_choices)
    default_error_messages = {
        "invalid_choice": _("%(value)s is not a currency code in use (ISO 4217, such as USD)."),
    }


class CountryField(ReferenceCodeField):
    model = Country
    choices_function = staticmethod(country_choices)
    default_error_messages = {
        "invalid_choice": _("%(value)s is not a country code in use (ISO 3166, such as US)."),
    }


# --- Export control number and unit ----------------------------------------------------------

CONTROL_NO_MESSAGE = _(
    "Enter an export control number such as 3B001, 5A002.a or ML8, of at most 7 characters.")
CONTROL_NO_MAX_LENGTH = 7
# Category digit, group letter A-E, three digits, optional sub-items (.a, .a.1); or a
# munitions list entry ML1 to ML22 (REFERENCE.md). The 7-character limit (SHTC-16) is checked
# apart: 5A002.a.1 has the right shape but does not fit the form.
CONTROL_NO_RE = re.compile(r"[0-9][A-E][0-9]{3}(?:\.[a-z](?:\.[0-9]+(?:\.[a-z])?)?)?"
                           r"|ML(?:[1-9]|1[0-9]|2[0-2])")


def normalize_control_no(text):
    """出口管制貨品號碼 as stored: the part before the first dot upper-case, sub-items
    lower-case (5a002.A -> 5A002.a). Raises ValidationError(code="control_no_format")."""
    value = to_ascii(text if text is not None else "").strip()
    head, dot, tail = value.partition(".")
    value = head.upper() + dot + tail.lower()
    if len(value) > CONTROL_NO_MAX_LENGTH or not CONTROL_NO_RE.fullmatch(value):
        raise ValidationError(CONTROL_NO_MESSAGE, code="control_no_format")
    return value


class ExportControlNoField(forms.CharField):
    """出口管制貨品號碼 (SHTC-16). Only the SHTC item form declares it."""

    default_error_messages = {"control_no_format": CONTROL_NO_MESSAGE}

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(
            attrs={"placeholder": "5A002.a", "autocomplete": "off"}))
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return value
        try:
            return normalize_control_no(value)
        except ValidationError:
            raise ValidationError(self.error_messages["control_no_format"],
                                  code="control_no_format") from None


UNIT_MESSAGE = _("Enter a unit code of 1 to 10 letters or digits, such as PCE, KGM or SET.")
UNIT_RE = re.compile(r"[A-Z0-9]{1,10}")


class UnitField(forms.CharField):
    """單位: a short code (PCE, KGM, SET), stored upper-case."""

    default_error_messages = {"unit_format": UNIT_MESSAGE}

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(
            attrs={"placeholder": "PCE", "autocomplete": "off"}))
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return value
        value = to_ascii(value).upper()
        if not UNIT_RE.fullmatch(value):
            raise ValidationError(self.error_messages["unit_format"], code="unit_format")
        return value


# --- The item form ----------------------------------------------------------------------------

AMOUNT_HELP = _("Left empty, it is the quantity times the unit price.")
AMOUNT_TOO_LARGE = _(
    "The quantity times the unit price has more than %(max)s digits before the decimal point.")


class FieldWarningsMixin:
    """`form.warnings`: {field name: [FieldWarning]} from the fields that give warnings (a
    tariff check digit that does not fit). Warnings never make a form invalid; templates show
    them beside the field."""

    @property
    def warnings(self):
        if self.is_bound:
            self.is_valid()  # cleans once; the fields keep what they found
        return {name: list(field.warnings) for name, field in self.fields.items()
                if getattr(field, "warnings", None)}


class BaseItemForm(FieldWarningsMixin, PortalModelForm):
    """One goods item (項次). Procedures subclass it and add their own fields: the mask
    category (MASK-2), or `control_no = ExportControlNoField(required=False)` (SHTC-16) with
    "control_no" added to Meta.fields. line_no and application are set by the service."""

    tariff_code = TariffCodeField(label=field_label(Item, "tariff_code"))
    quantity = QuantityField(label=field_label(Item, "quantity"))
    unit = UnitField(label=field_label(Item, "unit"))
    unit_price = PriceField(label=field_label(Item, "unit_price"))
    currency = CurrencyField(label=field_label(Item, "currency"))
    amount = AmountField(label=field_label(Item, "amount"), required=False,
                         help_text=AMOUNT_HELP)
    origin_country = CountryField(label=field_label(Item, "origin_country"))

    class Meta:
        model = Item
        fields = ["tariff_code", "description", "brand", "model", "specification",
                  "quantity", "unit", "unit_price", "currency", "amount", "origin_country"]

    def __init__(self, *args, balance=None, **kwargs):
        super().__init__(*args, **kwargs)
        # An item of a balance re-issue (permits.changes.ItemBalance, SHTC-11) is the
        # cancelled permit's: its quantity may be lowered to what is left of it, nothing else
        # changes, and the amount follows the quantity (the unit price stays).
        self.balance = balance
        if balance is not None:
            for name, field in self.fields.items():
                field.disabled = name != "quantity"
            self.fields["quantity"].help_text = _(
                "At most %(balance)s: what is left of item %(source)s of the cancelled "
                "permit.") % {"balance": plain_decimal(balance.left), "source": balance.source}

    def clean(self):
        cleaned_data = super().clean()
        quantity = cleaned_data.get("quantity")
        unit_price = cleaned_data.get("unit_price")
        if self.balance is not None:
            problem = self.balance.problem(quantity) if "quantity" not in self.errors else None
            if problem:
                self.add_error("quantity", problem)
            cleaned_data["amount"] = None  # recomputed below from the quantity
        if (cleaned_data.get("amount") is None and "amount" not in self.errors
                and quantity is not None and unit_price is not None):
            max_whole = AmountField.max_whole_digits
            with localcontext() as context:
                context.prec = 40  # 9 + 13 digits before the point, 8 after: no rounding yet
                # Rounded half up to the column's 4 places (四捨五入), as invoices do.
                amount = (quantity * unit_price).quantize(Decimal("0.0001"),
                                                          rounding=ROUND_HALF_UP)
            if amount >= Decimal(10) ** max_whole:
                self.add_error("amount", ValidationError(
                    AMOUNT_TOO_LARGE, code="max_whole_digits", params={"max": max_whole}))
            else:
                cleaned_data["amount"] = amount
        return cleaned_data
