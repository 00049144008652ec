"""permits.spreadsheets: the item tables written and read back, real .xlsx and .ods files
(written by the portal, by openpyxl as Excel writes them, by LibreOffice itself), and every
refusal of a whole file."""

import csv
import io
import os
import re
import subprocess
import zipfile
from decimal import Decimal
from xml.etree import ElementTree

import openpyxl
import pytest
from django.utils import translation
from openpyxl.styles import Font

from permits import spreadsheets
from permits.spreadsheets import (
    Cell,
    Column,
    SpreadsheetRefused,
    read_table,
    write_ods,
    write_xlsx,
)
from tests import services

UNITS = ("PCE", "KGM", "SET", "MTR")
# Long enough that Excel's 255-character inline list cannot hold it: the hidden list sheet.
CURRENCIES = tuple(f"C{i:02d}" for i in range(90))
COLUMNS = [
    Column("line_no", "項次", True, "number", width=6),
    Column("tariff_code", "稅則號別", True),
    Column("description", "貨品名稱", True, width=40),
    Column("quantity", "數量", True, "number"),
    Column("unit", "單位", True, "choice", choices=UNITS, strict=False),
    Column("amount", "金額", False, "number"),
    Column("currency", "幣別", False, "choice", choices=CURRENCIES),
    Column("note", "備註", False),
]
HEADERS = [column.header for column in COLUMNS]
ROWS = [
    [1, "00123456789", "Wafer  stepper, 12\"", Decimal("2"), "SET", Decimal("100.55"), "C01",
     None],
    [2, "8486200000", "=SUM(A1:A2) is text here", Decimal("0.00001"), "PCE", Decimal("1E+3"),
     "C89", "  leading spaces, a\ttab\nand a second line "],
    [3, "0000000001", "全形字元　ＡＢＣ１２３ & <tags>", 7, "KGM", None, None, "0123"],
]
EXPECTED = [
    ["1", "00123456789", "Wafer  stepper, 12\"", "2", "SET", "100.55", "C01", ""],
    ["2", "8486200000", "=SUM(A1:A2) is text here", "0.00001", "PCE", "1000", "C89",
     "  leading spaces, a\ttab\nand a second line "],
    ["3", "0000000001", "全形字元　ＡＢＣ１２３ & <tags>", "7", "KGM", "", "", "0123"],
]
INSTRUCTIONS = ["1. 項次請依保證書順序填寫 1, 2, 3…", "2. 紅色字體欄為必要填寫欄位"]
WRITERS = {"xlsx": write_xlsx, "ods": write_ods}


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def values(table):
    return [[cell.value for cell in row.cells] for row in table.rows]


def written(fmt, rows=ROWS, columns=COLUMNS):
    return WRITERS[fmt](columns, rows, title="貨品明細", instructions=INSTRUCTIONS)


def refused(data, **kwargs):
    with pytest.raises(SpreadsheetRefused) as caught:
        table = read_table(data, **kwargs)
        list(table.rows)
    return caught.value


# --- Round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_it_reads_back_what_it_wrote(fmt):
    table = read_table(io.BytesIO(written(fmt)), sheet="貨品明細")
    assert (table.format, table.sheet, table.headers) == (fmt, "貨品明細", HEADERS)
    assert table.sheets[:2] == ["貨品明細", spreadsheets.INSTRUCTIONS_SHEET]
    rows = list(table.rows)
    assert [row.number for row in rows] == [2, 3, 4]
    assert [[cell.value for cell in row.cells] for row in rows] == EXPECTED
    assert all(not cell.problem for row in rows for cell in row.cells)


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_it_writes_odd_values_as_text(fmt):
    columns = [Column("a", "A", True, "number"), Column("b", "B", False, "number"),
               Column("c", "C", False)]
    rows = [[Decimal("NaN"), True, Decimal("12.500")], [Decimal("-0"), "1,005", 7]]
    assert values(read_table(written(fmt, rows=rows, columns=columns))) == [
        ["NaN", "True", "12.5"], ["0", "1,005", "7"]]


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_it_writes_an_empty_template(fmt):
    table = read_table(written(fmt, rows=[]))
    assert table.headers == HEADERS
    assert list(table.rows) == []


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_it_reads_the_instructions_sheet_when_asked(fmt):
    table = read_table(written(fmt), sheet=spreadsheets.INSTRUCTIONS_SHEET)
    assert table.headers == [INSTRUCTIONS[0]]
    assert values(table) == [[INSTRUCTIONS[1]]]


def test_it_writes_what_excel_needs_in_the_xlsx():
    workbook = openpyxl.load_workbook(io.BytesIO(written("xlsx")))
    sheet = workbook["貨品明細"]
    assert workbook.sheetnames == ["貨品明細", "填寫說明", "Lists"]
    assert workbook["Lists"].sheet_state == "hidden"
    assert sheet.freeze_panes == "A2"
    header = sheet[1]
    assert [cell.font.color.rgb if cell.font.color else None for cell in header] == [
        "FFFF0000" if column.required else None for column in COLUMNS]
    assert all(cell.font.b for cell in header)
    # Code columns are text, the cells and the column (for the rows the user adds).
    assert sheet["B2"].number_format == "@" and sheet["B2"].data_type == "s"
    assert sheet.column_dimensions["B"].number_format == "@"
    assert sheet["C3"].value == "=SUM(A1:A2) is text here" and sheet["C3"].data_type == "s"
    assert sheet["D2"].data_type == "n"
    validations = {str(v.sqref): v.formula1 for v in sheet.data_validations.dataValidation}
    assert validations == {"E2:E10001": '"PCE,KGM,SET,MTR"', "G2:G10001": "Lists!$A$1:$A$90"}
    assert [row[0].value for row in workbook["Lists"].iter_rows()] == list(CURRENCIES)
    assert [row[0].value for row in workbook["填寫說明"].iter_rows()] == INSTRUCTIONS


