"""The reviewers' back office (ACC-5): cases read-only, moves through transition()."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from permits import procedures, workflow
from permits.models import (
    Application,
    Attachment,
    Country,
    Currency,
    Item,
    OutboundEmail,
    Party,
    Permit,
    PermitRevocation,
    PermitVersion,
    StatusChange,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by services (or received from customs): seen, never edited."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return self.fields


class ItemInline(ReadOnlyInline):
    model = Item
    fields = ("line_no", "tariff_code", "description", "control_no", "category", "quantity",
              "unit", "unit_price", "currency", "amount", "origin_country")


class AttachmentInline(ReadOnlyInline):
    model = Attachment
    fields = ("download", "document_kind", "content_type", "size", "uploaded_by",
              "uploaded_at")

    @admin.display(description=_("file name"))
    def download(self, obj):
        return format_html('<a href="{}">{}</a>',
                           reverse("permits:attachment_download", args=[obj.pk]),
                           obj.original_name)


class PartyInline(ReadOnlyInline):
    """買方 / 收貨人 / 最終使用者, for the procedures that ask for them (SHTC-15)."""

    model = Party
    fields = ("role", "name", "address", "country", "name_zh", "same_as_buyer")


class StatusChangeInline(ReadOnlyInline):
    model = StatusChange
    fields = ("created_at", "old", "new", "actor", "note")
    ordering = ("created_at", "pk")


class MoveForm(forms.Form):
    to = forms.ChoiceField(choices=())
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = ("number", "permit_number", "document_type", "kind", "applicant_identifier",
                    "applicant_name", "destination_country", "status", "submitted_at")
    list_filter = ("document_type", "status", "kind", "destination_country",
                   ("submitted_at", admin.DateFieldListFilter))
    search_fields = ("receipt_no", "registration_no", "issued_version__permit__permit_no",
                     "applicant_identifier", "applicant_name", "agent_identifier")
    # One query for the page of cases, whatever its length.
    list_select_related = ("issued_version__permit",)
    date_hierarchy = "submitted_at"
    ordering = ("-submitted_at", "-pk")
    inlines = [ItemInline, AttachmentInline, StatusChangeInline]
    change_form_template = "admin/permits/application/change_form.html"
    fieldsets = (
        (None, {"fields": ("document_type", "kind", "status", "receipt_no", "registration_no",
                           "submitted_at", "changes", "change_description")}),
        (_("Applicant"), {"fields": ("applicant_identifier", "applicant_name",
                                     "applicant_name_en", "applicant_address",
                                     "contact_person", "contact_phone", "company_email",
                                     "destination_country")}),
        (_("Filing agent"), {"fields": ("agent_identifier", "agent_name",
                                        "agent_contact_person", "agent_phone",
                                        "agent_email")}),
    )

    def get_readonly_fields(self, request, obj=None):
        return [f for fs in self.fieldsets for f in fs[1]["fields"]]

    def get_inlines(self, request, obj):
        """The shared inlines, with what the case's procedure adds after the items: its
        parties if it asks for any, and its own inlines (Procedure.admin_inlines, dotted
        paths, so that procedures.py need not import admin modules)."""
        if obj is None:
            return self.inlines
        procedure = procedures.get(obj.document_type)
        own = [PartyInline] if procedure.parties else []
        own += [import_string(path) if isinstance(path, str) else path
                for path in procedure.admin_inlines]
        items, *rest = self.inlines
        return [items, *own, *rest]

    def has_add_permission(self, request):
        return False  # cases are filed in the portal

    def has_delete_permission(self, request, obj=None):
        return False  # a case's history is kept

    @admin.display(description=_("number"), ordering="receipt_no")
    def number(self, obj):
        return obj.number or "-"

    @admin.display(description=_("permit number"))
    def permit_number(self, obj):
        version = obj.permit_version
        return f"{version.permit.permit_no} v{version.version}" if version else "-"

    def get_urls(self):
        return [
            path("<int:pk>/move/", self.admin_site.admin_view(self.move_view),
                 name="permits_application_move"),
            path("workflow/", self.admin_site.admin_view(self.workflow_view),
                 name="permits_application_workflow"),
            *super().get_urls(),
        ]

    def may_review(self, request):
        return request.user.has_perm("permits.review_application") and request.user.is_reviewer

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        obj = self.get_object(request, object_id)
        if obj is not None and self.may_review(request):
            extra_context["moves"] = [
                (to, workflow.Status(to).label, to in workflow.NOTE_REQUIRED)
                for to in workflow.allowed_moves(obj, workflow.BUREAU)]
            extra_context["move_url"] = reverse("admin:permits_application_move",
                                                args=[obj.pk])
        return super().change_view(request, object_id, form_url, extra_context)

    def workflow_view(self, request):
        """The transition table, as the code enforces it, for reviewers to read."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        rows = [{"status": status, "meaning": workflow.MEANING[status],
                 "moves": [(workflow.Status(to).label, workflow.WHO[who])
                           for to, who in workflow.TRANSITIONS[status].items()]}
                for status in workflow.Status]
        return TemplateResponse(request, "admin/permits/application/workflow.html", {
            **self.admin_site.each_context(request), "rows": rows,
            "title": _("Statuses and moves"), "opts": self.model._meta})

    def move_view(self, request, pk):
        """A reviewer's move (a button on the case page): only through transition()."""
        if request.method != "POST":
            return redirect("admin:permits_application_change", pk)
        if not self.may_review(request):
            raise PermissionDenied
        application = get_object_or_404(Application, pk=pk)
        form = MoveForm(request.POST)
        form.fields["to"].choices = workflow.Status.choices
        if not form.is_valid():
            messages.error(request, _("Choose a move."))
            return redirect("admin:permits_application_change", pk)
        try:
            application = workflow.transition(application=application,
                                              to=form.cleaned_data["to"], actor=request.user,
                                              note=form.cleaned_data["note"])
        except (workflow.TransitionNotAllowed, PermissionDenied) as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("%(case)s is now “%(status)s”.") % {
                "case": application, "status": application.get_status_display()})
        return redirect("admin:permits_application_change", pk)


class PermitVersionInline(ReadOnlyInline):
    model = PermitVersion
    fk_name = "permit"
    fields = ("version", "application", "issued_at", "valid_from", "valid_until",
              "partial_shipment")


class PermitRevocationInline(ReadOnlyInline):
    """註銷: who cancelled the permit, when and why (permits.changes.permit_revoke)."""

    model = PermitRevocation
    fields = ("created_at", "actor", "reason")


@admin.register(Permit)
class PermitAdmin(admin.ModelAdmin):
    list_display = ("permit_no", "document_type", "holder", "created_at", "revoked_at")
    list_filter = ("document_type",)
    search_fields = ("permit_no", "holder__identifier", "holder__name")
    list_select_related = ("holder",)
    readonly_fields = ("permit_no", "document_type", "holder", "verification_code",
                       "revoked_at", "first_cleared_at", "first_released_at", "created_at")
    inlines = [PermitVersionInline, PermitRevocationInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = ("created_at", "to", "subject", "sent_at", "attempts", "last_error")
    list_filter = (("sent_at", admin.EmptyFieldListFilter),)
    search_fields = ("to", "subject", "application__receipt_no")
    readonly_fields = [f.name for f in OutboundEmail._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Country, Currency)
class ReferenceCodeAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "active")
    list_filter = ("active",)
    search_fields = ("code", "name_zh", "name_en")
