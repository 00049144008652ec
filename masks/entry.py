"""The mask procedure's entry flows over permits.entry, in the manual's words
(seeds/000_1bffabeada53a817.txt): 輸入許可申請 (basic data → 下一步 → 新增貨品明細 → 確認 → 申請,
issued at once, MASK-1 to MASK-3; or 餘額註銷證號 → 帶入參考資料 for the balance of a cancelled
permit, PERMIT-3) and 更正輸入許可 (帶入原始資料 → 下一步 → 項次 → 確認 → 申請, MASK-10)."""

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from masks.forms import (
    CATEGORY_LABEL,
    CORRECTION_KINDS,
    ROUTE_LABEL,
    CorrectionBasicForm,
    CorrectionItemForm,
    MaskBasicDataForm,
    MaskItemForm,
)
from masks.models import MaskApplication, Route
from permits import entry
from permits.models import DocumentType, Kind, Status

SECTION = gettext_lazy("Face-mask import permits")


def route_of_case(application):
    try:
        return application.mask.route
    except MaskApplication.DoesNotExist:
        return None


class MaskEntry(entry.CaseEntry):
    """What both mask entries share: issued at once (MASK-3), the import route kept beside
    the case, the mask category column."""

    document_type = DocumentType.MASK_IMPORT
    namespace = "masks"
    section = SECTION
    final_status = Status.APPROVED
    final_by_system = True  # no reviewer: the portal issues it, recording who filed it
    category_heading = CATEGORY_LABEL
    item_form_class = MaskItemForm
    templates = {**entry.CaseEntry.templates, "item": "masks/item_form.html"}
    item_help = gettext_lazy("Choose the category of the masks imported, medical or "
                             "non-medical, then the tariff code of that category.")

    def extra_basic(self, application):
        route = route_of_case(application)
        return {"route": route} if route else {}

    def extra_rows(self, application):
        route = route_of_case(application)
        return [(ROUTE_LABEL, Route(route).label if route else "")]

    def copy_extra(self, source, application):
        MaskApplication.objects.create(application=application,
                                       route=route_of_case(source) or Route.DECLARATION)

    def done_url(self, application):
        return reverse("masks:application_issued", args=[application.pk])

    def done_message(self, application):
        return _("The permit was issued; its number was e-mailed to %(email)s.") % {
            "email": application.company_email}


class MaskApplicationEntry(MaskEntry):
    """輸入許可申請 (MASK-1 to MASK-4), and the 餘額重簽 of a cancelled mask permit."""

    kinds = (Kind.NEW, Kind.BALANCE_REISSUE)
    prefix = "application"
    url_root = "apply/"
    title = gettext_lazy("Import permit application")
    basic_form_class = MaskBasicDataForm
    balance_reissue = True
    basic_help = gettext_lazy(
        "Fill in the applicant's basic data; a filing agent (such as a customs broker) files "
        "for an applicant whose account exists, with the applicant's identifier. Then click "
        "“Next step”.")
    review_help = gettext_lazy(
        "Check the data below, then add the goods items with “Add goods item”. When every "
        "item is entered, click “Apply”: the permit is issued at once and its number is "
        "e-mailed to the applicant company e-mail.")
    review_help_fixed_items = gettext_lazy(
        "Check the data below: the items are what was left of the cancelled permit. Click an "
        "item number to lower its quantity, or delete it; then click “Apply”: the permit is "
        "issued at once and its number is e-mailed to the applicant company e-mail.")

    def save_basic(self, application, form):
        MaskApplication.objects.update_or_create(
            application=application, defaults={"route": form.cleaned_data["route"]})


class MaskCorrectionEntry(MaskEntry):
    """更正輸入許可 (MASK-10): starts on masks:correction_start (帶入原始資料); the English
    name, contact phone and e-mail change, and each item's category, tariff code, unit price,
    currency, quantity and origin; no item is added or deleted."""

    kinds = CORRECTION_KINDS
    prefix = "correction"
    url_root = "corrections/"
    start_url_name = "masks:correction_start"
    # 原許可號碼 for each kind (the mask manual's 更正輸入許可).
    change_numbers = dict.fromkeys(CORRECTION_KINDS, (entry.PERMIT_NO,))
    kind_help = (
        (Kind.CORRECTION.label, gettext_lazy(
            "A change the applicant asks for after the permit was issued, while no customs "
            "clearance has been recorded under it.")),
        (Kind.MISMATCH_CORRECTION.label, gettext_lazy(
            "After the bureau's matching of a declaration with the permit found a mismatch, "
            "while no goods were released under it.")),
        (Kind.CLEARED_CORRECTION.label, gettext_lazy(
            "After the permit went through customs clearance, at the request of a customs "
            "officer.")),
    )
    title = gettext_lazy("Correct an import permit")
    basic_form_class = CorrectionBasicForm
    item_form_class = CorrectionItemForm
    add_items = False
    delete_items = False
    templates = {**MaskEntry.templates, "basic": "masks/correction_basic.html"}
    basic_help = gettext_lazy("Here the English name, the contact phone and the e-mail can "
                              "change.")
    review_help = gettext_lazy("To change an item's mask category, unit price, currency, "
                               "quantity or origin, click its item number.")

    def context(self, application, **extra):
        context = super().context(application, **extra)
        if application is not None:
            context.setdefault("original_rows", self.basic_rows(application))
        return context

    def item_form_kwargs(self, application, line_no):
        item = application.items.filter(line_no=line_no).first() if line_no else None
        return {"permit": application.changes.permit,
                "line_no": (item.source_line_no or item.line_no) if item else line_no}

    def header(self, application):
        version = application.changes
        return _("Original permit number: %(permit)s (version %(version)s) · Application "
                 "kind: %(kind)s · Change description: %(description)s") % {
            "permit": version.permit.permit_no, "version": version.version,
            "kind": application.get_kind_display(),
            "description": application.change_description}

    def done_message(self, application):
        version = application.permit_version
        return _("The correction was issued as version %(version)s of permit %(permit)s.") % {
            "version": version.version, "permit": version.permit.permit_no}


APPLICATION = entry.register(MaskApplicationEntry())
CORRECTION = entry.register(MaskCorrectionEntry())
