"""The reviewers' case list and case page at 100,000 cases (issue 10): the search finds a
case by its whole number or the beginning of a number or identifier (indexed columns), or by
part of the applicant's name (a trigram index on PostgreSQL); no query of the list counts
every case or reads the whole table for a filter's choices; the list and the case page cost
the same queries however many cases, lines and history rows there are."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from permits import admin as permits_admin
from permits.models import Application, Attachment, Country, Status
from tests.services import require_postgres

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:permits_application_changelist")
TAIPEI = datetime.timezone(datetime.timedelta(hours=8))


@pytest.fixture
def cases(make_case, applicant, other_applicant, agent, reviewer):
    """安心醫材 (22099131): a case in 初審 and one its agent 04595252 filed; 台灣精密科技
    (12345675): an issued case, to Japan."""
    filed = make_case(applicant, status=Status.INITIAL_REVIEW)
    by_agent = make_case(applicant, actor=agent, status=Status.INITIAL_REVIEW)
    issued = make_case(other_applicant, status=Status.APPROVED, reviewer=reviewer)
    Application.objects.filter(pk=issued.pk).update(destination_country="JP")
    return {"filed": filed, "by_agent": by_agent, "issued": issued}


@pytest.fixture
def signed_in(client, reviewer):
    client.force_login(reviewer)
    return client


def found(client, query, **params):
    response = client.get(CHANGELIST, {"q": query, **params})
    assert response.status_code == 200
    return {case.pk for case in response.context["cl"].result_list}


def pks(*cases):
    return {case.pk for case in cases}


# --- The search --------------------------------------------------------------------------


def test_it_finds_a_case_by_its_whole_receipt_number(signed_in, cases):
    filed = cases["filed"]
    assert found(signed_in, filed.receipt_no) == pks(filed)
    assert found(signed_in, filed.receipt_no.lower()) == pks(filed)  # typed in lower case


def test_it_finds_cases_by_the_beginning_of_a_receipt_number(signed_in, cases):
    everyone = pks(*cases.values())  # all SHTC export cases of this year: RSE115…
    assert found(signed_in, cases["filed"].receipt_no[:6]) == everyone
    assert found(signed_in, "RMK") == set()  # no mask case
    # The end of a number is not its beginning (Django's search found it anywhere).
    assert found(signed_in, cases["filed"].receipt_no[-5:]) == set()


def test_it_finds_a_case_by_its_permit_number(signed_in, cases):
    issued = cases["issued"]
    permit_no = issued.issued_version.permit.permit_no
    assert found(signed_in, permit_no) == pks(issued)
    assert found(signed_in, permit_no[:7]) == pks(issued)
    assert found(signed_in, "PMK") == set()


def test_it_finds_cases_by_the_beginning_of_an_identifier(signed_in, cases, applicant):
    mine = pks(cases["filed"], cases["by_agent"])
    assert found(signed_in, applicant.identifier) == mine
    assert found(signed_in, applicant.identifier[:4]) == mine
    assert found(signed_in, "1234567") == pks(cases["issued"])
    assert found(signed_in, "04595252") == pks(cases["by_agent"])  # the filing agent
    assert found(signed_in, "0459") == pks(cases["by_agent"])


def test_it_finds_cases_by_part_of_the_applicants_name(signed_in, cases):
    assert found(signed_in, "精密科技") == pks(cases["issued"])
    assert found(signed_in, "醫材股份") == pks(cases["filed"], cases["by_agent"])
    # Two characters hold no trigram: they find the names that start with them.
    assert found(signed_in, "台灣") == pks(cases["issued"])
    assert found(signed_in, "精密") == set()


def test_every_word_narrows_the_search(signed_in, cases, applicant):
    assert found(signed_in, f"{applicant.identifier} 04595252") == pks(cases["by_agent"])
    assert found(signed_in, f"醫材 {cases['issued'].receipt_no}") == set()
    assert found(signed_in, '"精密科技股份"') == pks(cases["issued"])


def test_a_search_keeps_the_filters(signed_in, cases, applicant):
    assert found(signed_in, applicant.identifier, status__exact="approved") == set()
    assert found(signed_in, "RSE", status__exact="approved") == pks(cases["issued"])


def test_a_search_that_finds_many_cases_still_finds_them_all(signed_in, cases, monkeypatch):
    """Past FEW_FOUND the cases are not named one by one but found by the query itself."""
    monkeypatch.setattr(permits_admin, "FEW_FOUND", 1)
    assert found(signed_in, "RSE") == pks(*cases.values())
    assert found(signed_in, "22099131") == pks(cases["filed"], cases["by_agent"])


@pytest.mark.postgres
@pytest.mark.parametrize(("query", "index"), [
    ("22099131", "application_applicant_id_like"),
    ("0459", "application_agent_id_like"),
    ("醫材股份", "application_name_trgm"),
    ("安心", "application_name_trgm"),
    ("RSE115", "permits_application_receipt_no_"),
    ("PSE115", "permits_permit_permit_no_"),
])
def test_each_branch_of_the_search_reads_an_index(cases, query, index):
    """The queries Django writes for the search are those the indexes serve (UPPER(...)
    LIKE for names, LIKE 'Q%' for numbers and identifiers): with sequential scans priced
    out, PostgreSQL answers each word from its index, not by reading every case."""
    require_postgres()
    sql, params = permits_admin.case_matches(query).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan, plan
    assert "Seq Scan on permits_application" not in plan, plan


# --- The list's queries ------------------------------------------------------------------

PAGES = [{}, {"q": "22099131"}, {"q": "安心醫材", "status__exact": "initial_review"},
         {"q": "RSE"}, {"destination_country__exact": "DE"}, {"submitted_at__year": "2026"},
         {"status__exact": "approved", "document_type__exact": "SE"}]


def list_queries(client, params):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(CHANGELIST, params).status_code == 200
    return [query["sql"] for query in queries]


def test_the_list_costs_the_same_queries_with_more_cases(signed_in, cases, make_case,
                                                         applicant, agent, monkeypatch):
    """From one page of cases to three."""
    from django.contrib import admin

    monkeypatch.setattr(admin.site._registry[Application], "list_per_page", 5)  # noqa: SLF001
    few = {str(params): len(list_queries(signed_in, params)) for params in PAGES}
    for _ in range(6):
        make_case(applicant, status=Status.INITIAL_REVIEW)
        make_case(applicant, actor=agent, status=Status.INITIAL_REVIEW)
    many = {str(params): len(list_queries(signed_in, params)) for params in PAGES}
    assert many == few


def test_no_query_of_the_list_reads_distinct_values_or_counts_cases(signed_in, cases):
    """But one: the queues' counts (issue 14, permits.admin_queues), each over open cases
    only, which the partial indexes application_queues and application_assigned_list serve."""
    for params in PAGES:
        queries = list_queries(signed_in, params)
        counts = [sql for sql in queries if "COUNT(*)" in sql or '"permits_queuecount"' in sql]
        assert len(counts) == 1, (params, counts)
        if connection.vendor == "postgresql":  # the counters its triggers keep (QueueCount)
            assert "permits_application" not in counts[0], counts[0]
            parts = []
        else:  # each count's table and conditions (each a COUNT(*) FROM a LIMITed subquery)
            parts = counts[0].split(' FROM "permits_application"')[1:]
            assert len(parts) == 3 and counts[0].count(" LIMIT ") == 3, counts[0]
        assert all("\"status\" IN ('consultation', 'initial_review', 'returned', "
                   "'second_review'" in part for part in parts), counts[0]
        for sql in queries:
            if sql in counts:
                continue
            assert "DISTINCT" not in sql.upper(), (params, sql)
            assert "COUNT(" not in sql.upper(), (params, sql)


@pytest.fixture
def two_a_page(monkeypatch):
    from django.contrib import admin

    monkeypatch.setattr(admin.site._registry[Application], "list_per_page", 2)  # noqa: SLF001


def test_it_says_more_than_when_the_list_goes_on(signed_in, cases, two_a_page):
    signed_in.cookies["django_language"] = "en"
    response = signed_in.get(CHANGELIST)
    cl = response.context["cl"]
    assert cl.paginator.more and len(cl.result_list) == 2
    html = response.content.decode()
    assert "more than 2 applications" in html and "?p=2" in html
    response = signed_in.get(CHANGELIST, {"p": 2})  # the last page: counted
    assert not response.context["cl"].paginator.more
    assert len(response.context["cl"].result_list) == 1
    assert "3 applications" in response.content.decode()
    response = signed_in.get(CHANGELIST, {"q": "RSE"})
    assert "more than 2 results" in response.content.decode()
    response = signed_in.get(CHANGELIST, {"q": "22099131"})  # two: one page, counted
    assert not response.context["cl"].paginator.more
    assert response.context["cl"].result_count == 2


def test_a_page_past_the_end_goes_back_to_the_list(signed_in, cases, two_a_page):
    response = signed_in.get(CHANGELIST, {"p": 3})
    assert response.status_code == 302 and response.url.endswith("?e=1")
    response = signed_in.get(CHANGELIST, {"p": 0})
    assert response.status_code == 302


def test_it_lists_filed_cases_newest_first_and_drafts_last(signed_in, cases, make_case,
                                                           applicant):
    draft = make_case(applicant)
    order = [case.pk for case in signed_in.get(CHANGELIST).context["cl"].result_list]
    filed = list(Application.objects.exclude(pk=draft.pk)
                 .order_by("-submitted_at", "-pk").values_list("pk", flat=True))
    assert order == [*filed, draft.pk]


# --- Filters -----------------------------------------------------------------------------


def choices_of(response, title):
    spec = next(spec for spec in response.context["cl"].filter_specs
                if str(spec.title) == str(title))
    return [choice["display"] for choice in spec.choices(response.context["cl"])]


def test_the_destination_filter_offers_the_code_table(signed_in, cases):
    response = signed_in.get(CHANGELIST)
    offered = choices_of(response, Application._meta.get_field("destination_country")
                         .verbose_name)
    # Every country of the table, those no case goes to too, after "All".
    assert len(offered) == Country.objects.count() + 1
    assert str(Country.objects.get(code="FR")) in offered
    listed = signed_in.get(CHANGELIST, {"destination_country__exact": "JP"})
    assert {case.pk for case in listed.context["cl"].result_list} == pks(cases["issued"])


def test_the_date_drilldown_offers_the_dates_between_the_first_and_the_last_case(
        signed_in, cases):
    filed, issued = cases["filed"], cases["issued"]
    Application.objects.filter(pk=filed.pk).update(
        submitted_at=datetime.datetime(2024, 3, 5, 9, 0, tzinfo=TAIPEI))
    Application.objects.filter(pk=issued.pk).update(
        submitted_at=datetime.datetime(2026, 12, 2, 14, 5, tzinfo=TAIPEI))
    Application.objects.filter(pk=cases["by_agent"].pk).update(
        submitted_at=datetime.datetime(2026, 10, 20, 8, 0, tzinfo=TAIPEI))
    drilldown = signed_in.get(CHANGELIST).context["drilldown"]
    assert [choice["title"] for choice in drilldown["choices"]] == ["2024", "2025", "2026"]
    response = signed_in.get(CHANGELIST, {"submitted_at__year": "2026"})
    months = response.context["drilldown"]["choices"]
    assert len(months) == 3  # October to December
    assert {case.pk for case in response.context["cl"].result_list} == \
        pks(issued, cases["by_agent"])
    response = signed_in.get(CHANGELIST, {"submitted_at__year": "2026",
                                          "submitted_at__month": "12"})
    assert {case.pk for case in response.context["cl"].result_list} == pks(issued)
    assert len(response.context["drilldown"]["choices"]) == 1  # the 2nd, the one day


# --- The case page -----------------------------------------------------------------------


def add_history(case, applicant, reviewer, moves):
    """`moves` round trips 補件 → 初審 and an attachment for each."""
    from permits import workflow

    for number in range(moves):
        workflow.transition(application=case, to=Status.SUPPLEMENT, actor=reviewer,
                            note="請補附型錄。")
        workflow.transition(application=case, to=Status.INITIAL_REVIEW, actor=applicant)
        Attachment.objects.create(
            application=case, file=f"attachments/catalogue-{number}.pdf",
            original_name=f"型錄 {number}.pdf", content_type="application/pdf", size=1000,
            sha256="0" * 64, uploaded_by=applicant, document_kind="supplement")


def test_the_case_page_costs_the_same_queries_with_a_longer_history(
        signed_in, make_case, applicant, reviewer):
    short = make_case(applicant, status=Status.INITIAL_REVIEW)
    long = make_case(applicant, status=Status.INITIAL_REVIEW)
    add_history(short, applicant, reviewer, 1)
    add_history(long, applicant, reviewer, 5)
    signed_in.get(reverse("admin:permits_application_change", args=[short.pk]))  # caches warm
    counts = []
    for case in (short, long):
        url = reverse("admin:permits_application_change", args=[case.pk])
        with CaptureQueriesContext(connection) as queries:
            response = signed_in.get(url)
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    html = response.content.decode()
    assert all(f"型錄 {number}.pdf" in html for number in range(5))
    assert "請補附型錄。" in html


def test_the_case_page_reads_the_case_once(signed_in, cases):
    case = cases["filed"]
    with CaptureQueriesContext(connection) as queries:
        response = signed_in.get(reverse("admin:permits_application_change", args=[case.pk]))
    assert response.context["moves"]  # the reviewer's moves are still offered
    reads = [query["sql"] for query in queries
             if query["sql"].startswith('SELECT "permits_application"."id"')]
    assert len(reads) == 1, reads


# --- The same HTML as Django's, drawn at a fraction of the cost ---------------------------


@pytest.mark.parametrize("language", ["zh-hant", "en"])
@pytest.mark.parametrize("params", [{}, {"q": "RSE", "status__exact": "initial_review"},
                                    {"o": "-5.1"}])
def test_the_rows_are_those_django_draws(signed_in, cases, make_case, applicant, language,
                                         params):
    from django.contrib.admin.templatetags.admin_list import items_for_result

    make_case(applicant)  # a draft: no number, no date
    signed_in.cookies["django_language"] = language
    response = signed_in.get(CHANGELIST, params)
    cl = response.context["cl"]
    drawn = [row for [row] in response.context["case_results"]["results"]]
    assert drawn, params
    assert drawn == ["".join(items_for_result(cl, case, None)) for case in cl.result_list]
    assert all(row in response.content.decode() for row in drawn)


def test_the_read_only_tables_are_those_django_draws(signed_in, cases, make_case, applicant,
                                                     reviewer, django_form):
    from django.contrib.admin import helpers

    from masks.models import MaskApplication
    from permits.models import DocumentType

    case = cases["filed"]
    add_history(case, applicant, reviewer, 2)
    mask = make_case(applicant, document_type=DocumentType.MASK_IMPORT)
    MaskApplication.objects.create(application=mask, route="postal")
    compared = set()
    for shown in (case, mask):
        # Django's change form (the reviewers' own page draws the same: test_admin_case).
        response = django_form(signed_in, reverse("admin:permits_application_change",
                                                  args=[shown.pk]))
        tables = response.context["inline_admin_formsets"]
        assert all(isinstance(table, permits_admin.ReadOnlyInlineFormSet)
                   for table in tables)
        for table in tables:
            django_rows = list(helpers.InlineAdminFormSet.__iter__(table))
            rows = list(table.formset.get_queryset())
            assert len(rows) == len(django_rows) == len(table.rows)
            for row, django_row in zip(rows, django_rows, strict=True):
                theirs = [(field.field["name"], field.contents()) for fieldset in django_row
                          for line in fieldset for field in line]
                assert [(name, cell(row)) for name, cell in table.cells] == theirs
                compared.add(type(row).__name__)
        assert all(row in response.content.decode() for table in tables
                   for row in table.rows)
    assert compared == {"Item", "Attachment", "StatusChange", "MaskApplication"}


def blanks_out(html):
    """HTML without the blanks a template leaves between and inside tags."""
    return re.sub(r"\s*(<[^>]*>)\s*", r"\1", re.sub(r"\s+", " ", html)).strip()


@pytest.mark.parametrize("language", ["zh-hant", "en"])
def test_the_case_data_is_what_django_draws(signed_in, cases, make_case, agent, language,
                                            django_form):
    from django.template.loader import render_to_string

    from permits.models import Kind

    issued = cases["issued"]  # a correction of its permit, by the agent, on two lines
    change = make_case(issued.applicant, actor=agent, kind=Kind.CORRECTION,
                       changes=issued.issued_version, change_description="更改數量\n第二行")
    signed_in.cookies["django_language"] = language
    for case in (cases["filed"], change):
        url = reverse("admin:permits_application_change", args=[case.pk])
        response = signed_in.get(url)  # the reviewers' own page (permits.admin_case)
        drawn = response.context["fieldsets"]
        adminform = django_form(signed_in, url).context["adminform"]
        theirs = [render_to_string("admin/includes/fieldset.html", {
            "fieldset": fieldset, "heading_level": 2, "prefix": "fieldset", "id_prefix": 0,
            "id_suffix": index}) for index, fieldset in enumerate(adminform)]
        assert [blanks_out(html) for html in drawn] == [blanks_out(html) for html in theirs]
        assert all(html in response.content.decode() for html in drawn)
    assert issued.issued_version.permit.permit_no in response.content.decode()