def test_it_writes_what_libreoffice_needs_in_the_ods():
    with zipfile.ZipFile(io.BytesIO(written("ods"))) as package:
        first = package.infolist()[0]
        assert (first.filename, first.compress_type) == ("mimetype", zipfile.ZIP_STORED)
        content = package.read("content.xml").decode()
        view = package.read("settings.xml").decode()
    # Required headers red and bold, code columns text (the columns' default style and the
    # cells'), drop-downs inline or from the hidden list sheet, the header row frozen.
    assert content.count('table:style-name="ce_required"') == sum(c.required for c in COLUMNS)
    assert 'fo:color="#ff0000" fo:font-weight="bold"' in content
    assert '<number:text-style style:name="N_text">' in content
    assert content.count('table:default-cell-style-name="ce_text"') == sum(
        column.kind != "number" for column in COLUMNS)
    assert ('of:cell-content-is-in-list(&quot;PCE&quot;;&quot;KGM&quot;;&quot;SET&quot;;'
            '&quot;MTR&quot;)') in content
    assert "of:cell-content-is-in-list([$Lists.$A$1:.$A$90])" in content
    assert 'table:name="Lists" table:style-name="ta_hidden"' in content
    assert '<style:table-properties table:display="false"/>' in content
    assert ('<config:config-item config:name="VerticalSplitMode" config:type="short">2'
            in view)


def test_it_warns_of_a_value_off_a_suggested_list_and_refuses_one_off_a_strict_list():
    # The unit's list is a suggestion (strict=False): Excel and LibreOffice warn and keep
    # the value if the user says so; the currency's refuses anything else.
    with zipfile.ZipFile(io.BytesIO(written("xlsx"))) as package:
        sheet = ElementTree.fromstring(package.read("xl/worksheets/sheet1.xml"))  # noqa: S314
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    xlsx = {v.get("sqref"): (v.get("errorStyle"), v.get("showErrorMessage"))
            for v in sheet.iter(f"{main}dataValidation")}
    assert xlsx == {"E2:E10001": ("warning", "1"), "G2:G10001": ("stop", "1")}

    with zipfile.ZipFile(io.BytesIO(written("ods"))) as package:
        content = ElementTree.fromstring(package.read("content.xml"))  # noqa: S314
    table = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
    ods = {v.get(f"{table}base-cell-address"): (
        v.find(f"{table}error-message").get(f"{table}message-type"),
        v.find(f"{table}error-message").get(f"{table}display"))
        for v in content.iter(f"{table}content-validation")}
    assert ods == {"貨品明細.E2": ("warning", "true"), "貨品明細.G2": ("stop", "true")}
    # Every cell of the columns carries its column's validation.
    names = {v.get(f"{table}base-cell-address"): v.get(f"{table}name")
             for v in content.iter(f"{table}content-validation")}
    cells = list(next(content.iter(f"{table}table")).iter(f"{table}table-cell"))
    assert cells[len(COLUMNS) + 4].get(f"{table}content-validation-name") == \
        names["貨品明細.E2"]


# --- Excel's quirks, written with openpyxl ---------------------------------------------------


def xlsx_bytes(fill, *, headers=("項次", "數量", "備註"), title="貨品明細"):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append(list(headers))
    fill(workbook, sheet)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def repack(data, part, change):
    """The package with one part rewritten by `change(bytes) -> bytes`."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            target.writestr(info, change(content) if info.filename == part else content)
    return out.getvalue()


def test_it_reads_numbers_as_a_spreadsheet_shows_them():
    def fill(workbook, sheet):
        sheet.append([1, 100.55000000000001, 1e-05])
        sheet.append([2.0, 0.1 + 0.2, -3.5e20])
        sheet.append([12345678901, 1 / 3, "100"])  # a code that lost its leading zero; text

    table = read_table(xlsx_bytes(fill))
    assert values(table) == [["1", "100.55", "0.00001"],
                             ["2", "0.3", "-350000000000000000000"],
                             ["12345678901", "0.333333333333333", "100"]]


def test_it_reads_dates_booleans_and_text_as_typed():
    import datetime

    def fill(workbook, sheet):
        sheet.append([datetime.date(2024, 1, 5), datetime.datetime(2024, 1, 5, 10, 30), True])
        sheet.append(["１２３", " 0012 ", "2024/01/05"])
        sheet["A3"].number_format = "yyyy/mm/dd"  # a date format on text: still the text

    assert values(read_table(xlsx_bytes(fill))) == [
        ["2024-01-05", "2024-01-05T10:30:00", "TRUE"], ["１２３", " 0012 ", "2024/01/05"]]


def tight(xml):
    """openpyxl's XML with its empty elements written one way, `<v/>`: with lxml installed
    (pikepdf brings it) openpyxl writes `<v></v>`, with the standard library's writer `<v />`."""
    return re.sub(rb"<(\w+)([^<>]*)></\1>", rb"<\1\2/>", xml).replace(b" />", b"/>")


