"""9-1-2's pages with their lists written out in Python and their case read with its parts
(issue 10, second pass): the query's rows, the upload page's items, parties and attachments
are what the templates' loops printed, in both languages, escaped; the case and its parts
come in one round trip and stay the ORM's; another user's case is still not found; 9-1-1's
route help is the include's, kept per language."""

import re

import pytest
from django.db import connection
from django.http import Http404
from django.template import engines
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from permits.models import Application, Status
from permits.parties import parties_replace, party_rows
from shtc import filing_views
from shtc.templatetags import shtc_entry
from tests.shtc.test_filing import registered, upload_all

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_root")]

LANGUAGES = ["zh-hant", "en"]

# What templates/shtc/filing_query.html's loop printed before filing_views.rows_html.
QUERY_ROWS = """{% load i18n %}{% for row in rows %}
    <tr>
      <td>{% if row.receipt_no %}<a href="{{ row.url }}">{{ row.receipt_no }}</a>{% endif %}</td>
      <td>{% if row.registration_no %}<a href="{{ row.url }}">{{ row.registration_no }}</a>{% endif %}</td>
      <td class="small">{{ row.applicant_name }}</td>
      <td>{{ row.date }}</td>
      <td><span class="badge text-bg-{% if row.uploads_open %}warning{% else %}secondary{% endif %}">{{ row.status }}</span>
        {% if row.uploads_open %}<a class="small ms-1" href="{{ row.url }}" data-testid="row-upload">{% translate "Upload file" %}<span class="visually-hidden"> {{ row.receipt_no|default:row.registration_no }}</span></a>{% endif %}</td>
    </tr>
  {% empty %}
    <tr><td colspan="5" class="text-secondary">{% translate "No cases." %}</td></tr>
  {% endfor %}"""  # noqa: E501
# ... and the upload page's items, parties and attachments.
ITEM_ROWS = """{% load permits_tags %}{% for item in items %}
    <tr><td>{{ item.line_no }}</td><td>{{ item.description }}{% if item.control_no %} <span class="text-secondary">({{ item.control_no }})</span>{% endif %}</td><td class="text-end">{{ item.quantity|plain }}</td><td>{{ item.unit }}</td><td>{{ item.origin_country }}</td></tr>
  {% endfor %}"""  # noqa: E501
PARTIES = """{% for heading, rows in parties %}
    <h3 class="h6">{{ heading }}</h3>
    <dl class="row small">{% for label, value in rows %}<dt class="col-sm-5">{{ label }}</dt><dd class="col-sm-7">{{ value }}</dd>{% endfor %}</dl>
    {% endfor %}"""  # noqa: E501
ATTACHMENTS = """{% load i18n roc %}{% for attachment in attachments %}
        <li><a href="{% url 'permits:attachment_download' attachment.pk %}">{{ attachment.original_name }}</a>
          <span class="text-secondary">({{ attachment.get_document_kind_display }}, {{ attachment.size|filesizeformat }}, {{ attachment.uploaded_at|roc_datetime }})</span></li>
      {% empty %}<li class="text-secondary">{% translate "None." %}</li>{% endfor %}"""  # noqa: E501


def compact(html):
    return re.sub(r"\s*<\s*", "<", re.sub(r"\s*>\s*", ">", re.sub(r"\s+", " ", html))).strip()


def looped(source, **context):
    return compact(engines["django"].from_string(source).render(context))


