"""The bureau's review of SHTC cases (SHTC-13, SHTC-14, PERMIT-5; issue 11 points 7, 10, 11):
the SHTC panel of the admin's case page (shtc.admin.ShtcReviewInline, shtc.review.panel),
the permit PDF of an approved case, the case in 申辦狀況查詢作業 and 我的案件, and the demo
data of `make run` (shtc/demo.py)."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from permits import documents, pdf
from permits.models import Application, DocumentType, Status
from portal.templatetags.roc import roc
from shtc import demo, review
from shtc.models import ShtcApplication
from tests.approvals import second_reviewer
from tests.permits.test_pdf import assert_one_face_subset, pdftotext
from tests.shtc.review_cases import ITEM, parse_page, upload

pytestmark = pytest.mark.django_db

CN_END_USER = {"name": "Shenzhen Lianxin Electronics Co., Ltd.",
               "address": "8 Keji Road, Nanshan, Shenzhen", "country": "CN",
               "name_zh": "深圳聯芯電子有限公司"}


def case_page(client, reviewer, case):
    client.force_login(reviewer)
    response = client.get(reverse("admin:permits_application_change", args=[case.pk]))
    assert response.status_code == 200
    return parse_page(response.content)


def panel_of(shown):
    panel = shown.by_testid("shtc-review")
    assert panel is not None, "no SHTC panel on the case page"
    return panel


def text(node):
    return node.text()


# --- the admin's case page ---------------------------------------------------------------------


def test_it_shows_the_reviewer_the_shtc_data_of_the_case(client, reviewer, shtc_case):
    case = shtc_case(destination="CN", end_user=CN_END_USER, partial_shipment=False,
                     transit_port="HKHKG", status=Status.INITIAL_REVIEW)
    shown = case_page(client, reviewer, case)
    panel = panel_of(shown)

    assert "HKHKG" in text(panel.by_testid("shtc-transit-port"))
    assert panel.by_testid("shtc-partial-shipment")["data-partial"] == "no"
    assert case.shtc.end_use in text(panel.by_testid("shtc-end-use"))
    assert text(panel.by_testid("shtc-route")) == \
        str(case.shtc.get_assurance_route_display())
    # The parties (with the end user's Chinese name) and the items with their export control
    # numbers are the framework's inlines of the same page.
    whole = text(shown)
    assert "深圳聯芯電子有限公司" in whole and CN_END_USER["name"] in whole
    assert ITEM["control_no"] in text(shown.find(id="items-group"))


def test_it_shows_the_destinations_regimes(client, reviewer, shtc_case):
    panel = panel_of(case_page(client, reviewer, shtc_case(destination="US")))
    regimes = text(panel.by_testid("shtc-regimes"))
    assert regimes.count("、") == 3  # four regimes named

    panel = panel_of(case_page(client, reviewer, shtc_case(destination="SG")))
    assert panel.by_testid("shtc-regimes") is not None


@pytest.mark.parametrize(("destination", "origin", "codes"), [
    ("CN", "TW", {"business_licence"}),
    ("AE", "TW", {"business_licence"}),
    ("KP", "TW", {"trade_ban", "own_procedure"}),
    ("SG", "US", {"reexport_approval"}),
])
def test_it_shows_the_warnings_and_calls_for_consultation(client, reviewer, shtc_case,
                                                          destination, origin, codes):
    case = shtc_case(destination=destination, items=[{**ITEM, "origin_country": origin}])
    panel = panel_of(case_page(client, reviewer, case))

    shown = {item["data-code"] for item in panel.by_testid("shtc-warnings").find_all("li")}
    assert shown == codes
    if "own_procedure" in codes:  # the reviewer's words, not 9-1-1's "apply in 9-2-1"
        shown_text = text(panel.by_testid("shtc-warnings"))
        assert "9-2-2" in shown_text and "協查" in shown_text
    assert panel.by_testid("shtc-consultation") is not None


def test_it_advises_no_consultation_on_a_registered_iran_assurance(client, reviewer,
                                                                  shtc_case):
    # 9-2-1's assurance waits in 登錄中 for its 9-2-2 application: no move to 協查 exists.
    case = shtc_case(destination="IR", status=Status.REGISTERED)
    panel = panel_of(case_page(client, reviewer, case))
    assert panel.by_testid("shtc-warnings") is not None
    assert panel.by_testid("shtc-consultation") is None


def test_it_needs_no_consultation_without_a_warning(client, reviewer, shtc_case):
    panel = panel_of(case_page(client, reviewer, shtc_case(destination="US")))
    assert panel.by_testid("shtc-warnings") is None
    assert panel.by_testid("shtc-consultation") is None


def test_it_lists_the_required_documents_with_the_missing_ones(client, reviewer, shtc_case,
                                                               applicant):
    case = shtc_case(destination="CN", end_user=CN_END_USER, status=Status.REGISTERED)
    upload(case, "assurance", actor=applicant, name="signed-assurance.pdf")

    panel = panel_of(case_page(client, reviewer, case))

    rows = {row["data-code"]: row for row in panel.by_testid("shtc-documents").find_all("li")}
    required = {code for code, _label, _uploaded in documents.status(case)}
    assert set(rows) == required and "business_licence" in rows
    assert rows["assurance"]["data-uploaded"] == "yes"
    link = rows["assurance"].find("a")
    assert link.text() == "signed-assurance.pdf"
    attachment = case.attachments.get(document_kind="assurance")
    assert link["href"] == reverse("permits:attachment_download", args=[attachment.pk])
    missing = {code for code, row in rows.items() if row["data-uploaded"] == "no"}
    assert missing == required - {"assurance"}
    assert panel.by_testid("shtc-missing") is not None


def test_it_shows_the_validity_with_its_reason_before_approval(client, reviewer, shtc_case):
    case = shtc_case(destination="US")
    validity = panel_of(case_page(client, reviewer, case)).by_testid("shtc-validity")

    assert validity["data-state"] == "computed" and validity["data-months"] == "24"
    assert roc(review.valid_until(timezone.localdate(), 24)) in text(validity)
    assert "SHTC-14 (1)" in text(validity)


def test_it_shows_the_validity_recorded_at_approval(client, reviewer, shtc_case):
    case = shtc_case(destination="SG", partial_shipment=False, status=Status.APPROVED)
    case.refresh_from_db()
    validity = panel_of(case_page(client, reviewer, case)).by_testid("shtc-validity")

    assert validity["data-state"] == "recorded" and validity["data-months"] == "6"
    assert case.shtc.validity_rule.split()[0] in text(validity)
    assert roc(case.issued_version.valid_until) in text(validity)


def test_it_reads_the_case_page_in_a_constant_number_of_queries(client, reviewer, shtc_case):
    # A re-export of one item, and twenty items from several origins, with their documents.
    one = shtc_case(destination="SG", items=[{**ITEM, "origin_country": "US"}])
    origins = ["TW", "US", "JP", "DE", "FR"]
    twenty = shtc_case(destination="SG", items=[
        {**ITEM, "origin_country": origins[number % len(origins)]} for number in range(20)])
    client.force_login(reviewer)
    counts = []
    for case in (one, twenty):
        url = reverse("admin:permits_application_change", args=[case.pk])
        client.get(url)  # caches warm (country names, sessions)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_it_is_not_shown_for_a_case_without_shtc_data(client, reviewer, make_case, applicant):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    shown = case_page(client, reviewer, case)
    assert shown.by_testid("shtc-review").find("fieldset") is None


def test_it_leaves_the_case_unchanged_when_a_superuser_saves_the_page(client, shtc_case,
                                                                     make_user):
    # A superuser may post the change form: the panel's management form keeps the post valid.
    admin_user = make_user("B123456780", is_staff=True, is_superuser=True,
                           identifier_type="national_id")
    case = shtc_case(destination="US")
    client.force_login(admin_user)
    url = reverse("admin:permits_application_change", args=[case.pk])
    form = parse_page(client.get(url).content).find("form", id="application_form")
    data = {field["name"]: field.get("value") or "" for field in form.find_all("input")
            if field.get("name") and field.get("type") not in ("submit", "checkbox")}
    response = client.post(url, data)
    assert response.status_code in (200, 302)
    case.shtc.refresh_from_db()
    assert case.shtc.partial_shipment is True and case.shtc.end_use


def test_it_computes_the_panel_without_a_request(shtc_case):
    case = shtc_case(destination="US", status=Status.REGISTERED)
    panel = review.panel(case)
    assert panel["validity"]["months"] == 24 and panel["all_regimes"]
    assert panel["missing"]  # nothing uploaded yet


# --- the eight statuses of FAQ 3.12 and their e-mails ----------------------------------------


REVIEW_PATHS = [
    # (who moves, to, note): 初審中 → 協查中 → 複審中 → 退回初審 → 補件 → 初審中 → 補正結案
    [("reviewer", Status.CONSULTATION, ""), ("reviewer", Status.SECOND_REVIEW, ""),
     ("reviewer", Status.RETURNED, "複審意見：請重新初審。"),
     ("reviewer", Status.SUPPLEMENT, "請補附英文型錄。"),
     ("applicant", Status.INITIAL_REVIEW, ""),
     ("reviewer", Status.AMENDMENT_CLOSED, "請以補正重新申請。")],
    [("reviewer", Status.CONSULTATION, ""), ("reviewer", Status.REJECTED, "最終用途不明。")],
    # 准件結案 by a second, senior reviewer (four eyes, issue 14)
    [("reviewer", Status.SECOND_REVIEW, ""), ("senior", Status.APPROVED, "")],
]


@pytest.mark.parametrize("path", REVIEW_PATHS)
def test_it_mails_each_review_status_to_the_company_email(shtc_case, applicant, reviewer, path):
    from django.utils import translation

    from permits import workflow
    from permits.models import OutboundEmail

    case = shtc_case(destination="US")
    moves = [(None, Status.INITIAL_REVIEW, "")] + path
    for who, to, note in path:
        actor = {"reviewer": reviewer, "applicant": applicant}.get(who) or second_reviewer()
        workflow.transition(application=case, to=to, actor=actor, note=note)
    mails = list(OutboundEmail.objects.filter(application=case).order_by("pk"))[1:]  # 登錄中 first
    assert [mail.to for mail in mails] == [case.company_email] * len(moves)
    with translation.override("zh-hant"):
        for mail, (_who, to, note) in zip(mails, moves, strict=True):
            assert str(Status(to).label) in mail.subject + mail.body, (to, mail.subject)
            assert note in mail.body


# --- the permit PDF ------------------------------------------------------------------------------


@pytest.mark.parametrize(("destination", "partial", "months"), [
    ("US", True, 24), ("SG", False, 6)])
def test_it_prints_the_shtc_permit(shtc_case, tmp_path, destination, partial, months):
    case = shtc_case(destination=destination, partial_shipment=partial,
                     end_user=CN_END_USER | {"country": destination, "name_zh": ""},
                     transit_port="USLAX" if destination == "US" else "SGSIN",
                     status=Status.APPROVED)
    case.refresh_from_db()
    version = case.issued_version
    path = tmp_path / "permit.pdf"
    path.write_bytes(pdf.render_permit(version))

    assert_one_face_subset(path)  # every font embedded
    printed = " ".join(pdftotext(path).split())
    assert version.permit.permit_no in printed
    assert version.permit.verification_code in printed  # the QR's code, typed
    assert f"{roc(version.valid_from)} 至 {roc(version.valid_until)}" in printed or \
        (roc(version.valid_from) in printed and roc(version.valid_until) in printed)
    assert (version.valid_until - version.valid_from).days > (700 if months == 24 else 170)
    assert (version.valid_until - version.valid_from).days < (740 if months == 24 else 190)
    assert ITEM["control_no"] in printed
    for party in case.parties.all():
        assert party.name in printed
    assert case.shtc.end_use.split()[0] in printed
    shipments = re.search(r"(分批|Partial shipments)\S*\s+(\S+)", printed)
    assert shipments, printed
    assert ("不可" in printed or "Not allowed" in printed) is not partial


def test_it_prints_the_permit_for_the_applicant_and_the_agent_only(client, shtc_case, agent,
                                                                   applicant, other_applicant):
    case = shtc_case(destination="SG", actor=agent, status=Status.APPROVED)
    case.refresh_from_db()
    url = reverse("permits:permit_print", args=[case.issued_version.pk])
    for user, status in ((applicant, 200), (agent, 200), (other_applicant, 404)):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == status, user
        if status == 200:
            assert response.content.startswith(b"%PDF-")


# --- 申辦狀況查詢作業 and 我的案件 ----------------------------------------------------------


def test_it_offers_the_shtc_document_type_in_the_query():
    from permits.forms import QueryForm

    assert DocumentType.SHTC_EXPORT in dict(QueryForm().fields["document_type"].choices)


def listed_numbers(response):
    """The receipt and permit numbers in the table of cases of a response."""
    assert response.status_code == 200
    table = parse_page(response.content).by_testid("cases")
    return {link.text() for link in table.find_all("a")} if table else set()


def test_it_lists_an_shtc_case_for_the_applicant_and_the_agent_only(
        client, shtc_case, applicant, agent, other_applicant):
    case = shtc_case(destination="US", actor=agent)
    query = {"document_type": DocumentType.SHTC_EXPORT, "number": case.receipt_no}
    for user, listed in ((applicant, True), (agent, True), (other_applicant, False)):
        client.force_login(user)
        found = listed_numbers(client.get(reverse("permits:query"), query))
        assert (case.receipt_no in found) is listed, user
        mine = listed_numbers(client.get(reverse("permits:dashboard")))
        assert (case.receipt_no in mine) is listed, user


def test_it_finds_an_approved_shtc_case_by_its_permit_number(client, shtc_case, applicant):
    case = shtc_case(destination="SG", status=Status.APPROVED)
    case.refresh_from_db()
    version = case.issued_version
    client.force_login(applicant)
    found = listed_numbers(client.get(reverse("permits:query"), {
        "document_type": DocumentType.SHTC_EXPORT, "number": version.permit.permit_no}))
    assert {case.receipt_no, version.permit.permit_no} <= found
    # 列印 from the case page the row leads to.
    detail = client.get(reverse("permits:application_detail", args=[case.pk]))
    assert reverse("permits:permit_print", args=[version.pk]) in detail.content.decode()


# --- the demo data of `make run` -------------------------------------------------------------


def test_it_seeds_the_demo_cases_once(applicant, agent, reviewer,
                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        made = demo.seed(applicant=applicant, agent=agent, reviewer=reviewer,
                         senior=second_reviewer())
    made_cases = [Application.objects.get(pk=case.pk) for _label, case in made]
    assert [(case.destination_country, case.status) for case in made_cases] == [
        ("JP", Status.REGISTERED), ("CN", Status.INITIAL_REVIEW), ("US", Status.APPROVED),
        ("SG", Status.APPROVED), ("DE", Status.SUPPLEMENT), ("JP", Status.AMENDMENT_CLOSED),
        ("IR", Status.REGISTERED), ("IR", Status.CONSULTATION)]
    cases = {case.destination_country: case for case in made_cases[:5]}
    assert documents.missing(cases["JP"])  # waiting for documents
    assert cases["CN"].agent_id == agent.pk
    us, sg = cases["US"].issued_version, cases["SG"].issued_version
    assert cases["US"].shtc.validity_months == 24 and cases["SG"].shtc.validity_months == 6
    assert us.valid_until > us.valid_from + datetime.timedelta(days=700)
    assert sg.partial_shipment is False and us.partial_shipment is True
    # 9-2-2's case was loaded from its own 9-2-1 assurance (registered, locked), with the
    # documents of SHTC-2 items 1 to 5 uploaded before the bureau sent it to 協查.
    amended, waiting, consulted = made_cases[5:]
    assert consulted.shtc.assurance.registration_no and consulted.receipt_no
    assert consulted.shtc.assurance_id not in (waiting.pk, None)
    assert not documents.missing(consulted)
    assert amended.registration_no and amended.receipt_no
    # Eight cases, and the Iran assurance 9-2-2 was loaded from.
    assert ShtcApplication.objects.filter(application__applicant=applicant).count() == 9

    printed = demo.lines(made)
    for case in cases.values():
        assert case.number in printed
    assert demo.seed(applicant=applicant, agent=agent, reviewer=reviewer,
                     senior=second_reviewer()) == []