def test_it_reads_dates_of_a_1904_workbook_and_of_east_asian_formats():
    def fill(workbook, sheet):
        sheet.append([45296, 45296, None])
        sheet["A2"].number_format = "yyyy-mm-dd"

    # Format 57 is a date only in East Asian versions of Excel (yyyy"年"m"月"): no code in
    # the file says so.
    data = repack(xlsx_bytes(fill), "xl/styles.xml",
                  lambda xml: xml.replace(b"</cellXfs>", b'<xf numFmtId="57" xfId="0"/></cellXfs>'))
    data = repack(data, "xl/worksheets/sheet1.xml",
                  lambda xml: xml.replace(b'<c r="B2" t="n">', b'<c r="B2" s="2" t="n">'))
    assert values(read_table(data)) == [["2024-01-05", "2024-01-05", ""]]
    data = repack(data, "xl/workbook.xml",
                  lambda xml: tight(xml).replace(b"<workbookPr/>", b'<workbookPr date1904="1"/>'))
    assert values(read_table(data)) == [["2028-01-06", "2028-01-06", ""]]


def test_it_takes_a_formulas_cached_value_and_names_a_formula_without_one():
    def fill(workbook, sheet):
        sheet.append([1, "=A2*2", "=A2&\"x\""])
        sheet.append([2, "=A3*2", "=1/0"])

    # openpyxl writes no computed values; Excel does: <v>2</v>, a string result t="str".
    data = repack(xlsx_bytes(fill), "xl/worksheets/sheet1.xml",
                  lambda xml: tight(xml).replace(b"<f>A2*2</f><v/>", b"<f>A2*2</f><v>2</v>")
                  .replace(b'<c r="C2"><f>A2&amp;"x"</f><v/>',
                           b'<c r="C2" t="str"><f>A2&amp;"x"</f><v>1x</v>')
                  .replace(b'<c r="C3"><f>1/0</f><v/>', b'<c r="C3" t="e"><f>1/0</f>'
                           b"<v>#DIV/0!</v>"))
    rows = list(read_table(data).rows)
    assert [cell.value for cell in rows[0].cells] == ["1", "2", "1x"]
    assert not any(cell.problem for cell in rows[0].cells)
    formula, error = rows[1].cells[1], rows[1].cells[2]
    assert formula.value == "" and "=A3*2" in formula.problem and "formula" in formula.problem
    assert error.value == "#DIV/0!" and "#DIV/0!" in error.problem


def test_it_names_merged_cells_that_hold_data_and_reads_hidden_rows():
    def fill(workbook, sheet):
        sheet.append([1, 5, "merged across"])
        sheet.append([2, 6, ""])
        sheet.append([3, None, None])
        sheet.append([4, 7, "x"])
        sheet.append([None, None, None])
        sheet.merge_cells("C2:D2")  # D is beyond the headers: nothing to report there
        sheet.merge_cells("B3:C3")  # holds 6
        sheet.merge_cells("B4:B5")  # vertical, holds nothing: harmless
        sheet.merge_cells("A5:A7")  # vertical from 4 into the trailing rows, holds data
        sheet.row_dimensions[3].hidden = True

    rows = list(read_table(xlsx_bytes(fill)).rows)
    assert [row.number for row in rows] == [2, 3, 4, 5, 6, 7]
    assert [row.hidden for row in rows] == [False, True, False, False, False, False]
    problems = {(row.number, index): cell.problem for row in rows
                for index, cell in enumerate(row.cells) if cell.problem}
    assert sorted(problems) == [(3, 2), (6, 0), (7, 0)]
    assert "B3" in problems[(3, 2)] and "merged" in problems[(3, 2)]
    assert "A5" in problems[(6, 0)]
    assert rows[1].cells[1] == Cell("6")


def test_it_skips_trailing_empty_rows_and_keeps_empty_rows_inside_the_data():
    def fill(workbook, sheet):
        sheet.append([1, 2, 3])
        sheet.append([])
        sheet.append([None, None, None])
        sheet.append([4, 5, 6])
        for row in range(6, 2000):
            sheet.cell(row, 1).font = Font(bold=True)  # styled, empty: as Excel leaves them
        sheet.cell(2000, 2, "")

    rows = list(read_table(xlsx_bytes(fill)).rows)
    assert [(row.number, [cell.value for cell in row.cells]) for row in rows] == [
        (2, ["1", "2", "3"]), (3, ["", "", ""]), (4, ["", "", ""]), (5, ["4", "5", "6"])]


def test_it_reports_data_beyond_the_headers():
    def fill(workbook, sheet):
        sheet.append([1, 2, 3, None, "stray"])
        sheet.append([1, 2, 3])
        sheet["C1"] = None  # an empty header at the end of the header row

    table = read_table(xlsx_bytes(fill))
    assert table.headers == ["項次", "數量"]
    rows = list(table.rows)
    assert [row.extra for row in rows] == [("C", "E"), ("C",)]
    assert table.extra_columns == ["C", "E"]


