"""Goods items as a spreadsheet and back (SHTC-17; the SHTC manual §4.1 匯出 Excel及匯入 Excel,
§4.2 ODF): the columns of a case's items, the file of them (export), the check of a file a
user filled in (check) and the import itself (replace_items). The files are
permits.spreadsheets'; the pages and the task permits.bulk_views' and permits.item_imports'.

The rules are the item form's. Every row is cleaned by the case's own item form
(CaseEntry.item_form_class) with the arguments its item page would give it
(CaseEntry.item_forms_kwargs: a balance re-issue's balance, 9-2-2's quantity of the
assurance), through its own fields' clean() and its own clean(); only faster (_Checker):
- one form per kind of arguments is built and cleaned row after row, instead of one form per
  row (building a form copies its dozen fields: 0.3 ms, 3 s for 10,000 rows);
- the reference tables the fields look up per value (currencies, countries) are read once;
- a field's clean() of a text already cleaned in its column is not repeated (_field_clean),
  and a text a field would take as it is (a name, a plain number within the field's
  digits, an 11-digit tariff code) is taken without it, by a shortcut made from the field's
  own limits (permits.bulk_fields; tests/permits/test_bulk_fields.py proves it gives what
  clean() gives): every refusal, and its message, is still clean()'s;
- the case's items are read in one query, their stored values straight from its rows
  (case_items); the fingerprint is one function of those values (_fingerprint);
- Python's cyclic garbage collector makes no full collection while a file is read and
  checked (_collector_paused);
- the model validation a ModelForm adds after its fields is not run: the fields and the
  columns' limits are the same (max_length, digits, quantity above 0), and it would cost a
  query per row (the check constraint). tests/permits/test_bulk_items.py proves on a corpus of
  rows, valid and invalid in every column, that this check and the item form agree
  (tests/shtc/test_bulk_items.py: also with 9-2-2's and a balance re-issue's arguments).
A check costs the same few queries whatever its rows, and about 0.5 s of CPU for 10,000
rows: a fifth of what openpyxl's read-only mode takes to read the file (bench/items_io.py).

What the file's words add to the form's (the manual's 填寫說明, instructions()):
- 項次 run 1, 2, 3... in order (item 1): a break in the run is named where it is;
- the tariff code is 11 digits and nothing else (item 3): the display form 6307.90.50.31-1
  that the item page takes is refused here. A code of 10 digits is refused too, with a
  message saying that its leading 0 was probably lost (a spreadsheet holds a code typed as a
  number as a number: 01012100000 becomes 1012100000). It is not restored: the cell cannot
  tell a lost 0 from a missing digit elsewhere, and a guessed code would be printed on a
  permit. The exported file formats code columns as text, so only files made elsewhere meet
  this;
- required cells (red headers, item 5) and export control numbers (item 4) are refused in
  the manual's words.

Decided for real files (each with its test):
- full-width digits and letters (０-９, Ａ-Ｚ, '．') read as ASCII in codes and numbers, by
  the fields' own rule (portal.forms.to_ascii). Not NFKC: it would also read ①, ² or ㎏,
  which the item page refuses, and the file and the page must agree;
- numbers typed as text read as numbers, by the same rule as a typed number (PERMIT-9: 1,005
  refused, 0.5 taken); numbers a spreadsheet stored as floats arrive as their shortest text
  (permits.spreadsheets);
- a wholly empty row is skipped wherever it is (it holds nothing to lose); a hidden or
  filtered-out row that holds something is refused, named: importing what the user cannot
  see, or dropping it silently, would both surprise;
- a merged cell, a formula without a computed value or an error value is refused with the
  cell named (the reader's Cell.problem);
- columns are found by their header, in either language, whatever their order; a column
  that is not an item column, a column twice, a missing required column, or data under no
  header is refused. A missing column that is not required reads as empty;
- on a change of an issued permit (§4.1: 只需針對 EXCEL文字內容刪除或修正，請勿進行刪除整列或
  整欄動作) and on a case whose items cannot be added or deleted (9-2-2, 餘額重簽), the file
  keeps the exported shape: the same columns in the same order, one row per item in order;
  a change of shape is refused with a message saying so. There, and wherever the item form
  leaves a column out or disabled (9-2-2: only 數量, 單位, 金額, 幣別; a balance re-issue: only
  數量), a cell of any other column must stay as exported;
- at most MAX_ITEMS items; every bad cell is named, however many.

Error codes (CellError.code): those of the item form's fields and clean() (permits.fields,
shtc.forms, shtc.iran_filing: over_assurance, permits.changes: over_balance), the reader's
`cell_problem`, and the keys of MESSAGES.
"""

import contextlib
import gc
import hashlib
import json
import operator
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from types import MappingProxyType

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import models, transaction
from django.forms.utils import ErrorDict
from django.template.defaultfilters import filesizeformat
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy
from openpyxl.utils import get_column_letter

from permits import changes, services, spreadsheets
from permits import entry as entries
from permits.bulk_fields import fast_clean
from permits.fields import (
    AMOUNT_TOO_LARGE,
    TARIFF_DIGITS_RE,
    AmountField,
    ReferenceCodeField,
    TariffCodeField,
    plain_decimal,
    reference_rows,
)
from permits.models import Item
from permits.spreadsheets import MAX_FILE_BYTES, Column
from portal.forms import clean_text, to_ascii

MAX_ITEMS = 10_000
PROGRESS_EVERY = 500  # rows between two calls of check()'s progress()
LINE_NO = "line_no"  # the key of the 項次 column
SHEET_TITLE = gettext_lazy("Goods items")  # 貨品明細: the first sheet's name
CONTENT_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 "ods": "application/vnd.oasis.opendocument.spreadsheet"}
# The unit drop-down: the UN/ECE Recommendation 20 codes Taiwan customs declarations use most.
# Any code of 1 to 10 letters or digits is taken (permits.fields.UnitField); the units of the
# case's own items are added.
UNIT_CHOICES = ("PCE", "SET", "PR", "DZN", "KGM", "GRM", "TNE", "MTR", "MTK", "MTQ", "LTR",
                "CT", "BX", "RO", "UNT")
