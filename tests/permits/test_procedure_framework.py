"""A procedure built only from the framework's public pieces (tests/testproc): two entry steps
with a buyer and an end user, a document required only for mainland China, a permit PDF of
its own, and 餘額重簽 after 註銷. If a procedure needed code copied from masks/, this one
could not exist."""

import subprocess
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from permits import changes, pdf
from permits.models import Application, Party, PartyRole, Permit, Status
from tests import services as test_services
from tests.approvals import approve
from tests.testproc.apps import DOCUMENT_TYPE

pytestmark = pytest.mark.django_db

BASIC = {"applicant_name": "台灣精密科技股份有限公司", "applicant_address": "新竹市東區力行路1號",
         "company_email": "export@tpt.example", "contact_person": "陳美玲",
         "contact_phone": "03-578-0000", "destination_country": "DE",
         "buyer-name": "Berlin Optics GmbH", "buyer-address": "Unter den Linden 1, Berlin",
         "buyer-country": "DE", "end_user-same_as_buyer": "on"}
ITEM = {"tariff_code": "85423100003", "description": "FPGA", "control_no": "3A001.a",
        "quantity": "20", "unit": "PCE", "unit_price": "4200", "currency": "USD",
        "origin_country": "US"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def url(name, *args):
    return reverse(f"testproc:{name}", args=args)


def enter(client, **basic):
    """Both steps: 下一步 on the basic data and the parties, 確認 on one item."""
    response = client.post(url("application_basic"), {**BASIC, **basic})
    assert response.status_code == 302, response.context and response.context["form"].errors
    draft = Application.objects.filter(status=Status.DRAFT).latest("pk")
    client.post(url("application_item_add", draft.pk), ITEM)
    return draft


def test_it_saves_the_basic_data_and_the_parties_as_a_draft(client, other_applicant):
    client.force_login(other_applicant)
    draft = enter(client)
    assert draft.document_type == DOCUMENT_TYPE and draft.destination_country == "DE"
    parties = {party.role: party for party in draft.parties.all()}
    assert parties["buyer"].name == "Berlin Optics GmbH"
    # 同買方資料: the end user is a copy of the buyer.
    assert parties["end_user"].same_as_buyer and parties["end_user"].name == "Berlin Optics GmbH"
    assert draft.items.get().control_no == "3A001.a"


def test_it_shows_the_parties_back_on_the_review_page(client, other_applicant):
    client.force_login(other_applicant)
    draft = enter(client)
    page = client.get(url("application_review", draft.pk))
    assert [role for role, _rows in page.context["party_rows"]] == [
        PartyRole.BUYER.label, PartyRole.END_USER.label]
    assert "Berlin Optics GmbH" in page.content.decode()


def test_it_keeps_the_typing_and_saves_nothing_on_a_bad_party(client, other_applicant):
    client.force_login(other_applicant)
    response = client.post(url("application_basic"), {**BASIC, "buyer-name": "柏林光學",
                                                      "contact_person": "陳美玲"})
    assert response.status_code == 400
    buyer = response.context["party_forms"][0]
    assert buyer.errors.as_data()["name"][0].code == "not_english"
    assert buyer["name"].value() == "柏林光學"
    assert response.context["form"]["contact_person"].value() == "陳美玲"
    assert not Application.objects.exists() and not Party.objects.exists()


def test_it_needs_the_chinese_name_of_a_mainland_end_user(client, other_applicant):
    client.force_login(other_applicant)
    response = client.post(url("application_basic"), {
        **BASIC, "end_user-same_as_buyer": "", "end_user-name": "Shenzhen Chip Co., Ltd.",
        "end_user-address": "1 Keji Road, Shenzhen", "end_user-country": "CN"})
    assert response.status_code == 400
    end_user = response.context["party_forms"][1]
    assert end_user.errors.as_data()["name_zh"][0].code == "name_zh_required"


def test_it_files_a_case_without_required_documents_for_germany(client, other_applicant):
    client.force_login(other_applicant)
    draft = enter(client)
    response = client.post(url("application_submit", draft.pk))
    draft.refresh_from_db()
    assert draft.status == Status.INITIAL_REVIEW and draft.receipt_no
    assert response.url == reverse("permits:application_detail", args=[draft.pk])


def test_it_refuses_to_file_until_the_required_document_is_uploaded(client,
                                                                   other_applicant):
    client.force_login(other_applicant)
    draft = enter(client, destination_country="CN")
    review = client.get(url("application_review", draft.pk))
    assert review.context["required_documents"] == [("licence", "Business licence", False)]
    response = client.post(url("application_submit", draft.pk), follow=True)
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT and draft.receipt_no is None
    assert "Business licence" in " ".join(str(m) for m in response.context["messages"])
    upload = SimpleUploadedFile("licence.pdf", PDF, content_type="application/pdf")
    client.post(reverse("permits:attachment_upload", args=[draft.pk]),
                {"document_kind": "licence", "file": upload})
    client.post(url("application_submit", draft.pk))
    draft.refresh_from_db()
    assert draft.status == Status.INITIAL_REVIEW


def test_it_checks_the_parties_again_on_apply(client, other_applicant):
    from permits.models import Country

    client.force_login(other_applicant)
    draft = enter(client)
    Country.objects.filter(code="DE").update(active=False)  # retired meanwhile
    response = client.post(url("application_submit", draft.pk))
    assert response.status_code == 400
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_it_hides_the_draft_from_everybody_else(client, other_applicant, applicant, agent):
    client.force_login(other_applicant)
    draft = enter(client)
    for user in (applicant, agent):
        client.force_login(user)
        for name in ("application_edit", "application_review", "application_item_add"):
            assert client.get(url(name, draft.pk)).status_code == 404
        assert client.post(url("application_submit", draft.pk)).status_code == 404


def test_it_prints_the_permit_with_the_procedures_own_template(client, other_applicant,
                                                              reviewer, tmp_path):
    client.force_login(other_applicant)
    draft = enter(client)
    client.post(url("application_submit", draft.pk))
    approve(draft, reviewer)
    version = Application.objects.get(pk=draft.pk).permit_version
    path = tmp_path / "permit.pdf"
    path.write_bytes(pdf.render_permit(version))
    text = pdftotext(path)
    assert f"TEST PROCEDURE PERMIT {version.permit.permit_no}" in text
    assert "Berlin Optics GmbH" in text and "8542.31.00.00-3" in text
    summary = tmp_path / "summary.pdf"
    summary.write_bytes(pdf.render_case_document(Application.objects.get(pk=draft.pk),
                                                 "summary"))
    assert "Berlin Optics GmbH" in pdftotext(summary)


def test_it_reissues_the_balance_of_a_cancelled_permit(client, other_applicant, reviewer):
    """註銷, then 帶入參考資料 with 餘額註銷證號 on the procedure's new-case page: the permit's
    data with the quantities left, its parties, a new permit number once approved."""
    client.force_login(other_applicant)
    draft = enter(client)
    client.post(url("application_submit", draft.pk))
    approve(draft, reviewer)
    permit = Permit.objects.get()
    changes.permit_revoke(permit=permit, actor=other_applicant, reason="買方取消部分訂單")
    page = client.get(url("application_basic") + f"?balance_permit_no={permit.permit_no}")
    assert page.context["reference_form"]["balance_permit_no"].value() == permit.permit_no
    response = client.post(url("application_basic"), {"load_reference": "1",
                                                      "balance_permit_no": permit.permit_no})
    reissue = Application.objects.get(kind="balance_reissue")
    assert response.url == url("application_edit", reissue.pk)
    assert reissue.changes == permit.current
    assert [(i.source_line_no, i.quantity) for i in reissue.items.all()] == [(1, Decimal(20))]
    assert [(p.role, p.name) for p in reissue.parties.all()] == [
        ("buyer", "Berlin Optics GmbH"), ("end_user", "Berlin Optics GmbH")]
    # The items come from the cancelled permit: none can be added.
    assert client.get(url("application_item_add", reissue.pk)).status_code == 404
    client.post(url("application_edit", reissue.pk), BASIC)
    client.post(url("application_submit", reissue.pk))
    approve(reissue, reviewer)
    new = Application.objects.get(pk=reissue.pk).permit_version
    assert new.permit != permit and new.version == 1


def test_it_refuses_a_second_balance_reissue_of_one_permit(client, other_applicant, reviewer):
    client.force_login(other_applicant)
    draft = enter(client)
    client.post(url("application_submit", draft.pk))
    approve(draft, reviewer)
    permit = Permit.objects.get()
    changes.permit_revoke(permit=permit, actor=other_applicant, reason="餘額重簽")
    load = {"load_reference": "1", "balance_permit_no": permit.permit_no}
    client.post(url("application_basic"), load)
    reissue = Application.objects.get(kind="balance_reissue")
    client.post(url("application_submit", reissue.pk))
    response = client.post(url("application_basic"), load)
    assert response.status_code == 400
    errors = response.context["reference_form"].errors.as_data()["balance_permit_no"]
    assert [e.code for e in errors] == ["already_reissued"]


def pdftotext(path):
    test_services.require_program("pdftotext", "poppler-utils")
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout
