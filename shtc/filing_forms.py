"""The forms of 9-1-2 (SHTC-4, shtc/filing_views.py): the query (文件類別, 收件/登錄編號 or the
application dates), the end user's English website, and the specific end use of
登錄最終用途並申請. The upload is permits.attachments.AttachmentForm.

Error codes: not_found (no case of the user with that number, whether it does not exist or
is another user's), no_criteria, date_order, not_english, no_letters, url_scheme.
"""

import datetime
from urllib.parse import urlsplit

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from permits.forms import clean_number_or_dates, day_bounds
from permits.models import DocumentType
from portal.forms import AsciiCharField, PortalForm, RocDateField, to_ascii
from shtc.models import END_USER_URL_MAX_LENGTH

# 文件類別 offered by 9-1-2: the SHTC export permit (9-2-2's types join when they come).
FILING_DOCUMENT_TYPES = [(DocumentType.SHTC_EXPORT, DocumentType.SHTC_EXPORT.label)]
# The specific end use: a few sentences, printed on the assurance.
END_USE_MAX_LENGTH = 1000

NOT_FOUND = _("No case with this receipt or registration number was found among your cases.")


class FilingQueryForm(PortalForm):
    """選擇文件類別, then 收件/登錄編號 or 申請起訖日期 (ROC dates), 查詢 (SHTC-4, FAQ 3.13)."""

    document_type = forms.ChoiceField(label=_("Document type"), choices=FILING_DOCUMENT_TYPES,
                                      initial=DocumentType.SHTC_EXPORT)
    number = AsciiCharField(label=_("Receipt or registration number"), required=False,
                            max_length=14)
    date_from = RocDateField(label=_("Application date (from)"), required=False)
    date_to = RocDateField(label=_("Application date (to)"), required=False)

    # Newest first, as the indexes application_*_list read them (permits.listing).
    ORDERING = ("-created_at", "-id")

    def clean_number(self):
        return self.cleaned_data["number"].upper()

    no_criteria = _("Enter a receipt or registration number, or an application date range.")

    def clean(self):
        return clean_number_or_dates(self, super().clean())

    # The kind of each criterion of criteria() that is not an int (permits.prepared).
    KINDS = {"document_type": str, "number": str, "start": datetime.datetime,
             "end": datetime.datetime}

    def criteria(self):
        """The cleaned criteria as narrow() takes them, None for those not given."""
        data = self.cleaned_data
        start, end = day_bounds(data["date_from"], data["date_to"])
        return {"document_type": data["document_type"], "number": data["number"] or None,
                "start": start, "end": end}

    @classmethod
    def narrow(cls, queryset, *, document_type, number, start, end):
        """`queryset` narrowed to the criteria (who may see what is the caller's), each value
        a plain parameter of the SQL: permits.listing compiles the query page once per
        process for each combination of criteria given (permits.listing.Criteria). The
        application date is the day the case was filed (收件) or, for a case still 登錄中,
        the day it was started."""
        queryset = queryset.filter(document_type=document_type)
        if number is not None:
            queryset = queryset.filter(Q(receipt_no=number) | Q(registration_no=number))
        if start is not None:
            queryset = queryset.filter(Q(submitted_at__gte=start)
                                       | Q(submitted_at__isnull=True, created_at__gte=start))
        if end is not None:
            queryset = queryset.filter(Q(submitted_at__lt=end)
                                       | Q(submitted_at__isnull=True, created_at__lt=end))
        return queryset

    def filter(self, queryset):
        """`queryset` narrowed to the cleaned criteria."""
        return self.narrow(queryset, **self.criteria())

    def not_found(self):
        """Said next to the number, the same for a number that does not exist and for
        another user's: a lookup tells nobody what others have filed."""
        self.add_error("number", forms.ValidationError(NOT_FOUND, code="not_found"))


class EndUserUrlForm(PortalForm):
    """SHTC-2 item 5: the end user's English website instead of its company profile."""

    end_user_url = forms.URLField(
        label=_("End user's English website"), required=False,
        max_length=END_USER_URL_MAX_LENGTH, assume_scheme="https",
        help_text=_("If the end user has a website in English, its address (https://…) may "
                    "replace the company profile. Leave empty to upload the profile."))

    def clean_end_user_url(self):
        url = self.cleaned_data["end_user_url"]
        if url and urlsplit(url).scheme not in ("http", "https"):
            # URLField also takes ftp:// and ftps://: a website is http or https.
            raise forms.ValidationError(
                _("Enter a web address beginning with http:// or https://."),
                code="url_scheme")
        return url


class EndUseField(forms.CharField):
    """The specific end use of the exported goods in English (SHTC-4): printable ASCII
    after full-width forms are read as ASCII, blanks made single spaces, at least one
    letter."""

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values or "\x00" in value:
            return value  # empty: required says so; NUL: the field's own validator
        value = " ".join(to_ascii(value).split())
        refused = "".join(dict.fromkeys(char for char in value
                                        if not (" " <= char <= "~")))
        if refused:
            raise forms.ValidationError(
                _("Enter the specific end use in English (letters A–Z, digits and "
                  "punctuation): it must be the same as in the end-use assurance attached. "
                  "Not accepted: %(characters)s"),
                code="not_english", params={"characters": " ".join(refused)})
        if not any(char.isalpha() for char in value):
            raise forms.ValidationError(
                _("Describe the specific end use in English words."), code="no_letters")
        return value


class EndUseForm(PortalForm):
    """登錄最終用途並申請: 出口貨品之具體最終用途(英文), 此為必填欄位且內容須與所附最終用途保證書
    一致 (the manual, 步驟8)."""

    end_use = EndUseField(
        label=_("Specific end use of the exported goods (English)"),
        max_length=END_USE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _(
            "Enter the specific end use in English: this field is required, and it must be "
            "the same as in the end-use assurance attached.")},
        help_text=_("Required. In English, and the same as in the end-use assurance signed "
                    "by the end user and attached."))
