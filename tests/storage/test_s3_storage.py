"""Attachments and flow documents on an S3-compatible object store (issue 10, point 7): an
S3 server (moto's, in server mode, on a loopback port) started here, the private storage
switched to it with override_settings(STORAGES=...), and the real flows through the test
client: upload, download, 404 for an outsider, deletion, the drafts purge."""

import datetime
import importlib.util
import subprocess
import sys
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from masks.models import FlowDocument, StockReport
from permits import entry
from permits.models import Application, Attachment, Status
from portal.env import private_storage_setting
from tests.masks.test_flows import add_flow, cleared_declaration
from tests.permits.test_attachments import pdf_bytes, post_upload
from tests.services import free_port, require
from tests.test_deployment import PRODUCTION, ROOT, manage

KEYS = {"access_key": "portal-test", "secret_key": "portal-test-secret"}
REGION = "us-east-1"
EVERYONE = ("http://acs.amazonaws.com/groups/global/AllUsers",
            "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")


@pytest.fixture(scope="module")
def s3_endpoint():
    """moto's S3-compatible server, in this process, on a free port of 127.0.0.1."""
    require(importlib.util.find_spec("moto") is not None,
            "needs moto[server] (pip install -e '.[dev]')")
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint, settings, tmp_path):
    """A fresh bucket, and the private storage switched to it. The local folder is a fresh
    one too, which must stay empty."""
    import boto3

    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION,
                          aws_access_key_id=KEYS["access_key"],
                          aws_secret_access_key=KEYS["secret_key"])
    name = f"eportal-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    storages = {**settings.STORAGES, "private": {
        "BACKEND": "permits.storage_s3.PrivateS3Storage",
        "OPTIONS": {"bucket_name": name, "location": "files", "endpoint_url": s3_endpoint,
                    "region_name": REGION, **KEYS}}}
    with override_settings(STORAGES=storages):
        yield Bucket(client, name)


class Bucket:
    def __init__(self, client, name):
        self.client, self.name = client, name

    def keys(self):
        listing = self.client.list_objects_v2(Bucket=self.name)
        return [entry["Key"] for entry in listing.get("Contents", [])]

    def read(self, key):
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()


def download(client, url):
    # Read to the end: the test client then closes the response (and the object's body).
    response = client.get(url)
    body = b"".join(response.streaming_content) if response.status_code == 200 else b""
    return response, body


@pytest.fixture
def supplement_case(make_case, applicant, reviewer):
    return make_case(applicant, status=Status.SUPPLEMENT, reviewer=reviewer)


# --- Case attachments ----------------------------------------------------------------------


@pytest.mark.s3
@pytest.mark.django_db
def test_it_stores_an_upload_as_a_private_object(client, applicant, supplement_case, bucket,
                                                 settings):
    client.force_login(applicant)
    response = post_upload(client, supplement_case, "型錄.pdf", pdf_bytes())
    assert response.status_code == 302
    attachment = supplement_case.attachments.get()
    key = f"files/{attachment.file.name}"
    assert bucket.keys() == [key]
    assert bucket.read(key) == pdf_bytes()
    grants = bucket.client.get_object_acl(Bucket=bucket.name, Key=key)["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]
    assert not any(grant["Grantee"].get("URI") in EVERYONE for grant in grants)
    head = bucket.client.head_object(Bucket=bucket.name, Key=key)
    assert (head["ContentType"], head["ContentDisposition"]) == (
        "application/octet-stream", "attachment")
    assert not settings.PRIVATE_MEDIA_ROOT.exists()  # nothing on this node's disk
    with pytest.raises(ValueError):
        attachment.file.url  # noqa: B018 (no URL, not even a signed one)


@pytest.mark.s3
@pytest.mark.django_db
def test_it_streams_the_download_to_the_applicant_and_no_one_else(
        client, applicant, other_applicant, supplement_case, bucket):
    client.force_login(applicant)
    post_upload(client, supplement_case, "型錄.pdf", pdf_bytes())
    url = reverse("permits:attachment_download", args=[supplement_case.attachments.get().pk])
    response, body = download(client, url)
    assert response.status_code == 200
    assert body == pdf_bytes()
    assert int(response["Content-Length"]) == len(pdf_bytes())
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    client.force_login(other_applicant)
    assert download(client, url)[0].status_code == 404


@pytest.mark.s3
@pytest.mark.django_db
def test_it_removes_the_object_when_the_row_cannot_be_saved(
        client, applicant, supplement_case, bucket, monkeypatch):
    def fail(*args, **kwargs):
        assert bucket.keys(), "the object is written before the row"
        raise DatabaseError("disk full")

    monkeypatch.setattr(Attachment, "save", fail)
    client.force_login(applicant)
    with pytest.raises(DatabaseError):
        post_upload(client, supplement_case, "型錄.pdf", pdf_bytes())
    assert bucket.keys() == []


@pytest.mark.s3
@pytest.mark.django_db
def test_it_deletes_the_objects_of_a_purged_draft(client, make_case, applicant, bucket,
                                                  django_capture_on_commit_callbacks):
    old, fresh = make_case(applicant), make_case(applicant)
    client.force_login(applicant)
    for application in (old, fresh, old):
        assert post_upload(client, application, "a.pdf", pdf_bytes(),
                           kind="other").status_code == 302
    kept = f"files/{fresh.attachments.get().file.name}"
    assert len(bucket.keys()) == 3
    Application.objects.filter(pk=old.pk).update(
        updated_at=timezone.now() - datetime.timedelta(days=100))
    with django_capture_on_commit_callbacks(execute=True):
        assert entry.drafts_purge() == 1
    assert bucket.keys() == [kept]


@pytest.mark.s3
@pytest.mark.django_db
def test_it_purges_the_drafts_while_the_bucket_is_out_of_reach(
        client, make_case, applicant, bucket, settings, caplog,
        django_capture_on_commit_callbacks):
    from botocore.config import Config

    draft = make_case(applicant)
    client.force_login(applicant)
    post_upload(client, draft, "a.pdf", pdf_bytes(), kind="other")
    Application.objects.filter(pk=draft.pk).update(
        updated_at=timezone.now() - datetime.timedelta(days=100))
    private = settings.STORAGES["private"]
    unreachable = {**private, "OPTIONS": {
        **private["OPTIONS"], "endpoint_url": f"http://127.0.0.1:{free_port()}",
        "client_config": Config(connect_timeout=1, retries={"max_attempts": 1})}}
    with (override_settings(STORAGES={**settings.STORAGES, "private": unreachable}),
          django_capture_on_commit_callbacks(execute=True)):
        assert entry.drafts_purge() == 1
    assert not Application.objects.filter(pk=draft.pk).exists()
    assert "could not delete the stored file" in caplog.text
    assert len(bucket.keys()) == 1  # left behind, and said so in the log


# --- Mask flow documents -------------------------------------------------------------------


@pytest.mark.s3
@pytest.mark.django_db
def test_it_keeps_a_flow_document_in_the_bucket_until_the_flow_goes(
        client, applicant, other_applicant, make_mask_permit, bucket,
        django_capture_on_commit_callbacks):
    from masks import services

    report = services.stock_report_load(
        declaration=cleared_declaration(make_mask_permit, applicant))
    client.force_login(applicant)

    def url(name, *args):
        return reverse(name, args=args)

    assert add_flow(client, url, report).status_code == 302
    document = FlowDocument.objects.get()
    assert bucket.keys() == [f"files/{document.file.name}"]
    document_url = url("masks:flow_document", document.pk)
    response, body = download(client, document_url)
    assert response.status_code == 200 and body == bucket.read(bucket.keys()[0])
    assert body.startswith(b"%PDF-")

    client.force_login(other_applicant)
    assert download(client, document_url)[0].status_code == 404

    client.force_login(applicant)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("masks:flow_delete", report.pk, document.flow_id))
    assert response.status_code == 302
    assert not FlowDocument.objects.exists()
    assert StockReport.objects.get().allocated == 0
    assert bucket.keys() == []


