"""非報單輸入口罩核銷 (MASK-5): 新增核銷 → 確認 → 核銷完成, on the reconciliation ledger;
per category never more than the permit allows, also when two write-offs race."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum

from masks import services
from masks.models import WriteOff
from permits.models import Permit
from reconciliation import ledger
from reconciliation.models import LedgerEntry
from tests import services as test_services
from tests.masks.conftest import item

pytestmark = pytest.mark.django_db

D = Decimal
# Items 1 and 3 medical (100 + 40), item 2 non-medical (200).
ITEMS = [item(quantity="100"), item("non_medical", quantity="200"), item(quantity="40")]


@pytest.fixture
def permit(make_mask_permit, applicant):
    return make_mask_permit(applicant, items=[dict(i) for i in ITEMS])


def record(permit, actor, medical="0", non_medical="0", route="postal", **kwargs):
    return services.write_off_record(actor=actor, permit=permit, route=route,
                                     medical_quantity=D(medical),
                                     non_medical_quantity=D(non_medical), **kwargs)


def entries(permit):
    return dict(LedgerEntry.objects.filter(permit=permit).values_list("line_no")
                .annotate(total=Sum("quantity")))


def codes(error):
    return sorted(e.code for e in error.value.error_list) if hasattr(
        error.value, "error_list") else sorted(
        e.code for errors in error.value.error_dict.values() for e in errors)


# --- The service ------------------------------------------------------------------------------


def test_it_writes_each_category_off_its_items_in_line_order(permit, applicant):
    write_off = record(permit, applicant, medical="120", non_medical="50")
    assert entries(permit) == {1: D(100), 2: D(50), 3: D(20)}
    assert set(LedgerEntry.objects.values_list("kind", "reference")) == {
        (LedgerEntry.Kind.WRITE_OFF, write_off.reference)}
    assert ledger.balances(permit) == {1: D(0), 2: D(150), 3: D(20)}


def test_it_refuses_more_than_a_category_has_left_and_writes_nothing(permit, applicant):
    record(permit, applicant, medical="100")
    with pytest.raises(ValidationError) as error:
        record(permit, applicant, medical="40.0001", non_medical="10")
    assert list(error.value.error_dict) == ["medical"]
    assert codes(error) == ["over_permit"]
    assert entries(permit) == {1: D(100)}
    assert WriteOff.objects.count() == 1


def test_it_takes_a_category_up_to_its_last_piece(permit, applicant):
    record(permit, applicant, medical="140", non_medical="200")
    assert all(balance == 0 for balance in ledger.balances(permit).values())


def test_it_refuses_a_permit_imported_through_a_declaration(make_mask_permit, applicant):
    permit = make_mask_permit(applicant, route="declaration")
    with pytest.raises(ValidationError) as error:
        record(permit, applicant, medical="1", route="postal")
    assert codes(error) == ["declaration_route"]


def test_it_refuses_another_import_situation_than_the_permits(permit, applicant):
    with pytest.raises(ValidationError) as error:
        record(permit, applicant, medical="1", route="passenger")
    assert codes(error) == ["route_mismatch"]
    assert not LedgerEntry.objects.exists()


def test_it_refuses_a_cancelled_permit(permit, applicant):
    from django.utils import timezone

    Permit.objects.filter(pk=permit.pk).update(revoked_at=timezone.now())
    with pytest.raises(ValidationError) as error:
        record(Permit.objects.get(pk=permit.pk), applicant, medical="1")
    assert codes(error) == ["revoked"]


def test_it_records_a_repeated_write_off_once(permit, applicant):
    first = record(permit, applicant, medical="10", client_token="t")
    second = record(permit, applicant, medical="10", client_token="t")
    assert first.pk == second.pk and entries(permit) == {1: D(10)}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_lets_only_one_of_two_racing_write_offs_through(make_mask_permit, applicant):
    """Two write-offs of 80 medical masks each against the 140 the permit allows: one is
    recorded, the other refused; never 160."""
    test_services.require_postgres()
    permit = make_mask_permit(applicant, items=[dict(i) for i in ITEMS])

    def attempt():
        try:
            record(permit, applicant, medical="80")
        except ValidationError as error:
            return sorted(e.code for errors in getattr(error, "error_dict", {}).values()
                          for e in errors) or [e.code for e in error.error_list]
        return "recorded"

    results = test_services.run_concurrently(attempt, attempt)
    assert sorted(map(str, results)) == ["['over_permit']", "recorded"]
    assert sum(entries(permit).values()) == D(80)
    assert WriteOff.objects.count() == 1


# --- The pages --------------------------------------------------------------------------------


def add(client, url, permit_no, route="postal", medical="50", non_medical="100"):
    return client.post(url("masks:write_off_add"), {
        "route": route, "permit_no": permit_no, "medical_quantity": medical,
        "non_medical_quantity": non_medical})


def field_codes(response, name):
    return [e.code for e in response.context["form"].errors.as_data().get(name, [])]


def test_it_shows_the_write_off_to_check_before_recording_it(client, url, applicant, permit):
    client.force_login(applicant)
    response = add(client, url, permit.permit_no.lower())
    assert response.url == url("masks:write_off_confirm")
    page = client.get(response.url)
    assert page.status_code == 200
    assert [(i.line_no, q) for i, _category, q in page.context["allocation"]] == [
        (1, D(50)), (2, D(100))]
    assert not LedgerEntry.objects.exists()


def test_it_records_the_write_off_on_write_off_complete(client, url, applicant, permit):
    client.force_login(applicant)
    add(client, url, permit.permit_no)
    response = client.post(url("masks:write_off_confirm"), {"client_token": "t"})
    assert response.url == url("masks:write_off_list")
    write_off = WriteOff.objects.get()
    assert (write_off.medical_quantity, write_off.non_medical_quantity) == (D(50), D(100))
    assert entries(permit) == {1: D(50), 2: D(100)}
    assert list(client.get(response.url).context["write_offs"]) == [write_off]


def test_it_records_a_double_clicked_write_off_complete_once(client, url, applicant, permit):
    client.force_login(applicant)
    add(client, url, permit.permit_no)
    session = client.session  # both clicks carry the pending write-off
    pending = session["masks.write_off"]
    client.post(url("masks:write_off_confirm"), {"client_token": "t"})
    session = client.session
    session["masks.write_off"] = pending
    session.save()
    client.post(url("masks:write_off_confirm"), {"client_token": "t"})
    assert WriteOff.objects.count() == 1 and entries(permit) == {1: D(50), 2: D(100)}


def test_it_says_over_the_permit_next_to_the_category(client, url, applicant, permit):
    client.force_login(applicant)
    response = add(client, url, permit.permit_no, medical="140", non_medical="201")
    assert response.status_code == 400  # the portal's convention for a refused form
    assert field_codes(response, "non_medical_quantity") == ["over_permit"]
    assert field_codes(response, "medical_quantity") == []


def test_it_refuses_on_complete_what_another_write_off_used_meanwhile(client, url, applicant,
                                                                     permit):
    client.force_login(applicant)
    add(client, url, permit.permit_no, medical="100", non_medical="0")
    record(permit, applicant, medical="100")
    response = client.post(url("masks:write_off_confirm"), {"client_token": "t"})
    assert response.status_code == 400
    assert WriteOff.objects.count() == 1 and entries(permit) == {1: D(100)}


def test_it_gives_the_same_answer_for_an_unknown_and_another_users_permit(
        client, url, applicant, other_applicant, make_mask_permit):
    others = make_mask_permit(other_applicant)
    client.force_login(applicant)
    unknown = add(client, url, "PMK11500099999")
    foreign = add(client, url, others.permit_no)
    assert field_codes(unknown, "permit_no") == field_codes(foreign, "permit_no") == [
        "not_found"]
    assert str(unknown.context["form"].errors["permit_no"]) == \
        str(foreign.context["form"].errors["permit_no"])


def test_it_lets_the_agent_who_filed_write_off(client, url, agent, applicant,
                                               make_mask_permit):
    permit = make_mask_permit(applicant, actor=agent)
    client.force_login(agent)
    assert add(client, url, permit.permit_no, non_medical="0").status_code == 302


def test_it_hides_another_users_pending_permit_on_confirm(client, url, applicant,
                                                          other_applicant, permit):
    client.force_login(other_applicant)
    session = client.session
    session["masks.write_off"] = {"route": "postal", "permit_id": permit.pk,
                                  "permit_no": permit.permit_no, "medical_quantity": "1",
                                  "non_medical_quantity": None}
    session.save()
    assert client.get(url("masks:write_off_confirm")).status_code == 404
    assert client.post(url("masks:write_off_confirm")).status_code == 404
    assert not LedgerEntry.objects.exists()


def test_it_lists_only_the_write_offs_of_the_users_permits(client, url, applicant,
                                                           other_applicant, permit):
    record(permit, applicant, medical="1")
    client.force_login(other_applicant)
    assert list(client.get(url("masks:write_off_list")).context["write_offs"]) == []


@pytest.mark.parametrize(("medical", "code"), [
    ("1,000", "thousands_separator"),
    ("1234567890", "max_whole_digits"),
    ("-5", "negative"),
    ("abc", "invalid"),
])
def test_it_refuses_a_bad_quantity(client, url, applicant, permit, medical, code):
    client.force_login(applicant)
    response = add(client, url, permit.permit_no, medical=medical)
    assert field_codes(response, "medical_quantity") == [code]
    assert response.status_code == 400


@pytest.mark.parametrize("medical", ["0.5", "49.5", "1.00001"])
def test_it_refuses_part_of_a_mask(client, url, applicant, permit, medical):
    client.force_login(applicant)
    response = add(client, url, permit.permit_no, medical=medical)
    assert response.status_code == 400
    assert field_codes(response, "medical_quantity") == ["whole_pieces"]
    assert response.context["form"]["medical_quantity"].value() == medical
    assert "masks.write_off" not in client.session


def test_it_takes_numbers_typed_in_full_width(client, url, applicant, permit):
    client.force_login(applicant)
    response = add(client, url, "ｐｍｋ" + permit.permit_no[3:], medical="５０",
                   non_medical="１００．０")
    assert response.status_code == 302
    assert client.session["masks.write_off"]["medical_quantity"] == "50"
    assert client.session["masks.write_off"]["non_medical_quantity"] == "100"


@pytest.mark.parametrize("route", ["\x00", "postal\x00"])
def test_it_refuses_a_nul_byte_with_a_message(client, url, applicant, permit, route):
    client.force_login(applicant)
    response = add(client, url, permit.permit_no + "\x00", route=route)
    assert response.status_code == 400
    assert field_codes(response, "route") == ["null_characters_not_allowed"]
    assert field_codes(response, "permit_no") == ["null_characters_not_allowed"]


def test_it_shows_the_write_offs_as_plain_numbers(client, url, applicant, permit):
    record(permit, applicant, medical="50")
    client.force_login(applicant)
    add(client, url, permit.permit_no)
    for page in (client.get(url("masks:write_off_list")),
                 client.get(url("masks:write_off_confirm"))):
        assert page.status_code == 200
        assert ".0000" not in page.content.decode()


@pytest.mark.parametrize(("medical", "non_medical"), [("0", "0"), ("", ""), ("0", "")])
def test_it_needs_a_quantity_in_some_category(client, url, applicant, permit, medical,
                                              non_medical):
    client.force_login(applicant)
    response = add(client, url, permit.permit_no, medical=medical, non_medical=non_medical)
    assert [e.code for e in response.context["form"].non_field_errors().as_data()] == [
        "nothing_to_write_off"]
    assert response.status_code == 400


def test_it_offers_only_the_routes_without_a_declaration(client, url, applicant):
    client.force_login(applicant)
    form = client.get(url("masks:write_off_add")).context["form"]
    assert [value for value, _label in form.fields["route"].choices] == [
        "postal", "passenger", "other"]


def test_it_prefills_the_permit_from_the_issue_page_link(client, url, applicant, permit):
    client.force_login(applicant)
    form = client.get(url("masks:write_off_add"),
                      {"permit_no": permit.permit_no, "route": "postal"}).context["form"]
    assert form["permit_no"].value() == permit.permit_no and form["route"].value() == "postal"