def test_it_reads_the_sheet_named_else_the_first():
    def fill(workbook, sheet):
        sheet.append(["on the first sheet"])
        other = workbook.create_sheet("貨品明細")
        other.append(["項次"])
        other.append(["on the named sheet"])

    data = xlsx_bytes(fill, title="Sheet1", headers=("項次",))
    table = read_table(data, sheet="貨品明細")
    assert (table.sheet, table.sheets, values(table)) == (
        "貨品明細", ["Sheet1", "貨品明細"], [["on the named sheet"]])
    table = read_table(data, sheet="Items")
    assert (table.sheet, values(table)) == ("Sheet1", [["on the first sheet"]])


def test_it_skips_phonetic_guides_and_reads_rich_text():
    def fill(workbook, sheet):
        sheet.append([1, 2, "x"])

    shared = (b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
              b'count="2" uniqueCount="2"><si><r><t>Wafer </t></r><r><rPr><b/></rPr>'
              b'<t xml:space="preserve">stepper</t></r><rPh sb="0" eb="1"><t>furigana</t>'
              b"</rPh></si><si><t>plain</t></si></sst>")

    def to_shared(xml):
        return xml.replace(b'<c r="C2" t="inlineStr"><is><t>x</t></is></c>',
                           b'<c r="C2" t="s"><v>0</v></c><c r="D2" t="s"><v>1</v></c>')

    data = repack(xlsx_bytes(fill), "xl/worksheets/sheet1.xml", to_shared)
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert "xl/sharedStrings.xml" not in package.namelist()
    data = _add_shared_strings(data, shared)
    table = read_table(data)
    assert [row.cells[2].value for row in table.rows] == ["Wafer stepper"]


def _add_shared_strings(data, shared):
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "[Content_Types].xml":
                content = content.replace(
                    b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType='
                    b'"application/vnd.openxmlformats-officedocument.spreadsheetml.'
                    b'sharedStrings+xml"/></Types>')
            elif info.filename == "xl/_rels/workbook.xml.rels":
                content = content.replace(
                    b"</Relationships>", b'<Relationship Id="rIdS" Type="http://schemas.'
                    b"openxmlformats.org/officeDocument/2006/relationships/sharedStrings\" "
                    b'Target="sharedStrings.xml"/></Relationships>')
            target.writestr(info, content)
        target.writestr("xl/sharedStrings.xml", shared)
    return out.getvalue()


def test_it_calls_progress_and_stops_past_max_rows():
    rows = [[index, "8486200000", "item", 1, "PCE", None, None, None] for index in range(1, 1201)]
    for fmt in ("xlsx", "ods"):
        seen = []
        table = read_table(written(fmt, rows=rows), progress=seen.append)
        assert len(list(table.rows)) == 1200
        assert seen == [500, 1000, 1200]
        error = refused(written(fmt, rows=rows), max_rows=1199)
        assert error.code == "too_many_rows" and "1,199" in error.message


# --- .ods as LibreOffice writes it -----------------------------------------------------------


def ods_bytes(rows_xml, *, sheets=("貨品明細",), manifest_extra=b""):
    """A minimal .ods whose first sheet's rows are `rows_xml` (header row included)."""
    tables = "".join(
        f'<table:table table:name="{name}">{rows_xml if index == 0 else ""}</table:table>'
        for index, name in enumerate(sheets))
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" '
        'xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2" office:version="1.3">'
        f"<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body>"
        "</office:document-content>").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr(zipfile.ZipInfo("mimetype"),
                         b"application/vnd.oasis.opendocument.spreadsheet",
                         compress_type=zipfile.ZIP_STORED)
        package.writestr("content.xml", content)
        package.writestr("META-INF/manifest.xml",
                         b'<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:'
                         b'xmlns:manifest:1.0"><manifest:file-entry manifest:full-path='
                         b'"content.xml" manifest:media-type="text/xml">' + manifest_extra +
                         b"</manifest:file-entry></manifest:manifest>")
    return out.getvalue()


def text_cell(text, extra=""):
    return (f'<table:table-cell{extra} office:value-type="string"><text:p>{text}</text:p>'
            "</table:table-cell>")


HEADER_ROW = f"<table:table-row>{text_cell('項次')}{text_cell('數量')}{text_cell('備註')}" \
             "</table:table-row>"


def test_it_never_expands_repeated_empty_rows_and_columns():
    rows = (HEADER_ROW
            + '<table:table-row table:number-rows-repeated="2">'
            + text_cell("same") + '<table:table-cell office:value-type="float" '
            'office:value="100.55000000000001" table:number-columns-repeated="2"><text:p>100.55'
            '</text:p></table:table-cell><table:table-cell table:number-columns-repeated="16381"/>'
            "</table:table-row>"
            '<table:table-row table:number-rows-repeated="3"><table:table-cell '
            'table:number-columns-repeated="16384"/></table:table-row>'
            + f"<table:table-row>{text_cell('after gap')}</table:table-row>"
            + '<table:table-row table:number-rows-repeated="1048570"><table:table-cell '
            'table:number-columns-repeated="16384"/></table:table-row>')
    table = read_table(ods_bytes(rows))
    assert [(row.number, [cell.value for cell in row.cells]) for row in table.rows] == [
        (2, ["same", "100.55", "100.55"]), (3, ["same", "100.55", "100.55"]),
        (4, ["", "", ""]), (5, ["", "", ""]), (6, ["", "", ""]), (7, ["after gap", "", ""])]


