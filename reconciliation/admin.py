"""The bureau's view of the customs feed (RECON-1…5): declarations with their items, results,
messages and write-offs; the messages as received; the results as customs fetches them; the
write-off ledger; and the customs service accounts, whose tokens only superusers handle.

Everything here is read-only: data comes from customs (services.receive) and from matching.
Reviewers act in two ways only: re-run matching (the right `change_declaration`) and upload a
file of customs messages (the right `add_inboundmessage`); see apps.py.
"""

import json

from django.contrib import admin, messages
from django.db import transaction
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from permits.admin import PortalDisplayMixin, ReadOnlyAdmin, ReadOnlyInline
from permits.admin_upload import UploadAdmin
from permits.fields import plain_decimal
from portal.templatetags.roc import roc_datetime
from reconciliation import api, services
from reconciliation.forms import MessageFileForm
from reconciliation.models import (
    CustomsClient,
    Declaration,
    DeclarationItem,
    InboundMessage,
    LedgerEntry,
    MatchResult,
)

RERUN_PERMISSION = "reconciliation.change_declaration"
UPLOAD_PERMISSION = "reconciliation.add_inboundmessage"
PROBLEMS_SHOWN = 20  # rejected messages listed one by one after an upload; the rest counted


def reasons_html(reasons):
    """The reasons of a result as a list: the sentence (stored in Chinese) and the code."""
    if not reasons:
        return "-"
    return format_html("<ul>{}</ul>", format_html_join(
        "", "<li>{} <code>{}</code></li>",
        ((reason.get("message", ""), reason.get("code", "")) for reason in reasons)))


class DeclarationItemInline(ReadOnlyInline):
    model = DeclarationItem
    fields = ("item_no", "tariff_code", "description", "quantity", "unit", "value",
              "currency", "permit_item_no")


class MatchResultInline(ReadOnlyInline):
    model = MatchResult
    fields = ("seq", "created_at", "revision", "result", "coordination_id", "reasons_list",
              "permit_version")
    ordering = ("-seq",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("permit_version__permit")

    @admin.display(description=_("reasons"))
    def reasons_list(self, obj):
        return reasons_html(obj.reasons)


class InboundMessageInline(ReadOnlyInline):
    model = InboundMessage
    fields = ("received_at", "message_id", "kind", "source", "status")
    ordering = ("received_at",)


@admin.register(Declaration)
class DeclarationAdmin(UploadAdmin, ReadOnlyAdmin):
    list_display = ("number", "direction", "declared_on", "declarant_identifier",
                    "permit_cited", "result", "cancelled")
    list_filter = ("result", "direction", "declared_on",
                   ("cancelled_at", admin.EmptyFieldListFilter))
    search_fields = ("number", "permit_no", "declarant_identifier")
    list_select_related = ("permit",)
    date_hierarchy = "declared_on"
    inlines = [DeclarationItemInline, MatchResultInline, InboundMessageInline]
    actions = ["rematch"]
    fieldsets = (
        (None, {"fields": ("number", "direction", "declared_on", "declarant_identifier",
                           "broker_identifier", "permit_no", "permit", "revision",
                           "cancelled_at", "result", "received_at", "updated_at")}),
        (_("Write-offs"), {"fields": ("write_offs",)}),
    )
    readonly_fields = [f for fs in fieldsets for f in fs[1]["fields"]]

    @admin.display(description=_("permit number cited"), ordering="permit_no")
    def permit_cited(self, obj):
        if obj.permit is None:
            return obj.permit_no  # no such permit: matching says so
        return format_html('<a href="{}">{}</a>',
                           reverse("admin:permits_permit_change", args=[obj.permit.pk]),
                           obj.permit_no)

    @admin.display(description=_("Cancelled by customs"), boolean=True,
                   ordering="cancelled_at")
    def cancelled(self, obj):
        return obj.cancelled_at is not None

    @admin.display(description=_("write-off entries"))
    def write_offs(self, obj):
        # LedgerEntry points at a declaration item, not the declaration: no inline can show
        # it, so the entries are a table here (RECON-4: releases and their reversals).
        entries = (LedgerEntry.objects.filter(declaration_item__declaration=obj)
                   .select_related("declaration_item").order_by("created_at", "pk"))
        if not entries:
            return "-"
        # Times and quantities as everywhere in the admin (permits.admin.shown): 115/12/02
        # 14:05 and 1000 (Decimal.normalize() would print 1E+3).
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
                                    "<td>{}</td></tr>",
                                ((roc_datetime(e.created_at), e.get_kind_display(),
                                  e.declaration_item.item_no, e.line_no,
                                  plain_decimal(e.quantity)) for e in entries))
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>"
            "</thead><tbody>{}</tbody></table>",
            gettext("time"), gettext("kind"), gettext("declaration item"),
            gettext("permit item no."), gettext("quantity"), rows)

    # --- re-run matching (RECON-2, RECON-5) -----------------------------------------------

    def has_rematch_permission(self, request):
        return request.user.has_perm(RERUN_PERMISSION)

    @admin.action(description=_("Re-run matching"), permissions=["rematch"])
    def rematch(self, request, queryset):
        """Match the chosen declarations again, by the Celery worker; the new results go to
        customs' feed. Cancelled declarations are not matched."""
        ids = list(queryset.filter(cancelled_at__isnull=True).values_list("pk", flat=True))
        cancelled = queryset.filter(cancelled_at__isnull=False).count()
        if ids:
            services.match_soon(ids)
            self.message_user(request, ngettext(
                "Matching of %(count)d declaration was queued; its new result appears "
                "when the worker has run it.",
                "Matching of %(count)d declarations was queued; their new results appear "
                "when the worker has run them.", len(ids)) % {"count": len(ids)},
                messages.SUCCESS)
        if cancelled:
            self.message_user(request, ngettext(
                "%(count)d declaration was cancelled by customs and is not matched.",
                "%(count)d declarations were cancelled by customs and are not matched.",
                cancelled) % {"count": cancelled}, messages.WARNING)

    # --- upload a file of messages (RECON-1) ----------------------------------------------

    upload_permission = UPLOAD_PERMISSION
    upload_form = MessageFileForm
    upload_template = "admin/reconciliation/declaration/upload.html"
    upload_title = _("Upload messages from customs")

    def upload_done(self, request, form):
        """A .jsonl or .json file of customs messages, fed through services.receive like the
        endpoint and the command; the summary and each rejection come back as messages."""
        outcome = api.receive_batch(form.entries, broken=form.broken, source="admin")
        self._report(request, outcome, json_lines=form.json_lines)

    def _report(self, request, outcome, *, json_lines):
        level = messages.WARNING if outcome.rejected else messages.SUCCESS
        self.message_user(request, gettext(
            "Accepted: %(accepted)d; same declaration again, ignored: %(duplicate)d; "
            "rejected: %(rejected)d; received before, not processed again: %(before)d.") % {
            "accepted": outcome.accepted, "duplicate": outcome.duplicate,
            "rejected": outcome.rejected, "before": outcome.received_before}, level)
        where = gettext("Line %(position)s") if json_lines else gettext("Message %(position)s")
        for position, message_id, errors in outcome.problems[:PROBLEMS_SHOWN]:
            label = where % {"position": position}
            if message_id:
                label = f"{label} ({message_id})"
            self.message_user(request, f"{label}: {'; '.join(errors)}", messages.ERROR)
        more = len(outcome.problems) - PROBLEMS_SHOWN
        if more > 0:
            self.message_user(request, ngettext(
                "%(count)d more rejected message: see the messages from customs.",
                "%(count)d more rejected messages: see the messages from customs.",
                more) % {"count": more}, messages.ERROR)


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "message_id", "kind", "declaration_number", "source",
                    "status")
    list_filter = ("status", "kind", "source")
    search_fields = ("message_id", "declaration_number")
    date_hierarchy = "received_at"
    fields = ("message_id", "kind", "declaration_number", "declaration", "source", "status",
              "errors_list", "payload_json", "received_at")
    readonly_fields = fields

    @admin.display(description=_("errors"))
    def errors_list(self, obj):
        if not obj.errors:
            return "-"
        return format_html("<ul>{}</ul>", format_html_join(
            "", "<li>{}</li>", ((error,) for error in obj.errors)))

    @admin.display(description=_("message as received"))
    def payload_json(self, obj):
        return format_html("<pre>{}</pre>",
                           json.dumps(obj.payload, ensure_ascii=False, indent=2))


