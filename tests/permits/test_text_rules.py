"""The portal's one text rule and one digit rule (issue 9, point 5; portal/forms.py), on every
form: invisible formatting characters (bidi overrides, zero-width spaces) are removed, a
field of nothing else is empty, control characters and NUL bytes get a message; numeric and
code fields read full-width digits as ASCII and refuse other scripts' digits. And the
convention for a refused form (point 6): HTTP 400, the page again with the errors."""

import datetime
from decimal import Decimal

import pytest
from django import forms
from django.urls import reverse

from permits.fields import QuantityField
from portal.accounts.models import User
from portal.forms import (
    AsciiCharField,
    PortalForm,
    PortalFormMixin,
    RocDateField,
    TextRuleMixin,
    clean_text,
)

BIDI_AND_ZERO_WIDTH = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067",
                       "\u2068", "\u2069", "\u200e", "\u200f", "\u061c", "\u200b", "\u200c",
                       "\u200d", "\u2060", "\ufeff", "\u00ad"]


class Sample(PortalForm):
    name = forms.CharField(max_length=20)
    note = forms.CharField(required=False, widget=forms.Textarea)
    kind = forms.ChoiceField(choices=[("a", "A"), ("b", "B")], required=False)
    day = RocDateField(required=False)
    quantity = QuantityField(required=False)
    secret = forms.CharField(required=False, strip=False, widget=forms.PasswordInput)
    code = AsciiCharField(required=False, max_length=14)
    several = forms.MultipleChoiceField(choices=[("a", "A"), ("b", "B")], required=False)


def sample(**data):
    form = Sample({"name": "安心醫材", **data})
    form.is_valid()
    return form


def codes(form, name):
    return [e.code for e in form.errors.as_data().get(name, [])]


# --- Invisible characters --------------------------------------------------------------------


@pytest.mark.parametrize("char", BIDI_AND_ZERO_WIDTH)
def test_it_removes_bidi_controls_and_zero_width_characters(char):
    form = sample(name=f"安心{char}醫材", note=f"第一行{char}")
    assert form.is_valid(), form.errors
    assert (form.cleaned_data["name"], form.cleaned_data["note"]) == ("安心醫材", "第一行")


@pytest.mark.parametrize("name", ["\u202e", "\u200b", "\u200b \u200b", "\u3000", "\u00a0",
                                  "\u2066\u2069", " \ufeff\u202c "])
def test_it_counts_a_field_of_only_invisible_characters_as_empty(name):
    assert codes(sample(name=name), "name") == ["required"]


def test_it_measures_the_length_after_removing_them():
    assert sample(name="安" * 20 + "\u200b" * 5).is_valid()
    assert codes(sample(name="安" * 21), "name") == ["max_length"]


# --- Control characters and NUL bytes ---------------------------------------------------------


@pytest.mark.parametrize("field", ["name", "note", "kind", "day", "quantity", "code",
                                   "several"])
def test_it_refuses_a_nul_byte_in_a_field_of_any_kind(field):
    value = ["a\x00"] if field == "several" else "1\x00"
    form = Sample({"name": "安心醫材", field: value})
    assert not form.is_valid()
    assert codes(form, field) == ["null_characters_not_allowed"]


@pytest.mark.parametrize("char", ["\x01", "\x07", "\x1b", "\x7f", "\x9b", "\x0b", "\x0c"])
def test_it_refuses_other_control_characters(char):
    assert codes(sample(name=f"安心{char}醫材"), "name") == ["control_characters"]
    assert codes(sample(note=f"安心{char}醫材"), "note") == ["control_characters"]


def test_it_makes_line_breaks_spaces_in_a_one_line_field_and_keeps_them_in_a_text_area():
    form = sample(name="安心\r\n醫材\t公司", note="第一行\r\n第二行\u2028第三行\t完")
    assert form.cleaned_data["name"] == "安心 醫材 公司"
    assert form.cleaned_data["note"] == "第一行\n第二行\n第三行\t完"


def test_it_leaves_a_password_as_typed():
    assert sample(secret=" pass\u200bword ").cleaned_data["secret"] == " pass\u200bword "


