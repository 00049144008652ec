"""9-2-1 輸往伊朗北韓-最終用途保證書登錄作業 (SHTC-6; the SHTC manual §1.1.2 步驟2 to 4, FAQ
3.13 (2)) over permits.entry, as 9-1-1 (shtc/entry.py, whose entry this one extends):

    基本資料 (destination Iran or North Korea, 轉口港代碼, 分批/不分批) + 買方 / 收貨人 / 最終使用者
    ─新增貨品明細/基本資料存檔→ item ─確認→ the data shown back ─新增貨品明細→ … ─附件申請→
    登錄中, 登錄編號

The case page then offers 列印最終用途保證書登錄資料 (for the exporter to sign and date and
the foreign importer to check and sign) and the red-flag affidavit (shtc/procedures.py
DOCUMENTS). Registered, the assurance is locked: its entry pages say that only the bureau
reopens it, with the phone number, and change nothing; it is never cancelled and not filed
itself (shtc/iran.py): 9-2-2 (shtc/iran_filing.py) files an application loaded from it. The
bureau reopens it in the admin (workflow: 登錄中 → 暫存, with a note); the applicant corrects
it here and 附件申請 registers it again, its 登錄編號 kept. North Korea's trade ban is said on
every step (and on the reviewer's panel, shtc/review.py).
"""

from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from permits import entry
from permits.fields import CountryField, country_choices
from permits.models import Kind
from shtc import iran, rules
from shtc.entry import AssuranceEntry, reexport_warnings
from shtc.forms import ShtcBasicDataForm
from shtc.models import AssuranceRoute
from shtc.services import BUREAU_PHONE

TITLE = gettext_lazy("9-2-1 To Iran or North Korea: end-use assurance registration")
MESSAGES = {
    "not_own_procedure": gettext_lazy(
        "9-2-1 takes exports to Iran or North Korea only: for another destination, register "
        "the end-use assurance in 9-1-1 Not to Iran or North Korea: end-use assurance "
        "registration / amendment / correction."),
}


def destination_choices():
    """The destinations of 9-2-1 (iran.own_procedure_countries), labelled as every country
    select labels them ("IR 伊朗")."""
    codes = set(iran.own_procedure_countries())
    return [choice for choice in country_choices() if not choice[0] or choice[0] in codes]


class DestinationField(CountryField):
    """目的地 of 9-2-1: the select offers Iran and North Korea; a code typed is read as any
    country's, and the form says why another is refused."""

    choices_function = staticmethod(destination_choices)


class IranBasicDataForm(ShtcBasicDataForm):
    """基本資料 of 9-2-1: 9-1-1's (SHTC-15), the destination Iran or North Korea; always with
    the end-use assurance (no route of SHTC-5 here, nor its end use: 9-2-2 asks for it)."""

    destination_country = DestinationField(label=gettext_lazy("Destination country"))
    assurance_route = None
    end_use = None

    def clean_destination_country(self):
        code = self.cleaned_data["destination_country"]
        if not rules.has_own_procedure(code):
            raise ValidationError(MESSAGES["not_own_procedure"], code="not_own_procedure")
        return code  # North Korea's trade ban is said on every step, not refused

    def clean(self):
        data = super().clean()
        data["assurance_route"] = AssuranceRoute.WITH_ASSURANCE
        data["end_use"] = ""
        return data


def warnings_by_country(application):
    """What the basic page shows at once when a destination is chosen: North Korea's trade
    ban (static/shtc/destination.js). Not the stored destination's: the heading says it
    (IranAssuranceEntry.warnings)."""
    stored = application.destination_country if application is not None else ""
    by_country = {}
    for code in iran.own_procedure_countries():
        messages = [message for warning, message in rules.destination_warnings(code)
                    if warning == "trade_ban"]
        if messages and code != stored:
            by_country[code] = messages
    return by_country


class IranAssuranceEntry(AssuranceEntry):
    """新申請 of an end-use assurance for Iran or North Korea; 附件申請 registers it."""

    kinds = (Kind.NEW,)
    prefix = "iran_assurance"
    url_root = "iran/assurance/"
    title = TITLE
    basic_form_class = IranBasicDataForm
    balance_reissue = False
    reference_fields = ()  # 9-2-1 has no 帶入參考資料
    buttons = {
        "next": gettext_lazy("Add goods item / save basic data"),  # 新增貨品明細/基本資料存檔
        "add_item": gettext_lazy("Add goods item"),  # 新增貨品明細
        "confirm": gettext_lazy("Confirm"),  # 確認
        "submit": gettext_lazy("Attachment application"),  # 附件申請
    }
    templates = {**AssuranceEntry.templates, "locked": "shtc/iran_assurance_locked.html"}
    basic_help = gettext_lazy(
        "Fields marked * are required; a filing agent also fills in its own data, and files "
        "for an applicant whose account exists, with the applicant's identifier. Buyer, "
        "consignee and end user are written in English letters and digits: they are printed "
        "on the assurance. Then click “Add goods item / save basic data”.")
    review_help = gettext_lazy(
        "Check the data below and add the goods items with “Add goods item”. When every item "
        "is entered, click “Attachment application”: the assurance gets its registration "
        "number and can no longer be changed here. Print its registration data and the "
        "red-flag affidavit from the case page.")

    def cases(self, queryset):
        """新申請 to Iran or North Korea, not 9-2-2 applications (loaded from an assurance)."""
        return entry.CaseEntry.cases(self, queryset).filter(
            destination_country__in=iran.own_procedure_countries(),
            shtc__assurance__isnull=True)

    def basic_saved_url(self, application):
        # 新增貨品明細/基本資料存檔: on to the first item; with items, the data shown back.
        if not application.items.exists():
            return self.url("item_add", application.pk)
        return super().basic_saved_url(application)

    def warnings(self, application):
        """North Korea's trade ban above every step (permits/entry/heading.html)."""
        return iran.trade_ban(application)

    def header(self, application):
        if application.registration_no:
            return _("Reopened by the bureau: correct the data, then click “Attachment "
                     "application” again. The registration number %(number)s stays.") % {
                "number": application.registration_no}
        return super().header(application)

    def context(self, application, **extra):
        # The destination's own warnings are the heading's (warnings()); the review page
        # still says those of a re-export (an item's origin among the ten of SHTC-2).
        extra.setdefault("warnings_by_country", lambda: warnings_by_country(application))
        extra.setdefault("destination_warnings",
                         (lambda: reexport_warnings(application)) if application else list)
        return super().context(application, **extra)

    def submitted(self, request, application):
        """A step of a registered assurance: refused (403), its page saying that only the
        bureau reopens it, with the phone number (SHTC-6). Nothing was changed."""
        if iran.locked(application):
            return render(request, self.templates["locked"], self.context(
                application, locked_message=iran.locked_message(),
                section_phone=BUREAU_PHONE), status=403)
        return super().submitted(request, application)

    def done_message(self, application):
        return _("The end-use assurance was registered: registration number %(number)s. Print "
                 "its registration data for the exporter to sign and date and for the foreign "
                 "importer to check and sign, and the red-flag affidavit for the applicant to "
                 "sign and stamp; then apply in 9-2-2 with the registration number.") % {
            "number": application.registration_no}


IRAN_ASSURANCE = entry.register(IranAssuranceEntry())
