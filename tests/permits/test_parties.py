"""Parties of a case (SHTC-15): 買方, 收貨人 and 最終使用者 in English, the Traditional Chinese
name of a mainland-China end user, 同買方資料 copied by the server, and the case page
showing them."""

import pytest
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.template.loader import render_to_string
from django.urls import reverse

from permits import parties
from permits.models import Country, Party, PartyRole, Status
from permits.parties import (
    PartyForm,
    parties_of,
    parties_replace,
    parties_save,
    party_forms,
    party_forms_valid,
    party_rows,
)

ROLES = (PartyRole.BUYER, PartyRole.CONSIGNEE, PartyRole.END_USER)

BUYER = {"name": "Acme Trading Co., Ltd.", "address": "1 Harbour Rd, Wan Chai, Hong Kong",
         "country": "HK"}
END_USER = {"name": "Shenzhen Precision Instruments Co., Ltd.",
            "address": "88 Keji Rd, Nanshan District, Shenzhen", "country": "CN",
            "name_zh": "深圳精密儀器有限公司"}


@pytest.fixture(autouse=True)
def countries(db):
    # The reference data migration loads every country; the tests name theirs so that they
    # also run on a database built without migrations.
    for code, zh, en in [("CN", "中國大陸", "China"), ("HK", "香港", "Hong Kong"),
                         ("DE", "德國", "Germany"), ("US", "美國", "United States")]:
        Country.objects.update_or_create(code=code, defaults={"name_zh": zh, "name_en": en,
                                                              "active": True})


def post(**roles):
    """Form data as the entry page posts it: {role: {field: value}} → role-field keys."""
    data = QueryDict(mutable=True)
    for role, fields in roles.items():
        for name, value in fields.items():
            data[f"{role}-{name}"] = value
    return data


def form_for(role, **fields):
    return PartyForm(post(**{role: fields}), role=role)


def error_codes(form, field):
    form.is_valid()
    return [error.code for error in form.errors.as_data().get(field, [])]


# --- One party ------------------------------------------------------------------------------


def test_it_accepts_a_company_in_english():
    form = form_for("buyer", **BUYER)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["name"] == "Acme Trading Co., Ltd."


@pytest.mark.parametrize("name", ["O'Neil & Sons (Asia) Pte. Ltd.", "Nordic A/S",
                                  "3M Taiwan Ltd."])
def test_it_accepts_the_punctuation_of_company_names(name):
    assert form_for("buyer", **{**BUYER, "name": name}).is_valid()


@pytest.mark.parametrize("name", ["安心貿易有限公司", "Acme 貿易", "Müller GmbH", "Acme; Ltd",
                                  "Acme <b>Ltd</b>", "Компания"])
def test_it_refuses_a_name_not_in_english(name):
    assert error_codes(form_for("buyer", **{**BUYER, "name": name}), "name") == ["not_english"]


def test_it_names_the_refused_characters():
    form = form_for("buyer", **{**BUYER, "name": "Acme 貿易"})
    form.is_valid()
    assert "貿 易" in form.errors["name"][0]


def test_it_refuses_an_address_in_chinese():
    form = form_for("buyer", **{**BUYER, "address": "香港灣仔港灣道1號"})
    assert error_codes(form, "address") == ["not_english"]


def test_it_accepts_a_unit_number_in_an_address():
    assert form_for("buyer", **{**BUYER, "address": "10 Anson Rd #05-01, Singapore"}).is_valid()


