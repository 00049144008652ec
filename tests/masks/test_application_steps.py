"""輸入許可申請 step by step (MASK-1, MASK-2, PERMIT-6, ACC-4): basic data → 下一步 → 新增貨品明細
→ 確認. Nothing reaches the case tables before 申請: the case lives in the session, and the
draft keeps a copy."""

import pytest

from permits.models import Application, Draft
from tests.masks.conftest import BASIC, MEDICAL, NON_MEDICAL, item

pytestmark = pytest.mark.django_db


def next_step(client, url, **data):
    return client.post(url("masks:application_basic"), {**BASIC, **data})


def add_item(client, url, **fields):
    return client.post(url("masks:application_item_add"), item(**fields))


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
    basic = client.session["masks.application"]["basic"]
    assert basic["applicant_identifier"] == applicant.identifier


def test_it_shows_the_basic_data_back_after_next_step(client, url, applicant):
    client.force_login(applicant)
    response = next_step(client, url)
    assert response.url == url("masks:application_review")
    page = client.get(response.url)
    assert ("申請公司 E-mail", BASIC["company_email"]) in [
        (str(label), value) for label, value in page.context["basic_rows"]]
    assert page.context["items"] == []


def test_it_saves_the_draft_on_next_step_and_writes_no_case(client, url, applicant):
    client.force_login(applicant)
    next_step(client, url)
    draft = Draft.objects.get(user=applicant, document_type="MK").data
    assert draft["company_email"] == BASIC["company_email"] and draft["items"] == []
    assert not Application.objects.exists()


def test_it_requires_the_import_situation(client, url, applicant):
    client.force_login(applicant)
    response = next_step(client, url, route="")
    assert response.status_code == 200
    assert response.context["form"].errors.as_data()["route"][0].code == "required"


def test_it_sends_the_basic_page_before_the_items(client, url, applicant):
    client.force_login(applicant)
    response = client.get(url("masks:application_item_add"))
    assert response.url == url("masks:application_basic")


def test_it_adds_a_goods_item_on_confirm_and_saves_the_draft(client, url, applicant):
    client.force_login(applicant)
    next_step(client, url)
    response = add_item(client, url, quantity="100.55")
    assert response.url == url("masks:application_review")
    [saved] = client.session["masks.application"]["items"]
    assert saved["quantity"] == "100.55" and saved["amount"] == "502.75"
    assert saved["tariff_code"] == MEDICAL and saved["category"] == "medical"
    assert Draft.objects.get(user=applicant).data["items"] == [saved]
    assert not Application.objects.exists()


def test_it_adds_more_items_in_order(client, url, applicant):
    client.force_login(applicant)
    next_step(client, url)
    add_item(client, url)
    add_item(client, url, category="non_medical", quantity="600000")
    items = client.get(url("masks:application_review")).context["items"]
    assert [(i["line_no"], i["tariff_code"]) for i in items] == [(1, MEDICAL),
                                                                 (2, NON_MEDICAL)]


def test_it_names_the_goods_after_the_tariff_code_when_left_empty(client, url, applicant):
    client.force_login(applicant)
    next_step(client, url)
    add_item(client, url, description="")
    [saved] = client.session["masks.application"]["items"]
    assert saved["description"] == "紡織材料製醫用口罩"


def test_it_changes_an_item_opened_by_its_number(client, url, applicant):
    client.force_login(applicant)
    next_step(client, url)
    add_item(client, url)
    client.post(url("masks:application_item", 1), item(origin_country="CN"))
    [saved] = client.session["masks.application"]["items"]
    assert saved["origin_country"] == "CN"


def test_it_deletes_an_item(client, url, applicant):
    client.force_login(applicant)
    next_step(client, url)
    add_item(client, url)
    add_item(client, url, quantity="7")
    client.post(url("masks:application_item_delete", 1))
    assert [i["quantity"] for i in client.session["masks.application"]["items"]] == ["7"]


def test_it_gives_404_for_an_item_number_not_entered(client, url, applicant):
    client.force_login(applicant)
    next_step(client, url)
    assert client.get(url("masks:application_item", 1)).status_code == 404


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
    assert response.status_code == 200
    assert response.context["form"].errors.as_data()["quantity"][0].code == code
    assert client.session["masks.application"]["items"] == []


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
    response = client.post(url("masks:application_basic"), {"draft_action": "import_draft"})
    assert response.context["form"].initial["contact_person"] == "李大華"
    next_step(client, url, contact_person="李大華")
    assert len(client.session["masks.application"]["items"]) == 1


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
    assert (agent.identifier in [value for _label, value in response.context["agent_rows"]])


def test_it_takes_the_applicant_an_agent_names_by_identifier(client, url, agent, applicant):
    client.force_login(agent)
    response = next_step(client, url, applicant_identifier=f" {applicant.identifier} ")
    assert response.status_code == 302
    assert client.session["masks.application"]["basic"]["applicant_identifier"] == \
        applicant.identifier


@pytest.mark.parametrize("identifier", ["00501508", "04595252"])  # no account; an agent
def test_it_refuses_an_applicant_without_an_applicant_account(client, url, agent, identifier):
    client.force_login(agent)
    response = next_step(client, url, applicant_identifier=identifier)
    assert response.status_code == 200
    assert response.context["form"].errors.as_data()["applicant_identifier"][0].code == \
        "unknown_applicant"
