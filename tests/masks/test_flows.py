"""口罩流向登錄作業 (MASK-6, MASK-7): 2 報單 / 3 非報單 → 帶入報單資料 → 流向登錄 →
確認並回上一頁 → 申報; the flows never add up to more than the cleared quantity, also when two
come at once."""

import datetime
import itertools
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from masks import services
from masks.models import Flow, FlowDocument, StockReport
from portal import dates
from reconciliation.models import LedgerEntry
from reconciliation.services import receive
from tests import services as test_services
from tests.masks.conftest import item
from tests.reconciliation import helpers

pytestmark = pytest.mark.django_db

D = Decimal
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
_numbers = itertools.count(1)


def pdf(name="invoice.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


# When the tests' masks were cleared, as in the manual's example (sold on 109/09/12): a flow
# may not be dated before the clearance of its stock (MASK-7).
CLEARED_AT = datetime.datetime(2020, 9, 1, 9, 0, tzinfo=datetime.timezone(
    datetime.timedelta(hours=8)))


def backdate_clearance(permit, at=CLEARED_AT):
    LedgerEntry.objects.filter(permit=permit).update(created_at=at)


def cleared_declaration(make_mask_permit, applicant, *, quantity="10", number=None,
                        released=None, cleared_at=CLEARED_AT):
    """A mask permit of route 報單 and a customs import declaration citing it, of which
    `released` (default: all `quantity`) was released at `cleared_at` (None: now), as
    customs sends them."""
    permit = make_mask_permit(applicant, route="declaration", items=[item(quantity="100")])
    number = number or f"AA115{next(_numbers):08d}B"
    first = permit.current.application.items.get(line_no=1)
    receive([helpers.declaration(permit, number=number, direction="import", items=[{
        "item_no": 1, "tariff_code": first.tariff_code, "description": "口罩",
        "quantity": quantity, "unit": "PCE", "value": "50", "currency": "TWD",
        "permit_item_no": 1}])], source="test")
    if released != "0":
        receive([helpers.release(number, items=[{"item_no": 1,
                                                 "quantity": released or quantity}])],
                source="test")
        if cleared_at:
            backdate_clearance(permit, cleared_at)
    return services.declaration_find(user=applicant, number=number)


def written_off_permit(make_mask_permit, applicant, medical="50", cleared_at=CLEARED_AT):
    """A 郵包進口 permit of which `medical` masks were written off (非報單, MASK-5) at
    `cleared_at` (None: now)."""
    permit = make_mask_permit(applicant, route="postal", items=[item(quantity="100")])
    services.write_off_record(actor=applicant, permit=permit, route="postal",
                              medical_quantity=D(medical), non_medical_quantity=D(0))
    if cleared_at:
        backdate_clearance(permit, cleared_at)
    return permit


@pytest.fixture
def declaration(make_mask_permit, applicant):
    return cleared_declaration(make_mask_permit, applicant)


@pytest.fixture
def report(declaration):
    return services.stock_report_load(declaration=declaration)


def field_codes(response, field):
    return [e.code for e in response.context["form"].errors.as_data().get(field, [])]


def load(client, url, number, menu="2"):
    field = "d-declaration_no" if menu == "2" else "p-permit_no"
    return client.post(url("masks:flow_start"), {"menu": menu, field: number})


def load_codes(response, menu="2"):
    form = response.context["declaration_form" if menu == "2" else "permit_form"]
    field = "declaration_no" if menu == "2" else "permit_no"
    return [e.code for e in form.errors.as_data().get(field, [])]


FLOW = {"category": "medical_institution", "quantity": "10", "date": "109/09/12",
        "counterparty": "臺大醫院"}


def add_flow(client, url, report, documents=("invoice.pdf",), **data):
    files = [pdf(name) for name in documents]
    return client.post(url("masks:flow_add", report.pk),
                       {**FLOW, **data, **({"documents": files} if files else {})})


# --- 帶入報單資料 (MASK-6) ------------------------------------------------------------------------


def test_it_loads_the_stock_of_a_released_declaration(client, url, applicant, declaration):
    client.force_login(applicant)
    response = load(client, url, declaration.number.lower())
    report = StockReport.objects.get()
    assert response.status_code == 302
    assert response.url == url("masks:flow_report", report.pk)
    assert (report.declaration, report.permit, report.holder) == (
        declaration, declaration.permit, applicant)
    assert (report.cleared, report.stock) == (D(10), D(10))
    page = client.get(response.url)
    assert page.status_code == 200
    assert page.context["report"].stock == D(10)


def test_it_counts_only_what_customs_released(make_mask_permit, applicant):
    declaration = cleared_declaration(make_mask_permit, applicant, quantity="10",
                                      released="6")
    assert services.stock_report_load(declaration=declaration).cleared == D(6)


def test_it_refuses_a_declaration_with_nothing_released(client, url, make_mask_permit,
                                                       applicant):
    declaration = cleared_declaration(make_mask_permit, applicant, released="0")
    client.force_login(applicant)
    response = load(client, url, declaration.number)
    assert response.status_code == 400
    assert load_codes(response) == ["nothing_cleared"]
    assert not StockReport.objects.exists()


def test_it_checks_the_number_in_the_form_without_writing(make_mask_permit, applicant):
    from masks.forms import DeclarationLoadForm

    declaration = cleared_declaration(make_mask_permit, applicant)
    form = DeclarationLoadForm({"d-declaration_no": declaration.number}, user=applicant,
                               prefix="d")
    assert form.is_valid() and form.source == {"declaration": declaration}
    assert not StockReport.objects.exists()  # the view loads the stock, not clean()
    nothing = cleared_declaration(make_mask_permit, applicant, released="0")
    form = DeclarationLoadForm({"d-declaration_no": nothing.number}, user=applicant,
                               prefix="d")
    assert not form.is_valid() and form.source is None
    assert [e.code for e in form.errors.as_data()["declaration_no"]] == ["nothing_cleared"]


def test_it_says_the_same_of_an_unknown_and_of_another_users_declaration(
        client, url, make_mask_permit, applicant, other_applicant):
    others = cleared_declaration(make_mask_permit, other_applicant)
    client.force_login(applicant)
    unknown = load(client, url, "ZZ11599999999Z")
    foreign = load(client, url, others.number)
    assert load_codes(unknown) == load_codes(foreign) == ["declaration_not_found"]
    assert str(unknown.context["declaration_form"].errors) == str(
        foreign.context["declaration_form"].errors)
    assert not StockReport.objects.exists()


def test_it_loads_a_permit_written_off_without_a_declaration(client, url, make_mask_permit,
                                                            applicant):
    permit = written_off_permit(make_mask_permit, applicant, medical="50")
    client.force_login(applicant)
    response = load(client, url, permit.permit_no, menu="3")
    report = StockReport.objects.get()
    assert response.status_code == 302
    assert (report.permit, report.declaration, report.cleared) == (permit, None, D(50))


def test_it_sends_a_declaration_route_permit_to_menu_2(client, url, declaration, applicant):
    client.force_login(applicant)
    response = load(client, url, declaration.permit.permit_no, menu="3")
    assert load_codes(response, menu="3") == ["use_declaration"]


def test_it_says_the_same_of_an_unknown_and_of_another_users_permit(
        client, url, make_mask_permit, applicant, other_applicant):
    others = written_off_permit(make_mask_permit, other_applicant)
    client.force_login(applicant)
    assert load_codes(load(client, url, others.permit_no, menu="3"), menu="3") == \
        load_codes(load(client, url, "PMK11599999999", menu="3"), menu="3") == ["not_found"]


def test_it_follows_releases_that_came_later(make_mask_permit, applicant):
    declaration = cleared_declaration(make_mask_permit, applicant, quantity="10",
                                      released="4")
    report = services.stock_report_load(declaration=declaration)
    receive([helpers.release(declaration.number, items=[{"item_no": 1, "quantity": "6"}])],
            source="test")
    assert services.stock_report_load(declaration=declaration).pk == report.pk
    report.refresh_from_db()
    assert report.cleared == D(10)


# --- 流向登錄 → 確認並回上一頁 (MASK-7) --------------------------------------------------


def test_it_registers_the_manuals_example_with_its_document(client, url, applicant, report):
    client.force_login(applicant)
    response = add_flow(client, url, report)
    assert response.status_code == 302
    assert response.url == url("masks:flow_report", report.pk)
    flow = Flow.objects.get()
    assert (flow.category, flow.quantity, flow.date, flow.counterparty, flow.declared_at) == (
        "medical_institution", D(10), datetime.date(2020, 9, 12), "臺大醫院", None)
    document = FlowDocument.objects.get()
    assert (document.flow, document.original_name, document.content_type) == (
        flow, "invoice.pdf", "application/pdf")
    report.refresh_from_db()
    assert (report.allocated, report.stock, report.declared) == (D(10), D(0), D(0))


def test_it_takes_several_documents(client, url, applicant, report):
    client.force_login(applicant)
    add_flow(client, url, report, documents=("invoice.pdf", "delivery.pdf"), quantity="3")
    assert FlowDocument.objects.count() == 2


def test_it_registers_own_use_without_documents(client, url, applicant, report):
    client.force_login(applicant)
    response = add_flow(client, url, report, documents=(), category="own_use",
                        counterparty="", quantity="2")
    assert response.status_code == 302
    assert Flow.objects.get().category == "own_use"


@pytest.mark.parametrize("category", ["medical_institution", "pharmacy", "online",
                                      "wholesaler"])
def test_it_refuses_a_flow_for_sale_without_documents(client, url, applicant, report,
                                                      category):
    client.force_login(applicant)
    response = add_flow(client, url, report, documents=(), category=category)
    assert response.status_code == 400  # the portal's convention for a refused form
    assert field_codes(response, "documents") == ["documents_required"]
    assert not Flow.objects.exists()
    report.refresh_from_db()
    assert report.allocated == 0


def test_it_refuses_a_document_that_is_not_what_it_says(client, url, applicant, report):
    client.force_login(applicant)
    response = client.post(url("masks:flow_add", report.pk), {**FLOW, "documents": [
        SimpleUploadedFile("invoice.pdf", b"MZ\x90\x00 not a pdf")]})
    assert field_codes(response, "documents") == ["type_not_allowed"]
    assert not Flow.objects.exists()


@pytest.mark.parametrize(("quantity", "code"), [
    ("1,000", "thousands_separator"), ("0", "not_positive"), ("-5", "not_positive"),
    ("1234567890", "max_whole_digits"), ("abc", "invalid"), ("11", "over_stock"),
])
def test_it_refuses_a_bad_quantity(client, url, applicant, report, quantity, code):
    client.force_login(applicant)
    response = add_flow(client, url, report, quantity=quantity)
    assert response.status_code == 400
    codes = field_codes(response, "quantity")
    assert codes and (codes[0] == code or (code == "not_positive" and codes[0] == "negative"))
    assert not Flow.objects.exists()


def test_it_keeps_the_flows_within_the_cleared_quantity(applicant, report):
    services.flow_register(actor=applicant, report=report, category="own_use",
                           quantity=D(7), date=datetime.date(2020, 9, 12))
    with pytest.raises(ValidationError) as error:
        services.flow_register(actor=applicant, report=report, category="own_use",
                               quantity=D(4), date=datetime.date(2020, 9, 12))
    assert error.value.code == "over_stock"
    report.refresh_from_db()
    assert (report.allocated, Flow.objects.count()) == (D(7), 1)


def test_it_refuses_a_bad_date(client, url, applicant, report):
    client.force_login(applicant)
    response = add_flow(client, url, report, date="109/13/40")
    assert field_codes(response, "date") == ["invalid"]
    assert response.status_code == 400


def test_it_refuses_a_document_of_the_wrong_type_with_400(client, url, applicant, report):
    client.force_login(applicant)
    response = client.post(url("masks:flow_add", report.pk), {**FLOW, "documents": [
        SimpleUploadedFile("invoice.pdf", b"MZ\x90\x00 not a pdf")]})
    assert response.status_code == 400


# --- The date of a flow: not in the future, not before the masks were cleared (MASK-7) ------


@pytest.mark.parametrize("date", ["9999-12-31", "120/01/01", "1200101", "tomorrow"])
def test_it_refuses_a_flow_dated_in_the_future(client, url, applicant, report, date):
    if date == "tomorrow":
        date = dates.to_roc(timezone.localdate() + datetime.timedelta(days=1))
    client.force_login(applicant)
    response = add_flow(client, url, report, date=date)
    assert response.status_code == 400
    assert field_codes(response, "date") == ["date_in_future"]
    assert response.context["form"]["date"].value() == date  # the typing is kept
    assert not Flow.objects.exists()


def test_it_refuses_a_flow_dated_before_the_masks_were_released(client, url, applicant,
                                                                report):
    client.force_login(applicant)
    response = add_flow(client, url, report, date="109/08/31")
    assert response.status_code == 400
    [error] = response.context["form"].errors.as_data()["date"]
    assert (error.code, error.params["earliest"]) == ("date_before_clearance", "109/09/01")
    assert "109/09/01" in response.content.decode()
    assert not Flow.objects.exists()


@pytest.mark.parametrize("date", ["109/09/01", "today"])
def test_it_takes_a_flow_from_the_release_day_to_today(client, url, applicant, report, date):
    if date == "today":
        date = dates.to_roc(timezone.localdate())
    client.force_login(applicant)
    assert add_flow(client, url, report, date=date).status_code == 302


def test_it_dates_the_stock_of_a_write_off_from_the_write_off(client, url, make_mask_permit,
                                                              applicant):
    permit = written_off_permit(make_mask_permit, applicant, medical="50",
                                cleared_at=CLEARED_AT + datetime.timedelta(days=3))
    report = services.stock_report_load(permit=permit)
    client.force_login(applicant)
    response = add_flow(client, url, report, date="109/09/03")
    assert response.context["form"].errors.as_data()["date"][0].params["earliest"] == \
        "109/09/04"
    assert add_flow(client, url, report, date="109/09/04").status_code == 302


def test_it_counts_a_release_from_the_day_customs_reported_it(client, url, make_mask_permit,
                                                             applicant):
    declaration = cleared_declaration(make_mask_permit, applicant, cleared_at=None)
    report = services.stock_report_load(declaration=declaration)
    today = timezone.localdate()
    client.force_login(applicant)
    response = add_flow(client, url, report, date=dates.to_roc(today - datetime.timedelta(1)))
    assert field_codes(response, "date") == ["date_before_clearance"]
    assert add_flow(client, url, report, date=dates.to_roc(today)).status_code == 302


def test_it_dates_the_stock_from_its_first_release(make_mask_permit, applicant):
    declaration = cleared_declaration(make_mask_permit, applicant, quantity="10",
                                      released="4")
    receive([helpers.release(declaration.number, items=[{"item_no": 1, "quantity": "6"}])],
            source="test")  # the rest, today
    report = services.stock_report_load(declaration=declaration)
    assert services.flow_earliest_date(report) == datetime.date(2020, 9, 1)


@pytest.mark.parametrize(("date", "code"), [
    (datetime.date(9999, 12, 31), "date_in_future"),
    (datetime.date(2020, 8, 31), "date_before_clearance"),
])
def test_it_checks_the_date_again_when_it_registers(applicant, report, date, code):
    with pytest.raises(ValidationError) as error:
        services.flow_register(actor=applicant, report=report, category="own_use",
                               quantity=D(1), date=date)
    assert error.value.code == code
    report.refresh_from_db()
    assert (report.allocated, Flow.objects.count()) == (D(0), 0)


def test_it_says_the_dates_allowed_beside_the_field(client, url, applicant, report):
    client.force_login(applicant)
    form = client.get(url("masks:flow_add", report.pk)).context["form"]
    assert "109/09/01" in str(form.fields["date"].help_text)


# --- Masks are whole pieces ------------------------------------------------------------------


@pytest.mark.parametrize("quantity", ["0.5", "1.5", "9.0001"])
def test_it_refuses_part_of_a_mask(client, url, applicant, report, quantity):
    client.force_login(applicant)
    response = add_flow(client, url, report, quantity=quantity)
    assert response.status_code == 400
    assert field_codes(response, "quantity") == ["whole_pieces"]
    assert not Flow.objects.exists()


@pytest.mark.parametrize(("quantity", "taken"), [("10.0", D(10)), ("１０", D(10))])
def test_it_takes_whole_pieces_written_with_a_point_or_in_full_width(client, url, applicant,
                                                                     report, quantity, taken):
    client.force_login(applicant)
    assert add_flow(client, url, report, quantity=quantity).status_code == 302
    assert Flow.objects.get().quantity == taken


def test_it_shows_quantities_as_plain_numbers(client, url, make_mask_permit, applicant):
    """A quantity customs released in a fraction reads 10.5, never 10.5000."""
    report = services.stock_report_load(declaration=cleared_declaration(
        make_mask_permit, applicant, quantity="10.5"))
    services.flow_register(actor=applicant, report=report, category="own_use",
                           quantity=D(1), date=datetime.date(2020, 9, 12))
    client.force_login(applicant)
    for page in (client.get(url("masks:flow_report", report.pk)),
                 client.get(url("masks:flow_add", report.pk))):
        html = page.content.decode()
        assert ".0000" not in html and ".5000" not in html
        assert "9.5" in html


def test_it_deletes_a_pending_flow_back_into_stock(client, url, applicant, report):
    flow = services.flow_register(actor=applicant, report=report, category="own_use",
                                  quantity=D(4), date=datetime.date(2020, 9, 12))
    client.force_login(applicant)
    response = client.post(url("masks:flow_delete", report.pk, flow.pk))
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.allocated, Flow.objects.count()) == (D(0), 0)


