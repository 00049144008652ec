"""The mask procedure's forms, screen by screen as the manual shows them: basic data and goods
items of 輸入許可申請 (MASK-1, MASK-2), the first pages of 更正輸入許可 (MASK-10) and
非報單輸入口罩核銷 (MASK-5).

Error codes beyond those of permits.fields and masks.services:

    unknown_applicant     an agent's applicant identifier with no applicant account
    category_mismatch     a tariff code of the other mask category
    nothing_to_write_off  a write-off with no quantity in either category
    counterparty_required a flow for sale without whom the masks went to
    whole_pieces          part of a mask: the quantities of flows, returns and write-offs,
                          and of items in pieces (PCE), are whole numbers
    date_in_future, date_before_clearance   a flow's date (masks.services)

Masks are counted in whole pieces (the manual: 醫用類別50片, 10片口罩): every quantity of
masks the portal takes is a whole number (PiecesField), and an item's quantity too when its
unit is PCE. "10.0" is 10; "0.5" is refused with a message that says why.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from masks import services
from masks.models import (
    FLOW_CATEGORIES_WITHOUT_DOCUMENTS,
    WRITE_OFF_ROUTES,
    Category,
    FlowCategory,
    MaskCode,
    Route,
)
from permits.attachments import ALLOWED_TYPES, check_upload
from permits.change_views import ChangeStartForm
from permits.entry import BasicDataForm
from permits.fields import BaseItemForm, QuantityField, format_tariff_code
from permits.models import Application, Kind
from portal import dates
from portal.forms import AsciiCharField, PortalForm, RocDateField, field_label

ROUTE_LABEL = _("Import situation")
# The change kinds of an issued mask permit that 更正輸入許可 files (MASK-10, PERMIT-3); the
# fourth, 餘額重簽, starts from 輸入許可申請 after 註銷.
CORRECTION_KINDS = (Kind.CORRECTION, Kind.MISMATCH_CORRECTION, Kind.CLEARED_CORRECTION)
CATEGORY_LABEL = _("Mask category")
WHOLE_PIECES = _("Masks are counted in whole pieces: enter a whole number, such as 50.")
PIECES_UNIT = "PCE"


def whole_pieces_error():
    return ValidationError(WHOLE_PIECES, code="whole_pieces")


class PiecesField(QuantityField):
    """A number of masks: greater than 0 and whole (片)."""

    default_error_messages = {"whole_pieces": WHOLE_PIECES}

    def to_python(self, value):
        try:
            number = super().to_python(value)
        except ValidationError as error:
            if error.code == "max_decimal_places":  # 0.12345 is a fraction all the same
                raise whole_pieces_error() from None
            raise
        if number is not None and number != number.to_integral_value():
            raise whole_pieces_error()
        return number


# --- 輸入許可申請: basic data (MASK-1) ---------------------------------------------------------


class MaskBasicDataForm(BasicDataForm):
    """The shared basic data (permits.entry: the applicant's, and an agent's own contact
    data) and the import situation (MASK-4)."""

    route = forms.ChoiceField(label=ROUTE_LABEL, choices=Route.choices,
                              widget=forms.RadioSelect)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["company_email"].help_text = _("The permit number is e-mailed to this "
                                                   "address.")


# --- Goods items (MASK-2) ---------------------------------------------------------------------


class MaskCodeSelect(forms.Select):
    """The tariff codes grouped by category; each option says its category (data-category),
    so that masks/item.js offers only the codes of the category chosen."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if value:
            option["attrs"]["data-category"] = self.categories.get(str(value), "")
        return option

    def get_context(self, name, value, attrs):
        self.categories = dict(MaskCode.objects.values_list("tariff_code", "category"))
        return super().get_context(name, value, attrs)


def mask_code_choices():
    """The tariff codes in use, grouped by category: [(category label, [(code, label)])]."""
    groups = {category: [] for category in Category}
    for code in MaskCode.objects.active():
        groups[code.category].append(
            (code.tariff_code, f"{format_tariff_code(code.tariff_code)} {code.description}"))
    return [("", "---------")] + [(Category(category).label, choices)
                                  for category, choices in groups.items() if choices]


