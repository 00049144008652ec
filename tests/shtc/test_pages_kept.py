"""What the 9-1-1, 9-1-2, case and 轉口港代碼 pages keep now that they cost less (issue 10):
every form posts its CSRF token (crispy used to add one to each form), the look-up's rows
are what its template's loop printed, 9-1-2's query compiled once per process lists what
the form's filter over visible_to() lists, its case read once per process is the ORM's,
and the required documents read from the attachments a page already holds are the same."""

import datetime
import re
from html.parser import HTMLParser

import pytest
from django.http import Http404
from django.template import engines
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

from permits import documents
from permits.models import Application, DocumentType, Status
from permits.views import with_parts
from shtc import filing_views, port_views
from shtc.filing_forms import FilingQueryForm
from tests.permits.test_attachments import pdf_bytes
from tests.shtc.assurance import url as entry_url
from tests.shtc.test_filing import registered, upload_all

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_root")]


class PostForms(HTMLParser):
    """The names of the fields of each <form method="post"> of a page."""

    def __init__(self):
        super().__init__()
        self.forms, self._open = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self._open = []
            self.forms.append(self._open)
        elif tag in ("input", "select", "textarea") and self._open is not None:
            self._open.append(attrs.get("name"))

    def handle_endtag(self, tag):
        if tag == "form":
            self._open = None


def post_forms(response):
    parser = PostForms()
    parser.feed(response.content.decode())
    return parser.forms


def test_every_form_of_the_pages_posts_its_csrf_token(client, applicant):
    case = registered(applicant)
    client.force_login(applicant)
    pages = {
        # 申請類別's 帶入參考資料, and the basic data with the parties
        "9-1-1 basic": (client.get(entry_url("basic")), ["registration_no", "applicant_name"]),
        # 上傳檔案, and the end user's website
        "9-1-2 upload": (client.get(reverse("shtc:filing_case", args=[case.pk])),
                         ["document_kind", "end_user_url"]),
        "9-1-2 apply": (client.get(reverse("shtc:filing_apply", args=[case.pk])), ["end_use"]),
        "case page": (client.get(reverse("permits:application_detail", args=[case.pk])),
                      ["document_kind"]),
    }
    for name, (response, fields) in pages.items():
        assert response.status_code == 200, name
        forms = post_forms(response)
        for field in fields:
            assert any(field in inputs for inputs in forms), (name, field)
        for inputs in forms:
            # Exactly one token a form: crispy's second one is gone, the page's stays.
            assert inputs.count("csrfmiddlewaretoken") == 1, (name, inputs)


def test_the_9_1_2_forms_post_with_csrf_checks_on(client, applicant):
    case = registered(applicant)
    client.force_login(applicant)
    client.handler.enforce_csrf_checks = True
    page = client.get(reverse("shtc:filing_apply", args=[case.pk]))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    # Documents are missing: refused next to the form (400), not by the CSRF check (403).
    response = client.post(reverse("shtc:filing_apply", args=[case.pk]),
                           {"csrfmiddlewaretoken": token, "end_use": "Radar tests."})
    assert response.status_code == 400
    upload = client.get(reverse("shtc:filing_case", args=[case.pk]))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', upload.content.decode())[1]
    response = client.post(reverse("shtc:filing_case", args=[case.pk]), {
        "csrfmiddlewaretoken": token, "upload": "1", "document_kind": "catalogue",
        "file": _pdf()})
    assert response.status_code == 302


def _pdf():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("catalogue.pdf", pdf_bytes(), content_type="application/pdf")


# --- the 轉口港代碼 look-up ----------------------------------------------------------------

# The rows as templates/shtc/port_lookup.html printed them before they were joined in Python.
TEMPLATE_ROWS = """{% for port in page.object_list %}
      <tr>
        <td><a href="{{ port.pick_url }}" data-port-code="{{ port.code }}" class="font-monospace">{{ port.code }}</a></td>
        <td>{{ port.name }}</td>
        <td>{{ port.subdivision }}</td>
      </tr>
      {% endfor %}"""  # noqa: E501


def between_tags(html):
    """`html` without the blanks between its tags (the loop left a line between rows)."""
    return re.sub(r">\s+<", "><", html).strip()


@pytest.mark.parametrize("query", [
    {"country": "US"},
    {"country": "US", "field": "id_transit_port", "next": "/shtc/assurance/?a=1&b=<2>"},
    {"country": "US", "q": "los", "page": "1"},
    {"country": "US", "page": "2", "field": "x"},
])
def test_the_look_ups_rows_are_what_its_template_printed(client, applicant, query):
    client.force_login(applicant)
    response = client.get(reverse("shtc:port_lookup"), query)
    page = response.context["page"]
    rows = page.object_list
    assert rows
    looped = engines["django"].from_string(TEMPLATE_ROWS).render({"page": page})
    assert between_tags(page.rows_html) == between_tags(looped)
    assert page.rows_html in response.content.decode()
    # Each code's link as it was built alone: the page to go back to, or the look-up's own.
    request = RequestFactory().get("/", query)
    target = port_views._safe_next(request)
    carried = {name: value for name, value in (("field", query.get("field", "")),
                                               ("next", target)) if value}
    for row in rows:
        if target:
            assert row.pick_url == port_views.pick_url(target, row.code)
        else:
            from django.utils.http import urlencode

            params = {**carried, "country": "US", "q": query.get("q", ""),
                      "page": page.number, "picked": row.code}
            assert row.pick_url == "?" + urlencode({k: v for k, v in params.items() if v})


