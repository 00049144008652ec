"""匯入 Excel / 匯入 ODF (SHTC-17): a spreadsheet of goods items uploaded for a draft, checked
by the worker, then confirmed (確認) or cancelled (取消) by the user.

    upload (import_start: checked by content, stored) ─after commit→ the Celery task
    check_item_import → import_check: read_table + check, progress saved as it reads, the
    file deleted ─→ REFUSED (every bad cell, nothing imported) or READY (the cleaned rows and
    the preview's counts) ─確認→ import_confirm: bulk_items.replace_items under the case's
    row lock ─→ IMPORTED

The file layer is permits.spreadsheets, the rules permits.bulk_items; this module keeps the
import's own life: its row (permits.models.ItemImport), its stored file and its task. In the
embedded default (no broker) the task runs in-process when it is queued, and so it does when
the broker cannot take it: the request that uploaded the file waits for the check instead of
leaving it to nobody (as reconciliation.services.match_soon does).
"""

import datetime
import logging
from dataclasses import asdict

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from permits import attachments
from permits import entry as entries
from permits.models import ItemImport, ItemImportStatus
from permits.storage import files_delete_on_commit, private_storage

logger = logging.getLogger(__name__)

EXTENSIONS = {"xlsx": attachments.ALLOWED_TYPES[attachments.XLSX].extensions,
              "ods": attachments.ALLOWED_TYPES[attachments.ODS].extensions}
# Imports are kept a day: a preview nobody confirmed by then is stale anyway.
MAX_AGE = datetime.timedelta(days=1)
OPEN = (ItemImportStatus.QUEUED, ItemImportStatus.CHECKING, ItemImportStatus.READY)


def max_file_bytes():
    from permits import spreadsheets

    return spreadsheets.MAX_FILE_BYTES


def max_items():
    from permits import bulk_items

    return bulk_items.MAX_ITEMS


def check_upload(upload):
    """The format ("xlsx" or "ods") of the uploaded spreadsheet, judged from its content as
    every upload is: spreadsheets.read_table checks its size, its bytes, the package's own
    declaration and what it expands to, and reads its header row; and its name must end in
    its format's extension (permits.attachments' rule), so that it opens as what it was
    checked to be. ValidationError with the reason otherwise. Its rows are the worker's."""
    from permits import spreadsheets

    try:
        table = spreadsheets.read_table(upload, max_rows=max_items())
    except spreadsheets.SpreadsheetRefused as refused:
        raise ValidationError(refused.message, code=refused.code) from None
    finally:
        upload.seek(0)
    extensions = EXTENSIONS[table.format]
    if not attachments.clean_name(upload.name).lower().endswith(extensions):
        raise ValidationError(attachments.ERRORS["extension_mismatch"],
                              code="extension_mismatch",
                              params={"type": table.format.upper(),
                                      "extensions": ", ".join(extensions)})
    return table.format


@transaction.atomic
def import_start(*, application, actor, upload, fmt):
    """Keep the checked `upload` (check_upload: format `fmt`) of draft `application` and
    queue its check once this transaction commits. An earlier import of the same user on the
    same draft that is not over is cancelled: only the newest file can be confirmed."""
    ItemImport.objects.filter(application=application, actor=actor, status__in=OPEN).update(
        status=ItemImportStatus.CANCELLED, rows=[], finished_at=timezone.now())
    item_import = ItemImport(application=application, actor=actor, format=fmt,
                             original_name=attachments.clean_name(upload.name),
                             language=translation.get_language() or "")
    attachments.save_with_file(item_import, upload)
    transaction.on_commit(lambda: check_soon(item_import.pk))
    return item_import


def check_soon(pk):
    """Queue the check of import `pk`; when the broker cannot take it (Redis down), check it
    here: the user is waiting for it, and nothing would ever check it otherwise."""
    from permits.tasks import check_item_import
    from portal.tasks import enqueue

    if enqueue(check_item_import, pk) is None:
        import_check(pk)