def test_it_reads_fields_a_form_adds_in_its_init():
    class Later(PortalForm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.fields["extra"] = forms.CharField()

    form = Later({"extra": "\u202e"})
    assert codes(form, "extra") == ["required"]


def test_clean_text_is_the_one_rule():
    assert clean_text("a\u202eb\nc") == "ab c"
    assert clean_text("a\u202eb\r\nc", multiline=True) == "ab\nc"


# --- Digits (one rule for every numeric and code field) --------------------------------------


def test_it_reads_full_width_digits_as_ascii_in_numbers_dates_and_codes():
    form = sample(quantity="１０．５", day="１１５／１２／０２", code="ｐｍｋ１１５")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["quantity"] == Decimal("10.5")
    assert form.cleaned_data["day"] == datetime.date(2026, 12, 2)
    assert form.cleaned_data["code"] == "pmk115"


@pytest.mark.parametrize("day", ["١١٥/١٢/٠٢", "११५/१२/०२", "115/12/٠٢", "２０２６-１２-０٢"])
def test_it_refuses_dates_in_digits_of_other_scripts(day):
    assert codes(sample(day=day), "day") == ["invalid"]


@pytest.mark.parametrize("quantity", ["١٠", "१०", "1٠"])
def test_it_refuses_numbers_in_digits_of_other_scripts(quantity):
    assert codes(sample(quantity=quantity), "quantity") == ["invalid"]


# --- Every form of the portal has it ---------------------------------------------------------

# Forms of the Django admin that take no free text a user outside the bureau sees.
ADMIN_FORMS = {"reconciliation.forms.MessageFileForm",  # a file upload
               "portal.accounts.admin.UserCreationForm"}  # Django's own, with passwords


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_form_of_the_portal_reads_input_through_the_text_rule():
    from django.contrib import admin
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 -- imports every view, so every form
    admin.autodiscover()
    ours = {f"{cls.__module__}.{cls.__qualname__}": cls
            for cls in set(_subclasses(forms.BaseForm))
            if cls.__module__.split(".")[0] in ("portal", "permits", "masks", "reconciliation",
                                                "shtc")}
    assert "masks.forms.FlowForm" in ours and "permits.parties.PartyForm" in ours
    without = sorted(name for name, cls in ours.items()
                     if not issubclass(cls, TextRuleMixin) and name not in ADMIN_FORMS)
    assert without == []
    assert issubclass(PortalForm, PortalFormMixin)


# --- Through the pages -----------------------------------------------------------------------

SIGNUP = {"identifier_type": "ban", "identifier": "22099131", "role": "applicant",
          "name": "安心醫材股份有限公司", "name_en": "", "address": "臺北市中正區重慶南路一段2號",
          "contact_person": "王小明", "phone": "02-2351-0000", "email": "a@anxin.example",
          "language": "zh-hant", "password1": "a-long-passphrase-9",
          "password2": "a-long-passphrase-9"}


def page_codes(response, name):
    return [e.code for e in response.context["form"].errors.as_data().get(name, [])]


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value", "code"), [
    ("name", "\u202e", "required"),
    ("identifier_type", "ban\x00", "null_characters_not_allowed"),
    ("identifier", "22099131\x00", "null_characters_not_allowed"),
    ("role", "\x00", "null_characters_not_allowed"),
    ("address", "臺北\x1b[31m", "control_characters"),
])
def test_it_refuses_bad_text_on_sign_up_with_400(client, field, value, code):
    response = client.post(reverse("accounts:signup"), {**SIGNUP, field: value})
    assert response.status_code == 400
    assert page_codes(response, field) == [code]
    assert not User.objects.exists()


@pytest.mark.django_db
def test_it_keeps_what_the_user_sees_of_the_profile(client, applicant):
    client.force_login(applicant)
    response = client.post(reverse("accounts:profile"), {
        "name_en": "Anxin\u202e", "address": "臺北市\u2066中正區\u2069", "contact_person": "王小明",
        "phone": "02-2351-0000", "email": "a@anxin.example", "language": "zh-hant"})
    assert response.status_code == 302
    applicant.refresh_from_db()
    assert (applicant.name_en, applicant.address) == ("Anxin", "臺北市中正區")


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "data"), [
    ("permits:query", {"document_type": "MK\x00", "number": "PMK\x00"}),
    ("permits:verify", {"no": "PMK\x00", "code": "\x00"}),
    ("reconciliation:query", {"number": "AA\x00"}),
])
def test_it_refuses_a_nul_byte_in_a_look_up_with_400(client, applicant, name, data):
    client.force_login(applicant)
    response = client.get(reverse(name), data)
    assert response.status_code == 400
    assert set(response.context["form"].errors) == set(data)


@pytest.mark.django_db
def test_it_refuses_a_nul_byte_in_a_cancellation_with_400(client, applicant):
    client.force_login(applicant)
    response = client.post(reverse("permits:cancellation"), {"permit_no": "PMK\x00",
                                                              "reason": "\x00"})
    assert response.status_code == 400
    assert page_codes(response, "permit_no") == ["null_characters_not_allowed"]


@pytest.mark.django_db
def test_it_refuses_a_nul_byte_in_the_login_with_400(client, applicant):
    response = client.post(reverse("accounts:login"), {"username": "22099131\x00",
                                                       "password": "x"})
    assert response.status_code == 400
    assert page_codes(response, "username") == ["null_characters_not_allowed"]


