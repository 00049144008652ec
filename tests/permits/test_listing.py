"""permits.listing.VisibleCases: the lists of 我的案件 and 申辦狀況查詢作業 read the visibility
rule from two indexed branches (issue 10). Whatever the database, every page must hold exactly
what visible_to() ordered the same way holds; on PostgreSQL the query must be one the list
indexes can serve."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import timezone, translation

from permits.listing import MAX_PAGE, VisibleCases, case_page, decimal_texts
from permits.models import Application, Status
from tests import services


@pytest.fixture
def cases(make_case, applicant, other_applicant, agent):
    """Cases of an applicant filed by itself and by an agent, another applicant's filed by
    the same agent, drafts, and two cases at the same moment (the id breaks the tie)."""
    made = []
    for _number in range(4):
        made.append(make_case(applicant, status=Status.INITIAL_REVIEW))
        made.append(make_case(applicant, actor=agent, status=Status.INITIAL_REVIEW))
        made.append(make_case(other_applicant, actor=agent, status=Status.INITIAL_REVIEW))
        made.append(make_case(other_applicant, status=Status.INITIAL_REVIEW))
        make_case(applicant, actor=agent)  # a draft: never listed
    start = timezone.now() - datetime.timedelta(days=30)
    for number, case in enumerate(made):
        moment = start + datetime.timedelta(hours=number // 2)  # pairs share a moment
        Application.objects.filter(pk=case.pk).update(created_at=moment, submitted_at=moment)
    return made


def expected(user, ordering):
    return list(Application.objects.visible_to(user).exclude(status=Status.DRAFT)
                .order_by(*ordering))


@pytest.mark.django_db
@pytest.mark.parametrize("ordering", [("-created_at", "-id"), ("-submitted_at", "-id")])
def test_it_pages_exactly_what_visible_to_shows(cases, applicant, other_applicant, agent,
                                                ordering):
    for user in (applicant, other_applicant, agent):
        listed = VisibleCases(Application.objects.exclude(status=Status.DRAFT), user=user,
                              ordering=ordering)
        want = expected(user, ordering)
        pages = [listed[start:start + 3] for start in range(0, len(want) + 3, 3)]
        assert [case for page in pages for case in page] == want


@pytest.mark.django_db
def test_it_reads_a_page_with_its_permits_in_one_query(make_case, applicant, reviewer,
                                                       django_assert_num_queries):
    issued = make_case(applicant, status=Status.APPROVED, reviewer=reviewer)
    waiting = make_case(applicant, status=Status.INITIAL_REVIEW)
    listed = VisibleCases(Application.objects.exclude(status=Status.DRAFT), user=applicant,
                          ordering=("-created_at", "-id"))
    # The labels in the portal's language, whatever an earlier test left active (an
    # override("en") entered with no language active leaves gettext's null catalogue).
    with translation.override("zh-hant"), django_assert_num_queries(1):
        page = listed[0:25]
        shown = [(case.number, case.get_status_display(), case.permit_version and
                  (case.permit_version.version, case.permit_version.permit.permit_no))
                 for case in page]
    version = issued.permit_version
    assert shown == [(waiting.receipt_no, "初審中", None),
                     (issued.receipt_no, "准件結案", (1, version.permit.permit_no))]


@pytest.mark.django_db
def test_it_lists_a_case_of_an_agent_filing_for_itself_once(make_case, agent):
    case = make_case(agent, actor=agent, status=Status.INITIAL_REVIEW)
    listed = VisibleCases(Application.objects.exclude(status=Status.DRAFT), user=agent,
                          ordering=("-created_at", "-id"))
    assert listed[0:25] == [case]


@pytest.mark.django_db
def test_it_shows_the_bureau_every_case(cases, reviewer):
    listed = VisibleCases(Application.objects.exclude(status=Status.DRAFT), user=reviewer,
                          ordering=("-created_at", "-id"))
    assert len(listed[0:100]) == len(cases)


@pytest.mark.django_db
def test_it_pages_on_without_counting(cases, agent):
    """上一頁 and 下一頁 from one row more than the page; a page number from the address is
    read safely."""
    listed = VisibleCases(Application.objects.exclude(status=Status.DRAFT), user=agent,
                          ordering=("-created_at", "-id"))
    want = expected(agent, ("-created_at", "-id"))  # 8 cases filed by the agent
    seen, number = [], 1
    while True:
        page = case_page(listed, number, per_page=3)
        seen += page.object_list
        if not page.has_next():
            break
        number += 1
    assert seen == want and number == 3 and page.has_previous()
    assert case_page(listed, "x", per_page=3).number == 1
    far = case_page(listed, 10**30, per_page=3)  # past the end: the last page
    assert far.number == 3 and far.object_list == want[6:] and not far.has_next()
    assert MAX_PAGE * 25 < 2**31


@pytest.mark.django_db
def test_it_says_which_page_it_is(client, cases, agent, monkeypatch):
    monkeypatch.setattr("permits.views.CASES_PER_PAGE", 3)
    client.force_login(agent)
    first = client.get(reverse("permits:dashboard")).content.decode()
    assert "第 1 頁" in first and "下一頁" in first and "上一頁" not in first
    last = client.get(reverse("permits:dashboard") + "?page=3").content.decode()
    assert "第 3 頁" in last and "上一頁" in last and "下一頁" not in last


@pytest.mark.postgres
@pytest.mark.django_db
def test_it_reads_the_page_from_the_list_indexes(cases, agent):
    """The page's query is one the partial indexes can serve in their order (their
    conditions imply its WHERE): each branch stops after the page instead of sorting every
    visible case. With a few rows the planner would rightly prefer a scan, so scans and
    sorts are priced out here."""
    services.require_postgres()
    for ordering, indexes in ((("-created_at", "-id"), "_list"), (("-submitted_at", "-id"),
                                                                   "_filed")):
        listed = VisibleCases(Application.objects.exclude(status=Status.DRAFT), user=agent,
                              ordering=ordering)
        sql, params = listed._union(26)[:26].query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            cursor.execute("SET LOCAL enable_sort = off")  # the outer sort stays: a few rows
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert f"application_applicant{indexes}" in plan, plan
        assert f"application_agent{indexes}" in plan, plan
        assert plan.count("Limit") == 3, plan  # the page, and each branch cut at its end


@pytest.mark.django_db
def test_it_lists_the_newest_drafts_and_says_there_are_more(client, make_case, applicant,
                                                             monkeypatch):
    monkeypatch.setattr("permits.views.DRAFTS_SHOWN", 2)
    drafts = [make_case(applicant) for _n in range(3)]
    client.force_login(applicant)
    response = client.get(reverse("permits:dashboard"))
    shown = [row["pk"] for row in response.context["drafts"]]
    assert shown == [drafts[2].pk, drafts[1].pk]
    assert 'data-testid="more-drafts"' in response.content.decode()


# What templates/permits/dashboard.html's loop printed before permits.views wrote the rows out.
DRAFT_ROWS_TEMPLATE = """{% load i18n %}{% for draft in drafts %}
      <tr data-testid="draft-{{ draft.pk }}">
        <td>{{ draft.document_type }}</td><td>{{ draft.kind }}</td>
        <td>{{ draft.applicant_name }}</td><td>{{ draft.item_count }}</td>
        <td>{{ draft.updated }}</td>
        <td class="text-end">{% if draft.continue_url %}<a class="btn btn-outline-primary btn-sm" href="{{ draft.continue_url }}">{% translate "Continue" %}</a>{% endif %}</td>
      </tr>
    {% endfor %}"""  # noqa: E501


@pytest.mark.parametrize("language", ["zh-hant", "en"])
def test_it_writes_the_drafts_as_the_template_did(client, make_case, applicant, language):
    from permits.views import draft_table_rows
    from tests.masks.test_start_page import compact, rendered

    make_case(applicant, applicant_name='<b>"甲" & 乙</b>')
    make_case(applicant)
    client.force_login(applicant)
    response = client.get(reverse("permits:dashboard"))
    drafts = response.context["drafts"]
    assert len(drafts) == 2 and any(draft["item_count"] for draft in drafts)
    assert draft_table_rows(drafts) in response.content.decode()
    # A draft no entry continues (no link), values to escape.
    drafts = [*drafts, {**drafts[0], "pk": 0, "continue_url": None, "kind": "<i>",
                        "document_type": "a&b", "updated": '"x"'}]
    with translation.override(language):
        python = draft_table_rows(drafts)
        assert compact(python) == compact(rendered(DRAFT_ROWS_TEMPLATE, drafts=drafts))
    assert "&lt;b&gt;&quot;甲&quot; &amp; 乙&lt;/b&gt;" in python


@pytest.mark.django_db
def test_it_pages_the_same_compiled_once(cases, applicant, agent):
    """我的案件's pages, compiled once per process (permits.prepared), for several users."""
    def page(user, start, **prepared):
        return VisibleCases(Application.objects.exclude(status=Status.DRAFT), user=user,
                            ordering=("-created_at", "-id"), **prepared)[start:start + 3]

    for user in (applicant, agent, applicant):
        for start in (0, 3, 6):
            compiled, plain = page(user, start, prepared="test"), page(user, start)
            assert compiled == plain
            assert [case.permit_version for case in compiled] == \
                [case.permit_version for case in plain]


