"""Spreadsheets in and out: the item tables a user exports, fills in and imports back (SHTC-17).

Plain functions over plain data, no models and no domain rules (permits/bulk_items.py has
those): `write_xlsx` and `write_ods` write a table of columns and rows, with its instructions
for a table to fill in (the items) or without (a report: the reviewers' case list,
permits/admin_export.py), `read_table` reads one sheet of an uploaded .xlsx or .ods back as
text cells.

Reading is built for untrusted files of 10,000 rows within a fixed memory budget:
- the upload is judged by its content, not its name, and bounded before anything parses it:
  its size (MAX_FILE_BYTES), and, for the ZIP package both formats are, what it declares it
  inflates to (MAX_INFLATED_BYTES); then permits.attachments checks, as for every office
  upload, that no part is a compression bomb and that every part inflates exactly to what
  the directory declares. Every part is then read through a counting inflater that stops at
  the limit whatever the headers said.
- the sheet is streamed through expat, never loaded as a tree: odfpy's DOM takes about 12 s
  and 400 MB for 10,000 x 12 cells, and openpyxl's read-only mode tells neither hidden rows,
  merged cells nor formulas without a computed value apart from empty cells;
- repeated rows and columns (LibreOffice writes a sheet's 1,048,576 empty rows as one
  repeated row) are never expanded where empty, and trailing empty rows are not yielded.

A cell is read as the text a person sees in it, without the float noise a spreadsheet keeps
(100.55000000000001 -> "100.55"); what cannot be read for sure (a formula without a computed
value, an error value, a cell merged into another) is reported as the cell's `problem`, for
the domain to name. A fault of the whole file raises SpreadsheetRefused.

Writing: .xlsx with openpyxl in write-only mode; .ods as ODF XML written directly (odfpy
builds a DOM of every cell: 36 times as long and three times the memory for 10,000 rows,
bench/items_io.py).
"""

import io
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pyexpat import ExpatError, ParserCreate
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel
from openpyxl.worksheet.datavalidation import DataValidation

from permits import attachments

# An item table of 10,000 rows is 1 to 3 MB as .xlsx or .ods, and inflates to 10 to 40 MB.
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_INFLATED_BYTES = attachments.PACKAGE_MAX_INFLATED  # 100 MB, as for every office upload
MAX_COLUMNS = 1024  # a header is read up to here, repeated cells expanded up to here
PROGRESS_EVERY = 500  # rows between two calls of read_table's progress()
INSTRUCTIONS_SHEET = "填寫說明"
LISTS_SHEET = "Lists"  # hidden sheet holding drop-down lists too long to write inline
INLINE_LIST_LIMIT = 255  # Excel's bound on a list validation written in the formula itself
VALIDATED_ROWS = 10_000  # rows below the header that get the drop-down and the text format

REFUSALS = {
    "empty": _("The file is empty."),
    "too_large": _("The file is %(size)s; a spreadsheet may be at most %(limit)s."),
    "not_spreadsheet": _("This file is not an .xlsx or .ods spreadsheet (the type is read "
                         "from the file's content, not from its name). Save it as .xlsx or "
                         ".ods and upload that file."),
    "old_format": _("This is an Excel 97-2003 (.xls) file or another format the portal does "
                    "not read. Save it as .xlsx or .ods and upload that file."),
    "document": _("This file is a text document (%(type)s), not a spreadsheet."),
    "encrypted": _("This file is protected by a password (encrypted). Save it without a "
                   "password and upload that file."),
    "inflates": _("This file would expand to %(size)s when opened; a spreadsheet may expand "
                  "to at most %(limit)s."),
    "damaged": _("This file is damaged or is not a well-formed spreadsheet. Save it again "
                 "from the spreadsheet program and upload the new file."),
    "no_sheet": _("This file holds no worksheet."),
    "too_many_rows": _("The sheet “%(sheet)s” has more than %(limit)s rows of data below its "
                       "header row; at most %(limit)s items can be imported at once."),
}

PROBLEMS = {
    "formula": _("The cell holds a formula (%(formula)s) without a computed value: type the "
                 "value itself, or open and save the file in a spreadsheet program first."),
    "error": _("The cell shows the error value %(error)s."),
    "merged": _("The cell is merged with cell %(anchor)s: unmerge the cells and fill in each "
                "one."),
}


class SpreadsheetRefused(ValueError):
    """The whole file is refused: `message` says why, in the user's language; `code` is the
    key of REFUSALS (whose text `message` replaces when given)."""

    def __init__(self, code, message=None, **params):
        self.code = code
        if message is None:
            message = str(REFUSALS[code]) % params if params else str(REFUSALS[code])
        self.message = str(message)
        super().__init__(self.message)


@dataclass(frozen=True)
class Column:
    key: str  # the item form's field name ("line_no" for 項次)
    header: str  # header text as shown (already translated)
    required: bool  # red header (紅色字體欄為必要填寫欄位)
    kind: str = "text"  # "text" (codes keep leading zeros), "number" or "choice"
    choices: tuple = ()  # the drop-down list of a "choice" column (units, currencies)
    width: int = 16
    # Whether a value not on the drop-down list is refused by the spreadsheet program (True:
    # currencies, countries) or only warned of, the list being a suggestion (units: any
    # code of 1 to 10 letters or digits is taken).
    strict: bool = True


@dataclass(frozen=True)
class Cell:
    value: str  # "" when empty; numbers as plain decimals, dates ISO, text exactly as typed
    problem: str = ""  # what the reader could not resolve (translated), "" when nothing


@dataclass(frozen=True)
class Row:
    number: int  # the spreadsheet's own row number (1 = the header row)
    cells: tuple  # of Cell, padded to the header's width
    hidden: bool = False
    extra: tuple = ()  # column letters beyond the header's width that hold something


@dataclass
class Table:
    format: str  # "xlsx" | "ods"
    sheet: str  # the sheet read
    headers: list  # the header row's texts, up to its last non-empty cell
    rows: Iterator  # of Row; streamed, and may raise SpreadsheetRefused while streaming
    sheets: list = field(default_factory=list)  # every sheet's name, in the file's order
    # Column letters beyond the headers that held something in some row; complete once
    # `rows` is exhausted.
    extra_columns: list = field(default_factory=list)


EMPTY = Cell("")


# --- Writing ---------------------------------------------------------------------------------


def _sheet_name(title):
    # Excel's rules for a sheet's name: at most 31 characters, none of []:*?/\.
    name = re.sub(r"[\[\]:*?/\\]", " ", str(title)).strip("' ")[:31]
    return name or "Sheet1"


