"""The stock page of 口罩流向登錄作業 reads its stock, flows, their documents and the permit's
version in force through queries compiled once per process (issue 10): it must show what it
showed, for its filer only, in as many queries however many flows and documents it has."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from masks.models import FlowDocument
from permits.models import Application, Kind
from portal import dates
from tests.masks.test_flows import add_flow, cleared_declaration

pytestmark = pytest.mark.django_db


def page_of(client, url, report):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url("masks:flow_report", report.pk))
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def test_it_shows_each_flow_with_its_documents_in_constant_queries(
        client, url, make_mask_permit, applicant, make_correction):
    from masks import services

    declaration = cleared_declaration(make_mask_permit, applicant, quantity="40")
    report = services.stock_report_load(declaration=declaration)
    client.force_login(applicant)
    add_flow(client, url, report, documents=("a.pdf",), quantity="1")
    _page, few = page_of(client, url, report)
    add_flow(client, url, report, documents=("b.pdf", "c.pdf"), quantity="2")
    add_flow(client, url, report, documents=(), category="own_use", quantity="3")
    # A correction after clearance issues version 2: the page shows the version in force.
    permit = report.permit
    make_correction(applicant, permit, kind=Kind.CLEARED_CORRECTION, line_no=1,
                    description="醫用口罩(更正)")
    newest = permit.versions.order_by("-version").first()
    assert newest.version == 2
    Application.objects.filter(pk=newest.application_id).update(
        applicant_address="臺北市中正區新址路 2 號")  # what only the version in force says
    page, many = page_of(client, url, report)
    assert many == few
    rows = dict(re.findall(r'<tr data-testid="flow-(\d+)">(.*?)</tr>', page, re.S))
    assert len(rows) == 3
    for document in FlowDocument.objects.select_related("flow"):
        assert url("masks:flow_document", document.pk) in rows[str(document.flow_id)]
        assert document.original_name in rows[str(document.flow_id)]
    assert sum("—" in row for row in rows.values()) == 1  # the flow without documents
    assert dates.to_roc(newest.valid_until) in page
    assert "臺北市中正區新址路 2 號" in page
    assert report.permit.permit_no in page and declaration.number in page


def test_another_user_gets_404(client, url, make_mask_permit, applicant, other_applicant,
                               agent):
    from masks import services

    declaration = cleared_declaration(make_mask_permit, applicant)
    report = services.stock_report_load(declaration=declaration)
    for user, status in ((other_applicant, 404), (agent, 404), (applicant, 200)):
        client.force_login(user)
        assert client.get(url("masks:flow_report", report.pk)).status_code == status
