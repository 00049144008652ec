"""The mask procedure's pages, in the manual's order (seeds/000_1bffabeada53a817.txt):
輸入許可申請 (basic data → 下一步 → 新增貨品明細 → 確認 → 申請), 非報單輸入口罩核銷 (新增核銷 →
確認 → 核銷完成) and 更正輸入許可 (帶入原始資料 → 下一步 → 項次 → 確認 → 申請).

A case being entered lives in the session until "申請" (nothing is written to the case
tables before it); "下一步" and "確認" also copy it to the user's draft (PERMIT-6), which
outlives the session (ACC-3) and comes back with "匯入暫存資料".
"""

from decimal import Decimal
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import FormView

from masks import services
from masks.forms import (
    BasicDataForm,
    CorrectionBasicForm,
    CorrectionItemForm,
    CorrectionStartForm,
    DeclarationLoadForm,
    FlowForm,
    MaskItemForm,
    PermitLoadForm,
    ReturnForm,
    WriteOffForm,
    applicant_account,
)
from masks.models import Category, Flow, FlowDocument, FlowReturn, Route, StockReport, WriteOff
from masks.procedures import PROCEDURE
from permits import drafts, workflow
from permits import services as permit_services
from permits.fields import plain_decimal
from permits.models import Application, Country, DocumentType, Kind, PermitVersion
from portal import dates

APPLICATION = "masks.application"
CORRECTION = "masks.correction"
WRITE_OFF = "masks.write_off"

ITEM_FIELDS = ("category", "tariff_code", "description", "quantity", "unit", "unit_price",
               "currency", "amount", "origin_country")
BASIC_FIELDS = ("applicant_name", "applicant_name_en", "applicant_address", "contact_person",
                "contact_phone", "company_email")
AGENT_FIELDS = ("agent_identifier", "agent_name", "agent_contact_person", "agent_phone",
                "agent_email")


def filer_required(view):
    """Applicants and filing agents only: bureau staff work in the admin (ACC-5)."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.user.is_staff:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def jsonable(data):
    """Cleaned form data as the session and the draft keep it: numbers as plain text in the
    form the fields accept again (100.55, never 1.0055E+2)."""
    return {key: plain_decimal(value) if isinstance(value, Decimal) else value
            for key, value in data.items()}


def item_rows(items):
    """The goods items for the pages' tables: 項次 from 1, labels for codes."""
    name = "name_zh" if (get_language() or "").startswith("zh") else "name_en"
    countries = dict(Country.objects.values_list("code", name))
    return [{**item, "line_no": item.get("line_no", index),
             "category_label": PROCEDURE.item_category_label(item["category"]),
             "country_name": countries.get(item["origin_country"], "")}
            for index, item in enumerate(items, start=1)]


def _field_label(name):
    return capfirst(Application._meta.get_field(name).verbose_name)


def basic_rows(basic, *, user):
    """(label, value) of the basic data, shown back after "下一步" (MASK-1)."""
    form = BasicDataForm(user=user)
    rows = [(form.fields[name].label, basic.get(name))
            for name in ("applicant_identifier", *BASIC_FIELDS)]
    return [*rows, (form.fields["route"].label, Route(basic["route"]).label)]


def agent_rows(user):
    """(label, value) of a filing agent's data, from its account (ACC-4); None otherwise."""
    if not user.is_agent:
        return None
    data = permit_services.party_defaults(applicant=user, agent=user)
    return [(_field_label(name), data[name]) for name in AGENT_FIELDS]


# --- 輸入許可申請 (MASK-1 to MASK-4) ----------------------------------------------------------


def _case(request):
    return request.session.get(APPLICATION) or {"basic": None, "items": []}


def _keep_case(request, case):
    """The case into the session and, as "下一步" and "確認" do, into the draft (PERMIT-6)."""
    request.session[APPLICATION] = case
    permit_services.draft_save(user=request.user, document_type=DocumentType.MASK_IMPORT,
                               data={**(case["basic"] or {}), "items": case["items"]})