def _text(value):
    """A value as the text of a cell: Decimals without exponent or trailing noise."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return _decimal_text(value)
    text = str(value)
    if ILLEGAL_CHARACTERS_RE.search(text):
        # Control characters cannot be written into XML at all; the portal's own forms refuse
        # them, so only data from elsewhere can hold them.
        text = ILLEGAL_CHARACTERS_RE.sub("", text)
    return text


def _is_number(value):
    """Whether `value` is written as a number cell (else as text): a finite Decimal or an
    int, never a bool."""
    if isinstance(value, Decimal):
        return value.is_finite()
    return isinstance(value, int) and not isinstance(value, bool)


def _decimal_text(value):
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _list_plan(columns):
    """For each choice column, either its inline list or the range of the hidden list sheet
    that holds it: Excel refuses an inline list longer than 255 characters (units and
    currencies are), and a value with a comma or a quote cannot be written inline at all."""
    plans, lists = {}, []
    for index, column in enumerate(columns):
        if column.kind != "choice" or not column.choices:
            continue
        values = [_text(choice) for choice in column.choices]
        inline = ",".join(values)
        if len(inline) <= INLINE_LIST_LIMIT and not any(set(v) & set(',"') for v in values):
            plans[index] = ("inline", values)
        else:
            lists.append(values)
            plans[index] = ("range", len(lists), len(values))
    return plans, lists


def write_xlsx(columns, rows, *, title, instructions=(), fill_rows=VALIDATED_ROWS,
               cells_as_text=True):
    """The table as .xlsx bytes: sheet `title` with the header row (required headers red and
    bold), frozen, code columns formatted as text, drop-downs on choice columns down to row
    `fill_rows` + 1 (the rows a user may fill in); a second sheet 填寫說明 with
    `instructions`, one a row, if there are any (a report has none, and no choice column).
    `cells_as_text`: each text cell carries the text format too, so that a code the user
    edits stays a code (a table to fill in); without, a report's text cells are text by
    their type alone, in half the time (openpyxl styles a cell at a cost per cell)."""
    columns = list(columns)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_name(title))
    plans, lists = _list_plan(columns)
    text_style = {}
    for index, column in enumerate(columns):
        letter = get_column_letter(index + 1)
        dimension = sheet.column_dimensions[letter]
        dimension.width = column.width
        if column.kind != "number":
            # The column's own format, for the cells the user fills in below the data.
            dimension.number_format = "@"
            text_style[index] = True
        plan = plans.get(index)
        if plan:
            if plan[0] == "inline":
                formula = '"' + ",".join(plan[1]) + '"'
            else:
                list_letter = get_column_letter(plan[1])
                formula = f"{LISTS_SHEET}!${list_letter}$1:${list_letter}${plan[2]}"
            # errorStyle "warning": Excel asks, and keeps the value if the user says so.
            validation = DataValidation(type="list", formula1=formula, allow_blank=True,
                                        showErrorMessage=True,
                                        errorStyle="stop" if column.strict else "warning")
            validation.add(f"{letter}2:{letter}{max(fill_rows, 1) + 1}")
            sheet.data_validations.append(validation)
    sheet.freeze_panes = "A2"

    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=_text(column.header))
        cell.font = Font(bold=True, color="FFFF0000" if column.required else None)
        cell.data_type = "s"
        header.append(cell)
    sheet.append(header)

    # One styled cell per column, given each row's value in turn: write-only mode writes a
    # row out as it is appended, and building and styling 100,000 cells afresh costs more
    # than the rest of the file.
    numbers = [column.kind == "number" for column in columns]
    texts = []
    for index in range(len(columns)):
        cell = WriteOnlyCell(sheet)
        if index in text_style:
            cell.number_format = "@"
        texts.append(cell)
    for values in rows:
        out = []
        for index, value in enumerate(values):
            if value is None or value == "":
                out.append(None)
            elif numbers[index] and _is_number(value):
                out.append(value)
            else:
                text = _text(value)
                if cells_as_text or text.startswith("="):
                    cell = texts[index]
                    cell.value = text
                    cell.data_type = "s"  # never a formula, whatever it starts with
                    out.append(cell)
                else:
                    out.append(text)  # a str: a text cell (openpyxl reads no number in it)
        sheet.append(out)

    if instructions:
        notes = workbook.create_sheet(INSTRUCTIONS_SHEET)
        notes.column_dimensions["A"].width = 100
        for line in instructions:
            notes.append([_text(line)])

    if lists:
        hidden = workbook.create_sheet(LISTS_SHEET)
        hidden.sheet_state = "hidden"
        for position in range(max(len(values) for values in lists)):
            hidden.append([values[position] if position < len(values) else None
                           for values in lists])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


_ODF_NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
    'xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0" '
    'xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2" '
    'xmlns:config="urn:oasis:names:tc:opendocument:xmlns:config:1.0" '
    'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
    'office:version="1.2"')
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
# Whitespace that ODF would collapse in a paragraph: runs of spaces, a leading space, tabs;
# and line breaks, which become paragraphs of their own.
_ODF_WHITESPACE = re.compile(r"^ | {2,}|[\t\n\r]| $")
_ODF_SPACES = re.compile(r"( +|\t)")


def _odf_paragraphs(text):
    if not _ODF_WHITESPACE.search(text):
        return "<text:p>" + escape(text) + "</text:p>"
    out = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        pieces = [piece for piece in _ODF_SPACES.split(line) if piece]
        parts = []
        for position, piece in enumerate(pieces):
            if piece == "\t":
                parts.append("<text:tab/>")
            elif piece[0] == " ":
                # A single space between words stays; any other run is written as text:s,
                # which ODF readers do not collapse.
                count = len(piece)
                if position == 0 or position == len(pieces) - 1:
                    parts.append(f'<text:s text:c="{count}"/>')
                elif count > 1:
                    parts.append(f' <text:s text:c="{count - 1}"/>')
                else:
                    parts.append(" ")
            else:
                parts.append(escape(piece))
        out.append("<text:p>" + "".join(parts) + "</text:p>")
    return "".join(out)


def _attribute(value):
    return '"' + escape(value, {'"': "&quot;"}) + '"'


def _odf_string_cell(text, style=""):
    return (f"<table:table-cell{style} office:value-type=\"string\">"
            f"{_odf_paragraphs(text)}</table:table-cell>")


def _ods_list_condition(plan, columns_count):
    if plan[0] == "inline":
        items = ";".join('"' + value.replace('"', '""') + '"' for value in plan[1])
        return f"of:cell-content-is-in-list({items})"
    letter = get_column_letter(plan[1])
    return f"of:cell-content-is-in-list([${LISTS_SHEET}.${letter}$1:.${letter}${plan[2]}])"


def write_ods(columns, rows, *, title, instructions=(), fill_rows=VALIDATED_ROWS):
    """The same table as write_xlsx, as OpenDocument .ods bytes: the rows up to `fill_rows`
    below the data are empty cells of the columns' formats and drop-downs."""
    columns = list(columns)
    name = _sheet_name(title)
    plans, lists = _list_plan(columns)
    width = len(columns)
    parts = [f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODF_NAMESPACES}>'
             "<office:automatic-styles>"
             '<number:text-style style:name="N_text"><number:text-content/></number:text-style>'
             '<style:style style:name="ce_text" style:family="table-cell" '
             'style:parent-style-name="Default" style:data-style-name="N_text"/>'
             '<style:style style:name="ce_head" style:family="table-cell" '
             'style:parent-style-name="Default" style:data-style-name="N_text">'
             '<style:text-properties fo:font-weight="bold"/></style:style>'
             '<style:style style:name="ce_required" style:family="table-cell" '
             'style:parent-style-name="Default" style:data-style-name="N_text">'
             '<style:text-properties fo:color="#ff0000" fo:font-weight="bold"/></style:style>'
             '<style:style style:name="ta_hidden" style:family="table">'
             '<style:table-properties table:display="false"/></style:style>'
             '<style:style style:name="co_wide" style:family="table-column">'
             '<style:table-column-properties style:column-width="25cm"/></style:style>']
    for index, column in enumerate(columns):
        parts.append(f'<style:style style:name="co{index}" style:family="table-column">'
                     '<style:table-column-properties style:column-width='
                     f'"{column.width * 0.2:.2f}cm"/></style:style>')
    parts.append("</office:automatic-styles><office:body><office:spreadsheet>")
    if plans:
        # A sheet's name in a cell address is quoted unless it is a plain word.
        reference = name if re.fullmatch(r"\w+", name) else "'" + name.replace("'", "''") + "'"
        parts.append("<table:content-validations>")
        for index, plan in plans.items():
            letter = get_column_letter(index + 1)
            condition = _attribute(_ods_list_condition(plan, width))
            parts.append(f'<table:content-validation table:name="val{index}" '
                         f"table:condition={condition} table:allow-empty-cell=\"true\" "
                         f'table:display-list="unsorted" '
                         f"table:base-cell-address={_attribute(f'{reference}.{letter}2')}>"
                         '<table:error-message table:display="true" table:message-type='
                         f'"{"stop" if columns[index].strict else "warning"}"/>'
                         "</table:content-validation>")
        parts.append("</table:content-validations>")

    parts.append(f"<table:table table:name={_attribute(name)}>")
    for index, column in enumerate(columns):
        default = "ce_text" if column.kind != "number" else "Default"
        parts.append(f'<table:table-column table:style-name="co{index}" '
                     f'table:default-cell-style-name="{default}"/>')
    parts.append("<table:table-header-rows><table:table-row>")
    for column in columns:
        style = ' table:style-name="ce_required"' if column.required else \
            ' table:style-name="ce_head"'
        parts.append(_odf_string_cell(_text(column.header), style))
    parts.append("</table:table-row></table:table-header-rows>")

    # What each column's cells carry besides their value: the text format, the drop-down.
    attributes = []
    for index, column in enumerate(columns):
        attribute = ' table:style-name="ce_text"' if column.kind != "number" else ""
        if index in plans:
            attribute += f' table:content-validation-name="val{index}"'
        attributes.append(attribute)
    empty_cells = "".join(f"<table:table-cell{attribute}/>" for attribute in attributes)
    numbers = [column.kind == "number" for column in columns]
    written = 0
    append = parts.append
    out = io.BytesIO()
    package = zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED)
    # ODF: `mimetype` first and stored, so that its type can be read at a fixed offset.
    package.writestr(zipfile.ZipInfo("mimetype"), _ODS_MIMETYPE,
                     compress_type=zipfile.ZIP_STORED)
    # content.xml is compressed as it is written, a few hundred rows at a time: the whole
    # text of 10,000 rows would be 20 MB of str and as much again encoded.
    content = package.open("content.xml", "w")
    for values in rows:
        if len(parts) > 8192:
            content.write("".join(parts).encode())
            parts.clear()
        append("<table:table-row>")
        for index, value in enumerate(values):
            if value is None or value == "":
                append(f"<table:table-cell{attributes[index]}/>")
            elif numbers[index] and _is_number(value):
                text = _text(value)
                append(f'<table:table-cell office:value-type="float" office:value="{text}">'
                       f"<text:p>{text}</text:p></table:table-cell>")
            else:
                append(_odf_string_cell(_text(value), attributes[index]))
        append("</table:table-row>")
        written += 1
    if written < fill_rows:
        append(f'<table:table-row table:number-rows-repeated="{fill_rows - written}">'
               f"{empty_cells}</table:table-row>")
    append("</table:table>")

    if instructions:
        append(f"<table:table table:name={_attribute(INSTRUCTIONS_SHEET)}>"
               '<table:table-column table:style-name="co_wide"/>')
        for line in instructions:
            append("<table:table-row>" + _odf_string_cell(_text(line)) + "</table:table-row>")
        append("</table:table>")
    if lists:
        append(f'<table:table table:name="{LISTS_SHEET}" table:style-name="ta_hidden">')
        for position in range(max(len(values) for values in lists)):
            append("<table:table-row>")
            for values in lists:
                append(_odf_string_cell(values[position]) if position < len(values)
                       else "<table:table-cell/>")
            append("</table:table-row>")
        append("</table:table>")
    append("</office:spreadsheet></office:body></office:document-content>")
    content.write("".join(parts).encode())
    content.close()

    settings_xml = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-settings {_ODF_NAMESPACES}>'
        '<office:settings><config:config-item-set config:name="ooo:view-settings">'
        '<config:config-item-map-indexed config:name="Views"><config:config-item-map-entry>'
        '<config:config-item config:name="ViewId" config:type="string">view1</config:config-item>'
        '<config:config-item-map-named config:name="Tables">'
        f"<config:config-item-map-entry config:name={_attribute(name)}>"
        '<config:config-item config:name="HorizontalSplitMode" config:type="short">0'
        "</config:config-item>"
        '<config:config-item config:name="VerticalSplitMode" config:type="short">2'
        "</config:config-item>"
        '<config:config-item config:name="HorizontalSplitPosition" config:type="int">0'
        "</config:config-item>"
        '<config:config-item config:name="VerticalSplitPosition" config:type="int">1'
        "</config:config-item>"
        '<config:config-item config:name="ActiveSplitRange" config:type="short">2'
        "</config:config-item>"
        '<config:config-item config:name="PositionLeft" config:type="int">0</config:config-item>'
        '<config:config-item config:name="PositionRight" config:type="int">0</config:config-item>'
        '<config:config-item config:name="PositionTop" config:type="int">0</config:config-item>'
        '<config:config-item config:name="PositionBottom" config:type="int">1'
        "</config:config-item>"
        "</config:config-item-map-entry></config:config-item-map-named>"
        '<config:config-item config:name="ActiveTable" config:type="string">'
        f"{escape(name)}</config:config-item>"
        "</config:config-item-map-entry></config:config-item-map-indexed>"
        "</config:config-item-set></office:settings></office:document-settings>").encode()
    styles_xml = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-styles {_ODF_NAMESPACES}>'
        '<office:styles><style:style style:name="Default" style:family="table-cell"/>'
        "</office:styles></office:document-styles>").encode()
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:version="1.2" '
        f'manifest:media-type="{_ODS_MIMETYPE.decode()}"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        '<manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>'
        '<manifest:file-entry manifest:full-path="settings.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>").encode()
    package.writestr("styles.xml", styles_xml)
    package.writestr("settings.xml", settings_xml)
    package.writestr("META-INF/manifest.xml", manifest)
    package.close()
    return out.getvalue()


