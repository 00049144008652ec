"""Attachments of a case: what may be uploaded, the upload form and the service that stores it.

A file is accepted by what it is, not by what it is called: its first bytes (and, for the
office formats, the ZIP container's own declaration of its content) must be one of the types
in ALLOWED_TYPES, and its name must carry an extension of that type, so that the browser and
the reviewer's desktop open it as what it was checked to be. Files are stored under
settings.PRIVATE_MEDIA_ROOT (permits.models.private_storage), outside every web root, and are
served only by permits.attachment_views.attachment_download.
"""

import hashlib
import unicodedata
import zipfile
import zlib
from typing import NamedTuple
from xml.etree import ElementTree

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse
from django.template.defaultfilters import filesizeformat
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from permits import procedures, workflow
from permits.models import Application, Attachment, Status
from portal.forms import PortalForm


class FileType(NamedTuple):
    label: str
    extensions: tuple[str, ...]  # the first is the usual one


PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
TIFF = "image/tiff"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODT = "application/vnd.oasis.opendocument.text"

ALLOWED_TYPES = {
    PDF: FileType("PDF", (".pdf",)),
    JPEG: FileType("JPEG", (".jpg", ".jpeg")),
    PNG: FileType("PNG", (".png",)),
    TIFF: FileType("TIFF", (".tif", ".tiff")),
    XLSX: FileType("XLSX", (".xlsx",)),
    ODS: FileType("ODS", (".ods",)),
    DOCX: FileType("DOCX", (".docx",)),
    ODT: FileType("ODT", (".odt",)),
}

# Cases take documents while the applicant holds them: before submission and while the
# bureau asks for more (補件, FAQ 3.3). Under review or closed, the file the reviewer decided
# on must stay the file on the case.
OPEN_FOR_DOCUMENTS = {Status.DRAFT, Status.REGISTERED, Status.SUPPLEMENT}

ERRORS = {
    "empty": _("The file is empty."),
    "too_large": _("The file is %(size)s; a file may be at most %(limit)s."),
    "type_not_allowed": _("This file is not of an accepted type (%(types)s). The type is "
                          "read from the file's content, not from its name."),
    "extension_mismatch": _("The file's content is %(type)s, so its name must end in "
                            "%(extensions)s."),
    "not_entitled": _("Only the applicant or the agent who filed the case may add documents."),
    "not_open": _("Documents can be added only while the case is a draft, registered, or "
                  "waiting for supplementary documents; this case is “%(status)s”."),
    "invalid_kind": _("Choose a document kind from the list."),
}

_MAGIC = [
    (b"%PDF-", PDF),
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
]
_ZIP_MAGIC = b"PK\x03\x04"
# The main part an OOXML package declares in [Content_Types].xml names what it is. Macro-
# enabled and template variants declare other types and are refused.
_OOXML_MAIN_PARTS = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
}
_ODF_TYPES = {ODS, ODT}
_CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
# Bounds on what is decompressed from a container: a small archive may expand enormously.
_PART_LIMIT = 256 * 1024


def detect_content_type(fileobj):
    """The content type of `fileobj` judged from its bytes, if it is one of ALLOWED_TYPES;
    None otherwise (executables, plain ZIP archives, HTML, anything else). Reads only the
    head of the file and, for a ZIP container, its directory and one small part; leaves the
    file rewound."""
    try:
        fileobj.seek(0)
        head = fileobj.read(16)
        for magic, content_type in _MAGIC:
            if head.startswith(magic):
                return content_type
        if head.startswith(_ZIP_MAGIC):
            # Checked at the start, not wherever zipfile finds a directory: a ZIP appended
            # to an executable (a self-extracting archive) is still an executable.
            fileobj.seek(0)
            return _zip_content_type(fileobj)
        return None
    finally:
        fileobj.seek(0)


def _zip_content_type(fileobj):
    try:
        with zipfile.ZipFile(fileobj) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                # ODF: the package names its type in a `mimetype` entry of its own.
                declared = _read_part(archive, "mimetype").decode("ascii").strip()
                if declared in _ODF_TYPES and "content.xml" in names:
                    return declared
                return None
            if "[Content_Types].xml" in names:
                # The part is small (_read_part), ElementTree fetches no external entities,
                # and expat 2.4.1 and later refuse entity-expansion bombs.
                types_xml = _read_part(archive, "[Content_Types].xml")
                root = ElementTree.fromstring(types_xml)  # noqa: S314 (see above)
                for override in root.iter(f"{_CT_NS}Override"):
                    content_type = _OOXML_MAIN_PARTS.get(override.get("ContentType", ""))
                    part = override.get("PartName", "").lstrip("/")
                    if content_type and part in names:
                        return content_type
            return None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ElementTree.ParseError, RuntimeError,
            NotImplementedError, EOFError, OSError, UnicodeDecodeError, zlib.error,
            ValueError):
        # Damaged, encrypted, oddly compressed or not what it claims: not accepted.
        return None


def _read_part(archive, name):
    with archive.open(name) as part:
        data = part.read(_PART_LIMIT + 1)
    if len(data) > _PART_LIMIT:
        raise ValueError(f"{name} is larger than expected")
    return data


