import uuid

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def client_token():
    """A hidden one-time token for a form that creates a case (see services.application_create):
    a double-clicked submit then creates one case."""
    return format_html('<input type="hidden" name="client_token" value="{}">', uuid.uuid4().hex)


@register.filter
def plain(value):
    """A quantity or amount as the fields take it (PERMIT-9): 10.0000 → 10, 0.5000 → 0.5,
    never grouped or in an exponent; "" for None."""
    from decimal import Decimal, InvalidOperation

    from permits.fields import plain_decimal

    if value is None or value == "":
        return ""
    try:
        return plain_decimal(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return value


@register.filter
def tariff(code):
    """63079050311 → 6307.90.50.31-1 (REFERENCE.md)."""
    from permits.fields import format_tariff_code

    return format_tariff_code(code) if code else ""


@register.filter
def with_country_name(code, names):
    """US → "US 美國", from a {code: name} map the view loads once per page."""
    name = (names or {}).get(code)
    return f"{code} {name}" if name else code


@register.filter
def required_document_items(required):
    """The <li>s of permits/includes/required_documents.html for permits.documents.status'
    rows, written out by permits.case_html (issue 10)."""
    from permits.case_html import required_document_items as items

    return items(required)
