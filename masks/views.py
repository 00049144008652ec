"""The mask procedure's pages, in the manual's order (seeds/000_1bffabeada53a817.txt).

輸入許可申請 and 更正輸入許可 are entry flows over permits.entry (masks/entry.py): this module
has what is the procedure's own around them: the page that shows the permit issued at once,
the first page of 更正輸入許可 (帶入原始資料), 非報單輸入口罩核銷 (新增核銷 → 確認 → 核銷完成),
口罩流向登錄作業 and 口罩流向退貨作業.
"""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import router
from django.db.models import OuterRef
from django.http import Http404
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.formats import localize
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.generic import FormView

from masks import entry, services
from masks.forms import (
    CorrectionStartForm,
    DeclarationLoadForm,
    FlowForm,
    PermitLoadForm,
    ReturnForm,
    WriteOffForm,
)
from masks.models import Category, Flow, FlowDocument, FlowReturn, Route, StockReport, WriteOff
from masks.procedures import PROCEDURE
from permits import attachments, listing
from permits.change_views import ChangeStartView
from permits.entry import error_messages, filer_required
from permits.fields import plain_decimal
from permits.models import Application, DocumentType, PermitVersion
from permits.prepared import ListOf, PreparedInstances, in_place
from permits.services import plain
from portal import dates
from portal.escaping import escaped
from portal.forms import RefusedFormMixin, field_label
from portal.templatetags.roc import roc

WRITE_OFF = "masks.write_off"
User = get_user_model()


def jsonable(data):
    """Cleaned form data as the session keeps it: numbers as plain text in the form the
    fields accept again (100.55, never 1.0055E+2)."""
    return {key: plain(value) for key, value in data.items()}


@login_required
def application_issued(request, pk):
    """The permit number at once (MASK-3); for an import without a declaration, the link to
    the write-off of the quantities (MASK-4)."""
    application = get_object_or_404(
        Application.objects.visible_to(request.user)
        .filter(document_type=DocumentType.MASK_IMPORT)
        .select_related("mask", "issued_version__permit"), pk=pk)
    version = application.permit_version
    if version is None:
        raise Http404
    route = services.route_of(version)
    return render(request, "masks/application_issued.html", {
        "application": application, "version": version, "entry": entry.APPLICATION,
        "route": route, "needs_write_off": route in services.WRITE_OFF_ROUTES,
        "item_page": entry.APPLICATION.item_table(request, application, editable=False)})


class CorrectionStartView(ChangeStartView):
    """更正輸入許可: 申請類別, 原許可號碼, 更正描述 and "帶入原始資料", which loads the permit's
    version in force into a new draft of the change (MASK-10) if the user may see the permit
    and PERMIT-3 allows the kind now (permits.change_views)."""

    entry = entry.CORRECTION
    form_class = CorrectionStartForm


# --- 非報單輸入口罩核銷 (MASK-5) ---------------------------------------------------------------


@filer_required
def write_off_list(request):
    """The write-offs recorded on the user's permits, and "新增核銷"."""
    write_offs = (WriteOff.objects.filter(permit__in=services.visible_permits(request.user))
                  .select_related("permit", "actor"))
    return render(request, "masks/write_off_list.html", {"write_offs": write_offs[:100]})


@method_decorator(filer_required, name="dispatch")
class WriteOffAddView(RefusedFormMixin, FormView):
    """新增核銷: import situation, permit number, quantities per category; "確認"."""

    form_class = WriteOffForm
    template_name = "masks/write_off_form.html"

    def get_initial(self):
        pending = self.request.session.get(WRITE_OFF) or {}
        # A link's values prefill the form, bounded as the fields are (it checks them).
        return {"route": self.request.GET.get("route", pending.get("route", ""))[:12],
                "permit_no": self.request.GET.get("permit_no",
                                                  pending.get("permit_no", ""))[:14],
                "medical_quantity": pending.get("medical_quantity"),
                "non_medical_quantity": pending.get("non_medical_quantity")}

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form):
        data = form.cleaned_data
        self.request.session[WRITE_OFF] = jsonable({
            "route": data["route"], "permit_id": form.permit.pk,
            "permit_no": form.permit.permit_no,
            "medical_quantity": data["medical_quantity"],
            "non_medical_quantity": data["non_medical_quantity"]})
        return redirect("masks:write_off_confirm")


