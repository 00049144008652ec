from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from permits import pdf, procedures, workflow
from permits.attachments import AttachmentForm
from permits.forms import QueryForm
from permits.models import Application, Country, PermitVersion, Status, StatusChange
from permits.notifications import NEXT_STEP


def _cases(user):
    return Application.objects.visible_to(user).select_related("issued_version__permit")


def home_panel(request):
    """The home page's 我的案件 box: the newest cases of the user, those that need them
    first. Staff work in the admin and get no box."""
    if request.user.is_staff:
        return None
    cases = list(_cases(request.user).exclude(status=Status.DRAFT)[:8])
    cases.sort(key=lambda case: case.status not in (Status.SUPPLEMENT, Status.REGISTERED))
    return {"cases": cases} if cases else None


@login_required
def dashboard(request):
    """我的案件: newest first, with what each case needs from the user."""
    page = Paginator(_cases(request.user).exclude(status=Status.DRAFT), 25).get_page(
        request.GET.get("page"))
    return render(request, "permits/dashboard.html", {"page": page})


@login_required
def application_detail(request, pk):
    application = get_object_or_404(
        _cases(request.user).prefetch_related(
            "items", "attachments",
            Prefetch("status_changes", queryset=StatusChange.objects.select_related("actor"))),
        pk=pk)
    may_supplement = (application.status == Status.SUPPLEMENT
                      and workflow.actor_kind_of(request.user, application)
                      == workflow.APPLICANT)
    history = list(application.status_changes.all())
    procedure = procedures.get(application.document_type)
    for item in application.items.all():
        item.category_label = procedure.item_category_label(item.category)
    request_note = next((c.note for c in reversed(history) if c.new == Status.SUPPLEMENT), "")
    return render(request, "permits/application_detail.html", {
        "application": application,
        "history": history,
        "versions": (application.issued_version.permit.versions.order_by("-version")
                     if application.permit_version else []),
        "may_supplement": may_supplement,
        "supplement_request": request_note if application.status == Status.SUPPLEMENT else "",
        "attachment_form": AttachmentForm(document_type=application.document_type)
        if may_supplement else None,
        "next_step": NEXT_STEP.get(application.status, ""),
        "country_names": dict(Country.objects.values_list("code", "name_zh")),
    })


@require_POST
@login_required
def application_resubmit(request, pk):
    """補件完成: back to 初審中 (FAQ 3.3)."""
    application = get_object_or_404(_cases(request.user), pk=pk)
    try:
        workflow.transition(application=application, to=Status.INITIAL_REVIEW,
                            actor=request.user, note=request.POST.get("note", ""))
    except (workflow.TransitionNotAllowed, PermissionDenied) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The case went back to the bureau for review."))
    return redirect("permits:application_detail", pk=application.pk)


@login_required
def query(request):
    """申辦/核銷查詢 → 申辦狀況查詢作業(含列印) (PERMIT-7)."""
    form = QueryForm(request.GET or None)
    page = None
    if form.is_valid():
        results = form.filter(_cases(request.user).exclude(status=Status.DRAFT))
        page = Paginator(results, 20).get_page(request.GET.get("page"))
    return render(request, "permits/query.html", {"form": form, "page": page})


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
