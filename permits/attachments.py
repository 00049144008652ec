"""Attachments of a case: what may be uploaded, the upload form and the service that stores it.

A file is accepted by what it is, not by what it is called: its first bytes (and, for the
office formats, the ZIP container's own declaration of its content) must be one of the types
in ALLOWED_TYPES, and its name must carry an extension of that type, so that the browser and
the reviewer's desktop open it as what it was checked to be. Files are stored in the private
storage (permits/storage.py: settings.PRIVATE_MEDIA_ROOT, outside every web root, or an S3
bucket), through Django's storage API only, and are served only by
permits.attachment_views.attachment_download. Every check reads the upload before it is
stored, never the stored file.

What a file of an accepted type may hold is bounded too (check_content): no part of it may
read as a web page; an office package (a ZIP) may not expand beyond PACKAGE_MAX_INFLATED or
hold more than PACKAGE_MAX_ENTRIES parts, and must be a well-formed archive; a PDF may not
carry active content (scripts, actions run on opening, embedded files, XFA forms).
"""

import base64
import binascii
import functools
import hashlib
import re
import struct
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
    "html_content": _("This file contains web-page code (HTML) and is refused: a document "
                      "must not be readable as a web page."),
    "package_too_large": _("This %(type)s file would expand to %(size)s when opened; a "
                           "document may expand to at most %(limit)s."),
    "package_too_many_entries": _("This %(type)s file holds %(count)s parts; a document may "
                                  "hold at most %(limit)s."),
    "package_ratio": _("A part of this %(type)s file is compressed %(ratio)s to 1, far beyond "
                       "any real document (at most %(limit)s to 1): files like this are built "
                       "to exhaust the computer that opens them."),
    "package_malformed": _("This %(type)s file is damaged or not a well-formed package. Save "
                           "it again from the office program and upload the new file."),
    "pdf_active_content": _("This PDF contains active content (%(names)s): scripts, actions "
                            "run when it is opened, embedded files or forms. Print or export "
                            "it again as a plain PDF and upload that copy."),
    "pdf_unreadable": _("Part of this PDF is compressed or encrypted in a way the portal "
                        "cannot check for active content. Save it again as a PDF without a "
                        "password (for example with “Print to PDF”) and upload that copy."),
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
    _check_entry_count(upload)
    content_type = detect_content_type(upload)
    if content_type is None:
        raise ValidationError(ERRORS["type_not_allowed"], code="type_not_allowed",
                              params={"types": _type_list()})
    file_type = ALLOWED_TYPES[content_type]
    if _extension(clean_name(upload.name)) not in file_type.extensions:
        raise ValidationError(ERRORS["extension_mismatch"], code="extension_mismatch",
                              params={"type": file_type.label,
                                      "extensions": ", ".join(file_type.extensions)})
    check_content(upload, content_type)
    return content_type


# --- What an accepted file may hold (issue 9) -----------------------------------------------

# Office packages are ZIP archives: what they expand to is bounded before anything is
# inflated, from the archive's central directory. The ratio bound is Apache POI's (a part may
# not inflate to more than 100 times its compressed size), judged above the same grace size,
# as small parts of real documents compress better than that.
PACKAGE_MAX_INFLATED = 100 * 1024 * 1024
PACKAGE_MAX_ENTRIES = 10_000
PACKAGE_MAX_RATIO = 100
PACKAGE_RATIO_GRACE = 100 * 1024
_PACKAGE_TYPES = {XLSX, DOCX, ODS, ODT}
_CHUNK = 64 * 1024
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")
_END_RECORD = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")

# A browser that guesses a type from the content (older ones did, whatever the headers said)
# takes a file for a web page when one of these tags is near its start: the HTML patterns of
# the WHATWG MIME Sniffing standard and what Internet Explorer looked for.
HTML_SNIFF_BYTES = 1024
_HTML_TAGS = re.compile(
    rb"<(?:!doctype\s+html|!--|html|head|body|script|iframe|frame|frameset|object|embed|applet"
    rb"|svg|style|title|meta|link|base|form|img|table|div|font|h1|br|pre|plaintext|a\s+href)"
    rb"(?=[\s/>])", re.IGNORECASE)
# Anywhere in a PDF, the markup that makes a page run script has no business.
_PDF_HTML = re.compile(rb"<(?:!doctype\s+html|html|script|iframe)(?=[\s/>])", re.IGNORECASE)

