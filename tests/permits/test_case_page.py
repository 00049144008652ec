"""The case page's lists written out in Python (permits.case_html) print what the template's
loops printed, and the page reads its parts in one round trip after the case (issue 10,
bench/README.md "Stop 20")."""

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.template import engines
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy

from masks.procedures import PROCEDURE as MASKS
from permits import case_html, procedures, views
from permits.fields import country_names
from permits.models import (
    Application,
    Attachment,
    DocumentType,
    Item,
    Permit,
    PermitVersion,
    Status,
    StatusChange,
)
from permits.prepared import PreparedInstances, PreparedQuery, together
from shtc.procedures import PROCEDURE as SHTC
from tests.approvals import approve
from tests.shtc.review_cases import upload

# The loops of templates/permits/application_detail.html (and its required documents'
# include) as they were before permits.case_html wrote them.
ATTACHMENTS = """{% load i18n roc %}{% for attachment in attachments %}
        <li><a href="{% url 'permits:attachment_download' attachment.pk %}">{{ attachment.original_name }}</a>
          <span class="text-secondary">({{ attachment.get_document_kind_display }}, {{ attachment.size|filesizeformat }}, {{ attachment.uploaded_at|roc_datetime }})</span></li>
      {% empty %}<li class="text-secondary">{% translate "None." %}</li>{% endfor %}"""  # noqa: E501
ITEMS = """{% load permits_tags %}{% for item in items %}
    <tr><td>{{ item.line_no }}</td><td class="text-nowrap">{{ item.tariff_code|tariff }}</td><td>{{ item.description }}{% if item.category %} <span class="badge text-bg-light">{{ item.category_label }}</span>{% endif %}{% if item.control_no %} <span class="text-secondary">({{ item.control_no }})</span>{% endif %}</td>
      <td class="text-end">{{ item.quantity|plain }}</td><td>{{ item.unit }}</td><td class="text-end">{{ item.unit_price|plain }}</td><td>{{ item.currency }}</td><td class="text-end">{{ item.amount|plain }}</td><td>{{ item.origin_country|with_country_name:country_names }}</td></tr>
  {% endfor %}"""  # noqa: E501
HISTORY = """{% load i18n roc %}{% for change in history %}
  <li class="list-group-item">{{ change.created_at|roc_datetime }} · {{ change.get_old_display }} → <strong>{{ change.get_new_display }}</strong>{% if change.note %}<div class="text-secondary text-pre-line">{{ change.note }}</div>{% endif %}</li>
  {% empty %}<li class="list-group-item text-secondary">{% translate "None." %}</li>
  {% endfor %}"""  # noqa: E501
VERSIONS = """{% load i18n roc %}{% for v in versions %}<li>{{ v.permit.permit_no }} v{{ v.version }} · {{ v.issued_at|roc }}{% if forloop.first %} <span class="badge text-bg-success">{% translate "in force" %}</span>{% endif %}</li>{% endfor %}"""  # noqa: E501
PARTIES = """{% for heading, rows in parties %}
  <div class="col-lg-4">
    <h2 class="h5">{{ heading }}</h2>
    <dl class="row small">
      {% for label, value in rows %}<dt class="col-sm-5">{{ label }}</dt><dd class="col-sm-7">{{ value }}</dd>{% endfor %}
    </dl>
  </div>
  {% endfor %}"""  # noqa: E501
PROCEDURE_ROWS = """{% for row in procedure_rows %}<dt class="col-sm-5">{{ row.label }}</dt><dd class="col-sm-7" data-testid="procedure-row-{{ row.code }}">{{ row.value }}</dd>{% endfor %}"""  # noqa: E501
PROCEDURE_LINKS = """{% for link in procedure_links %}<a class="btn btn-outline-primary btn-sm" href="{{ link.url }}" data-testid="link-{{ link.code }}">{{ link.label }}</a>{% endfor %}"""  # noqa: E501
REQUIRED = """{% load i18n %}{% for code, label, uploaded in required_documents %}
  <li data-kind="{{ code }}" data-uploaded="{{ uploaded|yesno:'true,false' }}">
    {% if uploaded %}<span class="text-success" aria-hidden="true">✓</span> {{ label }} <span class="text-success">({% translate "already uploaded" %})</span>
    {% else %}<span class="text-danger" aria-hidden="true">✗</span> {{ label }} <span class="text-danger fw-semibold">({% translate "not uploaded yet" %})</span>{% endif %}
  </li>
  {% endfor %}"""  # noqa: E501

