"""What the mask procedure tells the shared permit framework (permits/procedures.py)."""

from masks.models import Category
from permits.models import DocumentType
from permits.procedures import Procedure


class MaskProcedure(Procedure):
    """Issued at once by the portal's own checks, without a reviewer (MASK-3); valid six
    months, the framework's default (*decision*: the manual names no period). Items carry
    the mask category's code in Item.category (MASK-2)."""

    def item_category_label(self, code):
        """醫用 / 非醫用 for the mask category's code."""
        return Category(code).label if code in Category.values else code


PROCEDURE = MaskProcedure(document_type=DocumentType.MASK_IMPORT, auto_issue=True)
