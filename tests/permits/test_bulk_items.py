"""Goods items as a spreadsheet and back (SHTC-17; permits.bulk_items), on 9-1-1 drafts
(shtc.entry.APPLICATION, the entry whose items a new SHTC case has): the columns and the
export, round trips through .xlsx and .ods (also as LibreOffice saves them), the corpus of
bad files (tests/permits/bulk_files/corpus.py) with the exact cells each refusal names, the
decisions on real files (full-width characters, numbers as text, lost leading zeros, hidden
rows, merged cells, blank rows, columns moved or renamed), the agreement of the bulk check
with the item form on a corpus of rows, the queries it makes, and replace_items. The rules
of changes, 9-2-2 and balance re-issues are tests/shtc/test_bulk_items.py's."""

import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from openpyxl import load_workbook

from permits import bulk_items, entry, services, workflow
from permits.fields import reference_rows_forget
from permits.models import Currency, DocumentType, Item, Status
from permits.spreadsheets import Cell, Row, Table, read_table
from shtc.entry import APPLICATION
from shtc.forms import ShtcItemForm
from shtc.models import ShtcApplication
from tests.permits.bulk_files import corpus
from tests.permits.test_spreadsheets import LibreOffice
from tests.shtc.review_cases import ITEM

pytestmark = pytest.mark.django_db

HEADERS = corpus.HEADERS
KEYS = ["line_no", "description", "brand", "model", "specification", "quantity", "unit",
        "unit_price", "currency", "amount", "tariff_code", "control_no", "origin_country"]
BASE = [dict(ITEM, quantity=str(quantity)) for quantity in (10, 20, 30)]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def draft(applicant):
    """A 9-1-1 draft of `applicant` with `items` (default: BASE's three)."""

    def make(items=None, *, actor=None):
        case = services.application_create(
            document_type=DocumentType.SHTC_EXPORT, applicant=applicant,
            actor=actor or applicant, destination_country="US",
            items=[dict(item) for item in (BASE if items is None else items)])
        ShtcApplication.objects.create(application=case)
        return case

    return make


def exported(case, fmt="xlsx", entry_=APPLICATION):
    return bulk_items.export(entry_, case, fmt)[2]


def checked(case, content, entry_=APPLICATION, **kwargs):
    return bulk_items.check(entry_, case, read_table(io.BytesIO(content)), **kwargs)


def named(result):
    """The cells a refusal names: (row, column, code), in its order."""
    return [(error.row, error.column, error.code) for error in result.errors]


def edit(content, change):
    return corpus.edited(content, change)


def table(rows, headers=HEADERS, hidden=()):
    """A Table as read_table gives it, from lists of cell texts (rows 2, 3...)."""
    return Table(format="xlsx", sheet="Goods items", headers=list(headers), rows=iter(
        [Row(number, tuple(Cell(str(value)) for value in values), number in hidden)
         for number, values in enumerate(rows, start=2)]))


def row_of(line, **values):
    data = {**ITEM, "brand": "", "model": "", "specification": "", "amount": "", **values}
    return [str(line), *[data[key] for key in KEYS[1:]]]


def stored(case):
    return [entry.item_data(item) for item in case.items.order_by("line_no")]


# --- the columns and the export -------------------------------------------------------------


def test_it_makes_the_item_forms_fields_the_columns_in_its_order(draft):
    columns = bulk_items.columns_for(APPLICATION, draft())
    assert [column.key for column in columns] == ["line_no", *ShtcItemForm().fields]
    assert [column.header for column in columns] == HEADERS
    required = {column.key for column in columns if column.required}
    assert required == {"line_no", "description", "quantity", "unit", "unit_price",
                        "currency", "tariff_code", "control_no", "origin_country"}
    kinds = {column.key: column.kind for column in columns}
    assert kinds["tariff_code"] == kinds["control_no"] == "text"
    assert kinds["quantity"] == kinds["amount"] == "number"
    choices = {column.key: column.choices for column in columns if column.kind == "choice"}
    assert set(choices) == {"unit", "currency", "origin_country"}
    assert "USD" in choices["currency"] and "TW" in choices["origin_country"]
    assert choices["unit"][:2] == ("PCE", "SET")
    # Any unit code of 1 to 10 letters or digits is taken: its list only suggests.
    strict = {column.key for column in columns if column.kind == "choice" and column.strict}
    assert strict == {"currency", "origin_country"}