class MaskItemForm(BaseItemForm):
    """One goods item: the mask category (醫用 / 非醫用), then a tariff code of that category,
    quantity, unit, unit price, currency and origin country. The goods name defaults to the
    tariff code's description."""

    category = forms.ChoiceField(label=CATEGORY_LABEL, choices=Category.choices,
                                 widget=forms.RadioSelect)
    tariff_code = forms.ChoiceField(label=capfirst(_("tariff code")), choices=mask_code_choices,
                                    widget=MaskCodeSelect)

    class Meta(BaseItemForm.Meta):
        fields = ["category", "tariff_code", "description", "quantity", "unit", "unit_price",
                  "currency", "amount", "origin_country"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "description" in self.fields:
            self.fields["description"].required = False
            self.fields["description"].help_text = _(
                "Left empty, it is the tariff code's description.")
        if "unit" in self.fields:
            self.fields["unit"].initial = "PCE"

    def clean(self):
        cleaned_data = super().clean()
        code = MaskCode.objects.active().filter(
            tariff_code=cleaned_data.get("tariff_code")).first()
        category = cleaned_data.get("category")
        if code is not None and category and code.category != category:
            self.add_error("tariff_code", ValidationError(
                _("This tariff code is for %(category)s masks."), code="category_mismatch",
                params={"category": code.get_category_display()}))
        if code is not None and "description" in self.fields and \
                not cleaned_data.get("description"):
            cleaned_data["description"] = code.description
        unit = cleaned_data.get("unit") if "unit" in self.fields else self.instance.unit
        quantity = cleaned_data.get("quantity")
        if unit == PIECES_UNIT and quantity is not None and \
                quantity != quantity.to_integral_value():
            self.add_error("quantity", whole_pieces_error())
        return cleaned_data


# --- 更正輸入許可 (MASK-10) --------------------------------------------------------------------


class CorrectionStartForm(ChangeStartForm):
    """The first page (permits.change_views): 申請類別, 原許可號碼 and 更正描述; "帶入原始資料"
    loads the permit's version in force if the user may see it and the kind is allowed now
    (PERMIT-3), each refusal next to its field."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["permit_no"].label = _("Original permit number")  # 原許可號碼
        description = self.fields["change_description"]
        description.label = field_label(Application, "change_description")
        description.widget.attrs.update(rows=2, placeholder=_("e.g. correct the masks' "
                                                              "country of origin"))


class CorrectionBasicForm(PortalForm):
    """The second page: only the English name, contact phone and e-mail change."""

    applicant_name_en = forms.CharField(label=field_label(Application, "applicant_name_en"),
                                        max_length=120, required=False)
    contact_phone = forms.CharField(label=field_label(Application, "contact_phone"),
                                    max_length=30)
    company_email = forms.EmailField(label=field_label(Application, "company_email"),
                                     max_length=254)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)


class CorrectionItemForm(MaskItemForm):
    """An item clicked by its 項次: mask category, tariff code, quantity, unit price, currency
    and origin country change; the unit and goods name stay; the amount follows."""

    unit = None
    amount = None

    class Meta(MaskItemForm.Meta):
        fields = ["category", "tariff_code", "quantity", "unit_price", "currency",
                  "origin_country"]

    def __init__(self, *args, permit, line_no, **kwargs):
        super().__init__(*args, **kwargs)
        self.permit = permit
        self.line_no = line_no

    def add_error(self, field, error):
        # The base form reports an amount too large on "amount", which this form computes
        # instead of asking: the unit price is what the user changes.
        super().add_error("unit_price" if field == "amount" else field, error)

    def clean_quantity(self):
        quantity = self.cleaned_data["quantity"]
        problem = services.below_used(permit=self.permit, line_no=self.line_no,
                                      quantity=quantity)
        if problem:
            raise problem
        return quantity


# --- 非報單輸入口罩核銷 (MASK-5) ---------------------------------------------------------------


class WriteOffQuantityField(PiecesField):
    """A category's quantity in whole pieces: empty or 0 for none (the other category may
    have some)."""

    allow_zero = True


class WriteOffForm(PortalForm):
    """新增核銷: the import situation, the permit number and the quantity per category."""

    route = forms.ChoiceField(label=ROUTE_LABEL, widget=forms.RadioSelect,
                              choices=[(r.value, r.label) for r in WRITE_OFF_ROUTES])
    permit_no = AsciiCharField(label=_("Permit number"), max_length=14)
    medical_quantity = WriteOffQuantityField(label=_("Medical quantity"), required=False)
    non_medical_quantity = WriteOffQuantityField(label=_("Non-medical quantity"),
                                                 required=False)

    FIELD_OF_CATEGORY = {Category.MEDICAL: "medical_quantity",
                         Category.NON_MEDICAL: "non_medical_quantity"}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.permit = None
        self.lines = {}

    def clean(self):
        cleaned_data = super().clean()
        if self.errors:
            return cleaned_data
        quantities = {category: cleaned_data.get(name)
                      for category, name in self.FIELD_OF_CATEGORY.items()}
        if not any(quantities.values()):
            raise ValidationError(_("Enter the quantity imported in at least one category."),
                                  code="nothing_to_write_off")
        try:
            self.permit = services.permit_find(user=self.user,
                                               permit_no=cleaned_data["permit_no"])
        except ValidationError as error:
            self.add_error("permit_no", error)
            return cleaned_data
        problems = services.write_off_problems(permit=self.permit, route=cleaned_data["route"])
        for problem in problems:
            self.add_error("route" if problem.code == "route_mismatch" else "permit_no", problem)
        if problems:
            return cleaned_data
        # A first look at the balances, for the "確認" page; 核銷完成 checks again under the
        # permit's lock (services.write_off_record).
        try:
            self.lines = services.write_off_allocate(permit=self.permit, quantities=quantities)
        except ValidationError as error:
            for category, errors in error.error_dict.items():
                self.add_error(self.FIELD_OF_CATEGORY[category], errors)
        return cleaned_data


# --- 口罩流向登錄作業 and 口罩流向退貨作業 (MASK-6 to MASK-9) ------------------------------------


class StockLoadForm(PortalForm):
    """A number typed to load a stock: `find(number)` finds what it names (among what the
    user may see), or raises the not-found error. Valid, `source` holds it as the keyword
    arguments of services.stock_report_load, which the view calls: clean() only checks that
    something was cleared under it, and writes nothing."""

    field_name = None

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.source = None

    def clean(self):
        cleaned_data = super().clean()
        if self.errors:
            return cleaned_data
        try:
            source = self.find(cleaned_data[self.field_name])
            services.stock_report_check(**source)
        except ValidationError as error:
            self.add_error(self.field_name, error)
        else:
            self.source = source
        return cleaned_data


class DeclarationLoadForm(StockLoadForm):
    """2 (報單): the declaration number; "帶入報單資料" loads its stock."""

    field_name = "declaration_no"
    declaration_no = forms.CharField(label=_("Declaration number"), max_length=14)

    def find(self, number):
        return {"declaration": services.declaration_find(user=self.user, number=number)}


class PermitLoadForm(StockLoadForm):
    """3 (非報單): the permit number of masks imported without a declaration."""

    field_name = "permit_no"
    permit_no = forms.CharField(label=_("Permit number"), max_length=14)

    def find(self, number):
        return {"permit": services.stock_permit_find(user=self.user, permit_no=number)}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class DocumentsField(forms.FileField):
    """Several files in one input; each is checked as case attachments are."""

    widget = MultipleFileInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.widget.attrs["accept"] = ",".join(
            extension for file_type in ALLOWED_TYPES.values()
            for extension in file_type.extensions)

    def clean(self, data, initial=None):
        single = super().clean
        files = data if isinstance(data, (list, tuple)) else [data] if data else []
        cleaned = [single(upload, initial) for upload in files]
        for upload in cleaned:
            check_upload(upload)
        return cleaned


class FlowForm(PortalForm):
    """流向登錄 (MASK-7): the use, quantity, date, counterparty and supporting documents."""

    category = forms.ChoiceField(label=_("Flow"), choices=FlowCategory.choices,
                                 widget=forms.RadioSelect)
    quantity = PiecesField(label=_("Quantity"))
    date = RocDateField(label=_("Date"))
    counterparty = forms.CharField(
        label=_("Counterparty"), max_length=120, required=False,
        help_text=_("Whom the masks went to (not needed for own use)."))
    documents = DocumentsField(
        label=_("Supporting documents"),
        help_text=_("Required for every flow except “Own use (not for sale)”: e.g. the "
                    "invoice or delivery note. PDF, JPEG, PNG, TIFF, XLSX, ODS, DOCX or ODT."))

    def __init__(self, *args, report, **kwargs):
        super().__init__(*args, **kwargs)
        self.report = report
        # MASK-7: from the day the masks were cleared to today; flow_register checks again.
        self.earliest = services.flow_earliest_date(report)
        if self.earliest:
            self.fields["date"].help_text = _(
                "From %(earliest)s, when the masks were cleared, to today.") % {
                "earliest": dates.to_roc(self.earliest)}

    def clean_date(self):
        date = self.cleaned_data["date"]
        problem = services.flow_date_problem(report=self.report, date=date,
                                             earliest=self.earliest)
        if problem:
            raise problem
        return date

    def clean_quantity(self):
        # A first look for the page; flow_register takes the stock under the row lock.
        quantity = self.cleaned_data["quantity"]
        if quantity > self.report.stock:
            raise services.error("over_stock", stock=self.report.stock, quantity=quantity)
        return quantity

    def clean(self):
        cleaned_data = super().clean()
        category = cleaned_data.get("category")
        if category and category not in FLOW_CATEGORIES_WITHOUT_DOCUMENTS:
            if "documents" not in self.errors and not cleaned_data.get("documents"):
                self.add_error("documents", services.error("documents_required"))
            if not cleaned_data.get("counterparty"):
                self.add_error("counterparty", ValidationError(
                    _("Enter whom the masks went to."), code="counterparty_required"))
        return cleaned_data


class ReturnForm(PortalForm):
    """退貨: the quantity of a declared flow that came back (MASK-9)."""

    quantity = PiecesField(label=_("Quantity returned"))

    def __init__(self, *args, flow, **kwargs):
        super().__init__(*args, **kwargs)
        self.flow = flow

    def clean_quantity(self):
        quantity = self.cleaned_data["quantity"]
        if quantity > self.flow.remaining:
            raise services.error("over_flow", left=self.flow.remaining, quantity=quantity)
        return quantity
