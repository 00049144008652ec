"""Attachments: accepted and refused by content, stored privately, downloaded only by those
who may see the case."""

import base64
import binascii
import hashlib
import io
import struct
import sys
import zipfile
import zlib
from pathlib import Path
from urllib.parse import quote

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.constants import ERROR
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError
from django.urls import reverse

from permits import attachments
from permits.attachments import AttachmentForm, attachment_add, detect_content_type
from permits.models import Attachment, DocumentType, Status

pytestmark = pytest.mark.usefixtures("private_root")

# --- Real files, built here ---------------------------------------------------------------


def pdf_bytes():
    """A minimal valid PDF: one empty A4 page."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, xref))
    return out.getvalue()


def png_bytes():
    """A 1×1 white PNG, chunk by chunk."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff")) + chunk(b"IEND", b""))


def image_bytes(pillow_format):
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(out, format=pillow_format)
    return out.getvalue()


def xlsx_bytes():
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["項次", "貨品名稱"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def ods_bytes():
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    table = Table(name="Sheet1")
    row = TableRow()
    cell = TableCell()
    cell.addElement(P(text="貨品名稱"))
    row.addElement(cell)
    table.addElement(row)
    document.spreadsheet.addElement(table)
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


def zip_bytes(entries, *, mimetype=None):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        if mimetype is not None:
            # ODF: first entry, stored uncompressed.
            archive.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def docx_bytes(main_type="application/vnd.openxmlformats-officedocument.wordprocessingml."
                         "document.main+xml"):
    word = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    return zip_bytes({
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/word/document.xml" ContentType="{main_type}"/>'
            "</Types>"),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
            "</Relationships>"),
        "word/document.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{word}"><w:body>'
            "<w:p><w:r><w:t>最終用途保證書</w:t></w:r></w:p></w:body></w:document>"),
    })


def odt_bytes():
    office = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
    text = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
    return zip_bytes({
        "META-INF/manifest.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
            '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
            '<manifest:file-entry manifest:full-path="/" manifest:media-type='
            '"application/vnd.oasis.opendocument.text"/><manifest:file-entry '
            'manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
            "</manifest:manifest>"),
        "content.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><office:document-content '
            f'xmlns:office="{office}" xmlns:text="{text}" office:version="1.2"><office:body>'
            "<office:text><text:p>最終用途保證書</text:p></office:text></office:body>"
            "</office:document-content>"),
    }, mimetype="application/vnd.oasis.opendocument.text")


def elf_bytes():
    """The first 64 KiB of a real executable: the Python interpreter running the tests."""
    data = Path(sys.executable).resolve().read_bytes()[:64 * 1024]
    assert data.startswith(b"\x7fELF")
    return data


def pe_bytes():
    """The head of a Windows executable: the MZ stub pointing at a PE header."""
    head = bytearray(b"MZ" + b"\x90\x00" + b"\x00" * 56 + struct.pack("<I", 64))
    return bytes(head) + b"PE\x00\x00" + b"\x4c\x01" + b"\x00" * 200


def xlsm_renamed_bytes():
    """A real workbook whose package declares itself macro-enabled (.xlsm)."""
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes()))
    entries = {name: source.read(name) for name in source.namelist()}
    entries["[Content_Types].xml"] = entries["[Content_Types].xml"].replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
    return zip_bytes(entries)


def self_extracting_bytes():
    """A real .xlsx appended to an executable: zipfile alone would open it."""
    return pe_bytes() + xlsx_bytes()


ACCEPTED = {
    "pdf": ("申請書.pdf", pdf_bytes, attachments.PDF),
    "jpeg": ("scan.jpg", lambda: image_bytes("JPEG"), attachments.JPEG),
    "png": ("scan.png", png_bytes, attachments.PNG),
    "tiff": ("scan.tiff", lambda: image_bytes("TIFF"), attachments.TIFF),
    "xlsx": ("items.xlsx", xlsx_bytes, attachments.XLSX),
    "ods": ("items.ods", ods_bytes, attachments.ODS),
    "docx": ("assurance.docx", docx_bytes, attachments.DOCX),
    "odt": ("assurance.odt", odt_bytes, attachments.ODT),
}