def test_it_adds_the_cases_own_units_to_the_drop_down(draft):
    case = draft([dict(ITEM, unit="CTN")])
    unit = next(c for c in bulk_items.columns_for(APPLICATION, case) if c.key == "unit")
    assert unit.choices[-1] == "CTN"


def test_it_writes_the_manuals_instructions_with_the_limits():
    lines = bulk_items.instructions()
    assert [line.split(". ")[0] for line in lines] == [str(n) for n in range(1, 9)]
    text = "\n".join(lines)
    for words in ("1, 2, 3", "Inc.", "11 digits", "5A002.a", "red header", "10,000",
                  "whole rows or columns", "20.0"):
        assert words in text


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_it_exports_the_items_and_reads_them_back_unchanged(draft, fmt):
    case = draft([dict(ITEM, tariff_code="01012100001", quantity="100.55",
                       specification="two\nlines", brand="東麗"), *BASE[1:]])
    filename, content_type, content = bulk_items.export(APPLICATION, case, fmt)
    assert filename == f"goods-items-{case.pk}.{fmt}"
    assert content_type == bulk_items.CONTENT_TYPES[fmt]
    table_ = read_table(io.BytesIO(content))
    assert table_.headers == HEADERS
    result = bulk_items.check(APPLICATION, case, table_)
    assert result.errors == []
    assert (result.added, result.changed, result.unchanged, result.removed) == (0, 0, 3, 0)
    assert result.rows[0]["tariff_code"] == "01012100001"
    assert result.rows[0]["quantity"] == "100.55"
    assert result.rows[0]["specification"] == "two\nlines"
    assert result.fingerprint == bulk_items.fingerprint(case)


def test_it_exports_an_empty_template_for_a_case_without_items(draft, applicant):
    case = draft()
    case.items.all().delete()
    content = exported(case)
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    assert [cell.value for cell in sheet[1]] == HEADERS
    assert sheet.max_row == 1
    result = checked(case, content)
    assert named(result) == [(None, "Item no.", "no_items")]


def test_it_imports_an_edited_file_and_counts_what_changed(draft, applicant):
    case = draft()

    def change(sheet):
        sheet["F3"] = 25  # item 2's quantity
        sheet.append([4, "Radiation hardened SRAM", None, None, None, 5, "PCE", 200, "USD",
                      None, "85423200001", "3A001.a", "US"])

    result = checked(case, edit(exported(case), change))
    assert result.errors == []
    assert (result.added, result.changed, result.unchanged, result.removed) == (1, 1, 2, 0)
    bulk_items.replace_items(entry=APPLICATION, application=case, actor=applicant,
                             rows=result.rows, expected=result.fingerprint)
    items = list(case.items.order_by("line_no"))
    assert [item.line_no for item in items] == [1, 2, 3, 4]
    # The amount column kept its amount, as the item page keeps a typed one.
    assert items[1].quantity == 25 and items[1].amount == Decimal("30000")
    assert items[3].amount == Decimal("1000")  # left empty: quantity × unit price
    assert items[3].source_line_no is None


def test_it_counts_rows_left_out_as_removed(draft, applicant):
    case = draft()

    def shorten(sheet):
        sheet.delete_rows(4)

    result = checked(case, edit(exported(case), shorten))
    assert result.errors == []
    assert (result.changed, result.unchanged, result.removed) == (0, 2, 1)
    bulk_items.replace_items(entry=APPLICATION, application=case, actor=applicant,
                             rows=result.rows, expected=result.fingerprint)
    assert case.items.count() == 2