def import_check(pk):
    """Read and check the file of import `pk` (the task's work): READY with the cleaned rows
    and the counts, or REFUSED with every bad cell or the reason the whole file is refused.
    The file is deleted either way. An import cancelled meanwhile is left as it is; one
    found CHECKING was left by a worker that died (the task is delivered again): checked
    again from the start."""
    from permits import bulk_items, spreadsheets

    claimed = ItemImport.objects.filter(pk=pk, status__in=(
        ItemImportStatus.QUEUED, ItemImportStatus.CHECKING)).update(
        status=ItemImportStatus.CHECKING, progress=0)
    item_import = ItemImport.objects.filter(pk=pk).select_related("application").first()
    if item_import is None:
        return None
    if not claimed:
        _delete_file(item_import)
        return item_import.status
    progress = _progress_saver(pk)
    application = item_import.application
    entry = entries.entry_of(application)
    try:
        with translation.override(item_import.language or None), \
                private_storage.open(item_import.file.name, "rb") as handle:
            # check() reports the rows as it reads them: read_table needs no callback too.
            table = spreadsheets.read_table(handle, max_rows=bulk_items.MAX_ITEMS)
            result = bulk_items.check(entry, application, table, progress=progress)
    except spreadsheets.SpreadsheetRefused as refused:
        fields = {"status": ItemImportStatus.REFUSED, "message": str(refused.message)}
    except Exception:
        # A bug or an outage, not the user's file: say so rather than leave the page waiting.
        logger.exception("could not check the goods item import %s", pk)
        fields = {"status": ItemImportStatus.REFUSED,
                  "message": _("The file could not be checked because of a fault of the "
                               "portal. Please try again later.")}
    else:
        fields = _result_fields(result)
    _delete_file(item_import)
    ItemImport.objects.filter(pk=pk, status=ItemImportStatus.CHECKING).update(
        file="", finished_at=timezone.now(), **fields)
    return fields["status"]


def _progress_saver(pk):
    """check()'s progress callback: one cheap UPDATE each time it is called (every few
    hundred rows), which the follow page's status request reads."""
    def progress(rows):
        ItemImport.objects.filter(pk=pk).update(progress=rows)

    return progress


def _result_fields(result):
    """The ItemImport fields of bulk_items.check's `result`."""
    read = result.rows_read
    if result.errors:
        errors = [_plain(error) for error in result.errors]
        return {"status": ItemImportStatus.REFUSED, "errors": errors,
                "error_count": len(errors), "progress": read, "total": read}
    return {"status": ItemImportStatus.READY, "rows": result.rows, "added": result.added,
            "changed": result.changed, "unchanged": result.unchanged,
            "removed": result.removed, "fingerprint": result.fingerprint,
            "progress": read, "total": read}


def _plain(error):
    """A CellError as the errors table reads it: sheet, row, column, value, message."""
    data = asdict(error)
    plain = {key: "" if data.get(key) is None else str(data[key])
             for key in ("sheet", "column", "value", "message")}
    return {**plain, "row": data.get("row")}


def _delete_file(item_import):
    if item_import.file.name:
        try:
            private_storage.delete(item_import.file.name)
        except Exception:
            logger.exception("could not delete the stored file %s", item_import.file.name)


def import_confirm(*, entry, application, item_import, actor):
    """確認: the draft's items become the import's rows (bulk_items.replace_items, which checks
    again, under the case's row lock, that the case is still a draft and its items those the
    preview compared the file with). Raises AlreadySubmitted, or ValidationError for an
    import that is not waiting for confirmation or that replace_items refuses (a stale
    preview): then the import is refused with that reason and nothing is imported."""
    from permits import bulk_items

    try:
        with transaction.atomic():
            # The case first, then the import: the order every writer of both takes.
            entries._locked_draft(application)
            locked = ItemImport.objects.select_for_update().get(pk=item_import.pk)
            if locked.status == ItemImportStatus.IMPORTED:
                return locked  # 確認 clicked twice: the first one imported it
            if locked.status != ItemImportStatus.READY:
                raise ValidationError(_("This import is not waiting for confirmation any "
                                        "more."), code="not_ready")
            bulk_items.replace_items(entry=entry, application=application, actor=actor,
                                     rows=locked.rows, expected=locked.fingerprint)
            ItemImport.objects.filter(pk=locked.pk).update(
                status=ItemImportStatus.IMPORTED, rows=[], finished_at=timezone.now())
            return locked
    except ValidationError as error:
        if getattr(error, "code", None) != "not_ready":
            # A stale preview (the items changed since the check) or rows the rules refuse
            # now (a balance used meanwhile): said on the import's page, nothing imported.
            cell_errors = [_plain(cell) for cell in getattr(error, "cell_errors", ())]
            ItemImport.objects.filter(pk=item_import.pk, status=ItemImportStatus.READY).update(
                status=ItemImportStatus.REFUSED, rows=[], errors=cell_errors,
                error_count=len(cell_errors),
                message="" if cell_errors else " ".join(error.messages),
                finished_at=timezone.now())
        raise


def import_cancel(*, item_import):
    """取消: the import is dropped; the draft's items stay as they were."""
    ItemImport.objects.filter(pk=item_import.pk, status__in=OPEN).update(
        status=ItemImportStatus.CANCELLED, rows=[], finished_at=timezone.now())


@transaction.atomic
def imports_purge(*, older_than=MAX_AGE):
    """Delete the imports older than `older_than` (a day), with any file still stored (an
    import whose check never ran). Returns how many."""
    stale = ItemImport.objects.filter(created_at__lt=timezone.now() - older_than)
    files = [name for name in stale.values_list("file", flat=True) if name]
    count, _kinds = stale.delete()
    files_delete_on_commit(files)
    return count
