"""The screening list in the bureau's back office (issue 14, point 4): its entries, kept by
reviewers like the other SHTC reference tables (never deleted: an entry a flag names stays),
and the upload of a CSV file (shtc/screening.py) with every problem of a bad file listed on
the form, a line each, nothing of it loaded. Imported by shtc/admin.py."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from permits.admin_upload import UploadAdmin
from portal.forms import PortalForm
from shtc import screening
from shtc.admin import KeptAdmin, checked_csv
from shtc.models import ScreeningEntry

UPLOAD_PERMISSION = "shtc.add_screeningentry"
PROBLEMS_SHOWN = 50  # lines of a refused file listed one by one; the rest counted


class ScreeningFileForm(PortalForm):
    """A CSV file of the screening list (shtc.screening's layout)."""

    file = forms.FileField(
        label=_("Screening list (CSV)"),
        help_text=_("First line: name, aliases, country, source_list, note (name and "
                    "source_list required; aliases separated by “;”). At most 50,000 entries "
                    "and 32 MB. Each source list in the file replaces the one on file."))
    encoding = forms.ChoiceField(label=_("Encoding"), choices=list(screening.ENCODINGS.items()),
                                 initial="utf-8")

    def clean_file(self):
        return checked_csv(self.cleaned_data["file"], screening.MAX_BYTES)

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload is None or self.errors:
            return cleaned
        try:
            self.rows = screening.read(upload.read(), cleaned["encoding"])
        except screening.ScreeningFileError as error:
            problems = error.messages
            shown = problems[:PROBLEMS_SHOWN]
            if len(problems) > PROBLEMS_SHOWN:
                shown.append(gettext("… and %(count)s more lines.") % {
                    "count": len(problems) - PROBLEMS_SHOWN})
            shown.insert(0, gettext("Nothing of the file was loaded:"))
            self.add_error("file", ValidationError(shown, code="unreadable"))
        return cleaned


@admin.register(ScreeningEntry)
class ScreeningEntryAdmin(UploadAdmin, KeptAdmin):
    list_display = ("name", "country", "source_list", "active", "updated_at")
    list_filter = ("active", "source_list")
    search_fields = ("name", "aliases")
    show_full_result_count = False
    readonly_fields = ("updated_at",)

    upload_permission = UPLOAD_PERMISSION
    upload_form = ScreeningFileForm
    upload_template = "admin/shtc/screeningentry/upload.html"
    upload_title = _("Load the screening list")

    def upload_done(self, request, form):
        outcome = screening.load(form.rows)
        self.message_user(request, gettext(
            "Screening list: %(read)d entries read; %(created)d added, %(updated)d "
            "changed, %(unchanged)d already on file, %(retired)d no longer listed.")
            % vars(outcome), messages.SUCCESS)
