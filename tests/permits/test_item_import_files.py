"""The stored file of a goods item import (匯入 Excel / 匯入 ODF) follows its row as an
attachment's does (permits.attachments.save_with_file, which both use): written before the
row, deleted again when the row cannot be saved, and no check queued for it; on the local
disk and in an S3 bucket."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError

from permits import item_imports
from permits.models import ItemImport
from permits.storage import private_storage
from tests.permits.test_bulk_views import draft, export, owner  # noqa: F401 (fixtures)
from tests.storage.test_s3_storage import bucket, s3_endpoint  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def start(draft, applicant, content):  # noqa: F811 (the fixture's name)
    return item_imports.import_start(
        application=draft, actor=applicant, upload=SimpleUploadedFile("items.xlsx", content),
        fmt="xlsx")


def failing_save(seen):
    def fail(self, *args, **kwargs):
        seen.append(self.file.name)
        assert private_storage.exists(self.file.name), "the file is written before the row"
        raise DatabaseError("disk full")

    return fail


def test_it_keeps_the_file_of_a_saved_import_until_it_is_checked(
        owner, draft, applicant, private_root, django_capture_on_commit_callbacks):  # noqa: F811
    content = export(owner, draft).content
    with django_capture_on_commit_callbacks() as queued:
        item_import = start(draft, applicant, content)
    assert len(queued) == 1  # the check, once the upload commits
    with private_storage.open(item_import.file.name, "rb") as stored:
        assert stored.read() == content


def test_it_removes_the_file_when_the_import_row_cannot_be_saved(
        owner, draft, applicant, private_root, monkeypatch,  # noqa: F811
        django_capture_on_commit_callbacks):
    content = export(owner, draft).content
    seen = []
    monkeypatch.setattr(ItemImport, "save", failing_save(seen))
    with django_capture_on_commit_callbacks() as queued, pytest.raises(DatabaseError):
        start(draft, applicant, content)
    assert len(seen) == 1
    assert not private_storage.exists(seen[0])
    assert [path for path in private_root.rglob("*") if path.is_file()] == []
    assert queued == []  # no check queued for a row that is not there
    assert not ItemImport.objects.exists()


@pytest.mark.s3
def test_it_removes_the_object_when_the_import_row_cannot_be_saved(
        owner, draft, applicant, bucket, monkeypatch):  # noqa: F811
    content = export(owner, draft).content
    seen = []
    monkeypatch.setattr(ItemImport, "save", failing_save(seen))
    with pytest.raises(DatabaseError):
        start(draft, applicant, content)
    assert len(seen) == 1
    assert bucket.keys() == []
    monkeypatch.undo()
    item_import = start(draft, applicant, content)
    assert bucket.keys() == [f"files/{item_import.file.name}"]
