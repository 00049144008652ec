"""The reviewers' case list written out further (issue 10, stop 24): the block "content"
written in Python byte for byte as its template draws it; the rows' cells written whole
(permits.admin._cell_writer: the page's clock, risk and assignee cells, the choices' cells
and the dates) byte for byte as the per-cell pairs of _cell_html() drew them; the clocks of
one page counted with the zone and today looked up once (workdays.one_today)."""

import datetime
import re
import zoneinfo

import pytest
from django.contrib import admin
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import SafeString

from permits import admin as permits_admin
from permits import admin_list, workdays
from permits.models import Application, Status
from portal.templatetags.roc import roc_datetime_local
from shtc.models import RiskFlag, RiskFlagKind
from tests.permits.test_admin_list import (  # noqa: F401 (fixtures)
    CHANGELIST,
    cases,
    signed_in,
)
from tests.permits.test_admin_list_clock import backdate
from tests.permits.test_admin_list_html import PARAMS

pytestmark = pytest.mark.django_db

_TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')


def page(client, params, *, written, monkeypatch):
    """The page's bytes, the CSRF token masked (made anew for every page); its block
    "content" written by admin_list.content_block or (written=False) by its template."""
    calls = []
    original = admin_list.content_block

    def spy(*args, **kwargs):
        found = original(*args, **kwargs) if written else None
        calls.append(found is not None)
        return found

    with monkeypatch.context() as patch:
        patch.setattr(admin_list, "content_block", spy)
        response = client.get(CHANGELIST, params)
    assert response.status_code == 200
    return _TOKEN.sub(b"TOKEN", response.content), calls


@pytest.fixture
def busy(cases, make_case, applicant, reviewer):  # noqa: F811
    """Besides `cases`: an overdue case, a paused one, one with risk flags, a draft."""
    late = make_case(applicant, status=Status.INITIAL_REVIEW)
    backdate(late, 40)
    make_case(applicant, status=Status.SUPPLEMENT, reviewer=reviewer)
    make_case(applicant)
    flagged = make_case(applicant, status=Status.INITIAL_REVIEW, reviewer=reviewer)
    RiskFlag.objects.create(application=flagged, kind=RiskFlagKind.SCREENING_MATCH, score=88.0,
                            params={"name": '<b>"&\'', "listed": "x"})
    RiskFlag.objects.create(application=flagged, kind=RiskFlagKind.CONTROLLED_DESTINATION,
                            params={"country": "KP"})
    return cases


@pytest.mark.parametrize("language", ["zh-hant", "en"])
def test_the_content_block_is_its_templates_byte_for_byte(signed_in, busy, language,  # noqa: F811
                                                          monkeypatch):
    signed_in.cookies["django_language"] = language
    for params in [*PARAMS, {"queue": "mine"}, {"queue": "overdue"}, {"p": "2"},
                   {"submitted_at__year": "2026"}]:
        written, calls = page(signed_in, params, written=True, monkeypatch=monkeypatch)
        drawn, _calls = page(signed_in, params, written=False, monkeypatch=monkeypatch)
        assert written == drawn, params
        # Written in Python but for a popup (Django's rows, the template's block).
        assert calls == ([] if "_popup" in params else [True]), params


def old_rows(cl, columns):
    """The rows as case_rows() drew them before stop 24: a (text, nowrap) pair per cell
    from _cell_html()."""
    empty = cl.model_admin.get_empty_value_display()
    cells = [(name, permits_admin._cell_html(field, value_of, empty))
             for name, field, value_of in columns]
    (first, first_cell), rest = cells[0], cells[1:]
    opts, context = cl.opts, {"preserved_filters": cl.preserved_filters, "opts": cl.opts}
    for case in cl.result_list:
        url = add_preserved_filters(context, reverse(
            f"admin:{opts.app_label}_{opts.model_name}_change", args=(case.pk,)))
        text, nowrap = first_cell(case)
        row = [f'<th class="field-{first}{" nowrap" if nowrap else ""}">',
               f'<a href="{permits_admin._escaped(url)}">{text}</a></th>']
        for name, cell in rest:
            text, nowrap = cell(case)
            row += (f'<td class="field-{name}{" nowrap" if nowrap else ""}">', text, "</td>")
        yield "".join(row)


