"""9-1-2 非輸往伊朗北韓-附件上傳暨戰略性高科技輸出許可申請/取消作業 (SHTC-4, SHTC-12; the SHTC
manual §1.1.1.2.1 步驟8, §2.4 items 6 and 7, FAQ 3.13):

    選擇文件類別, 收件/登錄編號 or 申請起訖日期 ─查詢→ the user's cases ─click the number→
    the case's upload page: 上傳檔案 per required document (SHTC-2), the end user's website
    ─登錄最終用途並申請→ the specific end use (English) ─案件申請→ 初審中, 收件編號
    ─取消申請→ confirm → 已取消 (登錄中 only; under review: the bureau's phone number)

Every page loads the case through Application.objects.visible_to(): another user's case
is not found (404), and another user's number is answered as an unknown one. Applicants
and agents only (filer_required): the bureau works in the admin.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from permits import attachments, case_html, documents, procedures, workflow
from permits.decorators import filer_required
from permits.fields import country_names
from permits.listing import (
    LINK_KEY,
    Criteria,
    VisibleCases,
    case_page,
    choice_labels,
    key_link,
    roc_dates,
)
from permits.models import Application, DocumentType, Status
from permits.parties import party_rows
from permits.prepared import PreparedInstances, in_place, together
from permits.procedures import COMMON_DOCUMENT_KINDS
from permits.templatetags.permits_tags import plain
from permits.views import CASE_PARTS, with_parts
from portal.accounts.models import User
from portal.escaping import escaped
from shtc import iran as iran_rules
from shtc import services
from shtc.filing_forms import EndUseForm, EndUserUrlForm, FilingQueryForm
from shtc.procedures import (
    CONSULTATION_NOTE,
    DOCUMENT_KINDS,
    END_USE_BUTTON,
    FILING_TITLE,
    filing_title,
    is_iran_application,
    shtc_of,
)
from shtc.services import BUREAU_PHONE

# Cases a page of the query lists (上一頁 / 下一頁 beyond: permits.listing.case_page).
CASES_PER_PAGE = 20
# The upload's drop-down: SHTC-2's nine kinds for a case with an end-use assurance, the
# procedure's own kinds for one without (SHTC-5); in 補件 the common kinds too (補件, 其他).
SHTC_2_KINDS = ("assurance", "red_flag_affidavit", "catalogue", "transaction",
                "end_user_profile", "business_licence", "import_declaration",
                "import_certificate", "reexport_approval")
COMMON_KINDS = {code for code, _label in COMMON_DOCUMENT_KINDS}
# Which field a refusal of attachment_add belongs next to (the rest: the whole form).
UPLOAD_FIELD_OF = {"invalid_kind": "document_kind", "not_entitled": None, "not_open": None}


def _shtc_cases():
    return Application.objects.filter(document_type=DocumentType.SHTC_EXPORT).exclude(
        status=Status.DRAFT)


def _cases_of(user):
    """The SHTC cases `user` may see in 9-1-2 (not drafts: 9-1-1 still has them)."""
    return Application.objects.visible_to(user).filter(
        document_type=DocumentType.SHTC_EXPORT).exclude(status=Status.DRAFT) \
        .select_related("shtc")


# The case of a 9-1-2 page for the ordinary accounts, compiled once per process (its
# build, compile and ORM work cost more than the query itself: permits.prepared).
CASE_QUERY = PreparedInstances(
    Application, lambda user, pk: _cases_of(User(pk=user)).filter(pk=pk),
    parameters=("user", "pk"))


def _case(request, pk, parts=()):
    """The user's SHTC case `pk` (not a draft: 9-1-1 still has it), or 404; with its `parts`
    in place (permits.views.with_parts), read in the same round trip as the case for the
    ordinary accounts (permits.prepared.together: the parts of another user's case are
    read for nothing, never shown)."""
    user = request.user
    if Application.objects.sees_every_case(user):
        return with_parts(get_object_or_404(_cases_of(user), pk=pk), parts)
    found, *read = together((CASE_QUERY, {"user": user.pk, "pk": pk}),
                            *((CASE_PARTS[name], {"application": pk}) for name in parts))
    if not found:
        raise Http404
    for name, rows in zip(parts, read, strict=True):
        in_place(found[0], name, rows)
    return found[0]


@filer_required
def filing_query(request):
    """查詢: the user's SHTC cases by number or application dates, newest first, each number
    a link to its upload page. One query for the page (permits.listing), each case with its
    ShtcApplication: whether it takes documents now depends on it (SHTC-5)."""
    form = FilingQueryForm(request.GET or None)
    page = None
    if form.is_valid():
        # Compiled once per process for each combination of criteria (permits.listing).
        criteria = Criteria("filing_query", _filing_cases, form.criteria(),
                            FilingQueryForm.KINDS)
        # Its rows show no permit: the versions are not read (two joins less to plan).
        cases = VisibleCases(user=request.user, ordering=form.ORDERING, criteria=criteria,
                             related=("shtc",), versions=False)
        page = case_page(cases, request.GET.get("page"), per_page=CASES_PER_PAGE)
        if form.cleaned_data["number"] and not page.object_list:
            form.not_found()
            page = None
        else:
            url = key_link(reverse("shtc:filing_case", args=[LINK_KEY]))
            status = choice_labels(Application, "status")
            roc = roc_dates()
            page.rows = [_row(case, url, status, roc) for case in page.object_list]
            page.rows_html = rows_html(page.rows)
    return render(request, "shtc/filing_query.html", {
        "form": form, "page": page, "title": FILING_TITLE,
    }, status=400 if form.errors else 200)


def _filing_cases(**criteria):
    """The SHTC cases meeting 9-1-2's criteria (who may see them: VisibleCases)."""
    return FilingQueryForm.narrow(_shtc_cases(), **criteria)


