"""The reviewers' case list and case page, what Django's admin builds for them built less
often or not at all (issue 10, bench/README.md "Stop 19"): each test holds one of those
savings to the result Django's own machinery gives."""

import datetime
import html

import pytest
from django.contrib import admin
from django.db import connection
from django.forms.formsets import BaseFormSet
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from permits import admin as permits_admin
from permits.models import Application, Item, Kind, Status, StatusChange
from tests.permits.test_admin_list import add_history
from tests.shtc.review_cases import ITEM

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:permits_application_changelist")


def change_url(case):
    return reverse("admin:permits_application_change", args=[case.pk])


@pytest.fixture
def signed_in(client, reviewer):
    client.force_login(reviewer)
    return client


@pytest.fixture
def case(make_case, applicant, reviewer):
    """A case in 初審 with three lines, two round trips to 補件 and an attachment each."""
    case = make_case(applicant, status=Status.INITIAL_REVIEW, items=[dict(ITEM)] * 3)
    add_history(case, applicant, reviewer, 2)
    return case


def application_admin():
    return admin.site._registry[Application]  # noqa: SLF001


# --- The app list --------------------------------------------------------------------------


def test_only_the_index_and_an_apps_page_build_the_app_list(signed_in, case, monkeypatch):
    """AdminSite.each_context() made the list of every app and model for the navigation
    sidebar, which is off: now it is made when a page reads it."""
    built = []
    build = admin.AdminSite._build_app_dict  # noqa: SLF001

    def counted(site, request, label=None):
        built.append(label)
        return build(site, request, label)

    monkeypatch.setattr(admin.AdminSite, "_build_app_dict", counted)
    for url in (CHANGELIST, change_url(case), CHANGELIST + "?q=RSE"):
        assert signed_in.get(url).status_code == 200
    assert built == []
    index = signed_in.get(reverse("admin:index"))
    models = {model["object_name"] for app in index.context["app_list"]
              for model in app["models"]}
    assert "Application" in models and built
    page = signed_in.get(reverse("admin:app_list", args=["permits"]))
    assert page.status_code == 200 and page.context["app_list"][0]["app_label"] == "permits"
    assert "Application" in page.content.decode() or "申請" in page.content.decode()
    # An app with nothing the reviewer may see: none listed, no page (Django asks the list).
    assert signed_in.get(reverse("admin:app_list", args=["axes"])).status_code == 404


# --- The case page's formsets --------------------------------------------------------------


def formsets_of(response):
    return [inline_formset.formset for inline_formset in response.context["inline_admin_formsets"]]


def test_a_get_makes_the_formsets_django_makes_without_a_form_a_row(signed_in, case, rf,
                                                                   reviewer, django_form):
    request = rf.get(change_url(case))
    request.user = reviewer
    model_admin = application_admin()
    ours, our_inlines = model_admin._create_formsets(request, case, True)  # noqa: SLF001
    theirs, their_inlines = admin.ModelAdmin._create_formsets(  # noqa: SLF001
        model_admin, request, case, True)
    assert [type(inline) for inline in our_inlines] == [type(inline) for inline in their_inlines]
    assert [formset.prefix for formset in ours] == [formset.prefix for formset in theirs]
    assert [[row.pk for row in formset.get_queryset()] for formset in ours] == \
        [[row.pk for row in formset.get_queryset()] for formset in theirs]
    assert all("forms" in formset.__dict__ for formset in theirs)  # Django's made them
    # Django's change form (which the reviewers' own page replaces for them: test_admin_case)
    # drew its tables without a form a row.
    response = django_form(signed_in, change_url(case))
    assert not any("forms" in formset.__dict__ for formset in formsets_of(response))
    assert "請補附型錄。" in response.content.decode()


def test_the_read_only_formsets_answer_as_djangos(signed_in, case, django_form):
    """Media, whether files are posted, the empty form: asked of one form instead of every
    row's; a name is no row (a template's lookup of formset.prefix)."""
    formsets = formsets_of(django_form(signed_in, change_url(case)))
    assert formsets
    for formset in formsets:
        assert str(formset.media) == str(BaseFormSet.media.fget(formset))
        assert formset.is_multipart() == BaseFormSet.is_multipart(formset)
        assert str(formset.empty_form) == str(BaseFormSet.empty_form.fget(formset))
        with pytest.raises(TypeError):
            formset["prefix"]  # noqa: B018
        if formset.initial_form_count():
            assert formset[0] is formset.forms[0]


def test_a_superuser_still_saves_the_page_with_its_inlines(client, case, make_user):
    """A POST goes through Django's own _create_formsets (its forms validated)."""
    superuser = make_user("B123456780", is_staff=True, is_superuser=True,
                          identifier_type="national_id")
    client.force_login(superuser)
    response = client.get(change_url(case))
    data = {"_save": "Save"}
    for formset in formsets_of(response):
        management = formset.management_form
        data.update({management.add_prefix(name): value
                     for name, value in management.initial.items()})
        for index, row in enumerate(formset.get_queryset()):
            data[f"{formset.prefix}-{index}-id"] = row.pk
            data[f"{formset.prefix}-{index}-{formset.fk.name}"] = case.pk
    response = client.post(change_url(case), data)
    assert response.status_code in (200, 302)
    assert Item.objects.filter(application=case).count() == 3


# --- The tables' rows, by queries compiled once -------------------------------------------


