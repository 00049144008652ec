from django import template

register = template.Library()


@register.simple_tag
def shtc_review_panel(application):
    """The reviewer's panel of the case a page shows, as HTML (shtc.admin.review_panel_html;
    admin/shtc/review_panel.html)."""
    from shtc.admin import review_panel_html

    return review_panel_html(application)
