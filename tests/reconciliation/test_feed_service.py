"""The feed (RECON-1): validation with every reason, idempotency, amendments, releases and
cancellations with their ledger effects."""

from decimal import Decimal

import pytest

from reconciliation import ledger
from reconciliation.models import Declaration, InboundMessage, LedgerEntry
from tests.approvals import second_reviewer
from tests.reconciliation import helpers

pytestmark = pytest.mark.django_db


def test_it_files_a_declaration_and_matches_it(receive, permit):
    [record] = receive(helpers.declaration(permit))
    assert record.status == InboundMessage.Status.ACCEPTED
    declaration = Declaration.objects.get()
    assert declaration.permit == permit and declaration.result == "match"
    assert declaration.results.get().seq == 1


def test_it_processes_a_message_once(receive, permit):
    message = helpers.declaration(permit, message_id="C-1")
    receive(message)
    receive(message)
    assert InboundMessage.objects.count() == 1
    assert Declaration.objects.get().results.count() == 1


def test_it_ignores_the_same_declaration_sent_again_under_a_new_id(receive, permit):
    receive(helpers.declaration(permit))
    [again] = receive(helpers.declaration(permit))
    assert again.status == InboundMessage.Status.DUPLICATE
    assert Declaration.objects.get().results.count() == 1


def test_it_rejects_a_bad_message_with_every_reason_and_takes_the_rest(receive, permit):
    bad = helpers.declaration(permit, number="short", direction="sideways")
    bad["declaration"]["items"][0].update(quantity="1,000", tariff_code="6307.90")
    good = helpers.declaration(permit, number="AA11500000002B")
    rejected, accepted = receive(bad, good)
    assert rejected.status == InboundMessage.Status.REJECTED
    assert len(rejected.errors) == 4
    assert accepted.status == InboundMessage.Status.ACCEPTED
    assert list(Declaration.objects.values_list("number", flat=True)) == ["AA11500000002B"]


def test_it_keeps_a_message_without_an_id(receive):
    [record] = receive({"type": "nonsense"})
    assert record.status == InboundMessage.Status.REJECTED and record.pk is not None


def test_it_lets_an_amendment_supersede_the_earlier_revision(receive, permit):
    receive(helpers.declaration(permit, items=[{
        "item_no": 1, "tariff_code": "00000000000", "quantity": "4", "unit": "PCE",
        "value": "1", "currency": "USD", "permit_item_no": 1}]))
    assert Declaration.objects.get().result == "mismatch"
    receive(helpers.declaration(permit, revision=1))
    declaration = Declaration.objects.get()
    assert (declaration.revision, declaration.result) == (1, "match")
    assert declaration.items.get().tariff_code == "85423100003"
    assert list(declaration.results.values_list("revision", "result")) == [
        (1, "match"), (0, "mismatch")]


def test_it_writes_a_release_off_the_permit(receive, permit):
    receive(helpers.declaration(permit), helpers.release(items=[{"item_no": 1,
                                                                  "quantity": "3"}]))
    assert ledger.balances(permit) == {1: Decimal("7")}
    permit.refresh_from_db()
    assert permit.has_clearance() and permit.has_release()


def test_it_records_clearance_before_any_release(receive, permit):
    receive(helpers.declaration(permit))
    permit.refresh_from_db()
    assert permit.has_clearance() and not permit.has_release()


def test_it_refuses_a_release_beyond_the_declared_quantity(receive, permit):
    receive(helpers.declaration(permit))
    [record] = receive(helpers.release(items=[{"item_no": 1, "quantity": "5"}]))
    assert record.status == InboundMessage.Status.REJECTED
    assert not LedgerEntry.objects.exists()


def test_it_reverses_the_releases_of_a_cancelled_declaration(receive, permit):
    receive(helpers.declaration(permit), helpers.release())
    assert ledger.balances(permit) == {1: Decimal("6")}
    receive(helpers.cancellation())
    assert ledger.balances(permit) == {1: Decimal("10")}
    assert LedgerEntry.objects.filter(kind="reversal").count() == 1
    permit.refresh_from_db()
    assert not permit.has_clearance() and not permit.has_release()


