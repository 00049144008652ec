import functools
from collections import namedtuple

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import engines
from django.utils.functional import SimpleLazyObject
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from permits import case_html, documents, entry, item_pages, pdf, procedures, workflow
from permits.attachments import AttachmentForm
from permits.decorators import filer_required
from permits.fields import country_names
from permits.forms import QueryForm
from permits.listing import (
    Criteria,
    Drafts,
    VisibleCases,
    case_page,
    case_rows,
    choice_labels,
)
from permits.models import (
    Application,
    Attachment,
    Item,
    Party,
    PermitVersion,
    Status,
    StatusChange,
)
from permits.parties import party_rows
from permits.prepared import PreparedInstances, in_place, together
from portal.escaping import escaped
from portal.forms import PortalForm
from portal.templatetags.roc import roc_datetime

User = get_user_model()

# What permits.entry.continue_links reads of a draft listed in 我的案件.
DraftKey = namedtuple("DraftKey", "pk document_type kind")
# Cases a page of 我的案件 lists.
CASES_PER_PAGE = 25
# The newest drafts listed in 我的案件; older ones are purged (DRAFT_MAX_AGE_DAYS).
DRAFTS_SHOWN = 10


def _cases(user):
    return Application.objects.visible_to(user).select_related("issued_version__permit")


@functools.cache
def _filed():
    # Built once: 我的案件's page is compiled once per process and reads it only then.
    return Application.objects.exclude(status=Status.DRAFT)


def _listed(user, drafts=None):
    """The user's filed cases (not drafts) as the lists page them, read from the indexes
    (permits.listing); 我的案件's own list compiled once per process. `drafts`: Drafts, read
    with the first page."""
    return VisibleCases(_filed(), user=user, ordering=("-created_at", "-id"),
                        prepared="my_cases", drafts=drafts)


def home_panel(request):
    """The home page's 我的案件 box: the newest cases of the user, those that need them
    first. Staff work in the admin and get no box."""
    if request.user.is_staff:
        return None
    cases = _listed(request.user)[:8]
    cases.sort(key=lambda case: case.status not in (Status.SUPPLEMENT, Status.REGISTERED))
    return {"cases": cases, "rows": case_rows(cases)} if cases else None


@filer_required
def draft_continue(request, pk):
    """繼續 of a draft on 我的案件 whose entry its data decide (entry.continue_links): to that
    entry's page. Only the user's own drafts (entry.drafts_of); any other id gives 404."""
    draft = get_object_or_404(entry.drafts_of(request.user), pk=pk)
    url = entry.continue_url(draft)
    if url is None:
        raise Http404
    return redirect(url)


@login_required
def dashboard(request):
    """我的案件: newest first, with what each case needs from the user; above them the
    drafts (暫存) the user is entering, each with a link to go on with it."""
    # The drafts shown above the first page, one more: are there others?
    cases = _listed(request.user, drafts=Drafts(entry.drafts_of, DRAFTS_SHOWN + 1,
                                                entry.draft_branches))
    page = case_page(cases, request.GET.get("page"), per_page=CASES_PER_PAGE)
    page.object_list = _with_dashboard_notes(page.object_list)
    page.rows = case_rows(page.object_list)
    # The drafts head the first page only, read with it.
    drafts = _draft_rows(cases.drafts_shown or ()) if page.number == 1 else []
    return render(request, "permits/dashboard.html", {
        "page": page, "drafts": drafts[:DRAFTS_SHOWN],
        "draft_rows": draft_table_rows(drafts[:DRAFTS_SHOWN]),
        "more_drafts": len(drafts) > DRAFTS_SHOWN, "drafts_shown": DRAFTS_SHOWN,
        "draft_days": settings.DRAFT_MAX_AGE_DAYS})


