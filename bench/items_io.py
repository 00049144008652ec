"""Bulk items (SHTC-17): reading and writing 10,000-item spreadsheets, against bare readers
and writers of the same files, in the same run.

    .venv/bin/python bench/items_io.py [--rows 10000] [--rounds 5] [--no-libreoffice]

Generates 10,000 rows x 12 columns of SHTC-like items (11-digit tariff codes with leading
zeros, export control numbers, Chinese and English names and specifications, quantities,
units, amounts with cents, currencies, remarks), writes them as .xlsx and .ods with
permits.spreadsheets and, unless --no-libreoffice, has LibreOffice save both again (the
.ods a user's LibreOffice writes, with its repeated rows and styles). Then, alternating the
order every round and taking the median of the rounds:

  read   permits.spreadsheets.read_table over every row, against
         .xlsx: openpyxl in read-only mode (values only), and python-calamine if installed;
         .ods:  a plain streaming reader (ElementTree.iterparse of content.xml, repeated
                cells and rows honoured, elements cleared), and python-calamine if installed
                (odfpy's DOM is left out: about 12 s and 400 MB at this size);
  write  write_xlsx / write_ods of the rows, against openpyxl's write-only mode appending
         the bare values, and odfpy writing the bare cells.

Peak memory (VmHWM, the peak resident set) of each operation is taken in a subprocess of its
own, next to a subprocess that only imports the same modules. Prints times, ratios to each baseline
(goal: read and write within 2x of the fastest bare library) and memory (goal: at most
200 MB). bench/README.md, "Bulk items (items_io.py)", has the figures.
"""

import argparse
import gc
import io
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

import openpyxl  # noqa: E402

from permits.spreadsheets import Column, read_table, write_ods, write_xlsx  # noqa: E402

try:
    import python_calamine
except ImportError:  # the `bench` extra
    python_calamine = None

TITLE = "貨品明細"
UNITS = ("PCE", "SET", "KGM", "MTR", "LTR", "PR", "DZN", "GRM", "TNE", "CTN", "BOX", "ROL")
CURRENCIES = ("TWD", "USD", "EUR", "JPY", "CNY", "HKD", "GBP", "KRW", "SGD", "AUD", "CHF")
COLUMNS = [
    Column("line_no", "項次", True, "number", width=6),
    Column("tariff_code", "稅則號別", True),
    Column("control_no", "出口管制號碼", True),
    Column("description", "貨品名稱", True, width=40),
    Column("spec", "規格型號", False, width=30),
    Column("brand", "廠牌", False),
    Column("quantity", "數量", True, "number"),
    Column("unit", "單位", True, "choice", choices=UNITS, strict=False),
    Column("amount", "金額", True, "number"),
    Column("currency", "幣別", True, "choice", choices=CURRENCIES),
    Column("origin", "生產國別", False),
    Column("remark", "備註", False, width=30),
]
NAMES = ["現場可程式閘陣列", "雷射干涉儀", "五軸工具機用數值控制器", "高速示波器", "碳纖維預浸布",
         "Wafer stepper", "Ion implanter", "Spectrum analyzer, 50 GHz", "晶圓檢測設備",
         "Vacuum pump"]
BRANDS = ["Xilinx", "Renishaw", "發那科", "Keysight", "東麗", "ASML", "Applied Materials"]


def make_rows(count):
    chance = random.Random(17)
    rows = []
    for line in range(1, count + 1):
        rows.append([
            line,
            f"{chance.randrange(10**10):011d}",
            chance.choice(["3B001", "2B001", "5A002", "3A001", "9A012", "EAR99"]),
            f"{chance.choice(NAMES)} 第{chance.randrange(1, 999)}型",
            f"{chance.choice(['XCVU9P', 'XL-80', '31i-B5', 'UXR0594A'])}-"
            f"{chance.randrange(10**6):06d}",
            chance.choice(BRANDS),
            Decimal(chance.randrange(1, 5000)),
            chance.choice(UNITS),
            Decimal(chance.randrange(1, 10**8)) / 100,
            chance.choice(CURRENCIES),
            chance.choice(["TW", "US", "JP", "DE", "NL"]),
            chance.choice(["", "", "含配件", "spare parts included", "退運貨物"]),
        ])
    return rows


