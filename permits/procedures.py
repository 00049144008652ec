"""What differs between procedures, asked by the shared framework.

masks/ and shtc/ register a Procedure for their document types in AppConfig.ready(). A
document type nobody registered gets the defaults below (used by the framework's own tests
and the demo data until the procedures land).
"""

from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta
from django.utils.translation import gettext_lazy as _

from permits.models import DocumentType, Status

# Attachment kinds every procedure accepts; procedures add their own (SHTC-2).
COMMON_DOCUMENT_KINDS = [
    ("supplement", _("Supplementary document")),
    ("other", _("Other document")),
]


@dataclass
class Procedure:
    document_type: str
    document_kinds: list = field(default_factory=lambda: list(COMMON_DOCUMENT_KINDS))
    validity_months: int = 6
    # Issued at once by the portal's own checks, without a reviewer (masks, MASK-3).
    auto_issue: bool = False

    def validity(self, application, issued_on):
        """(valid_from, valid_until, partial_shipment) for a new permit version."""
        until = issued_on + relativedelta(months=self.validity_months) - relativedelta(days=1)
        return issued_on, until, True

    def item_category_label(self, code):
        """The words for an item's category code (Item.category) on pages and the PDF."""
        return code

    def check_transition(self, application, to):
        """A reason the procedure refuses the move, or None."""
        if (application.status == Status.DRAFT and to == Status.APPROVED
                and not self.auto_issue):
            return _("This document type is reviewed by the bureau: submit the case.")
        if to in (Status.REGISTERED, Status.INITIAL_REVIEW, Status.APPROVED) and \
                not application.items.exists():
            return _("Add at least one goods item first.")
        return None


_registry: dict[str, Procedure] = {}


def register(procedure):
    _registry[procedure.document_type] = procedure


def get(document_type):
    return _registry.get(document_type) or Procedure(document_type=DocumentType(document_type))


def document_kind_choices(document_type):
    return get(document_type).document_kinds
