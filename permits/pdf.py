"""The portal's PDF documents, through one renderer (render_document): the permit (PERMIT-7,
列印) and the other documents a procedure lists in Procedure.pdf_templates (SHTC-3: the
end-use assurance, the red-flag affidavit; any procedure may use pdf/case_summary.html).
Every template extends templates/pdf/base.html, which sets the CJK font once, on html
(STYLE.md), and numbers the pages in the document's language.

The permit is a reference copy (參考用聯) of one permit version. The bureau issues no paper
permit (FAQ 3.8); the printed copy is for use when the system is down. Its QR code and the
verification code printed beside it open the public verification page (permits.verify),
which tells anyone holding the paper whether the permit is valid. A case's other documents
are not permits and carry no QR code.

Every document is a tagged PDF/UA-1 file that is also PDF/A-3b (PDF_OPTIONS says why one
file); the bureau's archive copy of each issued permit version is stored by
archive_permit_version (issue 15). tests/permits/pdf_standards.py checks what a program can
check of both without veraPDF.

The *_context() functions turn a case or version into plain data and the render_*()
functions print it; none needs a request.
"""

import base64
import datetime
import functools
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from permits import procedures
from permits.fields import country_names, format_tariff_code
from permits.models import Party, PartyRole
from permits.parties import parties_of
from portal import dates
from portal.forms import field_label


def format_quantity(value):
    """10.0000 → 10, 100.5500 → 100.55: no thousands separators, as entered (PERMIT-9)."""
    return format(Decimal(value).normalize(), "f")


def format_money(value):
    """1500.0000 → 1,500.00; at least two decimals, up to the four stored."""
    value = Decimal(value)
    places = max(2, min(4, -value.normalize().as_tuple().exponent))
    return f"{value:,.{places}f}"


def verification_url(permit):
    query = urlencode({"no": permit.permit_no, "code": permit.verification_code})
    return f"{settings.PORTAL_BASE_URL}{reverse('permits:verify')}?{query}"


@functools.cache
def reference_copy_watermark():
    """The permit's 參考用聯 watermark (templates/pdf/reference_copy.svg: outlines, no
    text) as a data: URI, read once per process."""
    svg = Path(settings.BASE_DIR, "templates", "pdf", "reference_copy.svg").read_bytes()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()


def qr_data_uri(url):
    """The QR code as an SVG data: URI, so WeasyPrint fetches nothing."""
    return segno.make(url, error="m").svg_data_uri(border=0, dark="#000")


def _country_names(codes):
    # Countries are reference data the bureau may not have loaded: fall back to the code.
    names = country_names(codes)
    return {code: f"{code} {names[code]}" if code in names else code for code in codes}


