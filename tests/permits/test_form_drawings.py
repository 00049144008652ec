"""{% form_fields form %} keeps the drawing of an unbound form of the entry pages (the basic
data, the parties, 帶入參考資料: permits/templatetags/form_fields.py, _kept_key). A kept
drawing must be the fresh one's byte for byte: every state below is drawn in turn with the
drawings kept, then again (each from its kept drawing), and compared each time with the form
drawn afresh. Two states that differ in one thing only (the language, a role, an initial
value, a field made optional, a widget's attribute, the reference table's options...) follow
each other, so a key that missed it would print the earlier state's drawing for the later
one. A bound form is always drawn afresh: its errors and the user's typing are shown."""

from types import SimpleNamespace

import pytest
from django.template import engines
from django.test import RequestFactory
from django.utils import translation

from permits.entry import BasicDataForm, ReferenceForm
from permits.fields import reference_rows_forget
from permits.models import Country
from permits.parties import PartyForm, party_forms
from permits.templatetags import form_fields
from shtc.forms import ShtcBasicDataForm

pytestmark = pytest.mark.django_db

LANGUAGES = ["zh-hant", "en"]
APPLICANT = SimpleNamespace(is_agent=False, identifier="22099131", name="安心科技")
AGENT = SimpleNamespace(is_agent=True, identifier="12345675", name="報關行 <A&B>")
INITIAL = {"applicant_name": "安心科技股份有限公司", "applicant_name_en": "Anxin <Tech>",
           "applicant_address": "臺北市", "contact_person": "王小明",
           "contact_phone": "02-2351-0000", "company_email": "a@anxin.example",
           "partial_shipment": True, "assurance_route": "assurance"}
PARTY = {"name": "Pacific <Optics> Inc.", "address": "100 Harbor Blvd", "country": "US",
         "name_zh": "", "same_as_buyer": False}


def drawn(form, path="/shtc/assurance/"):
    request = RequestFactory().get(path)
    return engines["django"].from_string("{% load form_fields %}{% form_fields form %}").render(
        {"form": form, "request": request}, request=request)


def fresh(form, path="/shtc/assurance/"):
    """The form drawn without any kept drawing (nor keeping one)."""
    kept = type(form).__dict__.get("keep_drawing")
    type(form).keep_drawing = False
    try:
        return drawn(form, path)
    finally:
        if kept is None:
            del type(form).keep_drawing
        else:
            type(form).keep_drawing = kept


def _changed(make, change):
    def made():
        form = make()
        change(form)
        return form
    return made


def states():
    """[(name, language, make)]: `make()` builds the unbound form of that state."""
    result = []
    for language in LANGUAGES:
        basic = [
            ("applicant", lambda: BasicDataForm(user=APPLICANT, initial=INITIAL)),
            ("agent", lambda: BasicDataForm(user=AGENT, initial=INITIAL)),
            ("agent, fixed applicant",
             lambda: BasicDataForm(user=AGENT, fixed_applicant="22099131", initial=INITIAL)),
            ("applicant, other name",
             lambda: BasicDataForm(user=APPLICANT, initial={**INITIAL, "applicant_name": "乙"})),
            ("applicant, no initial", lambda: BasicDataForm(user=APPLICANT)),
            ("9-1-1", lambda: ShtcBasicDataForm(user=APPLICANT, initial=INITIAL)),
            ("9-1-1, one shipment", lambda: ShtcBasicDataForm(
                user=APPLICANT, initial={**INITIAL, "partial_shipment": False})),
            # True and 1 are equal keys; the radio prints "True" and "1".
            ("9-1-1, shipment 1", lambda: ShtcBasicDataForm(
                user=APPLICANT, initial={**INITIAL, "partial_shipment": 1})),
            ("9-1-1, destination", lambda: ShtcBasicDataForm(
                user=APPLICANT, initial={**INITIAL, "destination_country": "US"})),
            ("9-1-1, port", lambda: ShtcBasicDataForm(
                user=APPLICANT, initial={**INITIAL, "transit_port": "USLAX"})),
            ("9-1-1, agent", lambda: ShtcBasicDataForm(user=AGENT, initial=INITIAL)),
            ("9-1-1, help changed", _changed(
                lambda: ShtcBasicDataForm(user=APPLICANT, initial=INITIAL),
                lambda form: setattr(form.fields["end_use"], "help_text", "Other <help>"))),
            ("9-1-1, optional", _changed(
                lambda: ShtcBasicDataForm(user=APPLICANT, initial=INITIAL),
                lambda form: setattr(form.fields["contact_phone"], "required", False))),
            ("9-1-1, disabled", _changed(
                lambda: ShtcBasicDataForm(user=APPLICANT, initial=INITIAL),
                lambda form: setattr(form.fields["contact_phone"], "disabled", True))),
            ("9-1-1, label", _changed(
                lambda: ShtcBasicDataForm(user=APPLICANT, initial=INITIAL),
                lambda form: setattr(form.fields["contact_phone"], "label", "Phone"))),
            ("9-1-1, attribute", _changed(
                lambda: ShtcBasicDataForm(user=APPLICANT, initial=INITIAL),
                lambda form: form.fields["transit_port"].widget.attrs.update(lang="en"))),
            ("9-1-1, choices", _changed(
                lambda: ShtcBasicDataForm(user=APPLICANT, initial=INITIAL),
                lambda form: setattr(form.fields["assurance_route"], "choices",
                                     [("assurance", "A"), ("exhibition", "B")]))),
            ("9-1-1, prefix", lambda: ShtcBasicDataForm(user=APPLICANT, initial=INITIAL,
                                                        prefix="p")),
            ("9-1-1, ids", lambda: ShtcBasicDataForm(user=APPLICANT, initial=INITIAL,
                                                     auto_id="f_%s")),
        ]
        parties = []
        for role in ("buyer", "consignee", "end_user"):
            parties += [
                (f"{role}", lambda role=role: PartyForm(role=role)),
                (f"{role} alone", lambda role=role: PartyForm(role=role, with_buyer=False)),
                (f"{role} stored", lambda role=role: PartyForm(role=role, initial=PARTY)),
                (f"{role} copies", lambda role=role: PartyForm(
                    role=role, initial={**PARTY, "same_as_buyer": True})),
            ]
        reference = [
            ("reference", lambda: ReferenceForm()),
            ("reference, balance", lambda: ReferenceForm(fields=["balance_permit_no"])),
            ("reference, number", lambda: ReferenceForm(initial={"permit_no": "AB<1>"})),
        ]
        result += [(name, language, make) for name, make in basic + parties + reference]
    return result