def django_rows(formset):
    """The rows Django's formset reads: the inline's queryset narrowed to the case."""
    rows = formset.inline_queryset.filter(**{formset.fk.name: formset.instance})
    return list(rows if rows.ordered else rows.order_by("pk"))


def values(row):
    return {field.attname: getattr(row, field.attname) for field in row._meta.concrete_fields}


def test_the_tables_rows_are_those_djangos_queryset_reads(signed_in, case, make_case,
                                                         applicant, reviewer, django_form):
    other = make_case(applicant, status=Status.INITIAL_REVIEW, items=[dict(ITEM)] * 2)
    add_history(other, applicant, reviewer, 1)
    for shown in (case, other, case):
        formsets = formsets_of(django_form(signed_in, change_url(shown)))
        for formset in formsets:
            if formset.fk.one_to_one:
                continue  # a panel, which no table draws
            rows, theirs = list(formset.get_queryset()), django_rows(formset)
            assert [values(row) for row in rows] == [values(row) for row in theirs]
            assert all(getattr(row, formset.fk.name) is shown or
                       getattr(row, formset.fk.name).pk == shown.pk for row in rows)
            related = formset.inline_queryset.query.select_related
            with CaptureQueriesContext(connection) as queries:  # read with the rows
                got = [[getattr(row, name) for name in related or ()] for row in rows]
            assert not queries.captured_queries
            assert got == [[getattr(row, name) for name in related or ()] for row in theirs]
    kinds = {formset.model for formset in formsets}
    assert StatusChange in kinds and Item in kinds


def test_a_narrowed_queryset_is_read_by_django():
    fk = Item._meta.get_field("application")
    assert permits_admin.inline_rows(Item.objects.all(), fk) is not None
    for narrowed in (Item.objects.filter(quantity__gt=1), Item.objects.none(),
                     Item.objects.all()[:2], Item.objects.defer("description"),
                     Item.objects.distinct(), Item.objects.extra(where=["1 = 1"])):
        assert permits_admin.inline_rows(narrowed, fk) is None


def test_a_case_key_out_of_range_or_not_a_number_is_no_case(signed_in, case):
    for key in ("9" * 30, str(2 ** 63), "-1", "0", "abc"):
        response = signed_in.get(f"/admin/permits/application/{key}/change/")
        assert response.status_code == 302, key  # Django's "does not exist" redirect
    assert signed_in.get(change_url(case)).status_code == 200


# --- The list ------------------------------------------------------------------------------


@pytest.mark.parametrize("params", [{}, {"q": "RSE", "status__exact": "initial_review"},
                                    {"q": "nothing-like-it"}])
def test_the_lists_table_is_what_djangos_template_draws(signed_in, case, make_case,
                                                        applicant, params):
    make_case(applicant)  # a draft
    response = signed_in.get(CHANGELIST, params)
    table = response.context["case_results"]
    ours = render_to_string("admin/permits/application/change_list_results.html", table)
    theirs = render_to_string("admin/change_list_results.html", table)
    assert ours == theirs
    assert ours in response.content.decode()
    assert ("<tbody>" in ours) == bool(table["results"])


@pytest.mark.parametrize("language", ["zh-hant", "en"])
@pytest.mark.parametrize("chosen", [None, "JP", "ZZ"])
def test_the_destination_options_are_made_once_as_before(signed_in, case, language, chosen):
    signed_in.cookies["django_language"] = language
    for _ in range(2):  # made, then kept
        response = signed_in.get(CHANGELIST, {"destination_country__exact": chosen}
                                 if chosen else {})
        cl = response.context["cl"]
        spec = next(spec for spec in cl.filter_specs
                    if isinstance(spec, permits_admin.DestinationFilter))
        with translation.override(language):
            options = next(iter(spec.choices(cl)))["options"]
        expected = "".join(
            f'<option value="{html.escape(code)}"{" selected" if code == chosen else ""}>'
            f"{html.escape(title)}</option>" for code, title in spec.lookup_choices)
        assert options == expected
        assert options in response.content.decode()
    assert ("Japan" if language == "en" else "日本") in options


def test_the_destination_filter_reads_no_country(signed_in, case):
    signed_in.get(CHANGELIST)  # the code table kept by this process
    with CaptureQueriesContext(connection) as queries:
        response = signed_in.get(CHANGELIST)
    assert not [query for query in queries.captured_queries
                if "permits_country" in query["sql"]]
    assert 'value="JP"' in response.content.decode()


def test_the_case_reads_its_permit_version_with_it(signed_in, make_case, applicant, reviewer):
    issued = make_case(applicant, status=Status.APPROVED, reviewer=reviewer)
    found = application_admin().get_object(None, str(issued.pk))
    with CaptureQueriesContext(connection) as queries:
        assert found.permit_version.pk == issued.issued_version.pk
        assert found.changes is None
    assert not queries.captured_queries
    Application.objects.filter(pk=issued.pk).update(
        submitted_at=datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC))
    assert application_admin().get_object(None, str(issued.pk)).submitted_at.year == 2026
    change = make_case(applicant, kind=Kind.CORRECTION, changes=issued.issued_version,
                       change_description="更改數量")
    found = application_admin().get_object(None, str(change.pk))
    with CaptureQueriesContext(connection) as queries:
        assert found.changes.application.pk == issued.pk
        assert found.changes.permit.pk == issued.issued_version.permit_id
        assert found.permit_version is None
    assert not queries.captured_queries
