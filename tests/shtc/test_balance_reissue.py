"""餘額重簽 of an SHTC export permit (SHTC-11, the SHTC manual §1.5, §2.1 item 1) and the
cancelling of SHTC cases (SHTC-12, FAQ 3.13), through the services and the pages:

    拾肆 簽審文件註銷或展延 → 註銷 (the number, the reason, 申請) → 9-1-1 with 餘額註銷證號 →
    帶入參考資料 (the items at their balance on the ledger: releases less reversals; a line
    fully exported left out) → lower or delete items (never above the balance) →
    登錄並列印最終用途保證書 (登錄中) → the assurance prints the balance → 9-1-2 as usual.

Refused, each with its code: a permit whose validity has ended (expired), one already
cancelled (revoked), a balance already applied for (already_reissued), a quantity above the
balance (over_balance: on the item and again at 申請), a permit to Iran or North Korea
(own_procedure: its balance goes through 9-2-1 and 9-2-2). A customs broker does all of it
for the applicant, who sees the same cases; another user gets 404."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from permits import changes, entry, workflow
from permits.models import Application, Kind, Permit, PermitVersion, Status
from reconciliation.models import LedgerEntry
from shtc.entry import APPLICATION
from tests.permits.test_pdf import pdftotext
from tests.reconciliation import helpers
from tests.shtc.review_cases import ITEM

pytestmark = pytest.mark.django_db

CANCELLATION = reverse("permits:cancellation")
REASON = "買方取消部分訂單，餘額重簽"
SECOND = {**ITEM, "description": "Radiation hardened SRAM", "quantity": "5",
          "unit_price": "200", "control_no": "3A001.a"}


def url(name, *args):
    return reverse(f"shtc:application_{name}", args=args)


def declare(receive, permit, number, line, quantity, *, release=True):
    """An export declaration citing item `line` of `permit` for `quantity`, released in
    full if `release` (the customs feed, matching run)."""
    item = {"item_no": 1, "tariff_code": ITEM["tariff_code"], "description": "FPGA",
            "quantity": quantity, "unit": "PCE", "value": "1", "currency": "USD",
            "permit_item_no": line}
    messages = [helpers.declaration(permit, number=number, items=[item])]
    if release:
        messages.append(helpers.release(number, items=[{"item_no": 1,
                                                        "quantity": quantity}]))
    records = receive(*messages)
    assert [r.status for r in records] == ["accepted"] * len(messages), \
        [r.errors for r in records]


@pytest.fixture
def permit(shtc_case, receive):
    """An approved SHTC permit to the US of two items, 10 and 5 PCE. Item 1: 4 released,
    then 3 more released on a declaration customs cancelled (reversed): 6 left. Item 2: all
    5 released: nothing left."""
    case = shtc_case(status=Status.APPROVED, items=[dict(ITEM), dict(SECOND)])
    permit = case.issued_version.permit
    declare(receive, permit, "AA11500000001R", 1, "4")
    declare(receive, permit, "AA11500000002R", 1, "3")
    records = receive(helpers.cancellation("AA11500000002R"))
    assert records[0].status == "accepted", records[0].errors
    declare(receive, permit, "AA11500000003R", 2, "5")
    return Permit.objects.get(pk=permit.pk)


def cancel(client, permit, reason=REASON):
    """註銷 on 拾肆: the number, the reason, 申請."""
    return client.post(CANCELLATION, {"action": "cancel", "permit_no": permit.permit_no,
                                      "reason": reason, "apply": "1"})


def load(client, permit_no):
    """帶入參考資料 with 餘額註銷證號 on 9-1-1."""
    return client.post(url("basic"), {"balance_permit_no": permit_no, "load_reference": "1"})


def field_codes(response, form, field):
    return [e.code for e in response.context[form].errors.as_data().get(field, [])]


def reissue_draft(client, permit):
    """註銷, then 帶入參考資料: the 餘額重簽 draft."""
    response = cancel(client, permit)
    assert response.status_code == 302, response.context and response.context["form"].errors
    response = load(client, permit.permit_no)
    assert response.status_code == 302, response.context["reference_form"].errors
    draft = Application.objects.get(kind=Kind.BALANCE_REISSUE, changes__permit=permit,
                                     status=Status.DRAFT)
    assert response.url == url("edit", draft.pk)
    return draft


def item_post(draft, line_no, **typed):
    """The item form as its page posts it (disabled fields post nothing that counts)."""
    item = draft.items.get(line_no=line_no)
    return {**entry.item_data(item), **typed}


# --- the balance from the ledger ---------------------------------------------------------------

def test_the_ledger_gives_releases_less_reversals(permit):
    kinds = sorted(LedgerEntry.objects.filter(permit=permit).values_list("kind", "quantity"))
    assert kinds == [("release", Decimal(3)), ("release", Decimal(4)), ("release", Decimal(5)),
                     ("reversal", Decimal(-3))]
    assert [(item.line_no, item.balance) for item in changes.items_with_balance(permit)] == [
        (1, Decimal(6)), (2, Decimal(0))]


def test_it_cancels_and_opens_9_1_1_with_the_number_then_loads_the_balance(client, applicant,
                                                                          permit):
    client.force_login(applicant)
    # 帶入參考資料 on 拾肆: the permit and its balances.
    response = client.post(CANCELLATION, {"action": "cancel", "permit_no": permit.permit_no,
                                          "reason": "", "load_reference": "1"})
    assert response.status_code == 200
    assert [item.balance for item in response.context["items"]] == [6, 0]
    response = cancel(client, permit)
    assert response.url == f"{url('basic')}?balance_permit_no={permit.permit_no}"
    permit.refresh_from_db()
    assert permit.revoked_at is not None and permit.revocation.reason == REASON
    page = client.get(response.url)
    assert page.context["reference_form"]["balance_permit_no"].value() == permit.permit_no

    response = load(client, permit.permit_no)
    draft = Application.objects.get(kind=Kind.BALANCE_REISSUE)
    assert response.url == url("edit", draft.pk)
    assert (draft.status, draft.changes, draft.applicant, draft.agent) == (
        Status.DRAFT, permit.current, applicant, None)
    # Item 2, all exported, is left out; item 1 at its balance, the amount following.
    assert list(draft.items.values_list("line_no", "source_line_no", "quantity", "amount",
                                        "description")) == [
        (1, 1, Decimal(6), Decimal(9000), ITEM["description"])]
    assert draft.destination_country == "US" and draft.parties.count() == 3
    review = client.get(url("review", draft.pk))
    assert permit.permit_no in review.context["header"]
    assert review.context["entry_item_add_url"] == ""
    assert client.get(url("item_add", draft.pk)).status_code == 404


def test_it_lets_the_quantity_be_lowered_not_raised_nor_the_goods_changed(client, applicant,
                                                                         permit):
    client.force_login(applicant)
    draft = reissue_draft(client, permit)
    page = client.get(url("item", draft.pk, 1))
    form = page.context["form"]
    assert not form.fields["quantity"].disabled
    assert all(field.disabled for name, field in form.fields.items() if name != "quantity")
    assert "6" in str(form.fields["quantity"].help_text)

    response = client.post(url("item", draft.pk, 1), item_post(draft, 1, quantity="6.0001"))
    assert response.status_code == 400
    assert field_codes(response, "form", "quantity") == ["over_balance"]
    assert response.context["form"]["quantity"].value() == "6.0001"  # the typing kept
    assert draft.items.get().quantity == 6

    # A crafted post changing the goods changes nothing but the quantity; the amount follows.
    response = client.post(url("item", draft.pk, 1), item_post(
        draft, 1, quantity="2.5", description="Something else", unit_price="1"))
    assert response.status_code == 302
    item = draft.items.get()
    assert (item.quantity, item.description, item.unit_price, item.amount) == (
        Decimal("2.5"), ITEM["description"], Decimal(1500), Decimal(3750))


def test_it_registers_the_balance_and_prints_it_on_the_assurance(client, applicant, permit,
                                                                 tmp_path):
    client.force_login(applicant)
    draft = reissue_draft(client, permit)
    client.post(url("item", draft.pk, 1), item_post(draft, 1, quantity="5"))
    response = client.post(url("submit", draft.pk))
    draft.refresh_from_db()
    assert draft.status == Status.REGISTERED and draft.registration_no
    assert response.url == reverse("permits:application_detail", args=[draft.pk])
    pdf = client.get(reverse("shtc:case_document", args=[draft.pk, "assurance-buyer"]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    path = tmp_path / "assurance.pdf"
    path.write_bytes(b"".join(pdf.streaming_content) if pdf.streaming else pdf.content)
    text = pdftotext(path)
    assert draft.registration_no in text and ITEM["description"] in text
    # The balance, as lowered: 5 of the 6 left, at USD 1500.
    row = next(line for line in text.splitlines() if "3A001.a" in line)
    assert row.split()[-2:] == ["5", "PCE"], row
    assert SECOND["description"] not in text
    # 9-1-2 lists it and files it as any registered case.
    query = client.get(reverse("shtc:filing_query"), {"document_type": "SE",
                                                       "number": draft.registration_no})
    assert [row["registration_no"] for row in query.context["page"].rows] == [
        draft.registration_no]


def test_it_deletes_an_item_of_the_balance(client, applicant, shtc_case):
    case = shtc_case(status=Status.APPROVED, items=[dict(ITEM), dict(SECOND)])
    permit = case.issued_version.permit
    client.force_login(applicant)
    draft = reissue_draft(client, permit)
    assert draft.items.count() == 2
    response = client.post(url("item_delete", draft.pk, 1))
    assert response.status_code == 302
    assert list(draft.items.values_list("line_no", "source_line_no")) == [(1, 2)]
    client.post(url("submit", draft.pk))
    draft.refresh_from_db()
    assert draft.status == Status.REGISTERED


def test_it_refuses_at_submit_a_quantity_the_ledger_no_longer_has(client, applicant, shtc_case,
                                                                  receive):
    """A declaration filed before the cancellation is released after the draft was loaded:
    申請 checks the item again, and nothing is registered."""
    permit = shtc_case(status=Status.APPROVED).issued_version.permit
    declare(receive, permit, "AA11500000009R", 1, "4", release=False)
    client.force_login(applicant)
    draft = reissue_draft(client, permit)
    assert draft.items.get().quantity == 10
    records = receive(helpers.release("AA11500000009R",
                                      items=[{"item_no": 1, "quantity": "4"}]))
    assert records[0].status == "accepted", records[0].errors
    response = client.post(url("submit", draft.pk))
    assert response.status_code == 400
    assert field_codes(response, "form", "quantity") == ["over_balance"]
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT and draft.registration_no is None
    # check_change under the permit's lock says the same.
    with pytest.raises(ValidationError) as refused:
        changes.check_change(draft)
    assert [e.code for e in refused.value.error_list] == ["over_balance"]


# --- what is refused ---------------------------------------------------------------------------

def test_it_refuses_to_cancel_an_expired_permit(client, applicant, shtc_case):
    permit = shtc_case(status=Status.APPROVED).issued_version.permit
    today = timezone.localdate()
    PermitVersion.objects.filter(permit=permit).update(
        valid_from=today - datetime.timedelta(days=200),
        valid_until=today - datetime.timedelta(days=1))
    client.force_login(applicant)
    response = cancel(client, permit)
    assert response.status_code == 400
    assert field_codes(response, "form", "permit_no") == ["expired"]
    permit.refresh_from_db()
    assert permit.revoked_at is None
    # The service, under the permit's lock, says the same to any client.
    with pytest.raises(ValidationError) as refused:
        changes.permit_revoke(permit=permit, actor=applicant, reason=REASON)
    assert refused.value.code == "expired"
    # And nothing to re-issue: the permit was never cancelled.
    response = load(client, permit.permit_no)
    assert field_codes(response, "reference_form", "balance_permit_no") == ["not_revoked"]
    assert not Application.objects.filter(kind=Kind.BALANCE_REISSUE).exists()


def test_it_refuses_to_cancel_a_cancelled_permit_again(client, applicant, permit):
    client.force_login(applicant)
    assert cancel(client, permit).status_code == 302
    response = cancel(client, permit, reason="再次註銷")
    assert response.status_code == 400
    assert field_codes(response, "form", "permit_no") == ["revoked"]
    assert permit.revocation.reason == REASON


def test_it_refuses_a_second_reissue_of_the_same_balance(client, applicant, permit):
    client.force_login(applicant)
    first = reissue_draft(client, permit)
    # Loaded again, it opens the first draft (permits.entry.loaded_draft) ...
    assert load(client, permit.permit_no).url == url("edit", first.pk)
    # ... so a second draft as one made before that rule, from another tab.
    second = entry.draft_from(entry=APPLICATION, actor=applicant,
                              source=permit.current.application, kind=Kind.BALANCE_REISSUE,
                              changes=permit.current, items=changes.balance_items(permit))
    client.post(url("submit", first.pk))
    first.refresh_from_db()
    assert first.status == Status.REGISTERED
    # 申請 of the second is refused under the permit's lock; nothing registered.
    response = client.post(url("submit", second.pk))
    assert response.status_code == 302 and response.url == url("review", second.pk)
    second.refresh_from_db()
    assert second.status == Status.DRAFT and second.registration_no is None
    with pytest.raises(ValidationError) as refused:
        changes.check_change(second)
    assert [e.code for e in refused.value.error_list] == ["already_reissued"]
    # And 帶入參考資料 again says so at once.
    response = load(client, permit.permit_no)
    assert response.status_code == 400
    assert field_codes(response, "reference_form", "balance_permit_no") == [
        "already_reissued"]
    assert first.number in response.context["reference_form"].errors["balance_permit_no"][0]


def test_a_cancelled_reissue_frees_the_balance_again(client, applicant, permit):
    client.force_login(applicant)
    first = reissue_draft(client, permit)
    client.post(url("submit", first.pk))
    client.post(reverse("shtc:filing_cancel", args=[first.pk]))
    first.refresh_from_db()
    assert first.status == Status.CANCELLED
    assert load(client, permit.permit_no).status_code == 302


def test_it_refuses_the_balance_of_a_permit_not_cancelled(client, applicant, shtc_case):
    permit = shtc_case(status=Status.APPROVED).issued_version.permit
    client.force_login(applicant)
    response = load(client, permit.permit_no)
    assert field_codes(response, "reference_form", "balance_permit_no") == ["not_revoked"]


@pytest.mark.parametrize("country", ["IR", "KP"])
def test_a_permit_to_iran_or_north_korea_is_cancelled_but_not_reissued_in_9_1_1(
        client, applicant, make_case, reviewer, country):
    """*decision*: 註銷 as any permit; its balance goes through 9-2-1 and 9-2-2 (a new
    end-use assurance), so 拾肆 leads to the case, not to 9-1-1, and says so."""
    case = make_case(applicant, status=Status.APPROVED, reviewer=reviewer)
    Application.objects.filter(pk=case.pk).update(destination_country=country)
    permit = case.issued_version.permit
    client.force_login(applicant)
    page = client.post(CANCELLATION, {"action": "cancel", "permit_no": permit.permit_no,
                                      "reason": "", "load_reference": "1"})
    assert "9-2-1" in page.context["reissue_note"]
    response = cancel(client, permit)
    assert response.url == reverse("permits:application_detail", args=[case.pk])
    permit.refresh_from_db()
    assert permit.revoked_at is not None
    response = load(client, permit.permit_no)
    assert field_codes(response, "reference_form", "balance_permit_no") == ["own_procedure"]
    problem = changes.change_problem(kind=Kind.BALANCE_REISSUE, permit=permit)
    assert problem.code == "own_procedure"
    # The same refusals as any permit: cancelled once only.
    assert field_codes(cancel(client, permit), "form", "permit_no") == ["revoked"]


# --- agents and others -------------------------------------------------------------------------

def test_a_customs_broker_cancels_and_reissues_for_the_applicant(client, applicant, agent,
                                                                 other_applicant, shtc_case):
    permit = shtc_case(status=Status.APPROVED, actor=agent).issued_version.permit
    client.force_login(agent)
    draft = reissue_draft(client, permit)
    assert (draft.applicant, draft.agent) == (applicant, agent)
    response = client.post(url("item", draft.pk, 1), item_post(draft, 1, quantity="11"))
    assert field_codes(response, "form", "quantity") == ["over_balance"]
    client.post(url("item", draft.pk, 1), item_post(draft, 1, quantity="7"))
    client.post(url("submit", draft.pk))
    draft.refresh_from_db()
    assert draft.status == Status.REGISTERED

    # The applicant sees the broker's case (its page, 9-1-2) and the cancelled permit.
    client.force_login(applicant)
    assert client.get(reverse("permits:application_detail", args=[draft.pk])).status_code == 200
    assert client.get(reverse("shtc:filing_case", args=[draft.pk])).status_code == 200
    # Another user: nothing of it.
    client.force_login(other_applicant)
    for address in (reverse("permits:application_detail", args=[draft.pk]),
                    reverse("shtc:filing_case", args=[draft.pk])):
        assert client.get(address).status_code == 404
    response = load(client, permit.permit_no)
    assert field_codes(response, "reference_form", "balance_permit_no") == ["not_found"]


def test_another_user_cannot_touch_the_permit_or_the_draft(client, applicant, other_applicant,
                                                           permit):
    client.force_login(applicant)
    draft = reissue_draft(client, permit)
    client.force_login(other_applicant)
    for address in (url("edit", draft.pk), url("review", draft.pk), url("item", draft.pk, 1)):
        assert client.get(address).status_code == 404
    assert client.post(url("submit", draft.pk)).status_code == 404
    assert client.post(url("item_delete", draft.pk, 1)).status_code == 404
    other = Permit.objects.create(permit_no="PSE11599999990", document_type="SE",
                                  holder=applicant, verification_code="ABCDEFGH")
    response = cancel(client, other)
    assert field_codes(response, "form", "permit_no") == ["not_found"]


# --- SHTC-12: a case under review is cancelled by the bureau, at the applicant's call ------------

@pytest.mark.parametrize("status", [Status.INITIAL_REVIEW, Status.CONSULTATION,
                                    Status.SECOND_REVIEW, Status.RETURNED, Status.SUPPLEMENT])
def test_the_bureau_cancels_a_case_under_review_with_a_note(client, applicant, reviewer,
                                                            shtc_case, status):
    case = shtc_case(status=Status.INITIAL_REVIEW)
    Application.objects.filter(pk=case.pk).update(status=status)
    # The applicant's page says to call the bureau; 9-1-2's 取消申請 is refused.
    client.force_login(applicant)
    page = client.get(reverse("permits:application_detail", args=[case.pk]))
    assert "02-2351-0271" in page.context["cancel_note"]
    assert b'data-testid="bureau-phone"' in page.content
    response = client.post(reverse("shtc:filing_cancel", args=[case.pk]))
    assert response.status_code == 400 and "02-2351-0271" in response.context["error"]

    client.force_login(reviewer)
    change = reverse("admin:permits_application_change", args=[case.pk])
    moves = {to: note for to, _label, note in client.get(change).context["moves"]}
    assert moves[Status.CANCELLED] is True  # offered, its note required
    move = reverse("admin:permits_application_move", args=[case.pk])
    client.post(move, {"to": Status.CANCELLED, "note": "  "})
    case.refresh_from_db()
    assert case.status == status  # no note: refused
    client.post(move, {"to": Status.CANCELLED, "note": "申請人來電申請取消。"})
    case.refresh_from_db()
    assert case.status == Status.CANCELLED
    assert case.status_changes.latest("created_at").note == "申請人來電申請取消。"


def test_the_applicant_cancels_a_registered_case_without_a_note(applicant, shtc_case):
    from shtc import services

    case = shtc_case(status=Status.REGISTERED)
    assert not workflow.note_required(Status.CANCELLED, workflow.APPLICANT)
    services.application_cancel(application=case, actor=applicant)
    case.refresh_from_db()
    assert case.status == Status.CANCELLED


def test_the_case_page_gives_no_phone_while_registered_or_closed(client, applicant, shtc_case):
    client.force_login(applicant)
    for status in (Status.REGISTERED, Status.APPROVED):
        case = shtc_case(status=status)
        page = client.get(reverse("permits:application_detail", args=[case.pk]))
        assert page.context["cancel_note"] == ""

