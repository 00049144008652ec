"""匯出 Excel / 匯出 ODF of the reviewers' case list (issue 14, point 6).

The export is the list as it stands: the cases its filters, search, date drill-down and
ordering select, read by the queryset the admin's own ChangeList builds from the same query
string (export_changelist), so that a filter or queue added to the list later applies to the
export without a word here. Its columns are what a reviewer reads off the list and files
away: numbers, kinds, status, parties, destination, the dates in the ROC calendar, the
working-day clock (permits.workdays) and the permit number.

Cost: a fixed number of queries whatever the number of cases (the count, the workday rules,
the cases through one server-side cursor, and the status history of each chunk of CHUNK
cases in one query); the rows are written by permits.spreadsheets' writers as they are read.
Above MAX_ROWS cases the export is refused with a message asking for a narrower list.
"""

import copy
import functools
import itertools

from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from permits import spreadsheets, workdays
from permits.bulk_items import CONTENT_TYPES
from permits.fields import reference_rows
from permits.models import Application, Country
from portal.dates import to_roc

MAX_ROWS = 50_000  # about 3 MB and 5 s of CPU (bench/admin_export.py): beyond, narrow the list
CHUNK = 2_000  # cases read (and their history asked) at a time

# (key, header, kind, width) of each column, in order. "text" columns are formatted as text
# in the file (numbers keep their leading zeros, dates stay ROC dates); "number" ones are
# numbers a spreadsheet can add up.
COLUMNS = (
    ("receipt_no", _("receipt number"), "text", 16),
    ("registration_no", _("registration number"), "text", 16),
    ("document_type", _("document type"), "text", 20),
    ("kind", _("application kind"), "text", 12),
    ("status", _("status"), "text", 12),
    ("applicant_identifier", _("applicant identifier"), "text", 12),
    ("applicant_name", _("applicant name"), "text", 30),
    ("agent_identifier", _("agent identifier"), "text", 12),
    ("agent_name", _("agent name"), "text", 30),
    ("destination_country", _("destination"), "text", 16),
    ("submitted_at", _("application date"), "text", 11),
    ("last_change", _("last status change"), "text", 11),
    ("stage", _("stage"), "text", 14),
    ("working_days", pgettext_lazy("case list column", "working days"), "number", 8),
    ("due", _("due date"), "text", 11),
    ("overdue", _("overdue"), "text", 8),
    ("permit_no", _("permit number"), "text", 16),
    ("permit_version", _("permit version"), "number", 8),
)
# What is read of each case: no instance is made, no related row read apart from the permit.
FIELDS = ("pk", "receipt_no", "registration_no", "document_type", "kind", "status",
          "applicant_identifier", "applicant_name", "agent_identifier", "agent_name",
          "destination_country", "submitted_at", "issued_version__permit__permit_no",
          "issued_version__version")


def columns():
    """The spreadsheet columns (permits.spreadsheets.Column), headers in the active language."""
    return [spreadsheets.Column(key, str(header), False, kind, width=width)
            for key, header, kind, width in COLUMNS]


@functools.cache
def _without_page(changelist_class):
    """`changelist_class` without the reading of a page of cases (and of their clocks and
    flags), which its constructor does for the list: the export reads every case itself."""
    return type(f"Export{changelist_class.__name__}", (changelist_class,),
                {"get_results": lambda self, request: None})


def export_changelist(model_admin, request):
    """The admin's ChangeList of `request`, built by model_admin.get_changelist_instance()
    as the list's page builds it (its filters, search, dates, ordering and anything the list
    gains), but reading no page. Raises IncorrectLookupParameters as the list does."""
    exporter = copy.copy(model_admin)  # a copy of this request's own: the admin is shared
    changelist_class = _without_page(model_admin.get_changelist(request))
    exporter.get_changelist = lambda request, **kwargs: changelist_class
    return exporter.get_changelist_instance(request)


