"""口罩流向退貨作業 (MASK-9): 帶入報單資料 → the declared flows → click one → the quantity
returned goes back to the stock → 確認並回上一頁 → 申報; kept as FlowReturn rows."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from masks import services
from masks.models import FlowReturn, StockReport
from tests import services as test_services
from tests.masks.test_flows import cleared_declaration, pdf

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def report(make_mask_permit, applicant):
    return services.stock_report_load(
        declaration=cleared_declaration(make_mask_permit, applicant, quantity="10"))


@pytest.fixture
def flow(applicant, report):
    flow = services.flow_register(actor=applicant, report=report,
                                  category="medical_institution", quantity=D(10),
                                  date=datetime.date(2020, 9, 12), counterparty="臺大醫院",
                                  documents=[pdf()])
    services.flows_declare(actor=applicant, report=report)
    flow.refresh_from_db()
    return flow


def codes(response):
    return [e.code for e in response.context["form"].errors.as_data().get("quantity", [])]


def test_it_loads_the_declared_flows(client, url, applicant, report, flow):
    client.force_login(applicant)
    response = client.post(url("masks:return_start"),
                           {"menu": "2", "d-declaration_no": report.declaration.number})
    assert response.status_code == 302
    assert response.url == url("masks:return_report", report.pk)
    page = client.get(response.url)
    assert list(page.context["flows"]) == [flow]


def test_it_gives_a_return_back_to_the_stock(client, url, applicant, report, flow):
    client.force_login(applicant)
    response = client.post(url("masks:return_add", report.pk, flow.pk), {"quantity": "4"})
    assert response.status_code == 302
    assert response.url == url("masks:return_report", report.pk)
    flow.refresh_from_db()
    report.refresh_from_db()
    assert (flow.quantity, flow.returned) == (D(10), D(4))
    assert (report.allocated, report.declared, report.stock) == (D(6), D(6), D(4))
    returned = FlowReturn.objects.get()
    assert (returned.flow, returned.quantity, returned.declared_at) == (flow, D(4), None)


def test_it_declares_the_returns(client, url, applicant, report, flow):
    services.return_register(actor=applicant, flow=flow, quantity=D(4))
    client.force_login(applicant)
    response = client.post(url("masks:return_declare", report.pk))
    assert response.status_code == 302
    assert FlowReturn.objects.get().declared_at is not None
    with pytest.raises(ValidationError) as error:
        services.returns_declare(actor=applicant, report=report)
    assert error.value.code == "nothing_to_declare"


def test_it_keeps_every_return_as_a_row(applicant, flow):
    services.return_register(actor=applicant, flow=flow, quantity=D(3))
    flow.refresh_from_db()
    services.return_register(actor=applicant, flow=flow, quantity=D(2))
    flow.refresh_from_db()
    assert flow.returned == D(5)
    assert sorted(FlowReturn.objects.values_list("quantity", flat=True)) == [D(2), D(3)]


@pytest.mark.parametrize(("quantity", "code"), [
    ("11", "over_flow"), ("1,000", "thousands_separator"), ("0", "not_positive"),
    ("1234567890", "max_whole_digits"),
])
def test_it_refuses_a_bad_return(client, url, applicant, report, flow, quantity, code):
    client.force_login(applicant)
    response = client.post(url("masks:return_add", report.pk, flow.pk), {"quantity": quantity})
    assert response.status_code == 400  # the portal's convention for a refused form
    assert codes(response) == [code]
    assert not FlowReturn.objects.exists()


@pytest.mark.parametrize("quantity", ["0.5", "2.25", "0.00001"])
def test_it_refuses_part_of_a_mask(client, url, applicant, report, flow, quantity):
    client.force_login(applicant)
    response = client.post(url("masks:return_add", report.pk, flow.pk), {"quantity": quantity})
    assert response.status_code == 400
    assert codes(response) == ["whole_pieces"]
    assert response.context["form"]["quantity"].value() == quantity
    assert not FlowReturn.objects.exists()


def test_it_takes_a_return_typed_in_full_width(client, url, applicant, report, flow):
    client.force_login(applicant)
    response = client.post(url("masks:return_add", report.pk, flow.pk), {"quantity": "４"})
    assert response.status_code == 302
    assert FlowReturn.objects.get().quantity == D(4)


def test_it_shows_the_returns_as_plain_numbers(client, url, applicant, report, flow):
    services.return_register(actor=applicant, flow=flow, quantity=D(4))
    client.force_login(applicant)
    for page in (client.get(url("masks:return_report", report.pk)),
                 client.get(url("masks:return_add", report.pk, flow.pk))):
        assert page.status_code == 200
        assert ".0000" not in page.content.decode()


def test_it_refuses_more_than_the_flow_has_left(applicant, flow):
    services.return_register(actor=applicant, flow=flow, quantity=D(8))
    flow.refresh_from_db()
    with pytest.raises(ValidationError) as error:
        services.return_register(actor=applicant, flow=flow, quantity=D(3))
    assert error.value.code == "over_flow"
    flow.refresh_from_db()
    assert flow.returned == D(8)
    assert StockReport.objects.get().stock == D(8)


def test_it_takes_no_return_of_a_flow_not_declared(client, url, applicant, report):
    pending = services.flow_register(actor=applicant, report=report, category="own_use",
                                     quantity=D(3), date=datetime.date(2020, 9, 12))
    with pytest.raises(ValidationError) as error:
        services.return_register(actor=applicant, flow=pending, quantity=D(1))
    assert error.value.code == "not_declared"
    client.force_login(applicant)
    assert client.get(url("masks:return_add", report.pk, pending.pk)).status_code == 404


def test_it_hides_the_returns_from_another_applicant(client, url, other_applicant, report,
                                                     flow):
    client.force_login(other_applicant)
    response = client.post(url("masks:return_start"),
                           {"menu": "2", "d-declaration_no": report.declaration.number})
    assert [e.code for e in response.context["declaration_form"].errors.as_data()[
        "declaration_no"]] == ["declaration_not_found"]
    assert client.get(url("masks:return_report", report.pk)).status_code == 404
    assert client.post(url("masks:return_add", report.pk, flow.pk),
                       {"quantity": "1"}).status_code == 404
    assert client.post(url("masks:return_declare", report.pk)).status_code == 404
    assert not FlowReturn.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_lets_only_one_of_two_racing_returns_through(make_mask_permit, applicant):
    test_services.require_postgres()
    report = services.stock_report_load(
        declaration=cleared_declaration(make_mask_permit, applicant, quantity="10"))
    flow = services.flow_register(actor=applicant, report=report, category="own_use",
                                  quantity=D(10), date=datetime.date(2020, 9, 12))
    services.flows_declare(actor=applicant, report=report)
    flow.refresh_from_db()

    def attempt():
        try:
            services.return_register(actor=applicant, flow=flow, quantity=D(6))
        except ValidationError as error:
            return error.code
        return "returned"

    assert sorted(test_services.run_concurrently(attempt, attempt)) == ["over_flow",
                                                                         "returned"]
    report.refresh_from_db()
    assert (report.stock, FlowReturn.objects.count()) == (D(6), 1)
