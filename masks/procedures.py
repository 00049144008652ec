"""What the mask procedure tells the shared permit framework (permits/procedures.py)."""

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from masks.models import WRITE_OFF_ROUTES, Category, MaskApplication, Route
from permits.fields import plain_decimal
from permits.models import DocumentType, Kind
from permits.procedures import Procedure


def _route(application):
    try:
        return application.mask.route
    except MaskApplication.DoesNotExist:
        return None


class MaskProcedure(Procedure):
    """Issued at once by the portal's own checks, without a reviewer (MASK-3); valid six
    months, the framework's default (*decision*: the manual names no period). Items carry
    the mask category's code in Item.category (MASK-2)."""

    def item_category_label(self, code):
        """醫用 / 非醫用 for the mask category's code."""
        return Category(code).label if code in Category.values else code

    def detail_rows(self, application):
        """進口狀況 (MASK-4), on the case page and the permit PDF."""
        route = _route(application)
        if route is None:
            return []
        return [{"label": _("Import situation"), "value": Route(route).label, "code": route}]

    def detail_links(self, application, user):
        """From an issued case, for its applicant or filing agent: 進口數量申報 (MASK-5) for
        an import without a declaration while the permit is not cancelled, and 口罩流向登錄作業
        (MASK-6), which opens a permit imported without a declaration by its number."""
        version = application.permit_version
        if version is None or user.pk not in (application.applicant_id, application.agent_id):
            return []
        route = _route(application)
        permit = version.permit
        links = []
        if route in WRITE_OFF_ROUTES:
            if permit.revoked_at is None:
                links.append({"label": _("Declare the imported quantity"), "code": "write-off",
                              "url": reverse("masks:write_off_add") + "?" + urlencode(
                                  {"permit_no": permit.permit_no, "route": route})})
            flows = reverse("masks:flow_start") + "?" + urlencode(
                {"permit_no": permit.permit_no})
        else:
            flows = reverse("masks:flow_start")
        links.append({"label": _("Register a flow"), "code": "flows", "url": flows})
        return links

    def dashboard_notes(self, cases):
        """庫存 of the permit of each issued case (every source of it, MASK-6) that has stock
        or flows not declared. One query."""
        from masks import services

        permits = {case.pk: case.permit_version.permit_id for case in cases
                   if case.permit_version is not None}
        totals = services.permit_stock(set(permits.values())) if permits else {}
        notes = {}
        for case_pk, permit_id in permits.items():
            total = totals.get(permit_id)
            if total is None:
                continue
            note = _("Stock %(stock)s") % {"stock": plain_decimal(total["stock"])}
            if total["pending"] > 0:
                note += " · " + _("%(quantity)s in flows not declared") % {
                    "quantity": plain_decimal(total["pending"])}
            notes[case_pk] = note
        return notes


# Its permits are cited by import declarations alone (RECON-2).
PROCEDURE = MaskProcedure(document_type=DocumentType.MASK_IMPORT, auto_issue=True,
                          direction="import",
                          # 更正輸入許可 (MASK-10), and 餘額重簽 after 註銷 (PERMIT-3)
                          change_kinds=(Kind.CORRECTION, Kind.MISMATCH_CORRECTION,
                                        Kind.CLEARED_CORRECTION, Kind.BALANCE_REISSUE),
                          new_application_url="masks:application_basic",
                          admin_inlines=("masks.admin.MaskApplicationInline",),
                          # 分批 means nothing for a mask import (issue 9)
                          shows_partial_shipment=False,
                          # its 進口狀況 (detail_rows), read with the case on its page
                          case_related=("mask",))
