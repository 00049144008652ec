"""The documents of a registered 9-1-1 case (SHTC-3; manual §1.1.1.2.1 steps 6 and 7): the
end-use assurance (WRITTEN ASSURANCE OF END USES) in a buyer and a consignee version, in
English, and the red-flag affidavit in Chinese, rendered for real by WeasyPrint, downloaded
from the case page and read back with poppler's pdftotext and pdffonts."""

import re

import pytest
from django.urls import reverse

from permits import pdf, workflow
from permits.models import Status
from shtc.documents import RED_FLAGS, UNDERTAKINGS
from shtc.models import ShtcApplication
from tests.permits.test_pdf import assert_one_face_subset, pdftotext
from tests.shtc.assurance import AGENT, ITEM, register

pytestmark = pytest.mark.django_db

# A consignee of its own, so that each version shows which party it names.
BASIC = {"consignee-same_as_buyer": "", "consignee-name": "Harbor Logistics Corp.",
         "consignee-address": "8 Pier Street, San Pedro, CA", "consignee-country": "US"}
ITEMS = [ITEM, {**ITEM, "description": "Laser interferometer", "brand": "", "model": "",
                "specification": "", "control_no": "6A005.b", "quantity": "2.5",
                "unit": "SET"}]
DOCUMENTS = ("assurance-buyer", "assurance-consignee", "red-flag-affidavit")


@pytest.fixture
def case(client, applicant):
    client.force_login(applicant)
    return register(client, basic=BASIC, items=ITEMS)


def document_url(case, slug):
    return reverse("shtc:case_document", args=[case.pk, slug])


def download(client, case, slug, tmp_path):
    response = client.get(document_url(case, slug))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{case.registration_no}-{slug}.pdf"')
    path = tmp_path / f"{slug}.pdf"
    path.write_bytes(response.content)
    return path


def flat(text):
    """pdftotext's text without its line breaks and spaces (a long line wraps in a cell)."""
    return re.sub(r"\s+", "", text)


def test_it_offers_the_three_documents_on_the_case_page(client, case):
    page = client.get(reverse("permits:application_detail", args=[case.pk]))
    links = {link["code"]: link["url"] for link in page.context["procedure_links"]}
    # … and 9-1-2, where they are uploaded (tests/shtc/test_filing.py).
    assert links == {"filing": reverse("shtc:filing_case", args=[case.pk]),
                     **{slug: document_url(case, slug) for slug in DOCUMENTS}}
    for slug in DOCUMENTS:
        assert f'data-testid="link-{slug}"' in page.content.decode()


def test_it_prints_the_buyer_version_in_english(client, case, tmp_path):
    text = pdftotext(download(client, case, "assurance-buyer", tmp_path))
    assert "WRITTEN ASSURANCE OF END USES" in text
    assert case.registration_no in text
    assert "Buyer version" in text and "Pacific Optics Inc." in text
    assert "Harbor Logistics Corp." not in text
    assert "Sierra Photonics LLC" in text and "End user" in text
    assert "3A001.a" in text and "6A005.b" in text
    assert "Field programmable gate array" in text and "Laser interferometer" in text
    for word in ("Specific end use", "Signature of the end user", "Title", "Date",
                 "Page 1 of"):
        assert word in text, word
    for undertaking in UNDERTAKINGS:
        assert flat(undertaking) in flat(text)


def test_it_prints_the_consignee_version_with_the_consignee(client, case, tmp_path):
    text = pdftotext(download(client, case, "assurance-consignee", tmp_path))
    assert "Consignee version" in text and "Harbor Logistics Corp." in text
    assert "Pacific Optics Inc." not in text
    assert case.registration_no in text and "Sierra Photonics LLC" in text


def test_it_prints_the_end_use_once_it_is_known(client, case, tmp_path):
    ShtcApplication.objects.filter(application=case).update(
        end_use="Metrology of optical lenses in the end user's own laboratory")
    text = pdftotext(download(client, case, "assurance-buyer", tmp_path))
    assert "Metrology of optical lenses" in text
    assert "To be stated by the end user" not in text