@method_decorator(filer_required, name="dispatch")
class ApplicationBasicView(drafts.DraftFormMixin, FormView):
    """Basic data (MASK-1): the applicant's, and on an agent's case the agent's from its
    account; "下一步" keeps them and shows them back."""

    form_class = BasicDataForm
    template_name = "masks/application_basic.html"
    draft_document_type = DocumentType.MASK_IMPORT

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_initial(self):
        basic = _case(self.request)["basic"]
        if basic:
            return dict(basic)
        if self.request.user.is_agent:
            return {}
        return permit_services.party_defaults(applicant=self.request.user)

    def get_context_data(self, **kwargs):
        return super().get_context_data(agent_rows=agent_rows(self.request.user), **kwargs)

    def post(self, request, *args, **kwargs):
        if request.POST.get("draft_action") == drafts.IMPORT_DRAFT:
            # 匯入暫存資料 brings back the items with the basic data the form shows.
            draft = permit_services.draft_load(user=request.user,
                                               document_type=self.draft_document_type)
            if draft is not None:
                request.session[APPLICATION] = {"basic": _case(request)["basic"],
                                                "items": draft.get("items", [])}
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        case = _case(self.request)
        case["basic"] = jsonable(form.cleaned_data)
        _keep_case(self.request, case)
        return redirect("masks:application_review")


@filer_required
def application_review(request):
    """The basic data shown back, the goods items entered, "新增貨品明細" and "申請"."""
    case = _case(request)
    if not case["basic"]:
        return redirect("masks:application_basic")
    return render(request, "masks/application_review.html", {
        "basic_rows": basic_rows(case["basic"], user=request.user),
        "agent_rows": agent_rows(request.user), "items": item_rows(case["items"])})


@method_decorator(filer_required, name="dispatch")
class ApplicationItemView(FormView):
    """新增貨品明細 (MASK-2), or an item entered before (its 項次); "確認" keeps it."""

    form_class = MaskItemForm
    template_name = "masks/item_form.html"

    def dispatch(self, request, *args, **kwargs):
        self.case = _case(request)
        if not self.case["basic"]:
            return redirect("masks:application_basic")
        self.line_no = kwargs.get("line_no")
        if self.line_no is not None and not 1 <= self.line_no <= len(self.case["items"]):
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        if self.line_no is None:
            return {}
        return dict(self.case["items"][self.line_no - 1])

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            line_no=self.line_no or len(self.case["items"]) + 1,
            back_url="masks:application_review", **kwargs)

    def form_valid(self, form):
        item = jsonable({name: form.cleaned_data.get(name) for name in ITEM_FIELDS})
        if self.line_no is None:
            self.case["items"].append(item)
        else:
            self.case["items"][self.line_no - 1] = item
        _keep_case(self.request, self.case)
        messages.success(self.request, _("Item %(line)s was saved.") % {
            "line": self.line_no or len(self.case["items"])})
        return redirect("masks:application_review")


@require_POST
@filer_required
def application_item_delete(request, line_no):
    case = _case(request)
    if not 1 <= line_no <= len(case["items"]):
        raise Http404
    del case["items"][line_no - 1]
    _keep_case(request, case)
    messages.success(request, _("Item %(line)s was deleted; the items after it moved up.")
                     % {"line": line_no})
    return redirect("masks:application_review")


def _issued_by_token(request):
    """The case a repeated "申請" already filed (its session state is gone), or None."""
    token = request.POST.get("client_token", "")
    if not token:
        return None
    return Application.objects.visible_to(request.user).filter(client_token=token).first()


