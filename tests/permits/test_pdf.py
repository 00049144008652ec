"""列印 (PERMIT-7): the permit's reference copy (參考用聯) as a PDF, rendered for real by
WeasyPrint and read back with poppler's pdffonts and pdftotext."""

import re
import subprocess
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from permits import pdf, procedures, workflow
from permits.models import DocumentType, PartyRole, Status
from permits.parties import parties_replace
from tests import services
from tests.approvals import approve

ITEMS = [
    {"tariff_code": "85423100003", "description": "現場可程式閘陣列", "brand": "Xilinx",
     "model": "XCVU9P", "control_no": "3A001a", "quantity": "10", "unit": "PCE",
     "unit_price": "1500", "currency": "USD", "origin_country": "US"},
    {"tariff_code": "90318000903", "description": "雷射干涉儀", "quantity": "2.5",
     "unit": "SET", "unit_price": "12000", "currency": "EUR", "origin_country": "DE"},
]


@pytest.fixture
def version(make_case, applicant, reviewer):
    case = make_case(applicant, items=[dict(item) for item in ITEMS], status=Status.APPROVED,
                     reviewer=reviewer)
    return case.issued_version


def write_pdf(version, tmp_path):
    path = tmp_path / "permit.pdf"
    path.write_bytes(pdf.render_permit(version))
    return path


def pdftotext(path):
    services.require_program("pdftotext", "poppler-utils")
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


def pdffonts(path):
    """pdffonts' rows as (name, emb, sub). Rows after the two header lines: name type…
    encoding emb sub uni object ID (the type may be several words). WeasyPrint names a
    subset "XXXXXX+Noto-Sans-CJK-TC"; other writers say NotoSansCJKtc-Regular."""
    services.require_program("pdffonts", "poppler-utils")
    output = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True,
                            text=True).stdout
    rows = [line.split() for line in output.splitlines()[2:] if line.strip()]
    return [(row[0], row[-5], row[-4]) for row in rows]


def embedded_fonts(path):
    return [re.sub(r"[^a-z]", "", name.lower()) for name, emb, _sub in pdffonts(path)
            if emb == "yes"]


def page_count(path):
    services.require_program("pdfinfo", "poppler-utils")
    output = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True,
                            text=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", output, re.M).group(1))


def assert_one_face_subset(path):
    """Issue 10: one face of one family (the regular Noto Sans CJK TC, no bold, no Mono),
    embedded and subset, so that a page weighs what its text needs; a character the face
    lacks would show up here as a fallback font."""
    fonts = pdffonts(path)
    assert fonts, "no font in the PDF"
    assert all((emb, sub) == ("yes", "yes") for _name, emb, sub in fonts), fonts
    # "ABCDEF+Noto-Sans-CJK-TC": the part after the subset tag names the face.
    assert {name.partition("+")[2] for name, _emb, _sub in fonts} == {"Noto-Sans-CJK-TC"}, fonts


@pytest.mark.django_db
def test_it_embeds_noto_sans_cjk_tc(version, tmp_path):
    assert any("notosanscjktc" in name for name in embedded_fonts(write_pdf(version, tmp_path)))


@pytest.mark.django_db
def test_it_embeds_one_cjk_face_as_a_subset(version, tmp_path):
    assert_one_face_subset(write_pdf(version, tmp_path))


@pytest.mark.django_db
def test_it_keeps_a_one_page_permit_within_300_kb(version, tmp_path):
    path = write_pdf(version, tmp_path)
    assert page_count(path) == 1
    # It was 330-380 KB with three faces embedded (regular, bold, Mono bold).
    assert path.stat().st_size <= 300 * 1024
    text = pdftotext(path)  # one subset still maps back to the Chinese it shows
    assert "參考用聯" in text and "現場可程式閘陣列" in text
    assert version.application.applicant_name in text