@filer_required
def write_off_confirm(request):
    """The write-off as entered, to check; "核銷完成" records it (MASK-5)."""
    pending = request.session.get(WRITE_OFF)
    if not pending:
        return redirect("masks:write_off_add")
    permit = services.visible_permits(request.user).filter(pk=pending["permit_id"]).first()
    if permit is None:
        raise Http404
    errors, lines = [], {}
    if request.method == "POST":
        try:
            services.write_off_record(
                actor=request.user, permit=permit, route=pending["route"],
                medical_quantity=_decimal(pending["medical_quantity"]),
                non_medical_quantity=_decimal(pending["non_medical_quantity"]),
                client_token=request.POST.get("client_token") or None)
        except ValidationError as error:
            errors = error_messages(error)
        else:
            request.session.pop(WRITE_OFF, None)
            messages.success(request, _("The write-off of permit %(permit)s was recorded.")
                             % {"permit": permit.permit_no})
            return redirect("masks:write_off_list")
    quantities = {Category.MEDICAL: _decimal(pending["medical_quantity"]),
                  Category.NON_MEDICAL: _decimal(pending["non_medical_quantity"])}
    try:
        lines = services.write_off_allocate(permit=permit, quantities=quantities)
    except ValidationError as error:
        errors = errors or error_messages(error)
    items = {item.line_no: item for item in permit.current.application.items.all()}
    return render(request, "masks/write_off_confirm.html", {
        "pending": pending, "route": Route(pending["route"]), "permit": permit,
        "allocation": [(items[line_no], PROCEDURE.item_category_label(items[line_no].category),
                        quantity)
                       for line_no, quantity in sorted(lines.items())],
        "errors": errors}, status=400 if errors else 200)


def _decimal(text):
    return Decimal(text) if text not in (None, "") else None


# --- 口罩流向登錄作業 (MASK-6, MASK-7) and 口罩流向退貨作業 (MASK-9) ----------------------------


def _stock_start(request, *, heading, next_url_name, sources, returns=False,
                 template="masks/flow_start.html"):
    """The first page of both: 2 (報單) the declaration number, or 3 (非報單) the permit
    number; "帶入報單資料" loads the stock (creating it on first use) and opens it. Above
    the number boxes, `sources(user=...)` lists what the user can open, each row a button
    posting its number as the box would (a source nobody opened has no stock page yet)."""
    menu = request.POST.get("menu") if request.method == "POST" else None
    declaration_form = DeclarationLoadForm(request.POST if menu == "2" else None,
                                           user=request.user, prefix="d")
    # 流向登錄 on the case page opens menu 3 with the permit number filled in.
    permit_form = PermitLoadForm(request.POST if menu == "3" else None, user=request.user,
                                 prefix="p",
                                 initial={"permit_no": request.GET.get("permit_no", "")[:14]})
    form = {"2": declaration_form, "3": permit_form}.get(menu)
    if form is not None and form.is_valid():
        try:
            report = services.stock_report_load(**form.source)
        except ValidationError as error:
            # Customs cancelled the declaration since the form's check: nothing cleared.
            form.add_error(form.field_name, error)
        else:
            return redirect(next_url_name, pk=report.pk)
    listed, more = sources(user=request.user)
    return render(request, template, {
        "heading": heading, "menu": menu or ("3" if permit_form.initial["permit_no"] else "2"),
        "declaration_form": declaration_form, "permit_form": permit_form,
        "sources": listed,
        "source_rows": _source_rows(listed, declaration_form, permit_form, get_token(request)),
        "more_sources": more, "shown": services.SOURCES_SHOWN, "returns": returns},
        status=400 if form is not None else 200)