# Names that make a PDF do something: run a script (/JavaScript, /JS), act when it is opened
# or when a page or field is used (/OpenAction, /AA), start a program or open another file
# (/Launch, /GoToR, /GoToE), carry files or media (/EmbeddedFile(s), /RichMedia, /Rendition),
# send or load form data (/SubmitForm, /ImportData), or hold an XFA form (/XFA). An
# /OpenAction that is only a destination array ("open at page 1") does nothing else and is
# what LibreOffice and LaTeX write; any other /OpenAction is refused.
PDF_ACTIVE_NAMES = frozenset({
    "JavaScript", "JS", "OpenAction", "AA", "Launch", "GoToR", "GoToE", "EmbeddedFile",
    "EmbeddedFiles", "RichMedia", "RichMediaExecute", "Rendition", "SubmitForm", "ImportData",
    "XFA"})
# What hides the rest of the file from this scan: encryption, and the filters it does not
# decode. Such a PDF cannot be checked and is refused.
PDF_UNREADABLE_NAMES = frozenset({"Encrypt", "Crypt", "LZWDecode", "RunLengthDecode"})
# Streams that could be object streams are inflated to be scanned too: in all, at most
# PDF_INFLATE_RATIO times the file's size (page content compresses 3 to 8 times) and never
# less than PDF_MAX_INFLATED; in at most PDF_MAX_STREAMS streams (a document of thousands of
# pages has tens of thousands). Beyond, the PDF cannot be checked and is refused.
PDF_MAX_INFLATED = 64 * 1024 * 1024
PDF_INFLATE_RATIO = 16
PDF_MAX_STREAMS = 50_000

_PDF_DELIMITER = "\\x00\\t\\n\\x0c\\r ()<>\\[\\]{}/%"
_PDF_NAME = re.compile(rb"/([^\x00\t\n\x0c\r ()<>\[\]{}/%]+)")
_PDF_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_PDF_NAME_END = re.compile(rb"[^\x00\t\n\x0c\r ()<>\[\]{}/%]*")
_PDF_DESTINATION = re.compile(rb"[\x00\t\n\x0c\r ]*\[")
PDF_UNREADABLE = "(too many escapes)"  # a name no PDF has: the data is refused as unreadable
_PDF_STREAM = re.compile(rb"\bstream(?:\r\n|\r|\n)")
_PDF_BLANK = re.compile(rb"(?:[\x00\t\n\x0c\r ]+|%[^\r\n]*)*")
_PDF_HEX = re.compile(rb"[0-9A-Fa-f\x00\t\n\x0c\r ]*")
_PDF_A85 = re.compile(rb"[!-uz\x00\t\n\x0c\r ]*")
_PDF_ENCODED = re.compile(rb"[!-uz~\x00\t\n\x0c\r ]*")  # what ASCIIHex or ASCII85 could be
_PDF_PREFIX = 4096
_PDF_WHITESPACE = b"\x00\t\n\x0c\r "
_SCANNED = b" "  # objects that need no further scan


def check_content(fileobj, content_type):
    """Raise ValidationError if `fileobj`, detected as `content_type`, holds what no document
    needs and what harms whoever opens it: web-page code, an office package that expands
    beyond the limits or is not a well-formed archive, a PDF with active content. Leaves the
    file rewound."""
    try:
        fileobj.seek(0)
        if _HTML_TAGS.search(fileobj.read(HTML_SNIFF_BYTES)):
            raise ValidationError(ERRORS["html_content"], code="html_content")
        if content_type == PDF:
            fileobj.seek(0)
            _check_pdf(fileobj.read())
        elif content_type in _PACKAGE_TYPES:
            fileobj.seek(0)
            _check_package(fileobj, ALLOWED_TYPES[content_type].label)
    finally:
        fileobj.seek(0)