HEADER = """{% load i18n roc %}{% if application.permit_version %}
  <div class="text-end">
    <div>{% translate "Permit number" %}: <strong data-testid="permit-no">{{ application.permit_version.permit.permit_no }}</strong> (v{{ application.permit_version.version }})</div>
    <div class="small">{% translate "Validity" %}: {{ application.permit_version.valid_from|roc }} – {{ application.permit_version.valid_until|roc }}</div>
    {% with revocation=application.permit_version.permit.revocation %}{% if revocation %}
    <div class="small mt-1" data-testid="permit-cancelled"><span class="badge text-bg-danger">{% translate "Cancelled" context "permit state" %}</span> {{ revocation.created_at|roc }} · {% translate "Reason for cancellation" %}: {{ revocation.reason }}</div>
    {% endif %}{% endwith %}
    <a class="btn btn-primary btn-sm mt-2" href="{% url 'permits:permit_print' application.permit_version.pk %}" target="_blank" rel="noopener">{% translate "Print" %}</a>
  </div>
  {% endif %}"""  # noqa: E501
BASIC_DATA = """{% load i18n roc permits_tags %}
      <dt class="col-sm-5">{% translate "Applicant identifier" %}</dt><dd class="col-sm-7">{{ application.applicant_identifier }}</dd>
      <dt class="col-sm-5">{% translate "Applicant name" %}</dt><dd class="col-sm-7">{{ application.applicant_name }}{% if application.applicant_name_en %}<br>{{ application.applicant_name_en }}{% endif %}</dd>
      <dt class="col-sm-5">{% translate "Address" %}</dt><dd class="col-sm-7">{{ application.applicant_address }}</dd>
      <dt class="col-sm-5">{% translate "Contact person" %}</dt><dd class="col-sm-7">{{ application.contact_person }} {{ application.contact_phone }}</dd>
      <dt class="col-sm-5">{% translate "Applicant company e-mail" %}</dt><dd class="col-sm-7">{{ application.company_email }}</dd>
      {% if application.agent_identifier %}
      <dt class="col-sm-5">{% translate "Filing agent" %}</dt><dd class="col-sm-7">{{ application.agent_identifier }} {{ application.agent_name }}</dd>
      {% endif %}
      {% if application.destination_country %}<dt class="col-sm-5">{% translate "Destination" %}</dt><dd class="col-sm-7">{{ application.destination_country|with_country_name:country_names }}</dd>{% endif %}
      <dt class="col-sm-5">{% translate "Application date" %}</dt><dd class="col-sm-7">{{ application.submitted_at|roc_datetime }}</dd>
      {% for row in procedure_rows %}<dt class="col-sm-5">{{ row.label }}</dt><dd class="col-sm-7" data-testid="procedure-row-{{ row.code }}">{{ row.value }}</dd>{% endfor %}
      {% if application.change_description %}<dt class="col-sm-5">{% translate "Change description" %}</dt><dd class="col-sm-7">{{ application.change_description }}</dd>{% endif %}"""  # noqa: E501
NASTY = '<b>"Acme" & \'Sons\'</b>'
ITEM = {"tariff_code": "85423100003", "description": "Field programmable gate array",
        "quantity": "10.0000", "unit": "PCE", "unit_price": "1500.0000", "currency": "USD",
        "origin_country": "TW"}
UTC = datetime.UTC


def compact(html):
    """`html` without the blanks between tags (which the loops' lines left)."""
    return re.sub(r"\s+<", "<", re.sub(r">\s+", ">", re.sub(r"\s+", " ", str(html)))).strip()


def rendered(source, **context):
    return engines["django"].from_string(source).render(context)


def same(python, source, **context):
    assert compact(python) == compact(rendered(source, **context))


LANGUAGES = pytest.mark.parametrize("language", ["zh-hant", "en"])