COLUMN_WIDTHS = {LINE_NO: 8, "description": 40, "specification": 40, "brand": 20, "model": 20,
                 "tariff_code": 16}
CODE_KEYS = ("tariff_code", "control_no", "unit", "currency", "origin_country", "category")
TEN_DIGITS_RE = re.compile(r"[0-9]{10}")
# Control characters shown in a refused cell's value as \x00 (a JSON column takes no NUL).
SHOWN_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
SHOWN_MAX = 120

MESSAGES = {
    "line_no": gettext_lazy("Number the items 1, 2, 3… in order: %(expected)s is expected "
                            "here."),
    # A change of the exported shape: the fact, then the rule (SHAPE_RULES) that refuses it.
    "line_no_moved": gettext_lazy("Rows were inserted, deleted or moved: item %(expected)s "
                                  "is expected here."),
    "row_inserted": gettext_lazy("This row was inserted: the exported file has %(count)s "
                                 "items."),
    "rows_deleted": gettext_lazy("Rows were deleted: the exported file has %(count)s items, "
                                 "this one %(found)s."),
    "column_deleted": gettext_lazy("The column “%(header)s” was deleted."),
    "column_inserted": gettext_lazy("The column “%(header)s” was inserted."),
    "column_moved": gettext_lazy("The columns were moved: “%(expected)s” is expected here."),
    "column_unknown": gettext_lazy(
        "“%(header)s” is not a column of the goods items: use the columns of the exported "
        "file."),
    "column_missing": gettext_lazy(
        "The required column “%(header)s” is missing (columns with a red header are "
        "required)."),
    "column_twice": gettext_lazy("The column “%(header)s” appears more than once."),
    "no_header": gettext_lazy(
        "Column %(letter)s holds data but has no header: delete its data, or give it one of "
        "the exported headers."),
    "hidden_row": gettext_lazy(
        "This row is hidden or filtered out: show it (or delete it if it holds no item) and "
        "import the file again."),
    "too_many": gettext_lazy("A case has at most %(max)s items; this file has more. Split "
                             "the goods over several cases."),
    "no_items": gettext_lazy("The sheet has no items below its header row."),
    "required": gettext_lazy("Columns with a red header are required: fill in this cell."),
    "tariff_format": gettext_lazy(
        "Enter the tariff code as 11 digits: digits only, with no other symbols and no blanks "
        "between them (such as 85423100003)."),
    "tariff_leading_zero": gettext_lazy(
        "This tariff code has 10 digits: a spreadsheet that holds a code as a number drops "
        "its leading 0 (was it 0%(code)s?). Format the cell as text and enter all 11 "
        "digits."),
    "control_no_format": gettext_lazy(
        "Enter the export control number in at most 7 characters, such as 5A002.a, or a "
        "uniform 5 characters, such as 3B001."),
    "fixed_cell": gettext_lazy(
        "Only %(columns)s can change in this case: this cell must stay “%(stored)s”, as "
        "exported."),
    "items_changed": gettext_lazy(
        "The case's goods items were changed after the file was checked: import the file "
        "again."),
    "row_refused": gettext_lazy("Item %(line)s, %(column)s: %(message)s"),
}
SHAPE_RULES = {
    # §4.1: 只需針對 EXCEL文字內容刪除或修正，請勿進行刪除整列或整欄動作.
    "change": gettext_lazy("On a change of an issued permit only the cells' contents may "
                           "change: rows and columns are not inserted, deleted or moved."),
    "fixed": gettext_lazy("This case's items cannot be added, deleted or moved: the file "
                          "keeps the exported rows and columns."),
}
# The item form's codes said in the manual's words of the file (instructions()).
FILE_WORDS = ("required", "tariff_format", "control_no_format")

# 填寫說明 (the manual §4.1, items 1 to 5), then the limits and the shape rule of a correction.
INSTRUCTIONS = (
    gettext_lazy("Item numbers: number the items 1, 2, 3… in order, as far as possible in the "
                 "order of the end-use assurance (attached document)."),
    gettext_lazy("Buyer / consignee / end user: enter each company's full English name "
                 "(with Inc., Co., Ltd. and the like written out)."),
    gettext_lazy("Tariff code: enter 11 digits (digits only, with no other symbols and no "
                 "blanks between them)."),
    gettext_lazy("Export control number: enter at most 7 characters, such as 5A002.a, or a "
                 "uniform 5 characters."),
    gettext_lazy("Columns with a red header are required."),
)
INSTRUCTIONS_AFTER = (
    gettext_lazy("When a file imported before is changed for a correction, only delete or "
                 "correct the cells' contents: do not delete whole rows or columns."),
    gettext_lazy("At most %(max)s items per case; a file of at most %(size)s."),
    gettext_lazy("Numbers without thousands separators (1005, not 1,005), a fraction with "
                 "its decimal point (0.5): at most 9 digits before the point and 4 after it "
                 "for a quantity."),
)


@dataclass
class CellError:
    """A bad cell (or row, or column) of a refused file, as the errors table shows it. `row`
    is the spreadsheet's own row number (None: the whole sheet); `column` the column's
    header as in the file (or its letter)."""

    sheet: str
    row: int | None
    column: str
    value: str
    message: str
    code: str = ""
    line_no: int | None = None  # the item (項次) the row is


