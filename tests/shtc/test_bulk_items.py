"""SHTC-17 on the SHTC cases whose items are bound to something else (permits.bulk_items):
a change of an issued permit keeps the exported shape (the manual §4.1: only the cells'
contents change, never whole rows or columns), a 9-2-2 application changes only 數量, 單位,
金額 and 幣別 of its assurance's items, the quantity never above the assurance's, and a
balance re-issue only lowers its quantities; each import keeps every item's 原項次. The
file rules every case shares are tests/permits/test_bulk_items.py's."""

import io
from decimal import Decimal

import pytest
from django.utils import translation

from permits import bulk_items, changes, entry
from permits.models import Kind, Status
from permits.spreadsheets import read_table
from shtc import iran_filing
from shtc.changes import CHANGE
from shtc.entry import APPLICATION
from shtc.iran_filing import IRAN_APPLICATION
from tests.permits.bulk_files.corpus import edited
from tests.shtc.iran_cases import ITEMS, iran_assurance
from tests.shtc.review_cases import ITEM

pytestmark = pytest.mark.django_db

SECOND = {**ITEM, "description": "Radiation hardened SRAM", "quantity": "5",
          "unit_price": "200", "tariff_code": "85423200001"}


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def exported(entry_, case):
    return bulk_items.export(entry_, case, "xlsx")[2]


def checked(entry_, case, content):
    return bulk_items.check(entry_, case, read_table(io.BytesIO(content)))


def named(result):
    return [(error.row, error.column, error.code) for error in result.errors]


def imported(entry_, case, actor, result):
    assert result.errors == [], named(result)
    bulk_items.replace_items(entry=entry_, application=case, actor=actor, rows=result.rows,
                             expected=result.fingerprint)
    return list(case.items.order_by("line_no"))


# --- a change of an issued permit (更正, 單證比對不符修正, 補正 of them) ----------------------


@pytest.fixture
def correction(shtc_case, applicant):
    """A 更正 draft of an issued permit of two items (10 FPGAs, 5 SRAMs)."""
    permit = shtc_case(status=Status.APPROVED, items=[dict(ITEM), dict(SECOND)]) \
        .issued_version.permit
    return entry.change_draft_create(entry=CHANGE, actor=applicant, kind=Kind.CORRECTION,
                                     permit=permit, change_description="更正數量")


def test_it_imports_a_correction_whose_cells_changed_keeping_each_items_source(
        correction, applicant):
    def change(sheet):
        sheet["F2"] = 8  # item 1's quantity
        sheet["J2"] = None  # its amount: quantity × unit price
        sheet["B3"] = "Radiation hardened SRAM, 4 Mbit"

    result = checked(CHANGE, correction, edited(exported(CHANGE, correction), change))
    assert (result.changed, result.unchanged) == (2, 0)
    items = imported(CHANGE, correction, applicant, result)
    assert [(i.line_no, i.source_line_no) for i in items] == [(1, 1), (2, 2)]
    assert (items[0].quantity, items[0].amount) == (8, Decimal("12000"))
    assert items[1].description == "Radiation hardened SRAM, 4 Mbit"
    assert changes.items_problem(correction) == []


def test_it_refuses_a_correction_with_a_row_deleted(correction):
    result = checked(CHANGE, correction, edited(exported(CHANGE, correction),
                                                lambda sheet: sheet.delete_rows(2)))
    assert named(result) == [(2, "Item no.", "line_no"), (3, "Item no.", "rows_deleted")]
    assert "Rows were deleted: the exported file has 2 items, this one 1." in \
        result.errors[1].message
    assert "only the cells' contents may change" in result.errors[1].message


def test_it_refuses_a_correction_with_a_row_inserted(correction):
    def insert(sheet):
        sheet.append([3, "Spare FPGA", None, None, None, 1, "PCE", 1500, "USD", None,
                      "85423100003", "3A001.a", "TW"])

    result = checked(CHANGE, correction, edited(exported(CHANGE, correction), insert))
    assert named(result) == [(4, "Item no.", "row_inserted")]
    assert result.errors[0].message.startswith("This row was inserted")


def test_it_refuses_a_correction_with_rows_swapped(correction):
    def swap(sheet):
        first = [cell.value for cell in sheet[2]]
        for column, value in enumerate([cell.value for cell in sheet[3]], start=1):
            sheet.cell(2, column, value)
        for column, value in enumerate(first, start=1):
            sheet.cell(3, column, value)

    result = checked(CHANGE, correction, edited(exported(CHANGE, correction), swap))
    assert named(result) == [(2, "Item no.", "line_no"), (3, "Item no.", "line_no")]
    assert "Rows were inserted, deleted or moved: item 1 is expected here." in \
        result.errors[0].message