@pytest.mark.django_db
def test_it_prints_the_mask_permit_with_the_same_one_face(applicant, tmp_path):
    from masks import services as mask_services

    case = mask_services.application_submit(
        actor=applicant, applicant=applicant, route="postal",
        applicant_name="安心醫材股份有限公司", applicant_address="臺北市中正區重慶南路一段2號",
        company_email="masks@anxin.example", contact_person="王小明",
        contact_phone="02-2351-0000",
        items=[{"category": "medical", "tariff_code": "63079050311", "description": "醫用口罩",
                "quantity": "1000", "unit": "PCE", "unit_price": "5", "currency": "TWD",
                "origin_country": "US"}])
    path = write_pdf(case.issued_version, tmp_path)
    assert_one_face_subset(path)
    assert page_count(path) == 1 and path.stat().st_size <= 300 * 1024
    text = pdftotext(path)
    assert "醫用口罩" in text and "安心醫材股份有限公司" in text


@pytest.mark.django_db
def test_it_prints_the_permit_number_and_every_item(version, tmp_path):
    text = pdftotext(write_pdf(version, tmp_path))
    assert version.permit.permit_no in text
    assert "現場可程式閘陣列" in text and "雷射干涉儀" in text


@pytest.mark.django_db
def test_it_marks_the_copy_as_a_reference_copy(version, tmp_path):
    assert "參考用聯" in pdftotext(write_pdf(version, tmp_path))


@pytest.mark.django_db
def test_it_prints_the_verification_code(version, tmp_path):
    assert version.permit.verification_code in pdftotext(write_pdf(version, tmp_path))


@pytest.mark.django_db
def test_it_prints_the_tariff_code_with_separators(version, tmp_path):
    assert "8542.31.00.00-3" in pdftotext(write_pdf(version, tmp_path))


@pytest.mark.django_db
def test_it_numbers_the_pages_in_the_holders_language(version, tmp_path):
    holder = version.permit.holder
    holder.language = "en"
    holder.save(update_fields=["language"])
    assert "Page 1 of 1" in pdftotext(write_pdf(version, tmp_path))


def test_it_puts_the_page_counters_into_the_translated_label():
    assert pdf._counter_content("第 %(page)s 頁 / 共 %(pages)s 頁") == (
        '"第 " counter(page) " 頁 / 共 " counter(pages) " 頁"')


@pytest.mark.django_db
def test_it_points_the_qr_code_at_the_verification_page(version, settings):
    context = pdf.permit_context(version)
    url = urlsplit(context["verification_url"])
    assert f"{url.scheme}://{url.netloc}" == settings.PORTAL_BASE_URL
    assert url.path == reverse("permits:verify")
    assert parse_qs(url.query) == {"no": [version.permit.permit_no],
                                   "code": [version.permit.verification_code]}
    assert context["qr_code"].startswith("data:image/svg+xml")  # inline: no network


@pytest.mark.django_db
def test_it_lists_the_items_in_order_with_their_figures(version):
    items = pdf.permit_context(version)["items"]
    assert [(i["line_no"], i["tariff_code"], i["quantity"], i["amount"]) for i in items] == [
        (1, "8542.31.00.00-3", "10", "15,000.00"), (2, "9031.80.00.90-3", "2.5", "30,000.00")]
    assert pdf.permit_context(version)["has_control_no"] is True


@pytest.mark.django_db
def test_it_names_the_filing_agent(make_case, applicant, agent, reviewer):
    case = make_case(applicant, actor=agent, status=Status.APPROVED, reviewer=reviewer)
    assert pdf.permit_context(case.issued_version)["agent"] == {
        "identifier": agent.identifier, "name": agent.name}


