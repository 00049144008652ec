"""The menu entries with the manual's names, and the shared query and print (MASK-11,
PERMIT-7) for a mask permit, both versions after a correction."""

import pytest
from django.urls import reverse
from django.utils import translation

from masks import apps
from portal import menu

pytestmark = pytest.mark.django_db

# A URLconf that routes nothing, for the menu's guard below.
urlpatterns = []


@pytest.fixture
def corrected(make_mask_permit, make_correction, applicant):
    permit = make_mask_permit(applicant)
    make_correction(applicant, permit, origin_country="CN")
    return permit


def test_it_names_the_menu_entries_as_the_manual_does():
    with translation.override("zh-hant"):
        assert str(apps.SECTION) == "口罩輸入許可"
        assert [str(label) for _order, label, _name in apps.MENU] == [
            "輸入許可申請", "非報單輸入口罩核銷", "更正輸入許可", "口罩流向登錄作業",
            "口罩流向退貨作業"]


def test_it_lists_the_entries_on_the_home_page(client, applicant, monkeypatch):
    monkeypatch.setattr(menu, "_entries", [])
    apps.register_menu()
    client.force_login(applicant)
    sections = dict(client.get(reverse("home")).context["sections"])
    section = next(entries for name, entries in sections.items() if name == apps.SECTION)
    assert [entry.url for entry in section] == [
        reverse("masks:application_basic"), reverse("masks:write_off_list"),
        reverse("masks:correction_start"), reverse("masks:flow_start"),
        reverse("masks:return_start")]


def test_it_finds_both_versions_of_a_corrected_permit_in_the_query(client, applicant,
                                                                   corrected):
    client.force_login(applicant)
    page = client.get(reverse("permits:query"), {"document_type": "MK",
                                                 "number": corrected.permit_no}).context["page"]
    assert [case.permit_version.version for case in page.object_list] == [2, 1]


def test_it_prints_each_version_as_a_pdf(client, applicant, corrected):
    client.force_login(applicant)
    for version in corrected.versions.all():
        response = client.get(reverse("permits:permit_print", args=[version.pk]))
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")


def test_it_prints_nothing_for_another_applicant(client, other_applicant, corrected):
    client.force_login(other_applicant)
    response = client.get(reverse("permits:permit_print", args=[corrected.current.pk]))
    assert response.status_code == 404