def _uploads_open(application):
    """Whether the case takes documents now: its procedure's one rule (Procedure.upload_kinds:
    登錄中 and 補件; without an end-use assurance also after 申請, SHTC-5)."""
    return bool(procedures.get(application.document_type).upload_kinds(application))


def _row(case, url, status, roc):
    return {"url": url(case.pk),
            "receipt_no": case.receipt_no or "", "registration_no": case.registration_no or "",
            "applicant_name": case.applicant_name,
            "date": roc(case.submitted_at or case.created_at),
            "status": status(case.status), "uploads_open": _uploads_open(case)}


def rows_html(rows):
    """The <tr>s of the query's table for _row()'s `rows` (or its "No cases." row), every
    value escaped: written here, the template's loop over 20 rows cost more CPU than the
    rest of the page's own template (issue 10, profiled). tests/shtc/test_pages_kept.py
    compares them with what the loop printed."""
    if not rows:
        return mark_safe(  # noqa: S308 (no value)
            f'<tr><td colspan="5" class="text-secondary">{escaped(_("No cases."))}</td></tr>')
    upload = escaped(_("Upload file"))
    html = []
    for row in rows:
        url, receipt_no, registration_no = (escaped(row[name]) for name in
                                            ("url", "receipt_no", "registration_no"))
        receipt = f'<a href="{url}">{receipt_no}</a>' if receipt_no else ""
        registration = f'<a href="{url}">{registration_no}</a>' if registration_no else ""
        link = (f'<a class="small ms-1" href="{url}" data-testid="row-upload">{upload}'
                f'<span class="visually-hidden"> {receipt_no or registration_no}</span></a>'
                if row["uploads_open"] else "")
        html.append(
            f"<tr>\n      <td>{receipt}</td>\n      <td>{registration}</td>\n"
            f'      <td class="small">{escaped(row["applicant_name"])}</td>\n'
            f'      <td>{escaped(row["date"])}</td>\n'
            f'      <td><span class="badge text-bg-'
            f'{"warning" if row["uploads_open"] else "secondary"}">{escaped(row["status"])}'
            f"</span>\n        {link}</td>\n    </tr>")
    return mark_safe("\n".join(html))  # noqa: S308 (every value escaped)