REFUSED = {
    "elf-as-pdf": ("invoice.pdf", elf_bytes),
    "pe-as-pdf": ("invoice.pdf", pe_bytes),
    "html-as-pdf": ("invoice.pdf", lambda: b"<!DOCTYPE html><script>alert(1)</script>"),
    "svg-as-png": ("logo.png", lambda: b'<svg xmlns="http://www.w3.org/2000/svg"/>'),
    "plain-zip-as-xlsx": ("items.xlsx", lambda: zip_bytes({"items.csv": "a,b\n1,2\n"})),
    "xlsm-as-xlsx": ("items.xlsx", xlsm_renamed_bytes),
    "template-as-docx": ("letter.docx", lambda: docx_bytes(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml")),
    "self-extracting-as-xlsx": ("items.xlsx", self_extracting_bytes),
    "broken-zip-as-docx": ("letter.docx", lambda: docx_bytes()[:200]),
    "text-as-pdf": ("invoice.pdf", lambda: "這不是PDF".encode()),
}


def upload(name, data, content_type="application/octet-stream"):
    # The browser's content type is ignored: it is the client's guess from the name.
    return SimpleUploadedFile(name, data, content_type=content_type)


def stored_files(root):
    return [path for path in Path(root).rglob("*") if path.is_file()]


# --- Fixtures ------------------------------------------------------------------------------



@pytest.fixture
def supplement_case(make_case, applicant, reviewer):
    return make_case(applicant, status=Status.SUPPLEMENT, reviewer=reviewer)


@pytest.fixture
def stored(supplement_case, applicant):
    return attachment_add(application=supplement_case, actor=applicant,
                          document_kind="supplement",
                          upload=upload("型錄 catalogue.pdf", pdf_bytes()))


def form_for(name, data, kind="supplement"):
    return AttachmentForm({"document_kind": kind}, {"file": upload(name, data)},
                          document_type=DocumentType.SHTC_EXPORT)


def file_error_codes(form):
    assert not form.is_valid()
    return [error.code for error in form.errors.as_data()["file"]]


def post_upload(client, application, name, data, kind="supplement"):
    return client.post(reverse("permits:attachment_upload", args=[application.pk]),
                       {"document_kind": kind, "file": upload(name, data)})


# --- Detection and the form ----------------------------------------------------------------


@pytest.mark.parametrize("name, build, content_type", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_it_detects_each_accepted_type_by_content(name, build, content_type):
    assert detect_content_type(io.BytesIO(build())) == content_type


@pytest.mark.parametrize("name, build", REFUSED.values(), ids=REFUSED.keys())
def test_it_detects_nothing_in_other_content(name, build):
    assert detect_content_type(io.BytesIO(build())) is None


def test_it_rewinds_the_file_after_detection():
    data = xlsx_bytes()
    fileobj = io.BytesIO(data)
    fileobj.read(10)
    detect_content_type(fileobj)
    assert fileobj.read() == data


@pytest.mark.parametrize("name, build, content_type", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_it_accepts_each_allowed_type(name, build, content_type):
    form = form_for(name, build())
    assert form.is_valid(), form.errors


@pytest.mark.parametrize("name, build", REFUSED.values(), ids=REFUSED.keys())
def test_it_refuses_content_of_other_types_whatever_the_name(name, build):
    assert file_error_codes(form_for(name, build())) == ["type_not_allowed"]


def test_it_refuses_a_name_that_contradicts_the_content():
    assert file_error_codes(form_for("invoice.pdf", png_bytes())) == ["extension_mismatch"]


def test_it_refuses_a_name_without_extension():
    assert file_error_codes(form_for("invoice", pdf_bytes())) == ["extension_mismatch"]


def test_it_accepts_an_extension_in_capitals():
    assert form_for("SCAN.JPEG", image_bytes("JPEG")).is_valid()


def test_it_refuses_a_file_over_the_limit(settings):
    data = pdf_bytes()
    settings.ATTACHMENT_MAX_BYTES = len(data) - 1
    assert file_error_codes(form_for("申請書.pdf", data)) == ["too_large"]


def test_it_accepts_a_file_at_the_limit(settings):
    data = pdf_bytes()
    settings.ATTACHMENT_MAX_BYTES = len(data)
    assert form_for("申請書.pdf", data).is_valid()


def test_it_refuses_an_empty_file():
    assert file_error_codes(form_for("申請書.pdf", b"")) == ["empty"]


def test_it_offers_the_procedures_document_kinds():
    form = AttachmentForm(document_type=DocumentType.SHTC_EXPORT)
    choices = [value for value, _label in form.fields["document_kind"].choices]
    assert {"supplement", "other"} <= set(choices)


def test_it_requires_a_document_kind():
    form = form_for("申請書.pdf", pdf_bytes(), kind="")
    assert not form.is_valid()
    assert [e.code for e in form.errors.as_data()["document_kind"]] == ["required"]


# --- The service ---------------------------------------------------------------------------


def test_it_stores_the_file_with_its_digest(stored, applicant, private_root):
    data = pdf_bytes()
    attachment = Attachment.objects.get()
    assert attachment == stored
    assert attachment.uploaded_by == applicant
    assert attachment.document_kind == "supplement"
    assert attachment.content_type == attachments.PDF
    assert attachment.size == len(data)
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    assert attachment.original_name == "型錄 catalogue.pdf"
    path = Path(attachment.file.path)
    assert path.is_relative_to(private_root)
    assert path.read_bytes() == data


def test_it_stores_under_a_name_unrelated_to_the_users(stored):
    assert "catalogue" not in stored.file.name
    assert not stored.file.name.endswith(".pdf")


def test_it_keeps_only_the_base_name_without_control_characters(supplement_case, applicant):
    attachment = attachment_add(
        application=supplement_case, actor=applicant, document_kind="other",
        upload=upload("C:\\Users\\王\\報告\r\n\u202e.pdf", pdf_bytes()))
    assert attachment.original_name == "報告.pdf"


def test_it_accepts_documents_on_a_draft(make_case, applicant):
    application = make_case(applicant)
    attachment_add(application=application, actor=applicant, document_kind="other",
                   upload=upload("申請書.pdf", pdf_bytes()))
    assert application.attachments.count() == 1


@pytest.mark.parametrize("status", [Status.INITIAL_REVIEW, Status.APPROVED])
def test_it_refuses_documents_while_the_bureau_has_or_closed_the_case(
        make_case, applicant, reviewer, private_root, status):
    application = make_case(applicant, status=status, reviewer=reviewer)
    with pytest.raises(ValidationError) as refused:
        attachment_add(application=application, actor=applicant, document_kind="other",
                       upload=upload("申請書.pdf", pdf_bytes()))
    assert refused.value.code == "not_open"
    assert not Attachment.objects.exists()
    assert stored_files(private_root) == []


def test_it_refuses_documents_from_a_reviewer(supplement_case, reviewer):
    with pytest.raises(ValidationError) as refused:
        attachment_add(application=supplement_case, actor=reviewer, document_kind="other",
                       upload=upload("申請書.pdf", pdf_bytes()))
    assert refused.value.code == "not_entitled"
    assert not Attachment.objects.exists()


def test_it_refuses_documents_from_another_applicant(supplement_case, other_applicant):
    with pytest.raises(ValidationError) as refused:
        attachment_add(application=supplement_case, actor=other_applicant,
                       document_kind="other", upload=upload("申請書.pdf", pdf_bytes()))
    assert refused.value.code == "not_entitled"


def test_it_refuses_an_unknown_document_kind(supplement_case, applicant):
    with pytest.raises(ValidationError) as refused:
        attachment_add(application=supplement_case, actor=applicant, document_kind="virus",
                       upload=upload("申請書.pdf", pdf_bytes()))
    assert refused.value.code == "invalid_kind"


def test_it_checks_the_content_in_the_service_too(supplement_case, applicant, private_root):
    with pytest.raises(ValidationError) as refused:
        attachment_add(application=supplement_case, actor=applicant, document_kind="other",
                       upload=upload("invoice.pdf", elf_bytes()))
    assert refused.value.code == "type_not_allowed"
    assert not Attachment.objects.exists()
    assert stored_files(private_root) == []


def test_it_removes_the_file_when_the_row_cannot_be_saved(
        supplement_case, applicant, private_root, monkeypatch):
    def fail(*args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(Attachment, "save", fail)
    with pytest.raises(DatabaseError):
        attachment_add(application=supplement_case, actor=applicant, document_kind="other",
                       upload=upload("申請書.pdf", pdf_bytes()))
    assert stored_files(private_root) == []


def test_it_keeps_private_media_outside_the_web_roots():
    from portal import settings as real

    private = Path(real.PRIVATE_MEDIA_ROOT).resolve()
    web_roots = [real.STATIC_ROOT, *real.STATICFILES_DIRS, real.BASE_DIR / "templates"]
    if getattr(real, "MEDIA_ROOT", ""):
        web_roots.append(real.MEDIA_ROOT)
    for web_root in web_roots:
        web_root = Path(web_root).resolve()
        assert not private.is_relative_to(web_root)
        assert not web_root.is_relative_to(private)


# --- Upload view ---------------------------------------------------------------------------


def test_it_uploads_for_the_applicant(client, applicant, supplement_case):
    client.force_login(applicant)
    response = post_upload(client, supplement_case, "型錄.pdf", pdf_bytes())
    assert response.status_code == 302
    assert response.url == reverse("permits:application_detail", args=[supplement_case.pk])
    attachment = supplement_case.attachments.get()
    assert attachment.uploaded_by == applicant
    assert attachment.content_type == attachments.PDF


def test_it_uploads_for_the_agent_who_filed(client, make_case, applicant, agent, reviewer):
    application = make_case(applicant, actor=agent, status=Status.SUPPLEMENT,
                            reviewer=reviewer)
    client.force_login(agent)
    response = post_upload(client, application, "items.xlsx", xlsx_bytes())
    assert response.status_code == 302
    assert application.attachments.get().uploaded_by == agent


def test_it_refuses_an_executable_named_pdf_and_stores_nothing(
        client, applicant, supplement_case, private_root):
    client.force_login(applicant)
    response = post_upload(client, supplement_case, "invoice.pdf", elf_bytes())
    assert response.status_code == 302
    assert not Attachment.objects.exists()
    assert stored_files(private_root) == []
    assert [m.level for m in get_messages(response.wsgi_request)] == [ERROR]


def test_it_refuses_an_upload_while_the_case_is_in_review(
        client, make_case, applicant, private_root):
    application = make_case(applicant, status=Status.INITIAL_REVIEW)
    client.force_login(applicant)
    response = post_upload(client, application, "型錄.pdf", pdf_bytes())
    assert response.status_code == 302
    assert not Attachment.objects.exists()
    assert stored_files(private_root) == []
    assert [m.level for m in get_messages(response.wsgi_request)] == [ERROR]


def test_it_gives_404_on_upload_by_another_applicant(
        client, other_applicant, supplement_case, private_root):
    client.force_login(other_applicant)
    response = post_upload(client, supplement_case, "型錄.pdf", pdf_bytes())
    assert response.status_code == 404
    assert not Attachment.objects.exists()
    assert stored_files(private_root) == []


def test_it_sends_an_anonymous_upload_to_login(client, supplement_case):
    response = post_upload(client, supplement_case, "型錄.pdf", pdf_bytes())
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
    assert not Attachment.objects.exists()


def test_it_refuses_get_on_upload(client, applicant, supplement_case):
    client.force_login(applicant)
    response = client.get(reverse("permits:attachment_upload", args=[supplement_case.pk]))
    assert response.status_code == 405


# --- Download view -------------------------------------------------------------------------


def download(client, attachment):
    return client.get(reverse("permits:attachment_download", args=[attachment.pk]))


def assert_is_the_download(response, attachment):
    assert response.status_code == 200
    assert response["Content-Type"] == attachments.PDF
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Content-Disposition"].startswith("attachment;")
    assert quote("型錄 catalogue.pdf") in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == pdf_bytes()


def test_it_downloads_for_the_applicant(client, applicant, stored):
    client.force_login(applicant)
    assert_is_the_download(download(client, stored), stored)


def test_it_downloads_for_the_agent_who_filed(client, make_case, applicant, agent, reviewer):
    application = make_case(applicant, actor=agent, status=Status.SUPPLEMENT,
                            reviewer=reviewer)
    attachment = attachment_add(application=application, actor=agent,
                                document_kind="supplement",
                                upload=upload("型錄 catalogue.pdf", pdf_bytes()))
    client.force_login(agent)
    assert_is_the_download(download(client, attachment), attachment)


def test_it_downloads_for_a_reviewer(client, reviewer, stored):
    client.force_login(reviewer)
    assert_is_the_download(download(client, stored), stored)


def test_it_gives_404_on_download_by_another_applicant(client, other_applicant, stored):
    client.force_login(other_applicant)
    assert download(client, stored).status_code == 404


def test_it_gives_404_on_download_by_an_agent_who_did_not_file(client, agent, stored):
    client.force_login(agent)
    assert download(client, stored).status_code == 404


def test_it_sends_an_anonymous_download_to_login(client, stored):
    response = download(client, stored)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


# --- Packages that would overwhelm whoever opens them; PDFs that run things (issue 9) -------


@pytest.fixture(scope="session")
def zip_bomb(tmp_path_factory):
    """A real workbook carrying 300 MB of zeros in a few hundred KB (the issue's 306 KB
    file), written streaming to disk: the test itself never holds the 300 MB."""
    path = tmp_path_factory.mktemp("bomb") / "items.xlsx"
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for info in source.infolist():
            archive.writestr(info.filename, source.read(info.filename))
        zeros = bytes(1024 * 1024)
        with archive.open("xl/media/image1.bin", "w", force_zip64=True) as member:
            for _ in range(300):
                member.write(zeros)
    assert path.stat().st_size < 400 * 1024
    return path


def file_upload(path, name):
    from django.core.files import File

    return File(path.open("rb"), name=name)


def xlsx_with(extra):
    """A real workbook with more parts."""
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes()))
    entries = {name: source.read(name) for name in source.namelist()}
    entries.update(extra)
    return zip_bytes(entries)


def patch_zip_entry(data, name, **fields):
    """The ZIP `data` with the named entry's CRC and sizes overwritten in both its local
    header and the central directory, as a hand-made archive lies about them."""
    data = bytearray(data)
    encoded = name.encode()
    layouts = [(b"PK\x01\x02", 46, 28, {"crc": 16, "compress_size": 20, "file_size": 24}),
               (b"PK\x03\x04", 30, 26, {"crc": 14, "compress_size": 18, "file_size": 22})]
    for signature, fixed, name_length_at, offsets in layouts:
        start = 0
        while (start := data.find(signature, start)) >= 0:
            (length,) = struct.unpack_from("<H", data, start + name_length_at)
            if data[start + fixed:start + fixed + length] == encoded:
                for field, value in fields.items():
                    struct.pack_into("<I", data, start + offsets[field], value)
            start += 4
    return bytes(data)


def lying_zip():
    """An entry that declares 10 KB and the CRC of its first 10 KB, but inflates to 1 MB:
    reading only what the directory declares would never notice."""
    real = bytes(range(256)) * 4096  # 1 MiB, compressible but not absurdly
    data = xlsx_with({"xl/media/image1.bin": real})
    return patch_zip_entry(data, "xl/media/image1.bin", file_size=10 * 1024,
                           crc=zlib.crc32(real[:10 * 1024]))


def corrupted_zip():
    """A real workbook with one byte of a stored part's content changed: the CRC fails."""
    out = io.BytesIO()
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes()))
    with zipfile.ZipFile(out, "w") as archive:
        for info in source.infolist():
            archive.writestr(info.filename, source.read(info.filename),
                             compress_type=zipfile.ZIP_STORED)
    data = out.getvalue()
    return data.replace(b"<sheetData", b"<sheetDatb", 1)


def duplicate_names_zip():
    """Two parts of one name: which one does the office program open?"""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate, rightly
        out = io.BytesIO()
        source = zipfile.ZipFile(io.BytesIO(xlsx_bytes()))
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for info in source.infolist():
                archive.writestr(info.filename, source.read(info.filename))
            archive.writestr("xl/workbook.xml", b"<workbook/>")
    return out.getvalue()


def many_parts_zip(count):
    return xlsx_with({f"xl/media/p{number}.bin": b"" for number in range(count)})


def pdf_with(*objects, head=b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", catalog_extra=b""):
    """A PDF with a catalogue, one page and `objects` numbered from 4 on."""
    bodies = [b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b">>",
              b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
              b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>", *objects]
    out = io.BytesIO()
    out.write(head)
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(bodies) + 1, xref))
    return out.getvalue()


def stream(content, dictionary=b""):
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (dictionary, len(content), content)


def object_stream(objects, *, compress=True, dictionary=b"/Type /ObjStm"):
    """An object stream holding `objects` (numbered from 10 on), Flate-compressed."""
    header, body = [], b""
    for number, content in enumerate(objects, start=10):
        header.append(b"%d %d" % (number, len(body)))
        body += content + b"\n"
    header = b" ".join(header) + b"\n"
    data = header + body
    extra = b"%s /N %d /First %d" % (dictionary, len(objects), len(header))
    if compress:
        return stream(zlib.compress(data), extra + b" /Filter /FlateDecode")
    return stream(data, extra)


JAVASCRIPT_ACTION = b"<< /Type /Action /S /JavaScript /JS (app.alert\\(1\\)) >>"
ACTIVE_PDFS = {
    "open-action-javascript": lambda: pdf_with(JAVASCRIPT_ACTION,
                                               catalog_extra=b"/OpenAction 4 0 R"),
    "open-action-inline": lambda: pdf_with(catalog_extra=b"/OpenAction " + JAVASCRIPT_ACTION),
    "escaped-names": lambda: pdf_with(
        b"<< /S /Java#53cript /J#53 (app.alert\\(1\\)) >>", catalog_extra=b"/Open#41ction 4 0 R"),
    "page-additional-actions": lambda: pdf_with(b"<< /O << /S /GoTo /D [3 0 R /Fit] >> >>",
                                                catalog_extra=b"/AA 4 0 R"),
    "launch": lambda: pdf_with(b"<< /S /Launch /F (calc.exe) >>"),
    "embedded-file": lambda: pdf_with(stream(b"MZ\x90\x00", b"/Type /EmbeddedFile")),
    "rich-media": lambda: pdf_with(b"<< /Type /Annot /Subtype /RichMedia >>"),
    "xfa-form": lambda: pdf_with(b"<< /Fields [] /XFA 5 0 R >>", stream(b"<xdp:xdp/>")),
    "javascript-in-object-stream": lambda: pdf_with(object_stream(
        [b"<< /Names << /JavaScript << /Names [(x) 11 0 R] >> >> >>", JAVASCRIPT_ACTION])),
    "object-stream-without-its-type": lambda: pdf_with(object_stream(
        [JAVASCRIPT_ACTION], dictionary=b"")),
    "uncompressed-object-stream": lambda: pdf_with(object_stream(
        [JAVASCRIPT_ACTION], compress=False)),
    "hex-encoded-object-stream": lambda: pdf_with(encoded_object_stream(
        lambda data: binascii.hexlify(data) + b">", b"/ASCIIHexDecode")),
    "ascii85-over-flate-object-stream": lambda: pdf_with(encoded_object_stream(
        lambda data: base64.a85encode(zlib.compress(data), adobe=True)[2:],
        b"[/ASCII85Decode /FlateDecode]")),
}


def encoded_object_stream(encode, filters):
    data = b"10 0\n" + JAVASCRIPT_ACTION
    return stream(encode(data), b"/Type /ObjStm /N 1 /First 5 /Filter " + filters)

SAFE_PDFS = {
    "destination-on-open": lambda: pdf_with(catalog_extra=b"/OpenAction [3 0 R /XYZ null null 0]"),
    "link": lambda: pdf_with(
        b"<< /Type /Annot /Subtype /Link /A << /S /URI /URI (https://example.com/js/aa) >> >>"),
    "names-like-active-ones": lambda: pdf_with(b"<< /JSON 1 /AAB 2 /XFAx 3 /Javascript 4 >>"),
    "object-stream": lambda: pdf_with(object_stream(
        [b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>", b"[1 2 3]"])),
    "compressed-content": lambda: pdf_with(stream(
        zlib.compress(b"BT /F1 12 Tf 72 720 Td (Hello) Tj ET"), b"/Filter /FlateDecode")),
}


def weasyprint_pdf():
    """A PDF as the portal itself writes them (WeasyPrint: object streams, a link)."""
    from weasyprint import HTML

    return HTML(string='<p>許可證 <a href="https://example.com/verify/">link</a></p>').write_pdf()


def polyglot():
    """A PDF whose first kilobyte is also a web page."""
    return pdf_with(head=b"%PDF-1.4\n<html><body><script>alert(document.domain)</script>"
                         b"</body></html>\n")


def check(name, data):
    with pytest.raises(ValidationError) as refused:
        attachments.check_upload(upload(name, data))
    return refused.value.code


def test_it_refuses_a_zip_bomb_from_its_directory(zip_bomb):
    import time

    started = time.monotonic()
    with pytest.raises(ValidationError) as refused:
        attachments.check_upload(file_upload(zip_bomb, "items.xlsx"))
    assert refused.value.code == "package_too_large"
    # Judged from the central directory: nothing is inflated (inflating takes seconds).
    assert time.monotonic() - started < 1


def test_it_refuses_a_zip_bomb_next_to_the_field(zip_bomb):
    data = zip_bomb.read_bytes()
    assert file_error_codes(form_for("items.xlsx", data)) == ["package_too_large"]


def test_it_refuses_a_zip_bomb_as_a_flow_document(zip_bomb):
    from masks.forms import DocumentsField

    with pytest.raises(ValidationError) as refused:
        DocumentsField().clean([upload("items.xlsx", zip_bomb.read_bytes())])
    assert refused.value.code == "package_too_large"


def test_it_refuses_a_zip_bomb_upload_and_stores_nothing(
        client, applicant, supplement_case, private_root, zip_bomb):
    client.force_login(applicant)
    response = post_upload(client, supplement_case, "items.xlsx", zip_bomb.read_bytes())
    assert response.status_code == 302
    assert not Attachment.objects.exists()
    assert stored_files(private_root) == []
    assert [m.level for m in get_messages(response.wsgi_request)] == [ERROR]


def test_it_refuses_a_package_of_too_many_parts():
    assert check("items.xlsx", many_parts_zip(attachments.PACKAGE_MAX_ENTRIES)) == (
        "package_too_many_entries")


def test_it_accepts_a_package_just_within_the_part_limit(monkeypatch):
    monkeypatch.setattr(attachments, "PACKAGE_MAX_ENTRIES", 50)
    data = many_parts_zip(50 - len(zipfile.ZipFile(io.BytesIO(xlsx_bytes())).namelist()))
    assert attachments.check_upload(upload("items.xlsx", data)) == attachments.XLSX


def test_it_refuses_a_part_compressed_beyond_any_real_document():
    # 2 MB of zeros: a thousand to one, far under the total limit.
    assert check("items.xlsx", xlsx_with({"xl/media/image1.bin": bytes(2 * 1024 * 1024)})) == (
        "package_ratio")


def test_it_accepts_a_part_compressed_as_real_content_is():
    text = " ".join(f"<row r='{n}'><c><v>{n * 7919 % 10007}</v></c></row>" for n in range(40000))
    assert attachments.check_upload(upload("items.xlsx", xlsx_with(
        {"xl/worksheets/sheet2.xml": text}))) == attachments.XLSX


@pytest.mark.parametrize("build", [lying_zip, corrupted_zip, duplicate_names_zip],
                         ids=["sizes-lie", "bad-crc", "duplicate-names"])
def test_it_refuses_a_package_that_is_not_well_formed(build):
    assert check("items.xlsx", build()) == "package_malformed"


@pytest.mark.parametrize("build", ACTIVE_PDFS.values(), ids=ACTIVE_PDFS.keys())
def test_it_refuses_a_pdf_with_active_content(build):
    assert check("申請書.pdf", build()) == "pdf_active_content"


def test_it_refuses_an_active_pdf_next_to_the_field():
    data = ACTIVE_PDFS["open-action-javascript"]()
    assert file_error_codes(form_for("申請書.pdf", data)) == ["pdf_active_content"]


def test_it_names_what_is_active_in_the_message():
    with pytest.raises(ValidationError) as refused:
        attachments.check_upload(upload("申請書.pdf", ACTIVE_PDFS["escaped-names"]()))
    assert "/JavaScript" in refused.value.messages[0]
    assert "/OpenAction" in refused.value.messages[0]


@pytest.mark.parametrize("build", [*SAFE_PDFS.values(), weasyprint_pdf],
                         ids=[*SAFE_PDFS.keys(), "weasyprint"])
def test_it_accepts_a_pdf_without_active_content(build):
    assert attachments.check_upload(upload("申請書.pdf", build())) == attachments.PDF


UNREADABLE_PDFS = {
    "encrypted": lambda: pdf_with(b"<< /Filter /Standard /V 2 /R 3 /O <00> /U <00> /P -4 >>",
                                  catalog_extra=b"/Encr#79pt 4 0 R"),
    "lzw-object-stream": lambda: pdf_with(stream(
        b"\x80\x0b\x60\x50\x22\x0c", b"/Type /ObjStm /N 1 /First 5 /Filter /LZWDecode")),
    "object-stream-behind-a-predictor": lambda: pdf_with(stream(
        zlib.compress(b"\x02" + b"\x01" * 40), b"/Type /ObjStm /N 1 /First 5 /Filter "
        b"/FlateDecode /DecodeParms << /Predictor 12 /Columns 40 >>")),
}


@pytest.mark.parametrize("build", UNREADABLE_PDFS.values(), ids=UNREADABLE_PDFS.keys())
def test_it_refuses_a_pdf_whose_object_streams_it_cannot_read(build):
    assert check("申請書.pdf", build()) == "pdf_unreadable"


def test_it_counts_active_names_inside_strings_too():
    # Deliberate: a scanner that skips strings can be led to skip what a reader takes for
    # names; a link to …/JavaScript/… costs the user a “Print to PDF”.
    data = pdf_with(b"<< /S /URI /URI (https://developer.mozilla.org/Web/JavaScript) >>")
    assert check("申請書.pdf", data) == "pdf_active_content"


def test_it_refuses_a_pdf_whose_object_streams_inflate_beyond_the_cap(monkeypatch):
    monkeypatch.setattr(attachments, "PDF_MAX_INFLATED", 1024)
    monkeypatch.setattr(attachments, "PDF_INFLATE_RATIO", 1)
    big = object_stream([b"[" + b"0 " * 4096 + b"]"])
    assert check("申請書.pdf", pdf_with(big)) == "pdf_unreadable"


def test_it_refuses_an_html_in_pdf_polyglot():
    assert check("申請書.pdf", polyglot()) == "html_content"


def test_it_refuses_a_polyglot_next_to_the_field():
    assert file_error_codes(form_for("申請書.pdf", polyglot())) == ["html_content"]


def test_it_refuses_a_script_anywhere_in_a_pdf():
    data = pdf_with(stream(b"<script>alert(1)</script>"), b"<< /Pad (" + b"x" * 4096 + b") >>")
    assert check("申請書.pdf", data) == "html_content"


def test_it_refuses_an_image_that_reads_as_a_web_page():
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    data = png_bytes()
    text = chunk(b"tEXt", b"Comment\x00<html><script>alert(1)</script></html>")
    assert check("scan.png", data[:33] + text + data[33:]) == "html_content"


def test_it_refuses_a_pdf_of_more_streams_than_it_reads(monkeypatch):
    monkeypatch.setattr(attachments, "PDF_MAX_STREAMS", 3)
    data = pdf_with(*[stream(b"q Q") for _ in range(4)])
    assert check("申請書.pdf", data) == "pdf_unreadable"


def test_it_refuses_a_pdf_flooded_with_escapes():
    # Every "#" is looked at: more than random bytes hold is refused, not read.
    data = pdf_with(b"<< " + b"/A#41 " * 20_000 + b">>")
    assert check("申請書.pdf", data) == "pdf_unreadable"