def test_it_reads_ods_values_formulas_errors_and_covered_cells():
    rows = (HEADER_ROW
            + "<table:table-row>"
            '<table:table-cell office:value-type="date" office:date-value="2024-01-05">'
            "<text:p>05/01/24</text:p></table:table-cell>"
            '<table:table-cell table:formula="of:=[.A5]*2" office:value-type="float" '
            'office:value="4"><text:p>4</text:p></table:table-cell>'
            '<table:table-cell office:value-type="percentage" office:value="0.125">'
            "<text:p>12.5%</text:p></table:table-cell></table:table-row>"
            "<table:table-row>"
            '<table:table-cell table:formula="of:=1/0" office:value-type="string" '
            'office:string-value="" calcext:value-type="error"><text:p>#DIV/0!</text:p>'
            "</table:table-cell>"
            '<table:table-cell table:formula="of:=[.A9]"/>'
            '<table:table-cell office:value-type="string"><text:p>a<text:s text:c="2"/>b'
            "<text:tab/>c</text:p><text:p><text:span>second</text:span> line</text:p>"
            "<office:annotation><text:p>a comment</text:p></office:annotation>"
            "</table:table-cell></table:table-row>"
            '<table:table-row table:visibility="collapse">'
            '<table:table-cell office:value-type="string" table:number-columns-spanned="2" '
            'table:number-rows-spanned="2"><text:p>merged</text:p></table:table-cell>'
            "<table:covered-table-cell/>"
            '<table:table-cell office:value-type="time" office:time-value="PT10H30M00S">'
            "<text:p>10:30</text:p></table:table-cell></table:table-row>"
            '<table:table-row><table:covered-table-cell table:number-columns-repeated="2"/>'
            '<table:table-cell office:value-type="boolean" office:boolean-value="true">'
            "<text:p>TRUE</text:p></table:table-cell></table:table-row>"
            '<table:table-row><table:table-cell table:number-columns-spanned="2"/>'
            "<table:covered-table-cell/>"
            '<table:table-cell office:value-type="float" office:value="1E-05"/>'
            "</table:table-row>")
    rows = list(read_table(ods_bytes(rows)).rows)
    assert [[cell.value for cell in row.cells] for row in rows] == [
        ["2024-01-05", "4", "0.125"],
        ["#DIV/0!", "", "a  b\tc\nsecond line"],
        ["merged", "", "10:30:00"],
        ["", "", "TRUE"],
        ["", "", "0.00001"],
    ]
    assert [row.hidden for row in rows] == [False, False, True, False, False]
    problems = {(row.number, index): cell.problem for row in rows
                for index, cell in enumerate(row.cells) if cell.problem}
    assert sorted(problems) == [(3, 0), (3, 1), (4, 1), (5, 0), (5, 1)]
    assert "#DIV/0!" in problems[(3, 0)]
    assert "of:=[.A9]" in problems[(3, 1)]
    assert all("A4" in problems[key] for key in [(4, 1), (5, 0), (5, 1)])


def test_it_reads_the_named_ods_sheet_else_the_first():
    data = ods_bytes(HEADER_ROW + f"<table:table-row>{text_cell('x &amp; y')}</table:table-row>",
                     sheets=("Sheet1", "A &amp; B"))
    table = read_table(data, sheet="A & B")
    assert (table.sheet, table.sheets, table.headers) == ("A & B", ["Sheet1", "A & B"], [])
    table = read_table(data, sheet="nothing")
    assert (table.sheet, values(table)) == ("Sheet1", [["x & y", "", ""]])


# --- Whole files refused ---------------------------------------------------------------------


def zip_bytes(parts, *, first_stored=None):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        if first_stored:
            package.writestr(zipfile.ZipInfo(first_stored[0]), first_stored[1],
                             compress_type=zipfile.ZIP_STORED)
        for name, content in parts.items():
            package.writestr(name, content)
    return out.getvalue()


DOCX = zip_bytes({
    "[Content_Types].xml": b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                           b'content-types"><Override PartName="/word/document.xml" '
                           b'ContentType="application/vnd.openxmlformats-officedocument.'
                           b'wordprocessingml.document.main+xml"/></Types>',
    "word/document.xml": b"<w:document/>"})
ODT = zip_bytes({"content.xml": b"<office:document-content/>"},
                first_stored=("mimetype", b"application/vnd.oasis.opendocument.text"))


@pytest.mark.parametrize(("data", "code"), [
    (b"", "empty"),
    (b"line_no,tariff_code\n1,8486200000\n", "not_spreadsheet"),  # a .csv renamed .xlsx
    (zip_bytes({"items.txt": b"1,2,3"}), "not_spreadsheet"),
    (DOCX, "document"),
    (ODT, "document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1024), "old_format"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512) + "EncryptedPackage".encode("utf-16-le")
     + bytes(512), "encrypted"),
], ids=["empty", "text", "zip", "docx", "odt", "xls", "encrypted-xlsx"])
def test_it_refuses_what_is_not_a_spreadsheet(data, code):
    error = refused(data)
    assert error.code == code and error.message


def test_it_refuses_a_macro_enabled_workbook():
    data = repack(written("xlsx"), "[Content_Types].xml",
                  lambda xml: xml.replace(b"spreadsheetml.sheet.main+xml",
                                          b"spreadsheetml.sheet.macroEnabled.main+xml"))
    assert refused(data).code == "not_spreadsheet"


