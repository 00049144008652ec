"""匯出 Excel / 匯出 ODF / 匯入 Excel / 匯入 ODF (SHTC-17; the SHTC manual §4): the goods items of
a draft as a spreadsheet, and a filled-in spreadsheet back, on the review page of every entry
with CaseEntry.bulk_items.

    匯出 → the file (bulk_items.export)
    匯入 → upload page ─上傳→ follow page (progress while the worker checks it)
         → the bad cells, nothing imported │ the preview (added, changed, unchanged, removed)
                                           ─確認→ the items replaced ─→ review page
                                           ─取消→ review page

Every page loads the draft as the entry's own item pages do: through visible_to(), then the
entry's load() (the user's own draft, still a draft), so another user's case is 404 and a
case filed meanwhile leads to its page. An import is found only among those of that draft
and that user.
"""

from functools import wraps

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from permits import entry as entries
from permits import item_imports
from permits.decorators import filer_required
from permits.models import Application, ItemImport, ItemImportStatus
from portal.forms import PortalForm
from portal.middleware import idle_passive

FORMAT_LABELS = {"xlsx": "Excel", "ods": "ODF"}
EXTENSIONS = {"xlsx": ".xlsx", "ods": ".ods"}
ERRORS_PER_PAGE = 500
# The follow page's refresh without script, in seconds (static/permits/bulk_progress.js
# polls the status instead).
REFRESH_SECONDS = 2


class ItemFileForm(PortalForm):
    """匯入 Excel / 匯入 ODF: the filled-in spreadsheet. Either format is taken, whichever
    button was used: the content decides (item_imports.check_upload)."""

    file = forms.FileField(label=gettext_lazy("Spreadsheet file"))

    def __init__(self, *args, fmt, **kwargs):
        super().__init__(*args, **kwargs)
        self.format = None
        field = self.fields["file"]
        field.help_text = _(
            "Excel (.xlsx) or ODF (.ods); at most %(size)s and %(items)s items.") % {
            "size": filesizeformat(item_imports.max_file_bytes()),
            "items": f"{item_imports.max_items():,}"}
        others = [extension for key, extension in EXTENSIONS.items() if key != fmt]
        field.widget.attrs["accept"] = ",".join([EXTENSIONS[fmt], *others])

    def clean_file(self):
        upload = self.cleaned_data["file"]
        self.format = item_imports.check_upload(upload)
        return upload


def bulk_page(view=None, *, as_json=False):
    """The draft's bulk page: `view(request, entry, application, **kwargs)` with the entry
    that enters draft `pk` and the draft as its load() gives it. 404 for a case the user
    may not see or whose entry has no bulk items; a case filed meanwhile: its page (or, to
    the status request, done)."""
    def decorate(view):
        @filer_required
        @wraps(view)
        def wrapped(request, pk, **kwargs):
            application = get_object_or_404(Application.objects.visible_to(request.user),
                                             pk=pk)
            entry = entries.entry_of(application)
            if entry is None or not entry.bulk_items:
                raise Http404
            try:
                application = entry.load(request, pk)
            except entries.AlreadySubmitted as done:
                if as_json:
                    return JsonResponse({"done": True})
                return entry.submitted(request, done.application)
            return view(request, entry, application, **kwargs)

        return wrapped

    return decorate(view) if view is not None else decorate


def _format(fmt):
    if fmt not in FORMAT_LABELS:
        raise Http404
    return fmt


def _import_of(request, application, import_pk, fields=None):
    """The user's own import `import_pk` of `application` (404 otherwise), with only
    `fields` read if given; never its rows, megabytes that only 確認 reads."""
    imports = ItemImport.objects.filter(application=application, actor=request.user)
    imports = imports.only(*fields) if fields else imports.defer("rows")
    return get_object_or_404(imports, pk=import_pk)