# --- Reading: the package --------------------------------------------------------------------


class _Upload(io.BytesIO):
    """The upload's bytes with the name and size permits.attachments' checks read."""

    def __init__(self, data, name):
        super().__init__(data)
        self.size = len(data)
        self.name = name


# What a damaged package raises as it is read: not well-formed XML, a bad ZIP, a missing
# part, an index or number that is not one.
_DAMAGE = (ExpatError, ElementTree.ParseError, zipfile.BadZipFile, zlib.error, struct.error,
           EOFError, OSError, KeyError, ValueError, IndexError, TypeError, RuntimeError,
           NotImplementedError)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_CHUNK = 64 * 1024


def _open_package(file):
    """The upload as a checked ZipFile and its format; SpreadsheetRefused otherwise."""
    size = getattr(file, "size", None)
    if isinstance(file, bytes | bytearray):
        data = bytes(file)
    else:
        if size is not None and size > MAX_FILE_BYTES:
            raise SpreadsheetRefused("too_large", size=filesizeformat(size),
                                     limit=filesizeformat(MAX_FILE_BYTES))
        if hasattr(file, "seek"):
            file.seek(0)
        data = file.read(MAX_FILE_BYTES + 1)
    if not data:
        raise SpreadsheetRefused("empty")
    if len(data) > MAX_FILE_BYTES:
        raise SpreadsheetRefused("too_large", size=filesizeformat(size or len(data)),
                                 limit=filesizeformat(MAX_FILE_BYTES))
    if data.startswith(_OLE_MAGIC):
        # A compound file: an .xls, or an .xlsx/.docx encrypted by Office (it wraps the
        # encrypted package in one of these, with a stream named EncryptedPackage).
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise SpreadsheetRefused("encrypted")
        raise SpreadsheetRefused("old_format")
    upload = _Upload(data, getattr(file, "name", "") or "upload")
    try:
        attachments._check_entry_count(upload)  # before zipfile reads the directory
    except ValidationError as error:
        raise SpreadsheetRefused("inflates", error.messages[0]) from None
    content_type = attachments.detect_content_type(upload)
    if content_type in (attachments.DOCX, attachments.ODT):
        raise SpreadsheetRefused("document",
                                 type=attachments.ALLOWED_TYPES[content_type].label)
    if content_type not in (attachments.XLSX, attachments.ODS):
        if data.startswith(b"PK\x03\x04"):
            try:
                zipfile.ZipFile(upload).close()
            except _DAMAGE:
                # A ZIP that cannot be opened: most often a download or copy cut short.
                raise SpreadsheetRefused("damaged") from None
        raise SpreadsheetRefused("not_spreadsheet")
    archive = zipfile.ZipFile(upload)
    inflated = sum(info.file_size for info in archive.infolist())
    if inflated > MAX_INFLATED_BYTES:
        raise SpreadsheetRefused("inflates", size=filesizeformat(inflated),
                                 limit=filesizeformat(MAX_INFLATED_BYTES))
    try:
        # The compression ratio of every part, and every part inflated once, chunk by
        # chunk, to exactly what the directory declares.
        attachments.check_content(upload, content_type)
    except ValidationError as error:
        if error.code in ("package_too_large", "package_ratio", "package_too_many_entries"):
            raise SpreadsheetRefused("inflates", error.messages[0]) from None
        raise SpreadsheetRefused("damaged", error.messages[0]) from None
    return archive, "xlsx" if content_type == attachments.XLSX else "ods"