@dataclass
class Check:
    """What check() found. Either `errors` (nothing may be imported), or `rows`: the items to
    import, cleaned (JSON-able dicts of Item fields and line_no, numbers as plain text), with
    the preview's counts against the case's items and their `fingerprint` at the check
    (replace_items' `expected`). `warnings`: cells to look at that do not block (a tariff
    code's check digit). `rows_read`: rows read below the header."""

    errors: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    fingerprint: str = ""
    warnings: list = field(default_factory=list)
    rows_read: int = 0


class RowsRefused(ValidationError):
    """replace_items found bad rows (what changed since the check: a balance used, a
    currency withdrawn): `cell_errors` as check() gives them."""

    def __init__(self, cell_errors):
        super().__init__([str(MESSAGES["row_refused"]) % {
            "line": error.line_no, "column": error.column, "message": error.message}
            for error in cell_errors])
        self.code = "rows_refused"
        self.cell_errors = cell_errors


# --- the columns ----------------------------------------------------------------------------


def _columns_form(entry):
    return (entry.bulk_form_class or entry.item_form_class)()


def _line_no_header():
    return capfirst(Item._meta.get_field(LINE_NO).verbose_name)


def columns_for(entry, application):
    """The spreadsheet's columns: 項次, then the fields of the entry's item form (9-2-2: of
    the assurance's, CaseEntry.bulk_form_class) in its order, required as the form requires
    them; currencies, countries and other choices with their codes as the drop-down, units
    with the common ones and those of the case's items."""
    columns = [Column(key=LINE_NO, header=str(_line_no_header()), required=True,
                      kind="number", width=COLUMN_WIDTHS[LINE_NO])]
    for name, form_field in _columns_form(entry).fields.items():
        kind, choices, strict = "text", (), True
        if isinstance(form_field, forms.DecimalField):
            kind = "number"
        elif isinstance(form_field, ReferenceCodeField):
            kind = "choice"
            choices = tuple(code for code, _name in reference_rows(form_field.model,
                                                                   active_only=True))
        elif isinstance(form_field, forms.ChoiceField):
            kind, choices = "choice", tuple(_choice_values(form_field.choices))
        elif name == "unit":
            # order_by(): the model's ordering would put line_no in the SELECT DISTINCT, and
            # read back every item rather than each unit once.
            used = set(application.items.order_by().values_list("unit", flat=True)
                       .distinct())
            kind, choices = "choice", (*UNIT_CHOICES, *sorted(used - set(UNIT_CHOICES)))
            strict = False  # a suggestion: any code of 1 to 10 letters or digits is taken
        columns.append(Column(key=name, header=str(form_field.label), required=form_field.required,
                              kind=kind, choices=choices, width=COLUMN_WIDTHS.get(name, 14),
                              strict=strict))
    return columns


def _choice_values(choices):
    for value, label in choices:
        if isinstance(label, list | tuple):  # a group
            yield from _choice_values(label)
        elif value not in ("", None):
            yield str(value)


def _header_key(text):
    """A header as compared: NFKC, without blanks or a trailing *, case-folded."""
    return "".join(unicodedata.normalize("NFKC", str(text)).split()).rstrip("*").casefold()


def _header_aliases(entry):
    """{compared header: column key} in every language of the portal: a file exported in
    English imports on a Chinese page."""
    aliases = {}
    form = _columns_form(entry)
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            aliases.setdefault(_header_key(_line_no_header()), LINE_NO)
            for name, form_field in form.fields.items():
                aliases.setdefault(_header_key(form_field.label), name)
    return aliases


def instructions():
    """The second sheet, 填寫說明: the manual's items 1 to 5 (§4.1), then the shape rule of a
    correction, the limits and the numbers' form (PERMIT-9), numbered as the manual does."""
    lines = [*INSTRUCTIONS, *INSTRUCTIONS_AFTER]
    params = {"max": f"{MAX_ITEMS:,}", "size": filesizeformat(MAX_FILE_BYTES)}
    return [f"{number}. {str(line) % params if '%(' in str(line) else line}"
            for number, line in enumerate(lines, start=1)]


# --- export ---------------------------------------------------------------------------------


def _cell(value):
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return Decimal(plain_decimal(value))  # 100.55, not 100.5500
    return value


def export_rows(application, columns):
    """The rows export() writes: the case's items in `columns`' order, streamed."""
    items = application.items.order_by("line_no").values_list(
        *[column.key for column in columns])
    return ([_cell(value) for value in row] for row in items.iterator(chunk_size=2000))


def export(entry, application, fmt):
    """匯出 Excel / 匯出 ODF: (filename, content type, bytes) of the case's items in the
    columns of columns_for(), or an empty template when it has none. `fmt`: "xlsx" | "ods"."""
    writer = {"xlsx": spreadsheets.write_xlsx, "ods": spreadsheets.write_ods}[fmt]
    columns = columns_for(entry, application)
    content = writer(columns, export_rows(application, columns), title=str(SHEET_TITLE),
                     instructions=instructions())
    number = application.number or application.pk
    return f"goods-items-{number}.{fmt}", CONTENT_TYPES[fmt], content


# --- the fingerprint of a case's items ------------------------------------------------------


def _plain(value):
    # services.plain, without its import per call (it runs 130,000 times for 10,000 rows).
    return plain_decimal(value) if isinstance(value, Decimal) else value


def _stored(item):
    """An Item's fields as the cleaned rows hold them (JSON-able, numbers as plain text)."""
    values = {name: getattr(item, name) for name in entries.ITEM_FIELDS}
    for name, value in values.items():
        if isinstance(value, Decimal):
            values[name] = plain_decimal(value)
    return values