def query_rows():
    return [
        {"url": "/shtc/filing/1/", "receipt_no": "SE1150000001", "registration_no": "",
         "applicant_name": "安心醫材", "date": "115/01/02", "status": "初審中",
         "uploads_open": False},
        {"url": "/shtc/filing/2/?a=1&b=2", "receipt_no": "", "registration_no": 'EEU<1>"',
         "applicant_name": "A & B <Co.>", "date": "", "status": "登錄中",
         "uploads_open": True},
        {"url": "/shtc/filing/3/", "receipt_no": "SE'3", "registration_no": "EEU3",
         "applicant_name": "", "date": "115/12/31", "status": "補件", "uploads_open": True},
    ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_query_rows_are_what_the_loop_printed(language):
    with translation.override(language):
        for rows in (query_rows(), query_rows()[:1], []):
            assert compact(filing_views.rows_html(rows)) == looped(QUERY_ROWS, rows=rows)
    assert "A &amp; B &lt;Co.&gt;" in filing_views.rows_html(query_rows())


def test_the_query_page_prints_its_rows(client, applicant, agent):
    mine, filed = registered(applicant), registered(applicant, actor=agent)
    client.force_login(applicant)
    response = client.get(reverse("shtc:filing_query"), {
        "document_type": "SE", "number": mine.registration_no})
    page = response.context["page"]
    assert [row["url"] for row in page.rows] == [reverse("shtc:filing_case", args=[mine.pk])]
    assert page.rows_html in response.content.decode()
    # Each case read with its SHTC row: a case in 登錄中 takes documents (SHTC-5).
    assert page.rows[0]["uploads_open"] is True
    assert page.object_list[0].shtc == mine.shtc
    theirs = client.get(reverse("shtc:filing_query"), {"document_type": "SE",
                                                       "number": filed.registration_no})
    assert theirs.context["page"].rows[0]["url"].endswith(f"/{filed.pk}/")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_upload_pages_lists_are_what_the_loops_printed(client, applicant, language):
    case = registered(applicant, origins=("TW", "US", "JP"))
    case.items.filter(line_no=2).update(description='Radar <module> & "parts"', control_no="")
    # Parties are stored while a case is a draft: as if 9-1-1 had stored them.
    Application.objects.filter(pk=case.pk).update(status=Status.DRAFT)
    parties_replace(application=case, parties={
        "buyer": {"name": "Acme <Inc.>", "address": "1 Main St & Co", "country": "US"},
        "end_user": {"same_as_buyer": True}})
    Application.objects.filter(pk=case.pk).update(status=Status.REGISTERED)
    upload_all(case, applicant)
    client.force_login(applicant)
    with translation.override(language):
        response = client.get(reverse("shtc:filing_case", args=[case.pk]),
                              headers={"accept-language": language})
        context = response.context
        stored = Application.objects.get(pk=case.pk)
        items = list(stored.items.order_by("line_no"))
        assert compact(context["item_rows"]) == looped(ITEM_ROWS, items=items)
        assert compact(context["party_html"]) == looped(PARTIES, parties=party_rows(stored))
        attachments = list(stored.attachments.all())
        assert attachments
        assert compact(context["attachment_items"]) == looped(ATTACHMENTS,
                                                              attachments=attachments)
    html = response.content.decode()
    for part in ("item_rows", "party_html", "attachment_items"):
        assert str(context[part]) in html
    assert "Radar &lt;module&gt; &amp; &quot;parts&quot;" in html


def test_an_upload_page_without_attachments_says_none(client, applicant):
    case = registered(applicant)
    client.force_login(applicant)
    with translation.override("en"):
        response = client.get(reverse("shtc:filing_case", args=[case.pk]),
                              headers={"accept-language": "en"})
        assert compact(response.context["attachment_items"]) == looped(ATTACHMENTS,
                                                                       attachments=[])


@pytest.mark.postgres
@pytest.mark.parametrize("name", ["case", "apply"])
def test_the_case_and_its_parts_come_in_one_round_trip(client, applicant, name):
    few, many = registered(applicant), registered(applicant, origins=("TW", "US", "JP", "DE"))
    upload_all(many, applicant)
    client.force_login(applicant)
    counts = []
    for case in (few, many):
        client.get(reverse(f"shtc:filing_{name}", args=[case.pk]))
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse(f"shtc:filing_{name}", args=[case.pk]))
        assert response.status_code == 200
        counts.append(len(captured))
        reads = [query["sql"] for query in captured.captured_queries
                 if "permits_application" in query["sql"]]
        assert len(reads) == 1 and ";" in reads[0], reads  # the case with its parts
    assert counts[0] == counts[1]


def test_the_case_read_with_its_parts_is_the_orms(applicant, agent, other_applicant):
    mine, theirs = registered(applicant, origins=("TW", "US")), registered(other_applicant)
    upload_all(mine, applicant)
    request = RequestFactory().get("/")
    for user in (applicant, agent):
        request.user = user
        if user is agent:
            with pytest.raises(Http404):
                filing_views._case(request, mine.pk, filing_views.PAGE_PARTS)
            continue
        got = filing_views._case(request, mine.pk, filing_views.PAGE_PARTS)
        orm = Application.objects.get(pk=mine.pk)
        assert list(got.items.all()) == list(orm.items.all())
        assert list(got.attachments.all()) == list(orm.attachments.all())
        assert list(got.parties.all()) == list(orm.parties.all())
        assert all(item.application is got for item in got.items.all())
        with pytest.raises(Http404):
            filing_views._case(request, theirs.pk, filing_views.PAGE_PARTS)
        with pytest.raises(Http404):
            filing_views._case(request, 10**20, filing_views.PAGE_PARTS)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_route_help_is_the_includes_kept_per_language(language):
    from shtc.entry import assurance_routes

    shtc_entry._ROUTE_HELP.clear()
    with translation.override(language):
        include = engines["django"].from_string(
            '{% include "shtc/includes/assurance_route_help.html" %}').render(
            {"assurance_routes": assurance_routes()})
        assert shtc_entry.assurance_route_help() == include
        assert shtc_entry.assurance_route_help() == include  # kept
    other = "en" if language == "zh-hant" else "zh-hant"
    with translation.override(other):
        assert shtc_entry.assurance_route_help() != include