def _chunks(archive, name):
    """A part's inflated bytes in chunks, stopping at MAX_INFLATED_BYTES whatever the
    package's headers say."""
    total = 0
    with archive.open(name) as part:
        while chunk := part.read(_CHUNK):
            total += len(chunk)
            if total > MAX_INFLATED_BYTES:
                raise SpreadsheetRefused("inflates", size=filesizeformat(total),
                                         limit=filesizeformat(MAX_INFLATED_BYTES))
            yield chunk


def _part(archive, name):
    return b"".join(_chunks(archive, name))


def _refuse_dtd(*args):
    # No spreadsheet needs a document type declaration; entities are how XML bombs are built.
    raise SpreadsheetRefused("damaged")


def _parser(namespaces=True):
    parser = ParserCreate(namespace_separator="}") if namespaces else ParserCreate()
    parser.buffer_text = True
    parser.buffer_size = _CHUNK
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    return parser


def _small_xml(archive, name):
    """A small part (relationships, the workbook, its styles) as an ElementTree."""
    data = _part(archive, name)
    if b"<!DOCTYPE" in data:
        _refuse_dtd()
    return ElementTree.fromstring(data)  # noqa: S314 (no DTD, so no entities)


def _local(tag):
    return tag.rpartition("}")[2]


_COLUMN_INDEX = {}


def _column_index(letters):
    """0-based index of column letters ("A" -> 0), cached: a sheet names a few columns."""
    index = _COLUMN_INDEX.get(letters)
    if index is None:
        index = 0
        for ch in letters:
            index = index * 26 + ord(ch) - 64
        index -= 1
        if len(_COLUMN_INDEX) < 20_000:
            _COLUMN_INDEX[letters] = index
    return index


_SHORT_DECIMAL = re.compile(r"(?:0|[1-9][0-9]*)\.[0-9]+")


def _number(text):
    """A number as the text a spreadsheet shows for it: at most 15 significant digits (what
    Excel and LibreOffice keep), no exponent, no trailing zeros: "100.55000000000001" ->
    "100.55", "1E-05" -> "0.00001", "3.0" -> "3"."""
    if text.isdigit() and len(text) <= 15:
        return str(int(text))
    if len(text) <= 16 and _SHORT_DECIMAL.fullmatch(text):
        # At most 15 digits and no exponent: what the float would give back, without it.
        return text.rstrip("0").rstrip(".")
    try:
        number = float(text)
    except ValueError:
        return text
    if number != number or number in (float("inf"), float("-inf")):
        return text
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return _decimal_text(Decimal(format(number, ".15g")))


def _iso(moment):
    if hasattr(moment, "date") and not (moment.hour or moment.minute or moment.second
                                         or moment.microsecond):
        return moment.date().isoformat()
    return moment.isoformat(timespec="seconds")


# --- Reading: rows ---------------------------------------------------------------------------


