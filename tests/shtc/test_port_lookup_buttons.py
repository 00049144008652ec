"""The 轉口港代碼 look-up made cheaper (issue 10, Stop 22): its letters and countries written
out in Python (shtc.port_views.buttons_html) are what templates/shtc/port_lookup.html's loops
printed, their links what link() built for each, every value escaped; its page of codes read
with their count in one query (counted_page) is the Paginator's page."""

import re
from urllib.parse import urlencode

import pytest
from django.core.paginator import Paginator
from django.db.models import Q
from django.template import engines
from django.urls import reverse

from shtc import port_views
from shtc.models import Port

pytestmark = pytest.mark.django_db

# The loops as templates/shtc/port_lookup.html had them.
LETTERS = """{% for each in letters %}
    <li class="list-inline-item mb-1"><a class="btn btn-sm {% if each.current %}btn-primary{% else %}btn-outline-primary{% endif %}" href="{{ each.url }}"{% if each.current %} aria-current="true"{% endif %}>{{ each.letter }}</a></li>
    {% endfor %}"""  # noqa: E501
COUNTRIES = """{% for each in countries %}
    <li class="list-inline-item mb-1"><a class="btn btn-sm {% if each.current %}btn-primary{% else %}btn-outline-secondary{% endif %}" href="{{ each.url }}"{% if each.current %} aria-current="true"{% endif %}>{{ each.code }}{% if each.name %} <span class="small">{{ each.name }}</span>{% endif %}</a></li>
    {% endfor %}"""  # noqa: E501


def between_tags(html):
    return re.sub(r">\s+<", "><", html).strip()


def looped(template, **context):
    return between_tags(engines["django"].from_string(template).render(context))


@pytest.mark.parametrize("query", [
    {"letter": "U"},
    {"country": "US"},
    {"country": "SG", "field": "id_transit_port", "next": "/shtc/assurance/?a=1&b=<2>"},
    {"letter": "t", "field": "x"},
    {},
])
def test_it_prints_the_buttons_the_loops_printed(client, applicant, query):
    client.force_login(applicant)
    response = client.get(reverse("shtc:port_lookup"), query)
    context = response.context
    letters, countries = context["letters"], context["countries"]
    assert between_tags(context["letters_html"]) == looped(LETTERS, letters=letters)
    assert between_tags(context["countries_html"]) == looped(COUNTRIES, countries=countries)
    assert context["letters_html"] in response.content.decode()
    assert bool(countries) == bool(query.get("letter") or query.get("country"))
    # Each link as link() built it alone: what the page carries, then the letter or country.
    carried = {name: value for name, value in (("field", context["field"]),
                                               ("next", context["next_url"])) if value}
    for each in letters:
        assert each["url"] == "?" + urlencode({**carried, "letter": each["letter"]})
    for each in countries:
        assert each["url"] == "?" + urlencode({**carried, "country": each["code"]})
    current = [each["code"] for each in countries if each["current"]]
    assert current == ([query["country"]] if "country" in query else [])


def test_it_escapes_what_the_buttons_print():
    countries = [{"code": "U<", "name": 'Côte "d&Ivoire\'', "url": "?next=/a?b=1&country=U%3C",
                  "current": True},
                 {"code": "UY", "name": "", "url": "?country=UY", "current": False}]
    html = port_views.buttons_html(countries, text="code", outline="btn-outline-secondary")
    assert between_tags(html) == looped(COUNTRIES, countries=countries)
    assert "U&lt;" in html and "&quot;d&amp;Ivoire&#x27;" in html and "b=1&amp;country" in html


ODD_NUMBERS = [None, "", "x", "1.0", "0", "-1", str(2**63), "9" * 30, "\x00", "１",
               str(port_views.COUNTED_PAGES), str(port_views.COUNTED_PAGES + 1)]


@pytest.mark.parametrize("country, words", [("US", ""), ("US", "los"), ("SG", ""),
                                            ("QQ", "")])
def test_it_reads_the_paginators_page_with_its_count(country, words,
                                                     django_assert_num_queries):
    ports = Port.objects.filter(country=country).order_by("code")
    if words:
        ports = ports.filter(Q(name__icontains=words))
    rows = ports.values_list("code", "name", "subdivision")
    pages = -(-rows.count() // port_views.PER_PAGE)
    for number in ["1", "2", str(pages), str(pages + 1), *ODD_NUMBERS]:
        expected = Paginator(rows, port_views.PER_PAGE).get_page(number)
        page = port_views.counted_page(rows, number)
        assert (page.number, page.paginator.count, page.paginator.num_pages,
                list(page.object_list), page.has_next()) == (
            expected.number, expected.paginator.count, expected.paginator.num_pages,
            list(expected.object_list), expected.has_next()), number
    assert pages > 1 or words or country != "US"  # several pages: the last is not the first
    if pages:
        with django_assert_num_queries(1):  # a page that is one: its rows and the count
            page = port_views.counted_page(rows, str(pages))
            list(page.object_list)