@require_POST
@filer_required
def application_submit(request):
    """申請: check the case again, file it and issue the permit at once (MASK-3)."""
    case = _case(request)
    if not case["basic"]:
        done = _issued_by_token(request)
        if done is not None:
            return redirect("masks:application_issued", pk=done.pk)
        messages.error(request, _("There is no application being entered."))
        return redirect("masks:application_basic")
    # The checks of every step again: an applicant account or a tariff code may have changed
    # since the step was confirmed.
    form = BasicDataForm(data=case["basic"], user=request.user)
    if not form.is_valid():
        return render(request, "masks/application_basic.html", {
            "form": form, "agent_rows": agent_rows(request.user)}, status=400)
    items = []
    for line_no, item in enumerate(case["items"], start=1):
        item_form = MaskItemForm(data=item)
        if not item_form.is_valid():
            return render(request, "masks/item_form.html", {
                "form": item_form, "line_no": line_no, "back_url": "masks:application_review",
                "action": reverse("masks:application_item", args=[line_no])}, status=400)
        items.append({name: item_form.cleaned_data.get(name) for name in ITEM_FIELDS})
    basic = form.cleaned_data
    applicant = (applicant_account(basic["applicant_identifier"]) if request.user.is_agent
                 else request.user)
    try:
        application = services.application_submit(
            actor=request.user, applicant=applicant, route=basic["route"], items=items,
            client_token=request.POST.get("client_token") or None,
            **{name: basic[name] for name in BASIC_FIELDS})
    except (ValidationError, workflow.TransitionNotAllowed) as error:
        messages.error(request, " ".join(_messages(error)))
        return redirect("masks:application_review")
    request.session.pop(APPLICATION, None)
    messages.success(request, _("The permit was issued; its number was e-mailed to %(email)s.")
                     % {"email": application.company_email})
    return redirect("masks:application_issued", pk=application.pk)


def _messages(error):
    if isinstance(error, ValidationError):
        return [str(message) for message in error.messages]
    return [str(error.message)]


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
    return render(request, "masks/application_issued.html", {
        "application": application, "version": version,
        "route": services.route_of(version),
        "needs_write_off": services.route_of(version) in services.WRITE_OFF_ROUTES,
        "items": item_rows(list(application.items.values(*ITEM_FIELDS, "line_no")))})


# --- 更正輸入許可 (MASK-10) --------------------------------------------------------------------


def _correction(request):
    return request.session.get(CORRECTION)


def _correction_version(request, state):
    """The permit version the correction in the session changes, if the user may see it."""
    return get_object_or_404(
        PermitVersion.objects.select_related("permit", "application").filter(
            application__in=Application.objects.visible_to(request.user)),
        pk=state["version_id"])


@method_decorator(filer_required, name="dispatch")
class CorrectionStartView(FormView):
    """申請類別, 原許可號碼, 更正描述 and "帶入原始資料"."""

    form_class = CorrectionStartForm
    template_name = "masks/correction_start.html"

    def get_initial(self):
        return {"permit_no": self.request.GET.get("permit_no", "")}

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form):
        version = form.permit.current
        original = version.application
        self.request.session[CORRECTION] = {
            "version_id": version.pk, "permit_no": form.permit.permit_no,
            "version": version.version, "kind": form.cleaned_data["kind"],
            "change_description": form.cleaned_data["change_description"],
            "basic": {name: getattr(original, name) for name in BASIC_FIELDS},
            "applicant_identifier": original.applicant_identifier,
            "items": [jsonable({"line_no": item.line_no,
                                **{name: getattr(item, name) for name in ITEM_FIELDS}})
                      for item in original.items.order_by("line_no")],
        }
        return redirect("masks:correction_basic")


class CorrectionStepMixin:
    """The pages after "帶入原始資料": they need the correction in the session."""

    def dispatch(self, request, *args, **kwargs):
        self.state = _correction(request)
        if not self.state:
            return redirect("masks:correction_start")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            state=self.state, kind_label=Kind(self.state["kind"]).label, **kwargs)


@method_decorator(filer_required, name="dispatch")
class CorrectionBasicView(CorrectionStepMixin, FormView):
    """The loaded basic data; English name, contact phone and e-mail change; "下一步"."""

    form_class = CorrectionBasicForm
    template_name = "masks/correction_basic.html"

    def get_initial(self):
        return dict(self.state["basic"])

    def get_context_data(self, **kwargs):
        basic = self.state["basic"]
        rows = [(_field_label("applicant_identifier"), self.state["applicant_identifier"]),
                *((_field_label(name), basic[name]) for name in BASIC_FIELDS)]
        return super().get_context_data(original_rows=rows, **kwargs)

    def form_valid(self, form):
        self.state["basic"].update(form.cleaned_data)
        self.request.session[CORRECTION] = self.state
        return redirect("masks:correction_items")


