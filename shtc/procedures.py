"""What the SHTC export procedure tells the shared permit framework (permits/procedures.py):
its parties (買方, 收貨人, 最終使用者: SHTC-15), the documents a case carries (SHTC-2), its
changes (SHTC-8 to SHTC-11), its PDF documents (SHTC-3: the end-use assurance in a buyer and
a consignee version, the red-flag affidavit) and what its case page shows."""

from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Subquery
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from permits.case_html import case_link
from permits.models import DocumentType, Kind, PartyRole, Status
from permits.procedures import COMMON_DOCUMENT_KINDS, Procedure
from portal.languages import per_language
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
    # SHTC-6: 列印最終用途保證書登錄資料, a 9-2-1 assurance for Iran or North Korea, in English
    # for the exporter and the foreign importer to sign (shtc/iran.py).
    "iran-registration": ("iran_registration", "en", None),
}
DOCUMENT_LABELS = {
    "assurance-buyer": gettext_lazy("End-use assurance (buyer version)"),
    "assurance-consignee": gettext_lazy("End-use assurance (consignee version)"),
    "red-flag-affidavit": gettext_lazy("Red-flag list (abnormal transaction) affidavit"),
    "iran-registration": gettext_lazy("Print the end-use assurance registration data"),
}
# The documents of a 9-2-1 assurance (SHTC-6): its registration data and the affidavit.
IRAN_ASSURANCE_DOCUMENTS = ["iran-registration", "red-flag-affidavit"]
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
# SHTC-11 for a permit to Iran or North Korea (ShtcProcedure.balance_reissue_problem).
BALANCE_OWN_PROCEDURE = gettext_lazy(
    "A permit to Iran or North Korea is not re-issued for its balance here: its end-use "
    "assurance cannot be changed once registered. For the goods not yet exported, register a "
    "new end-use assurance in 9-2-1 and apply with it in 9-2-2.")
FILING_TITLE = gettext_lazy("9-1-2 Not to Iran or North Korea: document upload and SHTC "
                            "export permit application / cancellation")
IRAN_APPLICATION_TITLE = gettext_lazy("9-2-2 To Iran or North Korea: SHTC export permit "
                                      "application")
# SHTC-13: a case for Iran or North Korea goes to inter-agency consultation (協查).
CONSULTATION_NOTE = gettext_lazy(
    "Cases for Iran and North Korea go to inter-agency consultation (協查): the review takes "
    "25 to 30 working days.")
# What a filed 9-2-2 application's page and status mail say next (ShtcProcedure.next_step).
IRAN_APPLICATION_NEXT = format_lazy(
    "{upload} {consultation}", consultation=CONSULTATION_NOTE, upload=gettext_lazy(
        "Upload the documents the case still misses on its upload page (9-2-2)."))
# 9-2-2 (SHTC-7): SHTC-2 items 1 to 5, uploaded after 申請 (shtc/requirements.py).
IRAN_APPLICATION_KINDS = ("assurance", "red_flag_affidavit", "catalogue", "transaction",
                          "end_user_profile")


# The transit port's name, read with the case on its page (Procedure.case_annotations).
PORT_NAME = "shtc_transit_port_name"


def shtc_of(application):
    """The case's ShtcApplication, or None (a case made outside the 9-1-1 entry)."""
    try:
        return application.shtc
    except ShtcApplication.DoesNotExist:
        return None


def transit_port_text(application, shtc):
    """The case's transit port as "USLAX Los Angeles", or its code alone if it is not on file:
    from the name the case page's query read with the case (PORT_NAME), else by the
    reviewer's panel's look-up (shtc.review._port)."""
    if hasattr(application, PORT_NAME):
        name = getattr(application, PORT_NAME)
        return shtc.transit_port if name is None else f"{shtc.transit_port} {name}"
    from shtc import review

    return review._port(shtc.transit_port) or shtc.transit_port


