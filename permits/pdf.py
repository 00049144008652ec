"""The permit PDF (PERMIT-7, 列印): a reference copy (參考用聯) of one permit version.

The bureau issues no paper permit (FAQ 3.8); the printed copy is for use when the system is
down. Its QR code and the verification code printed beside it open the public verification
page (permits.verify), which tells anyone holding the paper whether the permit is valid.

permit_context() turns a version into plain data and render_permit() prints it; neither
needs a request.
"""

from decimal import Decimal
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from permits import procedures
from permits.fields import format_tariff_code
from permits.models import Country
from portal import dates

TEMPLATE = "pdf/permit.html"


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


def qr_data_uri(url):
    """The QR code as an SVG data: URI, so WeasyPrint fetches nothing."""
    return segno.make(url, error="m").svg_data_uri(border=0, dark="#000")


def _country_names(codes):
    # Countries are reference data the bureau may not have loaded: fall back to the code.
    field = "name_zh" if translation.get_language() == "zh-hant" else "name_en"
    names = dict(Country.objects.filter(code__in=codes).values_list("code", field))
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


def permit_context(version):
    """The PDF's data for a permit version: strings, numbers and lists only. Call it inside
    the language the PDF is printed in (labels of choices and country names follow it)."""
    permit = version.permit
    application = version.application
    items = list(application.items.order_by("line_no"))
    procedure = procedures.get(application.document_type)
    countries = _country_names({item.origin_country for item in items}
                               | ({application.destination_country}
                                  if application.destination_country else set()))
    totals = {}
    for item in items:
        totals[item.currency] = totals.get(item.currency, Decimal(0)) + item.amount
    url = verification_url(permit)
    return {
        "document_type": application.get_document_type_display(),
        "permit_no": permit.permit_no,
        "version": version.version,
        "kind": application.get_kind_display(),
        "receipt_no": application.receipt_no or "",
        "issued_on": dates.to_roc(timezone.localdate(version.issued_at)),
        "valid_from": dates.to_roc(version.valid_from),
        "valid_until": dates.to_roc(version.valid_until),
        "partial_shipment": version.partial_shipment,
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
        "totals": [{"currency": currency, "amount": format_money(amount)}
                   for currency, amount in sorted(totals.items())],
        "verification_url": url,
        "verification_base_url": f"{settings.PORTAL_BASE_URL}{reverse('permits:verify')}",
        "verification_code": permit.verification_code,
        "qr_code": qr_data_uri(url),
        "page_counter": _counter_content(_("Page %(page)s of %(pages)s")),
        "printed_at": dates.to_roc(timezone.localdate()),
    }


def render_permit(version):
    """The permit version as PDF bytes, in the holder's language (Traditional Chinese unless
    they chose English)."""
    from weasyprint import HTML  # heavy: loaded only when a PDF is printed

    language = version.permit.holder.language or settings.LANGUAGE_CODE
    with translation.override(language):
        html = render_to_string(TEMPLATE, {**permit_context(version), "language": language})
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