def test_it_refuses_a_correction_with_a_column_deleted_inserted_or_moved(correction):
    content = exported(CHANGE, correction)
    deleted = checked(CHANGE, correction, edited(content, lambda sheet: sheet.delete_cols(3)))
    assert named(deleted) == [(1, "Brand", "column_deleted")]
    assert "only the cells' contents may change" in deleted.errors[0].message

    def insert(sheet):
        sheet.insert_cols(3)
        sheet["C1"] = "Remarks"

    inserted = checked(CHANGE, correction, edited(content, insert))
    assert named(inserted) == [(1, "Remarks", "column_inserted")]

    def move(sheet):
        for row in (1, 2, 3):
            brand, model = sheet.cell(row, 3).value, sheet.cell(row, 4).value
            sheet.cell(row, 3, model)
            sheet.cell(row, 4, brand)

    moved = checked(CHANGE, correction, edited(content, move))
    assert named(moved) == [(1, "Model / serial", "column_moved"), (1, "Brand", "column_moved")]


def test_it_keeps_the_shape_of_every_change_of_an_issued_permit_only(correction, shtc_case,
                                                                     applicant):
    assert bulk_items.shape_rule(CHANGE, correction) == "change"
    mismatch = type(correction)(kind=Kind.MISMATCH_CORRECTION, changes=correction.changes)
    assert bulk_items.shape_rule(CHANGE, mismatch) == "change"
    new = shtc_case(status=Status.REGISTERED)
    assert bulk_items.shape_rule(APPLICATION, new) is None


# --- 9-2-2: four columns of the assurance's items -------------------------------------------


@pytest.fixture
def iran_draft(applicant):
    """A 9-2-2 draft loaded from a registered 9-2-1 assurance of two items (10 FPGAs,
    2 microscopes)."""
    assurance = iran_assurance(applicant)
    return entry.reference_draft_create(entry=IRAN_APPLICATION, actor=applicant,
                                        field=entry.REGISTRATION_NO,
                                        number=assurance.registration_no)


def test_it_exports_the_assurances_whole_items_for_9_2_2(iran_draft):
    columns = bulk_items.columns_for(IRAN_APPLICATION, iran_draft)
    assert [column.key for column in columns] == [
        column.key for column in bulk_items.columns_for(APPLICATION, iran_draft)]
    result = checked(IRAN_APPLICATION, iran_draft, exported(IRAN_APPLICATION, iran_draft))
    assert result.errors == [] and result.unchanged == 2
    assert [row["description"] for row in result.rows] == [item["description"]
                                                           for item in ITEMS]


def test_it_imports_the_four_columns_9_2_2_may_change(iran_draft, applicant):
    def change(sheet):
        sheet["F2"] = 6  # 數量, below the assurance's 10
        sheet["G2"] = "SET"  # 單位
        sheet["I3"] = "EUR"  # 幣別
        sheet["J3"] = 480000  # 金額

    content = edited(exported(IRAN_APPLICATION, iran_draft), change)
    items = imported(IRAN_APPLICATION, iran_draft, applicant,
                     checked(IRAN_APPLICATION, iran_draft, content))
    assert [(i.line_no, i.source_line_no) for i in items] == [(1, 1), (2, 2)]
    assert (items[0].quantity, items[0].unit) == (6, "SET")
    # The amount column kept the exported amount; the unit price stays the assurance's.
    assert items[0].unit_price == Decimal(1500)
    assert (items[1].currency, items[1].amount) == ("EUR", Decimal(480000))
    assurance = iran_draft.shtc.assurance
    assert iran_filing.items_problems(iran_draft, assurance) == []


def test_it_computes_9_2_2s_amount_from_the_assurances_unit_price(iran_draft, applicant):
    def change(sheet):
        sheet["F2"] = 4
        sheet["J2"] = None

    content = edited(exported(IRAN_APPLICATION, iran_draft), change)
    items = imported(IRAN_APPLICATION, iran_draft, applicant,
                     checked(IRAN_APPLICATION, iran_draft, content))
    assert items[0].amount == Decimal(6000)


def test_it_refuses_9_2_2_changes_beyond_the_four_columns(iran_draft):
    def change(sheet):
        sheet["B2"] = "Another gate array"  # 貨品名稱
        sheet["H2"] = 1400  # 單價
        sheet["K3"] = "90314990006"  # 貨品分類號列
        sheet["F3"] = 3  # 數量 above the assurance's 2

    result = checked(IRAN_APPLICATION, iran_draft,
                     edited(exported(IRAN_APPLICATION, iran_draft), change))
    assert named(result) == [(2, "Goods name", "fixed_cell"), (2, "Unit price", "fixed_cell"),
                             (3, "Quantity", "over_assurance"),
                             (3, "Tariff code", "fixed_cell")]
    message = result.errors[0].message
    assert message.startswith("Only Quantity, Unit, Amount, Currency can change in this case")
    assert "“Field programmable gate array”" in message


def test_it_refuses_a_9_2_2_file_with_a_row_added(iran_draft):
    def add(sheet):
        sheet.append([3, "Extra", None, None, None, 1, "PCE", 1, "USD", None,
                      "85423100003", "3A001.a", "TW"])

    result = checked(IRAN_APPLICATION, iran_draft,
                     edited(exported(IRAN_APPLICATION, iran_draft), add))
    assert named(result) == [(4, "Item no.", "row_inserted")]
    assert "This case's items cannot be added, deleted or moved" in result.errors[0].message


