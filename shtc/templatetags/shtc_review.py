from django import template

register = template.Library()


@register.simple_tag
def shtc_review_panel(application):
    """shtc.review.panel() of the case a page shows (admin/shtc/review_panel.html)."""
    from shtc import review

    return review.panel(application)
