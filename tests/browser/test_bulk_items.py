"""匯出 Excel / 匯入 Excel in Chromium (SHTC-17; permits/bulk_views.py): a 9-1-1 draft with two
items is exported, the file is changed as a user would (a quantity, rows added), imported
back; the page follows the check (static/permits/bulk_progress.js), shows the preview, and
確認 replaces the items. A bad file shows its bad cells and imports nothing."""

import io

import openpyxl
import pytest
from django.test import Client

from permits import bulk_items, item_imports
from permits import entry as entries
from permits.models import Item, ItemImport, ItemImportStatus
from shtc.models import Port
from tests import services
from tests.services import log_in, orm, seed_shtc
from tests.shtc.assurance import BASIC, ITEM, enter

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"
ITEM2 = {**ITEM, "description": "Wafer inspection microscope", "brand": "Anxin",
         "model": "WIM-7", "specification": "", "quantity": "2", "unit": "SET",
         "unit_price": "250000", "tariff_code": "90314990005", "control_no": "3B001.c"}


def a_draft(applicant):
    """A 9-1-1 draft with two items, entered through its pages."""
    seed_shtc()
    Port.objects.get_or_create(code=BASIC["transit_port"], defaults={
        "country": "US", "name": "Los Angeles", "edition": "test"})
    client = Client()
    client.force_login(applicant)
    return enter(client, items=(ITEM, ITEM2))


def columns(draft):
    return [column.key for column in
            bulk_items.columns_for(entries.entry_of(draft), draft)]


def edit(path, keys, change):
    book = openpyxl.load_workbook(path)
    change(book.worksheets[0], lambda key: keys.index(key) + 1)
    out = io.BytesIO()
    book.save(out)
    path.write_bytes(out.getvalue())
    return path


def download(page, testid, folder):
    with page.expect_download() as info:
        page.get_by_test_id(testid).click()
    target = folder / info.value.suggested_filename
    info.value.save_as(target)
    return target


def upload(page, path):
    page.get_by_test_id("import-xlsx").click()
    page.wait_for_load_state()
    page.locator("#id_file").set_input_files(str(path))
    page.get_by_test_id("bulk-upload").click()
    page.wait_for_load_state()


def shown_items(page):
    rows = page.get_by_test_id("items").locator("tbody tr")
    return [rows.nth(i).locator("td").all_inner_texts() for i in range(rows.count())]


@pytest.fixture
def review_page(applicant, live_server, page, settings, tmp_path):
    """(the review page of a 9-1-1 draft with two items, logged in; the draft)."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.PRIVATE_MEDIA_ROOT.mkdir()
    draft = orm(a_draft, applicant)
    log_in(page, f"{live_server.url}/accounts/login/", applicant.identifier, PASSWORD)
    page.goto(f"{live_server.url}/shtc/assurance/{draft.pk}/review/")
    return page, draft


def test_it_exports_edits_imports_and_confirms(review_page, tmp_path):
    services.require_redis_server()
    page, draft = review_page
    keys = orm(columns, draft)

    # 匯出 Excel, then the quantity of item 1 changed and two rows added below item 2.
    exported = download(page, "export-xlsx", tmp_path)
    assert exported.suffix == ".xlsx"

    def change(sheet, col):
        sheet.cell(row=2, column=col("quantity"), value=7)
        for row in (4, 5):
            for c in range(1, len(keys) + 1):
                sheet.cell(row=row, column=c, value=sheet.cell(row=3, column=c).value)
            sheet.cell(row=row, column=col("line_no"), value=row - 1)
            sheet.cell(row=row, column=col("model"), value=f"WIM-{row + 4}")

    edited = edit(exported, keys, change)

    # 匯入 Excel with a broker and no worker yet: the page follows the queued check.
    server = services.RedisServer().start()
    try:
        with services.celery_broker(server.url):
            upload(page, edited)
            progress = page.get_by_test_id("bulk-progress")
            assert progress.is_visible()
            assert page.locator("progress#import-progress").count() == 1
            item_import = orm(lambda: ItemImport.objects.get(application=draft))
            assert item_import.status == ItemImportStatus.QUEUED
            # The worker's work (the task's own function), while the page polls.
            assert orm(item_imports.import_check, item_import.pk) == ItemImportStatus.READY
            page.get_by_test_id("bulk-preview").wait_for(timeout=15000)
    finally:
        server.stop()
    assert [page.get_by_test_id(f"bulk-{name}").inner_text()
            for name in ("added", "changed", "unchanged", "removed")] == ["2", "1", "1", "0"]
    assert orm(lambda: Item.objects.filter(application=draft).count()) == 2

    # 確認: the items of the file, shown on the review page.
    page.get_by_test_id("bulk-confirm").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("message-success").is_visible()
    rows = shown_items(page)
    assert [row[0] for row in rows] == ["1", "2", "3", "4"]
    assert "7" in rows[0]
    assert orm(lambda: sorted(Item.objects.filter(application=draft)
                              .values_list("line_no", "model"))) == [
        (1, "XCVU9P"), (2, "WIM-7"), (3, "WIM-8"), (4, "WIM-9")]


def test_it_shows_every_bad_cell_and_imports_nothing(review_page, live_server, tmp_path):
    page, draft = review_page
    keys = orm(columns, draft)
    exported = download(page, "export-xlsx", tmp_path)

    def spoil(sheet, col):
        sheet.cell(row=2, column=col("quantity"), value="ten")
        sheet.cell(row=3, column=col("tariff_code"), value="8542")

    # In-process (the tests' default, as the embedded portal's): the errors at once.
    upload(page, edit(exported, keys, spoil))
    assert page.get_by_test_id("bulk-refused").is_visible()
    table = page.get_by_test_id("bulk-errors")
    assert table.locator("caption").count() == 1
    rows = table.locator("tbody tr")
    assert rows.count() == 2
    assert "ten" in rows.nth(0).inner_text() and "8542" in rows.nth(1).inner_text()
    assert [rows.nth(i).locator("th").inner_text() for i in range(2)] == ["2", "3"]
    assert orm(lambda: sorted(Item.objects.filter(application=draft)
                              .values_list("line_no", "quantity"))) == [(1, 10), (2, 2)]
    # Back to the items: unchanged.
    assert page.get_by_test_id("bulk-export-again").is_visible()
    page.goto(f"{live_server.url}/shtc/assurance/{draft.pk}/review/")
    assert [row[0] for row in shown_items(page)] == ["1", "2"]
