"""Form pieces every procedure uses: the crispy base form with the portal's text rule, the
ROC date field and the rule for digits typed in full width.

The text rule (every form built on PortalFormMixin: case entry, parties, masks, accounts,
cancellation, queries), applied to what is posted before any field reads it:

* invisible formatting characters (Unicode category Cf: the bidi embeddings, overrides and
  isolates U+202A-U+202E and U+2066-U+2069, the marks U+200E/U+200F, zero-width spaces and
  joiners U+200B-U+200D, U+2060, U+FEFF, the soft hyphen...) are removed: a right-to-left
  override would reorder the text on the permit PDF, and what the user sees is what is kept;
* line breaks (CR, LF, U+2028, U+2029, U+0085) and tabs become spaces in one-line fields and
  LF in text areas;
* any other control character is refused with code "control_characters", and a NUL byte
  with Django's "null_characters_not_allowed" (also in choice, date and number fields,
  whose values would otherwise reach a database lookup);
* a field left with only blanks after that counts as empty (a required field says so).

Password inputs are left exactly as typed.

Digits typed in full width: a Chinese input method in full-width mode types ０-９, Ａ-Ｚ,
'．', '／' and so on (U+FF01-U+FF5E). Every numeric or code field (quantities, prices,
amounts in permits.fields, dates, identifiers, permit numbers: AsciiCharField) reads them as
the ASCII characters they stand for (`to_ascii`) and then applies its own strict rules; other
non-ASCII digits (٣, ३...) are refused. Free text (names, addresses) keeps full-width
characters as typed.
"""

import contextlib
import copy
import datetime
import re
import sys
import unicodedata
from collections.abc import MutableMapping

from crispy_forms.helper import FormHelper
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from portal import dates

# U+FF01-U+FF5E are the full-width forms of ASCII 0x21-0x7E; U+3000 is the ideographic space.
FULLWIDTH_TO_ASCII = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
FULLWIDTH_TO_ASCII[0x3000] = 0x20


def to_ascii(text):
    """Read full-width ASCII forms as ASCII; leave everything else as typed."""
    return str(text).translate(FULLWIDTH_TO_ASCII)


# --- The text rule ----------------------------------------------------------------------------


def _category_class(category, planes=((0, 0x20000), (0xE0000, 0xE1000))):
    """A regex character class of every code point of a Unicode general category (the
    planes where Cf characters live; built once at import)."""
    ranges, start, previous = [], None, None
    for low, high in planes:
        for code in range(low, min(high, sys.maxunicode + 1)):
            if unicodedata.category(chr(code)) == category:
                if start is None or code != previous + 1:
                    if start is not None:
                        ranges.append((start, previous))
                    start = code
                previous = code
    if start is not None:
        ranges.append((start, previous))
    return "[" + "".join(re.escape(chr(a)) + (f"-{re.escape(chr(b))}" if b > a else "")
                         for a, b in ranges) + "]"


INVISIBLE_RE = re.compile(_category_class("Cf"))
LINE_BREAK_RE = re.compile("\r\n|[\r\n\u2028\u2029\x85]")
# C0 and C1 controls and DEL, except the tab and line feed left after the line breaks.
CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
CONTROL_MESSAGE = _("Remove the control characters from this field (they cannot be printed).")


def clean_text(value, *, multiline=False):
    """`value` by the portal's text rule (module docstring). Raises ValidationError with
    code "null_characters_not_allowed" or "control_characters"."""
    if "\x00" in value:
        validator = ProhibitNullCharactersValidator()
        raise ValidationError(validator.message, code=validator.code)
    value = INVISIBLE_RE.sub("", value)
    value = LINE_BREAK_RE.sub("\n", value)
    if not multiline:
        value = value.replace("\n", " ").replace("\t", " ")
    if CONTROL_RE.search(value):
        raise ValidationError(CONTROL_MESSAGE, code="control_characters")
    return value