@pytest.mark.parametrize("language", ["zh-hant", "en"])
def test_the_rows_cells_are_the_pairs_byte_for_byte(signed_in, busy, language):  # noqa: F811
    signed_in.cookies["django_language"] = language
    for params in ({}, {"status__exact": "initial_review", "o": "-9"}, {"q": "22099131"}):
        cl = signed_in.get(CHANGELIST, params).context["cl"]
        columns = [permits_admin._column(cl, name, index)
                   for index, name in enumerate(cl.list_display)]
        with translation.override(language), timezone.override("Asia/Taipei"):
            written = list(permits_admin.case_rows(cl, columns))
            old = list(old_rows(cl, columns))
        assert written == old and len(written) == len(cl.result_list) > 0, params
        assert all(type(row) is SafeString for row in written)
        if not params:  # every kind of cell was compared
            shown = "".join(written)
            assert "case-clock-overdue" in shown and "case-clock-paused" in shown
            assert "risk-badge" in shown and "&lt;b&gt;&quot;&amp;&#x27;" in shown


def test_the_page_cells_share_a_stages_cell_only_when_the_same(monkeypatch):
    """admin_list.clock_cells(): the cell of a stage's clock drawn once a page, and a stage
    with other days, target, due date or open-ness its own."""
    calls = []
    original = admin_list.clock_cell
    monkeypatch.setattr(admin_list, "clock_cell", lambda clock: calls.append(clock) or
                        original(clock))

    def case(**stage):
        current = workdays.StageClock(**{"stage": "initial_review", "days": 3, "target": 7,
                                         "open": True, "due": datetime.date(2026, 12, 9),
                                         **stage})
        return type("Case", (), {"list_clock": workdays.CaseClock(
            status=Status.INITIAL_REVIEW, stages=(current,), days=current.days)})()

    with translation.override("en"):
        cell = admin_list.clock_cells()
        same = [cell(case()) for _ in range(3)]
        others = [cell(case(days=4)), cell(case(due=datetime.date(2026, 12, 10))),
                  cell(case(target=5)), cell(case(days=9))]
        expected = original(case().list_clock)  # in the same language as the cells
    assert len(calls) == 5
    assert same == [expected] * 3
    assert len(set(others) | {same[0]}) == 5 and "overdue" in others[-1]
    assert cell(type("Case", (), {})()) == ""  # no clock read


def test_roc_minute_is_roc_datetime_local():
    zone = zoneinfo.ZoneInfo("Asia/Taipei")
    moments = [datetime.datetime(2026, 12, 5, 0, 0, tzinfo=zone),
               datetime.datetime(2026, 12, 5, 23, 59, 59, 999999, tzinfo=zone),
               datetime.datetime(1912, 1, 1, 9, 5), datetime.datetime(2000, 2, 29, 12, 30),
               datetime.datetime(1911, 6, 1, 1, 1), datetime.datetime(9999, 12, 31, 23, 59)]
    start = datetime.datetime(2024, 12, 31, 7, 3, tzinfo=datetime.UTC)
    moments += [(start + datetime.timedelta(minutes=137 * n)).astimezone(zone)
                for n in range(3000)]
    for moment in moments:
        assert admin_list.roc_minute(moment) == roc_datetime_local(moment), moment
    admin_list._ROC_DAYS.clear()
    monkey = admin_list._ROC_DAYS_MAX
    try:
        admin_list._ROC_DAYS_MAX = 3
        for moment in moments[:20]:
            assert admin_list.roc_minute(moment) == roc_datetime_local(moment)
            assert len(admin_list._ROC_DAYS) <= 3  # bounded
    finally:
        admin_list._ROC_DAYS_MAX = monkey


def test_one_today_gives_the_clocks_of_that_day(make_case, applicant):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    backdate(case, 20)
    history = workdays.histories([case.pk])[case.pk]
    rules = workdays.load_rules()
    with timezone.override("Asia/Taipei"):
        plain = workdays.clock(status=case.status, document_type=case.document_type,
                               history=history, rules=rules)
        with workdays.one_today():
            pinned = workdays.clock(status=case.status, document_type=case.document_type,
                                    history=history, rules=rules)
            later = workdays.clock(status=case.status, document_type=case.document_type,
                                   history=history, rules=rules,
                                   today=timezone.localdate() + datetime.timedelta(days=30))
        assert workdays._ONE_TODAY.get() is None  # left
    assert pinned == plain
    assert later.days > pinned.days  # an explicit day still counts


def test_the_list_counts_its_clocks_in_one_today(signed_in, busy, monkeypatch):  # noqa: F811
    seen = []
    original = workdays.clock

    def spy(**kwargs):
        seen.append(workdays._ONE_TODAY.get())
        return original(**kwargs)

    monkeypatch.setattr(workdays, "clock", spy)
    assert signed_in.get(CHANGELIST).status_code == 200
    assert seen and all(pinned is not None for pinned in seen)
    assert {pinned[1] for pinned in seen} == {timezone.localdate()}
    assert Application.objects.exists() and admin.site.is_registered(Application)