# --- Chosen by STORAGE_URL -----------------------------------------------------------------


@pytest.mark.s3
def test_it_uses_the_bucket_storage_url_names(s3_endpoint):
    import boto3

    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION,
                          aws_access_key_id=KEYS["access_key"],
                          aws_secret_access_key=KEYS["secret_key"])
    name = f"eportal-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    script = ("import django; django.setup()\n"
              "from django.core.files.base import ContentFile\n"
              "from permits.models import private_storage\n"
              "print(private_storage.save('probe/x', ContentFile(b'stored')))\n"
              "print(type(private_storage._wrapped).__name__)\n")
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "portal.settings",
             "DEBUG": "1", "AWS_ACCESS_KEY_ID": KEYS["access_key"],
             "AWS_SECRET_ACCESS_KEY": KEYS["secret_key"],
             "STORAGE_URL": f"s3://{name}/eportal?endpoint_url={s3_endpoint}"
                            f"&region_name={REGION}&addressing_style=path"})
    assert result.returncode == 0, result.stderr
    stored, backend = result.stdout.split()
    assert backend == "PrivateS3Storage"
    body = client.get_object(Bucket=name, Key=f"eportal/{stored}")["Body"].read()
    assert body == b"stored"


def test_it_passes_the_deployment_checks_with_a_bucket():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION,
                    STORAGE_URL="s3://eportal-files/attachments?region_name=ap-northeast-1")
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_reads_storage_url():
    assert private_storage_setting("") == {"BACKEND": "permits.storage.PrivateStorage"}
    assert private_storage_setting(
        "s3://eportal-files/prod/attachments?endpoint_url=https://s3.example:9000"
        "&region_name=tw-1&addressing_style=path") == {
        "BACKEND": "permits.storage_s3.PrivateS3Storage",
        "OPTIONS": {"bucket_name": "eportal-files", "location": "prod/attachments",
                    "endpoint_url": "https://s3.example:9000", "region_name": "tw-1",
                    "addressing_style": "path"}}


@pytest.mark.parametrize("url", [
    "https://eportal-files/",  # not s3://
    "s3://key:secret@eportal-files",  # keys belong in AWS_* variables
    "s3://s3.example:9000/eportal-files",  # the server belongs in endpoint_url
    "s3://eportal-files?querystring_auth=false",  # not an option a URL may set
    "s3://eportal-files?region_name=a&region_name=b",
    "s3://eportal-files?default_acl=public-read",
])
def test_it_refuses_a_storage_url_it_cannot_read_safely(url):
    with pytest.raises(ImproperlyConfigured):
        private_storage_setting(url)


@pytest.mark.parametrize("options", [{"default_acl": "public-read"},
                                     {"default_acl": None},
                                     {"object_parameters": {"ACL": "public-read-write"}}])
def test_it_refuses_an_acl_that_is_not_private(options):
    from permits.storage_s3 import PrivateS3Storage

    with pytest.raises(ImproperlyConfigured):
        PrivateS3Storage(bucket_name="eportal-files", **options)