# --- the corpus of bad files ----------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_files(django_db_setup, django_db_blocker, tmp_path_factory):
    """{(case name, format): bytes}: each corpus case as openpyxl saves it (.xlsx) and as
    LibreOffice saves that file (.ods), from the export of BASE. The .ods are made by one
    soffice run (None when LibreOffice is missing: those tests skip, or fail under
    --require-services)."""
    from portal.accounts.models import IdentifierType, Role, User

    with django_db_blocker.unblock(), translation.override("en"):
        from django.db import transaction

        with transaction.atomic():
            user = User.objects.create_user("53212539", "x-correct-horse", role=Role.APPLICANT,
                                            identifier_type=IdentifierType.BAN, name="公司")
            case = services.application_create(
                document_type=DocumentType.SHTC_EXPORT, applicant=user, actor=user,
                items=[dict(item) for item in BASE], destination_country="US")
            base = exported(case)
            transaction.set_rollback(True)
    files = {(name, "xlsx"): corpus.edited(base, change) for name, change, *_ in corpus.CASES}
    root = tmp_path_factory.mktemp("bulk_corpus")
    sources = root / "sources"
    sources.mkdir()
    for (name, _fmt), content in files.items():
        (sources / f"{name}.xlsx").write_bytes(content)
    import shutil

    if shutil.which("soffice"):
        out = LibreOffice(root).convert(sorted(sources.iterdir()), "ods", "ods")
        for name, *_ in corpus.CASES:
            files[(name, "ods")] = (out / f"{name}.ods").read_bytes()
    return files


@pytest.mark.parametrize("name,fmt", [(name, fmt) for name, _edit, _cells, formats
                                      in corpus.CASES for fmt in formats])
def test_it_names_exactly_the_bad_cells_of_each_corpus_file(draft, corpus_files, name, fmt):
    if (name, fmt) not in corpus_files:
        from tests import services as test_services

        test_services.require_program("soffice", "libreoffice-calc-nogui")
    expected = next(cells for case_name, _edit, cells, _formats in corpus.CASES
                    if case_name == name)
    case = draft()
    result = checked(case, corpus_files[(name, fmt)])
    assert sorted(named(result)) == sorted(expected)
    assert result.rows == []
    assert all(error.sheet == "Goods items" and error.message for error in result.errors)


def test_it_says_why_in_the_manuals_words_and_shows_the_value(draft, corpus_files):
    result = checked(draft(), corpus_files[("bad_cells", "xlsx")])
    by_cell = {(error.row, error.column): error for error in result.errors}
    tariff = by_cell[(2, "Tariff code")]
    assert tariff.value == "8542.31.00.00-3" and "11 digits" in tariff.message
    zero = by_cell[(3, "Tariff code")]
    assert zero.value == "1012100000" and "01012100000" in zero.message
    assert "red header" in by_cell[(2, "Goods name")].message
    assert "at most 7 characters" in by_cell[(3, "Export control number")].message
    assert by_cell[(4, "Item no.")].message.startswith("Number the items 1, 2, 3")
    assert "3 is expected" in by_cell[(4, "Item no.")].message
    assert len(by_cell[(4, "Goods name")].value) == bulk_items.SHOWN_MAX + 1  # cut, with …


def test_it_imports_nothing_from_a_refused_file(draft, corpus_files):
    case = draft()
    before = stored(case)
    result = checked(case, corpus_files[("bad_cells", "xlsx")])
    assert result.errors and result.rows == []
    assert stored(case) == before


# --- real files: decided and tested ---------------------------------------------------------


def test_it_reads_full_width_digits_and_letters_in_codes_and_numbers(draft):
    rows = [row_of(1, quantity="１２．５", unit="ｐｃｅ", currency="ＵＳＤ",
                   tariff_code="８５４２３１００００３", control_no="３Ａ００１．ａ",
                   origin_country="ｔｗ", description="Ｆｕｌｌ　ｗｉｄｔｈ")]
    result = bulk_items.check(APPLICATION, draft(), table([["１", *rows[0][1:]]]))
    assert result.errors == []
    row = result.rows[0]
    assert (row["quantity"], row["unit"], row["currency"], row["tariff_code"],
            row["control_no"], row["origin_country"]) == (
        "12.5", "PCE", "USD", "85423100003", "3A001.a", "TW")
    assert row["description"] == "Ｆｕｌｌ　ｗｉｄｔｈ"  # free text keeps what was typed


def test_it_refuses_what_nfkc_would_read_as_digits_as_the_item_page_does(draft):
    result = bulk_items.check(APPLICATION, draft(), table([row_of(1, quantity="①"),
                                                           row_of(2, quantity="1²")]))
    assert named(result) == [(2, "Quantity", "invalid"), (3, "Quantity", "invalid")]


