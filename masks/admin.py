"""The bureau's side of the mask procedure (ACC-5): the mask tariff codes are kept here
(REFERENCE.md: data, not constants); mask cases and write-offs are read-only, as every case
is (permits.admin)."""

from django.contrib import admin

from masks.models import MaskApplication, MaskCode, WriteOff
from permits.models import Application


@admin.register(MaskCode)
class MaskCodeAdmin(admin.ModelAdmin):
    list_display = ("tariff_code", "category", "description", "active")
    list_filter = ("category", "active")
    list_editable = ("active",)
    search_fields = ("tariff_code", "description")
    ordering = ("category", "tariff_code")

    def has_delete_permission(self, request, obj=None):
        return False  # issued permits cite the codes: retire one by clearing "in use"


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
