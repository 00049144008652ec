"""portal.plain_fields prints a field as crispy's `as_crispy_field` does (issue 10): the same
markup, less the blanks crispy's templates leave between tags, for every form of the pages
that use it (申辦狀況查詢作業, 9-1-2's 查詢, 單證比對查詢, the flow start pages), bound and
unbound, refused, in both languages (the flow start pages' number boxes: tests/masks/
test_start_page.py); and what it does not write out goes to crispy."""

import pytest
from django import forms
from django.utils import translation

from permits.attachments import AttachmentForm
from permits.forms import QueryForm
from portal.forms import PortalForm
from portal.plain_fields import plain_field
from reconciliation.forms import DeclarationQueryForm
from shtc.filing_forms import FilingQueryForm
from tests.masks.test_start_page import compact, rendered

LANGUAGES = ["zh-hant", "en"]


def both(form, name):
    """(crispy's, plain_field's) markup of field `name`, each on a form of its own (crispy
    adds its classes to the form's widgets)."""
    crispy = rendered("{% load crispy_forms_tags %}{{ field|as_crispy_field }}",
                      field=form()[name])
    plain = rendered("{% load plain_fields %}{{ field|plain_field }}", field=form()[name])
    return crispy, plain


def bound(form_class, data, **kwargs):
    def make():
        form = form_class(data, **kwargs)
        if data is not None:
            form.is_valid()
        return form
    return make


QUERY_DATA = [
    None,
    {"document_type": "SE", "date_from": "114/12/04", "date_to": "115/12/03"},
    {"document_type": "MK", "number": "  pmk1 "},
    {"document_type": "", "date_from": "115/13/40", "date_to": "x" * 30,
     "number": 'A"<é>&' + "9" * 20},                       # refused, escaped, too long
    {"document_type": "XX", "date_from": "115/12/05", "date_to": "115/12/01"},  # bad order
    {"document_type": "SE"},                                 # no criteria: non-field error
    {"document_type": "SE", "number": "\x00"},
]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("data", QUERY_DATA)
@pytest.mark.parametrize("name", ["document_type", "date_from", "date_to", "number"])
@pytest.mark.parametrize("form_class", [QueryForm, FilingQueryForm])  # PERMIT-7, 9-1-2
def test_the_query_pages_fields_print_what_crispy_does(language, data, name, form_class):
    with translation.override(language):
        crispy, plain = both(bound(form_class, data), name)
    assert compact(plain) == compact(crispy)
    assert 'aria-describedby="' in plain if name.startswith("date") else True


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("data", [None, {"number": "aa123"}, {"number": ""},
                                  {"number": "<b>" * 9}])
def test_the_declaration_query_field_prints_what_crispy_does(language, data):
    with translation.override(language):
        crispy, plain = both(bound(DeclarationQueryForm, data), "number")
    assert compact(plain) == compact(crispy)


class Shapes(PortalForm):
    """Widgets and fields the pages above do not have yet, written out or left to crispy."""

    grouped = forms.ChoiceField(label="Grouped", choices=[
        ("", "---"), ("Fruit", [("a", "Apple & pear"), ("b", "Banana")]), ("c", "Cherry")])
    amount = forms.DecimalField(label="Amount", required=False, help_text="<b>at most</b> 9")
    email = forms.EmailField(label="E-mail", widget=forms.EmailInput(attrs={"class": "wide"}))
    # Left to crispy:
    agree = forms.BooleanField(label="Agree", required=False)
    notes = forms.CharField(label="Notes", widget=forms.Textarea, required=False)
    hidden = forms.CharField(widget=forms.HiddenInput, required=False)
    tags = forms.MultipleChoiceField(label="Tags", choices=[("x", "X")], required=False)
    radio = forms.ChoiceField(label="Radio", choices=[("x", "X")], widget=forms.RadioSelect,
                              required=False)


@pytest.mark.parametrize("data", [None, {"grouped": "b", "amount": "1e999", "email": "x@",
                                         "tags": ["x", "y"], "agree": "on"}])
@pytest.mark.parametrize("name", list(Shapes.base_fields))
def test_other_widgets_print_what_crispy_does(data, name):
    crispy, plain = both(bound(Shapes, data), name)
    assert compact(plain) == compact(crispy)


@pytest.mark.django_db
@pytest.mark.parametrize("data", [None, {"document_kind": "nope"}])
@pytest.mark.parametrize("name", ["document_kind", "file"])
def test_the_attachment_form_prints_what_crispy_does(data, name):
    crispy, plain = both(bound(AttachmentForm, data, document_type="SE"), name)
    assert compact(plain) == compact(crispy)


def test_a_helper_that_changes_the_layout_goes_to_crispy():
    class Horizontal(PortalForm):
        number = forms.CharField(label="Number")

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.helper.label_class = "col-2"

    crispy, plain = both(Horizontal, "number")
    assert compact(plain) == compact(crispy)
    assert "col-2" in plain


def test_the_label_and_errors_stay_tied_to_the_input():
    form = QueryForm({"document_type": "SE", "date_from": "nonsense"})
    form.is_valid()
    html = str(plain_field(form["date_from"]))
    assert '<label for="id_date_from" class="form-label">' in html
    assert 'aria-invalid="true" aria-describedby="id_date_from_helptext id_date_from_error"' \
        in html
    assert '<div id="id_date_from_error" class="invalid-feedback"><span ' \
        'id="error_1_id_date_from"><strong>' in html
    assert 'value="nonsense"' in html  # what was typed is kept
