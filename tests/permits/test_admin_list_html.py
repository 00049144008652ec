"""The reviewers' case list drawn in Python (permits.admin_list, issue 10): the same page as
Django's templates draw (but for blanks), for every part of the list in both languages; the
page's cases made as Django makes them; the search's identifiers read from their index."""

import datetime

import pytest
from django.contrib import admin
from django.contrib.admin import ShowFacets
from django.db import connection
from django.db.models import signals
from django.test import override_settings

from permits import admin_list
from permits.models import Application, PermitVersion, Status
from tests.permits.test_admin_frame import blanks_as_one, with_template
from tests.permits.test_admin_list import (  # noqa: F401 (fixtures)
    CHANGELIST,
    cases,
    signed_in,
)
from tests.services import require_postgres

pytestmark = pytest.mark.django_db


# The list's template before it was written out: Django's admin/change_list.html and its
# inclusion tags, the rows and the date drill-down from permits.admin.
TEMPLATES_DRAWN = """{% extends "admin/change_list.html" %}
{% load admin_list static %}
{% block extrastyle %}{{ block.super }}<link rel="stylesheet" href="{% static "permits/css/case_list.css" %}">{% endblock %}
{% block object-tools-items %}{{ block.super }}{% include "admin/permits/application/export_links.html" %}{% include "admin/permits/application/statistics_link.html" %}{% endblock %}
{% block date_hierarchy %}{% if drilldown %}{% include "admin/date_hierarchy.html" with show=drilldown.show back=drilldown.back choices=drilldown.choices %}{% endif %}{% endblock %}
{% block result_list %}{% if case_results %}
  {% if action_form and actions_on_top and cl.show_admin_actions %}{% admin_actions %}{% endif %}
  {% include "admin/permits/application/change_list_results.html" with result_hidden_fields=case_results.result_hidden_fields result_headers=case_results.result_headers num_sorted_fields=case_results.num_sorted_fields results=case_results.results body=case_results.body %}
  {% if action_form and actions_on_bottom and cl.show_admin_actions %}{% admin_actions %}{% endif %}
{% else %}{{ block.super }}{% endif %}{% endblock %}
"""  # noqa: E501


def drawn(client, params, *, lean, monkeypatch):
    """The page, its parts written by permits.admin_list or (lean=False) drawn by Django's
    templates (its scripts and styles too), its blanks made one space: HTML shows any run
    of blanks as one. The CSRF token is masked anew for every page."""
    if lean:
        response = client.get(CHANGELIST, params)
    else:
        with monkeypatch.context() as patch, override_settings(TEMPLATES=with_template(
                "admin/permits/application/change_list.html", TEMPLATES_DRAWN)):
            patch.setattr(admin_list, "rendered_media", lambda media: media)
            response = client.get(CHANGELIST, params)
    assert response.status_code == 200
    assert ("admin/change_list.html" in [t.name for t in response.templates]) != lean
    return blanks_as_one(response)


def submitted(case):
    return Application.objects.get(pk=case.pk).submitted_at.astimezone(
        datetime.timezone(datetime.timedelta(hours=8)))


@pytest.fixture
def two_a_page(monkeypatch):
    monkeypatch.setattr(admin.site._registry[Application], "list_per_page", 2)  # noqa: SLF001


PARAMS = [
    {},
    {"q": "22099131", "status__exact": "initial_review"},
    {"q": "RSE", "o": "-5.1"},
    {"q": '<b>"&\'', "kind__exact": "new"},
    {"q": "nothing-like-it"},
    {"destination_country__exact": "JP", "o": "3"},
    {"destination_country__exact": "ZZ"},
    {"submitted_at__isnull": "True"},
    {"document_type__exact": "SE", "status__exact": "approved", "o": "-2.5.1"},
    {"_popup": "1"},
]


@pytest.mark.parametrize("language", ["zh-hant", "en"])
@pytest.mark.parametrize("params", PARAMS)
def test_the_page_is_what_the_templates_draw(signed_in, cases, make_case, applicant,  # noqa: F811
                                             params, language, monkeypatch):
    make_case(applicant)  # a draft: no number, no date
    signed_in.cookies["django_language"] = language
    assert drawn(signed_in, params, lean=True, monkeypatch=monkeypatch) == \
        drawn(signed_in, params, lean=False, monkeypatch=monkeypatch)


