"""口罩流向登錄作業's list read newest first, stopping at the page's rows
(masks.services._newest_sources, issue 10) gives exactly the rows of the one rule: _sources()
over visible_permits(), i.e. Permit.visible_to, in the list's order; on sources of every kind
and state, filed by the applicant and by an agent, with changes, for the applicant, the
agent, another applicant and a user with nothing, through both ways of reading the
candidates, for every length."""

import itertools
from decimal import Decimal

import pytest

from masks import services
from permits import listing
from permits.models import DocumentType, Permit
from tests.masks.test_flows import cleared_declaration, written_off_permit
from tests.masks.test_manual_points import own_use

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]  # the query is PostgreSQL's own

D = Decimal


@pytest.fixture
def varied(make_mask_permit, make_correction, make_user, applicant, other_applicant, agent):
    """Sources of every state for the applicant, some filed by the agent, one corrected, and
    another applicant's (some filed by the same agent)."""
    def by_agent(holder, **fields):
        return make_mask_permit(holder, actor=agent, **fields)

    cleared_declaration(make_mask_permit, applicant, quantity="10")  # stock 10
    partly = services.stock_report_load(
        declaration=cleared_declaration(make_mask_permit, applicant, quantity="10"))
    own_use(applicant, partly, "4")  # 6 in stock, 4 pending
    done = services.stock_report_load(
        declaration=cleared_declaration(make_mask_permit, applicant, quantity="10"))
    own_use(applicant, done, "10")
    services.flows_declare(actor=applicant, report=done)  # nothing left: not listed
    cleared_declaration(make_mask_permit, applicant, released="0")  # nothing cleared
    written_off_permit(make_mask_permit, applicant, medical="50")
    written = written_off_permit(make_mask_permit, applicant, medical="20")
    services.stock_report_load(permit=written)
    cleared_declaration(by_agent, applicant, quantity="7")
    written_off_permit(by_agent, applicant, medical="30")
    # Corrected (a second version) before anything was cleared, by the applicant and, for
    # a permit the agent filed, by the agent; then written off.
    for holder, actor in ((applicant, applicant), (applicant, agent), (other_applicant, agent)):
        corrected = make_mask_permit(holder, actor=actor, route="postal")
        make_correction(actor, corrected)
        services.write_off_record(actor=actor, permit=corrected, route="postal",
                                  medical_quantity=D(9), non_medical_quantity=D(0))
    cleared_declaration(make_mask_permit, other_applicant, quantity="3")
    cleared_declaration(by_agent, other_applicant, quantity="4")
    written_off_permit(by_agent, other_applicant, medical="8")
    return {"applicant": applicant, "agent": agent, "other": other_applicant,
            "nobody": make_user("83098510", name="無案件公司")}


def by_the_rule(user, wanted):
    return list(services._sources(services.visible_permits(user))
                .order_by("-at", "-source_no")[:wanted])


@pytest.mark.parametrize("dense", [0, 10_000])  # the whole index, or permit by permit
def test_it_gives_the_rules_rows_in_its_order(varied, monkeypatch, dense):
    monkeypatch.setattr(services, "DENSE_PERMITS", dense)
    assert len(by_the_rule(varied["applicant"], 100)) >= 7  # both menus
    assert len(by_the_rule(varied["agent"], 100)) >= 4
    for user, wanted in itertools.product(varied.values(), [1, 2, 3, 5, 100]):
        assert services._newest_sources(user, wanted) == by_the_rule(user, wanted), (
            user, wanted)
        # The list's own read leaves the dates (which only order the rows) undecoded.
        assert services._newest_sources(user, wanted, dates=False) == [
            (*row[:-1], None) for row in by_the_rule(user, wanted)], (user, wanted)


def test_the_start_page_lists_the_same(varied, client, url):
    client.force_login(varied["applicant"])
    response = client.get(url("masks:flow_start"))
    expected = [services._source_row(row) for row in by_the_rule(varied["applicant"], 100)]
    assert response.context["sources"] == expected
    assert [source["stock"] for source in expected if source["pending"]] == [D(6)]


def test_the_holders_permits_are_the_rules(varied, reviewer):
    """permits.listing.visible_permit_ids (the holder, and the agent's cases) against
    Permit.visible_to (every version's case), for each user; staff see every permit."""
    for user in [*varied.values(), reviewer]:
        expected = set(Permit.objects.visible_to(user).filter(
            document_type=DocumentType.MASK_IMPORT).values_list("pk", flat=True))
        assert listing.visible_permit_ids(user, DocumentType.MASK_IMPORT) == expected, user
    assert len(listing.visible_permit_ids(varied["agent"], DocumentType.MASK_IMPORT)) >= 6


def test_the_page_reads_constant_queries(varied, client, url, make_mask_permit,
                                         django_assert_max_num_queries):
    applicant = varied["applicant"]
    client.force_login(applicant)
    client.get(url("masks:flow_start"))
    with django_assert_max_num_queries(30) as few:
        client.get(url("masks:flow_start"))
    for _n in range(3):
        cleared_declaration(make_mask_permit, applicant)
        written_off_permit(make_mask_permit, applicant)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url("masks:flow_start"))


@pytest.mark.parametrize("dense", [0, 10_000])
def test_a_permit_held_and_filed_as_agent_is_listed_once(varied, monkeypatch, dense):
    """Menu 3 reads the holder's permits and those filed as agent apart: a permit that is
    both (its case's agent the holder) is listed once, as the rule lists it."""
    from permits.models import Application, PermitVersion

    monkeypatch.setattr(services, "DENSE_PERMITS", dense)
    applicant = varied["applicant"]
    written = Permit.objects.filter(holder=applicant, mask_write_offs__isnull=False)
    Application.objects.filter(pk__in=PermitVersion.objects.filter(
        permit__in=written).values("application")).update(agent=applicant)
    rows = services._newest_sources(applicant, 100)
    assert rows == by_the_rule(applicant, 100)
    sources = [(row[0], row[1]) for row in rows]
    assert len(sources) == len(set(sources))
    assert sum(menu == "3" for menu, _number in sources) >= 3