class _Rows:
    """Turns the cells a parser found into Rows: the header row, padding, columns beyond the
    header, empty rows kept back until something follows them, the row limit, progress."""

    def __init__(self, table, max_rows, progress):
        self.table = table
        self.max_rows = max_rows
        self.progress = progress
        self.headers = None
        self.width = 0
        self.blank = ()
        self.out = []  # Rows ready to be yielded
        self.pending = []  # [first row number, count, hidden] of empty rows held back
        self.next_number = 1
        self.count = 0

    def row(self, number, cells, hidden, repeat=1):
        """Row `number` (and `repeat` - 1 copies below it) with `cells`: {column index: Cell}
        holding only non-empty cells."""
        if number > self.next_number:
            self.empty(self.next_number, number - self.next_number, False)
        if not cells:
            self.empty(number, repeat, hidden)
            return
        if self.headers is None:
            self._header(number, cells)
            if number == 1:
                self.next_number = 2
                if repeat == 1:
                    return
                number, repeat = 2, repeat - 1
        if number - 1 + repeat - 1 > self.max_rows:
            raise SpreadsheetRefused("too_many_rows", sheet=self.table.sheet,
                                     limit=f"{self.max_rows:,}")
        self._flush_pending()
        width = self.width
        values = list(self.blank)
        extra = []
        for column, cell in cells.items():
            if column < width:
                values[column] = cell
            else:
                extra.append(column)
        if extra:
            extra = tuple(get_column_letter(column + 1) for column in sorted(extra))
            for letter in extra:
                if letter not in self.table.extra_columns:
                    self.table.extra_columns.append(letter)
        values = tuple(values)
        for offset in range(repeat):
            self.out.append(Row(number + offset, values, hidden, extra or ()))
        self._count(repeat)
        self.next_number = number + repeat

    def empty(self, number, count, hidden):
        if self.headers is None and number == 1:
            self._header(1, {})
            number, count = 2, count - 1
            if not count:
                self.next_number = 2
                return
        if self.pending and not hidden and not self.pending[-1][2]:
            self.pending[-1][1] += count
        else:
            self.pending.append([number, count, hidden])
        self.next_number = number + count

    def _flush_pending(self):
        for number, count, hidden in self.pending:
            for offset in range(count):
                self.out.append(Row(number + offset, self.blank, hidden))
            self._count(count)
        self.pending.clear()

    def _count(self, rows):
        before = self.count
        self.count += rows
        if self.progress and self.count // PROGRESS_EVERY != before // PROGRESS_EVERY:
            self.progress(self.count)

    def _header(self, number, cells):
        headers = []
        if number == 1 and cells:
            last = max((column for column in cells if column < MAX_COLUMNS), default=-1)
            headers = [cells[column].value if column in cells else ""
                       for column in range(last + 1)]
        self.headers = headers
        self.width = len(headers)
        self.blank = (EMPTY,) * self.width
        self.table.headers = headers


def _stream(rows, feed):
    """Yield rows as `feed` (a generator that parses chunk by chunk into `rows.out`)
    produces them; parse errors become SpreadsheetRefused."""
    try:
        for _ in feed:
            if rows.out:
                batch, rows.out = rows.out, []
                yield from batch
    except _DAMAGE as error:
        if isinstance(error, SpreadsheetRefused):
            raise
        raise SpreadsheetRefused("damaged") from error
    if rows.progress and rows.count % PROGRESS_EVERY:
        rows.progress(rows.count)
    yield from rows.out
    rows.out = []


def read_table(file, *, sheet=None, max_rows=10_000, progress=None):
    """Read the sheet named `sheet` (else the first one; of an .xlsx, the first not hidden)
    of an uploaded .xlsx or .ods.

    `file` is an UploadedFile, a binary file object or bytes. The file is checked before
    anything parses it (SpreadsheetRefused says why it is refused); the header row is read
    at once, the other rows as `Table.rows` is iterated. More than `max_rows` rows below the
    header raise SpreadsheetRefused while iterating, as does damage found only then.
    `progress(rows_read)` is called every PROGRESS_EVERY rows and at the end."""
    archive, kind = _open_package(file)
    table = Table(format=kind, sheet="", headers=[], rows=iter(()))
    rows = _Rows(table, max_rows, progress)
    try:
        feed = (_xlsx_feed if kind == "xlsx" else _ods_feed)(archive, table, sheet, rows)
        stream = _stream(rows, feed)
        # Parse up to the header row, so that the table's headers are known on return.
        first = []
        while rows.headers is None:
            try:
                first.append(next(stream))
            except StopIteration:
                break
    except _DAMAGE as error:
        if isinstance(error, SpreadsheetRefused):
            raise
        raise SpreadsheetRefused("damaged") from error
    if rows.headers is None:
        rows.headers = table.headers = []
    table.rows = _chain(first, stream)
    return table


def _chain(first, stream):
    yield from first
    yield from stream


# --- .xlsx -----------------------------------------------------------------------------------

_REL_OFFICE_DOCUMENT = "/officeDocument"
_XLSX_DATE_FORMATS = frozenset(range(14, 23)) | frozenset(range(27, 37)) | \
    frozenset(range(45, 48)) | frozenset(range(50, 59))  # the last: East Asian locales' dates
_MERGE = re.compile(rb"<(?:[\w.-]+:)?mergeCell\s[^>]*?ref=[\"']([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?")


def _rels(archive, source):
    """{id: (type, target path)} of a part's relationships."""
    folder, name = posixpath.split(source)
    rels_name = posixpath.join(folder, "_rels", name + ".rels")
    if rels_name not in archive.NameToInfo:
        return {}
    out = {}
    for rel in _small_xml(archive, rels_name):
        target = rel.get("Target", "")
        if rel.get("TargetMode") == "External":
            continue
        path = target.lstrip("/") if target.startswith("/") else \
            posixpath.normpath(posixpath.join(folder, target))
        out[rel.get("Id")] = (rel.get("Type", ""), path)
    return out


def _xlsx_date_styles(archive, path):
    """The cell style indexes whose number format shows a date or a time."""
    if not path or path not in archive.NameToInfo:
        return frozenset()
    root = _small_xml(archive, path)
    custom = {}
    dates = set()
    for element in root:
        if _local(element.tag) == "numFmts":
            for fmt in element:
                custom[int(fmt.get("numFmtId", "-1"))] = fmt.get("formatCode", "")
    for element in root:
        if _local(element.tag) == "cellXfs":
            for index, xf in enumerate(element):
                number_format = int(xf.get("numFmtId", "0"))
                if number_format in custom:
                    is_date = is_date_format(custom[number_format])
                else:
                    is_date = number_format in _XLSX_DATE_FORMATS or (
                        number_format in BUILTIN_FORMATS
                        and is_date_format(BUILTIN_FORMATS[number_format]))
                if is_date:
                    dates.add(index)
    return frozenset(str(index) for index in dates)


def _xlsx_shared_strings(archive, path):
    if not path or path not in archive.NameToInfo:
        return []
    strings = []
    parts = []
    state = {"depth": 0, "skip": 0, "text": False}

    def start(name, attrs):
        local = _local(name)
        if local == "si":
            parts.clear()
        elif local == "rPh":
            state["skip"] += 1  # phonetic guides (furigana) are not the cell's text
        elif local == "t" and not state["skip"]:
            state["text"] = True

    def end(name):
        local = _local(name)
        if local == "si":
            strings.append("".join(parts))
        elif local == "rPh":
            state["skip"] -= 1
        elif local == "t":
            state["text"] = False

    def text(data):
        if state["text"]:
            parts.append(data)

    parser = _parser()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    for chunk in _chunks(archive, path):
        parser.Parse(chunk, False)
    parser.Parse(b"", True)
    return strings


