"""The forms of 9-1-1 非輸往伊朗北韓-最終用途保證書登錄 (SHTC-1, SHTC-15, SHTC-16), in the manual's
order (§2.2, §2.3): the basic data over permits.entry.BasicDataForm (the parties are the
framework's PartyForms), and a goods item over permits.fields.BaseItemForm.

Error codes beyond those of permits.entry, permits.fields and permits.parties:

    own_procedure   a destination with a procedure of its own (Iran, North Korea: 9-2-1)
    trade_ban       a destination under a total trade ban (North Korea since 2017-09-26)
    port_format     a 轉口港代碼 not shaped as five capitals or digits (USLAX)
    port_unknown    a well-shaped 轉口港代碼 that is not in the port table
    required        (end_use) no specific end use on a case without an end-use assurance
    not_english     (end_use) characters other than printable ASCII (SHTC-5: in English)
    max_length      a goods name over 390 characters (the rest goes to brand, model, spec.)
"""

import re

from crispy_forms.layout import HTML, Layout
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from permits.entry import BasicDataForm
from permits.fields import BaseItemForm, CountryField, ExportControlNoField
from permits.models import Item
from portal.forms import field_label, to_ascii
from shtc import rules
from shtc.filing_forms import END_USE_MAX_LENGTH, EndUseField
from shtc.models import AssuranceRoute, Port, ShtcApplication

PORT_RE = re.compile(r"[A-Z]{2}[A-Z0-9]{3}")
DESCRIPTION_MAX_LENGTH = 390  # SHTC-16, manual §2.3 item 3
SPECIFICATION_MAX_LENGTH = 2000

PARTIAL_SHIPMENT_CHOICES = (
    (True, _("Partial shipments")),  # 分批
    (False, _("One shipment only")),  # 不分批
)
MESSAGES = {
    "port_format": _("Enter a five-character location code: the country code and three "
                     "letters or digits, such as USLAX."),
    "port_unknown": _("%(code)s is not a location code on file: pick one with the look-up."),
    "max_length": _("Enter at most 390 characters in the goods name (it has %(show_value)d); "
                    "continue the rest in brand, model / serial or specification."),
    "end_use_required": _("Enter the specific end use of the exported goods in English: it "
                          "is required when no end-use assurance is attached."),
    "end_use_english": _("Enter the specific end use in English (letters A–Z, digits and "
                         "punctuation). Not accepted: %(characters)s"),
}
# 〔檢附文件〕 (manual §2.2 item 9, §1.1.1.2.2 步驟4): with the end-use assurance, or without
# one for one of the reasons of Article 18(1) of the SHTC regulations (SHTC-5).
ASSURANCE_ROUTE_CHOICES = (
    (AssuranceRoute.WITH_ASSURANCE, _("With an end-use assurance")),
    (AssuranceRoute.EXHIBITION, _("Without: exhibition goods, exported temporarily for an "
                                  "exhibition and re-imported after it")),
    (AssuranceRoute.SPECIAL_APPROVAL, _("Without: another case specially approved by the "
                                        "Bureau of Foreign Trade")),
)
# Beside the route: each route's documents and obligations (shtc/entry.py, assurance_routes),
# the same for every case: kept per language (shtc/templatetags/shtc_entry.py).
ROUTE_HELP = "{% load shtc_entry %}{% assurance_route_help %}"
# Beside the 轉口港代碼 field: the look-up link (shtc/port_views.py; port_lookup.js opens it).
PORT_LOOKUP_LINK = ('<div class="mb-3 small">{% include "shtc/includes/port_lookup_link.html" '
                    'with field_id="id_transit_port" %}</div>')


