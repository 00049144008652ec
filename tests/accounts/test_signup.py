"""申請帳號 (ACC-1): one account per identifier, checked digits, errors next to the field."""


import pytest
from django.test import Client
from django.urls import reverse

from portal.accounts.models import User
from tests import services

URL = reverse("accounts:signup")


def form_data(**overrides):
    data = {
        "identifier_type": "ban", "identifier": "22099131", "role": "applicant",
        "name": "安心醫材股份有限公司", "name_en": "Anxin Medical Co., Ltd.",
        "address": "臺北市中正區重慶南路一段2號", "contact_person": "王小明",
        "phone": "02-2351-0000", "email": "Service@Anxin.example", "language": "zh-hant",
        "password1": "a-long-passphrase-9", "password2": "a-long-passphrase-9",
    }
    data.update(overrides)
    return data


def error_codes(response, field):
    return [e.code for e in response.context["form"].errors.as_data().get(field, [])]


@pytest.mark.django_db
def test_it_opens_an_account_and_logs_in(client):
    response = client.post(URL, form_data())
    assert response.status_code == 302 and response.url == reverse("home")
    user = User.objects.get(identifier="22099131")
    assert user.check_password("a-long-passphrase-9")
    assert user.email == "Service@anxin.example"  # the domain part is normalized
    assert client.get(reverse("home")).context["user"] == user
    # The session names the backend that reads the user and its permissions in one query.
    assert client.session["_auth_user_backend"] == "portal.accounts.backends.UserBackend"


@pytest.mark.django_db
def test_it_stores_the_identifier_upper_case(client):
    client.post(URL, form_data(identifier_type="national_id", identifier=" a123456789 "))
    assert User.objects.filter(identifier="A123456789").exists()


@pytest.mark.django_db
def test_it_opens_an_agent_account(client):
    client.post(URL, form_data(identifier="04595252", role="agent"))
    assert User.objects.get(identifier="04595252").is_agent


@pytest.mark.django_db
def test_it_refuses_a_bad_check_digit_and_keeps_the_input(client):
    response = client.post(URL, form_data(identifier="00501502"))
    assert response.status_code == 400  # a refused form (issue 9, point 6)
    assert error_codes(response, "identifier") == ["ban_checksum"]
    html = response.content.decode()
    assert 'value="00501502"' in html and 'value="安心醫材股份有限公司"' in html
    assert 'class="invalid-feedback"' in html  # the message stands next to the field
    assert not User.objects.exists()


@pytest.mark.django_db
def test_it_refuses_a_second_account_for_the_same_identifier(client, applicant):
    response = client.post(URL, form_data(identifier=applicant.identifier))
    assert error_codes(response, "identifier") == ["duplicate_identifier"]
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_it_refuses_an_agent_without_a_business_number(client):
    response = client.post(URL, form_data(identifier_type="national_id",
                                          identifier="A123456789", role="agent"))
    assert error_codes(response, "identifier_type") == ["agent_needs_ban"]
    assert not User.objects.exists()


@pytest.mark.django_db
def test_it_refuses_different_passwords(client):
    response = client.post(URL, form_data(password2="another-passphrase-9"))
    assert error_codes(response, "password2") == ["password_mismatch"]
    assert 'value="a-long-passphrase-9"' not in response.content.decode()  # never echoed


@pytest.mark.django_db
def test_it_refuses_a_weak_password(client):
    response = client.post(URL, form_data(password1="12345678", password2="12345678"))
    assert "password_too_short" in error_codes(response, "password1")
    assert not User.objects.exists()


@pytest.mark.django_db
def test_it_requires_every_starred_field(client):
    response = client.post(URL, form_data(name="", address="", email="not-an-email"))
    for field in ("name", "address"):
        assert error_codes(response, field) == ["required"]
    assert error_codes(response, "email") == ["invalid"]


@pytest.mark.django_db
def test_it_sends_a_logged_in_user_home(client, applicant):
    client.force_login(applicant)
    assert client.get(URL).url == reverse("home")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_opens_one_account_when_two_sign_ups_race():
    """Both requests pass the form's "exists?" check; the unique index decides."""
    services.require_postgres()
    for round_ in range(5):
        identifier = ["22099131", "12345675", "04595252", "62140097", "00501508"][round_]

        def sign_up(identifier=identifier):
            response = Client().post(URL, form_data(identifier=identifier))
            if response.status_code == 400:
                return error_codes(response, "identifier")
            return response.status_code

        outcomes = services.run_concurrently(sign_up, sign_up)
        assert sorted(outcomes, key=str) == sorted([302, ["duplicate_identifier"]], key=str)
        assert User.objects.filter(identifier=identifier).count() == 1