def test_it_refuses_an_encrypted_ods():
    data = ods_bytes(HEADER_ROW, manifest_extra=b'<manifest:encryption-data manifest:checksum='
                                                b'"x"><manifest:algorithm/></manifest:encryption-data>')
    assert refused(data).code == "encrypted"


def test_it_refuses_a_file_over_the_size_limit(monkeypatch):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = written("xlsx")
    monkeypatch.setattr(spreadsheets, "MAX_FILE_BYTES", len(data) - 1)
    error = refused(SimpleUploadedFile("items.xlsx", data))
    assert error.code == "too_large"
    assert refused(io.BytesIO(data)).code == "too_large"  # no size told: read and counted
    monkeypatch.setattr(spreadsheets, "MAX_FILE_BYTES", len(data))
    assert read_table(SimpleUploadedFile("items.xlsx", data)).headers == HEADERS


def test_it_refuses_a_package_that_inflates_past_the_limit_before_parsing_it(monkeypatch):
    # 101 MB of zeros in a part of a real workbook: about 100 KB as a file.
    out = io.BytesIO(written("xlsx"))
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as package, \
            package.open("xl/media/zeros.bin", "w", force_zip64=True) as part:
        block = bytes(1024 * 1024)
        for _ in range(101):
            part.write(block)
    data = out.getvalue()
    assert len(data) < 200_000

    def no_parsing(*args, **kwargs):
        raise AssertionError("parsed")

    monkeypatch.setattr(spreadsheets, "_parser", no_parsing)
    monkeypatch.setattr(spreadsheets, "_small_xml", no_parsing)
    error = refused(data)
    assert error.code == "inflates" and "100.0\xa0MB" in error.message


def test_it_refuses_a_part_compressed_like_a_bomb():
    data = repack(written("ods"), "styles.xml", lambda xml: xml + b" " * 5_000_000)
    error = refused(data)
    assert error.code == "inflates" and "to 1" in error.message


def test_it_refuses_a_package_whose_directory_understates_a_part():
    # The directory says content.xml inflates to 1,000 bytes; it inflates to far more. The
    # inflater stops at the declared size instead of trusting it.
    data = bytearray(written("ods"))
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        name_length = int.from_bytes(data[at + 28:at + 30], "little")
        if data[at + 46:at + 46 + name_length] == b"content.xml":
            data[at + 24:at + 28] = (1000).to_bytes(4, "little")
        at = data.find(b"PK\x01\x02", at + 4)
    assert refused(bytes(data)).code == "damaged"


def test_it_stops_inflating_a_part_at_the_limit(monkeypatch):
    with zipfile.ZipFile(io.BytesIO(written("ods"))) as package:
        monkeypatch.setattr(spreadsheets, "MAX_INFLATED_BYTES", 1000)
        with pytest.raises(SpreadsheetRefused) as caught:
            for _chunk in spreadsheets._chunks(package, "content.xml"):
                pass
    assert caught.value.code == "inflates"


