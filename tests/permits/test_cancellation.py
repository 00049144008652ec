"""拾肆 簽審文件註銷或展延 (SHTC-11, SHTC-14): 註銷 cancels a permit at once, with its reason,
a history row and a status e-mail; /verify/ and the matching see it; 展延 is refused."""

import dataclasses
import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from permits import changes, procedures
from permits.models import DocumentType, OutboundEmail, Permit, PermitRevocation, PermitState
from reconciliation import services as reconciliation_services
from reconciliation.models import Declaration
from tests import services as test_services
from tests.reconciliation import helpers

URL = reverse("permits:cancellation")


@pytest.fixture
def permit(make_case, applicant, agent, reviewer):
    """An SHTC export permit of `applicant`, filed by `agent`."""
    case = make_case(applicant, actor=agent, status="approved", reviewer=reviewer)
    return case.issued_version.permit


def load(client, permit_no, **data):
    return client.post(URL, {"action": "cancel", "permit_no": permit_no, "reason": "",
                             "load_reference": "1", **data})


def apply(client, permit_no, reason="買方取消部分訂單，餘額重簽", **data):
    return client.post(URL, {"action": "cancel", "permit_no": permit_no, "reason": reason,
                             "apply": "1", **data})


def error_codes(response, field):
    return [e.code for e in response.context["form"].errors.as_data().get(field, [])]


# --- who may use the page ----------------------------------------------------------------------

@pytest.mark.django_db
def test_it_shows_the_page_to_the_applicant(client, applicant):
    client.force_login(applicant)
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["permit"] is None


@pytest.mark.django_db
def test_it_is_in_the_applicants_menu_only(client, applicant, reviewer):
    client.force_login(applicant)
    assert URL in client.get(reverse("home")).content.decode()
    client.force_login(reviewer)
    assert URL not in client.get(reverse("home")).content.decode()


@pytest.mark.django_db
def test_it_sends_an_anonymous_user_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


@pytest.mark.django_db
def test_it_refuses_bureau_staff(client, reviewer):
    client.force_login(reviewer)
    assert client.get(URL).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["applicant", "agent"])
def test_it_loads_the_permit_for_its_applicant_and_agent(client, permit, request, who):
    client.force_login(request.getfixturevalue(who))
    response = load(client, permit.permit_no.lower())
    assert response.status_code == 200
    assert response.context["permit"] == permit
    [item] = response.context["items"]
    assert item.balance == item.quantity == 10
    assert permit.permit_no in response.content.decode()


@pytest.mark.django_db
def test_it_answers_another_users_permit_as_unknown(client, permit, other_applicant):
    client.force_login(other_applicant)
    theirs = load(client, permit.permit_no)
    unknown = load(client, "PSE11599999999")
    assert theirs.status_code == unknown.status_code == 400
    assert error_codes(theirs, "permit_no") == error_codes(unknown, "permit_no") == \
        ["not_found"]
    assert theirs.context["permit"] is None
    assert apply(client, permit.permit_no).status_code == 400
    assert Permit.objects.get(pk=permit.pk).revoked_at is None


# --- 申請 ---------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_it_cancels_the_permit_at_once(client, permit, applicant):
    client.force_login(applicant)
    response = apply(client, permit.permit_no)
    assert response.status_code == 302
    permit.refresh_from_db()
    assert permit.revoked_at is not None and permit.state == PermitState.REVOKED
    revocation = PermitRevocation.objects.get(permit=permit)
    assert revocation.actor == applicant and revocation.reason == "買方取消部分訂單，餘額重簽"
    # SHTC-11: on to 9-1-1 with 餘額註銷證號 filled in, for the balance.
    assert response.url == (f"{reverse('shtc:application_basic')}"
                            f"?balance_permit_no={permit.permit_no}")


@pytest.mark.django_db
def test_it_carries_the_csrf_token_in_its_form(permit, applicant):
    client = Client(enforce_csrf_checks=True)
    client.force_login(applicant)
    page = client.get(URL).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post(URL, {"action": "cancel", "permit_no": permit.permit_no,
                                 "reason": "交易取消", "apply": "1",
                                 "csrfmiddlewaretoken": token})
    assert response.status_code == 302


@pytest.mark.django_db
def test_it_lets_the_filing_agent_cancel(client, permit, agent):
    client.force_login(agent)
    assert apply(client, permit.permit_no).status_code == 302
    assert PermitRevocation.objects.get(permit=permit).actor == agent


@pytest.mark.django_db
def test_it_mails_the_company_email_of_the_case(client, permit, applicant):
    client.force_login(applicant)
    before = OutboundEmail.objects.count()
    apply(client, permit.permit_no)
    assert OutboundEmail.objects.count() == before + 1
    mail = OutboundEmail.objects.order_by("-pk").first()
    case = permit.current.application
    assert mail.to == case.company_email and mail.application == case
    assert permit.permit_no in mail.subject and "買方取消部分訂單" in mail.body


