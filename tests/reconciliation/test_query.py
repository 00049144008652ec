"""單證比對查詢 (RECON-3): by declaration number, for whoever may see the cited permit."""

import pytest
from django.urls import reverse

from permits.models import Status
from reconciliation import services as feed
from reconciliation.forms import NOT_FOUND
from tests.reconciliation.helpers import declaration

QUERY = reverse("reconciliation:query")
NUMBER = "AA11500000001B"


def query(client, number=NUMBER):
    return client.get(QUERY, {"number": number})


def not_found(response):
    """The codes and messages of the errors next to the number field."""
    errors = response.context["form"].errors.as_data().get("number", [])
    return [(e.code, str(e.message)) for e in errors]


@pytest.fixture
def mismatch(permit, receive):
    """A declaration citing `permit` whose declarant and tariff code differ from it."""
    item = {"item_no": 1, "tariff_code": "85423900001", "description": "FPGA",
            "quantity": "4", "unit": "PCE", "value": "6000", "currency": "USD",
            "permit_item_no": 1}
    receive(declaration(permit, declarant="12345675", items=[item]))


@pytest.mark.django_db
def test_it_shows_the_applicant_the_result_with_every_reason(client, applicant, mismatch):
    client.force_login(applicant)
    response = query(client)
    assert response.status_code == 200
    assert response.context["declaration"].number == NUMBER
    result = response.context["result"]
    assert result.result == "mismatch"
    html = response.content.decode()
    for reason in result.reasons:
        assert reason["code"] in html and reason["message"] in html
    assert {r["code"] for r in result.reasons} == {"declarant_mismatch", "tariff_mismatch"}


@pytest.mark.django_db
def test_it_shows_the_filing_agent_a_declaration_citing_a_permit_it_applied_for(
        client, make_case, applicant, agent, reviewer, receive):
    case = make_case(applicant, actor=agent, status=Status.APPROVED, reviewer=reviewer)
    receive(declaration(case.issued_version.permit))
    client.force_login(agent)
    response = query(client)
    assert response.context["declaration"].number == NUMBER
    assert response.context["result"].result == "match"


@pytest.mark.django_db
def test_it_answers_another_applicant_as_for_an_unknown_number(client, other_applicant,
                                                               mismatch):
    client.force_login(other_applicant)
    theirs = query(client)
    unknown = query(client, "ZZ11500000009B")
    assert theirs.status_code == unknown.status_code == 200
    assert theirs.context["declaration"] is None
    assert not_found(theirs) == not_found(unknown) == [("not_found", str(NOT_FOUND))]
    assert 'data-testid="declaration"' not in theirs.content.decode()  # nothing of it shows


@pytest.mark.django_db
def test_it_takes_the_number_in_lower_case_with_blanks(client, applicant, mismatch):
    client.force_login(applicant)
    response = query(client, f"  {NUMBER.lower()} ")
    assert response.context["declaration"].number == NUMBER


@pytest.mark.django_db
def test_it_shows_no_result_for_an_amendment_not_matched_yet(client, applicant, permit,
                                                             mismatch):
    # Received, but the matching queued after commit has not run yet.
    feed.receive([declaration(permit, revision=1)], source="test")
    client.force_login(applicant)
    response = query(client)
    assert response.context["declaration"].revision == 1
    assert response.context["result"] is None


@pytest.mark.django_db
def test_it_shows_staff_a_declaration_citing_a_permit_that_does_not_exist(
        client, reviewer, permit, receive):
    receive(declaration(permit, permit_no="PSE11599999999"))
    client.force_login(reviewer)
    response = query(client)
    assert response.context["result"].reasons[0]["code"] == "permit_not_found"


@pytest.mark.django_db
def test_it_sends_a_visitor_to_the_login_page(client):
    response = query(client)
    assert response.status_code == 302 and reverse("accounts:login") in response.url


@pytest.mark.django_db
def test_it_is_in_the_menu(client, applicant):
    client.force_login(applicant)
    sections = client.get(reverse("home")).context["sections"]
    assert "reconciliation:query" in {e.url_name for _s, entries in sections for e in entries}