def _check_entry_count(upload):
    """Refuse a ZIP whose central directory lists more than PACKAGE_MAX_ENTRIES parts before
    anything parses it (parsing a hundred thousand entries takes seconds): the count is of
    the entry signatures in the directory's bytes, which bounds what a parser would read."""
    try:
        upload.seek(0)
        if upload.read(len(_ZIP_MAGIC)) != _ZIP_MAGIC:
            return
        upload.seek(0, 2)
        size = upload.size if upload.size is not None else upload.tell()
        tail_at = max(0, size - _END_RECORD.size - 0xFFFF)
        upload.seek(tail_at)
        tail = upload.read()
        end_at = tail.rfind(b"PK\x05\x06")
        if end_at < 0 or len(tail) - end_at < _END_RECORD.size:
            return  # no directory: detect_content_type refuses it
        directory_size = _END_RECORD.unpack_from(tail, end_at)[5]
        directory_end = tail_at + end_at
        locator_at = end_at - _ZIP64_LOCATOR.size
        if locator_at >= 0 and tail[locator_at:locator_at + 4] == b"PK\x06\x07":
            # ZIP64: the directory ends where the ZIP64 end record starts.
            directory_end = _ZIP64_LOCATOR.unpack_from(tail, locator_at)[2]
            upload.seek(directory_end)
            record = upload.read(56)
            if len(record) == 56 and record[:4] == b"PK\x06\x06":
                directory_size = struct.unpack_from("<Q", record, 40)[0]
        upload.seek(max(0, directory_end - directory_size))
        count = upload.read(min(directory_size, size)).count(b"PK\x01\x02")
    finally:
        upload.seek(0)
    if count > PACKAGE_MAX_ENTRIES:
        extension = _extension(clean_name(upload.name))
        label = next((file_type.label for content_type, file_type in ALLOWED_TYPES.items()
                      if content_type in _PACKAGE_TYPES and extension in file_type.extensions),
                     "ZIP")
        raise ValidationError(ERRORS["package_too_many_entries"],
                              code="package_too_many_entries",
                              params={"type": label, "count": count,
                                      "limit": PACKAGE_MAX_ENTRIES})


def _check_package(fileobj, label):
    """The limits first, from the central directory alone (a bomb is refused without
    inflating anything); then the archive is read through once, in chunks and never beyond
    what the directory declares, to check that it tells the truth."""
    def refuse(code, **params):
        raise ValidationError(ERRORS[code], code=code, params={"type": label, **params})

    try:
        with zipfile.ZipFile(fileobj) as archive:
            infos, directory_at = archive.infolist(), archive.start_dir
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError,
            ValueError):
        refuse("package_malformed")
    if len(infos) > PACKAGE_MAX_ENTRIES:
        refuse("package_too_many_entries", count=len(infos), limit=PACKAGE_MAX_ENTRIES)
    inflated = sum(info.file_size for info in infos)
    if inflated > PACKAGE_MAX_INFLATED:
        refuse("package_too_large", size=filesizeformat(inflated),
               limit=filesizeformat(PACKAGE_MAX_INFLATED))
    for info in infos:
        if (info.file_size > PACKAGE_RATIO_GRACE
                and info.file_size > PACKAGE_MAX_RATIO * info.compress_size):
            refuse("package_ratio", ratio=info.file_size // max(info.compress_size, 1),
                   limit=PACKAGE_MAX_RATIO)
    try:
        well_formed = _package_is_well_formed(fileobj, infos, directory_at)
    except (OSError, zlib.error, struct.error, UnicodeDecodeError):
        well_formed = False
    if not well_formed:
        refuse("package_malformed")


def _package_is_well_formed(fileobj, infos, directory_at):
    """Whether every part is where the directory says, under the name it says, without
    overlapping another (parts sharing data are how the smallest bombs are built), stored
    or deflated, not encrypted, under a unique relative name, and inflates to exactly its
    declared size and CRC."""
    names = [info.orig_filename for info in infos]
    if len(set(names)) != len(names):
        return False
    end = 0  # where the previous part's data ended
    for info in sorted(infos, key=lambda info: info.header_offset):
        name = info.orig_filename
        if (name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/")
                or info.flag_bits & 0x1
                or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
                or info.header_offset < end or (end == 0 and info.header_offset != 0)):
            return False
        fileobj.seek(info.header_offset)
        header = _LOCAL_HEADER.unpack(fileobj.read(_LOCAL_HEADER.size))
        signature, name_length, extra_length = header[0], header[9], header[10]
        local_name = fileobj.read(name_length).decode(
            "utf-8" if header[2] & 0x800 else "cp437")
        if signature != b"PK\x03\x04" or local_name != name:
            return False
        start = info.header_offset + _LOCAL_HEADER.size + name_length + extra_length
        end = start + info.compress_size
        if end > directory_at:
            return False
        fileobj.seek(start)
        if not _part_is_true(fileobj, info):
            return False
    return True


