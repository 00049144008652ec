"""Tags of 9-1-1's entry pages (shtc/entry.py, shtc/forms.py)."""

from django import template
from django.template.loader import render_to_string
from django.utils.translation import get_language

register = template.Library()

_ROUTE_HELP = {}  # {language: markup}


@register.simple_tag
def assurance_route_help():
    """The help beside 9-1-1's 〔檢附文件〕 (SHTC-5): templates/shtc/includes/
    assurance_route_help.html for the routes without an end-use assurance
    (shtc.entry.assurance_routes), rendered once per process and language. What it says
    depends on the language alone (the routes, their documents and obligations are the
    code's); rendered on every request, its loops cost the basic page 0.3 to 0.5 ms of CPU
    (issue 10, profiled)."""
    language = get_language()
    markup = _ROUTE_HELP.get(language)
    if markup is None:
        from shtc.entry import assurance_routes

        markup = _ROUTE_HELP[language] = render_to_string(
            "shtc/includes/assurance_route_help.html", {"assurance_routes": assurance_routes()})
    return markup
