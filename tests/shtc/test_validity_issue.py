"""SHTC-14 wired into issuing: the move to 准件結案 (permits.workflow.transition →
permits.services.permit_issue → ShtcProcedure.validity) gives the permit 2 years or 6
months by shtc.rules.validity on the day of issue, records the rule that applied on the
case, and prints 分批/不分批 on the permit version. The rules themselves are
tests/shtc/test_validity.py's."""

import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from permits.models import Status
from reconciliation.models import LedgerEntry
from shtc import rules
from shtc.models import Regime, RegimeMembership
from tests.shtc.review_cases import IMPORTER

pytestmark = pytest.mark.django_db


def until(months, on=None):
    on = on or timezone.localdate()
    return on + relativedelta(months=months) - datetime.timedelta(days=1)


def issued(case):
    case.refresh_from_db()
    version = case.issued_version
    assert version.valid_from == timezone.localdate()
    return version


@pytest.mark.parametrize("destination", ["US", "JP", "DE", "GB"])
def test_it_issues_two_years_to_a_destination_in_all_four_regimes(shtc_case, destination):
    assert rules.in_all_regimes(destination)

    case = shtc_case(destination=destination, status=Status.APPROVED)

    version = issued(case)
    assert version.valid_until == until(24)
    assert case.shtc.validity_months == 24
    assert "SHTC-14 (1)" in case.shtc.validity_rule


def test_it_issues_six_months_to_a_wassenaar_only_destination(shtc_case):
    RegimeMembership.objects.create(country_id="SG", regime=Regime.WASSENAAR,
                                    joined_on=datetime.date(2020, 1, 1))
    assert rules.regimes_of("SG") == [Regime.WASSENAAR]

    case = shtc_case(destination="SG", status=Status.APPROVED)

    assert issued(case).valid_until == until(6)
    assert case.shtc.validity_months == 6
    assert str(Regime.WASSENAAR.label) in case.shtc.validity_rule


def test_it_issues_six_months_to_a_controlled_area(shtc_case):
    # Iran: no two years by the five-export rule, whatever was exported before (SHTC-14 (2)).
    case = shtc_case(destination="IR", status=Status.APPROVED)
    assert issued(case).valid_until == until(6)
    assert case.shtc.validity_months == 6


def earlier_exports(shtc_case, shtc_release, count, *, one_before_the_half_year=False):
    """`count` released exports to IMPORTER in Singapore under an earlier permit."""
    earlier = shtc_case(destination="SG", status=Status.APPROVED).issued_version.permit
    entries = [shtc_release(earlier) for _ in range(count)]
    if one_before_the_half_year:
        start = rules.half_year_before(timezone.localdate())
        moment = timezone.make_aware(datetime.datetime.combine(start, datetime.time.min))
        LedgerEntry.objects.filter(pk=entries[0].pk).update(
            created_at=moment - datetime.timedelta(seconds=1))
    return entries


def test_it_issues_six_months_after_four_releases_to_the_importer(shtc_case, shtc_release):
    earlier_exports(shtc_case, shtc_release, 4)

    case = shtc_case(destination="SG", status=Status.APPROVED)

    assert issued(case).valid_until == until(6)
    assert "SHTC-14 (2)" not in case.shtc.validity_rule


def test_it_issues_two_years_after_five_releases_to_the_importer(shtc_case, shtc_release):
    earlier_exports(shtc_case, shtc_release, 5)

    case = shtc_case(destination="SG", status=Status.APPROVED)

    assert issued(case).valid_until == until(24)
    assert case.shtc.validity_months == 24
    assert "SHTC-14 (2)" in case.shtc.validity_rule


def test_it_issues_six_months_when_one_of_five_releases_is_before_the_half_year(shtc_case,
                                                                               shtc_release):
    earlier_exports(shtc_case, shtc_release, 5, one_before_the_half_year=True)

    case = shtc_case(destination="SG", status=Status.APPROVED)

    assert issued(case).valid_until == until(6)


def test_it_counts_the_releases_to_the_buyer_of_the_case(shtc_case, shtc_release):
    # The importer of SHTC-14 (2) is the buyer: five releases to it, none to another buyer.
    earlier_exports(shtc_case, shtc_release, 5)

    other = shtc_case(destination="SG", buyer="Merlion Instruments Pte. Ltd.",
                      status=Status.APPROVED)
    same = shtc_case(destination="SG", buyer=f"  {IMPORTER.upper()} ", status=Status.APPROVED)

    assert issued(other).valid_until == until(6)
    assert issued(same).valid_until == until(24)


@pytest.mark.parametrize("partial_shipment", [True, False])
def test_it_prints_one_shipment_on_the_permit_version(shtc_case, partial_shipment):
    case = shtc_case(destination="SG", partial_shipment=partial_shipment,
                     status=Status.APPROVED)
    version = issued(case)
    assert version.partial_shipment is partial_shipment
    assert version.valid_until == until(6)  # 分批 or not, the period is the same
    assert ("不分批" in case.shtc.validity_rule) is not partial_shipment


def test_it_decides_nothing_before_approval(shtc_case):
    case = shtc_case(destination="US", status=Status.INITIAL_REVIEW)
    case.shtc.refresh_from_db()
    assert case.shtc.validity_months is None and case.shtc.validity_rule == ""


def test_it_records_the_rule_in_the_portals_language(shtc_case, settings):
    from django.utils import translation

    with translation.override("en"):
        case = shtc_case(destination="US", status=Status.APPROVED)
    assert settings.LANGUAGE_CODE == "zh-hant"
    assert "美國" in case.shtc.validity_rule


def test_it_offers_no_extension(client, shtc_case, applicant):
    """SHTC-14: an expired permit is never extended; 展延 is refused, and the permit's
    validity stays as issued."""
    from django.urls import reverse

    case = shtc_case(destination="SG", status=Status.APPROVED)
    version = issued(case)
    client.force_login(applicant)
    response = client.post(reverse("permits:cancellation"), {
        "action": "extend", "permit_no": version.permit.permit_no, "apply": "1"})
    assert [error.code for error in response.context["form"].errors.as_data()["action"]] == [
        "no_extension"]
    version.refresh_from_db()
    assert version.valid_until == until(6)
    assert version.permit.versions.count() == 1 and version.permit.revoked_at is None
