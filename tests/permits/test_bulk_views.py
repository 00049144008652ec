"""匯出 Excel / 匯出 ODF / 匯入 Excel / 匯入 ODF (SHTC-17; permits/bulk_views.py and
permits/item_imports.py): the buttons on every SHTC entry's review page, the download, the
upload checked by content, the check as a task that saves its progress (in-process without a
broker, on a real worker with one), the bad cells with nothing imported, the preview, 確認
and 取消, a stale preview, the purge, and who may reach each page."""

import datetime
import io
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.template.defaultfilters import filesizeformat
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from permits import bulk_items, item_imports
from permits import entry as entries
from permits.models import Application, Item, ItemImport, ItemImportStatus, Kind, Status
from permits.services import plain as services_plain
from permits.storage import private_storage
from permits.tasks import purge_drafts
from shtc.models import Port
from tests import services
from tests.faults.test_redis_down import redis_down  # noqa: F401 (a fixture)
from tests.shtc import iran_cases
from tests.shtc.assurance import ITEM, enter, url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_root")]

ITEM2 = {**ITEM, "description": "Wafer inspection microscope", "brand": "Anxin",
         "model": "WIM-7", "specification": "", "quantity": "2", "unit": "SET",
         "unit_price": "250000", "tariff_code": "90314990005", "control_no": "3B001.c"}
BUTTONS = ("export-xlsx", "export-ods", "import-xlsx", "import-ods")


@pytest.fixture
def owner(client, applicant):
    client.force_login(applicant)
    return client


@pytest.fixture
def draft(owner):
    """A 9-1-1 draft with two items, entered through its pages."""
    return enter(owner, items=(ITEM, ITEM2))


def export(client, draft, fmt="xlsx"):
    response = client.get(reverse("permits:items_export", args=[draft.pk, fmt]))
    assert response.status_code == 200, response.status_code
    return response


def column(draft, key):
    """The spreadsheet column (1-based) of the item form's field `key`."""
    entry = entries.entry_of(draft)
    return [c.key for c in bulk_items.columns_for(entry, draft)].index(key) + 1


