"""9-1-1 非輸往伊朗北韓-最終用途保證書登錄 (SHTC-1, SHTC-15, SHTC-16): the pages as the SHTC
manual §1.1.1.2.1 steps 2 to 5 walk them, as the exporter and as the customs broker filing
for it, each field rule with the manual's example, and 登錄並列印最終用途保證書 → 登錄中 with its
登錄編號."""

import json
import re

import pytest
from django.urls import reverse
from django.utils import translation

from permits.models import Application, Party, PartyRole, Status
from portal import menu
from shtc import rules
from shtc.models import ShtcApplication
from tests.approvals import approve
from tests.shtc.assurance import AGENT, BASIC, ITEM, enter, file, register, url

pytestmark = pytest.mark.django_db

REGISTRATION_NO_RE = re.compile(r"EEU[0-9]{3}[0-9]{8}")


def case_page(client, case):
    return client.get(reverse("permits:application_detail", args=[case.pk]))


def field_codes(response, name, form="form"):
    form = response.context[form]
    return [error.code for error in form.errors.as_data().get(name, [])]


def field_messages(response, name):
    return " ".join(response.context["form"].errors.get(name, []))


def post_item(client, draft, **changes):
    return client.post(url("item_add", draft.pk), {**ITEM, **changes})


# --- the whole flow ---------------------------------------------------------------------------


def test_it_shows_the_manuals_words_on_each_step(client, applicant):
    client.force_login(applicant)
    basic = client.get(url("basic"))
    assert basic.status_code == 200
    entry = basic.context["entry"]
    with translation.override("en"):
        assert [str(entry.buttons[key]) for key in ("next", "add_item", "confirm",
                                                     "submit")] == [
            "Next step", "Add goods item", "Confirm", "Register and print the end-use assurance"]
    assert str(entry.title).startswith("9-1-1 ")
    html = basic.content.decode()
    assert str(entry.title) in html and str(entry.buttons["next"]) in html
    # The parties of SHTC-15, in the manual's order, and the look-up beside 轉口港代碼.
    assert [form.role for form in basic.context["party_forms"]] == [
        PartyRole.BUYER, PartyRole.CONSIGNEE, PartyRole.END_USER]
    assert reverse("shtc:port_lookup") + "?field=id_transit_port" in basic.content.decode()
    draft = enter(client)
    review = client.get(url("review", draft.pk))
    assert review.status_code == 200
    assert reverse("shtc:application_item_add", args=[draft.pk]) in review.content.decode()
    assert client.get(url("item_add", draft.pk)).status_code == 200


def test_it_registers_the_case_as_the_applicant(client, applicant):
    client.force_login(applicant)
    draft = enter(client)
    assert draft.status == Status.DRAFT and draft.registration_no is None
    response = client.post(url("submit", draft.pk))
    case = Application.objects.get(pk=draft.pk)
    assert response.url == reverse("permits:application_detail", args=[case.pk])
    assert case.status == Status.REGISTERED
    assert REGISTRATION_NO_RE.fullmatch(case.registration_no)
    assert case.receipt_no is None and case.submitted_at is None  # 案件申請 comes in 9-1-2
    assert [(c.old, c.new) for c in case.status_changes.all()] == [
        (Status.DRAFT, Status.REGISTERED)]
    assert case.agent is None and case.applicant == applicant
    page = case_page(client, case)
    assert page.status_code == 200
    assert case.registration_no in page.content.decode()


def test_it_keeps_the_basic_data_parties_and_items(client, applicant):
    client.force_login(applicant)
    case = register(client)
    assert case.destination_country == "US" and case.company_email == "export@anxin.example"
    shtc = ShtcApplication.objects.get(application=case)
    assert (shtc.transit_port, shtc.partial_shipment, shtc.end_use) == ("USLAX", True, "")
    parties = {party.role: party for party in case.parties.all()}
    assert set(parties) == {PartyRole.BUYER, PartyRole.CONSIGNEE, PartyRole.END_USER}
    # 同買方資料: the consignee is the buyer's copy.
    assert parties[PartyRole.CONSIGNEE].same_as_buyer
    assert parties[PartyRole.CONSIGNEE].name == "Pacific Optics Inc."
    item = case.items.get()
    assert (item.line_no, item.control_no, item.tariff_code) == (1, "3A001.a", "85423100003")


def test_it_numbers_registrations_one_after_another(client, applicant):
    client.force_login(applicant)
    first, second = register(client), register(client)
    assert int(second.registration_no[-8:]) == int(first.registration_no[-8:]) + 1


def test_it_registers_once_when_the_button_is_clicked_twice(client, applicant):
    client.force_login(applicant)
    draft = enter(client)
    client.post(url("submit", draft.pk))
    again = client.post(url("submit", draft.pk))
    assert again.status_code == 302  # the case page: already submitted
    case = Application.objects.get(pk=draft.pk)
    assert case.status_changes.count() == 1 and case.status == Status.REGISTERED


def test_it_registers_a_case_filed_by_an_agent_that_both_see(client, agent, applicant,
                                                               other_applicant):
    client.force_login(agent)
    page = client.get(url("basic"))
    # ACC-4: the agent's identifier is preset from its account and locked.
    assert page.context["form"].fields["agent_identifier"].disabled
    assert page.context["form"]["agent_identifier"].value() == agent.identifier
    case = register(client, basic=AGENT)
    assert (case.applicant, case.agent, case.agent_identifier) == (
        applicant, agent, agent.identifier)
    assert case_page(client, case).status_code == 200
    client.force_login(applicant)
    assert case_page(client, case).status_code == 200
    client.force_login(other_applicant)
    assert case_page(client, case).status_code == 404


def test_it_locks_the_applicants_own_identifier(client, applicant):
    client.force_login(applicant)
    draft = enter(client, basic={"applicant_identifier": "12345675"})
    assert draft.applicant_identifier == applicant.identifier


def test_it_hides_the_draft_from_everybody_else(client, applicant, agent, other_applicant):
    client.force_login(applicant)
    draft = enter(client)
    for user in (agent, other_applicant):
        client.force_login(user)
        for name in ("edit", "review", "item_add"):
            assert client.get(url(name, draft.pk)).status_code == 404
        assert client.post(url("submit", draft.pk)).status_code == 404
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_it_lists_9_1_1_in_the_menu_for_applicants_and_agents(applicant, agent, reviewer):
    def labels(user):
        with translation.override("en"):
            return [(str(section), str(entry.label), entry.url)
                    for section, entries in menu.sections_for(user) for entry in entries]

    wanted = ("Strategic high-tech export permits",
              "9-1-1 Not to Iran or North Korea: end-use assurance registration / amendment / "
              "correction", reverse("shtc:application_basic"))
    assert wanted in labels(applicant) and wanted in labels(agent)
    assert wanted not in labels(reviewer)  # the bureau works in the admin (ACC-5)


def test_it_continues_a_draft_from_my_cases(applicant):
    from permits.entry import continue_url
    from permits.services import application_create

    draft = application_create(document_type="SE", applicant=applicant, actor=applicant)
    assert continue_url(draft) == url("edit", draft.pk)


# --- basic data (SHTC-15) ---------------------------------------------------------------------


@pytest.mark.parametrize("country", ["KP", "IR"])
def test_it_sends_iran_and_north_korea_to_9_2_1(client, applicant, country):
    client.force_login(applicant)
    response = client.post(url("basic"), {**BASIC, "destination_country": country})
    assert response.status_code == 400
    assert "own_procedure" in field_codes(response, "destination_country")
    assert "9-2-1" in field_messages(response, "destination_country")
    assert not Application.objects.exists() and not Party.objects.exists()


def test_it_says_the_north_korea_ban_with_its_date(client, applicant):
    client.force_login(applicant)
    response = client.post(url("basic"), {**BASIC, "destination_country": "KP"})
    assert field_codes(response, "destination_country") == ["trade_ban", "own_procedure"]
    assert "106/09/26" in field_messages(response, "destination_country")


def test_it_gives_the_basic_page_every_destinations_warnings(client, applicant):
    client.force_login(applicant)
    html = client.get(url("basic")).content.decode()
    data = re.search(r'<script id="shtc-destination-warnings" type="application/json">(.*?)'
                     r"</script>", html, re.S)
    warnings = json.loads(data.group(1))
    assert set(warnings) == {"KP", "IR", "CN", "AE"}
    assert any("106/09/26" in message for message in warnings["KP"])
    assert all("US" not in key for key in warnings)


def test_it_shows_the_business_licence_warning_for_mainland_china(client, applicant):
    client.force_login(applicant)
    draft = enter(client, basic={"destination_country": "CN", "end_user-country": "CN",
                                 "end_user-name_zh": "中華光電股份有限公司"})
    review = client.get(url("review", draft.pk))
    licence = dict(rules.destination_warnings("CN"))["business_licence"]
    assert review.context["destination_warnings"]() == [licence]
    assert 'data-testid="destination-warnings"' in review.content.decode()


def test_it_warns_of_the_reexport_approval_of_an_items_origin(client, applicant):
    client.force_login(applicant)
    draft = enter(client, basic={"destination_country": "SG", "transit_port": ""},
                  items=[{**ITEM, "origin_country": "DE"}])
    review = client.get(url("review", draft.pk))
    assert review.context["destination_warnings"]() == [rules.reexport_warning("DE", "SG")[1]]


