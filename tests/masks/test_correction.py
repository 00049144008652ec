"""更正輸入許可 (MASK-10, PERMIT-2, PERMIT-3): 帶入原始資料 → 下一步 → 項次 → 確認 → 申請 gives
version 2 of the same permit; which change kind is allowed depends on what customs recorded."""

from decimal import Decimal

import pytest
from django.utils import timezone

from masks import entry, services
from permits import entry as permit_entry
from permits.models import Application, Kind, Permit, PermitVersion, Status
from reconciliation.models import Declaration
from tests.masks.conftest import item

pytestmark = pytest.mark.django_db


@pytest.fixture
def permit(make_mask_permit, applicant):
    return make_mask_permit(applicant, items=[item(), item("non_medical", quantity="50")])


def start(client, url, permit_no, kind="correction", description="更正口罩產地"):
    return client.post(url("masks:correction_start"), {
        "kind": kind, "permit_no": permit_no, "change_description": description})


def draft():
    return Application.objects.get(status=Status.DRAFT)


def apply(client, url):
    return client.post(url("masks:correction_submit", draft().pk))


def correct_origin(client, url, permit):
    start(client, url, permit.permit_no)
    pk = draft().pk
    client.post(url("masks:correction_edit", pk), {
        "applicant_name_en": "Anxin Masks Ltd.", "contact_phone": "02-1234-5678",
        "company_email": "new@anxin.example"})
    client.post(url("masks:correction_item", pk, 1), {
        "category": "medical", "tariff_code": "63079050311", "quantity": "80",
        "unit_price": "6", "currency": "TWD", "origin_country": "CN"})
    return client.post(url("masks:correction_submit", pk))


def declare(permit, result):
    return Declaration.objects.create(
        number="AA11500000001B", direction="import", declared_on=timezone.localdate(),
        declarant_identifier=permit.holder.identifier, permit_no=permit.permit_no,
        permit=permit, result=result)


def kind_codes(response):
    return [e.code for e in response.context["form"].errors.as_data().get("kind", [])]


def test_it_loads_the_original_data_of_the_version_in_force(client, url, applicant, permit):
    client.force_login(applicant)
    response = start(client, url, permit.permit_no.lower())
    loaded = draft()
    assert response.url == url("masks:correction_edit", loaded.pk)
    assert loaded.changes == permit.current and loaded.kind == "correction"
    assert loaded.change_description == "更正口罩產地" and loaded.mask.route == "postal"
    assert [(i.line_no, i.source_line_no, i.origin_country, i.quantity)
            for i in loaded.items.all()] == [(1, 1, "US", 100), (2, 2, "US", 50)]
    form = client.get(url("masks:correction_edit", loaded.pk)).context["form"]
    assert form["company_email"].value() == permit.current.application.company_email


def test_it_issues_version_2_of_the_same_permit(client, url, applicant, permit):
    client.force_login(applicant)
    response = correct_origin(client, url, permit)
    version = PermitVersion.objects.get(permit=permit, version=2)
    assert response.url == url("masks:application_issued", version.application.pk)
    corrected = version.application
    assert corrected.kind == Kind.CORRECTION and corrected.changes == permit.versions.get(
        version=1)
    assert corrected.change_description == "更正口罩產地"
    assert (corrected.applicant_name_en, corrected.contact_phone, corrected.company_email) == (
        "Anxin Masks Ltd.", "02-1234-5678", "new@anxin.example")
    assert [(i.line_no, i.origin_country, i.quantity, i.amount) for i in
            corrected.items.all()] == [(1, "CN", Decimal(80), Decimal(480)),
                                       (2, "US", Decimal(50), Decimal(250))]
    assert corrected.mask.route == "postal"
    assert Permit.objects.get(pk=permit.pk).current == version


def test_it_leaves_version_1_as_it_was(client, url, applicant, permit):
    client.force_login(applicant)
    correct_origin(client, url, permit)
    original = permit.versions.get(version=1).application
    assert list(original.items.values_list("origin_country", flat=True)) == ["US", "US"]


def test_it_issues_one_version_for_a_double_clicked_apply(client, url, applicant, permit):
    client.force_login(applicant)
    correct_origin(client, url, permit)
    corrected = permit.versions.get(version=2).application
    again = client.post(url("masks:correction_submit", corrected.pk))
    assert again.url == url("masks:application_issued", corrected.pk)
    assert permit.versions.count() == 2


def test_it_refuses_a_correction_after_clearance_next_to_the_kind(client, url, applicant,
                                                                  permit):
    Permit.objects.filter(pk=permit.pk).update(first_cleared_at=timezone.now())
    client.force_login(applicant)
    response = start(client, url, permit.permit_no)
    assert response.status_code == 400 and kind_codes(response) == ["has_clearance"]
    assert Application.objects.count() == 1  # no draft of the change


def test_it_allows_a_post_clearance_correction_after_clearance(client, url, applicant, permit):
    Permit.objects.filter(pk=permit.pk).update(first_cleared_at=timezone.now())
    client.force_login(applicant)
    assert start(client, url, permit.permit_no, kind="cleared_correction").status_code == 302
    apply(client, url)
    assert permit.versions.get(version=2).application.kind == Kind.CLEARED_CORRECTION


def test_it_refuses_a_post_clearance_correction_before_clearance(client, url, applicant,
                                                                permit):
    client.force_login(applicant)
    assert kind_codes(start(client, url, permit.permit_no, kind="cleared_correction")) == [
        "no_clearance"]


def test_it_refuses_a_mismatch_correction_without_a_mismatch(client, url, applicant, permit):
    declare(permit, "match")
    client.force_login(applicant)
    assert kind_codes(start(client, url, permit.permit_no, kind="mismatch_correction")) == [
        "no_mismatch"]