def edited(draft, content, edit):
    """The exported .xlsx `content` changed by `edit(sheet, column)` as a user does in a
    spreadsheet program (openpyxl here)."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    edit(book.worksheets[0], lambda key: column(draft, key))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, draft, content, *, name="items.xlsx", fmt="xlsx"):
    return client.post(reverse("permits:items_import", args=[draft.pk, fmt]),
                       {"file": SimpleUploadedFile(name, content)})


def checked(client, draft, content, capture, **kwargs):
    """The upload, then the check (queued after commit: in-process here), then the page the
    upload leads to."""
    with capture(execute=True):
        response = upload(client, draft, content, **kwargs)
    assert response.status_code == 302, response.context and response.context["form"].errors
    item_import = ItemImport.objects.get(application=draft)
    assert response.url == reverse("permits:item_import", args=[draft.pk, item_import.pk])
    return client.get(response.url), item_import


def quantities(draft):
    return {item.line_no: services_plain(item.quantity) for item in
            Item.objects.filter(application=draft)}


def change_quantity_and_add_a_row(sheet, col):
    sheet.cell(row=2, column=col("quantity"), value=7)
    for offset in (0, 1):
        for c in range(1, sheet.max_column + 1):
            sheet.cell(row=4 + offset, column=c, value=sheet.cell(row=3, column=c).value)
    sheet.cell(row=4, column=col("line_no"), value=3)
    sheet.cell(row=5, column=col("line_no"), value=4)
    sheet.cell(row=5, column=col("model"), value="WIM-8")


# --- the buttons ------------------------------------------------------------------------------


def shtc_drafts(client, applicant, approved):
    """A draft of each SHTC entry: 9-1-1's 新申請, a 更正 of the `approved` case's permit,
    9-2-1 and 9-2-2."""
    from shtc import changes

    new = enter(client)
    iran = enter(client, prefix="iran_assurance", then="item_add",
                 basic={"destination_country": "IR", "transit_port": "",
                        "buyer-country": "IR", "end_user-country": "IR"})
    client.post(url("item_add", iran.pk, prefix="iran_assurance"), ITEM)
    iran_application = iran_cases.enter(client, iran_cases.iran_assurance(applicant))
    correction = entries.change_draft_create(
        entry=changes.CHANGE, actor=applicant, kind=Kind.CORRECTION,
        permit=approved.issued_version.permit, change_description="更正數量")
    return {"application": new, "iran_assurance": iran, "iran_application": iran_application,
            "change": correction}


def test_it_offers_export_and_import_on_the_review_page_of_every_shtc_entry(
        owner, applicant, reviewer, make_case):
    approved = make_case(applicant, status=Status.APPROVED, reviewer=reviewer)
    for prefix, draft in shtc_drafts(owner, applicant, approved).items():
        page = owner.get(url("review", draft.pk, prefix=prefix))
        assert page.status_code == 200, (prefix, page.status_code)
        html = page.content.decode()
        for testid in BUTTONS:
            assert f'data-testid="{testid}"' in html, (prefix, testid)
        assert reverse("permits:items_export", args=[draft.pk, "ods"]) in html
        assert reverse("permits:items_import", args=[draft.pk, "xlsx"]) in html
    owner.cookies["django_language"] = "en"  # the page's language is the user's choice
    html = owner.get(url("review", draft.pk, prefix=prefix)).content.decode()
    assert all(word in html for word in ("Export Excel", "Export ODF", "Import Excel",
                                         "Import ODF"))
    owner.cookies["django_language"] = "zh-hant"
    html = owner.get(url("review", draft.pk, prefix=prefix)).content.decode()
    assert all(word in html for word in ("匯出 Excel", "匯出 ODF", "匯入 Excel", "匯入 ODF"))


def test_it_offers_no_bulk_buttons_where_the_entry_has_none(client, applicant):
    from tests.masks.conftest import BASIC as MASK_BASIC

    client.force_login(applicant)
    client.post(reverse("masks:application_basic"), {**MASK_BASIC, "route": "postal"})
    mask = Application.objects.get(document_type="MK", status=Status.DRAFT)
    html = client.get(reverse("masks:application_review", args=[mask.pk])).content.decode()
    assert 'data-testid="bulk-items"' not in html
    assert client.get(reverse("permits:items_export", args=[mask.pk, "xlsx"])).status_code \
        == 404


# --- export -------------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "content_type"), [
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("ods", "application/vnd.oasis.opendocument.spreadsheet")])
def test_it_downloads_the_items_as_a_spreadsheet(owner, draft, fmt, content_type):
    response = export(owner, draft, fmt)
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Disposition"].endswith(f'.{fmt}"') or \
        response["Content-Disposition"].endswith(f".{fmt}")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as package:
        assert package.testzip() is None
    from permits import spreadsheets

    table = spreadsheets.read_table(io.BytesIO(response.content))
    descriptions = [row.cells[column(draft, "description") - 1].value
                    for row in table.rows]
    assert descriptions == [ITEM["description"], ITEM2["description"]]


def test_it_answers_404_to_a_format_it_does_not_write(owner, draft):
    for name in ("items_export", "items_import"):
        assert owner.get(reverse(f"permits:{name}", args=[draft.pk, "csv"])).status_code == 404


# --- the upload page ------------------------------------------------------------------------


def test_it_states_the_limits_on_the_upload_page(owner, draft):
    from permits import spreadsheets

    page = owner.get(reverse("permits:items_import", args=[draft.pk, "ods"]))
    assert page.status_code == 200
    html = page.content.decode()
    limits = page.content.decode().split('data-testid="bulk-limits"')[1].split("</p>")[0]
    assert filesizeformat(spreadsheets.MAX_FILE_BYTES) == "20.0\xa0MB"
    assert filesizeformat(spreadsheets.MAX_FILE_BYTES) in limits
    assert "10,000" in limits and bulk_items.MAX_ITEMS == 10_000
    # The file input says what it takes, and its help is tied to it.
    assert 'accept=".ods,.xlsx"' in html
    assert 'aria-describedby="id_file_helptext"' in html
    assert all(escape(line) in html for line in bulk_items.instructions())


def refusal_codes(response):
    assert response.status_code == 400
    return [error.code for error in response.context["form"].errors.as_data()["file"]]


def test_it_refuses_what_is_not_a_spreadsheet_by_its_content(owner, draft):
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    assert refusal_codes(upload(owner, draft, pdf, name="items.xlsx")) == ["not_spreadsheet"]
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as package:
        package.writestr("[Content_Types].xml", (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Override PartName="/word/document.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'))
        package.writestr("word/document.xml", "<w:document/>")
    assert refusal_codes(upload(owner, draft, docx.getvalue(), name="items.xlsx")) == [
        "document"]
    assert not ItemImport.objects.exists()


def test_it_refuses_a_spreadsheet_whose_name_says_another_type(owner, draft):
    ods = export(owner, draft, "ods").content
    assert refusal_codes(upload(owner, draft, ods, name="items.xlsx")) == [
        "extension_mismatch"]
    assert not ItemImport.objects.exists()


def test_it_refuses_a_file_over_the_size_limit_before_reading_it(owner, draft, monkeypatch):
    from permits import spreadsheets

    content = export(owner, draft).content
    monkeypatch.setattr(spreadsheets, "MAX_FILE_BYTES", len(content) - 1)
    assert refusal_codes(upload(owner, draft, content)) == ["too_large"]


# --- the check, the preview, 確認 -----------------------------------------------------------


def test_it_imports_an_edited_export_after_the_preview_and_confirm(
        owner, draft, django_capture_on_commit_callbacks):
    content = edited(draft, export(owner, draft).content, change_quantity_and_add_a_row)
    page, item_import = checked(owner, draft, content, django_capture_on_commit_callbacks)
    assert page.status_code == 200
    assert [t.name for t in page.templates][0] == "permits/entry/bulk_preview.html"
    item_import.refresh_from_db()
    assert item_import.status == ItemImportStatus.READY
    assert (item_import.added, item_import.changed, item_import.unchanged,
            item_import.removed) == (2, 1, 1, 0)
    html = page.content.decode()
    for testid, count in (("added", 2), ("changed", 1), ("unchanged", 1), ("removed", 0)):
        assert f'data-testid="bulk-{testid}">{count}<' in html
    # The file was deleted once checked; the items are not touched before 確認.
    assert item_import.file.name == ""
    assert quantities(draft) == {1: "10", 2: "2"}

    response = owner.post(reverse("permits:item_import_confirm",
                                  args=[draft.pk, item_import.pk]))
    assert response.status_code == 302
    assert response.url == url("review", draft.pk)
    assert quantities(draft) == {1: "7", 2: "2", 3: "2", 4: "2"}
    assert Item.objects.get(application=draft, line_no=4).model == "WIM-8"
    item_import.refresh_from_db()
    assert (item_import.status, item_import.rows) == (ItemImportStatus.IMPORTED, [])
    # 確認 again (a double click): nothing more happens.
    again = owner.post(reverse("permits:item_import_confirm", args=[draft.pk, item_import.pk]))
    assert again.status_code == 302 and quantities(draft) == {1: "7", 2: "2", 3: "2", 4: "2"}


def test_it_imports_an_ods_export_back(owner, draft, django_capture_on_commit_callbacks):
    content = export(owner, draft, "ods").content
    page, item_import = checked(owner, draft, content, django_capture_on_commit_callbacks,
                                name="items.ods", fmt="ods")
    item_import.refresh_from_db()
    assert (item_import.status, item_import.format) == (ItemImportStatus.READY, "ods")
    assert (item_import.added, item_import.changed, item_import.unchanged,
            item_import.removed) == (0, 0, 2, 0)


def test_it_names_every_bad_cell_and_imports_nothing(
        owner, draft, django_capture_on_commit_callbacks):
    def spoil(sheet, col):
        sheet.cell(row=2, column=col("quantity"), value="ten")
        sheet.cell(row=3, column=col("tariff_code"), value="8542")

    content = edited(draft, export(owner, draft).content, spoil)
    page, item_import = checked(owner, draft, content, django_capture_on_commit_callbacks)
    item_import.refresh_from_db()
    assert item_import.status == ItemImportStatus.REFUSED
    assert [(error["row"], error["value"]) for error in item_import.errors] == [
        (2, "ten"), (3, "8542")]
    assert item_import.error_count == 2 and item_import.file.name == ""
    assert [t.name for t in page.templates][0] == "permits/entry/bulk_errors.html"
    html = page.content.decode()
    table = html.split('data-testid="bulk-errors"')[1].split("</table>")[0]
    assert "<caption" in table and table.count('scope="col"') == 5
    assert table.count('<th scope="row">') == 2 and "ten" in table and "8542" in table
    # Export again and import again are offered; nothing was imported.
    assert reverse("permits:items_export", args=[draft.pk, "xlsx"]) in html
    assert reverse("permits:items_import", args=[draft.pk, "xlsx"]) in html
    assert quantities(draft) == {1: "10", 2: "2"}
    confirm = owner.post(reverse("permits:item_import_confirm",
                                 args=[draft.pk, item_import.pk]))
    assert confirm.status_code == 302 and quantities(draft) == {1: "10", 2: "2"}


def test_it_says_why_a_whole_file_is_refused(owner, draft, django_capture_on_commit_callbacks,
                                             monkeypatch):
    def too_many(sheet, col):
        for row in range(4, 9):
            for c in range(1, sheet.max_column + 1):
                sheet.cell(row=row, column=c, value=sheet.cell(row=3, column=c).value)
            sheet.cell(row=row, column=col("line_no"), value=row - 1)

    content = edited(draft, export(owner, draft).content, too_many)
    # Refused at once when the upload's first rows already say so...
    monkeypatch.setattr(bulk_items, "MAX_ITEMS", 5)
    assert refusal_codes(upload(owner, draft, content)) == ["too_many_rows"]
    # ...else by the check, which says why on the import's page.
    monkeypatch.setattr(bulk_items, "MAX_ITEMS", 10)
    with django_capture_on_commit_callbacks() as callbacks:
        assert upload(owner, draft, content).status_code == 302
    monkeypatch.setattr(bulk_items, "MAX_ITEMS", 5)
    for callback in callbacks:
        callback()
    item_import = ItemImport.objects.get(application=draft)
    assert item_import.status == ItemImportStatus.REFUSED and item_import.message
    assert item_import.errors == [] and item_import.file.name == ""
    page = owner.get(reverse("permits:item_import", args=[draft.pk, item_import.pk]))
    assert item_import.message in page.content.decode()
    assert quantities(draft) == {1: "10", 2: "2"}


def test_it_says_the_preview_is_stale_when_the_items_changed_meanwhile(
        owner, draft, django_capture_on_commit_callbacks):
    content = edited(draft, export(owner, draft).content, change_quantity_and_add_a_row)
    _page, item_import = checked(owner, draft, content, django_capture_on_commit_callbacks)
    # Item 2 is changed in another tab after the check.
    response = owner.post(url("item", draft.pk, 2), {**ITEM2, "quantity": "5"})
    assert response.status_code == 302
    response = owner.post(reverse("permits:item_import_confirm",
                                  args=[draft.pk, item_import.pk]), follow=True)
    assert response.status_code == 200
    assert quantities(draft) == {1: "10", 2: "5"}
    item_import.refresh_from_db()
    assert item_import.status == ItemImportStatus.REFUSED
    with translation.override("zh-hant"):  # the page's language, as the request had it
        assert item_import.message == str(bulk_items.MESSAGES["items_changed"])
    assert 'data-testid="bulk-refused"' in response.content.decode()
    assert escape(item_import.message) in response.content.decode()


def test_it_cancels_an_import_and_leaves_the_items(owner, draft,
                                                   django_capture_on_commit_callbacks):
    content = edited(draft, export(owner, draft).content, change_quantity_and_add_a_row)
    _page, item_import = checked(owner, draft, content, django_capture_on_commit_callbacks)
    response = owner.post(reverse("permits:item_import_cancel",
                                  args=[draft.pk, item_import.pk]))
    assert response.status_code == 302 and response.url == url("review", draft.pk)
    item_import.refresh_from_db()
    assert item_import.status == ItemImportStatus.CANCELLED
    owner.post(reverse("permits:item_import_confirm", args=[draft.pk, item_import.pk]))
    assert quantities(draft) == {1: "10", 2: "2"}
    # Its page leads back to the items.
    assert owner.get(reverse("permits:item_import", args=[draft.pk, item_import.pk])).url == \
        url("review", draft.pk)


def test_it_keeps_only_the_newest_import_of_a_draft_open(owner, draft,
                                                         django_capture_on_commit_callbacks):
    content = export(owner, draft).content
    checked(owner, draft, content, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        upload(owner, draft, content)
    assert list(ItemImport.objects.order_by("pk").values_list("status", flat=True)) == [
        ItemImportStatus.CANCELLED, ItemImportStatus.READY]


# --- progress ---------------------------------------------------------------------------------


def test_it_follows_an_import_being_checked(owner, draft, applicant):
    item_import = ItemImport.objects.create(
        application=draft, actor=applicant, status=ItemImportStatus.CHECKING, format="xlsx",
        original_name="items.xlsx", progress=1500)
    page = owner.get(reverse("permits:item_import", args=[draft.pk, item_import.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    head = html.split("</head>")[0]
    # Without script the page reloads itself; with it, bulk_progress.js asks the status URL.
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in head
    status_url = reverse("permits:item_import_status", args=[draft.pk, item_import.pk])
    assert f'data-import-status-url="{status_url}"' in html
    assert "/static/permits/bulk_progress.js" in html
    assert '<progress id="import-progress"' in html and "1,500" in html
    assert "no-cache" in page["Cache-Control"]
    status = owner.get(status_url)
    assert status.json()["done"] is False and status.json()["progress"] == 1500
    ItemImport.objects.filter(pk=item_import.pk).update(
        status=ItemImportStatus.READY, total=2000, progress=2000)
    assert owner.get(status_url).json()["done"] is True


def test_it_saves_the_progress_every_few_hundred_rows(owner, draft, applicant):
    from permits import spreadsheets

    def many(sheet, col):
        for row in range(4, 1202):
            for c in range(1, sheet.max_column + 1):
                sheet.cell(row=row, column=c, value=sheet.cell(row=3, column=c).value)
            sheet.cell(row=row, column=col("line_no"), value=row - 1)
            sheet.cell(row=row, column=col("model"), value=f"WIM-{row}")

    content = edited(draft, export(owner, draft).content, many)
    item_import = item_imports.import_start(
        application=draft, actor=applicant, upload=SimpleUploadedFile("many.xlsx", content),
        fmt="xlsx")
    with CaptureQueriesContext(connection) as queries:
        assert item_imports.import_check(item_import.pk) == ItemImportStatus.READY
    saves = [q["sql"] for q in queries.captured_queries
             if q["sql"].startswith('UPDATE "permits_itemimport" SET "progress"')]
    assert 2 <= len(saves) <= 1200 // spreadsheets.PROGRESS_EVERY * 2 + 2, saves
    item_import.refresh_from_db()
    assert item_import.added == 1198 and item_import.total == 1200


def test_it_checks_again_an_import_a_dead_worker_left(owner, draft, applicant):
    content = export(owner, draft).content
    item_import = item_imports.import_start(
        application=draft, actor=applicant, upload=SimpleUploadedFile("items.xlsx", content),
        fmt="xlsx")
    ItemImport.objects.filter(pk=item_import.pk).update(status=ItemImportStatus.CHECKING,
                                                        progress=500)
    stored = ItemImport.objects.get(pk=item_import.pk).file.name
    assert private_storage.exists(stored)
    assert item_imports.import_check(item_import.pk) == ItemImportStatus.READY
    assert not private_storage.exists(stored)
    # Delivered once more: nothing to do.
    assert item_imports.import_check(item_import.pk) == ItemImportStatus.READY


@pytest.mark.redis_server
def test_it_checks_in_process_when_the_broker_is_down(owner, draft, redis_down,  # noqa: F811
                                                      django_capture_on_commit_callbacks):
    _page, item_import = checked(owner, draft, export(owner, draft).content,
                                 django_capture_on_commit_callbacks)
    item_import.refresh_from_db()
    assert item_import.status == ItemImportStatus.READY


@pytest.fixture
def worker_storage(private_root, monkeypatch):
    """The worker started next stores and reads files where this process does."""
    monkeypatch.setenv("PRIVATE_MEDIA_ROOT", str(private_root))
    return private_root


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_checks_the_file_on_a_real_worker(client, applicant, worker_storage, celery_worker):
    services.seed_shtc()
    # The transit port too: an earlier transactional test may have emptied the port table.
    Port.objects.get_or_create(code="USLAX", defaults={"country": "US", "name": "Los Angeles",
                                                       "edition": "test"})
    client.force_login(applicant)
    draft = enter(client, items=(ITEM, ITEM2))
    response = upload(client, draft, export(client, draft).content)
    assert response.status_code == 302
    item_import = ItemImport.objects.get(application=draft)
    services.wait_until(lambda: ItemImport.objects.get(pk=item_import.pk).done, timeout=60,
                        failure="the worker did not check the import")
    item_import.refresh_from_db()
    assert item_import.status == ItemImportStatus.READY and item_import.unchanged == 2
    assert not private_storage.exists(ItemImport.objects.filter(
        pk=item_import.pk).values_list("file", flat=True).get() or "none")


# --- the purge --------------------------------------------------------------------------------


def test_it_purges_imports_older_than_a_day_with_their_files(
        draft, applicant, django_capture_on_commit_callbacks):
    old = item_imports.import_start(
        application=draft, actor=applicant,
        upload=SimpleUploadedFile("old.xlsx", b"PK\x03\x04 kept until checked"), fmt="xlsx")
    ItemImport.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=1, minutes=1))
    fresh = ItemImport.objects.create(application=draft, actor=applicant, format="xlsx",
                                      original_name="new.xlsx",
                                      status=ItemImportStatus.READY)
    assert private_storage.exists(old.file.name)
    with django_capture_on_commit_callbacks(execute=True):
        purge_drafts()
    assert list(ItemImport.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not private_storage.exists(old.file.name)


# --- who may reach it -------------------------------------------------------------------------


def bulk_urls(draft, item_import):
    return [("GET", reverse("permits:items_export", args=[draft.pk, "xlsx"])),
            ("GET", reverse("permits:items_import", args=[draft.pk, "xlsx"])),
            ("GET", reverse("permits:item_import", args=[draft.pk, item_import.pk])),
            ("GET", reverse("permits:item_import_status", args=[draft.pk, item_import.pk])),
            ("POST", reverse("permits:item_import_confirm", args=[draft.pk, item_import.pk])),
            ("POST", reverse("permits:item_import_cancel", args=[draft.pk, item_import.pk]))]


def test_it_answers_404_to_another_user(client, draft, applicant, other_applicant, agent):
    item_import = ItemImport.objects.create(application=draft, actor=applicant,
                                            format="xlsx", original_name="items.xlsx",
                                            status=ItemImportStatus.READY)
    for user in (other_applicant, agent):
        client.force_login(user)
        for method, target in bulk_urls(draft, item_import):
            response = getattr(client, method.lower())(target)
            assert response.status_code == 404, (user, target, response.status_code)
    item_import.refresh_from_db()
    assert item_import.status == ItemImportStatus.READY


def test_it_answers_404_to_an_import_of_another_case(owner, draft, applicant):
    other = enter(owner)
    theirs = ItemImport.objects.create(application=other, actor=applicant, format="xlsx",
                                       original_name="items.xlsx",
                                       status=ItemImportStatus.READY)
    for method, target in bulk_urls(draft, theirs)[2:]:
        assert getattr(owner, method.lower())(target).status_code == 404, target
    theirs.refresh_from_db()
    assert theirs.status == ItemImportStatus.READY


def test_it_answers_404_to_an_out_of_range_id(owner, draft):
    huge = 2 ** 63
    for target in (reverse("permits:items_export", args=[huge, "xlsx"]),
                   reverse("permits:item_import", args=[draft.pk, huge]),
                   reverse("permits:item_import_status", args=[draft.pk, huge])):
        assert owner.get(target).status_code == 404, target


def test_it_leads_a_filed_case_to_its_page(owner, draft, applicant):
    item_import = ItemImport.objects.create(application=draft, actor=applicant,
                                            format="xlsx", original_name="items.xlsx",
                                            status=ItemImportStatus.READY)
    Application.objects.filter(pk=draft.pk).update(status=Status.REGISTERED)
    response = owner.get(reverse("permits:items_import", args=[draft.pk, "xlsx"]))
    assert response.status_code == 302
    assert response.url == reverse("permits:application_detail", args=[draft.pk])
    status = owner.get(reverse("permits:item_import_status", args=[draft.pk, item_import.pk]))
    assert status.json() == {"done": True}


def test_it_sends_bureau_staff_away(client, draft, reviewer):
    client.force_login(reviewer)
    assert client.get(reverse("permits:items_export", args=[draft.pk, "xlsx"])).status_code \
        == 403


def test_it_shows_the_bad_cells_page_by_page(owner, draft, applicant):
    errors = [{"sheet": "貨品明細", "row": row, "column": "數量", "value": "x",
               "message": "bad"} for row in range(2, 1202)]
    item_import = ItemImport.objects.create(
        application=draft, actor=applicant, status=ItemImportStatus.REFUSED, format="ods",
        original_name="items.ods", errors=errors, error_count=len(errors))
    target = reverse("permits:item_import", args=[draft.pk, item_import.pk])
    first, last = owner.get(target), owner.get(target, {"page": "3"})
    assert first.content.decode().count('<th scope="row">') == 500
    assert last.content.decode().count('<th scope="row">') == 200
    assert '<th scope="row">1201</th>' in last.content.decode()
    assert "?page=2" in first.content.decode()
    assert owner.get(target, {"page": "9223372036854775808"}).status_code == 200
