"""What the reviewers' case page draws once a table, a language or a class (bench/README.md
"Stop 25 (the case pages)"): a table's dates with the time zone looked up once, its links to
the related rows with their path looked up once (permits.admin._readonly_cell, _field_cell:
in_language()), the fieldsets kept per class where they are its declarations
(permits.admin_case._fieldsets_of), the related rows of select_related() made without
Model.__init__ (permits.prepared._MadeRelated). Each gives what it stands for; the page as a
whole is what Django's change form draws (tests/permits/test_admin_case.py, both
languages)."""

import datetime
import zoneinfo

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import clear_script_prefix, get_script_prefix, set_script_prefix
from django.utils import timezone, translation

from permits import admin_case
from permits.admin import ApplicationAdmin, AttachmentInline, StatusChangeInline, table_rows
from permits.models import Application, Attachment, Status, StatusChange
from permits.prepared import PreparedInstances
from tests.shtc.review_cases import upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(make_case, applicant):
    case = make_case(applicant)  # 暫存: its documents uploaded
    upload(case, "catalogue", actor=applicant, name="型錄 <1> & co.pdf")
    upload(case, "transaction", actor=applicant)
    # History rows with an actor and without one (the system's).
    StatusChange.objects.create(application=case, old=Status.DRAFT,
                                new=Status.INITIAL_REVIEW, actor=applicant, note="<b> & c")
    StatusChange.objects.create(application=case, old=Status.INITIAL_REVIEW,
                                new=Status.INITIAL_REVIEW, actor=None, note="a\nb")
    return case


def _columns(inline_class):
    inline = inline_class(Application, admin.site)
    return admin_case._made_columns(inline, tuple(inline.get_fields(None)))[1]


@pytest.mark.parametrize("language", ["zh-hant", "en"])
@pytest.mark.parametrize("zone", ["Asia/Taipei", "UTC", "America/Los_Angeles"])
def test_a_tables_cells_are_each_cells_own(case, language, zone):
    """Each column's cell for a table (in_language(), once a table) gives what the cell
    gives alone, for rows with and without their related row, in the time zone in force and
    under another script prefix."""
    rows = {AttachmentInline: list(Attachment.objects.filter(application=case)
                                   .select_related("uploaded_by").order_by("pk")),
            StatusChangeInline: list(StatusChange.objects.filter(application=case)
                                     .select_related("actor").order_by("pk"))}
    assert any(row.actor is None for row in rows[StatusChangeInline])
    kept = get_script_prefix()
    try:
        for prefix in ("/", "/portal/"):
            set_script_prefix(prefix)
            with translation.override(language), timezone.override(zoneinfo.ZoneInfo(zone)):
                for inline_class, listed in rows.items():
                    drawn = 0
                    for name, cell in _columns(inline_class):
                        if not hasattr(cell, "in_language"):
                            continue
                        drawn += 1
                        once = cell.in_language(language)
                        for row in listed:
                            assert once(row) == cell(row), (name, row.pk)
                    assert drawn  # the dates' and the links' cells are among them
                    page = table_rows("x", _columns(inline_class), listed)
                    assert (prefix + "admin/") in "".join(page) or inline_class is \
                        StatusChangeInline
    finally:
        set_script_prefix(kept)
        if kept == "/":
            clear_script_prefix()


def test_a_date_cell_follows_the_time_zone_of_its_table(case):
    cell = dict(_columns(StatusChangeInline))["created_at"]
    row = StatusChange.objects.filter(application=case).order_by("pk").first()
    row.created_at = datetime.datetime(2026, 12, 31, 17, 30, tzinfo=datetime.UTC)
    with timezone.override(zoneinfo.ZoneInfo("Asia/Taipei")):
        assert cell.in_language("en")(row) == "116/01/01 01:30" == cell(row)
    with timezone.override(zoneinfo.ZoneInfo("UTC")):
        assert cell.in_language("en")(row) == "115/12/31 17:30" == cell(row)
    row.created_at = None
    assert cell.in_language("en")(row) == cell(row)


def test_the_related_rows_are_the_orms(case):
    """select_related()'s rows made without Model.__init__: the same values, state and
    links as the ORM's; none where the row has none."""
    prepared = PreparedInstances(
        StatusChange, lambda case: StatusChange.objects.filter(application=case)
        .select_related("actor", "application").order_by("pk"), parameters=("case",))
    made = prepared.instances(case=case.pk)
    orm = list(StatusChange.objects.filter(application=case)
               .select_related("actor", "application").order_by("pk"))
    assert made == orm
    for ours, theirs in zip(made, orm, strict=True):
        for attribute in ("actor", "application"):
            mine, django = getattr(ours, attribute), getattr(theirs, attribute)
            assert (mine is None) == (django is None)
            if mine is not None:
                assert {key: value for key, value in vars(mine).items() if key != "_state"} \
                    == {key: value for key, value in vars(django).items() if key != "_state"}
                assert (mine._state.adding, mine._state.db) == (False, "default")
    assert any(row.actor is None for row in made)


def test_the_fieldsets_are_kept_only_where_they_are_declared():
    """A class whose fieldsets are its declarations gives them kept; one that makes its own
    for the request is asked each time."""
    request = RequestFactory().get("/")
    model_admin = admin.site._registry[Application]
    assert admin_case._declares_fieldsets(type(model_admin))
    assert admin_case._fieldsets_of(model_admin, request, None)[0] == \
        model_admin.get_fieldsets(request, None)
    assert admin_case._fieldsets_of(model_admin, request, None) is \
        admin_case._fieldsets_of(model_admin, request, None)

    asked = []

    class Own(ApplicationAdmin):
        def get_fieldsets(self, request, obj=None):
            asked.append(request)
            return [(None, {"fields": ["status"] if len(asked) == 1 else ["receipt_no"]})]

    own = Own(Application, admin.site)
    assert not admin_case._declares_fieldsets(Own)
    assert admin_case._fieldsets_of(own, request, None)[1][0][1] == ("status",)
    assert admin_case._fieldsets_of(own, request, None)[1][0][1] == ("receipt_no",)
    assert len(asked) == 2
    inline = StatusChangeInline(Application, admin.site)
    assert admin_case._fieldsets_of(inline, request, None)[0] == \
        inline.get_fieldsets(request, None)
