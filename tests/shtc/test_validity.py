"""SHTC-14: a permit is valid 6 months (partial shipments unless 不分批), 2 years when the
destination belongs to all four regimes on the day, or when it is not a controlled area and
the exporter's SHTC export declarations to the same importer there were released at least 5
times in the half year before (shtc.rules.validity, releases_to_importer).

The releases go through the customs feed as customs sends them (reconciliation.services):
a declaration citing the permit, then its release, which writes the ledger entry; a test
moves an entry's time to place it before or inside the half year."""

import datetime
import itertools

import pytest
from django.utils import timezone

from permits import parties, services
from permits.models import DocumentType
from reconciliation.models import LedgerEntry
from shtc import rules
from shtc.models import ControlledArea, Regime, RegimeMembership
from tests.reconciliation import helpers

ITEM = {"tariff_code": "85423100003", "description": "Field programmable gate array",
        "quantity": "10", "unit": "PCE", "unit_price": "1500", "currency": "USD",
        "origin_country": "TW"}
IMPORTER = "Lion City Semiconductors Pte. Ltd."
_numbers = itertools.count(1)


@pytest.fixture
def exporter(applicant):
    return applicant.identifier


@pytest.fixture
def shtc_permit(applicant):
    """An issued SHTC permit of the applicant for `destination`, bought by `buyer`."""

    def make(*, destination="SG", buyer=IMPORTER, buyer_country=None):
        application = services.application_create(
            document_type=DocumentType.SHTC_EXPORT, applicant=applicant, actor=applicant,
            items=[dict(ITEM)], destination_country=destination)
        parties.parties_replace(application=application, parties={"buyer": {
            "name": buyer, "address": "1 Harbourfront Walk", "country":
                buyer_country or destination}})
        # Issued by the service transition() calls on 准件結案 (the review itself is not
        # what these tests are about).
        return services.permit_issue(application=application, at=timezone.now()).permit

    return make


@pytest.fixture
def release(receive):
    """Declare and release one export of 1 PCE under `permit`; returns the ledger entry."""

    def run(permit, *, declarant=None, direction="export"):
        number = f"AA115{next(_numbers):08d}B"
        first = {"item_no": 1, "tariff_code": ITEM["tariff_code"], "description": "FPGA",
                 "quantity": "1", "unit": "PCE", "value": "1500", "currency": "USD",
                 "permit_item_no": 1}
        records = receive(
            helpers.declaration(permit, number=number, declarant=declarant,
                                direction=direction, items=[first]),
            helpers.release(number, items=[{"item_no": 1, "quantity": "1"}]))
        assert [r.status for r in records] == ["accepted", "accepted"], \
            [r.errors for r in records]
        return LedgerEntry.objects.get(reference=number, kind=LedgerEntry.Kind.RELEASE)

    return run


def at(day, *, seconds=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min)) + \
        datetime.timedelta(seconds=seconds)


def decide(exporter, *, destination="SG", on=None, partial_shipment=True, importer=IMPORTER):
    return rules.validity(destination=destination, partial_shipment=partial_shipment,
                          exporter=exporter, importer_name=importer,
                          on=on or timezone.localdate())


# --- the regimes -----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("destination", ["US", "JP", "DE", "KR"])
def test_it_gives_two_years_to_a_destination_in_all_four_regimes(exporter, destination):
    months, reason = decide(exporter, destination=destination)
    assert months == 24
    assert "SHTC-14 (1)" in reason


@pytest.mark.django_db
def test_it_gives_six_months_to_a_wassenaar_only_destination(exporter):
    RegimeMembership.objects.create(country_id="SG", regime=Regime.WASSENAAR,
                                    joined_on=datetime.date(2020, 1, 1))
    assert rules.regimes_of("SG") == [Regime.WASSENAAR]

    months, reason = decide(exporter, destination="SG")

    assert months == 6
    assert str(Regime.WASSENAAR.label) in reason