def test_the_look_ups_rows_escape_what_they_print():
    row = port_views.PortRow(code="US<1>", name='Los "Angeles" & Long Beach',
                             subdivision="CA'", pick_url="?country=US&picked=US%3C1%3E")
    looped = engines["django"].from_string(TEMPLATE_ROWS).render(
        {"page": type("Page", (), {"object_list": [row]})()})
    assert between_tags(port_views.rows_html([row])) == between_tags(looped)
    assert row.code == "US<1>" and not hasattr(row, "missing")


# --- 9-1-2's query, compiled once per process ---------------------------------------------


def test_the_query_lists_what_the_forms_filter_lists(client, applicant, agent,
                                                     other_applicant):
    mine = [registered(applicant) for _ in range(3)]
    filed = registered(applicant, actor=agent)
    registered(other_applicant)
    Application.objects.filter(pk=mine[0].pk).update(
        created_at=timezone.now() - datetime.timedelta(days=30))
    today = timezone.localdate()
    from portal import dates

    criteria = [
        {"number": mine[1].registration_no},
        {"number": filed.registration_no},
        {"date_from": dates.to_roc(today - datetime.timedelta(days=7))},
        {"date_to": dates.to_roc(today - datetime.timedelta(days=7))},
        {"date_from": dates.to_roc(today - datetime.timedelta(days=60)),
         "date_to": dates.to_roc(today)},
        {"number": mine[0].registration_no,
         "date_from": dates.to_roc(today - datetime.timedelta(days=60))},
    ]
    for user in (applicant, agent):
        client.force_login(user)
        for data in criteria:
            data = {"document_type": "SE", **data}
            response = client.get(reverse("shtc:filing_query"), data)
            form = FilingQueryForm(data)
            assert form.is_valid()
            expected = list(form.filter(Application.objects.visible_to(user).filter(
                document_type=DocumentType.SHTC_EXPORT).exclude(status=Status.DRAFT))
                .order_by(*FilingQueryForm.ORDERING).values_list("pk", flat=True))
            page = response.context["page"]
            listed = [int(row["url"].rstrip("/").split("/")[-1])
                      for row in page.rows] if page else []
            assert listed == expected, (user, data)
            for row in page.rows if page else []:
                pk = int(row["url"].rstrip("/").split("/")[-1])
                assert row["url"] == reverse("shtc:filing_case", args=[pk])


@pytest.mark.postgres
def test_a_query_page_compiled_once_builds_no_queryset(client, applicant, monkeypatch):
    registered(applicant)
    client.force_login(applicant)
    today = {"document_type": "SE", "date_from": "115/01/01"}
    assert client.get(reverse("shtc:filing_query"), today).status_code == 200  # compiled
    built = []
    narrow = filing_views._filing_cases
    monkeypatch.setattr(filing_views, "_filing_cases",
                        lambda **criteria: built.append(criteria) or narrow(**criteria))
    response = client.get(reverse("shtc:filing_query"), today)
    assert len(response.context["page"].rows) == 1
    assert built == []  # permits.listing.VisibleCases narrows only when it has to


def test_the_case_of_a_9_1_2_page_is_the_orms(applicant, agent, other_applicant, reviewer,
                                              make_case):
    mine, filed = registered(applicant), registered(applicant, actor=agent)
    theirs = registered(other_applicant)
    draft = make_case(applicant)  # 暫存: still 9-1-1's
    mask = make_case(applicant, document_type=DocumentType.MASK_IMPORT, status="approved",
                     reviewer=reviewer)
    factory = RequestFactory()
    for user, visible, hidden in [(applicant, [mine, filed], [theirs]),
                                  (agent, [filed], [mine, theirs])]:
        request = factory.get("/")
        request.user = user
        for case in visible:
            got = filing_views._case(request, case.pk)
            orm = Application.objects.select_related("shtc").get(pk=case.pk)
            assert {k: v for k, v in vars(got).items() if not k.startswith("_")} == \
                {k: v for k, v in vars(orm).items() if not k.startswith("_")}
            assert got.shtc == orm.shtc  # read with the case, no query more
        for case in [*hidden, draft, mask]:
            with pytest.raises(Http404):
                filing_views._case(request, case.pk)
        with pytest.raises(Http404):
            filing_views._case(request, 10**20)


# --- the required documents from the attachments a page holds ------------------------------


def test_the_required_documents_read_from_the_parts_in_place(applicant, django_assert_num_queries):
    case = registered(applicant, destination="CN", origins=("US",))
    upload_all(case, applicant)
    fresh = Application.objects.select_related("shtc").get(pk=case.pk)
    expected = documents.status(fresh)
    assert expected and all(uploaded for _code, _label, uploaded in expected)
    loaded = with_parts(Application.objects.select_related("shtc").get(pk=case.pk))
    with django_assert_num_queries(0):
        assert documents.status(loaded) == expected
    with translation.override("en"):
        assert documents.status(loaded) == documents.status(
            Application.objects.select_related("shtc").get(pk=case.pk))
