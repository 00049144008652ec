"""The public verification page the permit's QR code opens: number + verification code →
valid / cancelled / expired and the holder's name, nothing else; rate-limited per address."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from permits import pdf
from permits.models import PermitState, Status

VERIFY = reverse("permits:verify")


@pytest.fixture
def permit(make_case, applicant, reviewer):
    return make_case(applicant, status=Status.APPROVED, reviewer=reviewer).issued_version.permit


def look_up(client, no, code, ip="203.0.113.7"):
    return client.get(VERIFY, {"no": no, "code": code}, REMOTE_ADDR=ip)


def answer(response):
    """The page's answer: the result box."""
    match = re.search(r'data-testid="verify-result".*?</div>', response.content.decode(), re.S)
    return match.group(0)


@pytest.mark.django_db
def test_it_shows_the_form_to_anyone(client):
    response = client.get(VERIFY)
    assert response.status_code == 200
    assert response.context["looked_up"] is False


@pytest.mark.django_db
def test_it_shows_a_valid_permit_and_its_holder(client, permit):
    response = look_up(client, permit.permit_no, permit.verification_code)
    assert response.status_code == 200
    assert response.context["permit"]["state"] == PermitState.VALID
    assert "安心醫材股份有限公司" in response.content.decode()


@pytest.mark.django_db
def test_it_takes_the_number_and_code_in_any_case(client, permit):
    response = look_up(client, f" {permit.permit_no.lower()} ",
                       permit.verification_code.lower())
    assert response.context["permit"]["state"] == PermitState.VALID


@pytest.mark.django_db
def test_it_opens_from_the_url_in_the_qr_code(client, permit, settings):
    url = pdf.verification_url(permit)
    response = client.get(url.removeprefix(settings.PORTAL_BASE_URL))
    assert response.context["permit"]["permit_no"] == permit.permit_no


@pytest.mark.django_db
def test_it_gives_a_wrong_code_the_same_answer_as_an_unknown_number(client, permit):
    wrong = look_up(client, permit.permit_no, "ZZZZZZZZ")
    unknown = look_up(client, "PSE99900000001", "ZZZZZZZZ")
    assert wrong.status_code == unknown.status_code == 200
    assert wrong.context["permit"] is None and unknown.context["permit"] is None
    assert answer(wrong) == answer(unknown)


@pytest.mark.django_db
def test_it_shows_a_revoked_permit_as_cancelled(client, permit):
    permit.revoked_at = timezone.now()
    permit.save(update_fields=["revoked_at"])
    response = look_up(client, permit.permit_no, permit.verification_code)
    assert response.context["permit"]["state"] == PermitState.REVOKED


@pytest.mark.django_db
def test_it_shows_an_expired_permit_as_expired(client, permit):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    permit.versions.update(valid_from=yesterday, valid_until=yesterday)
    response = look_up(client, permit.permit_no, permit.verification_code)
    assert response.context["permit"]["state"] == PermitState.EXPIRED


@pytest.mark.django_db
def test_it_shows_nothing_else_about_the_permit(client, permit):
    application = permit.current.application
    html = look_up(client, permit.permit_no, permit.verification_code).content.decode()
    for secret in (application.applicant_identifier, application.applicant_address,
                   application.receipt_no, application.company_email,
                   application.items.get().description):
        assert secret not in html


@pytest.mark.django_db
def test_it_limits_lookups_per_address(client, permit, settings):
    settings.PERMIT_VERIFY_RATE_LIMIT = 3
    for _ in range(3):
        assert look_up(client, permit.permit_no, "ZZZZZZZZ").status_code == 200
    response = look_up(client, permit.permit_no, permit.verification_code)
    assert response.status_code == 429
    assert response.context["permit"] is None


@pytest.mark.django_db
def test_it_limits_each_address_on_its_own(client, permit, settings):
    settings.PERMIT_VERIFY_RATE_LIMIT = 1
    look_up(client, permit.permit_no, "ZZZZZZZZ", ip="203.0.113.7")
    response = look_up(client, permit.permit_no, permit.verification_code, ip="198.51.100.2")
    assert response.status_code == 200
    assert response.context["permit"]["state"] == PermitState.VALID
