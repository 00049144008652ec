"""輸入許可申請 step by step (MASK-1, MASK-2, PERMIT-6, ACC-4): basic data → 下一步 → 新增貨品明細
→ 確認. From the first 下一步 the case is a draft (暫存) in the case tables: it survives the
session and is the draft that 匯入暫存資料 brings back; nothing is filed before 申請."""

from decimal import Decimal

import pytest

from permits.models import Application, Status
from tests.masks.conftest import AGENT, BASIC, MEDICAL, NON_MEDICAL, item

pytestmark = pytest.mark.django_db


def draft():
    return Application.objects.get(status=Status.DRAFT)


def next_step(client, url, **data):
    """下一步 on a new case, or on the draft being entered if there is one."""
    current = Application.objects.filter(status=Status.DRAFT).first()
    target = url("masks:application_edit", current.pk) if current else \
        url("masks:application_basic")
    return client.post(target, {**BASIC, **data})


def add_item(client, url, **fields):
    return client.post(url("masks:application_item_add", draft().pk), item(**fields))


def items(*fields):
    return list(draft().items.order_by("line_no").values(*fields))


def test_it_presets_the_applicants_own_data(client, url, applicant):
    client.force_login(applicant)
    form = client.get(url("masks:application_basic")).context["form"]
    assert form["applicant_identifier"].value() == applicant.identifier
    assert form.fields["applicant_identifier"].disabled
    assert form["company_email"].value() == applicant.email


def test_it_keeps_the_applicant_identifier_locked(client, url, applicant, other_applicant):
    client.force_login(applicant)
    response = next_step(client, url, applicant_identifier=other_applicant.identifier)
    assert response.status_code == 302
    assert draft().applicant_identifier == applicant.identifier
    assert draft().applicant == applicant


def test_it_shows_the_basic_data_back_after_next_step(client, url, applicant):
    client.force_login(applicant)
    response = next_step(client, url)
    assert response.url == url("masks:application_review", draft().pk)
    page = client.get(response.url)
    assert ("申請公司 E-mail", BASIC["company_email"]) in [
        (str(label), value) for label, value in page.context["basic_rows"]]
    assert page.context["items"] == []


def test_it_saves_the_draft_on_next_step_and_files_nothing(client, url, applicant):
    client.force_login(applicant)
    next_step(client, url)
    saved = Application.objects.get(applicant=applicant, document_type="MK")
    assert saved.status == Status.DRAFT and saved.receipt_no is None
    assert saved.company_email == BASIC["company_email"] and not saved.items.exists()
    assert saved.mask.route == "postal"
    assert not saved.status_changes.exists()


def test_it_updates_the_same_draft_on_a_second_next_step(client, url, applicant):
    client.force_login(applicant)
    next_step(client, url)
    next_step(client, url, contact_person="李大華")
    assert draft().contact_person == "李大華"
    assert Application.objects.count() == 1


def test_it_creates_one_draft_for_a_double_clicked_first_next_step(client, url, applicant):
    client.force_login(applicant)
    for _ in range(2):
        client.post(url("masks:application_basic"), {**BASIC, "client_token": "t-1"})
    assert Application.objects.count() == 1


def test_it_requires_the_import_situation(client, url, applicant):
    client.force_login(applicant)
    response = next_step(client, url, route="")
    assert response.status_code == 400
    assert response.context["form"].errors.as_data()["route"][0].code == "required"


def test_it_gives_404_for_the_items_of_a_case_not_started(client, url, applicant):
    client.force_login(applicant)
    assert client.get(url("masks:application_item_add", 9999)).status_code == 404


def test_it_adds_a_goods_item_on_confirm_and_saves_the_draft(client, url, applicant):
    client.force_login(applicant)
    next_step(client, url)
    # A fraction in a unit other than pieces (masks in PCE are whole: see below).
    response = add_item(client, url, quantity="100.55", unit="KGM")
    assert response.url == url("masks:application_review", draft().pk)
    [saved] = draft().items.all()
    assert saved.line_no == 1
    assert str(saved.quantity.normalize()) == "100.55" and saved.amount == Decimal("502.75")
    assert saved.tariff_code == MEDICAL and saved.category == "medical"
    assert draft().receipt_no is None