def _upload_form(application, data=None, files=None):
    """The upload, offering what 9-1-2 lists for the case's route among the kinds its
    procedure takes now (Procedure.upload_kinds, which attachment_add checks again)."""
    form = attachments.AttachmentForm(data, files, document_type=application.document_type)
    shtc = shtc_of(application)
    with_assurance = shtc is None or shtc.with_assurance
    open_kinds = set(procedures.get(application.document_type).upload_kinds(application))
    form.fields["document_kind"].choices = [("", "---------"), *(
        (code, label) for code, label in DOCUMENT_KINDS
        if ((code in SHTC_2_KINDS if with_assurance else code not in COMMON_KINDS)
            or (code in COMMON_KINDS and application.status == Status.SUPPLEMENT))
        # A refused post keeps its choices: the refusal is said next to the form.
        and (code in open_kinds or not open_kinds))]
    return form


def _filer(request, application):
    return workflow.actor_kind_of(request.user, application) == workflow.APPLICANT


# What the upload page lists of its case (permits.views.CASE_PARTS).
PAGE_PARTS = ("items", "attachments", "parties")


@filer_required
def filing_case(request, pk):
    """The case's upload page: its data, the required documents with what is missing,
    上傳檔案, the uploaded files, the end user's website; 登錄最終用途並申請 and 取消申請 while
    登錄中. POST "upload" adds a file (permits.attachments.attachment_add), "save_url" the
    website; a refused one shows the page again with the message next to its field."""
    # A page to show: the parts it lists read with the case (a post reads them after).
    application = _case(request, pk, PAGE_PARTS if request.method == "GET" else ())
    upload_form = url_form = None
    status = 200
    if request.method == "POST":
        if "upload" in request.POST:
            upload_form = _upload_form(application, request.POST, request.FILES)
            if _upload(request, application, upload_form):
                return redirect("shtc:filing_case", pk=application.pk)
        elif "save_url" in request.POST:
            url_form = EndUserUrlForm(request.POST)
            if _save_url(request, application, url_form):
                return redirect("shtc:filing_case", pk=application.pk)
        else:
            messages.error(request, _("Choose what to do: upload a file or save the website."))
        status = 400
    return render(request, "shtc/filing_case.html",
                  _case_context(request, application, upload_form=upload_form,
                                url_form=url_form), status=status)


def _upload(request, application, form):
    if not form.is_valid():
        return False
    try:
        attachment = attachments.attachment_add(
            application=application, actor=request.user,
            document_kind=form.cleaned_data["document_kind"], upload=form.cleaned_data["file"])
    except ValidationError as error:
        for problem in error.error_list:
            form.add_error(UPLOAD_FIELD_OF.get(problem.code, "file"), problem)
        return False
    messages.success(request, _("“%(name)s” was added to the case.")
                     % {"name": attachment.original_name})
    return True


def _save_url(request, application, form):
    if not form.is_valid():
        return False
    try:
        services.end_user_url_set(application=application, actor=request.user,
                                  url=form.cleaned_data["end_user_url"])
    except ValidationError as error:
        form.add_error(None, error)
        return False
    messages.success(request, _("The end user's website was saved.")
                     if form.cleaned_data["end_user_url"]
                     else _("The end user's website was removed: upload its company profile."))
    return True


