"""{% form_fields form %} (permits/templatetags/form_fields.py) prints what {% crispy form %}
prints, without crispy's machinery (issue 10): for every shape of field the entry pages and
9-1-2 show (text, e-mail, date, URL, select, radio, checkbox, textarea, file, disabled, with
help text), unbound, bound and valid, and refused, in both languages; the layout's HTML
pieces and Divs; and the fall-back to crispy for what it does not write out."""

import re

import pytest
from crispy_forms.layout import Fieldset, Layout
from django import forms
from django.template import engines
from django.test import RequestFactory
from django.utils import translation

from masks.forms import MaskBasicDataForm, MaskItemForm
from permits.attachments import AttachmentForm
from permits.entry import ReferenceForm
from permits.models import DocumentType
from permits.parties import party_forms
from portal.forms import PortalForm
from shtc import entry as shtc_entry
from shtc.filing_forms import EndUseForm, EndUserUrlForm, FilingQueryForm
from shtc.forms import ShtcBasicDataForm, ShtcItemForm

pytestmark = pytest.mark.django_db

LANGUAGES = ["zh-hant", "en"]


def compact(html):
    """`html` without the CSRF input crispy adds of its own, and with the blanks between
    tags, at tags' edges and between attributes made what a browser makes of them."""
    html = re.sub(r'<input type="hidden" name="csrfmiddlewaretoken"[^>]*>', "", html)
    html = re.sub(r"\s+", " ", html)
    html = re.sub(r"\s*>\s*", ">", html)
    html = re.sub(r"\s*<\s*", "<", html)
    return html.strip()


def rendered(source, **context):
    request = RequestFactory().get("/shtc/assurance/?x=1")
    return engines["django"].from_string(source).render(context, request=request)


def both(form, **context):
    """(crispy's markup, form_fields' markup) of the whole form."""
    crispy = rendered("{% load crispy_forms_tags %}{% crispy form %}", form=form, **context)
    plain = rendered("{% load form_fields %}{% form_fields form %}", form=form, **context)
    return compact(crispy), compact(plain)


def both_of(language, form_class, data, *args, **kwargs):
    """(the form, crispy's markup, form_fields' markup) of `form_class(data, ...)` in
    `language`, checked first when bound (its errors are printed)."""
    with translation.override(language):
        form = form_class(data, *args, **kwargs)
        if data is not None:
            form.is_valid()
        return form, *both(form)


BASIC = {"applicant_name": "安心科技股份有限公司", "applicant_name_en": "Anxin <Tech> & Co.",
         "applicant_address": "臺北市中正區重慶南路一段2號",
         "company_email": "export@anxin.example", "contact_person": "王小明",
         "contact_phone": "02-2351-0000", "destination_country": "us",
         "transit_port": "USLAX", "partial_shipment": "False", "assurance_route": "exhibition",
         "end_use": "Trade show\nin Las Vegas"}
REFUSED = {**BASIC, "company_email": "not an address", "destination_country": "KP",
           "transit_port": "US", "partial_shipment": "maybe", "assurance_route": "exhibition",
           "end_use": "展覽", "applicant_name": ""}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("as_agent", [False, True])
@pytest.mark.parametrize("data", [None, BASIC, REFUSED], ids=["unbound", "valid", "refused"])
def test_the_9_1_1_basic_form_prints_what_crispy_does(applicant, agent, language, as_agent,
                                                      data):
    user = agent if as_agent else applicant
    with translation.override(language):
        form = ShtcBasicDataForm(data, user=user, initial={"partial_shipment": True,
                                                           "assurance_route": "assurance"})
        if data is REFUSED:
            assert not form.is_valid()
            # Every shape refused: text, e-mail, select, text with a help link, radio, textarea.
            assert {"company_email", "destination_country", "transit_port",
                    "partial_shipment", "end_use"} <= set(form.errors)
        context = {"assurance_routes": shtc_entry.assurance_routes}
        crispy, plain = both(form, **context)
    assert plain == crispy
    assert 'href="/shtc/ports/?field=id_transit_port' in plain  # the layout's HTML pieces
    assert 'data-testid="assurance-route-help"' in plain
    if data is REFUSED:
        assert ('aria-describedby="id_company_email_helptext id_company_email_error"'
                in plain)
        assert ('<fieldset aria-describedby="id_partial_shipment_helptext '
                'id_partial_shipment_error">' in plain)
        assert 'id="id_partial_shipment_error"' in plain


