"""What the SHTC export procedure tells the shared permit framework (permits/procedures.py):
its parties (買方, 收貨人, 最終使用者: SHTC-15), the documents a case carries (SHTC-2), its
changes (SHTC-8 to SHTC-11), its PDF documents (SHTC-3: the end-use assurance in a buyer and
a consignee version, the red-flag affidavit) and what its case page shows."""

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from permits.models import DocumentType, Kind, PartyRole, Status
from permits.procedures import COMMON_DOCUMENT_KINDS, Procedure
from shtc.models import AssuranceRoute, Port, ShtcApplication

# SHTC-2, in the manual's order (步驟4): the codes the 9-1-2 upload page offers.
DOCUMENT_KINDS = [
    ("assurance", gettext_lazy("End-use assurance signed by the end user")),
    ("red_flag_affidavit", gettext_lazy("Red-flag list (abnormal transaction) affidavit")),
    ("catalogue", gettext_lazy("English catalogue and specifications of the product")),
    ("transaction", gettext_lazy("Transaction documents (proforma invoice, purchase order "
                                 "or contract signed by both sides)")),
    ("end_user_profile", gettext_lazy("End user's company profile")),
    ("business_licence", gettext_lazy("Copy of the company business licence")),
    ("import_declaration", gettext_lazy("Copy of the import declaration (re-exports)")),
    ("import_certificate", gettext_lazy("Copy of the SHTC import certificate (re-exports)")),
    ("reexport_approval", gettext_lazy("Re-export approval of the original exporting "
                                       "country's government")),
    # SHTC-5, without an end-use assurance (manual §1.1.1.2.2 步驟4): exhibition goods carry
    # the catalogue (above) and these three; a special case, the bureau's approval.
    ("exhibition_participation", gettext_lazy("Proof of participation in the exhibition "
                                              "and the fee receipt")),
    ("exhibition_brief", gettext_lazy("Exhibition brief")),
    ("booth_plan", gettext_lazy("Booth plan")),
    ("special_approval", gettext_lazy("The bureau's special approval")),
    # SHTC-5 (1): after approval, the proof that exhibition goods came back (銷案).
    ("reimport_proof", gettext_lazy("Proof of re-import (exhibition goods)")),
    *COMMON_DOCUMENT_KINDS,
]
REIMPORT_PROOF = "reimport_proof"

# SHTC-3: {URL slug: (pdf_templates name, the language it is printed in, the party it
# names)}. The assurance is an English form the end user signs; the affidavit is the
# bureau's Chinese form the applicant signs and stamps.
DOCUMENTS = {
    "assurance-buyer": ("assurance_buyer", "en", PartyRole.BUYER),
    "assurance-consignee": ("assurance_consignee", "en", PartyRole.CONSIGNEE),
    "red-flag-affidavit": ("affidavit", "zh-hant", None),
}
DOCUMENT_LABELS = {
    "assurance-buyer": gettext_lazy("End-use assurance (buyer version)"),
    "assurance-consignee": gettext_lazy("End-use assurance (consignee version)"),
    "red-flag-affidavit": gettext_lazy("Red-flag list (abnormal transaction) affidavit"),
}
# SHTC-5: the reasons of Article 18(1) in the manual's words (步驟4).
ROUTE_REASONS = {
    AssuranceRoute.EXHIBITION: gettext_lazy(
        "Exhibition goods, exported temporarily for an exhibition and re-imported after it"),
    AssuranceRoute.SPECIAL_APPROVAL: gettext_lazy(
        "Another case specially approved by the Bureau of Foreign Trade"),
}
# The statuses in which the documents are offered: from 登錄中 on (the assurance has its
# 登錄編號), not for a case being entered or withdrawn.
NO_DOCUMENTS = (Status.DRAFT, Status.CANCELLED)
# The manual's button: 登錄最終用途並申請 (步驟8, §2.4 item 6).
END_USE_BUTTON = gettext_lazy("Register the end use and apply")
FILING_TITLE = gettext_lazy("9-1-2 Not to Iran or North Korea: document upload and SHTC "
                            "export permit application / cancellation")


def shtc_of(application):
    """The case's ShtcApplication, or None (a case made outside the 9-1-1 entry)."""
    try:
        return application.shtc
    except ShtcApplication.DoesNotExist:
        return None


def documents_offered(application):
    return application.status not in NO_DOCUMENTS


def documents_of(application):
    """The slugs of DOCUMENTS the case offers now: none before it is registered or filed;
    without an end-use assurance (SHTC-5) only the red-flag affidavit (步驟6)."""
    if not documents_offered(application):
        return []
    shtc = shtc_of(application)
    if shtc is not None and not shtc.with_assurance:
        return ["red-flag-affidavit"]
    return list(DOCUMENTS)


