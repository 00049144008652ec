import datetime

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from permits.models import DocumentType
from portal.forms import PortalForm, RocDateField


def clean_number_or_dates(form, cleaned):
    """The checks of a case query (申辦狀況查詢作業, 9-1-2's 查詢): a number or a date range
    (form.no_criteria says so otherwise), the range's end not before its start."""
    if form.errors:
        return cleaned
    start, end = cleaned.get("date_from"), cleaned.get("date_to")
    if not (cleaned.get("number") or start or end):
        raise forms.ValidationError(form.no_criteria, code="no_criteria")
    if start and end and start > end:
        form.add_error("date_to", forms.ValidationError(
            _("The end date is before the start date."), code="date_order"))
    return cleaned


def day_bounds(date_from, date_to):
    """The aware datetimes [start, end) of the days from `date_from` to `date_to` (either may
    be None: no bound) in the portal's time zone."""
    zone = timezone.get_current_timezone()
    start = (datetime.datetime.combine(date_from, datetime.time.min, zone)
             if date_from else None)
    end = (datetime.datetime.combine(date_to + datetime.timedelta(days=1), datetime.time.min,
                                     zone) if date_to else None)
    return start, end


class QueryForm(PortalForm):
    """申辦狀況查詢作業(含列印) (PERMIT-7, FAQ 3.7): choose the document type, then search by
    application date range or by receipt / registration / certificate number."""

    document_type = forms.ChoiceField(label=_("Document type"), choices=DocumentType.choices)
    date_from = RocDateField(label=_("Application date (from)"), required=False)
    date_to = RocDateField(label=_("Application date (to)"), required=False)
    number = forms.CharField(label=_("Receipt or certificate number"), required=False,
                             max_length=14)

    def clean_number(self):
        return self.cleaned_data["number"].strip().upper()

    no_criteria = _("Enter a receipt or certificate number, or an application date range.")

    def clean(self):
        return clean_number_or_dates(self, super().clean())

    # Newest application first; the order of the indexes application_*_filed.
    ORDERING = ("-submitted_at", "-id")

    # What criteria() gives that is not an int (permits.prepared kinds).
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
        """`queryset` narrowed to the criteria (who may see what is the caller's): written
        so that each value is a plain parameter of the SQL, which permits.listing compiles
        once for each combination of criteria given."""
        queryset = queryset.filter(document_type=document_type)
        if number is not None:
            queryset = queryset.filter(
                Q(receipt_no=number) | Q(registration_no=number)
                # every version of a certificate (PERMIT-2): one row each, newest first
                | Q(issued_version__permit__permit_no=number))
        if start is not None:
            queryset = queryset.filter(submitted_at__gte=start)
        if end is not None:
            queryset = queryset.filter(submitted_at__lt=end)
        return queryset.order_by(*cls.ORDERING)

    def filter(self, queryset):
        """`queryset` narrowed to the criteria (who may see what is the caller's)."""
        return self.narrow(queryset, **self.criteria())