def rows(queryset, *, rules, today=None):
    """The export's rows (lists of cell values in COLUMNS' order) of the cases of
    `queryset`, streamed: CHUNK cases at a time, their history in one query a chunk."""
    labels = {name: {code: str(label) for code, label in
                     Application._meta.get_field(name).flatchoices}
              for name in ("document_type", "kind", "status")}
    countries = dict(reference_rows(Country))
    paused = gettext("paused (with the applicant)")
    overdue = gettext("overdue")
    today = today or timezone.localdate()
    cases = queryset.values_list(*FIELDS).iterator(chunk_size=CHUNK)
    while chunk := list(itertools.islice(cases, CHUNK)):
        history = workdays.histories([case[0] for case in chunk])
        for (pk, receipt_no, registration_no, document_type, kind, status, identifier, name,
             agent_identifier, agent_name, country, submitted_at, permit_no,
             version) in chunk:
            changes = history.get(pk, ())
            clock = workdays.clock(status=status, document_type=document_type,
                                   history=changes, rules=rules, today=today)
            current = clock.current
            if current is not None:
                stage, days, due = current.label, current.days, to_roc(current.due)
                late = overdue if current.overdue else ""
            else:
                stage = paused if clock.paused and clock.stages else ""
                days, due, late = None, "", ""
            yield [
                receipt_no, registration_no, labels["document_type"].get(document_type,
                                                                         document_type),
                labels["kind"].get(kind, kind), labels["status"].get(status, status),
                identifier, name, agent_identifier, agent_name,
                f"{country} {countries[country]}" if country in countries else country,
                to_roc(timezone.localtime(submitted_at)) if submitted_at else "",
                to_roc(timezone.localtime(changes[-1].created_at)) if changes else "",
                str(stage), days, due, late, permit_no, version,
            ]


def export(queryset, fmt, *, rules):
    """(filename, content type, bytes) of the cases of `queryset` as .xlsx or .ods."""
    options = {"title": capfirst(Application._meta.verbose_name_plural), "fill_rows": 0}
    if fmt == "xlsx":
        # A report, not a table to fill in: its text cells text by their type (a number
        # keeps its zeros; a name starting with "=" is no formula), written at half the cost.
        content = spreadsheets.write_xlsx(columns(), rows(queryset, rules=rules),
                                          cells_as_text=False, **options)
    else:
        content = spreadsheets.write_ods(columns(), rows(queryset, rules=rules), **options)
    # ASCII, with the day it was made: the reviewer's downloads folder sorts them.
    return f"cases-{timezone.localdate():%Y%m%d}.{fmt}", CONTENT_TYPES[fmt], content


@require_GET
def export_view(request, *, model_admin, fmt):
    """匯出 Excel / 匯出 ODF on the case list: what the list shows under the same query
    string, for those who may see the list (permits.view_application). A list the admin
    cannot build from the query string, a search it refuses, or one too long goes back to
    the list with a message; nothing is exported."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    back = reverse("admin:permits_application_changelist")
    query = request.GET.urlencode()
    back_to_list = redirect(f"{back}?{query}" if query else back)
    try:
        changelist = export_changelist(model_admin, request)
    except IncorrectLookupParameters:
        # (permits.admin.CaseChangeList: a forged value too) The list without them.
        messages.error(request, gettext("The list's filters could not be read; nothing was "
                                        "exported."))
        return redirect(back)
    if not changelist.search_form_class(request.GET).is_valid():
        # The list shows every case then, with the search's error: an export of every case
        # is not what was asked for.
        return back_to_list
    queryset = changelist.queryset
    count = queryset.count()
    if count > MAX_ROWS:
        messages.error(request, ngettext(
            "The list holds %(count)s case; at most %(max)s can be exported at once. Narrow "
            "the list with the filters or the search, then export again.",
            "The list holds %(count)s cases; at most %(max)s can be exported at once. Narrow "
            "the list with the filters or the search, then export again.",
            count) % {"count": f"{count:,}", "max": f"{MAX_ROWS:,}"})
        return back_to_list
    filename, content_type, content = export(queryset[:MAX_ROWS], fmt,
                                             rules=workdays.rules_for(request))
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "private, no-store"  # the cases of a bureau's list
    return response
