"""The case list's choice filters drawn without Django's filter choices (permits.admin_list:
their labels once a process and language, their links from the list's other parameters
quoted once a filter): the page is byte for byte what Django's ChangeList path draws
(each filter's choices(), each link through get_query_string()), for every kind of list
a reviewer asks for, in both languages, for two reviewers, with as many queries."""

import re

import pytest
from django.contrib.admin.templatetags.admin_list import result_headers
from django.contrib.admin.views.main import ChangeList, ChangeListSearchForm
from django.db import connection
from django.test.utils import CaptureQueriesContext

from permits import admin as permits_admin
from permits import admin_list
from permits.admin import CaseChangeList
from permits.models import Application, Status
from tests.permits.test_admin_list import CHANGELIST, cases  # noqa: F401 (a fixture)
from tests.permits.test_admin_stats import colleague  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

QUERIES = [
    {},
    {"queue": "unassigned"},
    {"queue": "mine"},
    {"queue": "overdue"},
    {"status__exact": "initial_review"},
    {"status__exact": "approved", "document_type__exact": "SE"},
    {"kind__exact": "new", "status__exact": "initial_review", "o": "2.-9"},
    {"destination_country__exact": "JP"},
    {"q": "RSE"},
    {"q": "22099131", "status__exact": "initial_review"},
    {"q": "精密 科技", "status__isnull": "True"},
    {"submitted_at__year": "2026"},
    {"submitted_at__year": "2026", "submitted_at__month": "12"},
    {"submitted_at__gte": "2026-01-01 00:00:00+08:00",
     "submitted_at__lt": "2027-01-01 00:00:00+08:00"},
    {"o": "-1"},
    {"o": "9.-2.5"},  # three columns: the priorities, the links that remove each
    {"o": "10.x.-99"},  # a column that does not sort, nonsense, one past the end
    {"queue": "mine", "o": "-4"},
    {"p": "2"},
    {"nonsense__exact": "1"},  # unknown: Django sends the reviewer to ?e=1
    {"q": "RSE\x00"},  # refused by the search form (a message), then sent to ?e=1
    {"q": ""},
    {"q": " "},
    {"status__exact": "a&b=c d/é"},  # what needs quoting, in a link of every choice
]


def page(client, params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(CHANGELIST, params)
    text = re.sub(r'(name="csrfmiddlewaretoken" value=)"[^"]*"', r"\1",
                  response.content.decode())
    return response.status_code, response.get("Location"), text, len(queries)


def through_django(client, params, monkeypatch):
    """The page with every filter's choices made by Django (spec.choices()), each link by
    Django's ChangeList.get_query_string(), the columns' headers by its result_headers()
    and get_ordering_field_columns(), the countries' choices made anew."""
    with monkeypatch.context() as patch:
        patch.setattr(admin_list, "choice_filter", lambda cl, spec: None)
        patch.setattr(admin_list, "date_filter", lambda cl, spec: None)
        patch.setattr(CaseChangeList, "get_query_string", ChangeList.get_query_string)
        patch.setattr(admin_list, "headers", lambda cl: list(result_headers(cl)))
        patch.setattr(CaseChangeList, "get_ordering_field_columns",
                      ChangeList.get_ordering_field_columns)
        patch.setattr(permits_admin, "_DESTINATIONS", Forgetful())
        patch.setattr(CaseChangeList, "search_form_class", ChangeListSearchForm)
        return page(client, params)


class Forgetful(dict):
    """A cache that keeps nothing."""

    def __setitem__(self, key, value):
        pass


@pytest.mark.parametrize("language", ["zh-hant", "en"])
def test_the_list_is_what_djangos_filters_draw(client, reviewer, colleague, cases,  # noqa: F811
                                               monkeypatch, language):
    Application.objects.filter(pk=cases["filed"].pk).update(assignee=reviewer)
    client.cookies["django_language"] = language
    written = []  # the filters drawn without their choices()
    draw = admin_list.choice_filter

    def spied(cl, spec):
        html = draw(cl, spec)
        if html is not None:
            written.append(spec.field.name)
        return html

    monkeypatch.setattr(admin_list, "choice_filter", spied)
    drawn = 0
    for user in (reviewer, colleague):
        client.force_login(user)
        page(client, {})  # what a process reads once (the frame, the rules) read
        for params in QUERIES:
            lean = page(client, params)
            assert lean == through_django(client, params, monkeypatch), params
            status, location, text, _queries = lean
            if params.get("nonsense__exact") or "\x00" in params.get("q", ""):
                assert status == 302 and location.endswith("?e=1")
                if "q" in params:  # the search form's message, shown by the next page
                    assert '<ul class="messagelist">' in page(client, {})[2]
                    written[-3:] = []
            else:
                assert status == 200
                assert 'id="changelist-filter"' in text
                drawn += 1
    assert drawn == 2 * (len(QUERIES) - 2)
    # 文件類別, 狀態 and 申請類別 of every page drawn (and of the two first pages)
    assert sorted(written) == sorted(["document_type", "status", "kind"] * (drawn + 2))


def test_the_chosen_status_is_marked_and_its_links_keep_the_search(client, reviewer, cases):  # noqa: F811
    client.cookies["django_language"] = "en"
    client.force_login(reviewer)
    _status, _location, text, _queries = page(
        client, {"status__exact": Status.INITIAL_REVIEW, "q": "RSE"})
    chosen = re.search(r'<li class="selected">\n<a href="([^"]*status__exact=[^"]*)"', text)
    assert chosen and chosen.group(1) == "?q=RSE&amp;status__exact=initial_review"
    # Each other status: the search kept, the status replaced.
    assert "?q=RSE&amp;status__exact=approved" in text



def test_the_columns_are_looked_up_once(client, reviewer, cases, monkeypatch):  # noqa: F811
    """After a first page, drawing the headers looks no column up again (label_for_field,
    get_ordering_field), whatever the order and filters asked for; the headers are still
    what Django's result_headers() makes of the same list."""
    client.cookies["django_language"] = "en"
    client.force_login(reviewer)
    page(client, {})  # the columns found
    looked_up = []
    label, field = admin_list.label_for_field, ChangeList.get_ordering_field
    monkeypatch.setattr(admin_list, "label_for_field", lambda *args, **kwargs: (
        looked_up.append(args[0]), label(*args, **kwargs))[1])
    monkeypatch.setattr(ChangeList, "get_ordering_field", lambda cl, name: (
        looked_up.append(name), field(cl, name))[1])
    headers, drawn = admin_list.headers, []

    def spied(cl):
        looked_up.clear()
        made = headers(cl)
        drawn.append((cl, made, list(looked_up)))
        return made

    monkeypatch.setattr(admin_list, "headers", spied)
    for params in ({}, {"status__exact": "initial_review"}, {"o": "-1"}, {"o": "9.-2.5"},
                   {"queue": "mine", "q": "RSE"}):
        page(client, params)
        ((cl, made, during),) = drawn
        drawn.clear()
        assert during == [], params
        assert made == list(result_headers(cl)), params
        assert sum(1 for header in made if header["sortable"]) >= 5
