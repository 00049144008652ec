"""The write-off ledger (RECON-4): derived balances that never go below zero."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from reconciliation import ledger, services
from reconciliation.models import InboundMessage, LedgerEntry
from tests import services as test_services
from tests.reconciliation import helpers


@pytest.mark.django_db
def test_it_writes_off_all_lines_or_none(permit):
    with pytest.raises(ValidationError) as error:
        ledger.write_off(permit=permit, lines={1: Decimal("3"), 2: Decimal("1")},
                         kind=LedgerEntry.Kind.WRITE_OFF)
    assert [e.code for e in error.value.error_list] == ["no_such_item"]
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_it_refuses_to_overdraw_a_line(permit):
    ledger.write_off(permit=permit, lines={1: Decimal("7")}, kind=LedgerEntry.Kind.WRITE_OFF)
    with pytest.raises(ValidationError) as error:
        ledger.write_off(permit=permit, lines={1: Decimal("3.0001")},
                         kind=LedgerEntry.Kind.WRITE_OFF)
    assert [e.code for e in error.value.error_list] == ["over_balance"]
    assert ledger.balances(permit) == {1: Decimal("3")}


@pytest.mark.django_db
def test_it_gives_back_what_a_reversal_cancels(permit):
    [entry] = ledger.write_off(permit=permit, lines={1: Decimal("4")},
                               kind=LedgerEntry.Kind.WRITE_OFF)
    ledger.reverse(entries=[entry])
    ledger.reverse(entries=[entry])  # once only
    assert ledger.balances(permit) == {1: Decimal("10")}
    assert LedgerEntry.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_lets_only_one_of_two_concurrent_releases_overdraw_nothing(permit):
    """Two declarations of 6 each against the 10 on item 1, released at the same moment:
    one goes through, the other is refused; the balance is 4, never -2."""
    test_services.require_postgres()
    for number in ("AA11500000001B", "AA11500000002B"):
        services.receive([helpers.declaration(permit, number=number, items=[{
            "item_no": 1, "tariff_code": "85423100003", "quantity": "6", "unit": "PCE",
            "value": "9000", "currency": "USD", "permit_item_no": 1}])], source="test")

    def release(number):
        [record] = services.receive([helpers.release(number, [{"item_no": 1,
                                                                "quantity": "6"}])],
                                    source="test")
        return record.status

    statuses = test_services.run_concurrently(lambda: release("AA11500000001B"),
                                              lambda: release("AA11500000002B"))
    assert sorted(statuses) == [InboundMessage.Status.ACCEPTED,
                                InboundMessage.Status.REJECTED]
    assert ledger.balances(permit) == {1: Decimal("4")}