# --- 申報 --------------------------------------------------------------------------------------


def test_it_declares_the_pending_flows(client, url, applicant, report):
    client.force_login(applicant)
    add_flow(client, url, report, quantity="6")
    add_flow(client, url, report, documents=(), category="own_use", quantity="1")
    response = client.post(url("masks:flow_declare", report.pk))
    assert response.status_code == 302
    assert not Flow.objects.filter(declared_at__isnull=True).exists()
    report.refresh_from_db()
    assert (report.cleared, report.allocated, report.declared, report.stock) == (
        D(10), D(7), D(7), D(3))


def test_it_refuses_to_declare_nothing(applicant, report):
    with pytest.raises(ValidationError) as error:
        services.flows_declare(actor=applicant, report=report)
    assert error.value.code == "nothing_to_declare"


# --- Who may see it ------------------------------------------------------------------------------


def test_it_hides_the_stock_from_another_applicant(client, url, applicant, other_applicant,
                                                   report):
    flow = services.flow_register(actor=applicant, report=report,
                                  category="medical_institution", quantity=D(2),
                                  date=datetime.date(2020, 9, 12), counterparty="醫院",
                                  documents=[pdf()])
    document = flow.documents.get()
    client.force_login(other_applicant)
    assert client.get(url("masks:flow_report", report.pk)).status_code == 404
    assert client.get(url("masks:flow_add", report.pk)).status_code == 404
    assert add_flow(client, url, report).status_code == 404
    assert client.post(url("masks:flow_declare", report.pk)).status_code == 404
    assert client.post(url("masks:flow_delete", report.pk, flow.pk)).status_code == 404
    assert client.get(url("masks:flow_document", document.pk)).status_code == 404
    assert client.get(url("masks:return_report", report.pk)).status_code == 404
    assert Flow.objects.get().declared_at is None


