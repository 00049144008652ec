"""The reviewers' case list's Python cut further (issue 10, stop 25): a page's clocks counted
once for the cases that share what a clock reads (permits.admin._page_clocks), and their
cells written once (admin_list.clock_cells); the choice and date filters' HTML kept per
process for the list's parameters, language and day (admin_list._FILTERS); the date
drill-down's ROC titles kept (admin_list._roc_title); a link that removes nothing written
around the list's other parameters (admin_list.query_string). Each is compared with what
it replaces, byte for byte, in both languages."""

import datetime
import operator
import re
import zoneinfo
from types import SimpleNamespace

import pytest
from django.contrib.admin import filters
from django.contrib.admin.views.main import ChangeList
from django.core.signals import setting_changed
from django.test import override_settings
from django.utils import timezone, translation

from permits import admin as permits_admin
from permits import admin_list, workdays
from permits.models import Application, Status, StatusChange
from portal.escaping import escaped
from portal.templatetags.roc import roc_years
from tests.permits.test_admin_list import CHANGELIST, cases, signed_in  # noqa: F401
from tests.permits.test_admin_list_clock import backdate

pytestmark = pytest.mark.django_db

_TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')

PARAMS = [
    {},
    {"status__exact": "initial_review"},
    {"status__exact": "approved", "document_type__exact": "SE", "o": "-9"},
    {"kind__exact": "new", "q": "22099131"},
    {"queue": "mine"},
    {"submitted_at__year": "2026"},
    {"submitted_at__year": "2026", "submitted_at__month": "12"},
    {"submitted_at__gte": "2026-01-01 00:00:00+08:00",
     "submitted_at__lt": "2027-01-01 00:00:00+08:00"},
    {"submitted_at__isnull": "True"},
    {"status__exact": "a&b=c d/é"},
]


class Forgetful(dict):
    """A cache that keeps nothing."""

    def __setitem__(self, key, value):
        pass


def page(client, params):
    response = client.get(CHANGELIST, params)
    assert response.status_code == 200, params
    return _TOKEN.sub(b"TOKEN", response.content)


@pytest.fixture
def shapes(cases, make_case, applicant, reviewer):  # noqa: F811
    """Besides `cases`: cases that share a clock (filed the same day, in the same status)
    and cases that do not (filed on other days, paused, a draft)."""
    made = [make_case(applicant, status=Status.INITIAL_REVIEW) for _ in range(3)]
    for case, days in zip(made[1:], (12, 40), strict=True):
        backdate(case, days)
    made.append(make_case(applicant, status=Status.SUPPLEMENT, reviewer=reviewer))
    made.append(make_case(applicant))
    return cases


def test_a_pages_clocks_are_each_cases_clock(shapes, monkeypatch):
    counted = []
    original = workdays.clock
    monkeypatch.setattr(workdays, "clock", lambda **kwargs: counted.append(1) or
                        original(**kwargs))
    every = list(Application.objects.order_by("pk"))
    changes = list(StatusChange.objects.filter(application__in=every).order_by(
        "application_id", "created_at", "pk").values_list("application_id", "new",
                                                          "created_at"))
    rules = workdays.load_rules()
    for zone in ("Asia/Taipei", "UTC", "America/Los_Angeles"):
        with timezone.override(zone), workdays.one_today():
            counted.clear()
            clocks = permits_admin._page_clocks(
                every, operator.attrgetter("pk"), operator.attrgetter("status"),
                operator.attrgetter("document_type"), changes, rules)
            history = workdays.histories([case.pk for case in every])
            each = {case.pk: original(status=case.status, document_type=case.document_type,
                                      history=history.get(case.pk, ()), rules=rules)
                    for case in every}
        assert clocks == each, zone
        # The cases filed today in 初審 share one clock (and the object itself).
        assert len(counted) < len(every)
        shared = [clocks[case.pk] for case in every
                  if case.status == Status.INITIAL_REVIEW and clocks[case.pk].days == 0]
        assert len(shared) >= 3 and all(clock is shared[0] for clock in shared)
        assert len({id(clock) for clock in clocks.values()}) == len(counted)


