"""9-1-1 非輸往伊朗北韓-最終用途保證書登錄/補正/更正作業, 申請類別 新申請 (SHTC-1; the SHTC manual
§1.1.1.2.1 steps 2 to 5, §2.1 to §2.4) over permits.entry:

    基本資料 (destination, 轉口港代碼, 分批/不分批) + 買方 / 收貨人 / 最終使用者 ─下一步→ the data
    shown back ─新增貨品明細→ item ─確認→ … ─登錄並列印最終用途保證書→ 登錄中, 登錄編號

Registering moves the case to 登錄中 (Status.REGISTERED, permits.workflow) and gives it its
登錄編號; the case page then offers the assurance (buyer and consignee versions) and the
red-flag affidavit to print (SHTC-3). 9-1-2 (uploads, end use, 案件申請) comes next.
Or 餘額註銷證號 + 帶入參考資料 for the balance of a cancelled permit (SHTC-11).
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from permits import entry
from permits.models import DocumentType, Kind, Status
from shtc import rules
from shtc.forms import PORT_RE, ShtcBasicDataForm, ShtcItemForm
from shtc.models import AssuranceRoute, Port, ShtcApplication
from shtc.procedures import DOCUMENT_KINDS, ROUTE_REASONS, shtc_of

SECTION = gettext_lazy("Strategic high-tech export permits")
TITLE = gettext_lazy("9-1-1 Not to Iran or North Korea: end-use assurance registration / "
                     "amendment / correction")
SHTC_BASIC_FIELDS = ("partial_shipment", "transit_port", "assurance_route")


def warning_messages(country):
    """The destination warnings of shtc.rules (issue 11, point 6) as plain messages."""
    return [message for _code, message in rules.destination_warnings(country)] \
        if country else []


def warnings_by_country():
    """{country code: [messages]} of every destination that has a warning: what the basic
    page shows at once when one of them is chosen (static/shtc/destination.js)."""
    codes = {*rules.controlled_areas(), *rules.BUSINESS_LICENCE_COUNTRIES}  # kept per process
    return {code: messages for code in sorted(codes)
            if (messages := warning_messages(code))}


def assurance_routes():
    """What the basic page shows beside each route without an end-use assurance (SHTC-5,
    manual §1.1.1.2.2 步驟4): the documents it attaches (shtc/requirements.py), and for
    exhibition goods the obligations that follow the permit."""
    from shtc import requirements

    labels = dict(DOCUMENT_KINDS)
    routes = []
    for route, reason in ROUTE_REASONS.items():
        routes.append({
            "value": route.value, "reason": reason,
            "documents": [labels[code] for code in requirements.route_documents(route)],
            "obligations": [
                _("Close the permit within its validity with the proof of re-import of the "
                  "goods (upload it on the case page once the permit is issued)."),
                _("Goods sold during the exhibition: the exporter must still supply the "
                  "importing country's import certificate or end-use certificate, or an "
                  "end-use assurance of the foreign importer or end user, declaring the end "
                  "use and end user truthfully."),
            ] if route == AssuranceRoute.EXHIBITION else []})
    return routes


def without_assurance(application):
    """Whether the case goes without an end-use assurance (SHTC-5)."""
    shtc = shtc_of(application) if application is not None else None
    return shtc is not None and not shtc.with_assurance


def case_warnings(application):
    """The warnings of a stored case: its destination's, and for each origin of its items
    that needs the re-export approval of its government (SHTC-2 item 7)."""
    return warning_messages(application.destination_country) + reexport_warnings(application)


def reexport_warnings(application):
    """The re-export approval warnings of a stored case, one per origin of its items that
    needs it (SHTC-2 item 7)."""
    destination = application.destination_country
    warnings = []
    # Each origin once, from the database (10,000 items a case: issue 13).
    origins = application.items.order_by().values_list("origin_country", flat=True).distinct()
    for origin in sorted(origins):
        reexport = rules.reexport_warning(origin, destination)
        if reexport:
            warnings.append(reexport[1])
    return warnings


class AssuranceEntry(entry.CaseEntry):
    """新申請 (and 餘額重簽) of an SHTC export permit with an end-use assurance."""

    document_type = DocumentType.SHTC_EXPORT
    kinds = (Kind.NEW, Kind.BALANCE_REISSUE)
    namespace = "shtc"
    prefix = "application"
    url_root = "assurance/"
    title = TITLE
    section = SECTION
    basic_form_class = ShtcBasicDataForm
    item_form_class = ShtcItemForm
    balance_reissue = True
    reference_fields = entry.REFERENCE_FIELDS  # 餘額註銷證號, 證書號碼, 原收件編號, 保證書編號
    show_control_no = True
    # SHTC-17: every SHTC entry (9-1-1 and its changes, 9-2-1, 9-2-2) takes its items as a
    # spreadsheet too.
    bulk_items = True
    final_status = Status.REGISTERED
    buttons = {
        "next": gettext_lazy("Next step"),  # 下一步
        "add_item": gettext_lazy("Add goods item"),  # 新增貨品明細
        "confirm": gettext_lazy("Confirm"),  # 確認
        "submit": gettext_lazy("Register and print the end-use assurance"),
    }
    templates = {**entry.CaseEntry.templates, "basic": "shtc/assurance_basic.html",
                 "review": "shtc/assurance_review.html"}
    basic_help = gettext_lazy(
        "Fields marked * are required. A filing agent files for an applicant whose account "
        "exists, with the applicant's identifier. Buyer, consignee and end user are written "
        "in English letters and digits: they are printed on the end-use assurance. Then click "
        "“Next step”.")
    review_help = gettext_lazy(
        "Check the data below and add the goods items with “Add goods item”. When every item "
        "is entered, click “Register and print the end-use assurance”: the case gets its "
        "registration number, and the assurance and the red-flag affidavit can be printed "
        "from the case page.")
    review_help_fixed_items = gettext_lazy(
        "Check the data below: the items are what was left of the cancelled permit. Click an "
        "item number to lower its quantity, or delete it; then click “Register and print the "
        "end-use assurance”.")
    item_help = gettext_lazy(
        "Goods name: at most 390 characters; continue in brand, model / serial and "
        "specification. Every different specification, model, quantity, unit price or amount "
        "is its own item.")

    def initial_basic(self, user):
        return {**super().initial_basic(user), "partial_shipment": True,
                "assurance_route": AssuranceRoute.WITH_ASSURANCE}

    def reference_problem(self, field, source, actor):
        """A case to Iran or North Korea does not start a 9-1-1 case: its destination has a
        procedure of its own (9-2-1, and 9-2-2 loads its assurance)."""
        for code, message in rules.destination_warnings(source.destination_country or ""):
            if code == "own_procedure":
                return ValidationError(message, code="own_procedure")
        return None

    def cases(self, queryset):
        # Not a 9-2-2 application (shtc/iran_filing.py), loaded from an assurance; nor a
        # 新申請 to Iran or North Korea, a 9-2-1 assurance (shtc/iran_entry.py).
        from shtc import iran

        return super().cases(queryset).filter(shtc__assurance__isnull=True).exclude(
            kind=Kind.NEW, destination_country__in=iran.own_procedure_countries())

    def initial_from_query(self, query):
        # The look-up links back with the code picked (shtc/port_views.py).
        code = query.get("transit_port", "").strip().upper()
        return {"transit_port": code} if PORT_RE.fullmatch(code) else {}

    def extra_basic(self, application):
        shtc = shtc_of(application)
        if shtc is None:
            return {}
        return {"partial_shipment": str(shtc.partial_shipment),
                "transit_port": shtc.transit_port, "assurance_route": shtc.assurance_route,
                # With an assurance the end use is 9-1-2's (SHTC-4), not this page's.
                "end_use": "" if shtc.with_assurance else shtc.end_use}

    def save_basic(self, application, form):
        data = form.cleaned_data
        application.destination_country = data["destination_country"]
        application.save(update_fields=["destination_country", "updated_at"])
        stored = shtc_of(application)
        defaults = {name: data[name] for name in SHTC_BASIC_FIELDS}
        if data["assurance_route"] != AssuranceRoute.WITH_ASSURANCE:
            defaults["end_use"] = data["end_use"]  # SHTC-5: given here, required
        elif stored is None or not stored.with_assurance:
            # Back to the assurance: the end use typed for the other route is not the one the
            # end user will sign (9-1-2 asks for it); one loaded by 帶入參考資料 stays.
            defaults["end_use"] = ""
        ShtcApplication.objects.update_or_create(application=application, defaults=defaults)

    def copy_extra(self, source, application):
        shtc = shtc_of(source)
        ShtcApplication.objects.create(
            application=application,
            **({name: getattr(shtc, name) for name in (*SHTC_BASIC_FIELDS, "end_use",
                                                         "assurance_route")} if shtc else {}))

    def extra_rows(self, application):
        from permits.fields import country_names

        shtc = shtc_of(application)
        country = application.destination_country
        rows = [(_("Destination country"),
                 f"{country} {country_names([country]).get(country, '')}".strip())]
        if shtc is not None:
            port = (Port.objects.filter(code=shtc.transit_port).first()
                    if shtc.transit_port else None)
            rows.append((_("Transit port code"),
                         f"{port.code} {port.name}" if port else shtc.transit_port))
            rows.append((_("Partial or one shipment"),
                         _("Partial shipments") if shtc.partial_shipment
                         else _("One shipment only")))
            if not shtc.with_assurance:
                rows.append((_("Without an end-use assurance"),
                             ROUTE_REASONS[shtc.assurance_route]))
                rows.append((_("Specific end use (English)"), shtc.end_use))
        return rows

    # SHTC-5: without an end-use assurance there is nothing to register; 申請 files the case
    # (manual §2.4 item 8: 收件編號, 初審中) and the documents follow in 9-1-2.

    def final_status_for(self, application):
        if without_assurance(application):
            return Status.INITIAL_REVIEW
        return self.final_status

    def buttons_for(self, application):
        if without_assurance(application):
            return {**self.buttons, "submit": gettext_lazy("Apply")}  # 申請
        return self.buttons

    def review_help_for(self, application):
        if without_assurance(application) and self.may_add_items(application):
            return _("Check the data below and add the goods items with “Add goods item”. "
                     "When every item is entered, click “Apply”: the case gets its receipt "
                     "number and goes to the bureau. Then print the red-flag affidavit from "
                     "the case page for the applicant to sign and stamp, and upload it with "
                     "the documents in 9-1-2.")
        return super().review_help_for(application)

    def context(self, application, **extra):
        context = super().context(application, **extra)
        # Issue 11, point 6: the destination's warnings before work is done, and on the
        # review page those of a re-export (an item's origin among the ten of SHTC-2).
        # Callables: the template calls them on the pages that show them, and only there.
        context.setdefault("warnings_by_country", warnings_by_country)
        if application is not None:
            context.setdefault("destination_warnings",
                               lambda: case_warnings(application))
        return context

    def done_message(self, application):
        if without_assurance(application):
            return _("The case was submitted: receipt number %(number)s. Print the red-flag "
                     "affidavit for the applicant to sign and stamp, then upload it with the "
                     "documents in 9-1-2.") % {"number": application.receipt_no}
        return _("The end-use assurance was registered: registration number %(number)s. "
                 "Print the assurance (buyer or consignee version) for the end user to sign "
                 "and the red-flag affidavit for the applicant to sign and stamp, then "
                 "upload them in 9-1-2.") % {"number": application.registration_no}


APPLICATION = entry.register(AssuranceEntry())
