"""The working-day clock's data in the admin (issue 14, X3; permits/workdays.py): the bureau's
adjustments of Taiwan's calendar (補班, typhoon days off) and the review targets per
procedure and stage. Reviewers read both (permits.apps); changing them needs the models'
own add/change/delete permissions, which the reviewers group does not hold.

Registered from PermitsConfig.ready(). A refused form answers 400, as the portal's forms do,
with each message next to its field and the typing kept.
"""

from django import forms
from django.contrib import admin
from django.db import connection
from django.utils.translation import gettext_lazy as _

from permits import workdays
from permits.models import ReviewTarget, WorkdayAdjustment
from portal.dates import to_roc
from portal.forms import RocDateField, TextRuleMixin

# The advisory lock's first key: the adjustments of one date (the second key).
ADJUSTMENT_LOCK = 14_0001


class WorkdayAdjustmentForm(TextRuleMixin, forms.ModelForm):
    date = RocDateField(label=_("date"))

    class Meta:
        model = WorkdayAdjustment
        fields = ("date", "kind", "note")

    def clean(self):
        cleaned = super().clean()
        day = cleaned.get("date")
        if day is not None and connection.vendor == "postgresql":
            # Two staff adding the same date at once: both pass the unique check before
            # either commits, and the second's INSERT fails (a 500). Locking the date first
            # (the admin's form runs in its transaction) makes the second wait for the first
            # to commit; the unique check that follows clean() then sees its row and says so
            # next to the field.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s::int, %s::int)",
                               [ADJUSTMENT_LOCK, day.toordinal()])
        return cleaned


class RefusedWith400:
    """The change form answers 400 when what was posted is refused; `form` is in the
    context beside the admin's wrapper, as in the portal's pages."""

    def render_change_form(self, request, context, add=False, change=False, form_url="",
                           obj=None):
        response = super().render_change_form(request, context, add, change, form_url, obj)
        adminform = context.get("adminform")
        if adminform is not None:
            response.context_data["form"] = adminform.form
            if request.method == "POST" and adminform.form.is_bound \
                    and adminform.form.errors:
                response.status_code = 400
        return response


@admin.register(WorkdayAdjustment)
class WorkdayAdjustmentAdmin(RefusedWith400, admin.ModelAdmin):
    form = WorkdayAdjustmentForm
    list_display = ("roc_date", "weekday", "kind", "note")
    list_filter = ("kind",)
    search_fields = ("note",)

    @admin.display(description=_("date"), ordering="date")
    def roc_date(self, obj):
        return to_roc(obj.date)

    @admin.display(description=_("national calendar"))
    def weekday(self, obj):
        return (_("working day") if workdays.national_workday(obj.date)
                else _("day off"))


@admin.register(ReviewTarget)
class ReviewTargetAdmin(RefusedWith400, admin.ModelAdmin):
    list_display = ("document_type", "stage", "working_days")
    list_filter = ("document_type",)