def test_it_lets_the_owner_download_a_document(client, url, applicant, report):
    flow = services.flow_register(actor=applicant, report=report,
                                  category="medical_institution", quantity=D(2),
                                  date=datetime.date(2020, 9, 12), counterparty="醫院",
                                  documents=[pdf()])
    client.force_login(applicant)
    response = client.get(url("masks:flow_document", flow.documents.get().pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["X-Content-Type-Options"] == "nosniff"


def test_it_shows_the_agent_who_filed_the_permit_its_stock(client, url, make_mask_permit,
                                                          applicant, agent):
    permit = make_mask_permit(applicant, actor=agent, route="declaration",
                              items=[item(quantity="100")])
    number = "AA11500000777B"
    receive([helpers.declaration(permit, number=number, direction="import", items=[{
        "item_no": 1, "tariff_code": permit.current.application.items.get().tariff_code,
        "quantity": "5", "unit": "PCE", "value": "5", "currency": "TWD",
        "permit_item_no": 1}]), helpers.release(number, items=[{"item_no": 1,
                                                                "quantity": "5"}])],
            source="test")
    client.force_login(agent)
    response = load(client, url, number)
    assert response.status_code == 302
    assert StockReport.objects.get().holder == applicant


def test_it_keeps_bureau_staff_out(client, url, reviewer, report):
    client.force_login(reviewer)
    assert client.get(url("masks:flow_report", report.pk)).status_code == 403


# --- Two at once ---------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_lets_only_one_of_two_racing_flows_through(make_mask_permit, applicant):
    """Two flows of 6 against a stock of 10: the row lock of the UPDATE queues the second,
    and the check constraint refuses it; never 12 allocated."""
    test_services.require_postgres()
    declaration = cleared_declaration(make_mask_permit, applicant, quantity="10")
    report = services.stock_report_load(declaration=declaration)

    def attempt():
        try:
            services.flow_register(actor=applicant, report=StockReport.objects.get(
                pk=report.pk), category="own_use", quantity=D(6),
                date=datetime.date(2020, 9, 12))
        except ValidationError as error:
            return error.code
        return "registered"

    results = test_services.run_concurrently(attempt, attempt)
    assert sorted(results) == ["over_stock", "registered"]
    report.refresh_from_db()
    assert (report.allocated, Flow.objects.count()) == (D(6), 1)


@pytest.mark.django_db
def test_it_seeds_a_demo_import_with_stock_to_declare(applicant,
                                                      django_capture_on_commit_callbacks):
    from masks import demo
    from masks.services import cleared_by_declaration
    from reconciliation.models import Declaration

    with django_capture_on_commit_callbacks(execute=True):
        assert demo.seed(applicant=applicant) == 1
        assert demo.seed(applicant=applicant) == 0  # once
    declaration = Declaration.objects.get(number=demo.DECLARATION)
    assert declaration.result == "match"
    assert cleared_by_declaration([declaration.pk]) == {declaration.pk: 10}


# --- The flows table and the chart, written out in Python (issue 10) -----------------------

# What the page's template printed before masks.views wrote them out (templates/masks/
# flow_report.html's loop and masks/includes/stock_chart.html): both must print the same.
FLOW_ROWS_TEMPLATE = """{% load i18n roc permits_tags %}{% for flow in flows %}
        <tr data-testid="flow-{{ flow.pk }}"><td>{{ flow.get_category_display }}</td>
          <td class="text-end">{{ flow.quantity|plain }}{% if flow.returned %}<div class="small text-secondary">{% translate "returned" %} {{ flow.returned|plain }}</div>{% endif %}</td>
          <td>{{ flow.date|roc }}</td><td>{{ flow.counterparty|default:"—" }}</td>
          <td class="small">{% for document in flow.documents.all %}<a href="{% url 'masks:flow_document' document.pk %}">{{ document.original_name }}</a>{% if not forloop.last %}<br>{% endif %}{% empty %}—{% endfor %}</td>
          <td>{% if flow.declared_at %}<span class="badge text-bg-success">{% translate "Declared" %}</span>{% else %}<span class="badge text-bg-warning">{% translate "Not declared yet" %}</span>{% endif %}</td>
          <td>{% if not flow.declared_at %}<a class="btn btn-sm btn-outline-danger" href="{% url 'masks:flow_delete' report.pk flow.pk %}" data-testid="delete-flow-{{ flow.pk }}">{% translate "Delete" %}</a>{% endif %}</td></tr>
{% endfor %}"""  # noqa: E501
CHART_TEMPLATE = """{% load i18n l10n permits_tags %}{% for bar in chart %}
  <div class="small d-flex justify-content-between"><span>{{ bar.label }}</span><span>{{ bar.quantity|plain }}</span></div>
  <svg class="stock-bar mb-2" width="100%" height="10" aria-hidden="true" focusable="false"><rect class="stock-bar-track" width="100%" height="100%" rx="4"/><rect class="stock-bar-fill{% if forloop.first %} stock-bar-total{% endif %}" width="{{ bar.percent|unlocalize }}%" height="100%" rx="4"/></svg>
{% endfor %}"""  # noqa: E501


@pytest.mark.parametrize("language", ["zh-hant", "en"])
def test_it_writes_the_flows_and_the_chart_as_the_template_did(client, url, applicant,
                                                              make_mask_permit, language):
    from django.utils import translation

    from masks import views
    from tests.masks.test_start_page import compact, rendered

    report = services.stock_report_load(declaration=cleared_declaration(
        make_mask_permit, applicant, quantity="100"))
    client.force_login(applicant)
    add_flow(client, url, report, documents=("invoice.pdf", 'A"<é>&.pdf'), quantity="3",
             counterparty='<b>"藥局" & co</b>')
    add_flow(client, url, report, documents=(), category="own_use", counterparty="",
             quantity="2.0")
    assert client.post(url("masks:flow_declare", report.pk)).status_code == 302
    add_flow(client, url, report, quantity="7")
    add_flow(client, url, report, category="pharmacy", quantity="11")
    returned = Flow.objects.get(quantity=7)
    Flow.objects.filter(pk=returned.pk).update(returned=D("2.5000"))
    report.refresh_from_db()
    with translation.override(language):
        flows = views._flows(views._report(type("R", (), {"user": applicant})(), report.pk))
        assert len(flows) == 4
        assert [bool(flow.declared_at) for flow in flows] == [True, True, False, False]
        assert [[(document.pk, document.original_name, document.flow)
                 for document in flow.documents.all()] for flow in flows] == [
            [(document.pk, document.original_name, flow) for document in
             FlowDocument.objects.filter(flow=flow).order_by("pk")] for flow in flows]
        assert [len(flow.documents.all()) for flow in flows] == [2, 0, 1, 1]
        assert flows[0].documents.all()[0].content_type == "application/pdf"  # deferred
        python = views._flow_rows(report, flows)
        assert compact(python) == compact(rendered(FLOW_ROWS_TEMPLATE, flows=flows,
                                                   report=report))
        assert "&lt;b&gt;&quot;藥局&quot; &amp; co&lt;/b&gt;" in python
        assert "A&quot;&lt;é&gt;&amp;.pdf" in python
        chart = services.stock_summary(report, flows=flows)
        assert chart == services.stock_summary(report)  # summed here as PostgreSQL did
        bars = views._chart_bars(chart)
        assert compact(bars) == compact(rendered(CHART_TEMPLATE, chart=chart))
    if language == "zh-hant":  # the page's language (the user's)
        page = client.get(url("masks:flow_report", report.pk)).content.decode()
        assert python in page and bars in page