def documents_offered(application):
    return application.status not in NO_DOCUMENTS


def is_iran_application(application):
    """Whether the case is a 9-2-2 application, loaded from an Iran / North Korea end-use
    assurance registered in 9-2-1 (SHTC-7)."""
    shtc = shtc_of(application)
    return shtc is not None and shtc.assurance_id is not None


def documents_follow_filing(application):
    """Whether the case is filed by 申請 (暫存 → 初審中) before its documents, which follow on
    its upload page (shtc/filing_views.py): without an end-use assurance (SHTC-5, manual
    §1.1.1.2.2 步驟7) and a 9-2-2 application (SHTC-7, §1.1.2 步驟5)."""
    shtc = shtc_of(application)
    return shtc is not None and (not shtc.with_assurance or shtc.assurance_id is not None)


def filing_title(application):
    """The menu entry whose upload page the case's documents go to: 9-1-2, or 9-2-2."""
    return IRAN_APPLICATION_TITLE if is_iran_application(application) else FILING_TITLE


# detail_links' words in the language in force, made once a language: the documents' labels
# and the two upload pages' titles are lazy texts, each a gettext when cast.
# The titles by the id of the lazy text filing_title() gives (module constants: their ids
# stay theirs), so that which title a case takes stays filing_title()'s rule alone.
_link_words = per_language(lambda: (
    {slug: str(label) for slug, label in DOCUMENT_LABELS.items()},
    {id(title): str(title) for title in (FILING_TITLE, IRAN_APPLICATION_TITLE)}))


