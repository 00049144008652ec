"""The reviewers' case page of its own (permits.admin_case; issue 10, bench/README.md "Stop
20"): for a user who may view a case but not change it, the content of Django's change form,
written without the form machinery; the same checks, the same links and moves; Django's
change form for everyone and everything else."""

import difflib
import re
from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.db import connection
from django.template import engines
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from masks.models import MaskApplication
from permits import admin as permits_admin
from permits import workflow
from permits.models import Application, DocumentType, Item, Kind, Status
from shtc.models import ShtcApplication
from tests.permits.test_admin_list import add_history, blanks_out
from tests.shtc.review_cases import ITEM, shtc_case  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

MOVES_BEFORE = Path(__file__).with_name("moves_before.html")


def change_url(case):
    return reverse("admin:permits_application_change", args=[case.pk])


def parts(response):
    """What a reviewer reads and uses of a case page: its title, the breadcrumbs, the body's
    classes, and everything from #content-main to the end of the content (the moves, the
    case's data, its tables, the procedure's panel, the links), without the blanks between
    tags, the CSRF tokens' masks (a new one each page) and the change form's scripts, which
    the page of its own does not load: nothing on it is edited, added or removed."""
    html = response.content.decode()
    content = html[html.index('<div id="content-main">'):html.index("<!-- END Content -->")]
    content = re.sub(r"<script\b.*?</script>", "", content, flags=re.S)
    content = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", content)
    # The templates printed the words of {% translate %} as they are, the Python escapes
    # them: an apostrophe reads the same either way.
    content = content.replace("&#x27;", "'")
    return {
        "title": re.search(r"<title>(.*?)</title>", html, re.S).group(1),
        "breadcrumbs": blanks_out(re.search(r'<div class="breadcrumbs">.*?</div>', html,
                                            re.S).group(0)),
        "body": re.search(r'<body class="([^"]*)"', html).group(1),
        # A tag a line: a difference is shown as the lines that differ.
        "content": re.split(r"(?=<)", blanks_out(content)),
    }


def assert_same(ours, django):
    """`parts` of two pages equal; else the lines that differ."""
    ours, django = parts(ours), parts(django)
    diff = "\n".join(difflib.unified_diff(django.pop("content"), ours.pop("content"),
                                         "django", "ours", lineterm="", n=2))
    assert not diff, diff
    assert ours == django


@pytest.fixture
def cases(make_case, applicant, agent, reviewer):
    """A case in 初審 with values to escape, two rounds of 補件 (notes, attachments); an
    approved one; a correction of it filed by the agent (a note on two lines); a mask case
    with its route."""
    filed = make_case(applicant, status=Status.INITIAL_REVIEW,
                      items=[{**ITEM, "description": "Gate <array> & \"co\""}] * 2)
    Application.objects.filter(pk=filed.pk).update(applicant_name="A&B <Trading>",
                                                   contact_person="王 'x'")
    add_history(filed, applicant, reviewer, 2)
    workflow.transition(application=filed, to=Status.SUPPLEMENT, actor=reviewer,
                        note="<b>請補附</b>\n第二行 & more")
    approved = make_case(applicant, status=Status.APPROVED, reviewer=reviewer)
    change = make_case(applicant, actor=agent, kind=Kind.CORRECTION,
                       changes=approved.issued_version, change_description="更改數量\n第二行")
    mask = make_case(applicant, document_type=DocumentType.MASK_IMPORT)
    MaskApplication.objects.create(application=mask, route="postal")
    return {"filed": filed, "approved": approved, "change": change, "mask": mask}


@pytest.mark.parametrize("language", ["zh-hant", "en"])
def test_it_is_the_content_of_djangos_change_form(client, reviewer, cases, shtc_case,  # noqa: F811
                                                   django_form, language):
    client.force_login(reviewer)
    client.cookies["django_language"] = language
    shtc = shtc_case(destination="CN", transit_port="HKHKG")
    ShtcApplication.objects.filter(application=shtc).update(
        end_use="For <b>testing</b>\n& more", end_user_url="https://example.com/?a=1&b=2")
    shown = [*cases.values(), shtc]
    for case in shown:
        url = change_url(case)
        ours, django = client.get(url), django_form(client, url)
        assert ours.status_code == django.status_code == 200
        assert "adminform" not in ours.context and "inline_admin_formsets" not in ours.context
        assert_same(ours, django)
    with translation.override(language):
        words = {"zh-hant": "申請人", "en": "Applicant"}[language]
    assert words in "".join(parts(ours)["content"])
    filed = client.get(change_url(cases["filed"])).content.decode()
    assert "A&amp;B &lt;Trading&gt;" in filed and "<b>請補附</b>" not in filed
    assert "&lt;b&gt;請補附&lt;/b&gt;<br>第二行 &amp; more" in filed


def test_it_keeps_the_lists_filters_in_its_links(client, reviewer, cases, django_form):
    client.force_login(reviewer)
    url = change_url(cases["filed"]) + "?_changelist_filters=status__exact%3Dsupplement"
    ours = client.get(url)
    assert_same(ours, django_form(client, url))
    html = ours.content.decode()
    assert "/history/?_changelist_filters=status__exact%3Dsupplement" in html
    assert '/admin/permits/application/?status__exact=supplement" class="closelink"' in html


def test_a_viewer_who_does_not_review_sees_the_case_without_moves(client, make_user, cases,
                                                                  django_form):
    viewer = make_user("B223456783", identifier_type="national_id", is_staff=True)
    viewer.user_permissions.add(*Permission.objects.filter(
        codename__in=["view_application", "view_item", "view_attachment"]))
    client.force_login(viewer)
    url = change_url(cases["filed"])
    ours = client.get(url)
    assert ours.status_code == 200 and "moves" not in ours.context
    assert 'id="review-moves"' not in ours.content.decode()
    # The tables it may not see are not shown, as Django leaves out their inlines.
    assert [inline.model.__name__ for inline in ours.context["inlines"]] == \
        ["Item", "Attachment"]
    assert_same(ours, django_form(client, url))


