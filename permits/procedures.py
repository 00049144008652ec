"""What differs between procedures, asked by the shared framework.

A procedure (masks/, shtc/) is a thin package over permits/: it registers a Procedure for
its document type in AppConfig.ready() and declares there what is its own: its document
kinds and which of them a case requires, the parties it asks for, the change kinds it
allows, its PDF documents, its declaration direction, its admin inlines and the entry
flows (permits.entry) that create its cases; its demo data goes to portal.demo. A document
type nobody registered gets the defaults below (used by the framework's own tests).
"""

from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta
from django.utils.translation import gettext_lazy as _

from permits.models import DocumentType, Kind, Status

# Attachment kinds every procedure accepts; procedures add their own (SHTC-2).
COMMON_DOCUMENT_KINDS = [
    ("supplement", _("Supplementary document")),
    ("other", _("Other document")),
]

# The moves that send a case to the bureau or issue it: its required documents must be there.
FILING_MOVES = (Status.INITIAL_REVIEW, Status.APPROVED)


@dataclass
class Procedure:
    document_type: str
    document_kinds: list = field(default_factory=lambda: list(COMMON_DOCUMENT_KINDS))
    validity_months: int = 6
    # Issued at once by the portal's own checks, without a reviewer (masks, MASK-3).
    auto_issue: bool = False
    # Four eyes (issue 14, point 3): 准件結案 is made in 複審中 by a reviewer holding
    # permits.approve_application who did not take the case through 初審
    # (permits.workflow.four_eyes_problem).
    four_eyes: bool = False
    # The declarations that may cite its permits (reconciliation.models.Direction value):
    # "import" or "export"; None accepts either.
    direction: str | None = None
    # The parties its cases name (permits.models.PartyRole values), in the order shown.
    parties: tuple = ()
    # The change kinds of an issued permit it allows (permits.models.Kind values, PERMIT-2).
    change_kinds: tuple = ()
    # Its PDF documents: {name: template}; "permit" is printed for an issued version.
    pdf_templates: dict = field(default_factory=lambda: {"permit": "pdf/permit.html"})
    # The URL name of the entry page where a new case of the procedure starts; 註銷 sends
    # the user there with 餘額註銷證號 filled in (SHTC-11).
    new_application_url: str | None = None
    # Admin inlines shown on the one case page for cases of this procedure, after the items:
    # dotted paths ("masks.admin.MaskApplicationInline"), so this module imports no admin.
    admin_inlines: tuple = ()
    # Whether the permit PDF prints 分批 (可/不可): meaningless for masks (issue 9).
    shows_partial_shipment: bool = True
    # The rows its hooks read beside the case (select_related names from Application: SHTC's
    # "shtc"), read with the case on the case page in the case's own query (permits.views).
    case_related: tuple = ()
    # The parts of the cases beside a case that its hooks read: (path, names), the path from
    # the case through case_related ("changes__application": the case whose version a change
    # changes), the names among permits.views.CASE_PARTS; read on the case page in the round
    # trip that reads the case's own parts.
    related_parts: tuple = ()
    # Values its hooks read beside the case, computed in the case page's one query:
    # {name: an expression over Application}, set on the case as annotations (SHTC: the
    # transit port's name). A hook reading one falls back to its own query where the case was
    # read otherwise (the PDF, the admin).
    case_annotations: dict = field(default_factory=dict)

    def validity(self, application, issued_on):
        """(valid_from, valid_until, partial_shipment) for a new permit version."""
        until = issued_on + relativedelta(months=self.validity_months) - relativedelta(days=1)
        return issued_on, until, True

    def item_category_label(self, code):
        """The words for an item's category code (Item.category) on pages and the PDF."""
        return code

    def detail_rows(self, application):
        """What the procedure adds to a case's data on its page and its permit PDF:
        [{"label", "value", "code"}] (masks: 進口狀況). None by default."""
        return []

    def detail_links(self, application, user):
        """The procedure's pages `user` may go on to from the case page: [{"label", "url",
        "code"}] (masks: 進口數量申報, 流向登錄). None by default."""
        return []

    def dashboard_notes(self, cases):
        """{case pk: text} shown under a case in 我的案件, for the procedure's `cases` on
        the page, read in a fixed number of queries (masks: the stock). None by default."""
        return {}

    def document_context(self, application, name):
        """What the procedure adds to case_context() for its document `name` (a key of
        pdf_templates other than "permit"): its own data, such as SHTC's end use or which
        party a version of the assurance names. None by default."""
        return {}

    def required_documents(self, application):
        """The document kinds (codes of document_kinds) the case must carry before it is
        filed, decided from its data. None by default."""
        return []

    def balance_reissue_problem(self, permit):
        """Why the procedure does not re-issue the balance of `permit` through its new
        application (SHTC-11), as a ValidationError with a code, or None (the default). Asked
        with the 餘額重簽 gates (permits.changes.change_problem) and by 註銷, which then leads
        to the permit's case instead of the new application."""
        return None

    def on_submitted(self, application):
        """Called by workflow.transition() when the case is first submitted (its submitted_at
        set), in the transaction of the move, the case's row locked: SHTC computes its risk
        flags (shtc/risk.py). Must not refuse: a refusal is check_transition's."""

    def cancel_note(self, application):
        """What the case page tells its applicant when only the bureau can cancel the case
        now (workflow.cancelled_by_bureau_only; SHTC-12: call the bureau), or ""."""
        return ""

    def next_step(self, application):
        """What the applicant does next with the case, on its page and in its status mail:
        permits.notifications.NEXT_STEP for its status by default. A procedure whose case
        goes otherwise says so (SHTC-6: a registered Iran / North Korea assurance is locked
        and filed in 9-2-2)."""
        from permits.notifications import NEXT_STEP

        return NEXT_STEP.get(application.status, "")

    def offers_move(self, application, to):
        """Whether the reviewer's admin offers the move `to` for the case, among those the
        table gives the bureau (workflow.allowed_moves): a move the procedure keeps for some
        of its cases only (SHTC-6: reopening a registered Iran / North Korea assurance) is
        not offered for the others. Cheap (no query): asked for each button. check_transition
        refuses the move again when it is made."""
        return True

    def check_transition(self, application, to):
        """A reason the procedure refuses the move, or None."""
        if (application.status == Status.DRAFT and to == Status.APPROVED
                and not self.auto_issue):
            return _("This document type is reviewed by the bureau: submit the case.")
        if to in (Status.REGISTERED, Status.INITIAL_REVIEW, Status.APPROVED) and \
                not application.items.exists():
            return _("Add at least one goods item first.")
        if self.documents_due(application, to):
            from permits import documents

            missing = documents.missing(application)
            if missing:
                return _("Upload the required documents first: %(kinds)s.") % {
                    "kinds": "、".join(str(label) for _code, label in missing)}
        if to in FILING_MOVES and application.status == Status.REGISTERED and \
                application.kind != Kind.NEW:
            # A change registered first (SHTC-8 to SHTC-10) and filed later (9-1-2 案件申請):
            # its gates again, under the permit's lock, as 申請 of a draft asks them
            # (permits.entry.draft_submit); approval asks them once more (permit_issue).
            from django.core.exceptions import ValidationError

            from permits import changes

            try:
                changes.check_change(application)
            except ValidationError as error:
                return " ".join(error.messages)
        return None

    def suggested_move(self, application):
        """The move the reviewer's admin preselects for the case now (a Status among those
        the bureau may make), or None (SHTC-13: Iran and North Korea go to 協查中)."""
        return None

    def documents_due(self, application, to):
        """Whether the move `to` waits for the case's required documents: a filing move
        (FILING_MOVES) of a case the applicant still holds. A procedure whose documents may
        follow the filing says no for that case (SHTC-5: 申請 first, documents in 9-1-2)."""
        return to in FILING_MOVES and application.status in (Status.DRAFT, Status.REGISTERED)

    def upload_kinds(self, application):
        """The document kinds (codes of document_kinds) the applicant may add to the case
        now: every kind while the case is open for documents (attachments.OPEN_FOR_DOCUMENTS),
        none once the bureau has it or it is closed. A procedure may open a kind later (SHTC-5:
        the proof of re-import of an approved exhibition permit)."""
        from permits.attachments import OPEN_FOR_DOCUMENTS

        if application.status in OPEN_FOR_DOCUMENTS:
            return [code for code, _label in self.document_kinds]
        return []


_registry: dict[str, Procedure] = {}


def register(procedure):
    _registry[procedure.document_type] = procedure


def get(document_type):
    return _registry.get(document_type) or Procedure(document_type=DocumentType(document_type))


def registered():
    """Every registered procedure (for the hooks the framework runs over all of them)."""
    return list(_registry.values())


def document_kind_choices(document_type):
    return get(document_type).document_kinds