def case_items(application, *, instances=True):
    """(items, stored) of draft `application`: its Items in 項次 order (none without
    `instances`) and {line_no: the item's fields as _stored() gives them}, both from the
    rows of one query: the stored values come straight from the rows, not from the Items
    (10,000 items: reading them as Items and then their fields again took a third of a
    check). The Items are the ORM's own (Item.from_db), with their case set, as the case's
    `items` manager gives them."""
    names = [model_field.attname for model_field in Item._meta.concrete_fields]
    pick = operator.itemgetter(*[names.index(name) for name in entries.ITEM_FIELDS])
    # The columns that may hold a Decimal (the others are left as they are, as _stored()
    # leaves them).
    numbers = [position for position, name in enumerate(entries.ITEM_FIELDS)
               if isinstance(Item._meta.get_field(name), models.DecimalField)]
    line = names.index(LINE_NO)
    query = application.items.order_by(LINE_NO).values_list(*names)
    case_field = Item._meta.get_field("application")
    items, stored = [], {}
    for row in query:
        values = list(pick(row))
        for position in numbers:
            if values[position] is not None:
                values[position] = plain_decimal(values[position])
        stored[row[line]] = dict(zip(entries.ITEM_FIELDS, values, strict=True))
        if instances:
            item = Item.from_db(query.db, names, row)
            case_field.set_cached_value(item, application)
            items.append(item)
    return items, stored


# json.dumps(value, ensure_ascii=False) builds an encoder per call: one, for every item.
_json_encode = json.JSONEncoder(ensure_ascii=False).encode


def _fingerprint(stored):
    """The fingerprint of items' stored values ({line_no: _stored(item)} in 項次 order): the
    one definition check(), replace_items() and fingerprint() share."""
    # One line of JSON an item, each ended by a line feed, hashed at once.
    encode = _json_encode
    return hashlib.sha256("".join([
        encode([line_no, *values.values()]) + "\n" for line_no, values in stored.items()
    ]).encode()).hexdigest()


def fingerprint(application):
    """What the case's items are now, as a short text: replace_items imports only onto the
    items a check compared the file with."""
    return _fingerprint(case_items(application, instances=False)[1])


# --- checking rows --------------------------------------------------------------------------


def shape_rule(entry, application):
    """Why the file must keep its exported shape: "change" (a change of an issued permit,
    or a 補正 of one: §4.1), "fixed" (the entry cannot add or delete the case's items:
    9-2-2, 餘額重簽), or None."""
    kind, _version = changes.origin(application)
    if kind in changes.PERMIT_CHANGE_KINDS:
        return "change"
    if not entry.may_add_items(application) or not entry.delete_items:
        return "fixed"
    return None


def _kwargs_by_line(entry, application, items):
    """{line_no: the item form's arguments} of every item: CaseEntry.item_forms_kwargs,
    unless the entry overrides item_form_kwargs below the class that batches it (then one
    call per item: slower, never wrong)."""
    mro = type(entry).__mro__
    one = next(index for index, cls in enumerate(mro) if "item_form_kwargs" in vars(cls))
    batch = next(index for index, cls in enumerate(mro) if "item_forms_kwargs" in vars(cls))
    if one < batch:
        return {item.line_no: entry.item_form_kwargs(application, item.line_no)
                for item in items}
    return entry.item_forms_kwargs(application, items)


_UNSET = object()
# The files of an item form's data (it has none; no widget of it writes to them).
_NO_FILES = MappingProxyType({})


def _shape_message(shape, code, **params):
    """A change of the file's shape: what changed, then why it may not (SHAPE_RULES)."""
    return f"{MESSAGES[code] % params} {SHAPE_RULES[shape]}"


def _joined(words):
    separator = "、" if (translation.get_language() or "").startswith("zh") else ", "
    return separator.join(words)


def _shown(text):
    """A cell's value as a refusal shows it: control characters visible, long text cut."""
    text = SHOWN_CONTROL_RE.sub(lambda match: f"\\x{ord(match.group()):02x}", str(text))
    return text if len(text) <= SHOWN_MAX else text[:SHOWN_MAX] + "…"


def _same(text, value, *, code=False):
    """Whether the cell `text` says the stored `value` (a fixed column's cell): numbers by
    value, codes in any case, text whatever its blanks."""
    text = to_ascii(text).strip()
    if value is None or value == "":
        return not text
    if isinstance(value, Decimal):
        try:
            return Decimal(text) == value
        except (InvalidOperation, ValueError):
            return False
    if code:
        return text.upper() == str(value).upper()
    return text.split() == str(value).split()