@LANGUAGES
def test_it_writes_the_attachments_as_the_loop_did(language):
    case = Application(pk=7, document_type=DocumentType.SHTC_EXPORT)
    attachments = [
        Attachment(pk=pk, application=case, original_name=name, size=size, document_kind=kind,
                   uploaded_at=when)
        for pk, name, size, kind, when in (
            (1, "assurance.pdf", 259_700, "assurance",
             datetime.datetime(2026, 1, 31, 20, 30, tzinfo=UTC)),  # 02/01 in Taipei
            (22, NASTY + ".pdf", 0, "other", datetime.datetime(2026, 12, 3, 1, 2, tzinfo=UTC)),
            (333, "a.pdf", 512, "no_such_kind", datetime.datetime(2025, 6, 1, tzinfo=UTC)),
            (4444, "b.pdf", 5 * 1024 * 1024 + 1, "supplement",
             datetime.datetime(2025, 6, 1, 15, 59, 59, tzinfo=UTC)))]
    with translation.override(language):
        python = case_html.attachment_items(attachments, SHTC.document_kinds)
        same(python, ATTACHMENTS, attachments=attachments)
        same(case_html.attachment_items([], SHTC.document_kinds), ATTACHMENTS, attachments=[])
    assert "&lt;b&gt;&quot;Acme&quot; &amp; &#x27;Sons&#x27;&lt;/b&gt;.pdf" in python
    assert 'href="/attachments/4444/"' in python


@pytest.mark.django_db  # the country names
@LANGUAGES
@pytest.mark.parametrize("procedure", [SHTC, MASKS], ids=["shtc", "masks"])
def test_it_writes_the_items_as_the_loop_did(language, procedure):
    items = [
        Item(line_no=1, tariff_code="85423100003", description=NASTY, category="",
             control_no="3A001.a", quantity=Decimal("10.5000"), unit="PCE",
             unit_price=Decimal("1500.0000"), currency="USD", amount=Decimal("15750.0000"),
             origin_country="TW"),
        Item(line_no=2, tariff_code="63079050311", description="Mask", category="medical",
             control_no="", quantity=Decimal("0.0001"), unit="<U>", unit_price=Decimal("0"),
             currency="TWD", amount=Decimal("12345678901234.5678"), origin_country=""),
        Item(line_no=10, tariff_code="", description="x", category="legacy&", control_no="",
             quantity=Decimal("3"), unit="PCE", unit_price=Decimal("1.2500"), currency="EUR",
             amount=Decimal("3.7500"), origin_country="XX"),
        Item(line_no=11, tariff_code="1", description="y", category="", control_no="",
             quantity=Decimal("1"), unit="PCE", unit_price=Decimal("1"), currency="USD",
             amount=Decimal("1"), origin_country="US")]
    with translation.override(language):
        names = {**country_names(), "US": "美國 <&>", "TW": "臺灣"}
        python = case_html.item_rows(items, names, procedure.item_category_label)
        for item in items:  # what the view put on each item for the loop
            item.category_label = procedure.item_category_label(item.category)
        same(python, ITEMS, items=items, country_names=names)
    assert "&lt;b&gt;&quot;Acme&quot;" in python and "legacy&amp;" in python
    assert "US 美國 &lt;&amp;&gt;" in python


@LANGUAGES
def test_it_writes_the_history_and_the_versions_as_the_loops_did(language):
    history = [
        StatusChange(old="", new=Status.DRAFT, note="",
                     created_at=datetime.datetime(2026, 1, 31, 16, 0, tzinfo=UTC)),
        StatusChange(old=Status.INITIAL_REVIEW, new=Status.SUPPLEMENT,
                     note=f"Line 1\n{NASTY}\n<script>alert(1)</script>",
                     created_at=datetime.datetime(2026, 2, 1, 3, 4, 5, tzinfo=UTC)),
        StatusChange(old="retired_status", new=Status.APPROVED, note="  ",
                     created_at=datetime.datetime(2026, 2, 2, tzinfo=UTC))]
    permit = Permit(permit_no="PSE<11400000001>")
    versions = [PermitVersion(permit=permit, version=n,
                              issued_at=datetime.datetime(2025, n, 28, 17, tzinfo=UTC))
                for n in (3, 2, 1)]
    with translation.override(language):
        same(case_html.history_items(history), HISTORY, history=history)
        same(case_html.history_items([]), HISTORY, history=[])
        same(case_html.version_items(versions), VERSIONS, versions=versions)
        same(case_html.version_items(versions[:1]), VERSIONS, versions=versions[:1])
    assert "&lt;script&gt;" in case_html.history_items(history)