def _draft_rows(drafts):
    """The drafts of the 暫存中的案件 table, as dicts, from listing.DRAFT_COLUMNS rows."""
    rows, shown = [], []
    labels = {name: choice_labels(Application, name) for name in ("document_type", "kind")}
    for pk, document_type, kind, applicant_name, updated_at, item_count in drafts:
        shown.append(DraftKey(pk, document_type, kind))
        rows.append({"pk": pk, "document_type": labels["document_type"](document_type),
                     "kind": labels["kind"](kind), "applicant_name": applicant_name,
                     "item_count": item_count, "updated": roc_datetime(updated_at)})
    # Where each is continued: no query (a draft of an entry that shares its document type
    # and kind with another links to permits:draft_continue, which decides on the click).
    urls = entry.continue_links(shown)
    for row in rows:
        row["continue_url"] = urls[row["pk"]]
    return rows


def draft_table_rows(drafts):
    """The <tr> rows of 暫存中的案件 for _draft_rows' `drafts`, written out here, every value
    escaped: as a template loop the ten rows' values cost a fifth of the page's own CPU
    (issue 10, profiled; as permits.listing.case_rows). tests/permits/test_listing.py
    compares them with what the template's loop printed."""
    continue_ = escaped(_("Continue"))
    rows = []
    for draft in drafts:
        url = draft["continue_url"]
        link = (f'<a class="btn btn-outline-primary btn-sm" href="{escaped(url)}">{continue_}</a>'
                if url else "")
        rows.append(
            f'<tr data-testid="draft-{draft["pk"]}">'
            f'<td>{escaped(draft["document_type"])}</td><td>{escaped(draft["kind"])}</td>'
            f'<td>{escaped(draft["applicant_name"])}</td><td>{draft["item_count"]}</td>'
            f'<td>{escaped(draft["updated"])}</td><td class="text-end">{link}</td></tr>')
    return mark_safe("\n".join(rows))  # noqa: S308 (every value escaped)


def _with_dashboard_notes(cases):
    """Each procedure's note under its cases on the page (masks: the stock), one hook call
    per procedure, so the page's queries do not grow with its rows."""
    by_type = {}
    for case in cases:
        by_type.setdefault(case.document_type, []).append(case)
    for document_type, of_type in by_type.items():
        notes = procedures.get(document_type).dashboard_notes(of_type)
        for case in of_type:
            case.dashboard_note = notes.get(case.pk, "")
    return cases


def _own_ordering(model):
    """The model's ordering among the rows of one case: its Meta.ordering less the case
    ("application", which joined the cases to sort by their own ordering, the same for
    every row of one case)."""
    return [name for name in model._meta.ordering
            if name.lstrip("-") not in ("application", "application_id")]


# What a case page shows under the case, each part read by a query compiled once per process
# (permits.prepared): building and compiling four prefetch_related queries cost Django more
# CPU than PostgreSQL spent answering them (issue 10, profiled).
CASE_PARTS = {
    name: PreparedInstances(model, lambda application, model=model: model.objects.filter(
        application=application).order_by(*_own_ordering(model)),
        parameters=("application",), keep_plan=True)
    for name, model in (("items", Item), ("attachments", Attachment), ("parties", Party),
                        ("status_changes", StatusChange))}


def with_parts(application, names=tuple(CASE_PARTS)):
    """`application` with its items, attachments, parties and status history (or the parts
    `names`) in place as prefetch_related puts them: `application.items.all()` reads no more,
    and each part knows its case. One round trip (_read_parts). 9-1-2's upload page reads
    its case the same way."""
    _read_parts([(application, names)])
    return application


def _read_parts(wanted, permit=None):
    """The parts of each (case, names) of `wanted` put in place (with_parts), and the
    versions of `permit` if given (returned, newest first, each knowing `permit`), all in one
    round trip (permits.prepared.together)."""
    calls = [(CASE_PARTS[name], {"application": case.pk})
             for case, names in wanted for name in names]
    if permit is not None:
        calls.append((VERSIONS_QUERY, {"permit": permit.pk}))
    results = iter(together(*calls))
    for case, names in wanted:
        for name in names:
            in_place(case, name, next(results))
    if permit is None:
        return None
    versions = next(results)
    for version in versions:
        PermitVersion.permit.field.set_cached_value(version, permit)
    return versions