def documents_of(application):
    """The slugs of DOCUMENTS the case offers now: none before it is registered or filed;
    without an end-use assurance (SHTC-5) only the red-flag affidavit (步驟6)."""
    if not documents_offered(application):
        return []
    if documents_follow_filing(application):
        # Without an assurance there is none to print; 9-2-2's is the one printed from its
        # 9-2-1 registration.
        return ["red-flag-affidavit"]
    from shtc import iran

    if iran.is_assurance(application):
        return list(IRAN_ASSURANCE_DOCUMENTS)  # SHTC-6
    return [slug for slug in DOCUMENTS if slug != "iran-registration"]


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
            rows.append({"label": _("Transit port code"), "code": "transit-port",
                         "value": transit_port_text(application, shtc)})
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
        if shtc.assurance_id is not None:
            rows.append({"label": _("End-use assurance registration number"),
                         "code": "assurance",
                         "value": shtc.assurance.registration_no or ""})
        from shtc import iran

        if iran.is_assurance(application):
            # SHTC-6: North Korea's trade ban, on every page of its 9-2-1 assurance.
            rows.extend({"label": _("Warning"), "code": code.replace("_", "-"),
                         "value": message} for code, message in iran.trade_ban(application))
        return rows

    def documents_due(self, application, to):
        """SHTC-5: a case without an end-use assurance is filed by 申請 (暫存 → 初審中) before
        its documents, which are uploaded afterwards in 9-1-2 (manual §1.1.1.2.2 步驟7): the
        filing does not wait for them. The case page and the reviewer still see what is
        missing (permits.documents)."""
        if application.status == Status.DRAFT and to == Status.INITIAL_REVIEW and \
                documents_follow_filing(application):
            return False  # so too 9-2-2 (SHTC-7): 申請, then the documents
        return super().documents_due(application, to)

    def upload_kinds(self, application):
        """Beyond the framework's (a draft, 登錄中, 補件): without an end-use assurance the
        documents follow 申請, so they are taken while the case is in 初審中 (SHTC-5 步驟7),
        and so are those of a 9-2-2 application, SHTC-2 items 1 to 5 (SHTC-7 步驟5);
        an approved exhibition permit takes its proof of re-import, and only that (SHTC-5
        (1)), whatever its validity: a late proof is still the proof."""
        from shtc import iran

        if iran.is_assurance(application):
            return []  # SHTC-6: its documents go with the 9-2-2 application (SHTC-7)
        kinds = super().upload_kinds(application)
        if kinds:
            return [code for code in kinds if code != REIMPORT_PROOF]
        if not documents_follow_filing(application):
            return []
        shtc = shtc_of(application)
        if application.status == Status.INITIAL_REVIEW:
            if shtc.assurance_id is not None:
                return list(IRAN_APPLICATION_KINDS)  # 9-2-2: SHTC-2 items 1 to 5
            return [code for code, _label in self.document_kinds if code != REIMPORT_PROOF]
        if application.status == Status.APPROVED and \
                shtc.assurance_route == AssuranceRoute.EXHIBITION:
            return [REIMPORT_PROOF]
        return []

    def detail_links(self, application, user):
        """The documents to print (SHTC-3, steps 6 and 7), once the case is registered; and
        9-1-2, where the documents are uploaded and the case filed (SHTC-4), while the case
        takes documents (upload_kinds: 登錄中, 補件, and a case without an end-use assurance
        or a 9-2-2 application after its 申請, SHTC-5, SHTC-7). A draft is still its entry's."""
        links = []
        labels, titles = _link_words()
        if application.status != Status.DRAFT and self.upload_kinds(application):
            links.append({"label": titles[id(filing_title(application))], "code": "filing",
                          "url": case_link("shtc:filing_case", application.pk)})
        links.extend({"label": labels[slug], "code": slug,
                      "url": case_link("shtc:case_document", application.pk, slug)}
                     for slug in documents_of(application))
        from shtc import iran

        if application.status == Status.DRAFT and iran.is_assurance(application):
            # A 9-2-1 assurance being entered, or reopened by the bureau (SHTC-6), for the
            # one who enters it (permits.entry.drafts_of).
            from permits.entry import drafts_of
            from shtc.iran_entry import IRAN_ASSURANCE

            if drafts_of(user).filter(pk=application.pk).exists():
                links.append({"label": IRAN_ASSURANCE.title, "code": "iran-assurance",
                              "url": IRAN_ASSURANCE.url("edit", application.pk)})
        return links

    def suggested_move(self, application):
        """SHTC-13: a case for Iran or North Korea goes to inter-agency consultation (協查中)
        by default, preselected in the reviewer's admin until it has been there."""
        from shtc import rules

        if application.status != Status.INITIAL_REVIEW or \
                not rules.has_own_procedure(application.destination_country):
            return None
        if application.status_changes.filter(new=Status.CONSULTATION).exists():
            return None
        return Status.CONSULTATION

    def required_documents(self, application):
        """SHTC-2, from the case's route, destination and the origins of its items
        (shtc/requirements.py). None for a 9-2-1 assurance: the documents go with the 9-2-2
        application loaded from it (SHTC-7)."""
        from shtc import iran, requirements

        if iran.is_assurance(application):
            return []
        return requirements.required_documents(application)

    def balance_reissue_problem(self, permit):
        """*decision*: a permit to Iran or North Korea is cancelled (註銷) like any other, but
        its balance is not re-issued through 9-1-1, which takes no such destination: its goods
        need an end-use assurance registered in 9-2-1 (SHTC-6), which cannot be changed once
        registered, so the balance goes through 9-2-1 and 9-2-2 anew."""
        from shtc import rules

        version = permit.current
        if version is not None and rules.has_own_procedure(
                version.application.destination_country):
            return ValidationError(BALANCE_OWN_PROCEDURE, code="own_procedure")
        return None

    def cancel_note(self, application):
        """FAQ 3.13 (2): a case the bureau holds is cancelled by its Trade Security and
        Control Section, on the applicant's call (9-1-2 says the same)."""
        from shtc.services import BUREAU_PHONE

        return _("This case is “%(status)s”: it can no longer be cancelled here. To cancel "
                 "it, call the Trade Security and Control Section of the Bureau of Foreign "
                 "Trade at %(phone)s.") % {"status": application.get_status_display(),
                                          "phone": BUREAU_PHONE}

    def next_step(self, application):
        """SHTC-6: a registered Iran / North Korea assurance is locked (what to print, where
        it is filed, and who reopens it); reopened, the applicant corrects and registers it
        again."""
        from shtc import iran

        if iran.locked(application):
            return f"{iran.MESSAGES['registered_next']} {iran.locked_message()}"
        if application.status == Status.DRAFT and iran.registered(application):
            return str(iran.MESSAGES["reopened_next"])
        if application.status == Status.INITIAL_REVIEW and is_iran_application(application):
            # 9-2-2 filed (SHTC-7): its documents follow; 協查 by default (SHTC-13).
            return str(IRAN_APPLICATION_NEXT)
        return super().next_step(application)

    def offers_move(self, application, to):
        """SHTC-6: the bureau reopens (登錄中 → 暫存) a 9-2-1 assurance only, and a registered
        one is never cancelled (FAQ 3.13 (2))."""
        from shtc import iran

        if application.status == Status.REGISTERED and to == Status.DRAFT:
            return iran.is_assurance(application)
        if to == Status.CANCELLED:
            return iran.cancel_problem(application) is None
        return True

    def check_transition(self, application, to):
        """SHTC-4: 案件申請 (登錄中 → 初審中) needs the specific end use in English, as well as
        the required documents (the framework's check). SHTC-6 (shtc/iran.py): a registered
        Iran / North Korea assurance is never cancelled, by anyone, and not filed itself
        (9-2-2 files an application loaded from it); only such an assurance is reopened by
        the bureau. Asked by workflow.transition() under the case's row lock, in the
        transaction that makes the move."""
        from shtc import iran

        if to == Status.CANCELLED:
            problem = iran.cancel_problem(application)
            if problem:
                return problem.message
        if application.status == Status.REGISTERED and iran.is_assurance(application) \
                and to == Status.INITIAL_REVIEW:
            return iran.MESSAGES["filed_in_9_2_2"]
        if application.status == Status.REGISTERED and to == Status.DRAFT and \
                not iran.is_assurance(application):
            return iran.MESSAGES["reopen_9_2_1"]
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

    def on_submitted(self, application):
        """申請: the case's risk flags (issue 14, X6), computed and stored; never a refusal."""
        from shtc import risk

        risk.flag_case(application)

    def document_context(self, application, name):
        """The assurance's and affidavit's own data: the end use, 分批, the transit port, and
        which party (buyer or consignee) a version of the assurance names."""
        from shtc import documents

        return documents.context(application, name)


PROCEDURE = ShtcProcedure(
    document_type=DocumentType.SHTC_EXPORT, direction="export",  # export declarations (RECON-2)
    # Approval by a second, senior reviewer after 複審 (issue 14, point 3).
    four_eyes=True,
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
                   "affidavit": "pdf/shtc/red_flag_affidavit.html",
                   "iran_registration": "pdf/shtc/iran_registration.html"},
    # 註銷 sends the user here with 餘額註銷證號 filled in (SHTC-11).
    new_application_url="shtc:application_basic",
    # What its hooks read beside the case, read with it on the case page: its SHTC row and
    # 9-2-1 assurance (shtc_of, detail_rows), and the changed version's case with its SHTC
    # row (shtc/requirements.py: what a 更正 changes of the assurance signed).
    case_related=("shtc__assurance", "changes__application__shtc"),
    # and that changed version's items and parties (shtc/requirements.py), with the case's.
    related_parts=(("changes__application", ("items", "parties")),),
    # and the name of its transit port (detail_rows), looked up in that query too.
    case_annotations={PORT_NAME: Subquery(Port.objects.filter(
        code=OuterRef("shtc__transit_port")).values("name"))})