def test_it_allows_a_mismatch_correction_after_a_mismatch(client, url, applicant, permit):
    Permit.objects.filter(pk=permit.pk).update(first_cleared_at=timezone.now())
    declare(permit, "mismatch")
    client.force_login(applicant)
    assert start(client, url, permit.permit_no, kind="mismatch_correction").status_code == 302
    apply(client, url)
    assert permit.versions.get(version=2).application.kind == Kind.MISMATCH_CORRECTION


def test_it_refuses_a_mismatch_correction_after_a_release(client, url, applicant, permit):
    Permit.objects.filter(pk=permit.pk).update(first_cleared_at=timezone.now(),
                                               first_released_at=timezone.now())
    declare(permit, "mismatch")
    client.force_login(applicant)
    assert kind_codes(start(client, url, permit.permit_no, kind="mismatch_correction")) == [
        "has_release"]


def test_it_checks_the_kind_again_on_apply(client, url, applicant, permit):
    client.force_login(applicant)
    start(client, url, permit.permit_no)
    Permit.objects.filter(pk=permit.pk).update(first_cleared_at=timezone.now())  # meanwhile
    response = apply(client, url)
    assert response.url == url("masks:correction_review", draft().pk)
    assert permit.versions.count() == 1 and draft().status == Status.DRAFT


def test_it_refuses_a_change_of_a_version_no_longer_in_force(applicant, permit):
    """Two tabs loaded version 1; the first 申請 issues version 2, the second is refused with
    a message that names version 2."""
    version = permit.current
    first, second = (permit_entry.draft_from(
        entry=entry.CORRECTION, actor=applicant, source=version.application,
        kind=Kind.CORRECTION, changes=version, change_description="x") for _ in range(2))
    permit_entry.draft_submit(entry=entry.CORRECTION, application=first, actor=applicant)
    with pytest.raises(services.ValidationError) as error:
        permit_entry.draft_submit(entry=entry.CORRECTION, application=second, actor=applicant)
    assert [e.code for e in error.value.error_list] == ["not_current"]
    assert "2" in error.value.error_list[0].message % error.value.error_list[0].params
    second.refresh_from_db()
    assert second.status == Status.DRAFT and permit.versions.count() == 2


def test_it_counts_a_write_off_as_clearance(client, url, applicant, permit):
    """The mask manual allows 更正 only before any clearance record: a write-off without a
    declaration (郵包進口…) is one."""
    services.write_off_record(actor=applicant, permit=permit, route="postal",
                              medical_quantity=Decimal(1), non_medical_quantity=None)
    client.force_login(applicant)
    assert kind_codes(start(client, url, permit.permit_no)) == ["has_clearance"]


def test_it_refuses_a_quantity_below_what_was_written_off(client, url, applicant, permit):
    services.write_off_record(actor=applicant, permit=permit, route="postal",
                              medical_quantity=Decimal(90), non_medical_quantity=None)
    client.force_login(applicant)
    start(client, url, permit.permit_no, kind="cleared_correction")
    response = client.post(url("masks:correction_item", draft().pk, 1), {
        "category": "medical", "tariff_code": "63079050311", "quantity": "80",
        "unit_price": "6", "currency": "TWD", "origin_country": "CN"})
    assert [e.code for e in response.context["form"].errors.as_data()["quantity"]] == [
        "below_used"]


def test_it_refuses_a_bad_quantity_on_an_item(client, url, applicant, permit):
    client.force_login(applicant)
    start(client, url, permit.permit_no)
    response = client.post(url("masks:correction_item", draft().pk, 2), {
        "category": "non_medical", "tariff_code": "63079050106", "quantity": "1,000",
        "unit_price": "6", "currency": "TWD", "origin_country": "CN"})
    assert [e.code for e in response.context["form"].errors.as_data()["quantity"]] == [
        "thousands_separator"]


def test_it_gives_404_for_an_item_number_the_permit_lacks(client, url, applicant, permit):
    client.force_login(applicant)
    start(client, url, permit.permit_no)
    assert client.get(url("masks:correction_item", draft().pk, 3)).status_code == 404
    # A change adds no item and deletes none (MASK-10).
    assert client.get(f"/masks/corrections/{draft().pk}/items/new/").status_code == 404


def test_it_gives_the_same_answer_for_an_unknown_and_another_users_permit(
        client, url, other_applicant, permit):
    client.force_login(other_applicant)
    unknown = start(client, url, "PMK11500099999")
    foreign = start(client, url, permit.permit_no)
    codes = [[e.code for e in r.context["form"].errors.as_data()["permit_no"]]
             for r in (unknown, foreign)]
    assert codes == [["not_found"], ["not_found"]]


def test_it_hides_another_users_permit_on_apply(client, url, applicant, other_applicant,
                                                permit):
    client.force_login(applicant)
    start(client, url, permit.permit_no)
    pk = draft().pk
    client.force_login(other_applicant)
    assert client.post(url("masks:correction_submit", pk)).status_code == 404
    assert client.get(url("masks:correction_item", pk, 1)).status_code == 404
    assert client.get(url("masks:correction_edit", pk)).status_code == 404
    assert permit.versions.count() == 1


def test_it_lets_the_agent_who_filed_correct(client, url, agent, applicant, make_mask_permit):
    permit = make_mask_permit(applicant, actor=agent)
    client.force_login(agent)
    correct_origin(client, url, permit)
    corrected = permit.versions.get(version=2).application
    assert corrected.applicant == applicant and corrected.agent == agent
