"""The reviewer's working-day clock and risk flags on Django's change form of a case (a
superuser's case page), the same HTML as the reviewers' own page prints below the moves
(permits.admin_case.review_extras_html)."""

from django import template
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def case_review_extras(context, case):
    """The clock from the history the page's table read (put on the case by
    permits.admin.share_rows: no query), and for an SHTC case its risk flags (one query)."""
    from permits.admin_case import review_extras_html
    from shtc import risk
    from shtc.review import has_risk_flags

    flags = (risk.flags_of([case.pk], deciders=True).get(case.pk, [])
             if has_risk_flags(case) else None)
    return mark_safe(review_extras_html(  # noqa: S308 (every value escaped)
        case, case.status_changes.all(), flags, context["request"]))