def test_it_needs_the_chinese_name_of_a_mainland_end_user(client, applicant):
    client.force_login(applicant)
    response = client.post(url("basic"), {**BASIC, "end_user-country": "CN"})
    assert response.status_code == 400
    end_user = response.context["party_forms"][2]
    assert [e.code for e in end_user.errors.as_data()["name_zh"]] == ["name_zh_required"]
    draft = enter(client, basic={"end_user-country": "CN",
                                 "end_user-name_zh": "中華光電股份有限公司"})
    assert draft.parties.get(role=PartyRole.END_USER).name_zh == "中華光電股份有限公司"


def test_it_refuses_a_buyer_not_written_in_english(client, applicant):
    client.force_login(applicant)
    response = client.post(url("basic"), {**BASIC, "buyer-name": "太平洋光學"})
    assert response.status_code == 400
    buyer = response.context["party_forms"][0]
    assert [e.code for e in buyer.errors.as_data()["name"]] == ["not_english"]
    assert buyer["name"].value() == "太平洋光學"  # the typing is kept
    assert not Application.objects.exists()


@pytest.mark.parametrize(("typed", "code"), [("USLA", "port_format"), ("US-LA", "port_format"),
                                             ("QQLAX", "port_unknown")])
def test_it_refuses_a_transit_port_not_on_file(client, applicant, typed, code):
    client.force_login(applicant)
    response = client.post(url("basic"), {**BASIC, "transit_port": typed})
    assert response.status_code == 400
    assert field_codes(response, "transit_port") == [code]
    assert "USLAX" in field_messages(response, "transit_port") or code == "port_unknown"
    assert not Application.objects.exists()


def test_it_takes_a_transit_port_in_lower_case_or_none(client, applicant):
    client.force_login(applicant)
    assert ShtcApplication.objects.get(
        application=enter(client, basic={"transit_port": "sgsin"})).transit_port == "SGSIN"
    assert ShtcApplication.objects.get(
        application=enter(client, basic={"transit_port": ""})).transit_port == ""


def test_it_presets_the_transit_port_picked_in_the_look_up(client, applicant):
    client.force_login(applicant)
    page = client.get(url("basic"), {"transit_port": "uslax"})
    assert page.context["form"]["transit_port"].value() == "USLAX"
    # Anything not shaped as a code is ignored, not shown back.
    page = client.get(url("basic"), {"transit_port": "<script>"})
    assert not page.context["form"]["transit_port"].value()
    draft = enter(client)
    page = client.get(url("edit", draft.pk), {"transit_port": "SGSIN"})
    assert page.context["form"]["transit_port"].value() == "SGSIN"


def test_it_keeps_one_shipment_only(client, applicant):
    client.force_login(applicant)
    draft = enter(client, basic={"partial_shipment": "False"})
    assert ShtcApplication.objects.get(application=draft).partial_shipment is False
    page = client.get(url("edit", draft.pk))
    assert page.context["form"]["partial_shipment"].value() == "False"
    response = client.post(url("basic"), {**BASIC, "partial_shipment": "maybe"})
    assert field_codes(response, "partial_shipment") == ["invalid_choice"]


def test_it_changes_the_draft_on_a_second_next_step(client, applicant):
    client.force_login(applicant)
    draft = enter(client)
    client.post(url("edit", draft.pk), {**BASIC, "destination_country": "JP",
                                        "transit_port": "JPTYO", "partial_shipment": "False"})
    draft.refresh_from_db()
    shtc = ShtcApplication.objects.get(application=draft)
    assert (draft.destination_country, shtc.transit_port, shtc.partial_shipment) == (
        "JP", "JPTYO", False)
    assert Application.objects.count() == 1


# --- goods items (SHTC-16, PERMIT-9) ---------------------------------------------------------


def test_it_takes_a_goods_name_of_390_characters_and_no_more(client, applicant):
    client.force_login(applicant)
    draft = enter(client, items=())
    assert post_item(client, draft, description="A" * 390).status_code == 302
    response = post_item(client, draft, description="A" * 391)
    assert response.status_code == 400
    assert field_codes(response, "description") == ["max_length"]
    assert "390" in field_messages(response, "description")
    assert draft.items.count() == 1


def test_it_refuses_a_quantity_with_a_thousands_separator(client, applicant):
    client.force_login(applicant)
    draft = enter(client, items=())
    response = post_item(client, draft, quantity="1,005")
    assert field_codes(response, "quantity") == ["thousands_separator"]
    assert "1,005" in field_messages(response, "quantity")
    for fine in ("100.55", "600000", "0.5"):
        assert post_item(client, draft, quantity=fine).status_code == 302
    for bad, code in (("1234567890", "max_whole_digits"), ("1.12345", "max_decimal_places"),
                      (".5", "decimal_point")):
        assert field_codes(post_item(client, draft, quantity=bad), "quantity") == [code]
    assert draft.items.count() == 3


