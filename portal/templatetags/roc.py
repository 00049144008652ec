from django import template
from django.utils import timezone

from portal import dates

register = template.Library()


def _local(value):
    if hasattr(value, "tzinfo") and value.tzinfo is not None:
        return timezone.localtime(value)
    return value


@register.filter
def roc(value):
    """{{ permit.issued_on|roc }} → 109/09/12."""
    return dates.to_roc(_local(value)) if value else ""


@register.filter
def roc_long(value):
    """{{ permit.issued_on|roc_long }} → 民國109年9月12日."""
    return dates.to_roc_long(_local(value)) if value else ""


@register.filter
def roc_datetime(value):
    """109/09/12 14:05 for an aware datetime, in the portal's time zone."""
    if not value:
        return ""
    value = _local(value)
    return f"{dates.to_roc(value)} {value:%H:%M}"