def test_it_adds_more_items_in_order(client, url, applicant):
    client.force_login(applicant)
    next_step(client, url)
    add_item(client, url)
    add_item(client, url, category="non_medical", quantity="600000")
    rows = client.get(url("masks:application_review", draft().pk)).context["items"]
    assert [(i.line_no, i.tariff_code) for i in rows] == [(1, MEDICAL), (2, NON_MEDICAL)]


def test_it_names_the_goods_after_the_tariff_code_when_left_empty(client, url, applicant):
    client.force_login(applicant)
    next_step(client, url)
    add_item(client, url, description="")
    assert items("description") == [{"description": "紡織材料製醫用口罩"}]


def test_it_changes_an_item_opened_by_its_number(client, url, applicant):
    client.force_login(applicant)
    next_step(client, url)
    add_item(client, url)
    client.post(url("masks:application_item", draft().pk, 1), item(origin_country="CN"))
    assert items("origin_country", "line_no") == [{"origin_country": "CN", "line_no": 1}]


def test_it_deletes_an_item(client, url, applicant):
    client.force_login(applicant)
    next_step(client, url)
    add_item(client, url)
    add_item(client, url, quantity="7")
    add_item(client, url, quantity="8")
    client.post(url("masks:application_item_delete", draft().pk, 1))
    assert items("line_no", "quantity") == [{"line_no": 1, "quantity": Decimal(7)},
                                            {"line_no": 2, "quantity": Decimal(8)}]


def test_it_gives_404_for_an_item_number_not_entered(client, url, applicant):
    client.force_login(applicant)
    next_step(client, url)
    assert client.get(url("masks:application_item", draft().pk, 1)).status_code == 404


@pytest.mark.parametrize(("quantity", "code"), [
    ("1,000", "thousands_separator"),
    ("1234567890", "max_whole_digits"),
    ("1.12345", "max_decimal_places"),
    ("-5", "not_positive"),
    ("0", "not_positive"),
    (".5", "decimal_point"),
])
def test_it_refuses_a_bad_quantity(client, url, applicant, quantity, code):
    client.force_login(applicant)
    next_step(client, url)
    response = add_item(client, url, quantity=quantity)
    assert response.status_code == 400
    assert response.context["form"].errors.as_data()["quantity"][0].code == code
    assert response.context["form"]["quantity"].value() == quantity  # the typing is kept
    assert items("pk") == []


def test_it_refuses_a_tariff_code_of_the_other_category(client, url, applicant):
    client.force_login(applicant)
    next_step(client, url)
    response = add_item(client, url, category="non_medical", tariff_code=MEDICAL)
    assert response.context["form"].errors.as_data()["tariff_code"][0].code == \
        "category_mismatch"


def test_it_refuses_a_retired_tariff_code(client, url, applicant):
    from masks.models import MaskCode

    MaskCode.objects.filter(tariff_code=NON_MEDICAL).update(active=False)
    client.force_login(applicant)
    next_step(client, url)
    response = add_item(client, url, category="non_medical")
    assert response.context["form"].errors.as_data()["tariff_code"][0].code == \
        "invalid_choice"


def test_it_brings_back_the_draft_with_its_items(client, url, applicant):
    client.force_login(applicant)
    next_step(client, url, contact_person="李大華")
    add_item(client, url)
    client.logout()  # ACC-3: the session ends; the draft stays
    client.force_login(applicant)
    response = client.post(url("masks:application_basic"), {"draft_action": "import_draft"},
                           follow=True)
    assert response.context["form"].initial["contact_person"] == "李大華"
    next_step(client, url, contact_person="李大華")
    assert len(items("pk")) == 1
    assert Application.objects.count() == 1


def test_it_brings_back_the_last_draft_of_the_user_only(client, url, applicant,
                                                        other_applicant):
    client.force_login(other_applicant)
    next_step(client, url, contact_person="別人")
    client.force_login(applicant)
    response = client.post(url("masks:application_basic"), {"draft_action": "import_draft"})
    assert response.status_code == 200 and not response.context["form"].is_bound
    assert response.context["form"].initial["contact_person"] == applicant.contact_person