def test_it_reads_full_width_letters_as_english():
    form = form_for("buyer", **{**BUYER, "name": "ＡＣＭＥ　ＣＯ．，　ＬＴＤ．"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["name"] == "ACME CO., LTD."


def test_it_refuses_a_name_of_punctuation_only():
    assert error_codes(form_for("buyer", **{**BUYER, "name": "--- ."}), "name") == ["no_letters"]


def test_it_bounds_the_name():
    assert error_codes(form_for("buyer", **{**BUYER, "name": "A" * 201}), "name") == [
        "max_length"]


def test_it_refuses_nul_bytes():
    assert error_codes(form_for("buyer", **{**BUYER, "name": "Acme\x00"}), "name") == [
        "null_characters_not_allowed"]


def test_it_refuses_an_unknown_country():
    assert error_codes(form_for("buyer", **{**BUYER, "country": "ZZ"}), "country") == [
        "invalid_choice"]


def test_it_requires_the_chinese_name_of_an_end_user_in_mainland_china():
    form = form_for("end_user", **{**END_USER, "name_zh": ""})
    assert error_codes(form, "name_zh") == ["name_zh_required"]


def test_it_accepts_an_end_user_in_mainland_china_with_its_chinese_name():
    assert form_for("end_user", **END_USER).is_valid()


def test_it_does_not_require_a_chinese_name_elsewhere():
    assert form_for("end_user", **{**END_USER, "country": "DE", "name_zh": ""}).is_valid()
    assert form_for("buyer", **{**END_USER, "name_zh": ""}).is_valid()


def test_it_refuses_a_chinese_name_in_simplified_characters():
    form = form_for("end_user", **{**END_USER, "name_zh": "深圳精密仪器有限公司"})
    assert error_codes(form, "name_zh") == ["simplified_chinese"]


def test_it_refuses_a_chinese_name_without_chinese_characters():
    form = form_for("end_user", **{**END_USER, "name_zh": "Shenzhen"})
    assert error_codes(form, "name_zh") == ["not_chinese"]


def test_it_bounds_the_chinese_name():
    form = form_for("end_user", **{**END_USER, "name_zh": "深" * 121})
    assert error_codes(form, "name_zh") == ["max_length"]


def test_it_lists_as_simplified_only_characters_traditional_chinese_lacks():
    # Big5 (and Microsoft's cp950) hold the Traditional characters used in Taiwan: a
    # character they lack is never needed in a Traditional name.
    for char in parties.SIMPLIFIED_ONLY:
        for encoding in ("big5", "cp950"):
            with pytest.raises(UnicodeEncodeError):
                char.encode(encoding)


def test_it_offers_same_as_buyer_only_to_the_consignee_and_end_user():
    assert "same_as_buyer" not in PartyForm(role="buyer").fields
    assert "same_as_buyer" in PartyForm(role="consignee").fields
    assert "same_as_buyer" in PartyForm(role="end_user").fields
    assert "same_as_buyer" not in PartyForm(role="consignee", with_buyer=False).fields


# --- The forms of a procedure -----------------------------------------------------------------


def test_it_builds_one_form_per_role_of_the_procedure():
    from permits.procedures import Procedure

    procedure = Procedure(document_type="SE", parties=(PartyRole.BUYER, PartyRole.END_USER))
    forms = party_forms(procedure)
    assert [form.role for form in forms] == [PartyRole.BUYER, PartyRole.END_USER]
    assert [form.prefix for form in forms] == ["buyer", "end_user"]


def test_it_copies_the_buyer_into_a_ticked_consignee_for_the_page():
    forms = party_forms(ROLES, data=post(buyer=BUYER, consignee={"same_as_buyer": "on"},
                                         end_user=END_USER))
    assert party_forms_valid(forms)
    consignee = forms[1]
    assert consignee["name"].value() == BUYER["name"]
    assert consignee["country"].value() == "HK"


def test_it_ignores_what_a_ticked_consignee_typed():
    data = post(buyer=BUYER, consignee={"same_as_buyer": "on", "name": "安心", "country": "ZZ"},
                end_user=END_USER)
    forms = party_forms(ROLES, data=data)
    assert party_forms_valid(forms)
    assert forms[1].party_data() == {"same_as_buyer": True}


def test_it_needs_a_valid_buyer_to_copy():
    forms = party_forms(ROLES, data=post(buyer={**BUYER, "name": "安心"},
                                         consignee={"same_as_buyer": "on"}, end_user=END_USER))
    assert not party_forms_valid(forms)
    assert error_codes(forms[0], "name") == ["not_english"]
    assert not forms[1].errors  # the buyer's mistake is reported once, on the buyer


def test_it_asks_the_buyer_for_the_chinese_name_an_end_user_copy_needs():
    forms = party_forms(ROLES, data=post(buyer={**END_USER, "name_zh": ""}, consignee=BUYER,
                                         end_user={"same_as_buyer": "on"}))
    assert not party_forms_valid(forms)
    assert error_codes(forms[0], "name_zh") == ["name_zh_required"]


def test_it_requires_every_field_of_a_party_not_copied():
    forms = party_forms(ROLES, data=post(buyer=BUYER, consignee={}, end_user=END_USER))
    assert not party_forms_valid(forms)
    assert set(forms[1].errors) == {"name", "address", "country"}


def test_it_shows_the_stored_parties(make_case, applicant):
    case = make_case(applicant)
    parties_replace(application=case, parties={"buyer": BUYER, "end_user": END_USER})
    forms = party_forms(ROLES, application=case)
    assert forms[0]["name"].value() == BUYER["name"]
    assert forms[1]["name"].value() is None
    assert forms[2]["name_zh"].value() == "深圳精密儀器有限公司"


# --- Saving -------------------------------------------------------------------------------


def save(case, **roles):
    forms = party_forms(ROLES, data=post(**roles))
    assert party_forms_valid(forms), [form.errors for form in forms]
    return parties_save(application=case, forms=forms)


@pytest.mark.django_db
def test_it_stores_one_party_per_role(make_case, applicant):
    case = make_case(applicant)
    save(case, buyer=BUYER, consignee={**BUYER, "name": "Acme Logistics Ltd."},
         end_user=END_USER)
    stored = {p.role: p for p in Party.objects.filter(application=case)}
    assert set(stored) == {"buyer", "consignee", "end_user"}
    assert stored["consignee"].name == "Acme Logistics Ltd."
    assert stored["end_user"].name_zh == "深圳精密儀器有限公司"
    assert not stored["consignee"].same_as_buyer


@pytest.mark.django_db
def test_it_stores_the_buyers_data_for_a_copy(make_case, applicant):
    case = make_case(applicant)
    save(case, buyer=BUYER, consignee={"same_as_buyer": "on", "name": "Something Else"},
         end_user=END_USER)
    consignee = Party.objects.get(application=case, role="consignee")
    assert (consignee.name, consignee.address, consignee.country, consignee.same_as_buyer) == (
        BUYER["name"], BUYER["address"], "HK", True)


@pytest.mark.django_db
def test_it_updates_the_parties_in_place(make_case, applicant):
    case = make_case(applicant)
    save(case, buyer=BUYER, consignee={"same_as_buyer": "on"}, end_user=END_USER)
    save(case, buyer={**BUYER, "name": "Acme Holdings Ltd."}, consignee={"same_as_buyer": "on"},
         end_user=END_USER)
    assert Party.objects.filter(application=case).count() == 3
    assert set(Party.objects.filter(application=case, role__in=["buyer", "consignee"])
               .values_list("name", flat=True)) == {"Acme Holdings Ltd."}


@pytest.mark.django_db
def test_it_deletes_the_roles_no_longer_used(make_case, applicant):
    case = make_case(applicant)
    save(case, buyer=BUYER, consignee={"same_as_buyer": "on"}, end_user=END_USER)
    forms = party_forms((PartyRole.BUYER,), data=post(buyer=BUYER))
    assert party_forms_valid(forms)
    parties_save(application=case, forms=forms)
    assert list(parties_of(case)) == [PartyRole.BUYER]


@pytest.mark.django_db
def test_it_changes_no_parties_after_the_draft(make_case, applicant):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    with pytest.raises(ValidationError) as error:
        parties_replace(application=case, parties={"buyer": BUYER})
    assert error.value.code == "not_draft"
    assert not Party.objects.filter(application=case).exists()


@pytest.mark.django_db
def test_it_checks_the_columns_whoever_calls(make_case, applicant):
    case = make_case(applicant)
    with pytest.raises(ValidationError):
        parties_replace(application=case, parties={"buyer": {**BUYER, "name": "A" * 201}})
    assert not Party.objects.filter(application=case).exists()


# --- Showing them -------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_lists_the_parties_for_the_case_page(make_case, applicant):
    case = make_case(applicant)
    parties_replace(application=case, parties={"end_user": END_USER, "buyer": BUYER,
                                               "consignee": {"same_as_buyer": True}})
    rows = party_rows(case)
    assert [str(heading) for heading, _fields in rows] == [
        str(PartyRole.BUYER.label), str(PartyRole.CONSIGNEE.label),
        str(PartyRole.END_USER.label)]
    end_user_values = [value for _label, value in rows[2][1]]
    assert "CN 中國大陸" in end_user_values and "深圳精密儀器有限公司" in end_user_values


def test_it_renders_a_card_per_party_with_the_script_file():
    html = render_to_string("permits/includes/parties_form.html",
                            {"party_forms": party_forms(ROLES)})
    assert html.count('data-party-role="') == 3
    assert 'name="buyer-name"' in html and 'name="end_user-name_zh"' in html
    assert "data-same-as-buyer" in html
    assert "permits/parties.js" in html
    assert "<script>" not in html  # no inline script (CSP)


@pytest.mark.django_db
def test_it_shows_the_parties_on_the_case_page(client, make_case, applicant):
    case = make_case(applicant)
    parties_replace(application=case, parties={"buyer": BUYER, "end_user": END_USER})
    client.force_login(applicant)
    response = client.get(reverse("permits:application_detail", args=[case.pk]))
    assert response.status_code == 200
    assert response.context["parties"] == party_rows(case)
    assert 'data-testid="parties"' in response.content.decode()
    assert "深圳精密儀器有限公司" in response.content.decode()


@pytest.mark.django_db
def test_it_hides_the_parties_from_another_applicant(client, make_case, applicant,
                                                     other_applicant):
    case = make_case(applicant)
    parties_replace(application=case, parties={"buyer": BUYER})
    client.force_login(other_applicant)
    response = client.get(reverse("permits:application_detail", args=[case.pk]))
    assert response.status_code == 404