def test_it_reads_numbers_typed_as_text_and_stored_as_floats(draft):
    def change(sheet):
        sheet["F2"] = "100.55"  # text
        sheet["F3"] = 100.55000000000001  # a float the way a spreadsheet computed it
        sheet["H4"] = "1500.5"

    result = checked(draft(), edit(exported(draft()), change))
    assert result.errors == []
    assert [row["quantity"] for row in result.rows] == ["100.55", "100.55", "30"]
    assert result.rows[2]["unit_price"] == "1500.5"


def test_it_skips_blank_rows_inside_the_data(draft):
    def change(sheet):
        sheet.insert_rows(3, amount=2)

    case = draft()
    result = checked(case, edit(exported(case), change))
    assert result.errors == []
    assert [row["line_no"] for row in result.rows] == [1, 2, 3]
    assert result.unchanged == 3


def test_it_reads_columns_by_their_header_in_any_order_and_either_language(draft):
    case = draft()
    headers = ["數量", "項次", *HEADERS[1:5], *HEADERS[6:]]
    rows = [[row[5], *row[:5], *row[6:]] for row in
            [row_of(line, quantity=str(quantity)) for line, quantity in ((1, 10), (2, 20),
                                                                            (3, 30))]]
    result = bulk_items.check(APPLICATION, case, table(rows, headers=headers))
    assert result.errors == []
    assert [row["quantity"] for row in result.rows] == ["10", "20", "30"]


def test_it_reads_a_missing_optional_column_as_empty(draft):
    headers = [header for header in HEADERS if header != "Brand"]
    rows = [[value for key, value in zip(KEYS, row_of(1, brand="x"), strict=True)
             if key != "brand"]]
    result = bulk_items.check(APPLICATION, draft(), table(rows, headers=headers))
    assert result.errors == [] and result.rows[0]["brand"] == ""


def test_it_names_a_control_character_visibly(draft):
    result = bulk_items.check(APPLICATION, draft(), table([row_of(1, brand="A\x00B"),
                                                           row_of(2, model="tab\x1bx")]))
    assert [(error.column, error.code, error.value) for error in result.errors] == [
        ("Brand", "null_characters_not_allowed", "A\\x00B"),
        ("Model / serial", "control_characters", "tab\\x1bx")]


def test_it_refuses_more_than_max_items(draft, monkeypatch):
    monkeypatch.setattr(bulk_items, "MAX_ITEMS", 3)
    result = bulk_items.check(APPLICATION, draft(), table([row_of(n) for n in range(1, 6)]))
    assert named(result) == [(5, "Item no.", "too_many")]
    assert "at most 3 items" in result.errors[0].message


def test_it_refuses_a_hidden_row_but_not_a_hidden_empty_one(draft):
    rows = [row_of(1), [""] * len(HEADERS), row_of(2)]
    result = bulk_items.check(APPLICATION, draft(), table(rows, hidden={3}))
    assert result.errors == []
    result = bulk_items.check(APPLICATION, draft(), table(rows, hidden={4}))
    assert named(result) == [(4, "Item no.", "hidden_row")]


def test_it_gives_a_tariff_check_digit_as_a_warning_only(draft):
    result = bulk_items.check(APPLICATION, draft(), table([row_of(1, tariff_code="85423100004")]))
    assert result.errors == [] and result.rows
    assert [(w.row, w.column, w.code) for w in result.warnings] == [
        (2, "Tariff code", "tariff_check_digit")]


def test_it_calls_progress_as_it_checks(draft, monkeypatch):
    monkeypatch.setattr(bulk_items, "PROGRESS_EVERY", 2)
    calls = []
    bulk_items.check(APPLICATION, draft(), table([row_of(n) for n in range(1, 6)]),
                     progress=calls.append)
    assert calls == [2, 4, 5]


# --- the same rules as the item form --------------------------------------------------------