def test_it_lists_the_draft_in_my_cases_with_a_way_to_continue(client, url, applicant):
    client.force_login(applicant)
    next_step(client, url)
    page = client.get(url("permits:dashboard"))
    assert url("masks:application_edit", draft().pk) in page.content.decode()


def test_it_gives_404_for_another_users_draft(client, url, applicant, other_applicant):
    client.force_login(other_applicant)
    next_step(client, url)
    pk = draft().pk
    client.force_login(applicant)
    for name in ("masks:application_edit", "masks:application_review",
                 "masks:application_item_add"):
        assert client.get(url(name, pk)).status_code == 404
    assert client.post(url("masks:application_submit", pk)).status_code == 404
    assert client.post(url("masks:application_item_delete", pk, 1)).status_code == 404


def test_it_resets_the_form_to_the_initial_values(client, url, applicant):
    client.force_login(applicant)
    response = client.post(url("masks:application_basic"),
                           {**BASIC, "contact_person": "打錯", "draft_action": "reset"})
    form = response.context["form"]
    assert not form.is_bound and form.initial["contact_person"] == applicant.contact_person


def test_it_keeps_bureau_staff_out(client, url, reviewer):
    client.force_login(reviewer)
    assert client.get(url("masks:application_basic")).status_code == 403


def test_it_sends_an_anonymous_visitor_to_the_login(client, url):
    response = client.get(url("masks:application_basic"))
    assert response.status_code == 302 and "/accounts/login/" in response.url


# --- An agent files for an applicant (ACC-4) --------------------------------------------------


def test_it_shows_the_agent_its_own_data_from_the_account(client, url, agent):
    client.force_login(agent)
    response = client.get(url("masks:application_basic"))
    form = response.context["form"]
    assert not form.fields["applicant_identifier"].disabled
    assert form["applicant_identifier"].value() in (None, "")
    assert form.fields["agent_identifier"].disabled
    assert form["agent_identifier"].value() == agent.identifier
    assert form["agent_contact_person"].value() == agent.contact_person


def test_it_takes_the_applicant_an_agent_names_by_identifier(client, url, agent, applicant):
    client.force_login(agent)
    response = next_step(client, url, applicant_identifier=f" {applicant.identifier} ",
                         agent_contact_person="林小姐", agent_phone="03-398-1111",
                         agent_email="lin@shunda.example")
    assert response.status_code == 302
    saved = draft()
    assert saved.applicant_identifier == applicant.identifier and saved.applicant == applicant
    assert saved.agent == agent and saved.agent_identifier == agent.identifier
    # The agent's own contact data are the case's, as typed (the mask manual).
    assert (saved.agent_contact_person, saved.agent_email) == ("林小姐", "lin@shunda.example")


@pytest.mark.parametrize("identifier", ["00501508", "04595252"])  # no account; an agent
def test_it_refuses_an_applicant_without_an_applicant_account(client, url, agent, identifier):
    client.force_login(agent)
    response = next_step(client, url, applicant_identifier=identifier)
    assert response.status_code == 400
    assert response.context["form"].errors.as_data()["applicant_identifier"][0].code == \
        "unknown_applicant"
    assert not Application.objects.exists()


# --- An applicant identifier with a wrong check digit (point 19 of issue 9) -----------------


@pytest.mark.parametrize(("identifier", "code"), [
    ("22099132", "ban_checksum"),  # 22099131 with its last digit wrong
    ("a123456788", "national_id_checksum"),
])
def test_it_says_when_the_applicant_identifier_fails_its_check_digit(client, url, agent,
                                                                    identifier, code):
    client.force_login(agent)
    response = next_step(client, url, applicant_identifier=identifier)
    assert response.status_code == 400
    assert [e.code for e in response.context["form"].errors.as_data()[
        "applicant_identifier"]] == [code]
    assert response.context["form"]["applicant_identifier"].value() == identifier
    assert not Application.objects.exists()


