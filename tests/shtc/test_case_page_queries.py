"""What the applicant's SHTC case page reads (issue 10, bench/README.md "Stop 19", "The case
page, second pass", "Stop 20"): the SHTC row, its 9-2-1 assurance, the changed version's case
with its SHTC row and the transit port's name come with the case in its one query
(Procedure.case_related, case_annotations), the changed case's items and parties with the
case's own parts in one round trip (Procedure.related_parts); so the page's queries do not
grow with the case's items or documents."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from permits.models import Item, Status
from shtc.models import Port
from tests.shtc.review_cases import upload
from tests.shtc.test_changes import correction_of, permit, register  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def page_queries(client, case):
    """The SQL of one request of the case page (after one to warm the caches), and the page."""
    url = reverse("permits:application_detail", args=[case.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return [query["sql"] for query in queries.captured_queries], response.content.decode()


def reading(queries, table):
    return [sql for sql in queries
            if sql.startswith("SELECT") and re.search(rf'FROM "{table}"', sql)]


def more_items(case, count):
    """`count` more copies of the case's first item."""
    first = case.items.order_by("line_no").first()
    last = case.items.order_by("-line_no").first().line_no
    for n in range(1, count + 1):
        Item.objects.create(**{**{field.attname: getattr(first, field.attname)
                                  for field in Item._meta.concrete_fields if not
                                  field.primary_key}, "line_no": last + n})


@pytest.fixture
def port():
    return Port.objects.get_or_create(code="USLAX", defaults={
        "country": "US", "name": "Los Angeles", "name_ascii": "Los Angeles",
        "edition": "2024-2"})[0]


def test_a_registered_cases_page_reads_the_same_with_more_items_and_documents(
        client, applicant, shtc_case, port):
    case = shtc_case(status=Status.REGISTERED, transit_port=port.code)
    client.force_login(applicant)
    before, page = page_queries(client, case)
    assert "USLAX Los Angeles" in page  # 轉口港代碼, as before
    assert 'data-testid="link-filing"' in page
    # The SHTC row comes with the case: no query of its own.
    assert not reading(before, "shtc_shtcapplication")
    more_items(case, 4)
    for kind in ("catalogue", "transaction", "catalogue"):
        upload(case, kind, actor=applicant)
    after, page = page_queries(client, case)
    assert page.count("Los Angeles") == 1 and page.count("catalogue.pdf") == 2
    assert len(after) == len(before)


def test_a_changes_page_reads_the_same_with_more_items_and_documents(
        client, applicant, permit):  # noqa: F811
    client.force_login(applicant)
    original = permit.current.application
    case = correction_of(permit, applicant)
    case.items.update(origin_country="JP")  # now a re-export: the import declaration
    case = register(client, case)
    before, page = page_queries(client, case)
    assert 'data-kind="import_declaration" data-uploaded="false"' in page
    # The changed version, its case and their SHTC rows come with the case.
    assert not reading(before, "shtc_shtcapplication")
    assert not reading(before, "permits_application")[1:]
    more_items(case, 3)
    more_items(original, 3)
    for kind in ("import_declaration", "catalogue"):
        upload(case, kind, actor=applicant)
    after, page = page_queries(client, case)
    assert 'data-kind="import_declaration" data-uploaded="true"' in page
    assert len(after) == len(before)


def port_queries(queries):
    """The queries of the port table of its own (not a subquery of the case's)."""
    return [sql for sql in queries if sql.startswith('SELECT "shtc_port"')]


def test_the_transit_ports_name_comes_with_the_case(client, applicant, shtc_case, port):
    """Procedure.case_annotations: the port's name is read in the case's query, as the
    reviewer's look-up (shtc.review._port) gives it; a code not on file is shown alone."""
    from permits.models import Application
    from shtc import review
    from shtc.procedures import PROCEDURE, transit_port_text

    case = shtc_case(status=Status.REGISTERED, transit_port=port.code)
    unknown = shtc_case(status=Status.REGISTERED, transit_port="USZZ9")
    client.force_login(applicant)
    queries, page = page_queries(client, case)
    assert not port_queries(queries)
    assert 'data-testid="procedure-row-transit-port">USLAX Los Angeles</dd>' in page
    assert review._port("USLAX") == "USLAX Los Angeles"
    queries, page = page_queries(client, unknown)
    assert not port_queries(queries)
    assert 'data-testid="procedure-row-transit-port">USZZ9</dd>' in page
    # A case read otherwise (the PDF, the admin) looks the port up itself.
    plain = Application.objects.select_related("shtc").get(pk=case.pk)
    assert transit_port_text(plain, plain.shtc) == "USLAX Los Angeles"
    assert [row["value"] for row in PROCEDURE.detail_rows(plain)
            if row["code"] == "transit-port"] == ["USLAX Los Angeles"]


@pytest.mark.postgres
def test_a_changes_page_reads_the_changed_cases_parts_with_its_own(
        client, applicant, permit):  # noqa: F811
    """Procedure.related_parts: the items and parties of the version a change changes are
    read in the round trip that reads the change's own parts, not after it."""
    client.force_login(applicant)
    original = permit.current.application
    case = correction_of(permit, applicant)  # a draft of the change: its page is the same
    case.items.update(quantity=8, amount=12000)  # on the assurance: it is signed again
    queries, page = page_queries(client, case)
    items = reading(queries, "permits_item")
    assert len(items) == 1
    assert 'FROM "permits_party"' in items[0] and 'FROM "permits_attachment"' in items[0]
    # The changed case's items and parties, in the same statements' text.
    assert items[0].count(f"= {original.pk}") == 2
    assert not [sql for sql in queries if sql is not items[0] and f"= {original.pk}" in sql
                and "permits_application" not in sql]
    assert 'data-kind="assurance" data-uploaded="false"' in page
