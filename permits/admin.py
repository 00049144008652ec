"""The reviewers' back office (ACC-5): cases read-only, moves through transition()."""

import functools

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import models
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from permits import procedures, workflow
from permits.fields import format_tariff_code, plain_decimal
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
from portal.forms import TextRuleMixin
from portal.templatetags.roc import roc, roc_datetime

# --- Values as the portal shows them (issue 9, point 17) -------------------------------------


@functools.cache
def shown(model, name):
    """The admin display of `model`'s field `name` as the portal shows it, or None where the
    admin's own display is the portal's: dates in the ROC calendar (115/12/02, times
    115/12/02 14:05 in Taipei), tariff codes with their dots (6307.90.50.31-1), quantities,
    prices and amounts plain (20, 100.55: never 20.0000). One function per field (cached),
    so that the change form recognises the same object among the fields and the read-only
    ones; the list still sorts by the field."""
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if isinstance(field, models.DateTimeField):
        show = roc_datetime
    elif isinstance(field, models.DateField):
        show = roc
    elif isinstance(field, models.DecimalField):
        show = plain_decimal
    elif name == "tariff_code":
        show = format_tariff_code
    else:
        return None

    def display(obj):
        value = getattr(obj, name)
        return admin.site.empty_value_display if value in (None, "") else show(value)

    display.__name__ = name  # the column's CSS class stays field-<name>
    return admin.display(description=field.verbose_name, ordering=name)(display)


class PortalDisplayMixin:
    """Shows the dates, tariff codes and numbers of list_display and of the read-only
    fields through shown(). `read_only`: every field of the change page is read-only for
    everyone (then each is shown so); otherwise those the user may not change are."""

    read_only = False

    def _as_shown(self, names, only=None):
        result = []
        for name in names:
            if isinstance(name, str) and (only is None or name in only):
                name = shown(self.model, name) or name
            if name not in result:  # a field and its display function: once
                result.append(name)
        return result

    def _shown_names(self, request, obj):
        """The names shown through shown() on this change page: None for all of them."""
        if self.read_only or (obj is not None and not self.has_change_permission(request,
                                                                                  obj)):
            return None
        return {name for name in super().get_readonly_fields(request, obj)
                if isinstance(name, str)}

    def get_list_display(self, request):
        return self._as_shown(super().get_list_display(request))

    def get_readonly_fields(self, request, obj=None):
        return self._as_shown(super().get_readonly_fields(request, obj))

    def get_fields(self, request, obj=None):
        return self._as_shown(super().get_fields(request, obj),
                              self._shown_names(request, obj))

    def get_fieldsets(self, request, obj=None):
        only = self._shown_names(request, obj)
        return [(title, {**options, "fields": [
            tuple(self._as_shown(line, only)) if isinstance(line, list | tuple)
            else self._as_shown([line], only)[0] for line in options["fields"]]})
            for title, options in super().get_fieldsets(request, obj)]


class ReadOnlyAdmin(PortalDisplayMixin, admin.ModelAdmin):
    """Rows written only by services (or received from customs): seen, never edited."""

    read_only = True

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(PortalDisplayMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False
    read_only = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)  # every one, as shown()


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


class MoveForm(TextRuleMixin, forms.Form):  # the note reaches the applicant: text rule
    to = forms.ChoiceField(choices=())
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


@admin.register(Application)
class ApplicationAdmin(PortalDisplayMixin, admin.ModelAdmin):
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

    read_only = True  # a case is changed only by moves (transition())

    def get_readonly_fields(self, request, obj=None):
        return self._as_shown(f for fs in self.fieldsets for f in fs[1]["fields"])

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
class PermitAdmin(PortalDisplayMixin, admin.ModelAdmin):
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
class OutboundEmailAdmin(PortalDisplayMixin, admin.ModelAdmin):
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