@pytest.mark.parametrize("identifier", ["00501508", "A223456781", "X12345678"])
def test_it_keeps_saying_no_account_of_a_valid_unknown_identifier(client, url, agent,
                                                                  identifier):
    client.force_login(agent)
    response = next_step(client, url, applicant_identifier=identifier)
    assert [e.code for e in response.context["form"].errors.as_data()[
        "applicant_identifier"]] == ["unknown_applicant"]


def test_it_takes_a_passport_account_that_looks_like_a_bad_ban(client, url, agent, make_user):
    from portal.accounts.models import IdentifierType

    holder = make_user("22099132", identifier_type=IdentifierType.PASSPORT)
    client.force_login(agent)
    assert next_step(client, url, applicant_identifier="22099132", **AGENT).status_code == 302
    assert draft().applicant == holder


def test_it_reads_an_identifier_typed_in_full_width(client, url, agent, applicant):
    client.force_login(agent)
    assert next_step(client, url, applicant_identifier="２２０９９１３１",
                     **AGENT).status_code == 302
    assert draft().applicant == applicant


# --- E-mail addresses of at most 254 characters (point 3) -----------------------------------


def email_of_length(length):
    """A well-formed address of exactly `length` characters (labels of at most 63)."""
    domain = ".".join(["d" * 63] * 3) + ".tw"
    return "m" * (length - 1 - len(domain)) + "@" + domain


def field_error_codes(response, name):
    return [e.code for e in response.context["form"].errors.as_data().get(name, [])]


def test_it_refuses_a_company_email_of_255_characters(client, url, applicant):
    client.force_login(applicant)
    response = next_step(client, url, company_email=email_of_length(255))
    assert response.status_code == 400
    assert field_error_codes(response, "company_email") == ["max_length"]
    assert not Application.objects.exists()
    assert next_step(client, url, company_email=email_of_length(254)).status_code == 302
    assert draft().company_email == email_of_length(254)


def test_it_refuses_an_agent_email_of_255_characters(client, url, agent, applicant):
    client.force_login(agent)
    response = next_step(client, url, applicant_identifier=applicant.identifier,
                         agent_contact_person="林小姐", agent_phone="03-398-1111",
                         agent_email=email_of_length(255))
    assert response.status_code == 400
    assert field_error_codes(response, "agent_email") == ["max_length"]
    assert not Application.objects.exists()


def test_it_checks_the_email_again_at_apply(client, url, applicant):
    """申請 checks every step again: a draft holding an address the form would refuse (saved
    before a rule changed, or by another client) is refused on its basic page, with the
    message next to the field, not a 500."""
    client.force_login(applicant)
    next_step(client, url)
    add_item(client, url)
    Application.objects.filter(pk=draft().pk).update(company_email="no-at-sign.example")
    response = client.post(url("masks:application_submit", draft().pk))
    assert response.status_code == 400
    assert field_error_codes(response, "company_email") == ["invalid"]
    assert draft().receipt_no is None


def correction_draft(applicant, make_mask_permit):
    from masks import entry
    from permits import entry as permit_entry

    version = make_mask_permit(applicant).current
    return permit_entry.draft_from(entry=entry.CORRECTION, actor=applicant,
                                   source=version.application, kind="correction",
                                   changes=version, change_description="更正 E-mail")


def test_it_refuses_an_email_of_255_characters_in_a_correction(client, url, applicant,
                                                              make_mask_permit):
    correction = correction_draft(applicant, make_mask_permit)
    client.force_login(applicant)
    response = client.post(url("masks:correction_edit", correction.pk), {
        "applicant_name_en": "", "contact_phone": "02-1234-5678",
        "company_email": email_of_length(255)})
    assert response.status_code == 400
    assert field_error_codes(response, "company_email") == ["max_length"]
    correction.refresh_from_db()
    assert correction.company_email == BASIC["company_email"]


def test_it_checks_the_email_of_a_correction_again_at_apply(client, url, applicant,
                                                            make_mask_permit):
    correction = correction_draft(applicant, make_mask_permit)
    Application.objects.filter(pk=correction.pk).update(company_email="no-at-sign.example")
    client.force_login(applicant)
    response = client.post(url("masks:correction_submit", correction.pk))
    assert response.status_code == 400
    assert field_error_codes(response, "company_email") == ["invalid"]
    assert Application.objects.get(pk=correction.pk).status == Status.DRAFT