def _text_rule(field):
    """Wrap `field.clean` (a form's own copy of the field) so that the text rule reads every
    string posted to it first; file fields and password inputs are left alone."""
    if getattr(field, "_text_rule", False) or isinstance(field, forms.FileField) or \
            getattr(field.widget, "input_type", None) == "password":
        return
    clean = field.clean
    multiline = isinstance(field.widget, forms.Textarea)

    def clean_with_text_rule(value, *args):
        if isinstance(value, str):
            value = clean_text(value, multiline=multiline)
        elif isinstance(value, list | tuple):
            value = [clean_text(v, multiline=multiline) if isinstance(v, str) else v
                     for v in value]
        return clean(value, *args)

    field.clean = clean_with_text_rule
    field._text_rule = True


def field_label(model, name):
    """A model field's label as forms and pages show it: its verbose name, capitalised."""
    return capfirst(model._meta.get_field(name).verbose_name)


class TextRuleMixin:
    """Every field of the form reads what is posted through the text rule (module
    docstring), also the fields a subclass adds in its __init__. PortalFormMixin has it; a
    form of the admin site that is not a PortalForm adds it alone."""

    def full_clean(self):
        # An unbound form cleans nothing (Django's full_clean stops there): its fields are
        # left as they are, uncopied (FieldsCopiedOnUse).
        if self.is_bound:
            for field in self.fields.values():
                _text_rule(field)
        super().full_clean()


class FieldsCopiedOnUse(MutableMapping):
    """An unbound form's fields (issue 10), each deep-copied from the class's the first time
    it is taken out (by name, or by iterating values or items), as Django copies them all in
    BaseForm.__init__: whatever the form, a template or crispy then changes (disabled, a
    widget's attributes or choices, required) changes the form's own copy, never the class's
    nor another request's. A field never taken out is never copied: a form whose drawing is
    kept ({% form_fields %}) is drawn from its key, which reads the fields through
    read_only_items() alone. One memo for the form, so that what two fields share stays
    shared, as in Django's one deepcopy of the dict."""

    def __init__(self, base):
        self._fields = dict(base)
        self._shared = set(self._fields)  # names whose field is still the class's
        self._memo = {}

    def __getitem__(self, name):
        field = self._fields[name]
        if name in self._shared:
            field = self._fields[name] = copy.deepcopy(field, self._memo)
            self._shared.discard(name)
        return field

    def __setitem__(self, name, field):
        self._fields[name] = field
        self._shared.discard(name)

    def __delitem__(self, name):
        del self._fields[name]
        self._shared.discard(name)

    def __iter__(self):
        return iter(self._fields)

    def __len__(self):
        return len(self._fields)

    def __contains__(self, name):
        return name in self._fields

    def read_only_items(self):
        """(name, field) of each field, the class's own where not yet copied: to read,
        never to change."""
        return self._fields.items()

    def read_only(self, name):
        """`name`'s field, the class's own if not yet copied: to read, never to change."""
        return self._fields[name]

    def shared(self, name):
        """Whether `name`'s field is still a class's own (never changed), not yet copied."""
        return name in self._shared

    def none_taken(self):
        """Whether every field is still a class's own (never changed): none taken out."""
        return len(self._shared) == len(self._fields)

    def share(self, name, field):
        """`field` in `name`'s place: a field made once for a class's forms that no form
        changes (as a class's own), copied on use as those are."""
        self._fields[name] = field
        self._shared.add(name)


def put_field(fields, name, field):
    """`field`, made once for a form class and never changed, in `name`'s place of a form's
    `fields`: an unbound form's (FieldsCopiedOnUse) copies it only when taken out, as it
    does the class's own; Django's dict of a bound form takes a copy at once."""
    if isinstance(fields, FieldsCopiedOnUse):
        fields.share(name, field)
    else:
        fields[name] = copy.deepcopy(field)


def read_field(fields, name):
    """`name`'s field of a form's `fields`, to read only: an unbound form's is not copied for
    it (FieldsCopiedOnUse)."""
    if isinstance(fields, FieldsCopiedOnUse):
        return fields.read_only(name)
    return fields[name]


class _CopiedOnUse:
    """An unbound form's base_fields while BaseForm.__init__ runs: its `copy.deepcopy
    (self.base_fields)` makes FieldsCopiedOnUse of the class's fields instead of copying
    them all."""

    def __init__(self, base):
        self.base = base

    def __deepcopy__(self, memo):
        return FieldsCopiedOnUse(self.base)