class NoAssuranceEndUseField(EndUseField):
    """The specific end use in English of a case without an end-use assurance (SHTC-5):
    9-1-2's field (shtc/filing_forms.py), said without the assurance it is compared to."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError as error:
            if error.code != "not_english":
                raise
            raise ValidationError(MESSAGES["end_use_english"], code="not_english",
                                  params=error.params) from None


def clean_port_code(value):
    """A 轉口港代碼 as stored (USLAX), or "" when none was given. Raises ValidationError
    (port_format, port_unknown)."""
    value = to_ascii(value or "").strip().upper()
    if not value:
        return ""
    if not PORT_RE.fullmatch(value):
        raise ValidationError(MESSAGES["port_format"], code="port_format")
    if not Port.objects.filter(code=value).exists():
        raise ValidationError(MESSAGES["port_unknown"], code="port_unknown",
                              params={"code": value})
    return value


def destination_problems(code):
    """The ValidationErrors of a destination 9-1-1 does not take: a total trade ban and a
    procedure of its own (Iran, North Korea: 9-2-1), both said when both hold."""
    if not rules.has_own_procedure(code):
        return []
    return [ValidationError(message, code=warning)
            for warning, message in rules.destination_warnings(code)
            if warning in ("trade_ban", "own_procedure")]


class ShtcBasicDataForm(BasicDataForm):
    """基本資料 of 9-1-1 (SHTC-15): the shared basic data (申請人 / 代理人辨識碼 preset and locked,
    申請公司 E-mail required), the destination, 轉口港代碼 with its look-up, 分批/不分批."""

    destination_country = CountryField(label=_("Destination country"))
    transit_port = forms.CharField(
        label=field_label(ShtcApplication, "transit_port"), max_length=5, required=False,
        widget=forms.TextInput(attrs={"placeholder": "USLAX", "autocomplete": "off"}))
    partial_shipment = forms.TypedChoiceField(
        label=_("Partial or one shipment"), choices=PARTIAL_SHIPMENT_CHOICES,
        coerce=lambda value: str(value) == "True", initial=True, widget=forms.RadioSelect,
        help_text=_("Partial shipments: more than one export within the permit's validity; "
                    "one shipment: a single export."))

    # SHTC-5: the route, and the specific end use the routes without an assurance give here
    # (with an assurance it is given in 9-1-2, 登錄最終用途並申請, and ignored here).
    assurance_route = forms.ChoiceField(
        label=_("Attached documents"), choices=ASSURANCE_ROUTE_CHOICES,
        initial=AssuranceRoute.WITH_ASSURANCE, widget=forms.RadioSelect, required=False,
        help_text=_("Tick a reason only when Article 18(1) of the SHTC regulations exempts "
                    "the case from the end-use assurance."))
    end_use = NoAssuranceEndUseField(
        label=_("Specific end use of the exported goods (English)"), required=False,
        max_length=END_USE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "lang": "en", "autocomplete": "off"}),
        help_text=_("Required when no end-use assurance is attached; in English."))

    # Fields a subclass does without (9-2-2: the destination and route are the assurance's).
    omitted = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.omitted:
            del self.fields[name]
        layout = []
        for name in self.fields:
            layout.append(name)
            if name == "transit_port":
                layout.append(HTML(PORT_LOOKUP_LINK))
            if name == "assurance_route":
                layout.append(HTML(ROUTE_HELP))
        self.helper.layout = Layout(*layout)

    def clean_assurance_route(self):
        # Nothing ticked (a client that does not post it): the usual case, with an assurance.
        return self.cleaned_data["assurance_route"] or AssuranceRoute.WITH_ASSURANCE

    def clean(self):
        data = super().clean()
        route = data.get("assurance_route")
        if route == AssuranceRoute.WITH_ASSURANCE:
            # The end use comes with 9-1-2 (SHTC-4): what the box holds is not checked, and
            # a box the page hid cannot show an error.
            self.errors.pop("end_use", None)
            data["end_use"] = ""
        elif route and not data.get("end_use") and "end_use" not in self.errors:
            self.add_error("end_use", ValidationError(MESSAGES["end_use_required"],
                                                      code="required"))
        return data

    def clean_destination_country(self):
        code = self.cleaned_data["destination_country"]
        problems = destination_problems(code)
        if problems:
            raise ValidationError(problems)
        return code

    def clean_transit_port(self):
        return clean_port_code(self.cleaned_data.get("transit_port"))


class ShtcItemForm(BaseItemForm):
    """新增貨品明細 (SHTC-16): goods name up to 390 characters, continued in brand, model /
    serial and specification; quantity, unit, unit price, currency, amount (PERMIT-9); the
    tariff code (11 digits); the export control number (at most 7 characters, 5A002.a).

    *decision*: the export control number is required: every item of an SHTC permit is a
    controlled item, and the assurance prints its number."""

    control_no = ExportControlNoField(label=field_label(Item, "control_no"))
    specification = forms.CharField(label=field_label(Item, "specification"), required=False,
                                    max_length=SPECIFICATION_MAX_LENGTH,
                                    widget=forms.Textarea(attrs={"rows": 3}))

    class Meta(BaseItemForm.Meta):
        fields = ["description", "brand", "model", "specification", "quantity", "unit",
                  "unit_price", "currency", "amount", "tariff_code", "control_no",
                  "origin_country"]
        error_messages = {"description": {"max_length": MESSAGES["max_length"]}}
