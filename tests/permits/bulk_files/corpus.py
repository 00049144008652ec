"""The corpus of bad item files (SHTC-17: "a bad file is refused with every bad cell named"):
each case edits, with openpyxl as a user's Excel would, the portal's own export of the
three items of tests/permits/test_bulk_items.py (`BASE`, in English), and lists the exact
cells the refusal must name: (row, column header, error code). The tests write each file,
also as LibreOffice saves it in .ods (soffice --convert-to), and compare.

    .venv/bin/python -m tests.permits.bulk_files.corpus OUT_DIR

writes the files (with a 3-item export made without a database) to look at them."""

from openpyxl.styles import Font

# The export's columns (English headers) and their letters.
HEADERS = ["Item no.", "Goods name", "Brand", "Model / serial", "Specification", "Quantity",
           "Unit", "Unit price", "Currency", "Amount", "Tariff code", "Export control number",
           "Origin country"]
LETTER = {header: chr(ord("A") + index) for index, header in enumerate(HEADERS)}


def put(sheet, row, header, value):
    sheet[f"{LETTER[header]}{row}"] = value


def bad_cells(sheet):
    """One bad cell of each kind the item form refuses, spread over the three rows."""
    put(sheet, 2, "Goods name", None)
    put(sheet, 2, "Quantity", "1,005")
    put(sheet, 2, "Unit", "PC S")
    put(sheet, 2, "Tariff code", "8542.31.00.00-3")
    put(sheet, 3, "Quantity", 0)
    put(sheet, 3, "Unit price", -1)
    put(sheet, 3, "Currency", "XXX")
    put(sheet, 3, "Tariff code", 1012100000)  # a code typed as a number: its 0 is gone
    put(sheet, 3, "Export control number", "5A002.a.1")
    put(sheet, 4, "Item no.", 7)
    put(sheet, 4, "Goods name", "x" * 391)
    put(sheet, 4, "Brand", "b" * 201)
    put(sheet, 4, "Quantity", "1.12345")
    put(sheet, 4, "Origin country", "ZZ")


BAD_CELLS = [
    (2, "Goods name", "required"), (2, "Quantity", "thousands_separator"),
    (2, "Unit", "unit_format"), (2, "Tariff code", "tariff_format"),
    (3, "Quantity", "not_positive"), (3, "Unit price", "negative"),
    (3, "Currency", "invalid_choice"), (3, "Tariff code", "tariff_leading_zero"),
    (3, "Export control number", "control_no_format"),
    (4, "Item no.", "line_no"), (4, "Goods name", "max_length"), (4, "Brand", "max_length"),
    (4, "Quantity", "max_decimal_places"), (4, "Origin country", "invalid_choice"),
]


def formula(sheet):
    """A formula openpyxl writes without a computed value, and an error value."""
    put(sheet, 3, "Quantity", "=A3*2")
    sheet[f"{LETTER['Amount']}4"] = "#DIV/0!"  # openpyxl stores it as an error value


def merged(sheet):
    """A goods name merged across the brand cell (which held a brand)."""
    put(sheet, 3, "Brand", "Xilinx")
    sheet.merge_cells(f"{LETTER['Goods name']}3:{LETTER['Brand']}3")


def hidden(sheet):
    sheet.row_dimensions[3].hidden = True


def columns(sheet):
    """A column added (with data), a required column's header renamed away, a column
    twice."""
    put(sheet, 1, "Origin country", "Origin country")
    sheet["N1"] = "Remarks"
    sheet["N2"] = "urgent"
    put(sheet, 1, "Unit", "Units of measure")
    put(sheet, 1, "Model / serial", "Brand")


def no_header(sheet):
    """Data beyond the headers, in a column with no header."""
    sheet["P3"] = "see attached"
    sheet["P3"].font = Font(bold=True)


def numbering(sheet):
    """項次 1, 3, 3: named where the run breaks (row 3: 2 expected; row 4: 4 expected)."""
    put(sheet, 3, "Item no.", 3)
    put(sheet, 4, "Item no.", 3)


# (name, edit, the cells named, the formats it holds in: LibreOffice computes formulas)
CASES = [
    ("bad_cells", bad_cells, BAD_CELLS, ("xlsx", "ods")),
    ("formula", formula, [(3, "Quantity", "cell_problem"), (4, "Amount", "cell_problem")],
     ("xlsx",)),
    ("merged", merged, [(3, "Brand", "cell_problem")], ("xlsx", "ods")),
    ("hidden", hidden, [(3, "Item no.", "hidden_row")], ("xlsx", "ods")),
    ("columns", columns, [(1, "Units of measure", "column_unknown"),
                          (1, "Brand", "column_twice"), (1, "Remarks", "column_unknown"),
                          (1, "Unit", "column_missing")], ("xlsx", "ods")),
    ("no_header", no_header, [(3, "P", "no_header")], ("xlsx", "ods")),
    ("numbering", numbering, [(3, "Item no.", "line_no"), (4, "Item no.", "line_no")],
     ("xlsx", "ods")),
]


def edited(exported, edit):
    """The .xlsx bytes of `exported` (the portal's .xlsx) after `edit(sheet)`."""
    import io

    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(exported))
    edit(workbook.worksheets[0])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


if __name__ == "__main__":
    import os
    import sys
    from decimal import Decimal
    from pathlib import Path

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from permits.spreadsheets import Column, write_xlsx

    folder = Path(sys.argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    base = write_xlsx([Column(str(index), header, True) for index, header in enumerate(HEADERS)],
                      [[line, "Field programmable gate array", "", "", "", Decimal(10), "PCE",
                        Decimal(1500), "USD", Decimal(15000), "85423100003", "3A001.a", "TW"]
                       for line in (1, 2, 3)], title="Goods items", instructions=[])
    for name, edit, _cells, _formats in CASES:
        (folder / f"{name}.xlsx").write_bytes(edited(base, edit))