def _source_rows(sources, declaration_form, permit_form, token):
    """The list's <tr> rows, written out here: the number with its menu's badge, the permit,
    the quantities as floatformat:"-4" prints them, and 開啟, a form posting the row's number
    in the field of its menu's number box (with the page's CSRF `token`). As a template loop
    the 50 rows of 14 values each were most of the page's time (issue 10, profiled; as
    permits.listing.case_rows). tests/masks/test_start_page.py reads them back."""
    quantity = listing.decimal_texts(4)
    menus = {"2": ("text-bg-primary", escaped(declaration_form.add_prefix("declaration_no"))),
             "3": ("text-bg-secondary", escaped(permit_form.add_prefix("permit_no")))}
    token, open_ = escaped(token), escaped(_("Open"))
    rows = []
    for source in sources:
        menu = source["menu"]
        badge, field = menus[menu]
        number = escaped(source["number"])
        rows.append(
            f'<tr data-testid="source-{number}">'
            f'<td><span class="badge {badge} me-1">{escaped(menu)}</span>{number}</td>'
            f'<td>{escaped(source["permit_no"])}</td>'
            f'<td class="text-end">{quantity(source["cleared"])}</td>'
            f'<td class="text-end">{quantity(source["stock"])}</td>'
            f'<td class="text-end">{quantity(source["pending"])}</td>'
            f'<td class="text-end"><form method="post">'
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
            f'<input type="hidden" name="menu" value="{escaped(menu)}">'
            f'<input type="hidden" name="{field}" value="{number}">'
            f'<button type="submit" class="btn btn-outline-primary btn-sm" '
            f'data-testid="open-{number}">{open_}<span class="visually-hidden"> {number}'
            f"</span></button></form></td></tr>")
    return mark_safe("\n".join(rows))  # noqa: S308 (every value escaped)


def _reports(user, pk):
    return StockReport.objects.visible_to(user).select_related(
        "declaration", "permit", "holder").filter(pk=pk)


# The stock pages' queries, compiled once per process (permits.prepared): building them cost
# Django more CPU than PostgreSQL spent answering them (issue 10, profiled). The stock through
# the visibility rule of an ordinary account (the pages are the filers': filer_required).
# Each reads by an id: PostgreSQL may keep its plan where prepared statements are on.
REPORT = PreparedInstances(StockReport, lambda user, pk: _reports(User(pk=user), pk),
                           parameters=("user", "pk"), keep_plan=True)
# The permit's version in force (Permit.current) with its case and the case's route.
VERSION_IN_FORCE = PreparedInstances(
    PermitVersion, lambda permit: PermitVersion.objects.filter(permit=permit).select_related(
        "application__mask").order_by("-version")[:1], parameters=("permit",),
    keep_plan=True)


def _documents_of_flow(field):
    """The `field` of each document of the flow (OuterRef), in the documents' order."""
    return ListOf(FlowDocument.objects.filter(flow=OuterRef("pk")).order_by(
        *FlowDocument._meta.ordering).values(field))


# The flows with their documents' ids and names, one query.
FLOWS = PreparedInstances(Flow, lambda report: Flow.objects.filter(report=report).annotate(
    document_ids=_documents_of_flow("pk"), document_names=_documents_of_flow("original_name")),
    parameters=("report",), keep_plan=True)


def _report(request, pk):
    if Application.objects.sees_every_case(request.user):
        return get_object_or_404(_reports(request.user, pk))
    found = REPORT.instances(user=request.user.pk, pk=pk)
    if not found:
        raise Http404
    return found[0]


def _flows(report):
    """The stock's flows, oldest first, each with its documents in place (as
    prefetch_related("documents") puts them), read in the same query: their id and name
    (what the page shows), their other fields deferred (read if asked for)."""
    flows = FLOWS.instances(report=report.pk)
    db = router.db_for_read(FlowDocument)
    # from_db takes the values read in the model's field order.
    names = [field.attname for field in FlowDocument._meta.concrete_fields
             if field.attname in ("id", "flow_id", "original_name")]
    for flow in flows:
        Flow.report.field.set_cached_value(flow, report)
        in_place(flow, "documents", [
            FlowDocument.from_db(db, names, [
                {"id": pk, "flow_id": flow.pk, "original_name": name}[field]
                for field in names])
            for pk, name in zip(flow.__dict__.pop("document_ids"),
                                flow.__dict__.pop("document_names"), strict=True)])
    return flows


def _report_rows(report):
    """申請人證書相關資訊 (MASK-6): the applicant and permit data of the stock's permit."""
    if "current" not in report.permit.__dict__:  # Permit.current, its case and route at once
        report.permit.current = next(iter(VERSION_IN_FORCE.instances(
            permit=report.permit_id)), None)
    version = report.permit.current
    application = version.application
    rows = [(_("Declaration number"), report.declaration.number)] if report.declaration_id \
        else []
    return [*rows,
            (_("Permit number"), report.permit.permit_no),
            (field_label(Application, "applicant_identifier"), application.applicant_identifier),
            (field_label(Application, "applicant_name"), application.applicant_name),
            (field_label(Application, "applicant_address"), application.applicant_address),
            (_("Import situation"), Route(services.route_of(version) or Route.DECLARATION).label),
            (capfirst(_("valid until")), dates.to_roc(version.valid_until))]