def _part_is_true(fileobj, info):
    """Inflate one part chunk by chunk, stopping as soon as it goes beyond its declared size;
    it must end exactly there, with its declared CRC."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS) if info.compress_type else None
    left, size, crc = info.compress_size, 0, 0
    while left:
        pending = fileobj.read(min(_CHUNK, left))
        if not pending:
            return False
        left -= len(pending)
        while pending:
            if inflater is None:
                piece, pending = pending, b""
            else:
                piece = inflater.decompress(pending, _CHUNK)
                pending = inflater.unconsumed_tail
            size += len(piece)
            if size > info.file_size:
                return False
            crc = zlib.crc32(piece, crc)
            if inflater is not None and inflater.eof:
                pending = b""
    if inflater is not None and not inflater.eof:
        return False
    return size == info.file_size and crc == info.CRC


def _check_pdf(data):
    """Refuse a PDF carrying markup, active content, or parts this scan cannot read.

    The scan is of bytes, not a parse: every name in the file (escapes decoded) and in every
    stream that could be an object stream. An object stream's decoded data must begin with
    an integer (its header of object numbers), so every stream whose decoded data begins so
    is inflated and scanned too, whatever its dictionary says, within a budget.
    Names inside strings count too (a link to …/JavaScript/… is refused): a scanner that
    skips strings can be made to skip what a reader takes for names."""
    if _PDF_HTML.search(data):
        raise ValidationError(ERRORS["html_content"], code="html_content")
    names = _pdf_names(data)
    budget = [max(PDF_MAX_INFLATED, PDF_INFLATE_RATIO * len(data))]
    unreadable, runs = False, {}
    for count, keyword in enumerate(_PDF_STREAM.finditer(data)):
        if names & PDF_ACTIVE_NAMES:
            break  # refused already
        if count == PDF_MAX_STREAMS:
            unreadable = True
            break
        decoded = _pdf_stream_objects(data, keyword.end(), budget, runs=runs)
        if decoded is None:
            unreadable = True
            break
        if decoded:
            names |= _pdf_names(decoded, (PDF_ACTIVE_NAMES | PDF_UNREADABLE_NAMES) - names)
        elif _pdf_declares_object_stream(data, keyword.start()):
            # An object stream this scan did not read (a predictor, an unknown filter).
            unreadable = True
    active = names & PDF_ACTIVE_NAMES
    if active:
        raise ValidationError(ERRORS["pdf_active_content"], code="pdf_active_content",
                              params={"names": ", ".join(f"/{name}" for name in sorted(active))})
    if unreadable or names & (PDF_UNREADABLE_NAMES | {PDF_UNREADABLE}):
        raise ValidationError(ERRORS["pdf_unreadable"], code="pdf_unreadable")


def _pdf_names(data, wanted=PDF_ACTIVE_NAMES | PDF_UNREADABLE_NAMES):
    """Which of the `wanted` names occur in `data`, plainly or with #xx escapes; an
    /OpenAction followed by a destination array does not count. Plain names take one pass of
    a regular expression per name found, whatever the data repeats; escaped ones one look at
    each "#", of which data with more than random bytes have is not read (PDF_UNREADABLE)."""
    found, at = set(), 0
    while wanted - found:
        match = _pdf_name_pattern(frozenset(wanted - found)).search(data, at)
        if match is None:
            break
        found.add(match[1].decode())
        at = match.start()
    hashes = data.count(b"#")
    if hashes > len(data) // 128 + 10_000:
        return found | {PDF_UNREADABLE}
    at = 0
    while hashes and (at := data.find(b"#", at) + 1) > 0:
        start = data.rfind(b"/", max(0, at - 64), at)
        if start < 0:
            continue
        end = _PDF_NAME_END.match(data, start + 1).end()
        if end < at:  # a delimiter between the slash and the "#"
            continue
        name = _PDF_ESCAPE.sub(lambda m: bytes([int(m[1], 16)]), data[start + 1:end])
        name = name.decode("latin-1")
        if name in wanted and not (name == "OpenAction"
                                   and _PDF_DESTINATION.match(data, end)):
            found.add(name)
    return found


@functools.lru_cache(maxsize=256)
def _pdf_name_pattern(names):
    """A pattern finding any of `names` written plainly as a PDF name."""
    alternatives = []
    for name in sorted(names, key=len, reverse=True):
        if name == "OpenAction":  # unless it is only a destination: /OpenAction [3 0 R /Fit]
            alternatives.append(r"OpenAction(?![\x00\t\n\x0c\r ]*\[)")
        else:
            alternatives.append(name)
    first = "".join(sorted({name[0] for name in names}))
    return re.compile(
        f"/(?=[{first}])({'|'.join(alternatives)})(?=[{_PDF_DELIMITER}]|\\Z)".encode())


def _pdf_stream_objects(data, start, budget, depth=0, runs=None):
    """The decoded data of the stream at data[start:] if it could hold objects, for the
    scan; b"" if it cannot; None if decoding it would go beyond what is left of `budget`.

    An object stream's data begins with an integer (the numbers of the objects it holds), so
    a stream that decodes to an integer is scanned whatever its dictionary says. Flate,
    ASCIIHex and ASCII85 are decoded, in layers."""
    decoded = _pdf_decode(data, start, _PDF_PREFIX, runs)
    if decoded is None:
        # Not encoded (then it was scanned with the whole file), or encoded otherwise.
        return _SCANNED if _pdf_begins_with_integer(data[start:start + _PDF_PREFIX]) else b""
    head, complete = decoded
    layered = _pdf_is_zlib(head, 0) or _PDF_ENCODED.fullmatch(head)
    if not (layered or _pdf_begins_with_integer(head)):
        return b""
    if not complete:
        decoded, complete = _pdf_decode(data, start, budget[0] + 1, {})
        if not complete:
            return None
    else:
        decoded = head
    budget[0] -= len(decoded)
    if budget[0] < 0:
        return None
    if layered and depth < 3:
        inner = _pdf_stream_objects(decoded, 0, budget, depth + 1)
        if inner is None or inner and inner is not _SCANNED:
            return inner
    return decoded if _pdf_begins_with_integer(decoded) else b""


def _pdf_begins_with_integer(data):
    """Whether `data` begins, after blanks and comments, with what may be an integer (or
    ends before anything else)."""
    rest = data[_PDF_BLANK.match(data).end():]
    return not rest or rest[:1] in b"+-.0123456789"


def _pdf_decode(data, start, limit, runs=None):
    """(the decoded data, at most `limit` bytes; whether that is all of it) of the encoded
    stream at data[start:], or None if it is neither Flate, ASCIIHex nor ASCII85. The end is
    where the encoding ends, not at the next `endstream`, which the data may contain.
    `runs` remembers, per text encoding, where the last run of its characters ended: a stream
    keyword inside that run is not tried again (many keywords in one run would cost the
    square of its length)."""
    if _pdf_is_zlib(data, start):
        view, inflater, pieces, size = memoryview(data), zlib.decompressobj(), [], 0
        at, chunk, pending = start, 1024, b""
        try:
            while size <= limit and not inflater.eof:
                if not pending:
                    if at >= len(data):
                        break
                    pending, at, chunk = view[at:at + chunk], at + chunk, min(chunk * 2, _CHUNK)
                piece = inflater.decompress(pending, limit + 1 - size)
                pending = inflater.unconsumed_tail
                pieces.append(piece)
                size += len(piece)
        except zlib.error:
            pass
        else:
            return b"".join(pieces)[:limit], size <= limit
    runs = {} if runs is None else runs
    for kind, alphabet, end_marker, decode in _PDF_TEXT_ENCODINGS:
        if start < runs.get(kind, -1):
            continue
        end = alphabet.match(data, start).end()
        runs[kind] = end
        if data.startswith(end_marker, end):
            try:
                decoded = decode(data[start:end])
            except ValueError:  # binascii.Error is one
                return None
            return decoded[:limit], len(decoded) <= limit
    return None


def _pdf_is_zlib(data, start):
    """Whether data[start:] begins with a zlib header (deflate, checksum right)."""
    return len(data) - start >= 2 and data[start] & 0x0F == 8 and (
        data[start] * 256 + data[start + 1]) % 31 == 0


def _pdf_unhex(text):
    digits = text.translate(None, _PDF_WHITESPACE)
    return binascii.unhexlify(digits + b"0" * (len(digits) % 2))


def _pdf_un85(text):
    return base64.a85decode(text.translate(None, _PDF_WHITESPACE) + b"~>", adobe=True)


_PDF_TEXT_ENCODINGS = [("ASCIIHex", _PDF_HEX, b">", _pdf_unhex),
                       ("ASCII85", _PDF_A85, b"~>", _pdf_un85)]


def _pdf_declares_object_stream(data, keyword_at):
    """Whether the dictionary before the stream keyword at `keyword_at` names an object
    stream (/Type /ObjStm, or the /First offset only object streams have)."""
    window = data[max(0, keyword_at - _PDF_PREFIX):keyword_at]
    dictionary = window[window.rfind(b"obj") + 1:]
    names = {_PDF_ESCAPE.sub(lambda m: bytes([int(m[1], 16)]), name)
             for name in _PDF_NAME.findall(dictionary)}
    return bool(names & {b"ObjStm", b"First"})


def _type_list():
    return ", ".join(file_type.label for file_type in ALLOWED_TYPES.values())


class AttachmentForm(PortalForm):
    """補件 / 上傳文件: one document with the kind the applicant declares."""

    document_kind = forms.ChoiceField(label=_("Document kind"))
    file = forms.FileField(label=_("File"))

    def __init__(self, *args, document_type, kinds=None, **kwargs):
        """`kinds`: the codes offered (Procedure.upload_kinds); every kind if None."""
        super().__init__(*args, **kwargs)
        choices = procedures.document_kind_choices(document_type)
        if kinds is not None:
            choices = [(code, label) for code, label in choices if code in kinds]
        self.fields["document_kind"].choices = [("", "---------"), *choices]
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
    return save_with_file(stored_file, upload)


def save_with_file(instance, upload):
    """Store `upload` in `instance.file` (under the name its upload_to gives) and save the
    row; if the row cannot be saved, the stored file is deleted again and the error raised:
    a stored file without its row would never be found again. Returns `instance`."""
    instance.file.save("upload", upload, save=False)  # the name comes from upload_to
    try:
        instance.save()
    except BaseException:
        instance.file.storage.delete(instance.file.name)
        raise
    return instance


def download_response(stored_file):
    """The response serving a StoredFile, once the caller has checked who may see it. Always
    a download with the type checked at upload, never shown inline: nosniff keeps the
    browser from guessing; no-store keeps it out of shared caches."""
    response = FileResponse(
        stored_file.file.storage.open_stream(stored_file.file.name), as_attachment=True,
        filename=stored_file.original_name, content_type=stored_file.content_type)
    if not response.has_header("Content-Length"):
        # An object store's body cannot tell its length; the file was stored once under a
        # random name and never rewritten, so its length is the one counted at upload.
        response["Content-Length"] = stored_file.size
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    # Should a browser show it all the same, nothing in it runs: no script, no plug-in, no
    # form, no request of its own (the portal's policy, portal/headers.py, leaves this one).
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@transaction.atomic
def attachment_add(*, application, actor, document_kind, upload):
    """Add the uploaded file `upload` to `application` as a document of `document_kind`.

    Only the applicant or the agent who filed the case may add documents, and only the kinds
    its procedure takes now (Procedure.upload_kinds: every kind while the case is open for
    them, OPEN_FOR_DOCUMENTS). The file is checked again here
    (check_upload), whoever calls. It is stored under a random name; the user's name is kept
    in original_name. A refused upload stores nothing, and a file whose row cannot be saved
    is removed. Returns the Attachment.
    """
    # Lock the case: a resubmission (補件 → 初審中) racing this upload must not leave a
    # document arriving after the case went back to the bureau, unseen by the reviewer.
    app = Application.objects.select_for_update().get(pk=application.pk)
    if workflow.actor_kind_of(actor, app) != workflow.APPLICANT:
        raise ValidationError(ERRORS["not_entitled"], code="not_entitled")
    # Every kind while the case is open for documents (OPEN_FOR_DOCUMENTS); the procedure
    # may open a kind later (SHTC-5: the proof of re-import of an approved exhibition permit).
    kinds = procedures.get(app.document_type).upload_kinds(app)
    if not kinds:
        raise ValidationError(ERRORS["not_open"], code="not_open",
                              params={"status": app.get_status_display()})
    if document_kind not in kinds:
        raise ValidationError(ERRORS["invalid_kind"], code="invalid_kind")
    content_type = check_upload(upload)
    return store(Attachment(application=app, document_kind=document_kind), upload,
                 content_type=content_type, actor=actor)