def _case_context(request, application, *, upload_form=None, url_form=None):
    """What the upload page shows; a fixed number of queries whatever the case holds."""
    # Its items, attachments and parties read once, by queries compiled once per process:
    # the required documents, the parties' rows and the page's lists share them.
    cached = application.__dict__.get("_prefetched_objects_cache", {})
    with_parts(application, tuple(name for name in PAGE_PARTS if name not in cached))
    shtc = shtc_of(application)
    with_assurance = shtc is None or shtc.with_assurance
    is_filer = _filer(request, application)
    # The procedure's one rule decides (Procedure.upload_kinds): 登錄中 and 補件, and a case
    # without an end-use assurance after its 申請 too (SHTC-5, manual §1.1.1.2.2 步驟7).
    may_upload = is_filer and _uploads_open(application)
    if may_upload and upload_form is None:
        upload_form = _upload_form(application)
    # The website stands in for the end user's profile, a document of the assurance route.
    may_set_url = may_upload and with_assurance
    if may_set_url and url_form is None:
        url_form = EndUserUrlForm(initial={"end_user_url": shtc.end_user_url if shtc else ""})
    destination = application.destination_country
    iran = is_iran_application(application)
    return {
        "application": application, "shtc": shtc, "title": filing_title(application),
        # The page the title leads back to: 9-1-2's query, or 9-2-2's new application.
        "title_url": reverse("shtc:iran_application_basic" if iran else "shtc:filing_query"),
        # 9-2-2 (SHTC-7): the destination's trade ban on every step; 協查 (SHTC-13).
        "step_warnings": iran_rules.trade_ban(application) if iran else [],
        "consultation_note": (CONSULTATION_NOTE if iran and application.status
                              not in workflow.CLOSED else ""),
        "destination": (f"{destination} {country_names([destination]).get(destination, '')}"
                        .strip() if destination else ""),
        # The lists written out in Python (the case page's, permits.case_html, and
        # item_rows, party_html): as template loops they were most of the page's own
        # template time (issue 10, profiled).
        "item_rows": item_rows(application.items.all()),
        "party_html": party_html(party_rows(application)),
        "required_documents": documents.status(application),
        "attachment_items": case_html.attachment_items(
            application.attachments.all(),
            procedures.get(application.document_type).document_kinds),
        # A refused post keeps its form (the refusal said next to it), whatever the status.
        "upload_form": upload_form if may_upload or upload_form is not None else None,
        "url_form": url_form if may_set_url or url_form is not None else None,
        # Filed by 申請 before its documents (SHTC-5 without an assurance, SHTC-7 9-2-2): the
        # bureau already has it, so no 登錄最終用途並申請, 案件申請 or 取消申請 here.
        "filed_without_assurance": (may_upload and not with_assurance
                                    and application.status in workflow.UNDER_REVIEW),
        "filed_iran_application": (may_upload and iran
                                   and application.status in workflow.UNDER_REVIEW),
        # 登錄最終用途並申請 and 取消申請: the applicant's while 登錄中 (SHTC-4, SHTC-12); not
        # of an Iran / North Korea assurance (SHTC-6, FAQ 3.13 (2)): what the page says instead.
        "may_file": _registering(request, application),
        **_iran_assurance(application),
        "may_resubmit": is_filer and application.status == Status.SUPPLEMENT,
        "section_phone": BUREAU_PHONE, "end_use_button": END_USE_BUTTON,
        "closed": application.status in workflow.CLOSED,
    }


def item_rows(items):
    """The <tr>s of the page's 貨品明細 (項次, name with its export control number, quantity,
    unit, origin), every value escaped as the template escaped it."""
    return mark_safe("".join(  # noqa: S308 (every value escaped)
        f"\n    <tr><td>{item.line_no}</td><td>{escaped(item.description)}"
        + (f' <span class="text-secondary">({escaped(item.control_no)})</span>'
           if item.control_no else "")
        + f'</td><td class="text-end">{escaped(plain(item.quantity))}</td>'
        f"<td>{escaped(item.unit)}</td><td>{escaped(item.origin_country)}</td></tr>\n  "
        for item in items))


def party_html(parties):
    """The parties (permits.parties.party_rows: [(heading, [(label, value)])]) under the
    basic data: a heading and a list of each."""
    return mark_safe("".join(  # noqa: S308 (every value escaped)
        f'\n    <h3 class="h6">{escaped(heading)}</h3>\n    <dl class="row small">'
        + "".join(f'<dt class="col-sm-5">{escaped(label)}</dt>'
                  f'<dd class="col-sm-7">{escaped(value)}</dd>' for label, value in rows)
        + "</dl>\n    " for heading, rows in parties))