def _related_cases(application, procedure):
    """[(case, names)]: the cases beside `application` whose parts `names` the procedure's
    hooks read (Procedure.related_parts), as the case's own query read them."""
    found = []
    for path, names in procedure.related_parts:
        case = application
        for step in path.split("__"):
            case = getattr(case, step, None) if case is not None else None
        if case is not None:
            found.append((case, tuple(names)))
    return found


def _case_of(user, pk):
    """Case `pk` if `user` may see it, with its permit version, permit and the permit's
    cancellation (shown beside its number), and the rows and values the procedures' hooks
    read beside it (Procedure.case_related, case_annotations: one query, whatever the
    procedure); else 404."""
    related = sorted({name for procedure in procedures.registered()
                      for name in procedure.case_related})
    annotations = {name: expression for procedure in procedures.registered()
                   for name, expression in procedure.case_annotations.items()}
    return _cases(user).select_related("issued_version__permit__revocation", *related) \
        .annotate(**annotations).filter(pk=pk)


# The case page's case for the ordinary accounts (the applicant, the agent), compiled once
# per process; staff who see every case read it through the ORM (permits.prepared).
CASE_QUERY = PreparedInstances(Application, lambda user, pk: _case_of(User(pk=user), pk),
                               parameters=("user", "pk"), keep_plan=True)
# The permit's versions (listed when it has more than one), newest first.
VERSIONS_QUERY = PreparedInstances(
    PermitVersion, lambda permit: PermitVersion.objects.filter(permit=permit).order_by(
        "-version"), parameters=("permit",), keep_plan=True)


def _case_page_case(user, pk):
    if not user.is_authenticated or Application.objects.sees_every_case(user):
        return get_object_or_404(_case_of(user, pk))
    found = CASE_QUERY.instances(user=user.pk, pk=pk)
    if not found:
        raise Http404
    return found[0]


# 上傳文件's form on the case page, as {% form_fields %} draws it (unbound: the page is a GET
# and nothing else renders it), drawn once per process, language, document type and kinds
# offered: what it prints depends on these alone (the kinds' labels, the settings' size
# limit and file types). Forgotten when a setting changes; at most _UPLOAD_FORMS_KEPT.
_UPLOAD_FORMS = {}
_UPLOAD_FORMS_KEPT = 256


@functools.cache
def _upload_form_template():
    return engines["django"].from_string("{% load form_fields %}{% form_fields form %}")


def upload_form_html(form, document_type, kinds):
    """The HTML of `form`, an unbound AttachmentForm(document_type=…, kinds=…) (made only
    when drawn: a lazy object)."""
    key = (get_language(), document_type, tuple(kinds))
    html = _UPLOAD_FORMS.get(key)
    if html is None:
        if len(_UPLOAD_FORMS) >= _UPLOAD_FORMS_KEPT:
            _UPLOAD_FORMS.clear()
        html = _UPLOAD_FORMS[key] = _upload_form_template().render({"form": form})
    return html


def _upload_form(document_type, kinds):
    """AttachmentForm(document_type=…, kinds=…), made when first used: the page prints its
    drawing (upload_form_html), kept from an earlier request."""
    return SimpleLazyObject(lambda: AttachmentForm(document_type=document_type, kinds=kinds))


@receiver(setting_changed)
def _forget_upload_forms(**kwargs):
    _UPLOAD_FORMS.clear()