@admin.register(MatchResult)
class MatchResultAdmin(ReadOnlyAdmin):
    list_display = ("seq", "declaration", "revision", "result", "permit_version",
                    "created_at")
    list_filter = ("result",)
    # Customs or the applicant may call quoting the 會辦識別碼 alone (SHTC-10).
    search_fields = ("declaration__number", "declaration__permit_no", "=coordination_id")
    list_select_related = ("declaration", "permit_version__permit")
    fields = ("seq", "declaration", "revision", "result", "coordination_id", "reasons_list",
              "permit_version", "created_at")
    readonly_fields = fields

    @admin.display(description=_("reasons"))
    def reasons_list(self, obj):
        return reasons_html(obj.reasons)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "permit", "line_no", "kind", "quantity", "declaration",
                    "reference", "actor")
    list_filter = ("kind",)
    search_fields = ("permit__permit_no", "reference")
    list_select_related = ("permit", "declaration_item__declaration", "actor")
    fields = ("permit", "line_no", "kind", "quantity", "declaration", "reverses",
              "reference", "actor", "created_at")
    readonly_fields = fields

    @admin.display(description=_("declaration"))
    def declaration(self, obj):
        item = obj.declaration_item
        return f"{item.declaration.number} / {item.item_no}" if item else "-"


@admin.register(CustomsClient)
class CustomsClientAdmin(PortalDisplayMixin, admin.ModelAdmin):
    """Customs service accounts. A token is shown once, when it is made (on adding an
    account, or with the action), and only its hash is kept."""

    list_display = ("name", "active", "created_at", "last_used_at")
    list_filter = ("active",)
    search_fields = ("name",)
    fields = ("name", "active", "created_at", "last_used_at")
    readonly_fields = ("created_at", "last_used_at")
    actions = ["issue_token"]

    # A token opens customs' feed to whoever holds it: superusers only, whatever a group's
    # permissions say.
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.issued_token = obj.new_token()
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        return self._token_page(request, [(obj, obj.issued_token)])

    @admin.action(description=_("Issue a new token (the old one stops working)"))
    def issue_token(self, request, queryset):
        issued = []
        with transaction.atomic():
            for client in queryset.select_for_update():
                token = client.new_token()
                client.save(update_fields=["token_hash"])
                issued.append((client, token))
        return self._token_page(request, issued)

    def _token_page(self, request, issued):
        # Shown in this response only: not as a message, which would travel in a cookie or
        # sit in the session store.
        return TemplateResponse(request, "admin/reconciliation/customsclient/token.html", {
            **self.admin_site.each_context(request), "issued": issued,
            "opts": self.model._meta, "title": _("New token")})
