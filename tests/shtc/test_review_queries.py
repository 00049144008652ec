"""What the reviewer's SHTC panel reads (issue 10, bench/README.md "Stop 19"): the case's
items, parties, documents and SHTC row once for the whole page (the admin's tables and the
panel), the transit port and the five-export count by queries compiled once per process,
with what the ORM's own queries give."""

import datetime
import re
from pathlib import Path

import pytest
from django.db import connection
from django.template import engines
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from permits.models import Application, Kind, Status
from permits.services import application_create
from portal.accounts.identifiers import normalize
from shtc import review, rules
from shtc.admin import review_panel_html
from shtc.models import Port, ShtcApplication
from tests.permits.test_admin_list import blanks_out
from tests.shtc.review_cases import ITEM, parse_page, upload
from tests.shtc.test_validity import (  # noqa: F401 (fixtures)
    IMPORTER,
    at,
    exporter,
    release,
    shtc_permit,
)

pytestmark = pytest.mark.django_db

PANEL_BEFORE = Path(__file__).with_name("review_panel_before.html")


def reading(queries, table):
    return [query["sql"] for query in queries.captured_queries
            if re.search(rf'FROM "{table}"', query["sql"])]


@pytest.mark.postgres
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
    # The items' origins (DISTINCT) with their page, in the round trip of the page's parts
    # (permits.admin_case), not a query of their own.
    assert all('FROM "permits_attachment"' in sql for sql in reading(queries, "permits_item"))
    assert len(reading(queries, "permits_attachment")) == 1
    # The SHTC row is read with the case (permits.admin.case_page_related), not on its own.
    assert not reading(queries, "shtc_shtcapplication")
    # The parties' table, and the buyers of the exporter's earlier approved cases (SHTC-14
    # (2)), each once, both statements of the page's one round trip.
    statements = [statement for sql in reading(queries, "permits_party")
                  for statement in sql.split(";\n") if 'FROM "permits_party"' in statement]
    assert len([sql for sql in statements if "applicant_identifier" not in sql]) == 1
    buyers = [sql for sql in statements if "applicant_identifier" in sql]
    assert len(buyers) == 1 and len(reading(queries, "permits_party")) == 1
    case_reads = [sql for sql in reading(queries, "permits_application")
                  if sql.startswith('SELECT "permits_application"."id"')]
    assert len(case_reads) == 1 and 'JOIN "shtc_shtcapplication"' in case_reads[0]
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
    # The buyers read beforehand, in a page's round trip (the reviewers' case page): the
    # same count; none, none counted.
    query, values = rules.buyers_call(exporter=exporter, destination="SG", on=on)
    assert rules.releases_to_importer(exporter=exporter, destination="SG",
                                      importer_name=IMPORTER, on=on,
                                      buyers=query.rows(**values)) == 2
    assert rules.releases_to_importer(exporter=exporter, destination="SG",
                                      importer_name=IMPORTER, on=on, buyers=[]) == 0


def test_the_buyers_are_those_of_approved_cases_and_read_only_where_the_rule_applies(
        exporter, shtc_permit, shtc_case):  # noqa: F811
    shtc_permit()  # an approved case buying from IMPORTER
    pending = shtc_case(destination="SG")  # not approved: no declaration can cite it
    identifier = normalize(exporter)
    found = rules._buyers(identifier=identifier, destination="SG")  # noqa: SLF001
    assert found and pending.pk not in {case for case, _name in found}
    on = timezone.localdate()
    assert rules.buyers_call(exporter=exporter, destination="SG", on=on) is not None
    # All four regimes, a controlled area, no exporter: validity() counts nothing.
    assert rules.buyers_call(exporter=exporter, destination="US", on=on) is None
    assert rules.buyers_call(exporter=exporter, destination="IR", on=on) is None
    assert rules.buyers_call(exporter="", destination="SG", on=on) is None


# --- The panel written in Python (issue 10, bench/README.md "Stop 20") ------------------------


def same_text(html):
    """`html` without blanks between tags, an apostrophe as itself: the template printed the
    words of {% translate %} as they are, the panel escapes them ("End user's" and "End
    user&#x27;s" read the same)."""
    return blanks_out(html).replace("&#x27;", "'")


@pytest.mark.parametrize("language", ["zh-hant", "en"])
def test_the_panel_is_what_its_template_drew(shtc_case, applicant, language):
    """shtc.admin.review_panel_html against the template it replaces
    (review_panel_before.html): warnings and consultation, documents missing or uploaded,
    the website, the validity computed, recorded and kept, values to escape."""
    template = engines["django"].from_string(PANEL_BEFORE.read_text())
    shown = [
        shtc_case(destination="CN", transit_port="HKHKG",
                  items=[{**ITEM, "origin_country": "US"}]),  # warnings, consultation
        shtc_case(destination="US"),  # all four regimes
        shtc_case(destination="SG", status=Status.REGISTERED),  # documents missing
        shtc_case(destination="KP", status=Status.REGISTERED),  # a 9-2-1 assurance
        shtc_case(destination="SG", partial_shipment=False, status=Status.APPROVED),
    ]
    ShtcApplication.objects.filter(application=shown[0]).update(
        end_use="<script>alert(1)</script>\nsecond line & more",
        end_user_url="https://example.com/?a=1&b=<2>")
    upload(shown[2], "assurance", actor=applicant, name="signed <1> & co.pdf")
    approved = Application.objects.get(pk=shown[-1].pk)
    change = application_create(  # a correction: the validity kept
        document_type=approved.document_type, applicant=applicant, actor=applicant,
        items=[dict(ITEM)], destination_country="SG", kind=Kind.CORRECTION,
        changes=approved.issued_version)
    ShtcApplication.objects.create(application=change)
    states = set()
    with translation.override(language):
        for case in [*shown, change]:
            panel = review.panel(Application.objects.get(pk=case.pk))
            drawn = review_panel_html(Application.objects.get(pk=case.pk))
            assert drawn.strip()
            assert same_text(drawn) == same_text(template.render({"panel": panel})), case
            states.add(panel["validity"]["state"])
    assert states == {"computed", "recorded", "kept"}