def _flow_rows(report, flows):
    """The flows table's <tr> rows, written out here as the template loop printed them (the
    category, the quantity with what returned, the date, the counterparty, the documents,
    the status badge and 刪除 of a flow not declared), every value escaped: as a template
    loop each flow's dozen values cost more than the rest of the page's content (issue 10,
    profiled; as permits.listing.case_rows). tests/masks/test_flows.py compares both."""
    document_url = reverse("masks:flow_document", args=[0]).replace("/0/", "/%d/")
    delete_url = reverse("masks:flow_delete", args=[report.pk, 0]).replace("/0/", "/%d/")
    returned_, delete = escape(_("returned")), escape(_("Delete"))
    declared = f'<span class="badge text-bg-success">{escape(_("Declared"))}</span>'
    pending = f'<span class="badge text-bg-warning">{escape(_("Not declared yet"))}</span>'
    rows = []
    for flow in flows:
        returned = (f'<div class="small text-secondary">{returned_} '
                    f"{escape(plain_decimal(flow.returned))}</div>" if flow.returned else "")
        documents = "<br>".join(
            f'<a href="{document_url % document.pk}">{escape(document.original_name)}</a>'
            for document in flow.documents.all()) or "—"
        action = "" if flow.declared_at else (
            f'<a class="btn btn-sm btn-outline-danger" href="{delete_url % flow.pk}" '
            f'data-testid="delete-flow-{flow.pk}">{delete}</a>')
        rows.append(
            f'<tr data-testid="flow-{flow.pk}"><td>{escape(flow.get_category_display())}</td>'
            f'<td class="text-end">{escape(plain_decimal(flow.quantity))}{returned}</td>'
            f"<td>{escape(roc(flow.date))}</td><td>{escape(flow.counterparty) or '—'}</td>"
            f'<td class="small">{documents}</td>'
            f"<td>{declared if flow.declared_at else pending}</td><td>{action}</td></tr>")
    return mark_safe("\n".join(rows))  # noqa: S308 (every value escaped)


def _chart_bars(chart):
    """services.stock_summary's bars as masks/includes/stock_chart.html drew them (a label
    and quantity, then the SVG bar, the first the stock's), written out here as _flow_rows.
    tests/masks/test_flows.py compares both."""
    bars = []
    for index, bar in enumerate(chart):
        total = " stock-bar-total" if index == 0 else ""
        bars.append(
            f'<div class="small d-flex justify-content-between"><span>{escape(bar["label"])}'
            f'</span><span>{escape(plain_decimal(bar["quantity"]))}</span></div>'
            f'<svg class="stock-bar mb-2" width="100%" height="10" aria-hidden="true" '
            f'focusable="false"><rect class="stock-bar-track" width="100%" height="100%" '
            f'rx="4"/><rect class="stock-bar-fill{total}" '
            f'width="{escape(localize(bar["percent"], use_l10n=False))}%" height="100%" '
            f'rx="4"/></svg>')
    return mark_safe("\n".join(bars))  # noqa: S308 (every value escaped)


@filer_required
def flow_start(request):
    """口罩流向登錄作業: the sources with stock or flows not declared, and the number boxes."""
    return _stock_start(request, heading=_("Face-mask flow registration"),
                        next_url_name="masks:flow_report", sources=services.stock_sources)


@filer_required
def flow_report(request, pk):
    """The stock and its flows: "流向登錄" adds one, "申報" declares the pending ones."""
    report = _report(request, pk)
    flows = _flows(report)
    return render(request, "masks/flow_report.html", {
        "report": report, "rows": _report_rows(report), "flows": flows,
        "flow_rows": _flow_rows(report, flows),
        "has_pending": any(flow.declared_at is None for flow in flows),
        "chart_bars": _chart_bars(services.stock_summary(report, flows=flows))})


