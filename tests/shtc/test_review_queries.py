"""What the reviewer's SHTC panel reads (issue 10, bench/README.md "Stop 19"): the case's
items, parties, documents and SHTC row once for the whole page (the admin's tables and the
panel), the transit port and the five-export count by queries compiled once per process,
with what the ORM's own queries give."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal.accounts.identifiers import normalize
from shtc import review, rules
from shtc.models import Port
from tests.shtc.review_cases import ITEM, parse_page
from tests.shtc.test_validity import (  # noqa: F401 (fixtures)
    IMPORTER,
    at,
    exporter,
    release,
    shtc_permit,
)

pytestmark = pytest.mark.django_db


def reading(queries, table):
    return [query["sql"] for query in queries.captured_queries
            if re.search(rf'FROM "{table}"', query["sql"])]


def test_the_case_page_reads_each_part_of_the_case_once(client, reviewer, shtc_case):
    port, _new = Port.objects.get_or_create(code="SGSIN", defaults={
        "country": "SG", "name": "Singapore", "name_ascii": "Singapore", "edition": "2024-2"})
    case = shtc_case(destination="SG", transit_port="SGSIN", items=[
        {**ITEM, "origin_country": "US"}, {**ITEM, "origin_country": "JP"}, dict(ITEM)])
    client.force_login(reviewer)
    url = reverse("admin:permits_application_change", args=[case.pk])
    client.get(url)  # caches warm
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert len(reading(queries, "permits_item")) == 1
    assert not [sql for sql in reading(queries, "permits_item") if "DISTINCT" in sql]
    assert len(reading(queries, "permits_attachment")) == 1
    assert len(reading(queries, "shtc_shtcapplication")) == 1
    # The parties' table, and the buyers of the exporter's earlier cases (SHTC-14 (2)).
    assert len([sql for sql in reading(queries, "permits_party")
                if "applicant_identifier" not in sql]) == 1
    assert len([sql for sql in reading(queries, "permits_application")
                if sql.startswith('SELECT "permits_application"."id"')]) == 1
    # What the panel shows of them.
    panel = parse_page(response.content).by_testid("shtc-review")
    codes = {item["data-code"] for item in panel.by_testid("shtc-documents").find_all("li")}
    assert {"import_declaration", "reexport_approval"} <= codes  # US goods to Singapore
    assert str(port) in panel.by_testid("shtc-transit-port").text()


def test_the_transit_port_is_named_as_before(shtc_case):
    Port.objects.get_or_create(code="USLAX", defaults={
        "country": "US", "name": "Los Angeles", "name_ascii": "Los Angeles",
        "edition": "2024-2"})
    case = shtc_case(destination="US", transit_port="USLAX")
    assert review.panel(case)["transit_port"] == str(Port.objects.get(code="USLAX"))
    Port.objects.filter(code="USZZZ").delete()
    unknown = shtc_case(destination="US", transit_port="USZZZ")
    assert review.panel(unknown)["transit_port"] == "USZZZ"  # not on file: as typed


@pytest.mark.postgres
def test_the_five_export_count_is_the_orm_query_compiled_once(exporter, shtc_permit,  # noqa: F811
                                                               release):  # noqa: F811
    on = timezone.localdate()
    start = rules.half_year_before(on)
    permit, other = shtc_permit(), shtc_permit(buyer="Another Importer Pte. Ltd.")
    entries = [release(permit) for _ in range(3)] + [release(other)]
    entries[0].__class__.objects.filter(pk=entries[0].pk).update(
        created_at=at(start, seconds=-1))  # before the half year
    count = rules.releases_to_importer(exporter=exporter, destination="SG",
                                       importer_name=IMPORTER, on=on)
    assert rules._RELEASED._compiled  # noqa: SLF001 (the compiled query answered)
    identifier = normalize(exporter)
    cases = [case for case, name in rules._buyers(identifier=identifier,  # noqa: SLF001
                                                   destination="SG")
             if name == IMPORTER]
    since = timezone.make_aware(datetime.datetime.combine(start, datetime.time.min))
    until = timezone.make_aware(datetime.datetime.combine(on + datetime.timedelta(days=1),
                                                          datetime.time.min))
    orm = rules._released(identifier=identifier, since=since, until=until,  # noqa: SLF001
                          cases=cases).count()
    assert count == orm == 2
