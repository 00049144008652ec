"""Drafts (暫存, PERMIT-6): a case being entered is an Application in 暫存 from its first
下一步; the nightly purge deletes those nobody touched for DRAFT_MAX_AGE_DAYS. (匯入暫存資料
and 復原 are tested on the mask pages and the framework's test procedure.)"""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from permits import attachments, entry, services, tasks, workflow
from permits.models import Application, Attachment, DocumentType, Status

ITEM = {"tariff_code": "85423100003", "description": "FPGA", "quantity": "2", "unit": "PCE",
        "unit_price": "10", "currency": "USD", "origin_country": "US"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

pytestmark = pytest.mark.django_db


def draft(user, *, days_old):
    application = services.application_create(document_type=DocumentType.SHTC_EXPORT,
                                              applicant=user, actor=user, items=[ITEM])
    Application.objects.filter(pk=application.pk).update(
        updated_at=timezone.now() - datetime.timedelta(days=days_old))
    return application


def test_it_purges_drafts_older_than_the_setting(applicant, settings):
    settings.DRAFT_MAX_AGE_DAYS = 30
    old, fresh = draft(applicant, days_old=31), draft(applicant, days_old=29)
    assert tasks.purge_drafts() == 1
    assert list(Application.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not Application.objects.filter(pk=old.pk).exists()


def test_it_never_purges_a_filed_case(applicant):
    filed = draft(applicant, days_old=400)
    workflow.transition(application=filed, to=Status.INITIAL_REVIEW, actor=applicant)
    Application.objects.filter(pk=filed.pk).update(
        updated_at=timezone.now() - datetime.timedelta(days=400))
    assert entry.drafts_purge() == 0
    assert Application.objects.filter(pk=filed.pk).exists()


def test_it_deletes_the_files_of_a_purged_draft(applicant, django_capture_on_commit_callbacks):
    old = draft(applicant, days_old=100)
    attachment = attachments.attachment_add(
        application=old, actor=applicant, document_kind="other",
        upload=SimpleUploadedFile("a.pdf", PDF, content_type="application/pdf"))
    storage, name = attachment.file.storage, attachment.file.name
    assert storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        assert entry.drafts_purge() == 1
    assert not Attachment.objects.exists() and not storage.exists(name)
