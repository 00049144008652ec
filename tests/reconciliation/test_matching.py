"""單證比對 (RECON-2): each reason alone and together, the version in force on the date,
re-matching after an approved mismatch correction (RECON-5), constant queries per batch."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from permits import workflow
from permits.models import DocumentType, Kind, Permit, PermitVersion, Status
from reconciliation import matching
from reconciliation.models import Declaration
from tests.approvals import approve
from tests.reconciliation import helpers

pytestmark = pytest.mark.django_db


def item(**changes):
    line = {"item_no": 1, "tariff_code": "85423100003", "quantity": "4", "unit": "PCE",
            "value": "6000", "currency": "USD", "permit_item_no": 1}
    line.update(changes)
    return line


def reasons_of(receive, message):
    receive(message)
    declaration = Declaration.objects.get(
        number=message["declaration"]["number"])
    return sorted(r["code"] for r in declaration.results.first().reasons)


@pytest.mark.parametrize(("changes", "code"), [
    ({"permit_no": "PSE11599999999"}, "permit_not_found"),
    ({"declarant": "12345675"}, "declarant_mismatch"),
    ({"direction": "import"}, "wrong_direction"),
    ({"items": [item(permit_item_no=9)]}, "item_not_on_permit"),
    ({"items": [item(tariff_code="63079050311")]}, "tariff_mismatch"),
    ({"items": [item(currency="EUR")]}, "currency_mismatch"),
    ({"items": [item(unit="KGM")]}, "unit_mismatch"),
    ({"items": [item(quantity="11")]}, "quantity_over_balance"),
])
def test_it_names_each_reason_alone(receive, permit, changes, code):
    assert reasons_of(receive, helpers.declaration(permit, **changes)) == [code]


def test_it_names_every_reason_together(receive, permit):
    message = helpers.declaration(permit, declarant="12345675", items=[
        item(tariff_code="63079050311", currency="EUR"), item(item_no=2, permit_item_no=7)])
    assert reasons_of(receive, message) == [
        "currency_mismatch", "declarant_mismatch", "item_not_on_permit", "tariff_mismatch"]


def test_it_writes_each_reason_as_a_chinese_sentence(receive, permit):
    receive(helpers.declaration(permit, items=[item(currency="EUR")]))
    [reason] = Declaration.objects.get().results.get().reasons
    assert reason["item_no"] == 1 and "幣別" in reason["message"]


def test_it_takes_the_direction_from_the_permits_procedure(receive, make_case, applicant,
                                                           reviewer):
    """A mask permit is cited by import declarations only (masks.procedures)."""
    mask = make_case(applicant, document_type=DocumentType.MASK_IMPORT, status="approved",
                     reviewer=reviewer).issued_version.permit
    assert reasons_of(receive, helpers.declaration(mask, number="AA11500000001B")) == [
        "wrong_direction"]
    assert reasons_of(receive, helpers.declaration(mask, number="AA11500000002B",
                                                   direction="import")) == []


def test_it_refuses_a_declaration_dated_outside_the_validity(receive, permit):
    late = permit.current.valid_until + datetime.timedelta(days=1)
    assert reasons_of(receive, helpers.declaration(permit, date=late)) == ["permit_not_valid"]


def test_it_refuses_a_cancelled_permit(receive, permit):
    Permit.objects.filter(pk=permit.pk).update(revoked_at=timezone.now())
    assert reasons_of(receive, helpers.declaration(permit)) == ["permit_revoked"]


def test_it_matches_against_the_version_in_force_on_the_date(receive, permit, make_case,
                                                             applicant, reviewer):
    # Version 2 (issued tomorrow) allows 20; a declaration dated today sees version 1's 10.
    change = make_case(applicant, kind=Kind.CORRECTION, changes=permit.current,
                       items=[dict(helpers_item_20())])
    change = workflow.transition(application=change, to=Status.INITIAL_REVIEW, actor=applicant)
    change = approve(change, reviewer)
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    PermitVersion.objects.filter(pk=change.issued_version.pk).update(issued_at=tomorrow)
    today = helpers.declaration(permit, items=[item(quantity="15")])
    assert reasons_of(receive, today) == ["quantity_over_balance"]
    later = helpers.declaration(permit, number="AA11500000009B", items=[item(quantity="15")],
                                date=timezone.localdate() + datetime.timedelta(days=1))
    assert reasons_of(receive, later) == []


def helpers_item_20():
    return {"tariff_code": "85423100003", "description": "Field programmable gate array",
            "quantity": "20", "unit": "PCE", "unit_price": "1500", "currency": "USD",
            "origin_country": "TW"}


def test_it_counts_its_own_releases_when_matching_again(receive, permit):
    receive(helpers.declaration(permit, items=[item(quantity="10")]),
            helpers.release(items=[{"item_no": 1, "quantity": "10"}]))
    declaration = Declaration.objects.get()
    [result] = matching.match_declarations([declaration.pk])
    assert result.result == "match"


def test_it_matches_again_when_a_mismatch_correction_is_approved(
        receive, permit, make_case, applicant, reviewer, django_capture_on_commit_callbacks):
    receive(helpers.declaration(permit, items=[item(quantity="15")]))
    assert Declaration.objects.get().result == "mismatch"
    fixed = dict(helpers_item_20())
    with django_capture_on_commit_callbacks(execute=True):
        change = make_case(applicant, kind=Kind.MISMATCH_CORRECTION, changes=permit.current,
                           items=[fixed], change_description="數量更正")
        change = workflow.transition(application=change, to=Status.INITIAL_REVIEW,
                                     actor=applicant)
        approve(change, reviewer)
    declaration = Declaration.objects.get()
    assert declaration.result == "match"
    assert list(declaration.results.values_list("result", flat=True)) == ["match", "mismatch"]


def test_it_matches_a_batch_in_a_constant_number_of_queries(receive, permit, make_case,
                                                            applicant, reviewer):
    other = make_case(applicant, status="approved", reviewer=reviewer).issued_version.permit
    receive(helpers.declaration(permit, number="AA11500000001B"))
    few = list(Declaration.objects.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as one:
        matching.match_declarations(few)
    for n in range(2, 12):
        receive(helpers.declaration(permit if n % 2 else other, number=f"AA115000000{n:02d}B"))
    many = list(Declaration.objects.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as eleven:
        matching.match_declarations(many)
    assert len(eleven) == len(one)


def test_it_links_permits_issued_after_their_declarations_in_the_same_queries(
        receive, permit, make_case, applicant, reviewer):
    other = make_case(applicant, status="approved", reviewer=reviewer).issued_version.permit
    receive(helpers.declaration(permit, number="AA11500000001B"))
    first = list(Declaration.objects.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as none_late:
        matching.match_declarations(first)
    for n in range(2, 8):
        receive(helpers.declaration(permit if n % 2 else other, number=f"AA115000000{n:02d}B"))
    # As if they had come in before their permits were issued (the permit found by number).
    Declaration.objects.exclude(pk__in=first).update(permit=None)
    every = list(Declaration.objects.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as six_late:
        matching.match_declarations(every)
    assert len(six_late) == len(none_late)
    assert dict(Declaration.objects.values_list("number", "permit")) == {
        f"AA115000000{n:02d}B": (permit if n % 2 else other).pk for n in range(1, 8)}
    assert set(Declaration.objects.values_list("result", flat=True)) == {"match"}