@pytest.mark.parametrize("change", [
    lambda xml: xml[: len(xml) // 2],
    lambda xml: xml.replace(b"<row ", b"<row <", 1),
    lambda xml: xml.replace(b"<worksheet", b'<!DOCTYPE lol [<!ENTITY lol "lol"><!ENTITY lol2 '
                            b'"&lol;&lol;&lol;&lol;">]><worksheet', 1).replace(
        b"<row ", b"<row x='&lol2;' ", 1),
], ids=["truncated", "not-well-formed", "entities"])
def test_it_refuses_a_sheet_that_is_not_well_formed(change):
    data = repack(written("xlsx"), "xl/worksheets/sheet1.xml", change)
    assert refused(data).code == "damaged"


def test_it_refuses_a_workbook_without_a_sheet():
    data = repack(written("xlsx"), "xl/workbook.xml",
                  lambda xml: xml.split(b"<sheets>")[0] + b"<sheets/>" +
                  xml.split(b"</sheets>")[1])
    assert refused(data).code == "no_sheet"
    assert refused(ods_bytes("", sheets=())).code == "no_sheet"


def test_it_refuses_a_file_cut_short():
    assert refused(written("xlsx")[:-100]).code == "damaged"


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_it_never_fails_otherwise_on_damaged_bytes(fmt):
    import random

    data = written(fmt)
    chance = random.Random(13)
    outcomes = set()
    for _ in range(150):
        damaged = bytearray(data)
        for _ in range(chance.randint(1, 4)):
            damaged[chance.randrange(len(damaged))] = chance.randrange(256)
        try:
            table = read_table(bytes(damaged))
            list(table.rows)
            outcomes.add("read")
        except SpreadsheetRefused as error:
            outcomes.add(error.code)
    assert "damaged" in outcomes


# --- LibreOffice ------------------------------------------------------------------------------

# LibreOffice keeps no tab inside a cell; everything else of ROWS it keeps.
LO_ROWS = [[value.replace("\t", " ") if isinstance(value, str) else value for value in row]
           for row in ROWS]
LO_EXPECTED = [[value.replace("\t", " ") for value in row] for row in EXPECTED]


class LibreOffice:
    """soffice --headless --convert-to, with a private profile (a second soffice with the
    user's profile would hand the work to the first and return at once)."""

    def __init__(self, root):
        self.root = root
        self.profile = root / "profile"

    def convert(self, sources, target, folder):
        out = self.root / folder
        result = subprocess.run(
            ["soffice", f"-env:UserInstallation=file://{self.profile}", "--headless",
             "--norestore", "--convert-to", target, "--outdir", str(out),
             *[str(source) for source in sources]],
            capture_output=True, timeout=300, check=False,
            env={**os.environ, "HOME": str(self.root)})
        assert result.returncode == 0, result.stderr.decode(errors="replace")
        return out


    def save_with_password(self, source, target, filter_name):
        """Open `source` and save it as `target` with a password, through a Basic macro
        in the private profile (no filter option of --convert-to sets a password)."""
        module = self.profile / "user" / "basic" / "Standard" / "Module1.xba"
        assert module.exists(), "the profile is made by a first conversion"
        module.write_text(SAVE_WITH_PASSWORD, encoding="utf-8")
        result = subprocess.run(
            ["soffice", f"-env:UserInstallation=file://{self.profile}", "--headless",
             "--norestore", f'macro:///Standard.Module1.SaveWithPassword("{source}",'
                            f'"{target}","{filter_name}")'],
            capture_output=True, timeout=300, check=False,
            env={**os.environ, "HOME": str(self.root)})
        assert result.returncode == 0 and target.exists(), result.stderr.decode(errors="replace")
        return target.read_bytes()


SAVE_WITH_PASSWORD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">
<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Module1"
 script:language="StarBasic">
Sub SaveWithPassword(source As String, target As String, filter As String)
  Dim opening(0) As New com.sun.star.beans.PropertyValue
  opening(0).Name = &quot;Hidden&quot;
  opening(0).Value = True
  document = StarDesktop.loadComponentFromURL(ConvertToURL(source), &quot;_blank&quot;, _
    0, opening())
  Dim saving(1) As New com.sun.star.beans.PropertyValue
  saving(0).Name = &quot;FilterName&quot;
  saving(0).Value = filter
  saving(1).Name = &quot;Password&quot;
  saving(1).Value = &quot;secret&quot;
  document.storeToURL(ConvertToURL(target), saving())
  document.close(True)
End Sub
</script:module>
"""


@pytest.fixture(scope="module")
def libreoffice(tmp_path_factory):
    services.require_program("soffice", "libreoffice-calc-nogui")
    return LibreOffice(tmp_path_factory.mktemp("libreoffice"))


@pytest.fixture(scope="module")
def saved_by_libreoffice(libreoffice):
    """The portal's exports, and openpyxl files as Excel leaves them, each opened and saved
    by LibreOffice as .xlsx and as .ods: {(source, format): bytes}."""
    sources = libreoffice.root / "sources"
    sources.mkdir()
    (sources / "portal_xlsx.xlsx").write_bytes(written("xlsx", rows=LO_ROWS))
    (sources / "portal_ods.ods").write_bytes(written("ods", rows=LO_ROWS))
    (sources / "portal_quoted.ods").write_bytes(
        write_ods(COLUMNS, LO_ROWS, title="Bob's items 2", instructions=INSTRUCTIONS))

    def quirks(workbook, sheet):
        sheet.append([1, "=A2*3", "=1/0"])  # formulas without computed values
        sheet.append([2, 100.55000000000001, "merged"])
        sheet.append([3, None, None])
        sheet.append([None, None, None])
        sheet.append([5, "0012", "last"])
        sheet.merge_cells("C3:C4")
        sheet.row_dimensions[4].hidden = True
        for row in range(7, 300):
            sheet.cell(row, 2).font = Font(italic=True)

    (sources / "quirks.xlsx").write_bytes(xlsx_bytes(quirks))
    files = sorted(sources.iterdir())
    out = {}
    for fmt in ("xlsx", "ods"):
        folder = libreoffice.convert(files, fmt, f"as_{fmt}")
        for source in files:
            out[(source.stem, fmt)] = (folder / f"{source.stem}.{fmt}").read_bytes()
    return out


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
@pytest.mark.parametrize("source", ["portal_xlsx", "portal_ods"])
def test_it_reads_the_exports_as_libreoffice_saves_them(saved_by_libreoffice, source, fmt):
    table = read_table(saved_by_libreoffice[(source, fmt)], sheet="貨品明細")
    assert (table.format, table.sheet, table.headers) == (fmt, "貨品明細", HEADERS)
    assert table.sheets == ["貨品明細", spreadsheets.INSTRUCTIONS_SHEET, spreadsheets.LISTS_SHEET]
    rows = list(table.rows)
    assert [[cell.value for cell in row.cells] for row in rows] == LO_EXPECTED
    assert not any(cell.problem for row in rows for cell in row.cells)


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_it_reads_what_libreoffice_computed_merged_and_hid(saved_by_libreoffice, fmt):
    rows = list(read_table(saved_by_libreoffice[("quirks", fmt)]).rows)
    assert [row.number for row in rows] == [2, 3, 4, 5, 6]
    assert [[cell.value for cell in row.cells] for row in rows] == [
        ["1", "3", "#DIV/0!"], ["2", "100.55", "merged"], ["3", "", ""], ["", "", ""],
        ["5", "0012", "last"]]
    assert [row.hidden for row in rows] == [False, False, True, False, False]
    problems = {(row.number, index): cell.problem for row in rows
                for index, cell in enumerate(row.cells) if cell.problem}
    assert sorted(problems) == [(2, 2), (4, 2)]
    assert "#DIV/0!" in problems[(2, 2)] and "C3" in problems[(4, 2)]


def test_it_refuses_an_ods_libreoffice_saved_with_a_password(libreoffice, saved_by_libreoffice):
    source = libreoffice.root / "sources" / "portal_xlsx.xlsx"
    data = libreoffice.save_with_password(source, libreoffice.root / "encrypted.ods", "calc8")
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert b"encryption-data" in package.read("META-INF/manifest.xml")
    assert refused(data).code == "encrypted"


def test_libreoffice_keeps_the_ods_exports_drop_downs_and_formats(saved_by_libreoffice):
    # LibreOffice read the validations (inline and from the hidden sheet), the red headers and
    # the text format as they were meant: it writes them into the .xlsx it saves.
    workbook = openpyxl.load_workbook(io.BytesIO(saved_by_libreoffice[("portal_quoted", "xlsx")]))
    sheet = workbook["Bob's items 2"]
    assert workbook["Lists"].sheet_state == "hidden"
    validations = {str(v.sqref).split(":")[0]: v.formula1
                   for v in sheet.data_validations.dataValidation}
    assert validations == {"E2": '"PCE,KGM,SET,MTR"', "G2": "Lists!$A$1:$A$90"}
    assert [cell.font.color.rgb if cell.font.color else None for cell in sheet[1]] == [
        "FFFF0000" if column.required else None for column in COLUMNS]
    assert sheet["B2"].number_format == "@" and sheet["B2"].value == "00123456789"
    assert sheet["D2"].number_format != "@" and sheet["D2"].value == 2


def test_the_exports_open_cleanly_in_libreoffice(libreoffice):
    sources = libreoffice.root / "exports"
    sources.mkdir()
    (sources / "export_xlsx.xlsx").write_bytes(written("xlsx", rows=LO_ROWS))
    (sources / "export_ods.ods").write_bytes(written("ods", rows=LO_ROWS))
    # CSV of the first sheet, UTF-8 (76), comma-separated (44), quoted text (34).
    folder = libreoffice.convert(sorted(sources.iterdir()),
                                 "csv:Text - txt - csv (StarCalc):44,34,76,1", "csv")
    for name in ("export_xlsx", "export_ods"):
        with open(folder / f"{name}.csv", encoding="utf-8", newline="") as text:
            assert list(csv.reader(text)) == [HEADERS, *LO_EXPECTED], name


@pytest.mark.parametrize(("fmt", "part"), [
    ("xlsx", "xl/worksheets/sheet1.xml"), ("xlsx", "xl/workbook.xml"),
    ("xlsx", "xl/styles.xml"), ("ods", "content.xml")])
def test_it_never_fails_otherwise_on_a_damaged_part(fmt, part):
    # Markup spliced into a part of a well-formed package: references out of range, stray
    # quotes and brackets, error cells, hidden rows.
    import random

    tokens = [b'"', b"<", b">", b"/", b"=", b"-1", b"99999999999", b" ", b"&amp;", b"x:",
              b't="e"', b's="99"', b'r="ZZZ0"', b'hidden="1"', b"<f>A1</f>"]
    data = written(fmt)
    chance = random.Random(7)
    outcomes = set()
    for _ in range(40):
        def change(xml):
            spliced = bytearray(xml)
            for _ in range(chance.randint(1, 4)):
                at = chance.randrange(len(spliced))
                spliced[at:at + chance.randint(0, 3)] = chance.choice(tokens)
            return bytes(spliced)

        try:
            table = read_table(repack(data, part, change))
            list(table.rows)
            outcomes.add("read")
        except SpreadsheetRefused as error:
            outcomes.add(error.code)
    assert "damaged" in outcomes


def test_it_reports_a_cell_far_away_without_building_the_rows_between():
    def fill(workbook, sheet):
        sheet.append([1, 2, 3])
        sheet.cell(3, 16384, "far right")

    rows = list(read_table(xlsx_bytes(fill)).rows)
    assert [(row.number, row.extra) for row in rows] == [(2, ()), (3, ("XFD",))]

    def far_down(workbook, sheet):
        sheet.append([1, 2, 3])
        sheet.cell(1_048_576, 16384, "far away")

    assert refused(xlsx_bytes(far_down)).code == "too_many_rows"
    rows = (HEADER_ROW + '<table:table-row table:number-rows-repeated="1048574">'
            '<table:table-cell table:number-columns-repeated="16384"/></table:table-row>'
            '<table:table-row><table:table-cell table:number-columns-repeated="16383"/>'
            f"{text_cell('far away')}</table:table-row>")
    assert refused(ods_bytes(rows)).code == "too_many_rows"
    rows = (HEADER_ROW + f'<table:table-row>{text_cell("x")}<table:table-cell '
            'table:number-columns-repeated="16380"/>'
            f'{text_cell("far", extra=" table:number-columns-repeated=" + chr(34) + "3" + chr(34))}'
            "</table:table-row>")
    assert [row.extra for row in read_table(ods_bytes(rows)).rows] == [("XFB",)]