@pytest.mark.parametrize("language", ["zh-hant", "en"])
def test_the_date_drilldown_is_what_the_templates_draw(signed_in, cases, language,  # noqa: F811
                                                       monkeypatch):
    signed_in.cookies["django_language"] = language
    day = submitted(cases["filed"])
    for params in ({"submitted_at__year": day.year},
                   {"submitted_at__year": day.year, "submitted_at__month": day.month},
                   {"submitted_at__year": day.year, "submitted_at__month": day.month,
                    "submitted_at__day": day.day},
                   {"submitted_at__year": day.year - 1}):
        assert drawn(signed_in, params, lean=True, monkeypatch=monkeypatch) == \
            drawn(signed_in, params, lean=False, monkeypatch=monkeypatch), params


@pytest.mark.parametrize("language", ["zh-hant", "en"])
def test_the_pages_links_are_what_the_templates_draw(signed_in, cases, make_case, applicant,  # noqa: F811
                                                     two_a_page, language, monkeypatch):
    """Pages 1, 2, 12 (of 14: it offers 1 2 … 9 10 11 12 13 and says "more than 24") and
    the last."""
    for _ in range(25):
        make_case(applicant, status=Status.INITIAL_REVIEW)
    signed_in.cookies["django_language"] = language
    for params in ({}, {"p": "2"}, {"p": "12", "status__exact": "initial_review"},
                   {"p": "14"}):
        assert drawn(signed_in, params, lean=True, monkeypatch=monkeypatch) == \
            drawn(signed_in, params, lean=False, monkeypatch=monkeypatch), params


def test_the_facets_are_what_the_templates_draw(signed_in, cases, monkeypatch):  # noqa: F811
    """The list offers no counts (a COUNT per choice); a list that did would draw them as
    Django does."""
    monkeypatch.setattr(admin.site._registry[Application], "show_facets",  # noqa: SLF001
                        ShowFacets.ALLOW)
    for params in ({}, {"_facets": "True", "status__exact": "initial_review"}):
        assert drawn(signed_in, params, lean=True, monkeypatch=monkeypatch) == \
            drawn(signed_in, params, lean=False, monkeypatch=monkeypatch), params


def test_the_results_table_is_what_its_template_draws(signed_in, cases):  # noqa: F811
    from django.template.loader import render_to_string

    for params in ({}, {"o": "-5.1"}, {"q": "nothing-like-it"}):
        table = signed_in.get(CHANGELIST, params).context["case_results"]
        assert admin_list.results_table(table) == render_to_string(
            "admin/permits/application/change_list_results.html", table), params


# --- The page's cases --------------------------------------------------------------------


def instances(queryset):
    return [(type(case), case.__dict__.keys() - {"_state"},
             {name: value for name, value in case.__dict__.items() if name != "_state"},
             case._state.adding, case._state.db, case._state.fields_cache.keys())
            for case in queryset]


def test_the_pages_cases_are_made_as_django_makes_them(cases, django_assert_num_queries):  # noqa: F811
    page = Application.objects.select_related("issued_version__permit").only(
        "receipt_no", "status", "issued_version__version", "issued_version__permit__permit_no",
    ).order_by("pk")
    made = admin_list.read_instances(page)
    assert instances(made) == instances(page)
    issued = next(case for case in made if case.pk == cases["issued"].pk)
    drafted = next(case for case in made if case.pk == cases["filed"].pk)
    with django_assert_num_queries(0):
        assert issued.issued_version.permit.permit_no
        assert issued.issued_version.application is issued
        with pytest.raises(PermitVersion.DoesNotExist):
            drafted.issued_version  # noqa: B018 (known to be none: no query)
    with django_assert_num_queries(1):
        assert drafted.applicant_name == cases["filed"].applicant_name  # deferred, as Django


def test_a_model_that_reacts_to_being_made_is_made_by_django(cases):  # noqa: F811
    made = []

    def receiver(sender, instance, **kwargs):
        made.append(instance)

    signals.post_init.connect(receiver, sender=Application)
    try:
        assert len(admin_list.read_instances(Application.objects.all())) == 3
    finally:
        signals.post_init.disconnect(receiver, sender=Application)
    assert len(made) == 3


# --- The search's identifiers ----------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("index", ["application_applicant_id_like", "application_agent_id_like"])
def test_the_identifiers_index_holds_the_cases_id(index):
    """permits migration 0009: the search's probe of an identifier reads its index alone."""
    require_postgres()
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [index])
        [(definition,)] = cursor.fetchall()
    assert "varchar_pattern_ops" in definition and definition.endswith("INCLUDE (id)")
