"""An unbound form of the entry steps (the basic data, the parties, 帶入參考資料: the classes
whose drawing is kept) copies each field from its class only when the field is taken out
(portal.forms.FieldsCopiedOnUse), instead of Django's deep copy of them all (issue 10).
Whatever a form changes (a field disabled, made optional, deleted, its choices, help text or
widget's attributes) stays with that form: never the class's, never the next request's, user's
or language's. A bound form is Django's, every field copied. The drawing, and the whole page,
must be what Django's full copy gives, in both languages, before and after a bound form with
errors."""

import copy
import re
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.template import engines
from django.test import Client, RequestFactory
from django.utils import translation

from permits.entry import BasicDataForm, ReferenceForm
from permits.parties import PartyForm
from permits.templatetags import form_fields
from portal import forms as portal_forms
from portal.forms import FieldsCopiedOnUse
from shtc.forms import ShtcBasicDataForm
from tests.shtc.assurance import AGENT, BASIC, url

pytestmark = pytest.mark.django_db

APPLICANT_USER = SimpleNamespace(is_agent=False, identifier="22099131", name="安心科技")
AGENT_USER = SimpleNamespace(is_agent=True, identifier="12345675", name="報關行 <A&B>")
INITIAL = {"applicant_name": "安心科技股份有限公司", "contact_phone": "02-2351-0000",
           "partial_shipment": False, "destination_country": "US"}
PARTY = {"name": "Pacific <Optics> Inc.", "address": "100 Harbor Blvd", "country": "US",
         "name_zh": "", "same_as_buyer": True}


def drawn(form):
    request = RequestFactory().get("/shtc/assurance/")
    return engines["django"].from_string("{% load form_fields %}{% form_fields form %}").render(
        {"form": form, "request": request}, request=request)


@pytest.fixture
def djangos_copy(monkeypatch):
    """Forms built while it is on copy all their fields at once, as Django does."""
    def full_copy(on):
        if on:
            monkeypatch.setattr(portal_forms._CopiedOnUse, "__deepcopy__",
                                lambda self, memo: copy.deepcopy(self.base, memo))
        else:
            monkeypatch.undo()
    return full_copy


def test_an_unbound_form_copies_a_field_when_it_is_taken_out():
    form = ShtcBasicDataForm(user=APPLICANT_USER, initial=INITIAL)
    own = ShtcBasicDataForm.base_fields
    assert isinstance(form.fields, FieldsCopiedOnUse)
    assert "base_fields" not in vars(form)  # the class's again after __init__
    # The applicant's own case: the agent's fields deleted from the form, not the class.
    assert list(form.fields) == [name for name in own if not name.startswith("agent_")]
    assert "agent_email" in own
    read = dict(form.fields.read_only_items())
    # applicant_identifier was disabled by __init__: on the form's copy.
    assert read["applicant_identifier"] is not own["applicant_identifier"]
    assert read["applicant_identifier"].disabled and not own["applicant_identifier"].disabled
    assert read["transit_port"] is own["transit_port"]  # not taken out: not copied
    field = form.fields["transit_port"]
    assert field is not own["transit_port"] and form.fields["transit_port"] is field
    assert field.widget is not own["transit_port"].widget
    assert field.widget.attrs == own["transit_port"].widget.attrs
    assert field.widget.attrs is not own["transit_port"].widget.attrs
    # Taken out by iterating values or items: copied too.
    assert not any(field is own[name] for name, field in form.fields.items())
    assert not any(field is own[name] for name, field in form.fields.read_only_items())


def test_what_a_form_changes_stays_with_it():
    before = ShtcBasicDataForm.base_fields["assurance_route"].choices
    with translation.override("en"):
        first_drawing = drawn(ShtcBasicDataForm(user=APPLICANT_USER, initial=INITIAL))
        changed = ShtcBasicDataForm(user=APPLICANT_USER, initial=INITIAL)
        changed.fields["assurance_route"].choices = [("exhibition", "Only <this>")]
        changed.fields["transit_port"].widget.attrs["lang"] = "en"
        changed.fields["contact_phone"].required = False
        changed.fields["end_use"].help_text = "Another <help>"
        changed.fields["applicant_address"].disabled = True
        changed_drawing = drawn(changed)
        assert "Only &lt;this&gt;" in changed_drawing and "Another <help>" in changed_drawing
        del changed.fields["destination_country"]
        again = ShtcBasicDataForm(user=APPLICANT_USER, initial=INITIAL)
        assert drawn(again) == first_drawing
    own = ShtcBasicDataForm.base_fields
    assert own["assurance_route"].choices == before
    assert own["assurance_route"].widget.choices == before
    assert "lang" not in own["transit_port"].widget.attrs
    assert own["contact_phone"].required and not own["applicant_address"].disabled
    assert "destination_country" in again.fields


def test_a_bound_form_copies_all_its_fields_and_leaves_nothing_behind():
    bound = ShtcBasicDataForm({**INITIAL, "contact_phone": "\x01", "transit_port": "us"},
                              user=AGENT_USER)
    own = ShtcBasicDataForm.base_fields
    assert type(bound.fields) is dict
    assert not any(field is own[name] for name, field in bound.fields.items())
    assert not bound.is_valid() and "contact_phone" in bound.errors
    # The text rule wrapped the bound form's copies, never the class's fields.
    assert all(bound.fields[name]._text_rule for name in ("contact_phone", "transit_port"))
    assert not any(getattr(field, "_text_rule", False) for field in own.values())
    # An unbound form is not cleaned: its fields stay the class's.
    unbound = ShtcBasicDataForm(user=APPLICANT_USER)
    assert not unbound.errors
    assert dict(unbound.fields.read_only_items())["transit_port"] is own["transit_port"]