def _xlsx_merges(archive, path):
    """The sheet's merged ranges [(first row, first column, last row, last column, anchor)],
    rows 1-based and columns 0-based, found by a scan of the bytes before the sheet is
    parsed: they are listed after the cells, and the rows are streamed. `<` is always markup
    in XML, so the pattern cannot match inside a cell's text."""
    merges = []
    tail = b""
    for chunk in _chunks(archive, path):
        data = tail + chunk
        cut = data.rfind(b"<")
        data, tail = data[:cut], data[cut:]
        if b"mergeCell" in data:
            merges.extend(_MERGE.findall(data))
    merges.extend(_MERGE.findall(tail))
    out = []
    for first_letters, first_row, last_letters, last_row in merges:
        first_column = _column_index(first_letters.decode())
        last_column = _column_index(last_letters.decode()) if last_letters else first_column
        first_row = int(first_row)
        last_row = int(last_row) if last_row else first_row
        anchor = f"{first_letters.decode()}{first_row}"
        out.append((first_row, first_column, last_row, last_column, anchor))
    out.sort()
    return out


def _xlsx_feed(archive, table, wanted, rows):
    """Parse the sheet into `rows`, yielding after each chunk."""
    workbook_path = next((path for kind, path in _rels(archive, "").values()
                          if kind.endswith(_REL_OFFICE_DOCUMENT)), None)
    if workbook_path is None:
        raise SpreadsheetRefused("no_sheet")
    workbook = _small_xml(archive, workbook_path)
    relations = _rels(archive, workbook_path)
    sheets = []
    epoch = CALENDAR_WINDOWS_1900
    for element in workbook.iter():
        local = _local(element.tag)
        if local == "workbookPr" and element.get("date1904") in ("1", "true"):
            epoch = CALENDAR_MAC_1904
        elif local == "sheet":
            relation = next((value for key, value in element.attrib.items()
                             if _local(key) == "id"), None)
            kind, path = relations.get(relation, ("", ""))
            if kind.endswith("/worksheet") and path in archive.NameToInfo:
                sheets.append((element.get("name", ""), element.get("state", "visible"), path))
    if not sheets:
        raise SpreadsheetRefused("no_sheet")
    table.sheets = [name for name, _state, _path in sheets]
    chosen = next((entry for entry in sheets if wanted is not None and entry[0] == wanted),
                  None) or next((entry for entry in sheets if entry[1] == "visible"), sheets[0])
    table.sheet, path = chosen[0], chosen[2]
    strings_path = next((target for kind, target in relations.values()
                         if kind.endswith("/sharedStrings")), None)
    styles_path = next((target for kind, target in relations.values()
                        if kind.endswith("/styles")), None)
    strings = _xlsx_shared_strings(archive, strings_path)
    dates = _xlsx_date_styles(archive, styles_path)
    merges = _xlsx_merges(archive, path)
    yield

    merge_problems = _XlsxMerges(merges)
    formula_problem, error_problem = str(PROBLEMS["formula"]), str(PROBLEMS["error"])
    # The parser's state, kept in closure variables: this runs for every cell.
    row_number, hidden, column, kind, style = 0, False, -1, "n", None
    cells = {}
    collect = None  # where character data goes: one of the three lists below, or nowhere
    value_parts, formula_parts, inline_parts = [], [], []
    has_formula, inline_depth, phonetic_depth = False, 0, 0
    local_names = {}

    def local(name):
        # Names as written ("c", or "x:c" where the producer bound a prefix to the main
        # namespace): no namespace processing, which costs expat and every look-up.
        short = local_names.get(name)
        if short is None:
            short = local_names[name] = name.rpartition(":")[2]
        return short

    def start(name, attrs):
        nonlocal row_number, hidden, column, kind, style, collect, has_formula
        nonlocal inline_depth, phonetic_depth
        tag = local(name)
        if tag == "c":
            ref = attrs.get("r")
            column = _column_index(ref.rstrip("0123456789")) if ref else column + 1
            kind = attrs.get("t", "n")
            style = attrs.get("s")
            value_parts.clear()
            if has_formula:
                formula_parts.clear()
                has_formula = False
            if inline_parts:
                inline_parts.clear()
            collect = None
        elif tag == "v":
            collect = value_parts
        elif tag == "f":
            has_formula = True
            collect = formula_parts
        elif tag == "t":
            if inline_depth and not phonetic_depth:
                collect = inline_parts
        elif tag == "row":
            number = attrs.get("r")
            row_number = int(number) if number else row_number + 1
            hidden = attrs.get("hidden") in ("1", "true")
            column = -1
            cells.clear()
        elif tag == "is":
            inline_depth += 1
        elif tag == "rPh":
            phonetic_depth += 1

    def end(name):
        nonlocal collect, inline_depth, phonetic_depth
        tag = local(name)
        if tag == "c":
            cell = value()
            if cell is not None:
                cells[column] = cell
            if merge_problems.anchors:
                merge_problems.seen(row_number, column, cell)
        elif tag == "v" or tag == "f" or tag == "t":
            collect = None
        elif tag == "row":
            if merges:
                merge_problems.apply(rows, row_number, cells)
            rows.row(row_number, dict(cells), hidden)
            cells.clear()
        elif tag == "is":
            inline_depth -= 1
        elif tag == "rPh":
            phonetic_depth -= 1

    def text(data):
        if collect is not None:
            collect.append(data)

    def value():
        """The cell just read, or None when it holds nothing."""
        raw = "".join(value_parts) if value_parts else ""
        if has_formula and not raw and kind != "str":
            return Cell("", formula_problem % {"formula": "=" + "".join(formula_parts)})
        if kind == "s":
            text = strings[int(raw)] if raw else ""
            return Cell(text) if text else None
        if kind == "n":
            if not raw:
                return None
            if style is not None and style in dates:
                try:
                    return Cell(_iso(from_excel(float(raw), epoch)))
                except (ValueError, OverflowError):
                    pass
            return Cell(_number(raw))
        if kind == "inlineStr":
            text = "".join(inline_parts)
            return Cell(text) if text else None
        if not raw:
            return None
        if kind == "str":
            return Cell(raw)
        if kind == "b":
            return Cell("TRUE" if raw in ("1", "true") else "FALSE")
        if kind == "e":
            return Cell(raw, error_problem % {"error": raw})
        if kind == "d":
            return Cell(raw[:-9] if raw.endswith("T00:00:00") else raw)
        return Cell(raw)

    parser = _parser(namespaces=False)
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    for chunk in _chunks(archive, path):
        parser.Parse(chunk, False)
        yield
    parser.Parse(b"", True)
    if merges:
        merge_problems.finish(rows)
    yield