@filer_required
def correction_items(request):
    """The items; a click on a 項次 opens it; "申請" files the change."""
    state = _correction(request)
    if not state:
        return redirect("masks:correction_start")
    return render(request, "masks/correction_items.html", {
        "state": state, "kind_label": Kind(state["kind"]).label,
        "items": item_rows(state["items"])})


@method_decorator(filer_required, name="dispatch")
class CorrectionItemView(CorrectionStepMixin, FormView):
    """One item of the permit: mask category, tariff code, unit price, currency, quantity and
    origin change; "確認" goes back to the list."""

    form_class = CorrectionItemForm
    template_name = "masks/item_form.html"

    def dispatch(self, request, *args, **kwargs):
        self.line_no = kwargs["line_no"]
        return super().dispatch(request, *args, **kwargs)

    def item(self):
        for item in self.state["items"]:
            if item["line_no"] == self.line_no:
                return item
        raise Http404

    def get_initial(self):
        return dict(self.item())

    def get_form_kwargs(self):
        version = _correction_version(self.request, self.state)
        return {**super().get_form_kwargs(), "permit": version.permit,
                "line_no": self.line_no}

    def get_context_data(self, **kwargs):
        return super().get_context_data(line_no=self.line_no,
                                        back_url="masks:correction_items", **kwargs)

    def form_valid(self, form):
        self.item().update(jsonable({name: form.cleaned_data[name] for name in (
            "category", "tariff_code", "quantity", "unit_price", "currency", "origin_country",
            "amount")}))
        self.request.session[CORRECTION] = self.state
        messages.success(self.request, _("Item %(line)s was saved.") % {"line": self.line_no})
        return redirect("masks:correction_items")


@require_POST
@filer_required
def correction_submit(request):
    """申請: the change is issued at once as the permit's next version (PERMIT-2)."""
    state = _correction(request)
    if not state:
        done = _issued_by_token(request)
        if done is not None:
            return redirect("masks:application_issued", pk=done.pk)
        messages.error(request, _("Load the original data of a permit first."))
        return redirect("masks:correction_start")
    version = _correction_version(request, state)
    try:
        application = services.correction_submit(
            actor=request.user, version=version, kind=state["kind"],
            description=state["change_description"], items=state["items"],
            client_token=request.POST.get("client_token") or None, **state["basic"])
    except (ValidationError, workflow.TransitionNotAllowed) as error:
        messages.error(request, " ".join(_messages(error)))
        return redirect("masks:correction_items")
    request.session.pop(CORRECTION, None)
    messages.success(request, _("The correction was issued as version %(version)s of permit "
                                "%(permit)s.") % {"version": application.permit_version.version,
                                                  "permit": state["permit_no"]})
    return redirect("masks:application_issued", pk=application.pk)


# --- 非報單輸入口罩核銷 (MASK-5) ---------------------------------------------------------------


@filer_required
def write_off_list(request):
    """The write-offs recorded on the user's permits, and "新增核銷"."""
    write_offs = (WriteOff.objects.filter(permit__in=services.visible_permits(request.user))
                  .select_related("permit", "actor"))
    return render(request, "masks/write_off_list.html", {"write_offs": write_offs[:100]})


