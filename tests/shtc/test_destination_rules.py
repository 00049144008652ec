"""What a destination and the goods' origin call for before work is done (issue 11,
point 6; SHTC-2 items 6 and 7): shtc.rules.destination_warnings, reexport_needs_approval."""

import pytest

from shtc import rules
from shtc.models import ControlledArea, ReexportApprovalCountry

TEN = ["US", "DE", "GR", "HU", "CZ", "ES", "TR", "RU", "BE", "FR"]


def codes(warnings):
    return [code for code, _message in warnings]


@pytest.mark.django_db
def test_it_warns_of_the_north_korea_ban_and_the_other_procedure():
    warnings = dict(rules.destination_warnings("KP"))
    assert list(warnings) == ["trade_ban", "own_procedure"]
    assert "106/09/26" in warnings["trade_ban"]  # 2017-09-26 in the ROC calendar
    assert "9-2-1" in warnings["own_procedure"]


@pytest.mark.django_db
def test_it_sends_iran_to_its_own_procedure_without_a_ban():
    assert codes(rules.destination_warnings("IR")) == ["own_procedure"]
    assert rules.has_own_procedure("IR") and rules.has_own_procedure("KP")
    assert not rules.has_own_procedure("CN")


@pytest.mark.django_db
@pytest.mark.parametrize("country", ["CN", "AE", "cn"])
def test_it_asks_china_and_the_uae_for_a_business_licence(country):
    assert codes(rules.destination_warnings(country)) == ["business_licence"]


@pytest.mark.django_db
@pytest.mark.parametrize("country", ["US", "SG", "JP", "HK", ""])
def test_it_has_nothing_to_say_of_other_destinations(country):
    assert rules.destination_warnings(country) == []


@pytest.mark.django_db
def test_it_follows_the_controlled_areas_the_bureau_keeps():
    ControlledArea.objects.filter(country="KP").update(active=False)
    ControlledArea.objects.create(country_id="SY", own_procedure=False)
    assert rules.destination_warnings("KP") == []
    assert rules.is_controlled("SY") and rules.destination_warnings("SY") == []


@pytest.mark.django_db
def test_it_does_not_warn_of_a_ban_not_yet_in_force():
    ControlledArea.objects.filter(country="KP").update(
        trade_banned_since="2999-01-01")
    assert codes(rules.destination_warnings("KP")) == ["own_procedure"]


@pytest.mark.django_db
@pytest.mark.parametrize("origin", TEN)
def test_it_asks_for_the_reexport_approval_of_each_of_the_ten(origin):
    assert rules.reexport_needs_approval(origin, "SG")
    code, message = rules.reexport_warning(origin, "SG")
    assert code == "reexport_approval"


@pytest.mark.django_db
@pytest.mark.parametrize("origin", TEN)
def test_it_needs_no_approval_when_the_goods_go_back(origin):
    assert not rules.reexport_needs_approval(origin, origin)
    assert not rules.reexport_needs_approval(origin.lower(), origin)
    assert rules.reexport_warning(origin, origin) is None


@pytest.mark.django_db
@pytest.mark.parametrize("origin", ["JP", "GB", "TW", "", None])
def test_it_needs_no_approval_from_other_origins(origin):
    assert not rules.reexport_needs_approval(origin, "SG")


@pytest.mark.django_db
def test_it_follows_the_countries_the_bureau_keeps():
    ReexportApprovalCountry.objects.filter(country="RU").update(active=False)
    assert not rules.reexport_needs_approval("RU", "SG")
    assert sorted(rules.countries_needing_reexport_approval()) == sorted(set(TEN) - {"RU"})
