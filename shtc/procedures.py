"""What the SHTC export procedure tells the shared permit framework (permits/procedures.py):
its parties (買方, 收貨人, 最終使用者: SHTC-15), the documents a case carries (SHTC-2), its
changes (SHTC-8 to SHTC-11), its PDF documents (SHTC-3: the end-use assurance in a buyer and
a consignee version, the red-flag affidavit) and what its case page shows."""

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from permits.models import DocumentType, Kind, PartyRole, Status
from permits.procedures import COMMON_DOCUMENT_KINDS, Procedure
from shtc.models import Port, ShtcApplication

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
    *COMMON_DOCUMENT_KINDS,
]

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
# The statuses in which the documents are offered: from 登錄中 on (the assurance has its
# 登錄編號), not for a case being entered or withdrawn.
NO_DOCUMENTS = (Status.DRAFT, Status.CANCELLED)


def shtc_of(application):
    """The case's ShtcApplication, or None (a case made outside the 9-1-1 entry)."""
    try:
        return application.shtc
    except ShtcApplication.DoesNotExist:
        return None


def documents_offered(application):
    return application.status not in NO_DOCUMENTS


class ShtcProcedure(Procedure):
    """Reviewed by the bureau (SHTC-13); 9-1-1 registers the assurance first (登錄中)."""

    def validity(self, application, issued_on):
        """SHTC-14: partial shipments are allowed unless the case said 不分批. (The period
        stays the framework's 6 months here; shtc.rules.validity decides 6 months or 2
        years when the review wires it in.)"""
        valid_from, valid_until, _partial = super().validity(application, issued_on)
        shtc = shtc_of(application)
        return valid_from, valid_until, shtc.partial_shipment if shtc else True

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
        if shtc.end_use:
            rows.append({"label": _("Specific end use (English)"), "code": "end-use",
                         "value": shtc.end_use})
        return rows

    def detail_links(self, application, user):
        """The documents to print (SHTC-3, steps 6 and 7), once the case is registered."""
        if not documents_offered(application):
            return []
        return [{"label": DOCUMENT_LABELS[slug], "code": slug,
                 "url": reverse("shtc:case_document", args=[application.pk, slug])}
                for slug in DOCUMENTS]

    def document_context(self, application, name):
        """The assurance's and affidavit's own data: the end use, 分批, the transit port, and
        which party (buyer or consignee) a version of the assurance names."""
        from shtc import documents

        return documents.context(application, name)


PROCEDURE = ShtcProcedure(
    document_type=DocumentType.SHTC_EXPORT, direction="export",  # export declarations (RECON-2)
    document_kinds=DOCUMENT_KINDS,
    parties=(PartyRole.BUYER, PartyRole.CONSIGNEE, PartyRole.END_USER),
    # The changes the SHTC manual names (SHTC-8 to SHTC-11).
    change_kinds=(Kind.CORRECTION, Kind.MISMATCH_CORRECTION, Kind.AMENDMENT,
                  Kind.BALANCE_REISSUE),
    pdf_templates={"permit": "pdf/permit.html",
                   "assurance_buyer": "pdf/shtc/assurance.html",
                   "assurance_consignee": "pdf/shtc/assurance.html",
                   "affidavit": "pdf/shtc/red_flag_affidavit.html"},
    # 註銷 sends the user here with 餘額註銷證號 filled in (SHTC-11).
    new_application_url="shtc:application_basic")