@require_GET
@bulk_page
def items_export(request, entry, application, fmt):
    """匯出 Excel / 匯出 ODF: the draft's items (or an empty template) as a download."""
    from permits import bulk_items

    filename, content_type, content = bulk_items.export(entry, application, _format(fmt))
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "POST"])
@bulk_page
def items_import(request, entry, application, fmt):
    """匯入 Excel / 匯入 ODF: the upload page, with the limits and the manual's 填寫說明."""
    from permits import bulk_items

    fmt = _format(fmt)
    form = ItemFileForm(fmt=fmt)
    if request.method == "POST":
        form = ItemFileForm(request.POST, request.FILES, fmt=fmt)
        if form.is_valid():
            item_import = item_imports.import_start(
                application=application, actor=request.user,
                upload=form.cleaned_data["file"], fmt=form.format)
            return redirect("permits:item_import", pk=application.pk,
                            import_pk=item_import.pk)
    return render(request, "permits/entry/bulk_upload.html", entry.context(
        application, form=form, fmt=fmt, format_label=FORMAT_LABELS[fmt],
        instructions=bulk_items.instructions(),
        max_size=filesizeformat(item_imports.max_file_bytes()),
        max_items=f"{item_imports.max_items():,}",
        export_url=reverse("permits:items_export", args=[application.pk, fmt])),
        status=400 if form.is_bound else 200)


@never_cache
@require_GET
@bulk_page
def item_import(request, entry, application, import_pk):
    """The import's page: its progress while it is checked, then its bad cells or its
    preview with 確認 and 取消."""
    item_import = _import_of(request, application, import_pk)
    if item_import.status in (ItemImportStatus.IMPORTED, ItemImportStatus.CANCELLED):
        return redirect(entry.url("review", application.pk))
    fmt = item_import.format
    context = {"item_import": item_import, "format_label": FORMAT_LABELS[fmt],
               "upload_url": reverse("permits:items_import", args=[application.pk, fmt]),
               "export_url": reverse("permits:items_export", args=[application.pk, fmt])}
    if not item_import.done:
        context.update(status_url=reverse("permits:item_import_status",
                                          args=[application.pk, item_import.pk]),
                       progress_text=progress_text(item_import),
                       refresh_seconds=REFRESH_SECONDS)
        template = "permits/entry/bulk_progress.html"
    elif item_import.status == ItemImportStatus.REFUSED:
        context["errors"] = Paginator(item_import.errors, ERRORS_PER_PAGE).get_page(
            request.GET.get("page"))
        template = "permits/entry/bulk_errors.html"
    else:
        template = "permits/entry/bulk_preview.html"
    return render(request, template, entry.context(application, **context))


def progress_text(item_import):
    """What the follow page says of the check's progress."""
    if item_import.status == ItemImportStatus.QUEUED:
        return _("The file is waiting to be checked.")
    if item_import.total:
        return _("%(done)s of %(total)s rows checked.") % {
            "done": f"{item_import.progress:,}",
            "total": f"{item_import.total:,}"}
    return _("%(done)s rows checked.") % {
        "done": f"{item_import.progress:,}"}


@never_cache
@require_GET
@idle_passive  # asked by the page, not by the user: the idle time runs on (ACC-3)
@bulk_page(as_json=True)
def item_import_status(request, entry, application, import_pk):
    """The follow page's status request (static/permits/bulk_progress.js)."""
    item_import = _import_of(request, application, import_pk,
                             fields=("status", "progress", "total"))
    return JsonResponse({"done": item_import.done, "progress": item_import.progress,
                         "total": item_import.total, "text": progress_text(item_import)})


@require_POST
@bulk_page
def item_import_confirm(request, entry, application, import_pk):
    """確認: the draft's items become the file's (item_imports.import_confirm)."""
    item_import = _import_of(request, application, import_pk,
                             fields=("pk", "status", "application_id", "actor_id"))
    try:
        item_imports.import_confirm(entry=entry, application=application,
                                    item_import=item_import, actor=request.user)
    except entries.AlreadySubmitted as done:
        return entry.submitted(request, done.application)
    except ValidationError as error:
        # A stale preview or rows refused now: the import's page says why (its message or
        # its bad cells), as for a file refused by the check.
        if getattr(error, "code", None) == "not_ready":
            messages.error(request, error.messages[0])
        return redirect("permits:item_import", pk=application.pk, import_pk=item_import.pk)
    messages.success(request, _("The goods items of the file were imported."))
    return redirect(entry.url("review", application.pk))


@require_POST
@bulk_page
def item_import_cancel(request, entry, application, import_pk):
    """取消: nothing is imported; back to the items."""
    item_import = _import_of(request, application, import_pk, fields=("pk", "status"))
    item_imports.import_cancel(item_import=item_import)
    messages.info(request, _("The import was cancelled; the goods items are unchanged."))
    return redirect(entry.url("review", application.pk))