def test_it_reads_a_tariff_code_with_its_dots_and_refuses_other_dots(client, applicant):
    client.force_login(applicant)
    draft = enter(client, items=())
    assert post_item(client, draft, tariff_code="8542.31.00.00-3").status_code == 302
    assert draft.items.get().tariff_code == "85423100003"
    for bad in ("8542.3100.003", "8542310000", "854231000031", "8542.31.00.00.3"):
        response = post_item(client, draft, tariff_code=bad)
        assert field_codes(response, "tariff_code") == ["tariff_format"], bad
        assert "6307.90.50.31-1" in field_messages(response, "tariff_code")


@pytest.mark.parametrize("typed", ["5A002.a", "3B001", "5a002.A", "ML8"])
def test_it_takes_an_export_control_number_of_at_most_7_characters(client, applicant, typed):
    client.force_login(applicant)
    draft = enter(client, items=())
    assert post_item(client, draft, control_no=typed).status_code == 302
    assert draft.items.get().control_no == {"5a002.A": "5A002.a"}.get(typed, typed)


@pytest.mark.parametrize("typed", ["5A002.a1", "5A002.a.1", "5A02", "X5A002", ""])
def test_it_refuses_an_export_control_number_over_7_characters_or_ill_formed(client, applicant,
                                                                             typed):
    client.force_login(applicant)
    draft = enter(client, items=())
    response = post_item(client, draft, control_no=typed)
    assert response.status_code == 400
    assert field_codes(response, "control_no") == (["required"] if not typed
                                                   else ["control_no_format"])
    if typed:
        assert "5A002.a" in field_messages(response, "control_no")
    assert not draft.items.exists()


def test_it_needs_an_item_before_registering(client, applicant):
    client.force_login(applicant)
    draft = enter(client, items=())
    client.post(url("submit", draft.pk))
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT and draft.registration_no is None


# --- 餘額註銷證號 (SHTC-11) ---------------------------------------------------------------------


def test_it_loads_the_balance_of_a_cancelled_permit_and_registers_it(client, applicant,
                                                                     reviewer):
    from permits import changes

    client.force_login(applicant)
    case = register(client)
    # 案件申請 in 9-1-2 (tests.shtc.assurance.file); 准件結案 through the workflow.
    file(case, applicant)
    approve(case, reviewer)
    permit = Application.objects.get(pk=case.pk).issued_version.permit
    changes.permit_revoke(permit=permit, actor=applicant, reason="買方取消部分訂單，餘額重簽")
    page = client.get(url("basic"), {"balance_permit_no": permit.permit_no})
    assert page.context["reference_form"]["balance_permit_no"].value() == permit.permit_no
    response = client.post(url("basic"), {"balance_permit_no": permit.permit_no,
                                          "load_reference": "1"})
    draft = Application.objects.get(kind="balance_reissue")
    assert response.url == url("edit", draft.pk)
    # The case's own data came along: 轉口港代碼, 分批, the parties and the items.
    shtc = ShtcApplication.objects.get(application=draft)
    assert (shtc.transit_port, shtc.partial_shipment) == ("USLAX", True)
    assert draft.parties.count() == 3 and draft.items.get().control_no == "3A001.a"
    # The steps name the cancelled permit; no item can be added to its balance.
    assert permit.permit_no in client.get(url("review", draft.pk)).context["header"]
    assert client.get(url("item_add", draft.pk)).status_code == 404
    response = client.post(url("submit", draft.pk))
    draft.refresh_from_db()
    assert draft.status == Status.REGISTERED
    assert REGISTRATION_NO_RE.fullmatch(draft.registration_no)


def test_it_answers_an_unknown_or_anothers_permit_number_alike(client, applicant,
                                                                other_applicant):
    client.force_login(other_applicant)
    response = client.post(url("basic"), {"balance_permit_no": "PSE11599999999",
                                          "load_reference": "1"})
    assert response.status_code == 400
    assert [e.code for e in response.context["reference_form"].errors.as_data()[
        "balance_permit_no"]] == ["not_found"]


def test_it_issues_a_one_shipment_case_without_partial_shipments(client, applicant, reviewer):

    client.force_login(applicant)
    case = register(client, basic={"partial_shipment": "False"})
    page = case_page(client, case)
    assert [row["code"] for row in page.context["procedure_rows"]] == [
        "transit-port", "partial-shipment"]
    file(case, applicant)
    approve(case, reviewer)
    version = Application.objects.get(pk=case.pk).issued_version
    assert version.partial_shipment is False
    # The permit says it now; the case page does not repeat it.
    rows = case_page(client, case).context["procedure_rows"]
    assert [row["code"] for row in rows] == ["transit-port", "end-use"]  # 9-1-2's end use