def _counter_content(template):
    """A CSS `content` value from a translated "Page %(page)s of %(pages)s", with the page
    counters where the placeholders are (第 1 頁 / 共 3 頁)."""

    def quoted(text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    marker = "\x00"
    text = template % {"page": f"{marker}page{marker}", "pages": f"{marker}pages{marker}"}
    parts = text.split(marker)
    # parts alternate literal text and counter names: text, page, text, pages, text
    return " ".join(quoted(part) if i % 2 == 0 else f"counter({part})"
                    for i, part in enumerate(parts))


def _money_totals(items):
    totals = {}
    for item in items:
        totals[item.currency] = totals.get(item.currency, Decimal(0)) + item.amount
    return [{"currency": currency, "amount": format_money(amount)}
            for currency, amount in sorted(totals.items())]


def case_context(application):
    """A case's data for its documents: strings, numbers and lists only. Call it inside the
    language the PDF is printed in (labels of choices and country names follow it)."""
    items = list(application.items.order_by("line_no"))
    procedure = procedures.get(application.document_type)
    parties = parties_of(application)
    countries = _country_names({item.origin_country for item in items}
                               | {party.country for party in parties.values()}
                               | ({application.destination_country}
                                  if application.destination_country else set()))
    # The procedure's order first (買方, 收貨人, 最終使用者), then any other stored role.
    roles = [PartyRole(role) for role in procedure.parties]
    roles += [role for role in PartyRole if role in parties and role not in roles]
    labels = {name: field_label(Party, name) for name in ("name", "address", "country",
                                                          "name_zh")}
    return {
        "document_type": application.get_document_type_display(),
        "kind": application.get_kind_display(),
        "status": application.get_status_display(),
        "number": application.number,
        "receipt_no": application.receipt_no or "",
        "registration_no": application.registration_no or "",
        "submitted_on": (dates.to_roc(timezone.localdate(application.submitted_at))
                         if application.submitted_at else ""),
        "applicant": {
            "identifier": application.applicant_identifier,
            "name": application.applicant_name,
            "name_en": application.applicant_name_en,
            "address": application.applicant_address,
        },
        "agent": {
            "identifier": application.agent_identifier,
            "name": application.agent_name,
        } if application.agent_identifier else None,
        "destination": countries.get(application.destination_country, ""),
        "parties": [{
            "role": role.label,
            "code": role.value,
            "name": parties[role].name,
            "address": parties[role].address,
            "country": countries[parties[role].country],
            "name_zh": parties[role].name_zh,
            "labels": labels,
        } for role in roles if role in parties],
        "has_control_no": any(item.control_no for item in items),
        "items": [{
            "line_no": item.line_no,
            "tariff_code": format_tariff_code(item.tariff_code),
            "description": item.description,
            "brand": item.brand,
            "model": item.model,
            "specification": item.specification,
            "category": procedure.item_category_label(item.category),
            "control_no": item.control_no,
            "quantity": format_quantity(item.quantity),
            "unit": item.unit,
            "unit_price": format_money(item.unit_price),
            "currency": item.currency,
            "amount": format_money(item.amount),
            "origin_country": countries[item.origin_country],
        } for item in items],
        "totals": _money_totals(items),
        "page_counter": _counter_content(_("Page %(page)s of %(pages)s")),
        "printed_at": dates.to_roc(timezone.localdate()),
    }


def permit_context(version):
    """The permit PDF's data for a permit version: the case's (case_context) and the
    permit's own, with the QR verification. Call it inside the language the PDF is printed
    in."""
    permit = version.permit
    procedure = procedures.get(version.application.document_type)
    url = verification_url(permit)
    return {
        **case_context(version.application),
        "permit_no": permit.permit_no,
        "version": version.version,
        "issued_on": dates.to_roc(timezone.localdate(version.issued_at)),
        "valid_from": dates.to_roc(version.valid_from),
        "valid_until": dates.to_roc(version.valid_until),
        "partial_shipment": version.partial_shipment,
        # The procedure's say (issue 9): masks print 進口狀況 and no 分批.
        "shows_partial_shipment": procedure.shows_partial_shipment,
        "procedure_rows": [{**row, "label": str(row["label"]), "value": str(row["value"])}
                           for row in procedure.detail_rows(version.application)],
        "verification_url": url,
        "verification_base_url": f"{settings.PORTAL_BASE_URL}{reverse('permits:verify')}",
        "verification_code": permit.verification_code,
        "qr_code": qr_data_uri(url),
        "watermark": reference_copy_watermark(),
    }


def document_html(*, template, context, language):
    """The HTML render_document prints: `template` (extending pdf/base.html) rendered with
    `context` in `language`. `context` may be a callable, called inside the language (so
    labels and country names follow it)."""
    with translation.override(language):
        data = context() if callable(context) else dict(context)
        # In the document's language, whoever built the context.
        data["page_counter"] = _counter_content(_("Page %(page)s of %(pages)s"))
        data["language"] = language
        return render_to_string(template, data)


# Fonts embedded as subsets of the glyphs used (WeasyPrint's default, said here so that an
# upgrade cannot turn it off unnoticed) and without hinting, which a printed or zoomed page
# does not need. The documents carry no raster image (the QR code is SVG): nothing for
# optimize_images to do. What keeps the file small is pdf/base.html using one face.
#
# Every document is one file that is both PDF/UA-1 (tagged, for people: the applicant's
# download, read by a screen reader) and PDF/A-3b (for the bureau's archive: the copy stored
# when a permit version is issued, archive_permit_version). Issue 15 asked to decide whether
# one file can be both: it can, and one file is preferred, because the two would otherwise
# be two renderings of one permit that could differ, and the archive would keep the less
# accessible one. The requirements do not conflict: PDF/UA-1 asks for tags (StructTreeRoot,
# MarkInfo Marked, a Figure's Alt), /Lang, a dc:title shown as the window title
# (DisplayDocTitle), embedded fonts and pdfuaid:part=1 in the XMP; PDF/A-3b for embedded
# fonts, an OutputIntent (sRGB), a file identifier, XMP matching the document information
# and a PDF/A extension schema for every XMP property outside its own list (pdfuaid is
# one). WeasyPrint 70 takes one pdf_variant, so: "pdf/a-3b" (PDF 1.7, the sRGB
# OutputIntent, the identifier, pdfaid part 3 conformance B) with pdf_tags on (what
# "pdf/ua-1" would add besides its metadata: the same tagging code, the same PDF 1.7), and
# _declare_pdf_ua below, which puts pdfuaid:part=1 and its extension schema into the same
# XMP packet. Size and time stay within issue 10's bounds (bench/pdf.py, bench/README.md).
PDF_OPTIONS = {"full_fonts": False, "hinting": False,
               "pdf_variant": "pdf/a-3b", "pdf_tags": True}

# The PDF/UA identification (ISO 14289-1, 5) and the PDF/A extension schema that declares
# it (ISO 19005-3, 6.6.2.3.2): one rdf:Description added to WeasyPrint's rdf:RDF.
_PDF_UA_XMP = b"""<rdf:Description rdf:about=""
 xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/"
 xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/"
 xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#"
 xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">
<pdfuaid:part>1</pdfuaid:part>
<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">
<pdfaSchema:schema>PDF/UA Universal Accessibility Schema</pdfaSchema:schema>
<pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/</pdfaSchema:namespaceURI>
<pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>
<pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType="Resource">
<pdfaProperty:name>part</pdfaProperty:name>
<pdfaProperty:valueType>Integer</pdfaProperty:valueType>
<pdfaProperty:category>internal</pdfaProperty:category>
<pdfaProperty:description>The part of ISO 14289 followed</pdfaProperty:description>
</rdf:li></rdf:Seq></pdfaSchema:property>
</rdf:li></rdf:Bag></pdfaExtension:schemas>
</rdf:Description>
"""


def _declare_pdf_ua(document, pdf_file):
    """WeasyPrint's finisher: pdfuaid:part=1 into the XMP packet the PDF/A variant wrote."""
    import pydyf

    metadata = next(obj for obj in pdf_file.objects if isinstance(obj, pydyf.Stream)
                    and obj.extra.get("Type") == "/Metadata")
    packet = b"".join(part if isinstance(part, bytes) else str(part).encode()
                      for part in metadata.stream)
    end = packet.rindex(b"</rdf:RDF>")
    metadata.stream = [packet[:end] + _PDF_UA_XMP + packet[end:]]


def render_document(*, template, context, language):
    """The one WeasyPrint call: document_html() as PDF bytes, PDF/UA-1 and PDF/A-3b."""
    from weasyprint import HTML  # heavy: loaded only when a PDF is printed

    html = document_html(template=template, context=context, language=language)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(
        finisher=_declare_pdf_ua, **PDF_OPTIONS)


def _language_of(user):
    return (user.language if user is not None else "") or settings.LANGUAGE_CODE


def _permit_document(version):
    procedure = procedures.get(version.application.document_type)
    return {"template": procedure.pdf_templates["permit"],
            "context": lambda: permit_context(version),
            "language": _language_of(version.permit.holder)}


def permit_html(version):
    """The HTML render_permit() prints (bench/pdf.py times bare WeasyPrint on it)."""
    return document_html(**_permit_document(version))


def render_permit(version):
    """The permit version as PDF bytes (the procedure's pdf_templates["permit"]), in the
    holder's language (Traditional Chinese unless they chose English)."""
    return render_document(**_permit_document(version))


def archive_name(version):
    """Where the archive copy of a permit version is kept in the private storage: by permit
    number, version and the moment it was issued (UTC), so that a database started afresh
    (a development machine, a demo) never finds another permit's copy under its numbers."""
    issued = version.issued_at.astimezone(datetime.UTC)
    return (f"archive/permits/{version.permit.permit_no}/"
            f"v{version.version}-{issued:%Y%m%dT%H%M%S%fZ}.pdf")


def archive_permit_version(version):
    """Store the bureau's archive copy of an issued permit version (issue 15), once: the
    same PDF/UA-1 and PDF/A-3b document the holder downloads (PDF_OPTIONS says why one
    file), printed in the bureau's language whatever the holder's, in the private storage
    (permits/storage.py: the local folder or the S3 bucket) under archive_name(). Called by
    the task permits.tasks.archive_permit_version once the approval has committed; a copy
    already there is kept (a version never changes). Returns the stored name."""
    from django.core.files.base import ContentFile

    from permits.storage import private_storage

    name = archive_name(version)
    if not private_storage.exists(name):
        content = render_document(**{**_permit_document(version),
                                     "language": settings.LANGUAGE_CODE})
        private_storage.save(name, ContentFile(content))
    return name


def render_case_document(application, name, *, language=None):
    """A procedure's other document `name` of a case (its pdf_templates[name], such as
    SHTC's assurance), as PDF bytes, in the applicant's language unless `language` is given.
    Not a permit: no QR code. Raises LookupError for a name the procedure does not list."""
    if name == "permit":
        raise LookupError("the permit is printed from its version: use render_permit()")
    procedure = procedures.get(application.document_type)
    if name not in procedure.pdf_templates:
        raise LookupError(f"{application.document_type} has no document {name!r}")
    return render_document(template=procedure.pdf_templates[name],
                           context=lambda: {**case_context(application),
                                            **procedure.document_context(application, name)},
                           language=language or _language_of(application.applicant))