def clean_name(name):
    """The user's file name reduced to something safe to keep and to send back in a
    Content-Disposition header: the last path component, without control or formatting
    characters (such as the right-to-left override, which can make a name that ends in .exe
    look like one that ends in .pdf), at most 200 characters with the extension kept."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    kept = []
    for ch in name:
        category = unicodedata.category(ch)[0]
        if category == "Z":  # any space (U+3000 too) becomes a plain one
            kept.append(" ")
        elif category != "C":
            kept.append(ch)
    name = " ".join("".join(kept).split()).lstrip(".")
    limit = Attachment._meta.get_field("original_name").max_length
    if len(name) > limit:
        stem, dot, extension = name.rpartition(".")
        if dot and len(extension) < 10:
            name = stem[:limit - len(extension) - 1] + dot + extension
        else:
            name = name[:limit]
    return name


def _extension(name):
    return "." + name.rsplit(".", 1)[1].lower() if "." in name else ""


def check_upload(upload):
    """Check an uploaded file (size, content, name) and return its content type; raise
    ValidationError with the reason otherwise."""
    limit = settings.ATTACHMENT_MAX_BYTES
    if not upload.size:
        raise ValidationError(ERRORS["empty"], code="empty")
    if upload.size > limit:
        raise ValidationError(ERRORS["too_large"], code="too_large",
                              params={"size": filesizeformat(upload.size),
                                      "limit": filesizeformat(limit)})
    content_type = detect_content_type(upload)
    if content_type is None:
        raise ValidationError(ERRORS["type_not_allowed"], code="type_not_allowed",
                              params={"types": _type_list()})
    file_type = ALLOWED_TYPES[content_type]
    if _extension(clean_name(upload.name)) not in file_type.extensions:
        raise ValidationError(ERRORS["extension_mismatch"], code="extension_mismatch",
                              params={"type": file_type.label,
                                      "extensions": ", ".join(file_type.extensions)})
    return content_type


def _type_list():
    return ", ".join(file_type.label for file_type in ALLOWED_TYPES.values())


class AttachmentForm(PortalForm):
    """補件 / 上傳文件: one document with the kind the applicant declares."""

    document_kind = forms.ChoiceField(label=_("Document kind"))
    file = forms.FileField(label=_("File"))

    def __init__(self, *args, document_type, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document_kind"].choices = [
            ("", "---------"), *procedures.document_kind_choices(document_type)]
        file_field = self.fields["file"]
        file_field.help_text = format_lazy(
            _("{types}; at most {limit}."), types=_type_list(),
            limit=filesizeformat(settings.ATTACHMENT_MAX_BYTES))
        file_field.widget.attrs["accept"] = ",".join(
            extension for file_type in ALLOWED_TYPES.values()
            for extension in file_type.extensions)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        check_upload(upload)
        return upload


def store(stored_file, upload, *, content_type, actor):
    """Fill and save a StoredFile (an Attachment, a mask flow's document…) from a checked
    upload: its digest, size and cleaned name; the file under a random name. If the row
    cannot be saved, the file goes too: a stored file without its row would never be found
    again."""
    sha256, size = hashlib.sha256(), 0
    for chunk in upload.chunks():
        sha256.update(chunk)
        size += len(chunk)
    stored_file.original_name = clean_name(upload.name)
    stored_file.content_type = content_type
    stored_file.size = size
    stored_file.sha256 = sha256.hexdigest()
    stored_file.uploaded_by = actor
    stored_file.file.save("upload", upload, save=False)  # the name comes from upload_to
    try:
        stored_file.save()
    except BaseException:
        stored_file.file.storage.delete(stored_file.file.name)
        raise
    return stored_file


def download_response(stored_file):
    """The response serving a StoredFile, once the caller has checked who may see it. Always
    a download with the type checked at upload, never shown inline: nosniff keeps the
    browser from guessing; no-store keeps it out of shared caches."""
    response = FileResponse(
        stored_file.file.storage.open(stored_file.file.name, "rb"), as_attachment=True,
        filename=stored_file.original_name, content_type=stored_file.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@transaction.atomic
def attachment_add(*, application, actor, document_kind, upload):
    """Add the uploaded file `upload` to `application` as a document of `document_kind`.

    Only the applicant or the agent who filed the case may add documents, and only while
    the case is open for them (OPEN_FOR_DOCUMENTS). The file is checked again here
    (check_upload), whoever calls. It is stored under a random name; the user's name is kept
    in original_name. A refused upload stores nothing, and a file whose row cannot be saved
    is removed. Returns the Attachment.
    """
    # Lock the case: a resubmission (補件 → 初審中) racing this upload must not leave a
    # document arriving after the case went back to the bureau, unseen by the reviewer.
    app = Application.objects.select_for_update().get(pk=application.pk)
    if workflow.actor_kind_of(actor, app) != workflow.APPLICANT:
        raise ValidationError(ERRORS["not_entitled"], code="not_entitled")
    if app.status not in OPEN_FOR_DOCUMENTS:
        raise ValidationError(ERRORS["not_open"], code="not_open",
                              params={"status": app.get_status_display()})
    kinds = {value for value, _label in procedures.document_kind_choices(app.document_type)}
    if document_kind not in kinds:
        raise ValidationError(ERRORS["invalid_kind"], code="invalid_kind")
    content_type = check_upload(upload)
    return store(Attachment(application=app, document_kind=document_kind), upload,
                 content_type=content_type, actor=actor)