# --- Masks in whole pieces (point 4) ----------------------------------------------------------


@pytest.mark.parametrize("quantity", ["0.5", "100.25", "1.12345"])
def test_it_refuses_part_of_a_mask_in_pieces(client, url, applicant, quantity):
    client.force_login(applicant)
    next_step(client, url)
    response = add_item(client, url, quantity=quantity)
    assert response.status_code == 400
    assert field_error_codes(response, "quantity") in (["whole_pieces"],
                                                       ["max_decimal_places"])
    assert field_error_codes(response, "quantity")[0] == (
        "max_decimal_places" if quantity == "1.12345" else "whole_pieces")
    assert items("pk") == []


def test_it_takes_a_fraction_in_another_unit(client, url, applicant):
    client.force_login(applicant)
    next_step(client, url)
    assert add_item(client, url, quantity="12.5", unit="KGM").status_code == 302
    assert items("quantity", "unit") == [{"quantity": Decimal("12.5"), "unit": "KGM"}]


def test_it_takes_whole_pieces_typed_with_a_point_or_in_full_width(client, url, applicant):
    client.force_login(applicant)
    next_step(client, url)
    assert add_item(client, url, quantity="100.0").status_code == 302
    assert add_item(client, url, quantity="１００", unit="ｐｃｅ").status_code == 302
    assert items("quantity", "unit") == [{"quantity": Decimal(100), "unit": "PCE"}] * 2


def test_it_refuses_part_of_a_mask_in_a_correction(client, url, applicant, make_mask_permit):
    correction = correction_draft(applicant, make_mask_permit)
    client.force_login(applicant)
    response = client.post(url("masks:correction_item", correction.pk, 1), {
        "category": "medical", "tariff_code": MEDICAL, "quantity": "80.5", "unit_price": "5",
        "currency": "TWD", "origin_country": "US"})
    assert response.status_code == 400
    assert field_error_codes(response, "quantity") == ["whole_pieces"]


# --- The text rule on the basic data (point 5) -----------------------------------------------


def test_it_drops_direction_overrides_from_what_it_keeps(client, url, applicant):
    client.force_login(applicant)
    response = next_step(client, url, applicant_name="安心\u202e醫材\u202c股份有限公司\u200b",
                         applicant_address="臺北市\u2066中正區\u2069")
    assert response.status_code == 302
    assert (draft().applicant_name, draft().applicant_address) == ("安心醫材股份有限公司",
                                                                   "臺北市中正區")


@pytest.mark.parametrize("name", ["\u202e", "\u200b\u200b", " \u3000 ", "\u2066\u2069",
                                  "\ufeff"])
def test_it_counts_a_name_of_invisible_characters_as_empty(client, url, applicant, name):
    client.force_login(applicant)
    response = next_step(client, url, applicant_name=name)
    assert response.status_code == 400
    assert field_error_codes(response, "applicant_name") == ["required"]
    assert not Application.objects.exists()


@pytest.mark.parametrize(("field", "value", "code"), [
    ("applicant_name", "安心\x00醫材", "null_characters_not_allowed"),
    ("applicant_name", "安心\x07醫材", "control_characters"),
    ("route", "postal\x00", "null_characters_not_allowed"),
    ("company_email", "a\x00@b.tw", "null_characters_not_allowed"),
])
def test_it_refuses_control_characters_with_a_message(client, url, applicant, field, value,
                                                      code):
    client.force_login(applicant)
    response = next_step(client, url, **{field: value})
    assert response.status_code == 400
    assert field_error_codes(response, field) == [code]
    assert not Application.objects.exists()


def test_it_refuses_a_nul_byte_in_an_item_field_of_any_kind(client, url, applicant):
    client.force_login(applicant)
    next_step(client, url)
    response = add_item(client, url, currency="TWD\x00", origin_country="\x00",
                        quantity="1\x00", category="medical\x00", description="口罩\x00")
    assert response.status_code == 400
    for name in ("currency", "origin_country", "quantity", "category", "description"):
        assert field_error_codes(response, name) == ["null_characters_not_allowed"], name
    assert items("pk") == []