def test_it_prints_the_red_flag_affidavit_in_chinese(client, case, tmp_path):
    text = pdftotext(download(client, case, "red-flag-affidavit", tmp_path))
    assert "紅色警戒清單(異常交易)檢核切結書" in text
    assert "最終用途" in text
    assert case.registration_no in text and "安心科技股份有限公司" in text
    for flag in RED_FLAGS:
        assert flat(flag) in flat(text), flag
    assert "3A001.a" in text


@pytest.mark.parametrize("slug", DOCUMENTS)
def test_it_embeds_one_subset_face_in_each_document(client, case, tmp_path, slug):
    assert_one_face_subset(download(client, case, slug, tmp_path))


def test_it_serves_the_documents_to_the_agent_and_the_applicant(client, agent, applicant,
                                                                other_applicant, reviewer):
    client.force_login(agent)
    case = register(client, basic=AGENT)
    for user in (agent, applicant, reviewer):
        client.force_login(user)
        assert client.get(document_url(case, "assurance-buyer")).status_code == 200
    client.force_login(other_applicant)
    for slug in DOCUMENTS:
        assert client.get(document_url(case, slug)).status_code == 404


def test_it_offers_no_document_before_registration(client, applicant):
    from tests.shtc.assurance import enter

    client.force_login(applicant)
    draft = enter(client)
    assert client.get(document_url(draft, "assurance-buyer")).status_code == 404
    page = client.get(reverse("permits:application_detail", args=[draft.pk]))
    assert page.status_code in (200, 404)
    if page.status_code == 200:
        assert page.context["procedure_links"] == []


def test_it_offers_none_of_a_cancelled_case(client, case, applicant):
    workflow.transition(application=case, to=Status.CANCELLED, actor=applicant)
    assert client.get(document_url(case, "red-flag-affidavit")).status_code == 404


def test_it_knows_no_other_document(client, case):
    assert client.get(document_url(case, "permit")).status_code == 404
    assert client.get(document_url(case, "summary")).status_code == 404


def test_it_refuses_anonymous_visitors(client, case):
    client.logout()
    response = client.get(document_url(case, "assurance-buyer"))
    assert response.status_code == 302 and reverse("accounts:login") in response.url


def test_it_renders_through_the_frameworks_case_document(case):
    # permits.pdf.render_case_document, as the view calls it: PDF bytes of any document.
    assert pdf.render_case_document(case, "affidavit", language="zh-hant")[:5] == b"%PDF-"
    with pytest.raises(LookupError):
        pdf.render_case_document(case, "permit")


# Issue 15: each document is a tagged PDF (PDF/UA-1) and an archival one (PDF/A-3b), titled,
# in the language it is printed in whatever the reader's, its text in the layout's order.
TAGGED = {"assurance-buyer": ("Written Assurance of End Uses", "en",
                              ["WRITTEN ASSURANCE OF END USES", "Exporter", "Goods",
                               "Signature of the end user"]),
          "assurance-consignee": ("Written Assurance of End Uses", "en",
                                  ["WRITTEN ASSURANCE OF END USES", "Consignee version",
                                   "Harbor Logistics Corp.", "Goods", "Date"]),
          "red-flag-affidavit": ("紅色警戒清單(異常交易)檢核切結書", "zh-Hant",
                                 ["紅色警戒清單(異常交易)檢核切結書", "申請人", "紅色警戒清單檢核",
                                  "負責人"])}


@pytest.mark.parametrize("slug", DOCUMENTS)
def test_each_document_is_tagged_archival_and_in_its_own_language(client, case, tmp_path,
                                                                  slug):
    from tests.permits.pdf_standards import check_accessible_and_archival
    from tests.permits.test_pdf_standards import in_order

    title, lang, order = TAGGED[slug]
    path = download(client, case, slug, tmp_path)
    types = check_accessible_and_archival(path, title=f"{title} {case.registration_no}",
                                          lang=lang)
    assert types.count("H1") == 1 and types.index("H1") < types.index("H2")
    assert in_order(pdftotext(path), order)