@login_required
def application_detail(request, pk):
    application = _case_page_case(request.user, pk)
    procedure = procedures.get(application.document_type)
    # After the case, one round trip: its parts, its permit's versions (listed when there
    # are several) and the parts of the cases beside it that the procedure's hooks read.
    permit = application.permit_version.permit if application.permit_version else None
    versions = _read_parts([(application, tuple(CASE_PARTS)),
                            *_related_cases(application, procedure)], permit)
    is_filer = workflow.actor_kind_of(request.user, application) == workflow.APPLICANT
    may_supplement = application.status == Status.SUPPLEMENT and is_filer
    # The applicant or agent adds documents while the case is theirs: a draft, registered,
    # or in 補件 (attachments.OPEN_FOR_DOCUMENTS), and the kinds the procedure opens later
    # (Procedure.upload_kinds); the required ones are listed beside it.
    upload_kinds = procedure.upload_kinds(application) if is_filer else []
    may_upload = bool(upload_kinds)
    history = list(application.status_changes.all())
    request_note = next((c.note for c in reversed(history) if c.new == Status.SUPPLEMENT), "")
    context = {
        "application": application,
        "history": history,
        "versions": versions or [],
        "may_supplement": may_supplement,
        "supplement_request": request_note if application.status == Status.SUPPLEMENT else "",
        "may_upload": may_upload,
        "attachment_form": _upload_form(application.document_type, upload_kinds)
        if may_upload else None,
        "required_documents": documents.status(application),
        "parties": party_rows(application),
        # The procedure's own rows (masks: 進口狀況) and pages to go on to (issue 9, 14).
        "procedure_rows": procedure.detail_rows(application),
        "procedure_links": procedure.detail_links(application, request.user),
        "next_step": procedure.next_step(application),
        # SHTC-12: a case the bureau holds is cancelled by the bureau, at the filer's call.
        "cancel_note": (procedure.cancel_note(application) if is_filer and
                        workflow.cancelled_by_bureau_only(application.status) else ""),
        "country_names": country_names(),  # in the page's language
        # Its items a page at a time (10,000 a case: issue 13), from those read above.
        "item_page": item_pages.listed_page(application.items.all(), request.GET.get("page")),
    }
    if may_upload:
        context["attachment_form_html"] = upload_form_html(
            context["attachment_form"], application.document_type, upload_kinds)
    # Its lists written out in Python (permits.case_html): as template loops they were most
    # of the page's own template time (issue 10, profiled).
    context.update(case_html.lists(application, procedure, context))
    return render(request, "permits/application_detail.html", context)


class ResubmitForm(PortalForm):
    """The note a client may send with 補件完成: free text like any form's (the text rule,
    a bound)."""

    note = forms.CharField(required=False, max_length=2000, widget=forms.Textarea)


@require_POST
@login_required
def application_resubmit(request, pk):
    """補件完成: back to 初審中 (FAQ 3.3)."""
    application = get_object_or_404(_cases(request.user), pk=pk)
    form = ResubmitForm(request.POST)
    if not form.is_valid():
        for message in form.errors["note"]:
            messages.error(request, message)
        return redirect("permits:application_detail", pk=application.pk)
    try:
        workflow.transition(application=application, to=Status.INITIAL_REVIEW,
                            actor=request.user, note=form.cleaned_data["note"])
    except (workflow.TransitionNotAllowed, PermissionDenied) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The case went back to the bureau for review."))
    return redirect("permits:application_detail", pk=application.pk)


def _query_cases(**criteria):
    """The filed cases meeting 申辦狀況查詢作業's criteria (who may see them: VisibleCases)."""
    return QueryForm.narrow(Application.objects.exclude(status=Status.DRAFT), **criteria)


@login_required
def query(request):
    """申辦/核銷查詢 → 申辦狀況查詢作業(含列印) (PERMIT-7)."""
    form = QueryForm(request.GET or None)
    page = None
    if form.is_valid():
        # Compiled once per process for each combination of criteria (permits.listing).
        criteria = Criteria("query", _query_cases, form.criteria(), QueryForm.KINDS)
        page = case_page(VisibleCases(user=request.user, ordering=form.ORDERING,
                                      criteria=criteria),
                         request.GET.get("page"), per_page=20)
        page.rows = case_rows(page.object_list, validity=True)
    return render(request, "permits/query.html", {"form": form, "page": page},
                  status=400 if form.errors else 200)  # a refused form: 400


@login_required
def permit_print(request, pk):
    """列印: the permit version as a PDF reference copy (參考用聯)."""
    version = get_object_or_404(
        PermitVersion.objects.select_related("permit", "application").filter(
            application__in=Application.objects.visible_to(request.user)),
        pk=pk)
    content = pdf.render_permit(version)
    response = HttpResponse(content, content_type="application/pdf")
    filename = f"{version.permit.permit_no}-v{version.version}.pdf"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