def test_its_batched_form_arguments_are_the_item_pages(iran_draft):
    items = list(iran_draft.items.order_by("line_no"))
    assert IRAN_APPLICATION.item_forms_kwargs(iran_draft, items) == {
        item.line_no: IRAN_APPLICATION.item_form_kwargs(iran_draft, item.line_no)
        for item in items}


# --- 餘額重簽: only the quantity, at most the balance ---------------------------------------


@pytest.fixture
def balance_draft(shtc_case, applicant):
    """A 餘額重簽 draft of a cancelled permit of two items, nothing exported yet."""
    permit = shtc_case(status=Status.APPROVED, items=[dict(ITEM), dict(SECOND)]) \
        .issued_version.permit
    changes.permit_revoke(permit=permit, actor=applicant, reason="買方取消部分訂單")
    return entry.balance_draft_create(entry=APPLICATION, actor=applicant, permit=permit)


def test_it_imports_a_balance_re_issues_lower_quantities(balance_draft, applicant):
    def change(sheet):
        sheet["F2"] = 7  # of 10 left; the amount column as exported

    content = edited(exported(APPLICATION, balance_draft), change)
    items = imported(APPLICATION, balance_draft, applicant,
                     checked(APPLICATION, balance_draft, content))
    assert [(i.line_no, i.source_line_no) for i in items] == [(1, 1), (2, 2)]
    # The amount follows the quantity, as on the item page (BaseItemForm with a balance).
    assert (items[0].quantity, items[0].amount) == (7, Decimal(10500))
    assert changes.items_problem(balance_draft) == []


def test_it_refuses_a_balance_re_issue_above_the_balance_or_with_other_changes(
        balance_draft):
    def change(sheet):
        sheet["F2"] = 11  # of 10 left
        sheet["H3"] = 199  # 單價

    result = checked(APPLICATION, balance_draft,
                     edited(exported(APPLICATION, balance_draft), change))
    assert named(result) == [(2, "Quantity", "over_balance"), (3, "Unit price", "fixed_cell")]
    assert result.errors[1].message.startswith("Only Quantity can change in this case")


def test_its_batched_balances_are_the_item_pages(balance_draft):
    items = list(balance_draft.items.order_by("line_no"))
    batched = APPLICATION.item_forms_kwargs(balance_draft, items)
    assert batched == {item.line_no: APPLICATION.item_form_kwargs(balance_draft, item.line_no)
                       for item in items}
    assert batched[1]["balance"].left == 10


# --- the same rules as the item page, with its arguments -------------------------------------

QUANTITIES = ["", "0", "-1", "1,005", "0.5", "１", "2", "10", "10.0001", "11", "1.12345",
              "1234567890", "abc", "\x00"]


def table_of(entry_, case, line_one):
    """The case's export as a Table, item 1's cells replaced by `line_one`."""
    from permits.spreadsheets import Cell, Row, Table

    columns = bulk_items.columns_for(entry_, case)
    rows = []
    for number, item in enumerate(case.items.order_by("line_no"), start=2):
        values = {**entry.item_data(item), "line_no": str(item.line_no),
                  **(line_one if item.line_no == 1 else {})}
        rows.append(Row(number, tuple(Cell(str(values.get(c.key, ""))) for c in columns)))
    return Table(format="xlsx", sheet="Goods items", headers=[c.header for c in columns],
                 rows=iter(rows))


@pytest.mark.parametrize("which", ["iran", "balance"])
def test_it_agrees_with_the_item_page_of_each_bound_case(which, request):
    entry_, case = ((IRAN_APPLICATION, request.getfixturevalue("iran_draft"))
                    if which == "iran" else
                    (APPLICATION, request.getfixturevalue("balance_draft")))
    item = case.items.get(line_no=1)
    variants = [{"quantity": quantity} for quantity in QUANTITIES]
    if which == "iran":
        variants += [{"unit": "pc s"}, {"unit": "SET"}, {"currency": "XXX"},
                     {"currency": "eur"}, {"amount": "-1"}, {"amount": ""},
                     {"amount": "1234567890123456"}, {"quantity": "9", "amount": ""}]
    disagreements = []
    for variant in variants:
        result = bulk_items.check(entry_, case, table_of(entry_, case, variant))
        bulk = {(next(c.key for c in bulk_items.columns_for(entry_, case)
                      if c.header == error.column), error.code)
                for error in result.errors if error.row == 2}
        form = entry_.item_form_class(data={**entry.item_data(item), **variant}, instance=item,
                                      **entry_.item_form_kwargs(case, 1))
        form.is_valid()
        expected = {(name, error.code) for name, errors in form.errors.as_data().items()
                    for error in errors}
        if bulk != expected:
            disagreements.append((variant, sorted(bulk), sorted(expected)))
    assert disagreements == []