def _states():
    """[(name, make)]: unbound forms of the entry steps, for an applicant and an agent."""
    return [
        ("basic, applicant", lambda: BasicDataForm(user=APPLICANT_USER, initial=INITIAL)),
        ("basic, agent", lambda: BasicDataForm(user=AGENT_USER, initial=INITIAL)),
        ("basic, agent, fixed", lambda: BasicDataForm(user=AGENT_USER,
                                                      fixed_applicant="22099131")),
        ("9-1-1, applicant", lambda: ShtcBasicDataForm(user=APPLICANT_USER, initial=INITIAL)),
        ("9-1-1, no initial", lambda: ShtcBasicDataForm(user=APPLICANT_USER)),
        ("9-1-1, agent", lambda: ShtcBasicDataForm(user=AGENT_USER, initial=INITIAL)),
        ("buyer", lambda: PartyForm(role="buyer")),
        ("consignee", lambda: PartyForm(role="consignee", initial=PARTY)),
        ("end user", lambda: PartyForm(role="end_user")),
        ("end user alone", lambda: PartyForm(role="end_user", with_buyer=False)),
        ("reference", lambda: ReferenceForm()),
        ("reference, one", lambda: ReferenceForm(fields=["permit_no"],
                                                 initial={"permit_no": "AB<1>"})),
    ]


def test_the_drawings_are_those_of_djangos_copy(djangos_copy):
    """Each state drawn (kept, then from its kept drawing, in either language in turn) is
    the drawing of the same form built with Django's copy of every field, drawn afresh."""
    form_fields._DRAWINGS.clear()
    form_fields._CLASS_FIELD_STATES.clear()
    for round_ in ("drawn", "kept"):
        for language in ("en", "zh-hant", "en"):
            with translation.override(language):
                for name, make in _states():
                    djangos_copy(True)
                    form = make()
                    assert type(form.fields) is dict
                    form.keep_drawing = False  # drawn afresh
                    expected = drawn(form)
                    djangos_copy(False)
                    assert drawn(make()) == expected, (round_, language, name)
    assert form_fields._CLASS_FIELD_STATES  # the class's fields were read in place


def test_a_forms_own_change_is_read_from_its_copy():
    """The kept drawing's key reads a field the form changed from the form's copy, not the
    class's state kept for it (_CLASS_FIELD_STATES)."""
    with translation.override("en"):
        plain = drawn(ShtcBasicDataForm(user=APPLICANT_USER))
        for change in (lambda field: setattr(field, "label", "Port <x>"),
                       lambda field: setattr(field, "required", True),
                       lambda field: field.widget.attrs.update(placeholder="JPTYO")):
            form = ShtcBasicDataForm(user=APPLICANT_USER)
            change(form.fields["transit_port"])
            changed = drawn(form)
            assert changed != plain
            fresh = ShtcBasicDataForm(user=APPLICANT_USER)
            change(fresh.fields["transit_port"])
            fresh.keep_drawing = False
            assert changed == drawn(fresh)
        assert drawn(ShtcBasicDataForm(user=APPLICANT_USER)) == plain


# --- The page ------------------------------------------------------------------------------

TOKENS = [re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+'),
          re.compile(r'(nonce=")[^"]+'), re.compile(r'(name="client_token" value=")[^"]+')]
IDENTIFIER_INPUT = re.compile(r'<input[^>]*name="applicant_identifier"[^>]*>')


def page(client, language, data=None):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(url("basic")) if data is None else client.post(url("basic"), data)
    html = response.content.decode()
    for token in TOKENS:
        html = token.sub(r"\1-", html)
    return response.status_code, html


def test_the_page_is_djangos_copys_between_users_and_languages(applicant, agent, djangos_copy):
    """9-1-1's basic page, as the applicant and as the agent posting with errors in turn, in
    both languages, is the page Django's copy of every field gives; the applicant's page
    shows nothing of the agent's typing nor of its errors."""
    typed = {**BASIC, **AGENT, "applicant_identifier": "99999999", "contact_phone": "\x01",
             "transit_port": "zz", "buyer-name": "華為 Typed", "consignee-same_as_buyer": ""}
    visits = []
    for language in ("zh-hant", "en", "zh-hant"):
        visits += [(applicant, language, None), (agent, language, typed),
                   (applicant, language, None), (agent, language, None)]

    def walk():
        pages = []
        clients = {}
        for user, language, data in visits:
            if user.pk not in clients:
                clients[user.pk] = Client(headers={"x-forwarded-proto": "https"})
                clients[user.pk].force_login(user)
            pages.append(page(clients[user.pk], language, data))
        return pages

    djangos_copy(True)
    form_fields._DRAWINGS.clear()
    expected = walk()
    djangos_copy(False)
    form_fields._DRAWINGS.clear()
    pages = walk()
    assert pages == expected
    applicants = {}
    for (user, language, data), (status, html) in zip(visits, pages, strict=True):
        assert status == (400 if data else 200)
        if data:
            assert "華為 Typed" in html and 'aria-invalid="true"' in html
        else:
            assert "華為 Typed" not in html and "99999999" not in html
            assert 'aria-invalid="true"' not in html
        # 申請人辨識碼: the applicant's own, locked; typed by the agent.
        identifier = IDENTIFIER_INPUT.search(html).group()
        assert (" disabled" in identifier) == (user == applicant)
        if user == applicant:
            # The applicant's page is the same each time in its language.
            assert applicants.setdefault(language, html) == html
    assert len(set(applicants.values())) == 2