class ShtcProcedure(Procedure):
    """Reviewed by the bureau (SHTC-13); 9-1-1 registers the assurance first (登錄中)."""

    def validity(self, application, issued_on):
        """SHTC-14: 6 months or 2 years as shtc.rules.validity decides on the day of issue,
        the rule that applied recorded on the case for the reviewer; partial shipments
        unless the case said 不分批. Never extended (shtc/review.py)."""
        from shtc import review

        return review.permit_validity(application=application, issued_on=issued_on)

    def detail_rows(self, application):
        """轉口港代碼, 分批/不分批 and the end use, on the case page and the permit PDF."""
        shtc = shtc_of(application)
        if shtc is None:
            return []
        rows = []
        if shtc.transit_port:
            port = Port.objects.filter(code=shtc.transit_port).first()
            rows.append({"label": _("Transit port code"), "code": "transit-port",
                         "value": f"{port.code} {port.name}" if port else shtc.transit_port})
        if application.permit_version is None:
            # Once issued, the permit version says it (PermitVersion.partial_shipment, which
            # the permit PDF prints): not twice.
            rows.append({"label": _("Partial or one shipment"), "code": "partial-shipment",
                         "value": _("Partial shipments") if shtc.partial_shipment
                         else _("One shipment only")})
        if not shtc.with_assurance:
            rows.append({"label": _("Without an end-use assurance"), "code": "assurance-route",
                         "value": ROUTE_REASONS[shtc.assurance_route]})
        if shtc.end_use:
            rows.append({"label": _("Specific end use (English)"), "code": "end-use",
                         "value": shtc.end_use})
        if shtc.assurance_route == AssuranceRoute.EXHIBITION:
            from shtc import reimport

            rows.append({"label": _("Re-import obligation"), "code": "reimport",
                         "value": reimport.obligation_text(application)})
        return rows

    def documents_due(self, application, to):
        """SHTC-5: a case without an end-use assurance is filed by 申請 (暫存 → 初審中) before
        its documents, which are uploaded afterwards in 9-1-2 (manual §1.1.1.2.2 步驟7): the
        filing does not wait for them. The case page and the reviewer still see what is
        missing (permits.documents)."""
        if application.status == Status.DRAFT and to == Status.INITIAL_REVIEW:
            shtc = shtc_of(application)
            if shtc is not None and not shtc.with_assurance:
                return False
        return super().documents_due(application, to)

    def upload_kinds(self, application):
        """Beyond the framework's (a draft, 登錄中, 補件): without an end-use assurance the
        documents follow 申請, so they are taken while the case is in 初審中 (SHTC-5 步驟7);
        an approved exhibition permit takes its proof of re-import, and only that (SHTC-5
        (1)), whatever its validity: a late proof is still the proof."""
        kinds = super().upload_kinds(application)
        if kinds:
            return [code for code in kinds if code != REIMPORT_PROOF]
        shtc = shtc_of(application)
        if shtc is None or shtc.with_assurance:
            return []
        if application.status == Status.INITIAL_REVIEW:
            return [code for code, _label in self.document_kinds if code != REIMPORT_PROOF]
        if application.status == Status.APPROVED and \
                shtc.assurance_route == AssuranceRoute.EXHIBITION:
            return [REIMPORT_PROOF]
        return []

    def detail_links(self, application, user):
        """The documents to print (SHTC-3, steps 6 and 7), once the case is registered; and
        9-1-2, where the documents are uploaded and the case filed (SHTC-4), while the case
        takes documents (upload_kinds: 登錄中, 補件, and a case without an end-use assurance
        after its 申請, SHTC-5). A draft is still 9-1-1's."""
        links = []
        if application.status != Status.DRAFT and self.upload_kinds(application):
            links.append({"label": FILING_TITLE, "code": "filing",
                          "url": reverse("shtc:filing_case", args=[application.pk])})
        links.extend({"label": DOCUMENT_LABELS[slug], "code": slug,
                      "url": reverse("shtc:case_document", args=[application.pk, slug])}
                     for slug in documents_of(application))
        return links

    def required_documents(self, application):
        """SHTC-2, from the case's route, destination and the origins of its items
        (shtc/requirements.py)."""
        from shtc import requirements

        return requirements.required_documents(application)

    def check_transition(self, application, to):
        """SHTC-4: 案件申請 (登錄中 → 初審中) needs the specific end use in English, as well as
        the required documents (the framework's check). Asked by workflow.transition() under
        the case's row lock, in the transaction that files it."""
        problem = super().check_transition(application, to)
        if problem:
            return problem
        if application.status == Status.REGISTERED and to == Status.INITIAL_REVIEW:
            # A case without SHTC data was made outside 9-1-1 (the framework's tests): 9-1-2
            # gives it its end use with 案件申請 (shtc.services.application_file).
            shtc = shtc_of(application)
            if shtc is not None and shtc.with_assurance and not shtc.end_use.strip():
                return _("Enter the specific end use of the goods in English first "
                         "(“%(button)s”).") % {"button": END_USE_BUTTON}
        return None

    def document_context(self, application, name):
        """The assurance's and affidavit's own data: the end use, 分批, the transit port, and
        which party (buyer or consignee) a version of the assurance names."""
        from shtc import documents

        return documents.context(application, name)


PROCEDURE = ShtcProcedure(
    document_type=DocumentType.SHTC_EXPORT, direction="export",  # export declarations (RECON-2)
    document_kinds=DOCUMENT_KINDS,
    parties=(PartyRole.BUYER, PartyRole.CONSIGNEE, PartyRole.END_USER),
    # The reviewer's panel on the one case page (SHTC-13, SHTC-14): shtc/review.py.
    admin_inlines=("shtc.admin.ShtcReviewInline",),
    # The changes the SHTC manual names (SHTC-8 to SHTC-11).
    change_kinds=(Kind.CORRECTION, Kind.MISMATCH_CORRECTION, Kind.AMENDMENT,
                  Kind.BALANCE_REISSUE),
    pdf_templates={"permit": "pdf/permit.html",
                   "assurance_buyer": "pdf/shtc/assurance.html",
                   "assurance_consignee": "pdf/shtc/assurance.html",
                   "affidavit": "pdf/shtc/red_flag_affidavit.html"},
    # 註銷 sends the user here with 餘額註銷證號 filled in (SHTC-11).
    new_application_url="shtc:application_basic")