class _XlsxMerges:
    """Problems for the cells of merged ranges that hold something: every cell but the
    top-left one (the anchor, which keeps its value) is reported as merged into it. The
    ranges are taken up in row order and dropped once passed, so that a sheet of many
    merged ranges costs the ranges of each row, not all of them."""

    def __init__(self, merges):
        self.merges = merges  # sorted by first row
        self.next = 0  # the first range not yet taken up
        self.active = []  # the ranges taken up whose last row is not passed
        self.anchors = {(first_row, first_column): anchor
                        for first_row, first_column, _lr, _lc, anchor in merges}
        self.full = set()  # anchors whose range holds something
        self.done_to = 0  # rows up to here have been handled

    def seen(self, row, column, cell):
        if cell is not None and (row, column) in self.anchors:
            self.full.add(self.anchors[(row, column)])

    def _take_up(self, row):
        merges = self.merges
        while self.next < len(merges) and merges[self.next][0] <= row:
            self.active.append(merges[self.next])
            self.next += 1
        self.active = [merge for merge in self.active if merge[2] >= row]

    def _covered(self, row):
        """{column: problem} of the covered cells of `row` in ranges holding data."""
        out = {}
        for first_row, first_column, last_row, last_column, anchor in self.active:
            if anchor not in self.full or not first_row <= row <= last_row:
                continue
            message = str(PROBLEMS["merged"]) % {"anchor": anchor}
            for column in range(first_column, min(last_column, MAX_COLUMNS - 1) + 1):
                if (row, column) != (first_row, first_column):
                    out[column] = message
        return out

    def apply(self, rows, number, cells):
        self._gap(rows, number)
        self._take_up(number)
        for column, message in self._covered(number).items():
            own = cells.get(column)
            cells[column] = Cell(own.value if own else "", message)
        self.done_to = number

    def _gap(self, rows, number):
        # Rows the sheet does not list (nothing in them) inside a merged range with data.
        start = self.done_to + 1
        ends = [merge[2] for merge in self.active if merge[4] in self.full and merge[2] >= start]
        for gap in range(start, min(max(ends, default=0), number - 1) + 1):
            self._take_up(gap)
            covered = self._covered(gap)
            if covered:
                rows.row(gap, {column: Cell("", message) for column, message in covered.items()},
                         False)
        self.done_to = max(self.done_to, number - 1)

    def finish(self, rows):
        last = max((last_row for _fr, _fc, last_row, _lc, _a in self.merges), default=0)
        self._gap(rows, last + 1)


# --- .ods ------------------------------------------------------------------------------------