@pytest.mark.parametrize("language", ["zh-hant", "en"])
def test_it_prints_decimals_as_floatformat_does(language):
    """permits.listing.decimal_texts against the template filter it stands in for
    (floatformat:"-4"), whole, fractional, rounded half up, negative and large values."""
    values = ["0", "10", "10.0000", "12.5", "0.0001", "0.00005", "0.00004", "-0.00004",
              "1358714", "12345678901234.5678", "-3.25", "2.99995", "7E+2", "1.23456"]
    with translation.override(language):
        text = decimal_texts(4)
        for value in map(Decimal, values):
            assert text(value) == floatformat(value, -4), value


def cells(html):
    """[[cell markup]] of each <tr> of a case table."""
    import re

    return [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
            for row in re.findall(r"<tr>(.*?)</tr>", html, re.S)]


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hant", "en"])
def test_the_case_rows_show_each_case(make_case, applicant, reviewer, language):
    """permits.listing.case_rows writes the table's rows out in Python (issue 10): each cell
    what the template printed, escaped, in the page's language."""
    from permits.listing import case_rows
    from portal.templatetags.roc import roc

    issued = make_case(applicant, status=Status.APPROVED, reviewer=reviewer,
                       applicant_name='A&B "<b>" 公司')
    supplement = make_case(applicant, status=Status.SUPPLEMENT, reviewer=reviewer)
    listed = VisibleCases(Application.objects.exclude(status=Status.DRAFT), user=applicant,
                          ordering=("-created_at", "-id"))[0:10]
    listed[1].dashboard_note = "Stock 5 <script>"
    with translation.override(language):
        rows = case_rows(listed, validity=True)
        plain = case_rows(listed)
        words = {case.pk: (case.get_document_type_display(), case.get_kind_display(),
                           case.get_status_display()) for case in listed}
        needed = str(_action_needed())
    assert rows and rows.validity and not plain.validity and len(rows) == 2
    (first, second), (plain_first, _plain_second) = cells(str(rows)), cells(str(plain))
    assert plain_first == first[:-1]  # the same, without the validity column
    url = reverse("permits:application_detail", args=[supplement.pk])
    assert first[0] == f'<a href="{url}">{supplement.receipt_no}</a>'
    assert first[1] == ""  # no permit, no note
    assert first[2:5] == [*words[supplement.pk][:2], supplement.applicant_name]
    assert first[5] == roc(supplement.submitted_at)
    assert first[6] == (f'<span class="badge text-bg-warning">{words[supplement.pk][2]}'
                        f'</span><div class="small text-danger">{needed}</div>')
    assert first[7] == ""
    version = issued.issued_version
    url = reverse("permits:application_detail", args=[issued.pk])
    assert second[1] == (f'<a href="{url}">{version.permit.permit_no}</a> <span class='
                         f'"text-secondary small">v1</span><div class="small text-secondary" '
                         f'data-testid="dashboard-note">Stock 5 &lt;script&gt;</div>')
    assert second[4] == "A&amp;B &quot;&lt;b&gt;&quot; 公司"
    assert second[6] == f'<span class="badge text-bg-success">{words[issued.pk][2]}</span>'
    assert second[7] == roc(version.valid_until)
    assert not case_rows([]) and str(case_rows([])) == ""