@method_decorator(filer_required, name="dispatch")
class FlowAddView(RefusedFormMixin, FormView):
    """流向登錄: one flow; "確認並回上一頁" registers it and goes back to the stock."""

    form_class = FlowForm
    template_name = "masks/flow_form.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.is_staff:
            self.report = _report(request, kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "report": self.report}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "report": self.report}

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            services.flow_register(
                actor=self.request.user, report=self.report, category=data["category"],
                quantity=data["quantity"], date=data["date"],
                counterparty=data["counterparty"], documents=data["documents"])
        except ValidationError as error:
            field = {"over_stock": "quantity", "documents_required": "documents",
                     "date_in_future": "date", "date_before_clearance": "date"}.get(
                error.code if hasattr(error, "code") else None, "documents")
            form.add_error(field, error)
            return self.form_invalid(form)
        messages.success(self.request, _("The flow was registered. Click “Declare” to "
                                         "declare it."))
        return redirect("masks:flow_report", pk=self.report.pk)


@require_http_methods(["GET", "POST"])
@filer_required
def flow_delete(request, pk, flow_pk):
    """刪除 of a pending flow asks first: GET shows the flow with 確認刪除 and 取消 (a page,
    no script: CSP); POST deletes it and its quantity returns to the stock."""
    report = _report(request, pk)
    flow = get_object_or_404(report.flows.filter(declared_at__isnull=True)
                             .prefetch_related("documents"), pk=flow_pk)
    if request.method == "POST":
        try:
            services.flow_delete(actor=request.user, flow=flow)
        except ValidationError:
            # Declared in another tab meanwhile (the service checks under the row lock).
            messages.error(request, _("The flow was declared meanwhile: it cannot be "
                                      "deleted."))
        else:
            messages.success(request, _("The flow was deleted."))
        return redirect("masks:flow_report", pk=report.pk)
    return render(request, "masks/flow_delete.html", {"report": report, "flow": flow})


def _declare(request, pk, *, service, done, next_url_name):
    """申報 of a stock's pending flows or returns: how many were declared, or why not."""
    report = _report(request, pk)
    try:
        count = service(actor=request.user, report=report)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, done % {"count": count})
    return redirect(next_url_name, pk=report.pk)


@require_POST
@filer_required
def flow_declare(request, pk):
    """申報 of the pending flows (MASK-7)."""
    return _declare(request, pk, service=services.flows_declare,
                    done=_("%(count)s flow(s) declared."), next_url_name="masks:flow_report")


@login_required
def flow_document(request, pk):
    """A flow's supporting document, only for those who may see the stock (always a
    download)."""
    document = get_object_or_404(FlowDocument.objects.filter(
        flow__report__in=StockReport.objects.visible_to(request.user)), pk=pk)
    return attachments.download_response(document)


@filer_required
def return_start(request):
    """口罩流向退貨作業: the stocks with declared flows that can take a return, and the
    number boxes."""
    return _stock_start(request, heading=_("Face-mask flow returns"),
                        next_url_name="masks:return_report",
                        sources=services.returnable_sources, returns=True)


@filer_required
def return_report(request, pk):
    """The declared flows to click, the returns registered, and "申報" (MASK-9)."""
    report = _report(request, pk)
    flows = report.flows.filter(declared_at__isnull=False)
    returns = FlowReturn.objects.filter(flow__report=report).select_related("flow")
    return render(request, "masks/return_report.html", {
        "report": report, "rows": _report_rows(report), "flows": flows, "returns": returns,
        "has_pending": any(r.declared_at is None for r in returns)})


@method_decorator(filer_required, name="dispatch")
class ReturnAddView(RefusedFormMixin, FormView):
    """The flow clicked: the quantity returned; "確認並回上一頁" gives it back to the stock."""

    form_class = ReturnForm
    template_name = "masks/return_form.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.is_staff:
            self.report = _report(request, kwargs["pk"])
            self.flow = get_object_or_404(
                Flow.objects.filter(report=self.report, declared_at__isnull=False),
                pk=kwargs["flow_pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "flow": self.flow}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "report": self.report,
                "flow": self.flow}

    def form_valid(self, form):
        try:
            services.return_register(actor=self.request.user, flow=self.flow,
                                     quantity=form.cleaned_data["quantity"])
        except ValidationError as error:
            form.add_error("quantity", error)
            return self.form_invalid(form)
        messages.success(self.request, _("The return was registered and its quantity is "
                                         "back in stock. Click “Declare” to declare it."))
        return redirect("masks:return_report", pk=self.report.pk)


@require_POST
@filer_required
def return_declare(request, pk):
    """申報 of the pending returns (MASK-9)."""
    return _declare(request, pk, service=services.returns_declare,
                    done=_("%(count)s return(s) declared."),
                    next_url_name="masks:return_report")