class _Checker:
    """Checks the rows of one file (or of one import, again) against the case's item form:
    row(line_no, texts) for each row in order, then finish(). Keeps the cleaned rows and
    the errors."""

    def __init__(self, entry, application, items, columns, sheet="", headers=None,
                 stored=None):
        self.entry = entry
        self.application = application
        self.items = {item.line_no: item for item in items}
        # `stored`: case_items()'s, else found from `items`.
        self.stored = stored if stored is not None else {
            item.line_no: _stored(item) for item in items}
        self.fingerprint = _fingerprint(self.stored)
        self.count = len(items)
        self.columns = columns
        self.kinds = {column.key: column.kind for column in columns}
        self.sheet = sheet
        # The header each key has in the file (as written there), for naming a cell.
        self.headers = {column.key: column.header for column in columns}
        self.headers.update(headers or {})
        self.form_class = entry.item_form_class
        self.kwargs = _kwargs_by_line(entry, application, items)
        self.shape = shape_rule(entry, application)
        self.may_add = entry.may_add_items(application)
        self.new_kwargs = (entry.item_form_kwargs(application, None)
                           if self.may_add and not self.shape else None)
        self.forms = {}
        self.codes = {}
        # A new item's values before the form's (_values).
        self.blank = {**dict.fromkeys(entries.ITEM_FIELDS, ""), "quantity": None,
                      "unit_price": None, "amount": None, "source_line_no": None}
        self.tariff_digits = {}  # a tariff code's text -> whether it is 11 digits
        self.errors = []
        self.warnings = []
        self.rows = []
        self.previous = 0  # the 項次 of the row before, to name only where the run breaks
        self.lines = 0
        self.named = ()

    # --- errors ---

    def error(self, row, key, value, code, message, line_no=None, *, always=False):
        if key in self.named and not always:
            return
        self.errors.append(CellError(
            sheet=self.sheet, row=row, column=self.headers.get(key, key), value=_shown(value),
            message=str(message), code=code, line_no=line_no))

    # --- one form per kind of arguments ---

    def _reference_codes(self, model):
        if model not in self.codes:
            self.codes[model] = frozenset(
                model.objects.filter(active=True).values_list("pk", flat=True))
        return self.codes[model]

    def _new_form(self, kwargs):
        form = self.form_class(data={}, **kwargs)
        # ModelForm's model validation repeats the fields' limits, at a query a row (module
        # docstring); the fields keep the portal's text rule, which full_clean() puts on them.
        form._post_clean = lambda: None
        form.full_clean()
        for form_field in form.fields.values():
            if isinstance(form_field, ReferenceCodeField):
                form_field.valid_value = self._reference_codes(form_field.model).__contains__
        # The form can be reused for other rows if it keeps its arguments as attributes of
        # the same names (BaseItemForm's balance, 9-2-2's limit and line_no).
        form._bulk_reusable = all(getattr(form, name, _UNSET) is value
                                  for name, value in kwargs.items())
        # What _clean() does per field, found once: Django's _clean_fields() asks it of each
        # field of each row.
        form._bulk_fields = [
            (name, form_field, form_field.disabled,
             getattr(form, f"clean_{name}", None),
             isinstance(form_field, TariffCodeField),
             # A plain input's value is data.get(name) (forms.Widget): asked of the dict.
             None if type(form_field.widget).value_from_datadict is
             forms.Widget.value_from_datadict else form_field.widget.value_from_datadict,
             {},  # the field's clean() of each text of its column (_field_clean)
             # The texts it takes as they are, without its clean() (permits.bulk_fields).
             fast_clean(form_field))
            for name, form_field in form.fields.items()]
        # First, whether the field is "simple": enabled, read from data.get(name), no
        # clean_<name>(), no tariff code rule (_clean's first case).
        form._bulk_fields = [
            (not disabled and from_data is None and clean_name is None and not tariff,
             name, form_field, disabled, clean_name, tariff, from_data, memo, fast)
            for name, form_field, disabled, clean_name, tariff, from_data, memo, fast
            in form._bulk_fields]
        changeable = [name for name, form_field in form.fields.items()
                      if not form_field.disabled]
        form._bulk_changeable = changeable
        form._bulk_fixed = [column.key for column in self.columns
                            if column.key != LINE_NO and column.key not in changeable]
        return form

    def _form(self, kwargs):
        key = tuple(sorted((name, value is None) for name, value in kwargs.items())) \
            if kwargs else ()
        form = self.forms.get(key)
        if form is None:
            form = self.forms[key] = self._new_form(kwargs)
        elif form._bulk_reusable:
            for name, value in kwargs.items():
                setattr(form, name, value)
        else:
            form = self._new_form(kwargs)
        return form

    # --- one row ---

    def row(self, number, line_text, texts, *, line_no, named=()):
        """Check the row of item `line_no` (its position in the file): `line_text` the text
        of its 項次 cell, `texts` {column key: cell text} of the other columns, `number` its
        row in the spreadsheet (None: a row of an import checked again). The columns
        `named` were named already (a merged cell): nothing more is said of them."""
        self.lines = line_no
        self.named = named
        if LINE_NO not in named:
            self._check_line_no(number, line_text, line_no)
        else:
            self.previous += 1
        item = self.items.get(line_no)
        if self.shape and item is None:
            self.error(number, LINE_NO, line_text, "row_inserted", _shape_message(
                self.shape, "row_inserted", count=self.count), line_no)
            return
        kwargs = self.kwargs.get(line_no, {}) if item is not None else self.new_kwargs
        form = self._form(kwargs)
        form.instance = item if item is not None else Item()
        errors_before = len(self.errors)
        cleaned = self._clean(form, item, texts, number, line_no)
        values = None
        if cleaned is not None:
            values = self._values(form, item, cleaned, number, line_no)
        self._check_fixed(form, item, texts, values, number, line_no)
        if values is not None and len(self.errors) == errors_before:
            self.rows.append(values)

    def _check_line_no(self, number, text, line_no):
        expected = self.previous + 1
        # ASCII digits as they are need no to_ascii() nor strip().
        value = text if text.isdigit() and text.isascii() else to_ascii(text).strip()
        parsed = int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None
        self.previous = parsed if parsed is not None else expected
        if parsed == expected:
            return
        message = (MESSAGES["line_no"] % {"expected": expected} if self.shape is None else
                   _shape_message(self.shape, "line_no_moved", expected=expected))
        self.error(number, LINE_NO, text, "line_no", message, line_no)

    def _clean(self, form, item, texts, number, line_no):
        """The form's own _clean_fields() and _clean_form() over `texts` (Django's, without
        building a BoundField per field); the cleaned data, or None after naming each bad
        cell."""
        form.data = texts
        if form._errors is None or form._errors:
            form._errors = ErrorDict()  # else the last row's, left empty
        cleaned = form.cleaned_data = {}
        warnings = []
        no_files = _NO_FILES
        field_clean = self._field_clean
        for simple, name, form_field, disabled, clean_name, tariff, from_data, memo, fast \
                in form._bulk_fields:
            if simple:
                # Most fields: the text of its cell, cleaned by the field alone (the general
                # case below, without what does not apply).
                value = texts.get(name)
                known = memo.get(value) if type(value) is str else None
                if known is None:
                    known = field_clean(memo, form_field, value, fast)
                if known[2] is None:
                    cleaned[name] = known[0]
                else:
                    form.add_error(name, known[2])
                continue
            if disabled:
                value = getattr(item, name) if item is not None else form_field.initial
            elif from_data is None:
                value = texts.get(name)
            else:
                value = from_data(texts, no_files, name)  # an item form has no prefix
            known = memo.get(value) if type(value) is str else None
            if known is None:
                known = field_clean(memo, form_field, value, fast)
            if known[2] is not None:
                form.add_error(name, known[2])
                continue
            cleaned[name] = known[0]
            if clean_name is not None:
                try:
                    cleaned[name] = clean_name()
                except ValidationError as error:
                    form.add_error(name, error)
                    continue
            if tariff and not disabled:
                self._check_tariff_digits(form, name, value)
                warnings.extend((name, warning) for warning in known[1])
        form._clean_form()
        if not form._errors:
            for name, warning in warnings:
                self.warnings.append(CellError(
                    sheet=self.sheet, row=number, column=self.headers.get(name, name),
                    value=_shown(texts.get(name, "")), message=str(warning.message),
                    code=warning.code, line_no=line_no))
            return form.cleaned_data
        for name, errors in form._errors.items():
            key = LINE_NO if name == NON_FIELD_ERRORS else name
            text = texts.get(key, "") if key != LINE_NO else ""
            for error in errors.as_data():
                code = error.code or "invalid"
                message = " ".join(error)
                if code in FILE_WORDS:
                    message = MESSAGES[code]
                if code == "tariff_format" and TEN_DIGITS_RE.fullmatch(to_ascii(text).strip()):
                    code, message = "tariff_leading_zero", MESSAGES["tariff_leading_zero"] % {
                        "code": to_ascii(text).strip()}
                self.error(number, key, text, code, message, line_no)
        return None

    @staticmethod
    def _field_clean(memo, form_field, value, fast=None):
        """(form_field.clean(value), the warnings it left, None) or (None, (), the
        ValidationError it raised), kept in `memo` (the field's) for the next cell of the
        column with the same text: a field's clean() depends on the text alone, and a file
        repeats its units, currencies, countries, control numbers, often its names too (a
        third of the check's time on a real file). Not the form's clean_<name>(), which may
        depend on the row (9-2-2's limit). `fast`: the field's shortcut for the texts it
        takes as they are (permits.bulk_fields.fast_clean), tried first."""
        found = fast(value) if fast is not None else None
        if found is not None:
            known = memo[value] = (found[0], found[1], None)
            return known
        try:
            known = (form_field.clean(value), tuple(getattr(form_field, "warnings", ())), None)
        except ValidationError as error:
            known = (None, (), error.with_traceback(None))
        if isinstance(value, str):
            memo[value] = known
        return known

    def _check_tariff_digits(self, form, name, value):
        # 填寫說明 3: 11 digits, nothing else; the item page also takes 6307.90.50.31-1. The
        # field took the cell, so the text rule (clean_text) takes it too.
        digits = self.tariff_digits.get(value)
        if digits is None:
            # 11 ASCII digits as they are pass at once (the text rule, to_ascii and strip
            # leave them unchanged).
            digits = self.tariff_digits[value] = bool(
                (type(value) is str and TARIFF_DIGITS_RE.fullmatch(value))
                or TARIFF_DIGITS_RE.fullmatch(to_ascii(clean_text(value or "")).strip()))
        if not digits:
            form.add_error(name, ValidationError(MESSAGES["tariff_format"],
                                                 code="tariff_format"))

    def _values(self, form, item, cleaned, number, line_no):
        """The item the row makes, as draft_item_save would store it: the stored item (or an
        empty one) with the form's cleaned fields, the amount computed when left empty; as
        the cleaned rows hold them (_stored), its 項次 (`line_no`) first."""
        if item is not None:
            values = {LINE_NO: line_no, **self.stored[item.line_no]}
        else:
            values = {LINE_NO: line_no, **self.blank}
        fields = form.fields
        for name, value in cleaned.items():
            if name in fields:
                values[name] = plain_decimal(value) if isinstance(value, Decimal) else value
        if cleaned.get("amount") is None:
            quantity, unit_price = (
                cleaned[name] if name in cleaned and name in fields
                else getattr(item, name) if item is not None else None
                for name in ("quantity", "unit_price"))
            amount = None
            if quantity is not None and unit_price is not None:
                amount = services.item_amount(quantity, unit_price)
            max_whole = AmountField.max_whole_digits
            if amount is None or amount >= Decimal(10) ** max_whole:
                # Only where the form does not compute it (9-2-2: the assurance's unit price).
                self.error(number, "amount", "", "max_whole_digits",
                           AMOUNT_TOO_LARGE % {"max": max_whole}, line_no)
                return None
            values["amount"] = _plain(amount)
        return values

    def _check_fixed(self, form, item, texts, values, number, line_no):
        """A column the item form leaves out or disabled keeps what is stored (9-2-2: the
        assurance's; a balance re-issue: the cancelled permit's), or what the row makes of
        it (a balance re-issue's amount follows its quantity)."""
        fixed = form._bulk_fixed
        if item is None or not fixed:
            return
        changeable = form._bulk_changeable
        words = None
        for key in fixed:
            text = texts.get(key, "")
            stored = getattr(item, key)
            code = self.kinds.get(key) == "choice" or key in CODE_KEYS
            if _same(text, stored, code=code):
                continue
            if values is not None and values.get(key) not in (None, "") and \
                    _same(text, Decimal(values[key]) if isinstance(stored, Decimal)
                          else values[key], code=code):
                continue
            if words is None:
                words = _joined(self.headers[name] for name in changeable
                                if name in self.headers)
            self.error(number, key, text, "fixed_cell", MESSAGES["fixed_cell"] % {
                "columns": words, "stored": services.plain(stored) or ""}, line_no)

    def finish(self, number=None):
        """After the last row: rows deleted from a file that keeps its shape, or none at
        all."""
        self.named = ()
        if not self.lines:
            self.error(number, LINE_NO, "", "no_items", MESSAGES["no_items"])
        elif self.shape and self.lines < self.count:
            self.error(number, LINE_NO, "", "rows_deleted", _shape_message(
                self.shape, "rows_deleted", count=self.count, found=self.lines))

    def counts(self):
        """(added, changed, unchanged, removed) of the cleaned rows against the items."""
        added = changed = unchanged = 0
        for row in self.rows:
            stored = self.stored.get(row[LINE_NO])
            if stored is None:
                added += 1
            elif {LINE_NO: row[LINE_NO], **stored} == row:
                unchanged += 1
            else:
                changed += 1
        return added, changed, unchanged, max(self.count - len(self.rows), 0)