def test_the_same_checks_come_first(client, make_user, applicant, cases, reviewer):
    url = change_url(cases["filed"])
    client.force_login(applicant)  # not staff: the admin's login
    response = client.get(url)
    assert response.status_code == 302 and "/admin/login/" in response.url
    staff = make_user("C123456780", identifier_type="national_id", is_staff=True)
    client.force_login(staff)  # staff who may not see cases
    assert client.get(url).status_code == 403
    client.force_login(reviewer)
    for key in ("9" * 30, "0", "abc"):  # no such case: Django's redirect with a message
        response = client.get(f"/admin/permits/application/{key}/change/")
        assert response.status_code == 302 and response.url == "/admin/"


def test_a_reviewer_posts_nothing_to_it_and_it_logs_nothing(client, reviewer, cases):
    case = cases["filed"]
    client.force_login(reviewer)
    before = LogEntry.objects.count()
    assert client.get(change_url(case)).status_code == 200
    response = client.post(change_url(case), {"applicant_name": "changed", "_save": "Save"})
    assert response.status_code == 403  # Django's: a view-only user saves nothing
    case.refresh_from_db()
    assert case.applicant_name == "A&B <Trading>" and LogEntry.objects.count() == before
    history = client.get(reverse("admin:permits_application_history", args=[case.pk]))
    assert history.status_code == 200


def test_who_may_change_a_case_keeps_djangos_form(client, make_user, cases):
    superuser = make_user("D123456781", identifier_type="national_id", is_staff=True,
                          is_superuser=True)
    client.force_login(superuser)
    response = client.get(change_url(cases["filed"]))
    assert "adminform" in response.context and 'name="_save"' in response.content.decode()


def test_a_popup_and_an_inline_it_cannot_draw_are_djangos(client, reviewer, cases,
                                                          monkeypatch):
    client.force_login(reviewer)
    url = change_url(cases["filed"])
    assert "adminform" in client.get(url, {"_popup": "1"}).context

    class Editable(admin.TabularInline):  # not a ReadOnlyInline: this page does not draw it
        model = Item

    model_admin = admin.site._registry[Application]  # noqa: SLF001
    monkeypatch.setattr(type(model_admin), "get_inlines",
                        lambda self, request, obj: [Editable])
    response = client.get(url)
    assert response.status_code == 200 and "inline_admin_formsets" in response.context


@pytest.mark.postgres
def test_it_makes_no_form_and_reads_each_part_once(client, reviewer, shtc_case,  # noqa: F811
                                                   monkeypatch, django_form):
    case = shtc_case(destination="SG")
    client.force_login(reviewer)
    url = change_url(case)
    client.get(url)  # caches warm

    def refused(*args, **kwargs):
        raise AssertionError("the page of its own makes no form")

    with monkeypatch.context() as patch:
        model_admin = type(admin.site._registry[Application])  # noqa: SLF001
        for name in ("get_form", "get_formsets_with_inlines", "_create_formsets",
                     "get_inline_formsets", "render_change_form"):
            patch.setattr(model_admin, name, refused)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
    # The statements of each round trip (permits.prepared.together sends several as one).
    trips = [[re.search(r'FROM "(\w+)"', statement).group(1)
              for statement in query["sql"].split(";\n")]
             for query in queries.captured_queries if query["sql"].startswith("SELECT")]
    tables = [table for trip in trips for table in trip]
    # (and the buyers of the exporter's earlier cases: SHTC-14 (2))
    tables.remove("permits_party")
    for table in ("permits_party", "permits_attachment", "permits_statuschange"):
        assert tables.count(table) == 1, (table, tables)
    # The page of the items, and their count, totals and origins (issue 13).
    assert tables.count("permits_item") == 2, tables
    # The tables in one round trip.
    parts = next(trip for trip in trips if "permits_attachment" in trip)
    assert {"permits_item", "permits_party", "permits_statuschange"} <= set(parts), trips
    assert "shtc_shtcapplication" not in tables  # read with the case
    with CaptureQueriesContext(connection) as theirs:
        django_form(client, url)
    assert len(queries) < len(theirs)


def test_the_moves_are_what_the_template_drew(client, reviewer, make_case, applicant):
    """permits.admin.moves_html against the template it replaces (moves_before.html), for
    a case in review, with a suggested move, and a closed one."""
    template = engines["django"].from_string(MOVES_BEFORE.read_text())
    client.force_login(reviewer)
    model_admin = admin.site._registry[Application]  # noqa: SLF001
    for status in (Status.INITIAL_REVIEW, Status.APPROVED):
        case = make_case(applicant, status=status, reviewer=reviewer)
        request = client.get(change_url(case)).wsgi_request
        for suggested in (None, Status.SECOND_REVIEW):
            context = model_admin.review_context(request, case)
            if suggested and context["moves"]:
                context = {**context, "suggested_move": suggested,
                           "moves_html": permits_admin.moves_html(
                               request, case, context["moves"], context["move_url"],
                               suggested, withheld=context["withheld_moves"])}
            token = re.search(r'value="([^"]+)"', context["moves_html"])
            expected = template.render({**context, "original": case,
                                        "csrf_token": token and token.group(1)}, request)
            assert blanks_out(context["moves_html"]) == blanks_out(expected)
            assert ('autofocus' in context["moves_html"]) == bool(
                suggested and context["moves"])