@pytest.mark.django_db
def test_it_opens_the_balance_reissue_of_the_procedure(client, permit, applicant):
    saved = dict(procedures._registry)
    procedures.register(dataclasses.replace(procedures.get(DocumentType.SHTC_EXPORT),
                                            new_application_url="permits:dashboard"))
    try:
        client.force_login(applicant)
        response = apply(client, permit.permit_no)
    finally:
        procedures._registry.clear()
        procedures._registry.update(saved)
    assert response.url == f"{reverse('permits:dashboard')}?balance_permit_no={permit.permit_no}"


@pytest.mark.django_db
def test_it_shows_the_cancellation_on_the_case(client, permit, applicant):
    client.force_login(applicant)
    apply(client, permit.permit_no)
    response = client.get(reverse("permits:application_detail",
                                  args=[permit.current.application_id]))
    assert 'data-testid="permit-cancelled"' in response.content.decode()


@pytest.mark.django_db
def test_it_shows_a_cancelled_permit_as_cancelled_on_verify(client, permit, applicant):
    changes.permit_revoke(permit=permit, actor=applicant, reason="交易取消")
    client.logout()
    response = client.get(reverse("permits:verify"),
                          {"no": permit.permit_no, "code": permit.verification_code})
    assert response.context["permit"]["state"] == PermitState.REVOKED


@pytest.mark.django_db
def test_it_makes_matching_refuse_a_declaration_dated_after(permit, applicant,
                                                          django_capture_on_commit_callbacks):
    changes.permit_revoke(permit=permit, actor=applicant, reason="交易取消")
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        reconciliation_services.receive([helpers.declaration(permit, date=tomorrow)],
                                        source="test")
    declaration = Declaration.objects.get()
    assert declaration.result == "mismatch"
    assert [r["code"] for r in declaration.results.get().reasons] == ["permit_revoked"]


# --- refusals ----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_it_refuses_an_extension(client, permit, applicant):
    client.force_login(applicant)
    response = apply(client, permit.permit_no, action="extend")
    assert response.status_code == 400
    assert error_codes(response, "action") == ["no_extension"]
    assert Permit.objects.get(pk=permit.pk).revoked_at is None


@pytest.mark.django_db
def test_it_refuses_an_expired_permit(client, permit, applicant):
    version = permit.current
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    type(version).objects.filter(pk=version.pk).update(
        valid_from=yesterday - datetime.timedelta(days=30), valid_until=yesterday)
    client.force_login(applicant)
    response = apply(client, permit.permit_no)
    assert response.status_code == 400
    assert error_codes(response, "permit_no") == ["expired"]
    assert not PermitRevocation.objects.exists()


@pytest.mark.django_db
def test_it_refuses_cancelling_twice(client, permit, applicant):
    client.force_login(applicant)
    assert apply(client, permit.permit_no).status_code == 302
    second = apply(client, permit.permit_no)
    assert second.status_code == 400
    assert error_codes(second, "permit_no") == ["revoked"]
    assert PermitRevocation.objects.count() == 1


@pytest.mark.django_db
def test_it_needs_a_reason_to_apply_but_not_to_load(client, permit, applicant):
    client.force_login(applicant)
    assert load(client, permit.permit_no).status_code == 200
    response = apply(client, permit.permit_no, reason="  ")
    assert response.status_code == 400
    assert error_codes(response, "reason") == ["reason_required"]
    assert Permit.objects.get(pk=permit.pk).revoked_at is None


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value"), [
    ("reason", "交易\x00取消"),
    ("reason", "理" * 10_000),
    ("permit_no", str(2 ** 63)),
    ("permit_no", "9" * 10_000),
    ("permit_no", "PSE\x00115000001"),
])
def test_it_answers_bad_input_with_a_message(client, permit, applicant, field, value):
    client.force_login(applicant)
    data = {"permit_no": permit.permit_no, field: value}
    response = apply(client, **data)
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert Permit.objects.get(pk=permit.pk).revoked_at is None


@pytest.mark.django_db
def test_it_rechecks_in_the_service(permit, applicant, other_applicant):
    with pytest.raises(ValidationError) as excinfo:
        changes.permit_revoke(permit=permit, actor=other_applicant, reason="x")
    assert excinfo.value.code == "not_found"
    with pytest.raises(ValidationError) as excinfo:
        changes.permit_revoke(permit=permit, actor=applicant, reason="x" * 501)
    assert excinfo.value.code == "reason_too_long"
    changes.permit_revoke(permit=permit, actor=applicant, reason="交易取消")
    with pytest.raises(ValidationError) as excinfo:
        changes.permit_revoke(permit=permit, actor=applicant, reason="交易取消")
    assert excinfo.value.code == "revoked"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_cancels_once_when_two_requests_race(permit, applicant):
    test_services.require_postgres()

    def revoke():
        try:
            return changes.permit_revoke(permit=permit, actor=applicant, reason="雙擊").pk
        except ValidationError as error:
            return error.code

    results = test_services.run_concurrently(revoke, revoke)
    assert results.count("revoked") == 1
    assert PermitRevocation.objects.count() == 1
    assert OutboundEmail.objects.filter(subject__contains=permit.permit_no).count() == 1