def test_a_kept_drawing_is_the_fresh_one_in_every_state():
    form_fields._DRAWINGS.clear()
    for round_ in ("drawn", "kept"):
        for name, language, make in states():
            with translation.override(language):
                expected = fresh(make())
                assert drawn(make()) == expected, (round_, name, language)
    # Each state's drawing was kept once (the second round drew none); the buyer "alone" and
    # "copying the buyer" are the buyer's (it has no 同買方資料 box), in both languages.
    assert len(form_fields._DRAWINGS) == len(states()) - 4


def test_the_pages_context_is_read_each_time():
    """The layout's HTML pieces (9-1-1's port look-up link names the page's address) are
    rendered with each page's context, not kept."""
    form_fields._DRAWINGS.clear()
    with translation.override("en"):
        first = drawn(ShtcBasicDataForm(user=APPLICANT, initial=INITIAL), "/shtc/assurance/")
        second = drawn(ShtcBasicDataForm(user=APPLICANT, initial=INITIAL),
                       "/shtc/assurance/?transit_port=USNYC")
        assert second == fresh(ShtcBasicDataForm(user=APPLICANT, initial=INITIAL),
                               "/shtc/assurance/?transit_port=USNYC")
    assert first != second
    assert "transit_port%3DUSNYC" in second


def test_a_changed_reference_table_draws_anew():
    """The countries' options are part of the key (the options kept with the table's rows):
    a country deactivated, once the rows are read again, is gone from the next drawing."""
    form_fields._DRAWINGS.clear()
    with translation.override("en"):
        before = drawn(PartyForm(role="buyer"))
        code = Country.objects.filter(active=True).order_by("code").values_list(
            "code", flat=True).last()
        assert f'value="{code}"' in before
        Country.objects.filter(code=code).update(active=False)  # no signal: a bulk load
        reference_rows_forget()  # as the TTL's end does
        after = drawn(PartyForm(role="buyer"))
        assert after == fresh(PartyForm(role="buyer"))
    assert f'value="{code}"' not in after


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_bound_form_shows_its_errors_and_typing(language):
    """After the unbound form's drawing was kept, the bound one with errors is drawn
    afresh."""
    form_fields._DRAWINGS.clear()
    with translation.override(language):
        drawn(PartyForm(role="buyer"))
        drawn(PartyForm(role="buyer"))
        (form,) = party_forms(["buyer"], data={"buyer-name": "太平洋 <x>",
                                               "buyer-address": "", "buyer-country": "US"})
        assert not form.is_valid()
        html = drawn(form)
        assert html == fresh(form)
    assert "is-invalid" in html and "太平洋 &lt;x&gt;" in html
    assert len(form_fields._DRAWINGS) == 1


def test_the_drawings_are_bounded(monkeypatch):
    monkeypatch.setattr(form_fields, "DRAWINGS_KEPT", 3)
    form_fields._DRAWINGS.clear()
    with translation.override("en"):
        for number in range(7):
            drawn(ReferenceForm(initial={"permit_no": f"P{number}"}))
            assert len(form_fields._DRAWINGS) <= 3