PARTIES = {"buyer-name": "Pacific <Optics> Inc.", "buyer-address": "100 Harbor Blvd",
           "buyer-country": "CN", "buyer-name_zh": "太平洋光學",
           "consignee-same_as_buyer": "on",
           "end_user-name": "Sierra Photonics LLC", "end_user-address": "5 Mesa Road",
           "end_user-country": "CN"}
PARTIES_REFUSED = {**PARTIES, "buyer-name": "太平洋", "consignee-same_as_buyer": "",
                   "consignee-country": "ZZ", "end_user-name_zh": "华为"}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("data", [None, PARTIES, PARTIES_REFUSED],
                         ids=["unbound", "valid", "refused"])
def test_the_party_forms_print_what_crispy_does(language, data):
    with translation.override(language):
        forms_ = party_forms(["buyer", "consignee", "end_user"], data=data)
        for form in forms_:
            form.is_valid()
            crispy, plain = both(form)
            assert plain == crispy
            if form.role != "buyer":  # 同買方資料, and the fields it hides in a Div
                assert '<div class="party-fields">' in plain
                assert 'type="checkbox"' in plain
    if data is PARTIES_REFUSED:
        assert forms_[0].errors and forms_[1].errors and forms_[2].errors


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("data", [
    None, {"registration_no": "EEU11500000007"}, {},
    {"permit_no": "P1", "receipt_no": "R2"}, {"receipt_no": "R-1"}, {"permit_no": "X" * 20}],
    ids=["unbound", "valid", "none", "two", "format", "long"])
def test_the_reference_box_prints_what_crispy_does(language, data):
    _form, crispy, plain = both_of(language, ReferenceForm, data)
    assert plain == crispy
    if data == {}:  # a non-field error, as crispy prints it
        assert '<div class="alert alert-block alert-danger"><ul class="m-0"><li>' in plain


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("data", [None, {"route": "declaration"}, {"route": "x" * 300}],
                         ids=["unbound", "valid", "refused"])
def test_the_mask_basic_form_prints_what_crispy_does(applicant, language, data):
    _form, crispy, plain = both_of(language, MaskBasicDataForm, data, user=applicant)
    assert plain == crispy


ITEM = {"description": "Field <programmable> gate array", "brand": "Xilinx",
        "model": "XCVU9P", "specification": "Virtex\nUltraScale+", "quantity": "10",
        "unit": "PCE", "unit_price": "1500", "currency": "usd", "tariff_code": "85423100003",
        "control_no": "3A001.a", "origin_country": "TW", "category": "medical"}
ITEM_REFUSED = {**ITEM, "quantity": "-1", "unit_price": "abc", "currency": "ZZZ",
                "tariff_code": "1", "control_no": "??", "origin_country": "", "category": "x"}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("form_class", [ShtcItemForm, MaskItemForm])
@pytest.mark.parametrize("data", [None, ITEM, ITEM_REFUSED], ids=["unbound", "bound", "refused"])
def test_the_item_forms_print_what_crispy_does(language, form_class, data):
    # The mask item's category radios and its grouped tariff-code select (Django's own).
    form, crispy, plain = both_of(language, form_class, data)
    assert plain == crispy
    if data is ITEM_REFUSED:
        assert form.errors and 'aria-invalid="true"' in plain


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("form_class,data", [
    (EndUseForm, None), (EndUseForm, {"end_use": "<b>Radar</b> & tests"}),
    (EndUseForm, {"end_use": ""}), (EndUseForm, {"end_use": "雷達"}),
    (EndUserUrlForm, None), (EndUserUrlForm, {"end_user_url": "ftp://example.com"}),
    (EndUserUrlForm, {"end_user_url": "https://example.com/?a=1&b=<2>"}),
])
def test_the_9_1_2_forms_print_what_crispy_does(language, form_class, data):
    _form, crispy, plain = both_of(language, form_class, data)
    assert plain == crispy


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("data", [
    None, {"document_type": "SE", "number": "eeu1"},
    {"document_type": "XX", "date_from": "115/13/40", "date_to": "abc"}, {}],
    ids=["unbound", "valid", "refused", "empty"])