# --- The contestants -------------------------------------------------------------------------


def ours_read(path):
    with open(path, "rb") as upload:
        table = read_table(upload, sheet=TITLE)
        count = sum(1 for _row in table.rows)
    return count


def openpyxl_read(path):
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    count = sum(1 for _row in workbook.worksheets[0].iter_rows(min_row=2, values_only=True))
    workbook.close()
    return count


def calamine_read(path):
    with open(path, "rb") as upload:
        workbook = python_calamine.CalamineWorkbook.from_filelike(upload)
        rows = workbook.get_sheet_by_index(0).to_python(skip_empty_area=True)
    return len(rows) - 1


_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"


def iterparse_read(path):
    """The plainest streaming .ods reader: the first table's cells as their text or value,
    repeats honoured (empty repeats not expanded), trailing empty rows dropped."""
    count = 0
    with zipfile.ZipFile(path) as package, package.open("content.xml") as content:
        rows, row, tables = [], [], 0
        for event, element in ElementTree.iterparse(  # noqa: S314 (the run's own file)
                content, events=("start", "end")):
            tag = element.tag
            if event == "start":
                if tag == _TABLE + "table":
                    tables += 1
                continue
            if tables != 1:
                if tag == _TABLE + "table":
                    break
                continue
            if tag == _TABLE + "table-cell" or tag == _TABLE + "covered-table-cell":
                value = element.get(_OFFICE + "value") or "".join(element.itertext())
                repeat = int(element.get(_TABLE + "number-columns-repeated", "1"))
                row.extend([value] * (repeat if value else min(repeat, 1)))
                element.clear()
            elif tag == _TABLE + "table-row":
                if any(row):
                    repeat = int(element.get(_TABLE + "number-rows-repeated", "1"))
                    rows.extend([row] * repeat)
                row = []
                element.clear()
        count = len(rows) - 1
    return count


def ours_write(fmt, rows):
    writer = write_xlsx if fmt == "xlsx" else write_ods
    return writer(COLUMNS, rows, title=TITLE,
                  instructions=["1. 項次", "2. 紅色字體欄為必要填寫欄位"])


def openpyxl_write(rows, columns=COLUMNS):
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(TITLE)
    sheet.append([column.header for column in columns])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def odfpy_write(rows, columns=COLUMNS):
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    table = Table(name=TITLE)
    for values in [[column.header for column in columns], *rows]:
        row = TableRow()
        for value in values:
            if value is None:  # (bench/admin_export.py's rows have empty cells)
                row.addElement(TableCell())
                continue
            if isinstance(value, (int, Decimal)):
                cell = TableCell(valuetype="float", value=str(value))
            else:
                cell = TableCell(valuetype="string")
            cell.addElement(P(text=str(value)))
            row.addElement(cell)
        table.addElement(row)
    document.spreadsheet.addElement(table)
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


# --- Memory, in a process of its own ---------------------------------------------------------


def peak_resident_mb():
    # VmHWM, not getrusage's ru_maxrss: a forked child inherits its parent's ru_maxrss on
    # Linux, so a small child of a large parent would report the parent's peak.
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(operation, path, rows):
    """Run one operation and print this process's peak resident memory in MB."""
    if operation == "read":
        ours_read(path)
    elif operation == "read-openpyxl":
        openpyxl_read(path)
    elif operation == "read-calamine":
        calamine_read(path)
    elif operation == "read-iterparse":
        iterparse_read(path)
    elif operation in ("write-xlsx", "write-ods"):
        ours_write(operation[-4:].lstrip("-"), make_rows(rows))
    elif operation == "write-openpyxl":
        openpyxl_write(make_rows(rows))
    elif operation == "write-odfpy":
        odfpy_write(make_rows(rows))
    elif operation == "rows":
        make_rows(rows)
    elif operation.startswith(("import-", "export-")):
        import_child(operation, path)
    print(peak_resident_mb())


