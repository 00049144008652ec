"""列印 (PERMIT-7): the permit's reference copy (參考用聯) as a PDF, rendered for real by
WeasyPrint and read back with poppler's pdffonts and pdftotext."""

import re
import subprocess
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from permits import pdf
from permits.models import Status
from tests import services

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


@pytest.mark.django_db
def test_it_embeds_noto_sans_cjk_tc(version, tmp_path):
    services.require_program("pdffonts", "poppler-utils")
    path = write_pdf(version, tmp_path)
    output = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True,
                            text=True).stdout
    # Rows after the two header lines: name type… emb sub uni object ID. WeasyPrint names
    # the font "XXXXXX+Noto-Sans-CJK-TC"; other writers say NotoSansCJKtc-Regular.
    fonts = [line.split() for line in output.splitlines()[2:] if line.strip()]
    embedded = [row[0] for row in fonts if row[-5] == "yes"]
    assert any("notosanscjktc" in re.sub(r"[^a-z]", "", name.lower()) for name in embedded)


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
