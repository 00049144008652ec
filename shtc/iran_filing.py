"""9-2-2 輸往伊朗北韓-戰略性高科技輸出許可申請作業 (SHTC-7; the SHTC manual §1.1.2 步驟5) over
permits.entry:

    新申請: 保證書編號, the 登錄編號 of the end-use assurance registered in 9-2-1 ─帶入參考資料→
    a draft with the assurance's data ─ basic data, buyer, consignee, end user completed
    ─下一步→ the whole case ─ an item's 項次 → 數量, 單位, 金額, 幣別 only ─確認→ …
    ─申請→ 初審中, 收件編號 → the upload page (9-1-2's, shtc/filing_views.py): SHTC-2 items
    1 to 5; the bureau sends the case to 協查 by default (SHTC-13, shtc.procedures).

The application is a new case (kind 新申請) whose ShtcApplication.assurance is the 9-2-1 case
(an SHTC export case to Iran or North Korea, 登錄中, with its 登錄編號): its items are the
assurance's, each citing the assurance's 項次 (Item.source_line_no). None can be added or
deleted, and only quantity, unit, amount and currency change, the quantity never above the
assurance's (the item form; again at 申請 under the assurance's row lock, with the other
gates). One assurance serves one application: a second one is refused while the first is
filed and not rejected or cancelled.

Error codes (ValidationError.code; tests look at these, never at the wording):

    not_found         no registered assurance with this number among the user's cases (also
                      another user's: permits.entry.reference_not_found)
    not_iran          an assurance for another destination (9-1-1): it goes on in 9-1-2
    not_registered    an assurance not (or no longer) 登錄中
    already_used      an assurance whose application is filed and not rejected or cancelled
    over_assurance    an item's quantity above the assurance's
    not_assurance_item  an item that does not cite an item of the assurance
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from permits import entry
from permits.changes import FILED
from permits.fields import BaseItemForm, plain_decimal
from permits.models import Application, Item, Kind, Status
from permits.services import coded_error
from shtc import iran, rules
from shtc.entry import SECTION, AssuranceEntry
from shtc.forms import ShtcBasicDataForm, ShtcItemForm
from shtc.models import AssuranceRoute, ShtcApplication
from shtc.procedures import FILING_TITLE, IRAN_APPLICATION_TITLE, shtc_of

# The columns of an assurance's item that 9-2-2 may change (SHTC-7).
CHANGEABLE_ITEM_FIELDS = ["quantity", "unit", "amount", "currency"]

MESSAGES = {
    "not_iran": gettext_lazy(
        "End-use assurance %(number)s is not for Iran or North Korea: upload its documents "
        "and apply in %(menu)s."),
    "not_registered": gettext_lazy(
        "End-use assurance %(number)s is “%(status)s”: only a registered assurance can be "
        "applied for."),
    "already_used": gettext_lazy(
        "End-use assurance %(number)s was already applied for (%(case)s, “%(status)s”): an "
        "assurance serves one application."),
    "over_assurance": gettext_lazy(
        "Item %(line)s: the end-use assurance registered %(limit)s; the quantity cannot be "
        "more."),
    "not_assurance_item": gettext_lazy(
        "Item %(line)s is not an item of the end-use assurance %(number)s."),
}


def error(code, **params):
    return coded_error(MESSAGES, code, **params)


# --- the gates ------------------------------------------------------------------------------


def assurance_problem(assurance, *, user, application=None):
    """Why the case `assurance` (found by its 登錄編號 among those `user` may see) may not be
    applied for in 9-2-2 now: a ValidationError, or None. `application`: the 9-2-2 case being
    filed, which does not count against itself."""
    number = assurance.registration_no
    if not rules.has_own_procedure(assurance.destination_country):
        return error("not_iran", number=number, menu=FILING_TITLE)
    if not iran.locked(assurance):  # a 9-2-1 assurance 登錄中, not reopened by the bureau
        return error("not_registered", number=number, status=assurance.get_status_display())
    used = Application.objects.filter(shtc__assurance=assurance, status__in=FILED)
    if application is not None:
        used = used.exclude(pk=application.pk)
    other = used.order_by("pk").first()
    if other is not None:
        # Its number only to whom may see that case (the one visibility rule).
        seen = Application.objects.visible_to(user).filter(pk=other.pk).exists()
        return error("already_used", number=number,
                     case=other.number if seen else _("another application"),
                     status=other.get_status_display())
    return None


def assurance_quantities(application):
    """{the assurance's 項次: quantity} of the assurance the 9-2-2 case was loaded from."""
    shtc = shtc_of(application)
    if shtc is None or shtc.assurance_id is None:
        return {}
    return dict(Item.objects.filter(application_id=shtc.assurance_id)
                .values_list("line_no", "quantity"))


def items_problems(application, assurance):
    """The problems of the case's items against the assurance's (a list of ValidationErrors):
    each cites an item of the assurance, once, with no more than its quantity."""
    registered = dict(assurance.items.values_list("line_no", "quantity"))
    problems = []
    for item in application.items.order_by("line_no"):
        limit = registered.pop(item.source_line_no, None)
        if limit is None:
            problems.append(error("not_assurance_item", line=item.line_no,
                                  number=assurance.registration_no))
        elif item.quantity > limit:
            problems.append(error("over_assurance", line=item.line_no, limit=limit))
    return problems


@transaction.atomic
def check_filing(application, *, actor):
    """Raise ValidationError (every problem) if the 9-2-2 case `application` may not be filed
    now. Locks the assurance's row first: two applications of one assurance filed at once
    queue on it, and the second sees the first filed (already_used); so does a change of the
    assurance's items made meanwhile."""
    assurance = Application.objects.select_for_update().get(
        pk=shtc_of(application).assurance_id)
    problem = assurance_problem(assurance, user=actor, application=application)
    if problem:
        raise problem
    problems = items_problems(application, assurance)
    if problems:
        raise ValidationError(problems)


# --- forms ----------------------------------------------------------------------------------


class IranApplicationBasicForm(ShtcBasicDataForm):
    """基本資料 of 9-2-2: the shared basic data, 轉口港代碼 and 分批/不分批, prefilled from the
    assurance. The destination and the end-use assurance are the assurance's: not asked. The
    applicant is the assurance's, also for an agent (ACC-4): its identifier is locked
    (IranApplicationEntry.basic_form_kwargs: fixed_applicant)."""

    omitted = ("destination_country", "assurance_route", "end_use")


class IranApplicationItemForm(BaseItemForm):
    """An item of the assurance clicked by its 項次: 數量, 單位, 金額 and 幣別 change, nothing
    else (SHTC-7); the quantity at most the assurance's (`limit`). Left empty, the amount is
    the quantity times the item's unit price."""

    tariff_code = None
    unit_price = None
    origin_country = None

    class Meta(BaseItemForm.Meta):
        fields = CHANGEABLE_ITEM_FIELDS

    def __init__(self, *args, limit=None, line_no=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit = limit
        self.line_no = line_no
        if limit is not None:
            self.fields["quantity"].help_text = _(
                "At most %(limit)s, the quantity of the end-use assurance.") % {
                "limit": plain_decimal(limit)}
        self.fields["amount"].help_text = _("Left empty, it is the quantity times the unit "
                                            "price of the end-use assurance.")

    def clean_quantity(self):
        quantity = self.cleaned_data["quantity"]
        if self.limit is not None and quantity > self.limit:
            raise error("over_assurance", line=self.line_no, limit=self.limit)
        return quantity


# --- the entry ------------------------------------------------------------------------------


class IranApplicationEntry(AssuranceEntry):
    """新申請 of an SHTC export permit to Iran or North Korea from its registered end-use
    assurance (SHTC-7). The SHTC data (transit port, 分批, the rows shown back) are 9-1-1's."""

    kinds = (Kind.NEW,)
    prefix = "iran_application"
    url_root = "iran/application/"
    title = IRAN_APPLICATION_TITLE
    section = SECTION
    basic_form_class = IranApplicationBasicForm
    item_form_class = IranApplicationItemForm
    bulk_form_class = ShtcItemForm  # SHTC-17: the file shows the assurance's whole items
    add_items = False
    delete_items = False
    balance_reissue = False
    reference_fields = (entry.REGISTRATION_NO,)  # 保證書編號: the assurance's 登錄編號
    reference_required = True
    final_status = Status.INITIAL_REVIEW
    buttons = {
        "next": gettext_lazy("Next step"),  # 下一步
        "add_item": gettext_lazy("Add goods item"),
        "confirm": gettext_lazy("Confirm"),  # 確認
        "submit": gettext_lazy("Apply"),  # 申請
    }
    templates = {**entry.CaseEntry.templates, "basic": "shtc/iran_application_basic.html"}
    basic_help = gettext_lazy(
        "Complete the basic data, the buyer and the end user where the end-use assurance left "
        "them open (fields marked * are required), then click “Next step”.")
    review_help_fixed_items = gettext_lazy(
        "Check the whole application below. The goods items are those of the end-use "
        "assurance: none can be added or deleted; click an item number to change its "
        "quantity (at most the assurance's), unit, amount or currency. Then click “Apply”: "
        "the application gets its receipt number, and its documents are uploaded next.")
    review_help = review_help_fixed_items
    item_help = gettext_lazy(
        "The goods come from the end-use assurance: only the quantity, unit, amount and "
        "currency can change, the quantity never above the assurance's.")

    def cases(self, queryset):
        # Loaded from an assurance: the other SHTC entries' cases are not.
        return entry.CaseEntry.cases(self, queryset).filter(shtc__assurance__isnull=False)

    def reference_help(self):
        return _("Type the registration number of the end-use assurance registered in 9-2-1 "
                 "and click “Load reference data”: its data are loaded into a new "
                 "application.")

    def reference_problem(self, field, source, actor):
        # Found among the user's cases by its 登錄編號: only a registered Iran / North Korea
        # assurance (9-2-1) not yet applied for.
        return assurance_problem(source, user=actor)

    def reference_items(self, source):
        return None  # draft_from's copy: each item citing the assurance's 項次

    def reference_message(self, field, number):
        return _("End-use assurance %(number)s was loaded: complete the basic data, the buyer "
                 "and the end user, then click “Next step”.") % {"number": number}

    def copy_extra(self, source, application):
        shtc = shtc_of(source)
        ShtcApplication.objects.create(
            application=application, assurance=source,
            assurance_route=AssuranceRoute.WITH_ASSURANCE,
            **({name: getattr(shtc, name) for name in ("partial_shipment", "transit_port",
                                                         "end_use")} if shtc else {}))

    def basic_form_kwargs(self, application):
        return {"fixed_applicant": application.applicant_identifier} if application else {}

    def save_basic(self, application, form):
        data = form.cleaned_data
        ShtcApplication.objects.filter(application=application).update(
            partial_shipment=data["partial_shipment"], transit_port=data["transit_port"])

    def item_form_kwargs(self, application, line_no):
        item = application.items.filter(line_no=line_no).first() if line_no else None
        limit = (assurance_quantities(application).get(item.source_line_no)
                 if item is not None else None)
        return {**super().item_form_kwargs(application, line_no), "limit": limit,
                "line_no": line_no}

    def item_forms_kwargs(self, application, items):
        kwargs = super().item_forms_kwargs(application, items)
        quantities = assurance_quantities(application)
        return {item.line_no: {**kwargs[item.line_no],
                               "limit": quantities.get(item.source_line_no),
                               "line_no": item.line_no} for item in items}

    def header(self, application):
        shtc = shtc_of(application)
        assurance = shtc.assurance if shtc is not None and shtc.assurance_id else None
        if assurance is None:
            return ""
        return _("End-use assurance registration number: %(number)s") % {
            "number": assurance.registration_no}

    def warnings(self, application):
        # North Korea's trade ban above every step (permits/entry/heading.html), as 9-2-1's.
        return iran.trade_ban(application)

    def final_action(self, application, actor):
        # Under the assurance's row lock: still registered, for Iran or North Korea, applied
        # for once, each quantity within it (the item forms asked before, unlocked).
        check_filing(application, actor=actor)
        return super().final_action(application, actor)

    def done_url(self, application):
        # 點選直接進行檢附文件上傳作業: the upload page at once.
        return reverse("shtc:filing_case", args=[application.pk])

    def done_message(self, application):
        # The upload page says the 25 to 30 working days of 協查 itself (CONSULTATION_NOTE).
        return _("The application was filed: receipt number %(number)s. Upload its documents "
                 "now.") % {"number": application.receipt_no}


IRAN_APPLICATION = entry.register(IranApplicationEntry())
