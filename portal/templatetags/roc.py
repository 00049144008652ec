import datetime
import re

from django import template
from django.utils import timezone
from django.utils.translation import get_language

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
    return roc_datetime_local(_local(value))


def roc_datetime_local(value):
    """roc_datetime() of a value already in the time zone it is shown in (the admin's case
    list converts its fifty dates to the zone it looked up once: localtime() looks it up
    again for each)."""
    if not isinstance(value, datetime.datetime):  # a date: 00:00, as strftime() says
        return f"{dates.to_roc(value)} {value:%H:%M}"
    # %H:%M written out: strftime() cost three times the rest (the admin's case list shows
    # fifty of these a page).
    return f"{dates.to_roc(value)} {value.hour:02d}:{value.minute:02d}"


GREGORIAN_YEAR_RE = re.compile(r"\b(1[89]\d\d|2\d\d\d)(年)?")


@register.filter
def roc_years(text):
    """The Gregorian years in a label as ROC years: the admin's date drill-down (templates/
    admin/date_hierarchy.html) says 115年 and 115年12月 ("December 115" in English), not 2026."""
    chinese = (get_language() or "zh").startswith("zh")

    def roc_year(match):
        year = int(match.group(1)) - dates.ROC_OFFSET
        return f"{year}年" if chinese else str(year)

    return GREGORIAN_YEAR_RE.sub(roc_year, str(text))