@LANGUAGES
def test_it_writes_the_parties_and_the_procedures_rows_as_the_loops_did(language):
    parties = [(gettext_lazy("Buyer"), [(gettext_lazy("Name"), NASTY),
                                        (gettext_lazy("Country"), "US 美國")]),
               ("<Consignee>", [("Yes & no", "")])]
    rows = [{"label": gettext_lazy("Transit port code"), "code": "transit-port",
             "value": "USLAX Los Angeles"},
            {"label": "<b>", "code": 'a"b', "value": NASTY},
            {"label": gettext_lazy("Specific end use (English)"), "code": "end-use",
             "value": gettext_lazy("One shipment only")}]
    links = [{"label": gettext_lazy("Register a flow"), "code": "flows",
              "url": "/masks/flows/?permit_no=P&x=<1>"},
             {"label": NASTY, "code": "write-off", "url": "/a/"}]
    required = [("assurance", SHTC.document_kinds[0][1], True),
                ("transaction", NASTY, False), ("x&y", "Other", True)]
    with translation.override(language):
        same(case_html.party_blocks(parties), PARTIES, parties=parties)
        same(case_html.party_blocks([]), PARTIES, parties=[])
        same(case_html.procedure_row_items(rows), PROCEDURE_ROWS, procedure_rows=rows)
        same(case_html.procedure_link_items(links), PROCEDURE_LINKS, procedure_links=links)
        same(case_html.required_document_items(required), REQUIRED,
             required_documents=required)


@pytest.mark.parametrize("prefix", ["/", "/portal/"])
def test_its_links_reversed_once_are_reverses(prefix):
    """case_link (each path reversed once per process, script prefix and URL configuration)
    gives what reverse() gives, for the case page's links, each key, and a script prefix
    set after the path was kept under another."""
    from django.urls import get_script_prefix, set_script_prefix

    from shtc.procedures import DOCUMENT_LABELS

    before = get_script_prefix()
    set_script_prefix(prefix)
    try:
        for _ in range(2):
            for pk in (1, 7, 918_273_645, 10**12):
                for name, rest in [("permits:attachment_download", ()),
                                   ("permits:permit_print", ()), ("shtc:filing_case", ()),
                                   *(("shtc:case_document", (slug,))
                                     for slug in DOCUMENT_LABELS)]:
                    assert case_html.case_link(name, pk, *rest) == reverse(
                        name, args=[pk, *rest])
                    assert case_html._link(name, *rest)(pk) == reverse(name,
                                                                       args=[pk, *rest])
    finally:
        set_script_prefix(before)