# --- E-mail addresses of at most 254 characters (point 3) -------------------------------------


def email_of_length(length):
    domain = ".".join(["d" * 63] * 3) + ".tw"
    return "m" * (length - 1 - len(domain)) + "@" + domain


@pytest.mark.django_db
def test_it_refuses_an_email_of_255_characters_on_sign_up(client):
    response = client.post(reverse("accounts:signup"), {**SIGNUP, "email": email_of_length(255)})
    assert response.status_code == 400
    assert page_codes(response, "email") == ["max_length"]
    assert not User.objects.exists()


@pytest.mark.django_db
def test_it_refuses_an_email_of_255_characters_in_the_profile(client, applicant):
    client.force_login(applicant)
    response = client.post(reverse("accounts:profile"), {
        "name_en": "", "address": "臺北市", "contact_person": "王小明", "phone": "02-2351-0000",
        "email": email_of_length(255), "language": "zh-hant"})
    assert response.status_code == 400
    assert page_codes(response, "email") == ["max_length"]
    assert User.objects.get(pk=applicant.pk).email == applicant.email


@pytest.mark.django_db
def test_it_refuses_an_email_of_255_characters_for_a_password_reset(client):
    response = client.post(reverse("accounts:password_reset"), {"email": email_of_length(255)})
    assert response.status_code == 400
    assert page_codes(response, "email") == ["max_length"]


# --- A refused form answers 400 (point 6) -----------------------------------------------------


@pytest.mark.django_db
def test_it_answers_400_to_every_refused_account_form(client, applicant):
    assert client.post(reverse("accounts:signup"), {}).status_code == 400
    assert client.post(reverse("accounts:login"), {"username": applicant.identifier,
                                                   "password": "wrong"}).status_code == 400
    assert client.post(reverse("accounts:password_reset"), {"email": "x"}).status_code == 400
    client.force_login(applicant)
    assert client.post(reverse("accounts:password_change"), {}).status_code == 400
    assert client.post(reverse("accounts:profile"), {}).status_code == 400


@pytest.mark.django_db
def test_it_answers_400_to_a_refused_query_and_200_to_an_answer(client, applicant):
    client.force_login(applicant)
    assert client.get(reverse("permits:query"), {"document_type": "MK",
                                                 "date_from": "115/13/40"}).status_code == 400
    assert client.get(reverse("permits:query"), {"document_type": "MK",
                                                 "number": "X"}).status_code == 200
    assert client.get(reverse("permits:query")).status_code == 200
    assert client.get(reverse("permits:verify"), {"no": "P" * 15,
                                                  "code": "X"}).status_code == 400
    assert client.get(reverse("permits:verify"), {"no": "PMK11500000001",
                                                  "code": "ZZZZZZZZ"}).status_code == 200
    assert client.get(reverse("reconciliation:query"), {"number": "A" * 15}).status_code == 400
    assert client.get(reverse("reconciliation:query"),
                      {"number": "ZZ11500000009B"}).status_code == 200


@pytest.mark.django_db
def test_it_reads_an_identifier_typed_in_full_width_on_sign_up_and_login(client):
    response = client.post(reverse("accounts:signup"), {**SIGNUP, "identifier": "２２０９９１３１"})
    assert response.status_code == 302
    assert User.objects.get().identifier == "22099131"
    client.logout()
    response = client.post(reverse("accounts:login"), {
        "username": "２２０９９１３１", "password": SIGNUP["password1"]})
    assert response.status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize("note", ["\x00", "補件\x1b", "x" * 2001])
def test_it_refuses_a_bad_note_with_a_resubmission(client, make_case, applicant, reviewer,
                                                   note):
    from permits.models import Status

    case = make_case(applicant, status=Status.SUPPLEMENT, reviewer=reviewer)
    client.force_login(applicant)
    response = client.post(reverse("permits:application_resubmit", args=[case.pk]),
                           {"note": note}, follow=True)
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    case.refresh_from_db()
    assert case.status == Status.SUPPLEMENT


@pytest.mark.django_db
def test_it_keeps_a_resubmission_note_by_the_text_rule(client, make_case, applicant,
                                                       reviewer):
    from permits.models import Status

    case = make_case(applicant, status=Status.SUPPLEMENT, reviewer=reviewer)
    client.force_login(applicant)
    client.post(reverse("permits:application_resubmit", args=[case.pk]),
                {"note": "已補\u202e件\r\n第二行"})
    case.refresh_from_db()
    assert case.status == Status.INITIAL_REVIEW
    assert case.status_changes.order_by("-pk").first().note == "已補件\n第二行"