# Values of each column, good and bad, as a user types them (the item form's corpus).
VALUES = {
    "description": ["", " ", "x" * 390, "x" * 391, "a\x00b", "tab\there", "\u202eevil",
                    "Ｆｕｌｌ"],
    "brand": ["", "b" * 200, "b" * 201, "\x01"],
    "model": ["m" * 201, "XCVU9P"],
    "specification": ["line1\nline2", "s" * 2000, "s" * 2001],
    "quantity": ["", "0", "-1", "1,005", "１０", "0.5", ".5", "05", "1e3", "1234567890",
                 "123456789", "1.12345", "1.12340", "abc", "1 005", "100.55", "\x00"],
    "unit": ["", "pce", "ＰＣＥ", "PC S", "ABCDEFGHIJK", "個"],
    "unit_price": ["", "0", "-1", "12345678901234", "1,500", "1500.5"],
    "currency": ["", "usd", "ＵＳＤ", "XXX", "US", "OLD"],
    "amount": ["", "0", "-5", "1234567890123456", "15000"],
    "tariff_code": ["", "８５４２３１００００３", "8542310000", "854231000031",
                    "8542 3100003", "85423100004"],
    "control_no": ["", "5a002.A", "3B001", "5A002.a.1", "ML8", "ML23", "XYZ"],
    "origin_country": ["", "tw", "ZZ", "ＴＷ"],
}


def corpus_rows():
    rows = []
    for key, values in VALUES.items():
        for value in values:
            rows.append({**ITEM, "brand": "", "model": "",
                         "specification": "", "amount": "", key: value})
    rows.append({**ITEM, "quantity": "999999999", "unit_price": "9999999999999"})
    return rows


def test_it_agrees_with_the_item_form_on_every_row_of_the_corpus(draft):
    Currency.objects.create(code="OLD", name_zh="舊幣", name_en="Old", active=False)
    rows = corpus_rows()
    result = bulk_items.check(APPLICATION, draft([]), table(
        [[str(line), *[row.get(key, "") for key in KEYS[1:]]]
         for line, row in enumerate(rows, start=1)]))
    by_header = dict(zip(HEADERS, KEYS, strict=True))
    # The file's name for a 10-digit code (its leading 0 lost) is the form's tariff_format.
    same = {"tariff_leading_zero": "tariff_format"}
    bulk = {}
    for error in result.errors:
        bulk.setdefault(error.row - 1, set()).add((by_header[error.column],
                                                   same.get(error.code, error.code)))
    disagreements = []
    for line, row in enumerate(rows, start=1):
        form = ShtcItemForm(data=row)
        form.is_valid()
        expected = {(name, error.code) for name, errors in form.errors.as_data().items()
                    for error in errors}
        if bulk.get(line, set()) != expected:
            disagreements.append((row, sorted(bulk.get(line, set())), sorted(expected)))
    assert disagreements == []
    assert len(result.errors) > 40  # the corpus is mostly bad


def test_it_refuses_the_display_form_of_a_tariff_code_that_the_item_page_takes(draft):
    # 填寫說明 3: 11 digits, nothing else (the one rule the file adds to the item form).
    row = {**ITEM, "tariff_code": "8542.31.00.00-3"}
    assert ShtcItemForm(data=row).is_valid()
    result = bulk_items.check(APPLICATION, draft(), table([row_of(1, **row)]))
    assert named(result) == [(2, "Tariff code", "tariff_format")]


def test_it_checks_any_number_of_rows_in_the_same_queries(draft):
    counts = []
    for size in (5, 100):
        case = draft([dict(ITEM, quantity=str(n + 1)) for n in range(size)])
        content = exported(case)
        reference_rows_forget()
        with CaptureQueriesContext(connection) as queries:
            result = checked(case, content)
        assert result.errors == [] and result.unchanged == size
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 6, counts


# --- replace_items --------------------------------------------------------------------------


def prepared(draft, change=None):
    case = draft()
    content = exported(case)
    return case, checked(case, edit(content, change) if change else content)


def test_it_refuses_to_import_onto_items_changed_since_the_check(draft, applicant):
    case, result = prepared(draft)
    Item.objects.filter(application=case, line_no=2).update(quantity=21)
    before = stored(case)
    with pytest.raises(ValidationError) as refused:
        bulk_items.replace_items(entry=APPLICATION, application=case, actor=applicant,
                                 rows=result.rows, expected=result.fingerprint)
    assert refused.value.code == "items_changed"
    assert stored(case) == before