@filer_required
def filing_apply(request, pk):
    """登錄最終用途並申請: the specific end use in English (required), then 案件申請 files the
    case (shtc.services.application_file: 登錄中 → 初審中, 收件編號, the status mail). A
    refusal (a document missing, the case no longer 登錄中) shows the page again, the end use
    as typed, nothing saved."""
    # On a GET, the required documents read from the items and attachments, by compiled
    # queries in the case's round trip.
    application = _case(request, pk, ("items", "attachments") if request.method == "GET"
                        else ())
    shtc = shtc_of(application)
    status = 200
    if request.method == "POST":
        form = EndUseForm(request.POST)
        if form.is_valid():
            try:
                filed = services.application_file(application=application,
                                                  actor=request.user,
                                                  end_use=form.cleaned_data["end_use"])
            except (ValidationError, workflow.TransitionNotAllowed, PermissionDenied) as error:
                form.add_error(None, _refusal(error))
                application.refresh_from_db()
            else:
                messages.success(request, _(
                    "The application was filed: receipt number %(receipt_no)s. The bureau "
                    "reviews it now (初審中); every change of status is e-mailed to %(email)s.")
                    % {"receipt_no": filed.receipt_no, "email": filed.company_email})
                return redirect("permits:application_detail", pk=filed.pk)
        status = 400
    else:
        form = EndUseForm(initial={"end_use": shtc.end_use if shtc else ""})
    return render(request, "shtc/filing_apply.html", {
        "application": application, "form": form, "title": FILING_TITLE,
        "end_use_button": END_USE_BUTTON, "section_phone": BUREAU_PHONE,
        "may_file": _registering(request, application),
        **_iran_assurance(application),
        "missing": documents.missing(application),
        "closed": application.status in workflow.CLOSED,
    }, status=status)


def _refusal(error):
    if isinstance(error, ValidationError):
        return error
    return ValidationError(str(error), code=getattr(error, "code", "not_allowed"))


@filer_required
def filing_cancel(request, pk):
    """取消申請 (SHTC-12, FAQ 3.13): GET asks to confirm, POST cancels a case still 登錄中
    (shtc.services.application_cancel). A case under review is cancelled by the bureau:
    the page gives its phone number, and a POST is refused with it."""
    application = _case(request, pk)
    error = None
    status = 200
    if request.method == "POST":
        try:
            services.application_cancel(application=application, actor=request.user)
        except (ValidationError, workflow.TransitionNotAllowed, PermissionDenied) as refused:
            error = " ".join(_refusal(refused).messages)
            application.refresh_from_db()
            status = 400
        else:
            messages.success(request, _("Case %(number)s was cancelled.")
                             % {"number": application.number})
            return redirect("permits:application_detail", pk=application.pk)
    return render(request, "shtc/filing_cancel.html", {
        "application": application, "title": FILING_TITLE, "error": error,
        "section_phone": BUREAU_PHONE, "closed": application.status in workflow.CLOSED,
        "may_cancel": _registering(request, application),
        **_iran_assurance(application),
    }, status=status)


def _registering(request, application):
    """Whether the user may file or cancel the case here: its filer, while 登錄中, and not an
    end-use assurance for Iran or North Korea (SHTC-6: 9-2-2 files it, nobody cancels it)."""
    return (_filer(request, application) and application.status == Status.REGISTERED
            and not iran_rules.locked(application))


def _iran_assurance(application):
    """What a 9-1-2 page says of a registered Iran / North Korea assurance (SHTC-6, FAQ 3.13
    (2)): it is never cancelled, and filed in 9-2-2."""
    if not iran_rules.locked(application):
        return {"iran_assurance": None}
    return {"iran_assurance": [iran_rules.MESSAGES["never_cancelled"],
                               iran_rules.MESSAGES["filed_in_9_2_2"]]}