def test_the_9_1_2_query_fields_print_what_as_crispy_field_does(language, data):
    # templates/shtc/filing_query.html prints them one by one (portal.plain_fields).
    with translation.override(language):
        form = FilingQueryForm(data)
        if data is not None:
            form.is_valid()
        for name in form.fields:
            crispy = rendered("{% load crispy_forms_tags %}{{ field|as_crispy_field }}",
                              field=form[name])
            plain = rendered("{% load plain_fields %}{{ field|plain_field }}", field=form[name])
            assert compact(plain) == compact(crispy), name


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("data", [None, {"document_kind": "zz"}, {"document_kind": "catalogue"}],
                         ids=["unbound", "refused", "no-file"])
def test_the_upload_form_prints_what_crispy_does(language, data):
    # A select of a few kinds (Django's own select) and a file input (field_file.html).
    with translation.override(language):
        form = AttachmentForm(data, {} if data else None,
                              document_type=DocumentType.SHTC_EXPORT)
        if data is not None:
            assert not form.is_valid()
        crispy, plain = both(form)
    assert plain == crispy
    assert 'type="file"' in plain and 'class="select form-select' in plain
    if data is not None:
        assert 'class="form-control is-invalid" accept=' in plain
        assert 'aria-describedby="id_file_helptext id_file_error"' in plain


@pytest.mark.parametrize("data", [None, {"name": ""}, {"name": "x"}])
def test_the_forms_css_classes_are_printed_on_the_wrapper(data):
    class Classed(PortalForm):
        required_css_class = "is-required"
        error_css_class = "has-error"
        name = forms.CharField(label="Name")
        kind = forms.ChoiceField(label="Kind", choices=[("a", "A")], widget=forms.RadioSelect)
        agree = forms.BooleanField(label="Agree")

    form = Classed(data)
    if data is not None:
        form.is_valid()
    crispy, plain = both(form)
    assert plain == crispy and "is-required" in plain


def test_other_layouts_and_a_stored_file_go_through_crispy():
    class Stored(PortalForm):
        file = forms.FileField(label="File", required=False)

    stored = Stored(initial={"file": type("Stored", (), {"url": "/f/1", "name": "a.pdf"})()})
    crispy, plain = both(stored)
    assert plain == crispy and 'href="/f/1"' in plain  # its link and 清除 box

    class Grouped(PortalForm):
        name = forms.CharField(label="Name")

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.helper.layout = Layout(Fieldset("Legend", "name"))

    crispy, plain = both(Grouped())
    assert plain == crispy and "<legend>Legend</legend>" in plain

    class Horizontal(PortalForm):
        name = forms.CharField(label="Name", help_text="Help")

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.helper.form_class = "form-horizontal"
            self.helper.label_class = "col-2"

    crispy, plain = both(Horizontal({}))
    assert plain == crispy and "col-2" in plain


def test_it_adds_the_classes_crispy_adds_to_the_widget_once(applicant):
    # Rendering twice (a page showing a form again) prints the same classes.
    form = ShtcBasicDataForm({"company_email": "x"}, user=applicant)
    form.is_valid()
    first = rendered("{% load form_fields %}{% form_fields form %}", form=form,
                     assurance_routes=list)
    second = rendered("{% load form_fields %}{% form_fields form %}", form=form,
                      assurance_routes=list)
    assert first == second
    assert 'class="emailinput form-control is-invalid"' in first
    assert 'class="codeselect form-select is-invalid"' in first


def test_labels_are_translated_once_per_language_and_kept_apart(applicant):
    # The lazy labels are kept per process and language (form_fields._text): each language
    # prints its own words, whichever came first.
    pages = {}
    for language in ["en", "zh-hant", "en", "zh-hant"]:
        with translation.override(language):
            pages.setdefault(language, []).append(rendered(
                "{% load form_fields %}{% form_fields form %}", form=ReferenceForm()))
    assert pages["en"][0] == pages["en"][1] and pages["zh-hant"][0] == pages["zh-hant"][1]
    assert "Certificate number" in pages["en"][0] and "證書號碼" in pages["zh-hant"][0]
