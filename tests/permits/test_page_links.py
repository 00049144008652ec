"""{% page_links %} (permits/templatetags/page_links.py; issue 10, bench/README.md "Stop 24
(applicants' pages)") prints what {% include "permits/includes/pagination.html" %} prints,
for every shape of page (Django's Page of one page or many, first, middle and last, numbers
past a thousand; the lists' CasePage whose number of pages is unknown), with and without
the list's other parameters (to escape), in both languages and with autoescaping off; the
templates that list pages use it."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.paginator import Paginator
from django.template import engines
from django.utils import translation

from permits.listing import CasePage

LANGUAGES = ["zh-hant", "en"]
INCLUDE = ('{% with query_string=qs %}{% include "permits/includes/pagination.html" %}'
           "{% endwith %}")
TAG = "{% load page_links %}{% page_links page qs %}"
NO_QS_INCLUDE = '{% include "permits/includes/pagination.html" %}'
NO_QS_TAG = "{% load page_links %}{% page_links page query_string %}"


def pages():
    yield Paginator(range(5), 10).page(1)
    many = Paginator(range(2_500 * 20), 20)
    for number in (1, 2, 1_234, 2_500):
        yield many.page(number)
    yield CasePage([], number=1, has_next=False)
    yield CasePage([], number=1, has_next=True)
    yield CasePage([], number=7, has_next=True)
    yield CasePage([], number=1_500, has_next=False)


def rendered(source, context, autoescape=True):
    if not autoescape:
        source = "{% autoescape off %}" + source + "{% endautoescape %}"
    return engines["django"].from_string(source).render(context)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("autoescape", [True, False])
def test_it_prints_what_the_include_prints(language, autoescape):
    shown = set()
    with translation.override(language):
        for page in pages():
            for qs in ("", "document_type=SE&date_from=114/01/01&q=<a&b>\"'&", None):
                context = {"page": page} if qs is None else {"page": page, "qs": qs}
                include = NO_QS_INCLUDE if qs is None else INCLUDE
                tag = NO_QS_TAG if qs is None else TAG
                expected = rendered(include, context, autoescape)
                assert rendered(tag, context, autoescape) == expected, (page, qs)
                shown.add(expected)
    assert len(shown) > 10


def test_the_words_are_each_languages():
    page = Paginator(range(50), 20).page(2)
    texts = {}
    for language in LANGUAGES:
        with translation.override(language):
            texts[language] = rendered(TAG, {"page": page, "qs": ""})
    assert texts["zh-hant"] != texts["en"] and "Page 2 of 3" in texts["en"]


def test_the_list_templates_use_it():
    root = Path(settings.BASE_DIR) / "templates"
    for name in ("permits/dashboard.html", "permits/query.html", "shtc/filing_query.html",
                 "shtc/port_lookup.html", "permits/entry/bulk_errors.html"):
        source = (root / name).read_text()
        assert "{% page_links " in source and "pagination.html" not in source, name