def test_it_cancels_once(receive, permit):
    receive(helpers.declaration(permit), helpers.release(), helpers.cancellation(),
            helpers.cancellation())
    assert LedgerEntry.objects.filter(kind="reversal").count() == 1


def test_it_uses_up_a_permit_without_partial_shipments_at_the_first_release(receive, permit):
    version = permit.current
    version.partial_shipment = False
    version.save()
    receive(helpers.declaration(permit), helpers.release(items=[{"item_no": 1,
                                                                  "quantity": "1"}]))
    assert ledger.balances(permit) == {1: Decimal(0)}
    [record] = receive(helpers.declaration(permit, number="AA11500000002B"))
    assert Declaration.objects.get(number="AA11500000002B").result == "mismatch"
    assert record.status == InboundMessage.Status.ACCEPTED


def test_it_seeds_one_matching_and_one_mismatching_demo_declaration(
        make_case, applicant, agent, reviewer, django_capture_on_commit_callbacks):
    from reconciliation import demo
    from shtc import demo as shtc_demo

    with django_capture_on_commit_callbacks(execute=True):
        shtc_demo.seed(applicant=applicant, agent=agent, reviewer=reviewer,
                       senior=second_reviewer())
        assert demo.seed(applicant=applicant) == 2
        assert demo.seed(applicant=applicant) == 0  # once
    match = Declaration.objects.get(number="AW115000000001")
    mismatch = Declaration.objects.get(number="AW115000000002")
    assert match.result == "match"
    assert sorted(r["code"] for r in mismatch.results.get().reasons) == [
        "currency_mismatch", "tariff_mismatch"]


@pytest.mark.parametrize("message_id", ["   ", "x" * 65])
def test_it_keeps_a_message_whose_id_is_unusable_under_an_id_of_its_own(receive, permit,
                                                                          message_id):
    first, second = receive(helpers.declaration(permit, message_id=message_id),
                            helpers.declaration(permit, message_id=message_id,
                                                number="AA11500000002B"))
    assert first.status == second.status == InboundMessage.Status.REJECTED
    assert first.message_id != second.message_id
    assert any(error.startswith("message_id") for error in first.errors)


def test_it_resets_the_result_of_an_amendment_until_it_is_matched(permit):
    from reconciliation import services

    services.receive([helpers.declaration(permit)], source="test")  # not matched: no commit
    Declaration.objects.update(result="match")
    services.receive([helpers.declaration(permit, revision=1)], source="test")
    assert Declaration.objects.get().result == "pending"


def test_it_keeps_a_message_holding_nul_as_received_with_a_replacement(receive, permit):
    message = helpers.declaration(permit, message_id="C-1")
    message["declaration"]["items"][0]["description"] = "FP\u0000GA"
    message["x\u0000"] = ["\ud800"]
    [record] = receive(message)
    record.refresh_from_db()
    assert record.status == InboundMessage.Status.REJECTED
    assert record.payload["x\ufffd"] == ["\ufffd"]
    assert record.payload["declaration"]["items"][0]["description"] == "FP\ufffdGA"
    assert not Declaration.objects.exists()


def test_it_rejects_a_message_alone_inside_the_callers_transaction(receive, permit):
    """The admin and the tests call receive() inside a transaction: each message is then a
    savepoint, and a rejected one leaves the others and the transaction usable."""
    bad = helpers.declaration(permit, number="AA11500000002B", revision=2**63)
    first, rejected, last = receive(helpers.declaration(permit), bad,
                                    helpers.release(items=[{"item_no": 1, "quantity": "1"}]))
    assert (first.status, rejected.status, last.status) == ("accepted", "rejected",
                                                            "accepted")
    assert ledger.balances(permit) == {1: Decimal("9")}


def test_it_counts_a_file_line_whose_message_id_holds_nul_as_rejected(permit):
    from reconciliation import api

    outcome = api.receive_batch([(1, helpers.declaration(permit, message_id="M\u0000")),
                                 (2, helpers.declaration(permit, number="AA11500000002B"))],
                                source="file")
    assert (outcome.accepted, outcome.rejected) == (1, 1)
    [(position, _message_id, errors)] = outcome.problems
    assert position == 1 and any(error.startswith("message_id") for error in errors)