@method_decorator(filer_required, name="dispatch")
class WriteOffAddView(FormView):
    """新增核銷: import situation, permit number, quantities per category; "確認"."""

    form_class = WriteOffForm
    template_name = "masks/write_off_form.html"

    def get_initial(self):
        pending = self.request.session.get(WRITE_OFF) or {}
        return {"route": self.request.GET.get("route", pending.get("route", "")),
                "permit_no": self.request.GET.get("permit_no", pending.get("permit_no", "")),
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
            errors = _messages(error)
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
        errors = errors or _messages(error)
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


def _stock_start(request, *, heading, next_url_name, template="masks/flow_start.html"):
    """The first page of both: 2 (報單) the declaration number, or 3 (非報單) the permit
    number; "帶入報單資料" loads the stock and opens it."""
    menu = request.POST.get("menu") if request.method == "POST" else None
    declaration_form = DeclarationLoadForm(request.POST if menu == "2" else None,
                                           user=request.user, prefix="d")
    permit_form = PermitLoadForm(request.POST if menu == "3" else None, user=request.user,
                                 prefix="p")
    form = {"2": declaration_form, "3": permit_form}.get(menu)
    if form is not None and form.is_valid():
        return redirect(next_url_name, pk=form.report.pk)
    return render(request, template, {
        "heading": heading, "menu": menu or "2", "declaration_form": declaration_form,
        "permit_form": permit_form}, status=400 if form is not None else 200)


def _report(request, pk):
    return get_object_or_404(StockReport.objects.visible_to(request.user)
                             .select_related("declaration", "permit", "holder"), pk=pk)


def _report_rows(report):
    """申請人證書相關資訊 (MASK-6): the applicant and permit data of the stock's permit."""
    version = report.permit.current
    application = version.application
    rows = [(_("Declaration number"), report.declaration.number)] if report.declaration_id \
        else []
    return [*rows,
            (_("Permit number"), report.permit.permit_no),
            (_field_label("applicant_identifier"), application.applicant_identifier),
            (_field_label("applicant_name"), application.applicant_name),
            (_field_label("applicant_address"), application.applicant_address),
            (_("Import situation"), Route(services.route_of(version) or Route.DECLARATION).label),
            (capfirst(_("valid until")), dates.to_roc(version.valid_until))]


@filer_required
def flow_start(request):
    return _stock_start(request, heading=_("Face-mask flow registration"),
                        next_url_name="masks:flow_report")


@filer_required
def flow_report(request, pk):
    """The stock and its flows: "流向登錄" adds one, "申報" declares the pending ones."""
    report = _report(request, pk)
    flows = report.flows.select_related("actor").prefetch_related("documents")
    return render(request, "masks/flow_report.html", {
        "report": report, "rows": _report_rows(report), "flows": flows,
        "has_pending": any(flow.declared_at is None for flow in flows),
        "chart": services.stock_summary(report)})


@method_decorator(filer_required, name="dispatch")
class FlowAddView(FormView):
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
            field = {"over_stock": "quantity", "documents_required": "documents"}.get(
                error.code if hasattr(error, "code") else None, "documents")
            form.add_error(field, error)
            return self.form_invalid(form)
        messages.success(self.request, _("The flow was registered. Click “Declare” to "
                                         "declare it."))
        return redirect("masks:flow_report", pk=self.report.pk)


@require_POST
@filer_required
def flow_delete(request, pk, flow_pk):
    report = _report(request, pk)
    flow = get_object_or_404(report.flows.filter(declared_at__isnull=True), pk=flow_pk)
    services.flow_delete(actor=request.user, flow=flow)
    messages.success(request, _("The flow was deleted."))
    return redirect("masks:flow_report", pk=report.pk)


@require_POST
@filer_required
def flow_declare(request, pk):
    """申報 of the pending flows (MASK-7)."""
    report = _report(request, pk)
    try:
        count = services.flows_declare(actor=request.user, report=report)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, _("%(count)s flow(s) declared.") % {"count": count})
    return redirect("masks:flow_report", pk=report.pk)


@login_required
def flow_document(request, pk):
    """A flow's supporting document, only for those who may see the stock. Always a
    download with the type checked at upload (as permits.attachment_views)."""
    document = get_object_or_404(FlowDocument.objects.filter(
        flow__report__in=StockReport.objects.visible_to(request.user)), pk=pk)
    response = FileResponse(document.file.storage.open(document.file.name, "rb"),
                            as_attachment=True, filename=document.original_name,
                            content_type=document.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@filer_required
def return_start(request):
    return _stock_start(request, heading=_("Face-mask flow returns"),
                        next_url_name="masks:return_report")


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
class ReturnAddView(FormView):
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
    report = _report(request, pk)
    try:
        count = services.returns_declare(actor=request.user, report=report)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, _("%(count)s return(s) declared.") % {"count": count})
    return redirect("masks:return_report", pk=report.pk)