def _binds(args, kwargs):
    # BaseForm's own test (data or files given), on its arguments before it runs.
    data = args[0] if args else kwargs.get("data")
    files = args[1] if len(args) > 1 else kwargs.get("files")
    return data is not None or files is not None


class PortalFormMixin(TextRuleMixin):
    """Builds the crispy FormHelper once. Crispy renders every error next to its field and
    the bound values back into the inputs, so a bad form loses nothing the user typed. The
    text rule applies (TextRuleMixin).

    An unbound form of a class whose drawing is kept (`keep_drawing`: the entry steps' basic
    data, parties, 帶入參考資料) copies its fields only as they are used (FieldsCopiedOnUse):
    Django's deep copy of them all was about a tenth of 9-1-1's page, and its drawing, when
    kept, needs none of them (issue 10). A bound form is cleaned, which takes every field:
    Django copies them as usual."""

    keep_drawing = False

    def __init__(self, *args, **kwargs):
        if self.keep_drawing and not _binds(args, kwargs):
            self.base_fields = _CopiedOnUse(type(self).base_fields)
            try:
                super().__init__(*args, **kwargs)
            finally:
                del self.base_fields  # the class's again
        else:
            super().__init__(*args, **kwargs)
        self.helper = FormHelper(self)
        # Templates write the <form> tag themselves (with novalidate, so that the server's
        # messages, in the user's language, are the ones shown) and the buttons the manuals
        # name next to it.
        self.helper.form_tag = False


class PortalForm(PortalFormMixin, forms.Form):
    pass


class RefusedFormMixin:
    """For a FormView (or UpdateView): the portal's convention for a form page that refuses
    what was posted is HTTP 400 with the same page again, every error next to its field and
    the user's typing kept."""

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


class PortalModelForm(PortalFormMixin, forms.ModelForm):
    pass


class RocDateInput(forms.TextInput):
    """Shows a date as 115/12/02; what the user typed comes back unchanged on a bad form.

    `data-rocdate` puts the calendar beside it (小月曆, static/portal/js/rocdate.js, loaded by
    base.html): a labelled button and a month grid used by mouse or keyboard, writing the ROC
    date into the input. The calendar's words come from here, in the page's language."""

    CALENDAR_WORDS = {
        "data-rocdate-open": _("Choose a date"),
        "data-rocdate-previous": _("Previous month"),
        "data-rocdate-next": _("Next month"),
        "data-rocdate-today": _("Today"),
        "data-rocdate-close": _("Close"),
        "data-rocdate-hint": _("Arrow keys move by day and week, Page Up and Page Down by "
                               "month, Enter picks the date, Esc closes."),
    }

    def __init__(self, attrs=None):
        attrs = {"placeholder": "115/12/02", "inputmode": "numeric", "autocomplete": "off",
                 "data-rocdate": True, **self.CALENDAR_WORDS, **(attrs or {})}
        super().__init__(attrs)

    def format_value(self, value):
        if isinstance(value, str) and len(value) == 10 and value[4] == "-":
            # An ISO date from stored JSON (a draft); anything else is what the user typed
            # and is shown as it was.
            with contextlib.suppress(ValueError):
                value = datetime.date.fromisoformat(value)
        if isinstance(value, datetime.date):
            return dates.to_roc(value)
        return super().format_value(value)


class AsciiCharField(forms.CharField):
    """A code (identifier, permit or declaration number): full-width letters and digits read
    as ASCII, by the rule of the numeric fields (module docstring)."""

    def to_python(self, value):
        value = super().to_python(value)
        return to_ascii(value).strip() if value not in self.empty_values else value


class RocDateField(forms.DateField):
    """Accepts the ROC calendar (109/09/12, 1090912) and the Gregorian one (2020-09-12),
    typed in ASCII or full-width digits (module docstring); other digits are refused."""

    widget = RocDateInput
    default_error_messages = {
        "invalid": _("Enter a date such as 109/09/12 (ROC year) or 2020-09-12."),
    }

    def __init__(self, **kwargs):
        # The placeholder is an ROC date in every language: the field says so.
        kwargs.setdefault("help_text", _("ROC date, e.g. 115/12/02"))
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        text = to_ascii(value).strip()
        if not text.isascii():  # dates.parse's \d takes any script's digits
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            return dates.parse(text)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