def test_it_refuses_to_import_into_a_case_filed_meanwhile(draft, applicant):
    case, result = prepared(draft)
    workflow.transition(application=case, to=Status.REGISTERED, actor=applicant)
    with pytest.raises(entry.AlreadySubmitted):
        bulk_items.replace_items(entry=APPLICATION, application=case, actor=applicant,
                                 rows=result.rows, expected=result.fingerprint)


def test_it_refuses_another_users_import(draft, other_applicant):
    case, result = prepared(draft)
    with pytest.raises(PermissionDenied):
        bulk_items.replace_items(entry=APPLICATION, application=case, actor=other_applicant,
                                 rows=result.rows, expected=result.fingerprint)


def test_it_checks_the_rows_again_at_the_import(draft, applicant):
    # A currency withdrawn between the check and 確認: nothing is imported.
    case, result = prepared(draft, lambda sheet: sheet.__setitem__("I3", "EUR"))
    assert result.errors == []
    Currency.objects.filter(pk="EUR").update(active=False)
    before = stored(case)
    with pytest.raises(bulk_items.RowsRefused) as refused:
        bulk_items.replace_items(entry=APPLICATION, application=case, actor=applicant,
                                 rows=result.rows, expected=result.fingerprint)
    assert [(e.line_no, e.column, e.code) for e in refused.value.cell_errors] == [
        (2, "Currency", "invalid_choice")]
    assert refused.value.messages[0].startswith("Item 2, Currency: ")
    assert stored(case) == before


def test_it_refuses_rows_tampered_with_after_the_check(draft, applicant):
    case, result = prepared(draft)
    rows = [dict(row) for row in result.rows]
    rows[0]["quantity"] = "0"
    with pytest.raises(bulk_items.RowsRefused):
        bulk_items.replace_items(entry=APPLICATION, application=case, actor=applicant,
                                 rows=rows, expected=result.fingerprint)


def test_it_lets_the_agent_filing_the_draft_import(draft, agent):
    case = draft(actor=agent)
    result = checked(case, edit(exported(case), lambda sheet: sheet.__setitem__("F2", 11)))
    bulk_items.replace_items(entry=APPLICATION, application=case, actor=agent,
                             rows=result.rows, expected=result.fingerprint)
    assert case.items.get(line_no=1).quantity == 11


# --- LibreOffice ----------------------------------------------------------------------------


@pytest.mark.parametrize("source,target", [("xlsx", "ods"), ("ods", "xlsx")])
def test_it_imports_the_export_as_libreoffice_saves_it(draft, tmp_path, source, target):
    from tests import services as test_services

    test_services.require_program("soffice", "libreoffice-calc-nogui")
    case = draft([dict(ITEM, tariff_code="01012100001", quantity="0.5"), *BASE[1:]])
    (tmp_path / f"items.{source}").write_bytes(exported(case, source))
    out = LibreOffice(tmp_path).convert([tmp_path / f"items.{source}"], target, "out")
    result = checked(case, (out / f"items.{target}").read_bytes())
    assert result.errors == []
    assert result.unchanged == 3



@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_imports_one_of_two_files_confirmed_at_once(draft, applicant):
    """Two checked files of one draft confirmed at once (two tabs): the case's row lock
    lets one replace the items; the other then finds them changed and imports nothing."""
    from tests import services as test_services

    test_services.require_postgres()
    test_services.seed_reference_data()
    case = draft()
    content = exported(case)
    results = [checked(case, edit(content, lambda sheet, q=q: sheet.__setitem__("F2", q)))
               for q in (11, 12)]
    assert results[0].fingerprint == results[1].fingerprint

    def confirm(result):
        def run():
            try:
                bulk_items.replace_items(entry=APPLICATION, application=case, actor=applicant,
                                         rows=result.rows, expected=result.fingerprint)
            except ValidationError as error:
                return error.code
            return "imported"
        return run

    outcome = test_services.run_concurrently(*[confirm(result) for result in results])
    assert sorted(outcome) == ["imported", "items_changed"]
    winner = results[outcome.index("imported")]
    assert [item.line_no for item in case.items.order_by("line_no")] == [1, 2, 3]
    assert case.items.get(line_no=1).quantity == Decimal(winner.rows[0]["quantity"])