def peak_mb(operation, path="", rows=0):
    result = subprocess.run(  # noqa: S603 (this script, its own arguments)
        [sys.executable, __file__, "--child", operation, "--file", str(path),
         "--rows", str(rows)], capture_output=True, text=True, check=True)
    return float(result.stdout.split()[-1])


# --- Timing ----------------------------------------------------------------------------------


def timed(function, *args):
    """(wall seconds, CPU seconds) of one call. On a shared machine the CPU time is the
    steadier figure: waiting for a core inflates the wall time of whoever waits."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    function(*args)
    return time.perf_counter() - wall, time.process_time() - cpu


def race(contestants, rounds):
    """{name: [(wall, cpu)]} over `rounds` rounds, the order reversed every other round."""
    times = {name: [] for name in contestants}
    names = list(contestants)
    for round_number in range(rounds):
        for name in names if round_number % 2 == 0 else reversed(names):
            times[name].append(timed(*contestants[name]))
    return times


def report(title, times, ours, memory=None):
    """Medians of wall and CPU time, ours against each bare contestant."""
    print(f"\n{title}")
    wall = {name: statistics.median(t[0] for t in values) for name, values in times.items()}
    cpu = {name: statistics.median(t[1] for t in values) for name, values in times.items()}
    for name in times:
        line = (f"  {name:<24} wall {wall[name] * 1000:7.0f} ms  cpu {cpu[name] * 1000:7.0f} ms")
        if name != ours:
            line += (f"  ours / this: wall {wall[ours] / wall[name]:5.2f}x  "
                     f"cpu {cpu[ours] / cpu[name]:5.2f}x")
        else:
            line += " " * 40
        if memory and name in memory:
            line += f"  peak {memory[name]:4.0f} MB"
        print(line)
    # The baseline: the fastest plain reader or writer of the run, whichever it is.
    fastest = min((name for name in times if name != ours), key=cpu.get, default=None)
    if fastest is not None:
        print(f"  ours / the fastest bare contestant ({fastest}): "
              f"cpu {cpu[ours] / cpu[fastest]:.2f}x, wall {wall[ours] / wall[fastest]:.2f}x")


# --- The full import and the export of a case (permits.bulk_items; PostgreSQL) --------------
#
# A 9-1-1 draft of --rows items in a throwaway database (bench_items_io), exported by
# bulk_items.export as .xlsx and .ods; then, in the same run, order alternating:
#   import  read_table + bulk_items.check of the export (every row cleaned by the item form's
#           rules: what the import task does), against the bare readers of the same file;
#   export  bulk_items.export (the items read from the database and written), against the
#           bare library writing the same rows already in memory.
# Goals (issue 13): both within 2x, at most 200 MB.

# The throwaway database (BENCH_ITEMS_IO_DB: a name of one's own when several runs share
# the server).
IMPORT_DB = os.environ.get("BENCH_ITEMS_IO_DB", "bench_items_io")


def import_items(count):
    """SHTC items that pass every rule (the worst case: every cell is cleaned to the end)."""
    from permits.fields import tariff_check_digit

    chance = random.Random(13)
    items = []
    for line in range(1, count + 1):
        first10 = f"{chance.randrange(10**10):010d}"
        quantity = Decimal(chance.randrange(1, 5000))
        price = Decimal(chance.randrange(1, 10**7)) / 100
        items.append({
            "line_no": line, "tariff_code": first10 + str(tariff_check_digit(first10)),
            "description": f"{chance.choice(NAMES)} 第{chance.randrange(1, 999)}型",
            "brand": chance.choice(BRANDS), "model": f"XL-{chance.randrange(10**6):06d}",
            "specification": chance.choice(["", "含配件", "spare parts included"]),
            "control_no": chance.choice(["3B001", "2B001", "5A002.a", "3A001.a", "9A012"]),
            "quantity": quantity, "unit": chance.choice(UNITS[:9]), "unit_price": price,
            "currency": chance.choice(CURRENCIES), "amount": quantity * price,
            "origin_country": chance.choice(["TW", "US", "JP", "DE", "NL"])})
    return items


def import_case(count):
    """The draft of `count` items; returns its pk."""
    from permits import services
    from permits.models import DocumentType, Item
    from portal.accounts.models import IdentifierType, Role, User
    from shtc.models import ShtcApplication

    user = User.objects.create_user("22099131", "bench-items-io", role=Role.APPLICANT,
                                    identifier_type=IdentifierType.BAN, name="安心科技")
    case = services.application_create(document_type=DocumentType.SHTC_EXPORT, applicant=user,
                                       actor=user, items=[], destination_country="US")
    ShtcApplication.objects.create(application=case)
    Item.objects.bulk_create([Item(application=case, **item) for item in import_items(count)],
                             batch_size=2000)
    return case.pk


def _case(pk):
    from permits.models import Application

    return Application.objects.get(pk=pk)


def ours_import(path, pk):
    from permits import bulk_items
    from shtc.entry import APPLICATION

    with open(path, "rb") as upload:
        result = bulk_items.check(APPLICATION, _case(pk), read_table(upload))
    assert not result.errors, result.errors[:5]
    return len(result.rows)


def ours_export(fmt, pk):
    from permits import bulk_items
    from shtc.entry import APPLICATION

    return bulk_items.export(APPLICATION, _case(pk), fmt)[2]


def case_rows(pk):
    """The rows bulk_items.export writes, in memory (what the bare writers are given)."""
    from permits import bulk_items
    from shtc.entry import APPLICATION

    case = _case(pk)
    columns = bulk_items.columns_for(APPLICATION, case)
    return columns, list(bulk_items.export_rows(case, columns))


def import_child(operation, path):
    from django.db import connections
    from django.utils import translation

    connections["default"].settings_dict["NAME"] = os.environ["BENCH_ITEMS_DB"]
    pk = int(os.environ["BENCH_ITEMS_CASE"])
    with translation.override("zh-hant"):
        if operation.startswith("import-"):
            ours_import(path, pk)
        else:
            ours_export(operation[-4:].lstrip("-"), pk)


def import_peak_mb(operation, path, pk, database):
    result = subprocess.run(  # noqa: S603 (this script, its own arguments)
        [sys.executable, __file__, "--child", operation, "--file", str(path)],
        capture_output=True, text=True, check=True,
        env={**os.environ, "BENCH_ITEMS_DB": database, "BENCH_ITEMS_CASE": str(pk)})
    return float(result.stdout.split()[-1])


def bench_import(args, folder):
    from django.db import connection
    from django.utils import translation

    connection.settings_dict.setdefault("TEST", {})["NAME"] = IMPORT_DB
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        with translation.override("zh-hant"):
            pk = import_case(args.rows)
            files = {}
            for fmt in ("xlsx", "ods"):
                files[fmt] = folder / f"case.{fmt}"
                files[fmt].write_bytes(ours_export(fmt, pk))
            print(f"\nA 9-1-1 draft of {args.rows:,} items ({connection.vendor}), exported by "
                  "bulk_items.export: " + ", ".join(
                      f".{fmt} {path.stat().st_size / 1024:,.0f} KB"
                      for fmt, path in files.items()))
            database = connection.settings_dict["NAME"]
            for fmt, path in files.items():
                name = "read_table + check"
                contestants = {name: (ours_import, path, pk)}
                memory = {name: import_peak_mb(f"import-{fmt}", path, pk, database)}
                if fmt == "xlsx":
                    contestants["openpyxl read-only"] = (openpyxl_read, path)
                    memory["openpyxl read-only"] = peak_mb("read-openpyxl", path)
                else:
                    contestants["ElementTree.iterparse"] = (iterparse_read, path)
                    memory["ElementTree.iterparse"] = peak_mb("read-iterparse", path)
                if python_calamine is not None:
                    contestants["python-calamine"] = (calamine_read, path)
                    memory["python-calamine"] = peak_mb("read-calamine", path)
                report(f"import (read + check), .{fmt} of the case",
                       race(contestants, args.rounds), name, memory)
            columns, rows = case_rows(pk)
            for fmt, bare_name in (("xlsx", "openpyxl write-only"), ("ods", "odfpy")):
                name = f"bulk_items.export .{fmt}"
                contestants = {name: (ours_export, fmt, pk),
                               bare_name: ((openpyxl_write, rows, columns) if fmt == "xlsx"
                                           else (odfpy_write, rows))}
                memory = {name: import_peak_mb(f"export-{fmt}", "", pk, database)}
                rounds = args.rounds if fmt == "xlsx" else max(1, args.rounds // 2)
                report(f"export of the case, .{fmt}", race(contestants, rounds), name, memory)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-libreoffice", action="store_true")
    parser.add_argument("--no-import", action="store_true",
                        help="skip the full import and the export of a case (PostgreSQL)")
    parser.add_argument("--child")
    parser.add_argument("--file", default="")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.file, args.rows)
        return

    folder = Path(tempfile.mkdtemp(prefix="items_io_"))
    try:
        rows = make_rows(args.rows)
        files = {}
        for fmt in ("xlsx", "ods"):
            files[f"portal .{fmt}"] = folder / f"items.{fmt}"
            files[f"portal .{fmt}"].write_bytes(ours_write(fmt, rows))
        if not args.no_libreoffice and shutil.which("soffice"):
            for fmt in ("xlsx", "ods"):
                # The other format's export, saved by LibreOffice in this one.
                source = files[f"portal .{'ods' if fmt == 'xlsx' else 'xlsx'}"]
                subprocess.run(  # noqa: S603 (LibreOffice on this run's own files)
                    ["soffice", f"-env:UserInstallation=file://{folder}/profile", "--headless",  # noqa: S607
                     "--convert-to", fmt, "--outdir", str(folder / "lo"), str(source)],
                    capture_output=True, check=True, timeout=600)
                files[f"LibreOffice .{fmt}"] = folder / "lo" / f"items.{fmt}"
        print(f"{args.rows:,} rows x {len(COLUMNS)} columns; {args.rounds} rounds, "
              f"order alternating; medians")
        for label, path in files.items():
            print(f"  {label}: {path.stat().st_size / 1024:,.0f} KB")
        base = peak_mb("rows", rows=0)
        print(f"  a process that only imports Django, openpyxl and the reader: {base:.0f} MB")

        for label, path in files.items():
            fmt = path.suffix[1:]
            contestants = {"read_table": (ours_read, path)}
            operations = {"read_table": "read"}
            if fmt == "xlsx":
                contestants["openpyxl read-only"] = (openpyxl_read, path)
                operations["openpyxl read-only"] = "read-openpyxl"
            else:
                contestants["ElementTree.iterparse"] = (iterparse_read, path)
                operations["ElementTree.iterparse"] = "read-iterparse"
            if python_calamine is not None:
                contestants["python-calamine"] = (calamine_read, path)
                operations["python-calamine"] = "read-calamine"
            counts = {name: contestant[0](*contestant[1:])
                      for name, contestant in contestants.items()}
            assert set(counts.values()) == {args.rows}, counts  # everyone read every row
            memory = {name: peak_mb(operation, path) for name, operation in operations.items()}
            report(f"read, {label}", race(contestants, args.rounds), "read_table", memory)

        for fmt, bare, bare_name in (("xlsx", openpyxl_write, "openpyxl write-only"),
                                     ("ods", odfpy_write, "odfpy")):
            contestants = {f"write_{fmt}": (ours_write, fmt, rows), bare_name: (bare, rows)}
            rounds = args.rounds if fmt == "xlsx" else max(1, args.rounds // 2)
            memory = {f"write_{fmt}": peak_mb(f"write-{fmt}", rows=args.rows),
                      bare_name: peak_mb("write-openpyxl" if fmt == "xlsx" else "write-odfpy",
                                         rows=args.rows)}
            report(f"write .{fmt}", race(contestants, rounds), f"write_{fmt}", memory)
        if not args.no_import:
            bench_import(args, folder)
        print(f"\n(peak memory of a process generating the rows only: "
              f"{peak_mb('rows', rows=args.rows):.0f} MB)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