@pytest.mark.django_db
def test_it_gives_six_months_to_a_destination_in_three_regimes(exporter):
    assert len(rules.regimes_of("IN")) == 3
    assert decide(exporter, destination="IN").months == 6


@pytest.mark.django_db
def test_it_reads_the_memberships_on_the_day_of_the_decision(exporter):
    RegimeMembership.objects.filter(country="US", regime=Regime.NSG).update(
        left_on=datetime.date(2026, 3, 1))
    assert decide(exporter, destination="US", on=datetime.date(2026, 2, 28)).months == 24
    assert decide(exporter, destination="US", on=datetime.date(2026, 3, 1)).months == 6
    # Before the date the list holds from, the seed names no member.
    assert decide(exporter, destination="JP", on=datetime.date(2018, 1, 18)).months == 6


@pytest.mark.django_db
def test_it_never_changes_the_period_for_partial_shipments(exporter):
    with_parts = decide(exporter, destination="SG", partial_shipment=True)
    one_shipment = decide(exporter, destination="SG", partial_shipment=False)
    assert with_parts.months == one_shipment.months == 6
    assert "分批" in with_parts.reason and "不分批" in one_shipment.reason
    assert decide(exporter, destination="US", partial_shipment=False).months == 24


# --- five releases to the same importer in the half year --------------------------------------


@pytest.mark.django_db
def test_it_gives_six_months_after_four_releases(exporter, shtc_permit, release):
    permit = shtc_permit()
    for _ in range(4):
        release(permit)

    months, reason = decide(exporter)

    assert months == 6
    assert rules.releases_to_importer(exporter=exporter, destination="SG",
                                      importer_name=IMPORTER, on=timezone.localdate()) == 4


@pytest.mark.django_db
def test_it_gives_two_years_after_five_releases(exporter, shtc_permit, release):
    permit = shtc_permit()
    for _ in range(5):
        release(permit)

    months, reason = decide(exporter)

    assert months == 24
    assert "SHTC-14 (2)" in reason


@pytest.mark.django_db
def test_it_counts_the_releases_of_every_permit_to_the_importer(exporter, shtc_permit,
                                                                release):
    first, second = shtc_permit(), shtc_permit(buyer="  lion city semiconductors PTE. LTD. ")
    for _ in range(3):
        release(first)
    for _ in range(2):
        release(second)
    assert decide(exporter).months == 24


@pytest.mark.django_db
def test_it_counts_five_releases_from_the_first_day_of_the_half_year(exporter, shtc_permit,
                                                                     release):
    on = timezone.localdate()
    start = rules.half_year_before(on)
    permit = shtc_permit()
    entries = [release(permit) for _ in range(5)]
    LedgerEntry.objects.filter(pk=entries[0].pk).update(created_at=at(start))

    assert decide(exporter, on=on).months == 24


@pytest.mark.django_db
def test_it_leaves_out_a_release_before_the_half_year(exporter, shtc_permit, release):
    on = timezone.localdate()
    start = rules.half_year_before(on)
    permit = shtc_permit()
    entries = [release(permit) for _ in range(5)]
    LedgerEntry.objects.filter(pk=entries[0].pk).update(created_at=at(start, seconds=-1))

    months, reason = decide(exporter, on=on)

    assert months == 6
    assert rules.releases_to_importer(exporter=exporter, destination="SG",
                                      importer_name=IMPORTER, on=on) == 4


@pytest.mark.django_db
def test_it_leaves_out_releases_after_the_day_of_the_decision(exporter, shtc_permit, release):
    permit = shtc_permit()
    for _ in range(5):
        release(permit)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    assert decide(exporter, on=yesterday).months == 6