@pytest.mark.django_db
def test_it_serves_the_pdf_to_the_applicant(client, version, applicant):
    client.force_login(applicant)
    response = client.get(reverse("permits:permit_print", args=[version.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")


@pytest.mark.django_db
def test_it_hides_the_pdf_from_another_applicant(client, version, other_applicant):
    client.force_login(other_applicant)
    response = client.get(reverse("permits:permit_print", args=[version.pk]))
    assert response.status_code == 404


# --- One renderer, several documents ---------------------------------------------------------

PARTIES = {
    "buyer": {"name": "Acme Trading Co., Ltd.", "address": "1 Harbour Rd, Wan Chai",
              "country": "HK"},
    "consignee": {"same_as_buyer": True},
    "end_user": {"name": "Shenzhen Precision Instruments Co., Ltd.",
                 "address": "88 Keji Rd, Nanshan District, Shenzhen", "country": "CN",
                 "name_zh": "深圳精密儀器有限公司"},
}


@pytest.fixture
def summary_procedure(monkeypatch):
    """A procedure with parties and a document of its own besides the permit; the registry
    is put back after the test."""
    procedure = procedures.Procedure(
        document_type=DocumentType.SHTC_EXPORT,
        parties=(PartyRole.BUYER, PartyRole.CONSIGNEE, PartyRole.END_USER),
        pdf_templates={"permit": "pdf/permit.html", "summary": "pdf/case_summary.html"})
    monkeypatch.setitem(procedures._registry, DocumentType.SHTC_EXPORT, procedure)
    return procedure


@pytest.fixture
def case_with_parties(make_case, applicant, summary_procedure):
    case = make_case(applicant, items=[dict(item) for item in ITEMS])
    parties_replace(application=case, parties=PARTIES)
    return case


def write_case_document(case, tmp_path, name="summary"):
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf.render_case_document(case, name))
    return path


@pytest.mark.django_db
def test_it_prints_a_procedures_own_document_with_the_parties_and_items(case_with_parties,
                                                                        tmp_path):
    text = pdftotext(write_case_document(case_with_parties, tmp_path))
    assert "Acme Trading Co., Ltd." in text
    assert "Shenzhen Precision Instruments Co., Ltd." in text
    assert "深圳精密儀器有限公司" in text
    assert "現場可程式閘陣列" in text and "雷射干涉儀" in text


@pytest.mark.django_db
def test_it_embeds_the_cjk_font_in_a_case_document(case_with_parties, tmp_path):
    fonts = embedded_fonts(write_case_document(case_with_parties, tmp_path))
    assert any("notosanscjktc" in name for name in fonts)


@pytest.mark.django_db
def test_it_embeds_one_cjk_face_as_a_subset_in_a_case_document(case_with_parties, tmp_path):
    assert_one_face_subset(write_case_document(case_with_parties, tmp_path))


@pytest.mark.django_db
def test_it_prints_no_verification_on_a_case_document(case_with_parties, tmp_path):
    text = pdftotext(write_case_document(case_with_parties, tmp_path))
    assert "參考用聯" not in text
    context = pdf.case_context(case_with_parties)
    assert "qr_code" not in context and "verification_code" not in context


@pytest.mark.django_db
def test_it_numbers_the_pages_of_a_case_document_in_the_applicants_language(
        case_with_parties, tmp_path):
    applicant = case_with_parties.applicant
    applicant.language = "en"
    applicant.save(update_fields=["language"])
    assert "Page 1 of 1" in pdftotext(write_case_document(case_with_parties, tmp_path))


@pytest.mark.django_db
def test_it_lists_the_parties_in_the_procedures_order(case_with_parties):
    parties = pdf.case_context(case_with_parties)["parties"]
    assert [p["code"] for p in parties] == ["buyer", "consignee", "end_user"]
    # 同買方資料: the consignee is printed with the buyer's data.
    assert parties[1]["name"] == "Acme Trading Co., Ltd."


@pytest.mark.django_db
def test_it_refuses_a_document_the_procedure_does_not_list(case_with_parties):
    with pytest.raises(LookupError):
        pdf.render_case_document(case_with_parties, "affidavit")
    with pytest.raises(LookupError):
        pdf.render_case_document(case_with_parties, "permit")  # printed from its version


@pytest.mark.django_db
def test_it_prints_the_permit_from_the_procedures_template(summary_procedure, make_case,
                                                           applicant, reviewer, tmp_path):
    case = make_case(applicant, items=[dict(item) for item in ITEMS])
    parties_replace(application=case, parties=PARTIES)
    workflow.transition(application=case, to=Status.INITIAL_REVIEW, actor=applicant)
    case = approve(case, reviewer)
    path = write_pdf(case.issued_version, tmp_path)
    text = pdftotext(path)
    assert "參考用聯" in text and case.issued_version.permit.verification_code in text
    assert "Acme Trading Co., Ltd." in text  # its parties, from the shared include
    assert_one_face_subset(path)