# --- the file -------------------------------------------------------------------------------


def _map_headers(table, columns, shape, aliases, error):
    """{position in the row: column key} of the file's header row, or None after naming
    each header that is refused (`error(position, header, code, message)`)."""
    headers = list(table.headers)
    keys = [aliases.get(_header_key(header)) if str(header).strip() else None
            for header in headers]
    refused = False
    if shape:
        return _map_shaped_headers(headers, keys, columns, shape, error)
    seen = {}
    for position, (header, key) in enumerate(zip(headers, keys, strict=True)):
        if not str(header).strip():
            continue
        if key is None:
            refused = True
            error(position, header, "column_unknown", MESSAGES["column_unknown"] % {
                "header": header})
        elif key in seen:
            refused = True
            error(position, header, "column_twice", MESSAGES["column_twice"] % {
                "header": header})
        else:
            seen[key] = position
    for column in columns:
        if column.required and column.key not in seen:
            refused = True
            error(None, column.header, "column_missing", MESSAGES["column_missing"] % {
                "header": column.header})
    if refused:
        return None
    return {position: key for key, position in seen.items()}


def _map_shaped_headers(headers, keys, columns, shape, error):
    """_map_headers() of a file that keeps its exported shape (§4.1): the exported columns,
    in their order, nothing more. Says what changed: a column deleted, inserted (or twice),
    or, when the columns are all there once, moved."""
    expected = [column.key for column in columns]
    by_key = {column.key: column.header for column in columns}
    found = {}
    refused = False
    for position, (header, key) in enumerate(zip(headers, keys, strict=True)):
        if key is None and not str(header).strip():
            continue
        if key is None or key in found:
            refused = True
            error(position, header, "column_inserted",
                  _shape_message(shape, "column_inserted", header=header))
        else:
            found[key] = position
    for key in expected:
        if key not in found:
            refused = True
            error(None, by_key[key], "column_deleted",
                  _shape_message(shape, "column_deleted", header=by_key[key]))
    if refused:
        return None
    for position, key in enumerate(expected):
        if keys[position] != key:
            refused = True
            error(position, headers[position], "column_moved",
                  _shape_message(shape, "column_moved", expected=by_key[key]))
    return None if refused else dict(enumerate(keys))


def _problems(table, row, line_no=None):
    """The cells of `row` the reader could not read (a formula without a computed value, an
    error value, a merged cell), named with the reader's words."""
    return [CellError(sheet=table.sheet, row=row.number,
                      column=str(table.headers[position]) or get_column_letter(position + 1),
                      value=_shown(cell.value), message=cell.problem, code="cell_problem",
                      line_no=line_no)
            for position, cell in enumerate(row.cells) if cell.problem]


@contextlib.contextmanager
def _collector_paused():
    """No full collection of Python's cyclic garbage collector while a file is read and
    checked: the check keeps every cleaned row (a few hundred thousand objects that live to
    the end), and each full collection would walk all of them, and the process's own, again
    as they pile up (up to a sixth of the time of reading and checking 10,000 rows,
    bench/items_io.py). The young generations are still collected (an exception's frames);
    the thresholds are put back afterwards."""
    thresholds = gc.get_threshold()
    gc.set_threshold(thresholds[0], thresholds[1], 1_000_000_000)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def check(entry, application, table, progress=None):
    """Check `table` (permits.spreadsheets.read_table's) as the goods items of draft
    `application` entered through `entry`: every row by the item form's rules (module
    docstring), every bad cell named, never stopping at the first. Returns a Check.
    `progress(rows_read)` is called every PROGRESS_EVERY rows and at the end. The rows are
    read as they stream; the case's items, the item form's arguments and the reference
    tables are read once, whatever the number of rows."""
    with _collector_paused():
        return _check(entry, application, table, progress)


