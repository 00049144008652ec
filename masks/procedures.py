"""What the mask procedure tells the shared permit framework (permits/procedures.py)."""

from masks.models import Category
from permits.models import DocumentType, Kind
from permits.procedures import Procedure


class MaskProcedure(Procedure):
    """Issued at once by the portal's own checks, without a reviewer (MASK-3); valid six
    months, the framework's default (*decision*: the manual names no period). Items carry
    the mask category's code in Item.category (MASK-2)."""

    def item_category_label(self, code):
        """醫用 / 非醫用 for the mask category's code."""
        return Category(code).label if code in Category.values else code


# Its permits are cited by import declarations alone (RECON-2).
PROCEDURE = MaskProcedure(document_type=DocumentType.MASK_IMPORT, auto_issue=True,
                          direction="import",
                          # 更正輸入許可 (MASK-10), and 餘額重簽 after 註銷 (PERMIT-3)
                          change_kinds=(Kind.CORRECTION, Kind.MISMATCH_CORRECTION,
                                        Kind.CLEARED_CORRECTION, Kind.BALANCE_REISSUE),
                          new_application_url="masks:application_basic",
                          admin_inlines=("masks.admin.MaskApplicationInline",))