@pytest.mark.django_db
def test_it_counts_a_declaration_released_in_parts_once(exporter, shtc_permit, release,
                                                        receive):
    permit = shtc_permit()
    for _ in range(3):
        release(permit)
    # The fourth declaration's 2 PCE released in two parts: still four declarations.
    number = "AA11599999999B"
    receive(helpers.declaration(permit, number=number, items=[{
        "item_no": 1, "tariff_code": ITEM["tariff_code"], "description": "FPGA",
        "quantity": "2", "unit": "PCE", "value": "3000", "currency": "USD",
        "permit_item_no": 1}]))
    for _ in range(2):
        records = receive(helpers.release(number, items=[{"item_no": 1, "quantity": "1"}]))
        assert records[0].status == "accepted", records[0].errors

    assert LedgerEntry.objects.filter(reference=number).count() == 2
    assert decide(exporter).months == 6


@pytest.mark.django_db
def test_it_leaves_out_a_declaration_customs_cancelled(exporter, shtc_permit, release,
                                                       receive):
    permit = shtc_permit()
    entries = [release(permit) for _ in range(5)]
    receive(helpers.cancellation(entries[0].reference))
    assert decide(exporter).months == 6


@pytest.mark.django_db
def test_it_leaves_out_another_importer_and_another_country(exporter, shtc_permit, release):
    same = shtc_permit()
    other_buyer = shtc_permit(buyer="Lion City Semiconductor Holdings Ltd.")
    other_country = shtc_permit(destination="MY")
    buyer_elsewhere = shtc_permit(buyer_country="MY")
    for _ in range(4):
        release(same)
    for permit in (other_buyer, other_country, buyer_elsewhere):
        release(permit)
    assert decide(exporter).months == 6


@pytest.mark.django_db
def test_it_leaves_out_another_declarant_and_imports(exporter, shtc_permit, release):
    permit = shtc_permit()
    for _ in range(4):
        release(permit)
    release(permit, declarant="12345675")
    release(permit, direction="import")
    assert decide(exporter).months == 6
    assert decide("12345675").months == 6


@pytest.mark.django_db
@pytest.mark.parametrize("area", ["KP", "IR"])
def test_it_never_gives_a_controlled_area_the_five_release_rule(exporter, shtc_permit,
                                                                release, area):
    permit = shtc_permit(destination=area)
    for _ in range(5):
        release(permit)
    assert rules.releases_to_importer(exporter=exporter, destination=area,
                                      importer_name=IMPORTER, on=timezone.localdate()) == 5

    months, reason = decide(exporter, destination=area)

    assert months == 6
    assert "SHTC-14 (2)" in reason


@pytest.mark.django_db
def test_it_applies_the_five_release_rule_once_an_area_is_no_longer_controlled(
        exporter, shtc_permit, release):
    permit = shtc_permit(destination="IR")
    for _ in range(5):
        release(permit)
    # As the admin does it: a save, which clears the rules' kept reference rows at once.
    area = ControlledArea.objects.get(country="IR")
    area.active = False
    area.save()
    assert decide(exporter, destination="IR").months == 24


@pytest.mark.django_db
def test_it_sees_a_membership_changed_in_the_admin_at_once(exporter):
    assert decide(exporter, destination="US", on=datetime.date(2026, 3, 1)).months == 24
    membership = RegimeMembership.objects.get(country="US", regime=Regime.NSG)
    membership.left_on = datetime.date(2026, 3, 1)
    membership.save()  # the kept rows (permits.fields.reference_cached) are dropped
    assert decide(exporter, destination="US", on=datetime.date(2026, 2, 28)).months == 24
    assert decide(exporter, destination="US", on=datetime.date(2026, 3, 1)).months == 6
    membership.delete()
    assert rules.regimes_of("US", datetime.date(2026, 2, 28)) == [
        Regime.WASSENAAR, Regime.MTCR, Regime.AUSTRALIA_GROUP]


@pytest.mark.django_db
def test_it_gives_six_months_without_an_importer(exporter, shtc_permit, release):
    permit = shtc_permit()
    for _ in range(5):
        release(permit)
    assert decide(exporter, importer="").months == 6