@pytest.mark.parametrize("language", ["zh-hant", "en"])
def test_the_list_with_its_kept_parts_is_the_list_drawn_anew(signed_in, shapes,  # noqa: F811
                                                             language, monkeypatch):
    signed_in.cookies["django_language"] = language
    admin_list._FILTERS.clear()
    for params in PARAMS:
        first, kept = page(signed_in, params), page(signed_in, params)
        with monkeypatch.context() as patch:
            # Nothing kept, each clock counted for its case, each cell written for it.
            patch.setattr(admin_list, "_FILTERS", Forgetful())
            patch.setattr(admin_list, "_ROC_TITLES", Forgetful())
            patch.setattr(admin_list, "_KEPT_HEADERS", Forgetful())
            patch.setattr(permits_admin, "_PRESERVED", Forgetful())
            patch.setattr(permits_admin, "_page_clocks", lambda rows, pk_of, status_of,
                          type_of, changes, rules: {pk_of(case): workdays.clock(
                              status=status_of(case), document_type=type_of(case),
                              history=[SimpleNamespace(new=new, created_at=at)
                                       for case_id, new, at in changes
                                       if case_id == pk_of(case)], rules=rules)
                              for case in rows})
            anew = page(signed_in, params)
        assert first == kept == anew, params
    # Kept: the choice filters' and the date filter's, the headers, the rows' links' query.
    assert admin_list._FILTERS and admin_list._KEPT_HEADERS and permits_admin._PRESERVED


def test_the_filters_are_drawn_once_per_parameters_and_language(signed_in, cases,  # noqa: F811
                                                                monkeypatch):
    drawn = []
    for name in ("listed_filter", "_choice_filter"):
        original = getattr(admin_list, name)
        monkeypatch.setattr(admin_list, name, lambda *args, original=original, name=name:
                            drawn.append(name) or original(*args))
    admin_list._FILTERS.clear()
    page(signed_in, {})
    # The three choice filters, the date's and the queues' (their counts: drawn each time).
    assert sorted(drawn) == ["_choice_filter"] * 3 + ["listed_filter"] * 2
    drawn.clear()
    page(signed_in, {})
    assert drawn == ["listed_filter"]  # the queues' alone
    drawn.clear()
    page(signed_in, {"status__exact": "initial_review"})
    assert len(drawn) == 5  # other parameters: other links
    drawn.clear()
    signed_in.cookies["django_language"] = "en"
    page(signed_in, {})
    assert len(drawn) == 5  # another language
    with override_settings(LANGUAGE_CODE="zh-hant"):  # a setting changed: drawn anew
        assert not admin_list._FILTERS


def test_the_date_filter_is_drawn_anew_on_another_day(signed_in, cases, monkeypatch):  # noqa: F811
    zone = zoneinfo.ZoneInfo("Asia/Taipei")
    pages = {}
    for day in (datetime.datetime(2026, 12, 31, 23, 59, tzinfo=zone),
                datetime.datetime(2027, 1, 1, 0, 1, tzinfo=zone)):
        # The day the date filter finds (its module's clock alone: the session's is left).
        monkeypatch.setattr(filters, "timezone", SimpleNamespace(
            now=lambda day=day: day, is_aware=timezone.is_aware, localtime=timezone.localtime))
        text = page(signed_in, {}).decode()
        pages[day] = re.search(r'<details data-filter-title="[^"]*submitted[^"]*".*?</details>|'
                               r"submitted_at__gte=[^\"]*", text, re.S).group(0)
    first, second = pages.values()
    assert first != second
    assert "2027-01-01" in second and "2026-12-31" in first


def test_the_drill_downs_titles_are_roc_years():
    for language in ("zh-hant", "en"):
        with translation.override(language):
            for title in ("2026", "1912", "December 2026", "2026年12月", "12月5日", "<&>"):
                assert admin_list._roc_title(title, language) == escaped(roc_years(title))
                assert admin_list._roc_title(title, language) == escaped(roc_years(title))
            lazy = permits_admin._("All dates")
            assert admin_list._roc_title(lazy, language) == escaped(roc_years(lazy))
    assert ("2026", "en") in admin_list._ROC_TITLES
    setting_changed.send(sender=None, setting="LANGUAGES", value=None, enter=True)
    assert not admin_list._ROC_TITLES


def test_a_link_that_removes_nothing_is_djangos():
    class List:
        get_query_string = ChangeList.get_query_string

        def __init__(self, params):
            self.filter_params = params

    for params in ({}, {"q": ["a b"], "status__exact": ["x&y"]}, {"o": ["-9"], "z": ["1"]},
                   {"submitted_at__year": ["2026"]}, {"submitted_at__gte": ["2026-01-01"]}):
        around, quoted = {}, {}
        for new, remove in (({"submitted_at__year": "2025"}, ["submitted_at__"]),
                            ({"a": "1"}, ["b", "c"]), ({"o": "1"}, ["submitted_at__"]),
                            ({"zz": "é"}, [])):
            mine = admin_list.query_string(params, new, remove, quoted, around)
            assert mine == List(params).get_query_string(new, remove), (params, new, remove)