def _check(entry, application, table, progress):
    columns = columns_for(entry, application)
    items, stored = case_items(application)
    result = Check()
    shape = shape_rule(entry, application)
    sheet = table.sheet

    def header_error(position, header, code, message):
        result.errors.append(CellError(sheet=sheet, row=1, column=str(header) or (
            get_column_letter(position + 1) if position is not None else ""),
            value=_shown(header), message=str(message), code=code))

    index = _map_headers(table, columns, shape, _header_aliases(entry), header_error)
    if index is None:
        result.fingerprint = _fingerprint(stored)
        return result
    headers = {key: str(table.headers[position]) for position, key in index.items()}
    checker = _Checker(entry, application, items, columns, sheet=sheet, headers=headers,
                       stored=stored)
    result.fingerprint = checker.fingerprint
    line_position = next((position for position, key in index.items() if key == LINE_NO),
                         None)
    unnamed = set()  # column letters with data but no header, named once each
    no_header = [position for position in range(len(table.headers)) if position not in index]
    cell_of = [(position, key) for position, key in index.items() if key != LINE_NO]
    read = 0
    number = 1
    for row in table.rows:
        read += 1
        number = row.number
        if progress and read % PROGRESS_EVERY == 0:
            progress(read)
        cells = row.cells
        if not row.extra and not "".join([cell.value for cell in cells]).strip():
            # A wholly empty row: nothing to lose. A cell of it merged into one above is
            # named, not the row (permits.spreadsheets.Cell.problem).
            checker.errors.extend(_problems(table, row))
            continue
        line_no = checker.lines + 1
        if line_no > MAX_ITEMS:
            checker.error(row.number, LINE_NO, "", "too_many",
                          MESSAGES["too_many"] % {"max": f"{MAX_ITEMS:,}"}, always=True)
            break
        if row.hidden:
            checker.error(row.number, LINE_NO, cells[line_position].value
                          if line_position is not None else "", "hidden_row",
                          MESSAGES["hidden_row"], line_no, always=True)
        problems = _problems(table, row, line_no)
        checker.errors.extend(problems)
        # Data under no header (an empty header cell, or beyond the last): each column once.
        for letter, value in [*((get_column_letter(position + 1), cells[position].value)
                                for position in no_header if cells[position].value.strip()),
                              *((letter, "") for letter in row.extra)] \
                if no_header or row.extra else ():
            if letter not in unnamed:
                unnamed.add(letter)
                checker.errors.append(CellError(
                    sheet=sheet, row=row.number, column=letter, value=_shown(value),
                    message=str(MESSAGES["no_header"] % {"letter": letter}),
                    code="no_header", line_no=line_no))
        texts = {key: cells[position].value for position, key in cell_of}
        line_text = cells[line_position].value if line_position is not None else ""
        # A cell the reader could not read is named once, for that.
        named = {key for position, key in index.items() if cells[position].problem} \
            if problems else ()
        checker.row(row.number, line_text, texts, line_no=line_no, named=named)
    else:
        checker.finish(number + 1 if checker.lines else None)
    if progress:
        progress(read)
    result.rows_read = read
    result.warnings = checker.warnings
    result.errors.extend(checker.errors)
    if result.errors:
        return result
    result.rows = checker.rows
    result.added, result.changed, result.unchanged, result.removed = checker.counts()
    return result


# --- the import -----------------------------------------------------------------------------


def _row_texts(row, keys):
    return {key: "" if row.get(key) is None else str(row[key]) for key in keys}


@transaction.atomic
def replace_items(*, entry, application, actor, rows, expected):
    """確認 after a check: the case's items become `rows` (Check.rows), numbered 1 to n, each
    keeping the 原項次 (source_line_no) of the item it was at its 項次 (a change of an issued
    permit, 9-2-2 and 餘額重簽 keep their shape, so each row is its item).

    Under the case's row lock: the case must still be `actor`'s draft (AlreadySubmitted,
    PermissionDenied), its items those the check saw (`expected`, Check.fingerprint; else
    ValidationError items_changed), and every row is checked again by the item form's rules
    (RowsRefused: a balance used or a currency withdrawn since). Then one DELETE and a bulk
    INSERT; nothing is half-saved."""
    application = entries._locked_draft(application)
    if not entries.drafts_of(actor).filter(pk=application.pk).exists():
        raise PermissionDenied
    items, stored = case_items(application)
    columns = columns_for(entry, application)
    checker = _Checker(entry, application, items, columns, stored=stored)
    if checker.fingerprint != expected:
        raise ValidationError(MESSAGES["items_changed"], code="items_changed")
    keys = [column.key for column in columns if column.key != LINE_NO]
    if len(rows) > MAX_ITEMS:
        raise ValidationError(MESSAGES["too_many"], code="too_many",
                              params={"max": f"{MAX_ITEMS:,}"})
    for position, row in enumerate(rows, start=1):
        checker.row(None, str(row.get(LINE_NO, "")), _row_texts(row, keys), line_no=position)
    checker.finish()
    if checker.errors:
        raise RowsRefused(checker.errors)
    Item.objects.filter(application=application).delete()
    Item.objects.bulk_create(
        [Item(application=application, **_model_values(row)) for row in checker.rows],
        batch_size=2000)
    entries._touch(application)


def _model_values(row):
    values = dict(row)
    for name in ("quantity", "unit_price", "amount"):
        values[name] = Decimal(values[name])
    return values


def items_to_recheck(entry, application, items):
    """The items among `items` (all of draft `application`'s Items, in 項次 order) that the
    item form's rules may refuse, all checked at once as a file's rows are (_Checker: no
    query per item). 申請 checks these again, each with its own item form, and refuses the
    first its form refuses (permits.entry.draft_submit): one form and five queries an item
    were 132 s for 10,000 items.

    Never fewer than the form refuses: the check is the form's (its fields, clean_<name>()
    and clean(), with the arguments its page gives it); what it leaves out, the model's
    validation, the database holds for stored items (the columns' limits, the constraints).
    It may name more, where the file's words add to the form's (11 digits, 項次 1, 2, 3…):
    an item named here that its form takes is filed. An entry that takes no spreadsheet
    (CaseEntry.bulk_items off: a mask correction's item form needs its permit to be built)
    gets every item back."""
    if not entry.bulk_items:
        return list(items)
    columns = columns_for(entry, application)
    checker = _Checker(entry, application, items, columns)
    keys = [column.key for column in columns if column.key != LINE_NO]
    for item in items:
        checker.row(None, str(item.line_no), _row_texts(checker.stored[item.line_no], keys),
                    line_no=item.line_no)
    named = {error.line_no for error in checker.errors}
    if None in named:  # not tied to an item: every item, by its form
        return list(items)
    return [item for item in items if item.line_no in named]
