"""The bureau's side of the mask procedure (ACC-5): the mask tariff codes are kept here
(REFERENCE.md: data, not constants); mask cases and write-offs are read-only, as every case
is (permits.admin)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from masks.models import (
    Flow,
    FlowReturn,
    MaskApplication,
    MaskCode,
    StockReminder,
    StockReport,
    WriteOff,
)
from permits.admin import PortalDisplayMixin, ReadOnlyAdmin, ReadOnlyInline
from permits.models import Application


@admin.register(MaskCode)
class MaskCodeAdmin(PortalDisplayMixin, admin.ModelAdmin):
    """The codes listed with their dots (6307.90.50.31-1), typed as 11 digits when added."""

    list_display = ("tariff_code", "category", "description", "active")
    list_filter = ("category", "active")
    list_editable = ("active",)
    search_fields = ("tariff_code", "description")
    ordering = ("category", "tariff_code")

    def has_delete_permission(self, request, obj=None):
        return False  # issued permits cite the codes: retire one by clearing "in use"

    def get_changelist_form(self, request, **kwargs):
        """Each row's 使用中 checkbox named for its code ("使用中 6307.90.50.31-1 ..."): the list's
        editable inputs have no label of their own (WCAG 2.1 1.3.1 and 4.1.2, issue 15)."""
        rows = super().get_changelist_form(request, **kwargs)

        class NamedRow(rows):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                field = self.fields["active"]
                field.widget.attrs["aria-label"] = f"{field.label} {self.instance}"

        return NamedRow


class MaskApplicationInline(ReadOnlyInline):
    """The import route (MASK-4) on the one case page (masks.procedures: admin_inlines)."""

    model = MaskApplication
    fields = ("route",)


@admin.register(MaskApplication)
class MaskApplicationAdmin(ReadOnlyAdmin):
    list_display = ("application", "route", "applicant_name")
    list_filter = ("route",)
    list_select_related = ("application",)
    search_fields = ("application__receipt_no", "application__applicant_identifier",
                     "application__issued_version__permit__permit_no")

    @admin.display(description=Application._meta.get_field("applicant_name").verbose_name)
    def applicant_name(self, obj):
        return obj.application.applicant_name


@admin.register(WriteOff)
class WriteOffAdmin(ReadOnlyAdmin):
    list_display = ("permit", "route", "medical_quantity", "non_medical_quantity", "actor",
                    "created_at")
    list_filter = ("route",)
    list_select_related = ("permit", "actor")
    search_fields = ("permit__permit_no",)


class FlowInline(ReadOnlyInline):
    model = Flow
    fields = ("category", "quantity", "returned", "date", "counterparty", "declared_at",
              "actor")


@admin.register(StockReport)
class StockReportAdmin(ReadOnlyAdmin):
    """庫存 per declaration or permit (MASK-6), with its flows."""

    list_display = ("__str__", "permit", "holder", "cleared", "allocated", "declared",
                    "refreshed_at")
    list_select_related = ("declaration", "permit", "holder")
    search_fields = ("declaration__number", "permit__permit_no", "holder__identifier",
                     "holder__name")
    inlines = [FlowInline]


@admin.register(Flow)
class FlowAdmin(ReadOnlyAdmin):
    list_display = ("report", "category", "quantity", "returned", "date", "counterparty",
                    "declared_at", "applicant")
    list_filter = ("category", ("declared_at", admin.EmptyFieldListFilter))
    list_select_related = ("report__declaration", "report__permit", "report__holder")
    search_fields = ("report__declaration__number", "report__permit__permit_no",
                     "report__holder__identifier", "report__holder__name", "counterparty")
    date_hierarchy = "date"

    @admin.display(description=_("applicant"))
    def applicant(self, obj):
        return obj.report.holder


@admin.register(FlowReturn)
class FlowReturnAdmin(ReadOnlyAdmin):
    list_display = ("flow", "quantity", "created_at", "declared_at", "actor")
    list_select_related = ("flow__report__declaration", "flow__report__permit", "actor")
    search_fields = ("flow__report__declaration__number", "flow__report__permit__permit_no",
                     "flow__report__holder__identifier", "flow__report__holder__name")


@admin.register(StockReminder)
class StockReminderAdmin(ReadOnlyAdmin):
    list_display = ("holder", "period", "sources", "undeclared", "created_at")
    list_select_related = ("holder",)
    search_fields = ("holder__identifier", "holder__name")
    date_hierarchy = "period"
