"""{% page_links page query_string %}: what {% include "permits/includes/pagination.html" %}
prints for `page` and `query_string` (the list's other parameters, each link's start),
written out in Python (issue 10, bench/README.md "Stop 24 (applicants' pages)").

As an include the list's links cost a template lookup, a context pushed, the template's
nodes walked and its three translations and its blocktranslate looked up on every request
(about 0.3 ms of CPU on 我的案件, 申辦狀況查詢作業, 9-1-2's query and the port look-up on
the bench's machine). Here the words are translated once per process and language
(portal.languages.per_language) and every value is rendered as the template renders it
(render_value_in_context: localised, escaped). With autoescaping off the include prints
them. tests/permits/test_page_links.py compares the two for every shape of page in both
languages."""

from django import template
from django.template.base import render_value_in_context
from django.template.loader import get_template
from django.utils.safestring import SafeString
from django.utils.translation import gettext, override, pgettext

from portal.escaping import escaped
from portal.languages import per_language

register = template.Library()

INCLUDED = "permits/includes/pagination.html"

# The include's {% translate %}s (escaped, as they print them) and its blocktranslates'
# messages (their values put in as the tag puts them).
_words = per_language(lambda: {
    "pages": escaped(gettext("Pages")),
    "previous": escaped(pgettext("pagination", "Previous")),
    "next": escaped(pgettext("pagination", "Next")),
    "page_of": gettext("Page %(n)s of %(total)s"),
    "page": gettext("Page %(n)s"),
})


def _message(message, msgid, data):
    """What {% blocktranslate %} prints: the translation with the values put in, the message
    in the source language if the translation does not take them."""
    try:
        return message % data
    except (KeyError, ValueError):
        with override(None):
            return msgid % data


@register.simple_tag(takes_context=True)
def page_links(context, page, query_string=""):
    if not context.autoescape:
        with context.push(page=page, query_string=query_string):
            return get_template(INCLUDED).template.render(context)
    if not page.has_other_pages():
        return SafeString("\n\n")

    def value(each):
        return render_value_in_context(each, context)

    words = _words()
    start = f'<a class="page-link" href="?{value(query_string)}page='
    previous = (f'<li class="page-item">{start}{value(page.previous_page_number())}">'
                f'{words["previous"]}</a></li>' if page.has_previous() else "")
    following = (f'<li class="page-item">{start}{value(page.next_page_number())}">'
                 f'{words["next"]}</a></li>' if page.has_next() else "")
    paginator = getattr(page, "paginator", None)
    if paginator:
        where = _message(words["page_of"], "Page %(n)s of %(total)s",
                         {"n": value(page.number), "total": value(paginator.num_pages)})
    else:
        where = _message(words["page"], "Page %(n)s", {"n": value(page.number)})
    return SafeString(
        f'\n\n<nav aria-label="{words["pages"]}"><ul class="pagination pagination-sm">\n  '
        f"{previous}\n"
        f'  <li class="page-item disabled"><span class="page-link">{where}</span></li>\n  '
        f"{following}\n</ul></nav>\n\n")