_ODS_URIS = {
    "table": b"urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "office": b"urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "text": b"urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "calcext": b"urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0",
    # Shapes and images anchored to a cell: their text is not the cell's.
    "draw": b"urn:oasis:names:tc:opendocument:xmlns:drawing:1.0",
}
_ODS_ROOT = re.compile(rb"<([\w.-]+:)?document-content\b[^>]*>")
_XMLNS = re.compile(rb"""xmlns:([\w.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_ODS_DURATION = re.compile(r"-?P(?:(\d+)D)?T?(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?")


def _ods_sheets(archive):
    """The sheets' names in order and the prefixes content.xml binds to the ODF namespaces
    ({"table": "table", ...}, as every producer writes them), by a scan of its bytes (see
    _xlsx_merges): the sheet is then parsed without namespace processing, on names as
    written, which costs less."""
    names = []
    tail = b""
    prefixes = None
    pattern = None
    for chunk in _chunks(archive, "content.xml"):
        data = tail + chunk
        if prefixes is None:
            root = _ODS_ROOT.search(data)
            if root is None:
                tail = data[-65536:]
                continue
            declared = {(double or single): prefix
                        for prefix, double, single in _XMLNS.findall(root.group(0))}
            prefixes = {key: declared[uri].decode() for key, uri in _ODS_URIS.items()
                        if uri in declared}
            if "table" not in prefixes:
                break
            p = re.escape(prefixes["table"].encode())
            pattern = re.compile(rb"<" + p + rb":table\s[^>]*?" + p +
                                 rb":name=(\"[^\"]*\"|'[^']*')")
        cut = data.rfind(b"<")
        data, tail = data[:cut], data[cut:]
        names.extend(match.group(1) for match in pattern.finditer(data))
    if pattern is not None:
        names.extend(match.group(1) for match in pattern.finditer(tail))
    names = [ElementTree.fromstring(b"<a n=" + name + b"/>").get("n")  # noqa: S314 (one attribute)
             for name in names]
    return names, prefixes or {}


def _ods_duration(text):
    match = _ODS_DURATION.fullmatch(text)
    if not match:
        return text
    days, hours, minutes, seconds = (match.group(i) or "0" for i in range(1, 5))
    hours = int(days) * 24 + int(hours)
    seconds = float(seconds)
    whole = int(seconds)
    out = f"{hours:02d}:{int(minutes):02d}:{whole:02d}"
    if seconds - whole >= 0.0005:
        out += _number(f"{seconds - whole:.3f}")[1:]
    return out


def _ods_feed(archive, table, wanted, rows):
    if "META-INF/manifest.xml" in archive.NameToInfo and \
            b"encryption-data" in _part(archive, "META-INF/manifest.xml"):
        raise SpreadsheetRefused("encrypted")
    names, prefixes = _ods_sheets(archive)
    if not names:
        raise SpreadsheetRefused("no_sheet")
    table.sheets = names
    target = names.index(wanted) if wanted in names else 0
    table.sheet = names[target]
    yield

    def name(namespace, local):
        prefix = prefixes.get(namespace)
        return f"{prefix}:{local}" if prefix else f"\0{local}"  # \0: matches no name

    T_TABLE, T_ROW = name("table", "table"), name("table", "table-row")
    T_CELL, T_COVERED = name("table", "table-cell"), name("table", "covered-table-cell")
    ROWS_REPEATED = name("table", "number-rows-repeated")
    COLUMNS_REPEATED = name("table", "number-columns-repeated")
    COLUMNS_SPANNED = name("table", "number-columns-spanned")
    ROWS_SPANNED = name("table", "number-rows-spanned")
    VISIBILITY = name("table", "visibility")
    X_P, X_H, X_S = name("text", "p"), name("text", "h"), name("text", "s")
    X_TAB, X_BREAK, X_COUNT = name("text", "tab"), name("text", "line-break"), name("text", "c")
    CELL_TAGS, PARAGRAPH_TAGS = frozenset((T_CELL, T_COVERED)), frozenset((X_P, X_H))
    ANNOTATION = name("office", "annotation")
    NOT_TEXT = (name("draw", ""), ANNOTATION)
    value_of = _OdsValues(name)
    merged = str(PROBLEMS["merged"])

    # The parser's state, in closure variables: this runs for every cell.
    table_index, in_table, done = -1, False, False
    row_number, row_repeat, hidden, column = 0, 1, False, 0
    skip = 0  # depth inside an annotation or a shape
    cell_attrs, covered, parts, paragraphs, collecting = None, False, [], 0, False
    cells = {}
    spans = []  # [first row, first column, last row, last column, anchor, holds data]

    def start(tag, attrs):
        nonlocal table_index, in_table, row_repeat, hidden, column, skip
        nonlocal cell_attrs, covered, parts, paragraphs, collecting
        if skip:
            skip += 1
        elif tag in CELL_TAGS:
            if in_table:
                cell_attrs, covered = attrs, tag == T_COVERED
                parts, paragraphs, collecting = [], 0, False
        elif tag in PARAGRAPH_TAGS:
            if cell_attrs is not None:
                if paragraphs:
                    parts.append("\n")
                paragraphs += 1
                collecting = True
        elif tag == X_S:
            if collecting:
                parts.append(" " * int(attrs.get(X_COUNT) or 1))
        elif tag == X_TAB:
            if collecting:
                parts.append("\t")
        elif tag == X_BREAK:
            if collecting:
                parts.append("\n")
        elif tag == T_ROW:
            if in_table:
                row_repeat = int(attrs.get(ROWS_REPEATED, "1"))
                hidden = attrs.get(VISIBILITY, "visible") != "visible"
                column = 0
                cells.clear()
        elif tag == T_TABLE:
            table_index += 1
            in_table = table_index == target
        elif tag.startswith(NOT_TEXT):
            skip = 1

    def end(tag):
        nonlocal skip, cell_attrs, collecting, row_number, in_table, done, column
        if skip:
            skip -= 1
        elif tag in CELL_TAGS:
            attrs = cell_attrs
            if attrs is not None:
                cell_attrs = None
                if covered or COLUMNS_REPEATED in attrs or COLUMNS_SPANNED in attrs or \
                        ROWS_SPANNED in attrs:
                    cell_end(attrs)
                else:
                    # Most cells: one column, merged with nothing (cell_end, inlined).
                    value = value_of(attrs, parts)
                    if value.value or value.problem:
                        cells[column] = value
                    column += 1
            collecting = False
        elif tag in PARAGRAPH_TAGS:
            collecting = False
        elif tag == T_ROW:
            if in_table:
                number = row_number + 1
                if cells and row_repeat > 1 and spans:
                    # Rows under a merged range differ from each other: one at a time.
                    for offset in range(row_repeat):
                        rows.row(number + offset, row_cells(number + offset), hidden)
                else:
                    rows.row(number, row_cells(number) if spans else dict(cells), hidden,
                             row_repeat)
                row_number += row_repeat
                cells.clear()
        elif tag == T_TABLE and in_table:
            in_table = False
            done = True

    def text(data):
        if collecting and not skip:
            parts.append(data)

    def row_cells(number):
        # The covered cells of ranges that start in rows above get their problem here.
        out = dict(cells)
        for first_row, first_column, last_row, last_column, anchor, full in spans:
            if first_row < number <= last_row:
                for index in range(first_column, min(last_column, MAX_COLUMNS - 1) + 1):
                    own = out.get(index)
                    if full or (own is not None and own.value):
                        out[index] = Cell(own.value if own else "", merged % {"anchor": anchor})
        spans[:] = [span for span in spans if span[2] > number]
        return out

    def cell_end(attrs):
        nonlocal column
        repeat = int(attrs.get(COLUMNS_REPEATED, "1"))
        first = column
        column += repeat
        value = value_of(attrs, parts)
        number = row_number + 1
        if covered:
            # A covered cell of a range that starts in this row (ranges from rows above
            # are handled for the whole row in row_cells).
            for span in spans:
                if span[0] == number and span[1] <= first <= span[3]:
                    if span[5] or value.value:
                        for index in range(first, max(min(first + repeat, MAX_COLUMNS),
                                                      first + 1)):
                            cells[index] = Cell(value.value, merged % {"anchor": span[4]})
                    return
        elif COLUMNS_SPANNED in attrs or ROWS_SPANNED in attrs:
            last_column = first + int(attrs.get(COLUMNS_SPANNED, "1")) - 1
            last_row = number + int(attrs.get(ROWS_SPANNED, "1")) - 1
            if last_column > first or last_row > number:
                anchor = f"{get_column_letter(min(first, 16383) + 1)}{number}"
                spans.append([number, first, last_row, last_column, anchor, bool(value.value)])
        if value.value or value.problem:
            # A repeated cell is expanded up to MAX_COLUMNS; beyond, its first column is
            # kept, for the row to report something there.
            for index in range(first, max(min(first + repeat, MAX_COLUMNS), first + 1)):
                cells[index] = value

    parser = _parser(namespaces=False)
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    for chunk in _chunks(archive, "content.xml"):
        parser.Parse(chunk, False)
        yield
        if done:
            break
    else:
        parser.Parse(b"", True)
    yield


class _OdsValues:
    """A cell's value from its attributes and text (see Cell). The Cells of a plain text or
    number are shared between the cells that hold the same (a Cell cannot change): a file
    repeats its units, currencies, countries and quantities, and building a Cell costs more
    than finding it."""

    CACHED = 100_000  # distinct values kept, each at most CACHED_LENGTH characters
    CACHED_LENGTH = 64

    def __init__(self, name):
        self.texts = {}  # text -> Cell(text)
        self.numbers = {}  # office:value -> Cell(_number(office:value))
        self.value_type = name("office", "value-type")
        self.value = name("office", "value")
        self.date = name("office", "date-value")
        self.time = name("office", "time-value")
        self.boolean = name("office", "boolean-value")
        self.string = name("office", "string-value")
        self.calc_type = name("calcext", "value-type")
        self.formula = name("table", "formula")
        self.formula_problem = str(PROBLEMS["formula"])
        self.error_problem = str(PROBLEMS["error"])

    def __call__(self, attrs, parts):
        kind = attrs.get(self.value_type)
        if kind == "string":
            if self.calc_type in attrs and attrs[self.calc_type] == "error":
                error = "".join(parts)
                return Cell(error, self.error_problem % {"error": error})
            if self.string in attrs:
                return Cell(attrs[self.string])
            if not parts:
                return EMPTY
            text = parts[0] if len(parts) == 1 else "".join(parts)
            cell = self.texts.get(text)
            if cell is None:
                cell = Cell(text)
                if len(text) <= self.CACHED_LENGTH and len(self.texts) < self.CACHED:
                    self.texts[text] = cell
            return cell
        if kind in ("float", "percentage", "currency"):
            raw = attrs.get(self.value, "")
            cell = self.numbers.get(raw)
            if cell is None:
                cell = Cell(_number(raw))
                if len(raw) <= self.CACHED_LENGTH and len(self.numbers) < self.CACHED:
                    self.numbers[raw] = cell
            return cell
        if kind is None:
            formula = attrs.get(self.formula)
            if formula:
                return Cell("", self.formula_problem % {"formula": formula})
            return Cell("".join(parts)) if parts else EMPTY
        if attrs.get(self.calc_type) == "error":
            error = "".join(parts)
            return Cell(error, self.error_problem % {"error": error})
        if kind == "date":
            value = attrs.get(self.date, "")
            return Cell(value[:-9] if value.endswith("T00:00:00") else value)
        if kind == "time":
            return Cell(_ods_duration(attrs.get(self.time, "")))
        if kind == "boolean":
            return Cell("TRUE" if attrs.get(self.boolean) == "true" else "FALSE")
        return Cell("".join(parts))
