"""The mask tariff codes (MASK-2, REFERENCE.md): seeded, kept by reviewers in the admin."""

import pytest
from django.contrib.auth.models import Group

from masks.models import MaskCode
from portal.accounts.models import REVIEWERS_GROUP
from portal.accounts.reviewers import REVIEWER_PERMISSIONS, sync_reviewers_group


@pytest.mark.django_db
def test_it_seeds_the_mask_codes_of_reference_md_with_their_categories():
    assert dict(MaskCode.objects.values_list("tariff_code", "category")) == {
        "63079050311": "medical", "63079050106": "non_medical", "63079050204": "non_medical"}
    assert all(MaskCode.objects.values_list("active", flat=True))


def test_it_gives_reviewers_the_mask_permissions():
    assert {"masks.view_maskcode", "masks.change_maskcode",
            "masks.view_maskapplication"} <= REVIEWER_PERMISSIONS


@pytest.mark.django_db
def test_it_lets_a_reviewer_retire_a_code_in_the_admin(client, reviewer):
    sync_reviewers_group()
    assert reviewer.groups.filter(name=REVIEWERS_GROUP).exists()
    assert Group.objects.get(name=REVIEWERS_GROUP).permissions.filter(
        codename="change_maskcode").exists()
    code = MaskCode.objects.get(tariff_code="63079050204")
    client.force_login(reviewer)
    response = client.post(f"/admin/masks/maskcode/{code.pk}/change/", {
        "tariff_code": code.tariff_code, "category": code.category,
        "description": code.description})  # "active" unticked
    assert response.status_code == 302
    code.refresh_from_db()
    assert not code.active


@pytest.mark.django_db
def test_it_shows_mask_applications_to_a_reviewer_read_only(client, reviewer, applicant,
                                                            make_mask_permit):
    sync_reviewers_group()
    permit = make_mask_permit(applicant)
    client.force_login(reviewer)
    assert client.get("/admin/masks/maskapplication/").status_code == 200
    mask = permit.current.application.mask
    response = client.post(f"/admin/masks/maskapplication/{mask.pk}/change/",
                           {"route": "other"})
    assert response.status_code == 403
    mask.refresh_from_db()
    assert mask.route == "postal"


@pytest.mark.django_db
def test_it_refuses_the_admin_to_an_applicant(client, applicant):
    client.force_login(applicant)
    assert client.get("/admin/masks/maskcode/").status_code == 302  # to the admin login



def test_it_registers_the_mask_procedure_issued_at_once():
    from django.utils import translation

    from permits import procedures

    procedure = procedures.get("MK")
    assert procedure.auto_issue
    with translation.override("en"):
        assert str(procedure.item_category_label("non_medical")) == "Non-medical"
    assert procedure.item_category_label("legacy") == "legacy"