@pytest.mark.django_db  # the country names
@LANGUAGES
def test_it_writes_the_permit_and_the_basic_data_as_the_template_did(language):
    from permits.models import PermitRevocation

    permit = Permit(permit_no=f"PSE{NASTY}")
    version = PermitVersion(pk=41, permit=permit, version=3,
                            valid_from=datetime.date(2026, 1, 2),
                            valid_until=datetime.date(2027, 12, 31))
    cases = [
        Application(applicant_identifier="22099131", applicant_name=NASTY,
                    applicant_name_en="Acme <Ltd>", applicant_address="台北市 1 & 2 號",
                    contact_person="王小明", contact_phone="02-1234", company_email="a@b.tw",
                    agent_identifier="04595252", agent_name="報關行 <甲>",
                    destination_country="US",
                    submitted_at=datetime.datetime(2026, 1, 31, 16, 0, tzinfo=UTC),
                    change_description=f"Quantity\n{NASTY}"),
        Application(applicant_identifier="A123456789", applicant_name="王", applicant_name_en="",
                    applicant_address="", contact_person="", contact_phone="",
                    company_email="", agent_identifier="", agent_name="",
                    destination_country="", submitted_at=None, change_description="")]
    rows = [{"label": gettext_lazy("Transit port code"), "code": "transit-port",
             "value": "USLAX <Los Angeles>"}]
    with translation.override(language):
        names = {**country_names(), "US": "美國 <&>", "TW": "臺灣"}
        for case, procedure_rows in ((cases[0], rows), (cases[1], [])):
            same(case_html.basic_data_items(case, procedure_rows, names), BASIC_DATA,
                 application=case, procedure_rows=procedure_rows, country_names=names)
        same(case_html.permit_header(None), HEADER, application=cases[1])
        cases[0].permit_version = version
        same(case_html.permit_header(version), HEADER, application=cases[0])
        permit.revocation = PermitRevocation(
            permit=permit, reason=f"Revoked: {NASTY}",
            created_at=datetime.datetime(2026, 3, 31, 16, 30, tzinfo=UTC))
        same(case_html.permit_header(version), HEADER, application=cases[0])
    assert 'href="/permits/41/print/"' in case_html.permit_header(version)
    assert 'data-testid="permit-cancelled"' in case_html.permit_header(version)


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_page_shows_them_and_reads_its_parts_in_one_round_trip(
        client, applicant, reviewer, make_case, private_root):
    from permits import workflow

    case = make_case(applicant, items=[{**ITEM, "description": NASTY},
                                       {**ITEM, "origin_country": "JP"}])
    upload(case, "other", actor=applicant, name=NASTY + ".pdf")
    case = workflow.transition(application=case, to=Status.INITIAL_REVIEW, actor=applicant)
    case = approve(case, reviewer)
    client.force_login(applicant)
    url = reverse("permits:application_detail", args=[case.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'href="/attachments/' in html and "&lt;b&gt;&quot;Acme&quot;" in html
    assert html.count('<tr><td>') == 2
    assert "<td>JP" in html and "→ <strong>" in html
    # After the case: its items, attachments, parties, history and the permit's versions,
    # one statement each, sent together; none joins the cases to sort them.
    parts = [query["sql"] for query in queries.captured_queries
             if 'FROM "permits_item"' in (query["sql"] or "")]
    assert len(parts) == 1
    for table in ("permits_attachment", "permits_party", "permits_statuschange",
                  "permits_permitversion"):
        assert f'FROM "{table}"' in parts[0]
    assert 'JOIN "permits_application"' not in parts[0]
    assert not [query for query in queries.captured_queries
                if 'FROM "permits_attachment"' in (query["sql"] or "")
                and query["sql"] != parts[0]]



@pytest.mark.postgres
@pytest.mark.django_db
def test_together_gives_what_each_query_gives_alone(applicant, make_case, private_root):
    cases = [make_case(applicant, items=[ITEM, {**ITEM, "quantity": "2"}]),
             make_case(applicant, items=[])]
    upload(cases[0], "other", actor=applicant)
    numbers = PreparedQuery(lambda application: Item.objects.filter(
        application=application).order_by("-line_no").values_list("line_no", "quantity"),
        parameters=("application",))
    calls = [(views.CASE_PARTS[name], {"application": case.pk})
             for case in cases for name in views.CASE_PARTS]
    calls += [(numbers, {"application": cases[0].pk}), (numbers, {"application": 0})]
    alone = [query.rows(**values) if type(query) is PreparedQuery
             else query.instances(**values) for query, values in calls]
    with CaptureQueriesContext(connection) as queries:
        batched = together(*calls)
    assert len(queries.captured_queries) == 1
    assert batched == alone  # model instances compare by their key
    assert batched[-2] == [(2, Decimal("2.0000")), (1, Decimal("10.0000"))]
    for got, expected in zip(batched, alone, strict=True):
        if expected and isinstance(expected[0], Item | Attachment):
            assert [vars(instance) | {"_state": None} for instance in got] == \
                [vars(instance) | {"_state": None} for instance in expected]
    assert together() == []
    one = (PreparedInstances(Application, lambda pk: Application.objects.filter(pk=pk),
                             parameters=("pk",)), {"pk": cases[1].pk})
    assert together(one) == [[cases[1]]]


@pytest.mark.django_db
def test_each_query_runs_alone_where_statements_cannot_go_together(
        applicant, make_case, monkeypatch):
    from permits import prepared

    case = make_case(applicant)
    monkeypatch.setattr(prepared, "_batches", lambda connection: False)
    with CaptureQueriesContext(connection) as queries:
        items, history = together((views.CASE_PARTS["items"], {"application": case.pk}),
                                  (views.CASE_PARTS["status_changes"],
                                   {"application": case.pk}))
    assert len(queries.captured_queries) == 2
    assert items == list(case.items.all()) and history == list(case.status_changes.all())


def test_only_psycopg_3s_client_side_binding_takes_several_statements(settings):
    from permits import prepared

    options = connection.settings_dict["OPTIONS"]
    assert prepared._batches(connection) == (connection.vendor == "postgresql")
    try:
        options["server_side_binding"] = True
        assert not prepared._batches(connection)
    finally:
        options.pop("server_side_binding")


def test_the_procedures_name_parts_of_cases_their_case_reads():
    for procedure in procedures.registered():
        for path, names in procedure.related_parts:
            assert path.split("__")[0] in {name.split("__")[0]
                                           for name in procedure.case_related}
            assert set(names) <= set(views.CASE_PARTS)