def _action_needed():
    from permits.listing import ACTIONS

    return ACTIONS[Status.SUPPLEMENT]


@pytest.mark.django_db
def test_an_empty_list_says_so(client, applicant):
    client.force_login(applicant)
    page = client.get(reverse("permits:dashboard")).content.decode()
    assert '<tr><td colspan="8" class="text-secondary">' in page


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_query_criteria_are_compiled_once_per_combination(make_case, applicant, agent):
    """申辦狀況查詢作業's pages (permits.listing.Criteria): compiled once for each combination
    of criteria given, the values swapped in, the rows those of the ORM's filter."""
    from permits.forms import QueryForm
    from permits.listing import _PREPARED, Criteria
    from permits.views import _query_cases

    made = [make_case(user, actor=actor, status=Status.INITIAL_REVIEW)
            for user, actor in ((applicant, None), (applicant, agent), (applicant, None))]
    now = timezone.now()
    forms = [{"document_type": "SE", "date_from": timezone.localdate(now) -
              datetime.timedelta(days=1), "date_to": timezone.localdate(now)},
             {"document_type": "SE", "number": made[1].receipt_no.lower()},
             {"document_type": "SE", "number": made[2].receipt_no},
             {"document_type": "MK", "date_from": timezone.localdate(now)},
             {"document_type": "SE", "number": "NONE", "date_to": timezone.localdate(now)}]
    found = []
    for user in (applicant, agent, applicant):
        for data in forms:
            form = QueryForm({key: str(value) if not isinstance(value, datetime.date)
                              else value.isoformat() for key, value in data.items()})
            assert form.is_valid(), form.errors
            compiled = VisibleCases(user=user, ordering=QueryForm.ORDERING, criteria=Criteria(
                "test-query", _query_cases, form.criteria(), QueryForm.KINDS))[0:10]
            want = list(form.filter(Application.objects.visible_to(user).exclude(
                status=Status.DRAFT)))
            assert compiled == want
            found.append(len(want))
    assert found == [3, 1, 1, 0, 0, 1, 1, 0, 0, 0, 3, 1, 1, 0, 0]  # the agent filed one
    # Five forms, four combinations of criteria: four compiled queries.
    assert len([key for key in _PREPARED if key[0] == "test-query"]) == 4
    assert {key[1] for key in _PREPARED if key[0] == "test-query"} == {
        ("document_type", "end", "start"), ("document_type", "number"),
        ("document_type", "start"), ("document_type", "end", "number")}
