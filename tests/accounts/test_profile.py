"""帳號資料維護: contact data and e-mail change; the identifier never does."""

import pytest
from django.urls import reverse

from portal.accounts.models import User

URL = reverse("accounts:profile")


def data(**overrides):
    values = {"name_en": "Anxin Medical Co., Ltd.", "address": "新北市板橋區中山路一段161號",
              "contact_person": "李大同", "phone": "02-2960-0000",
              "email": "new@anxin.example", "language": "en"}
    values.update(overrides)
    return values


@pytest.mark.django_db
def test_it_changes_contact_data_and_e_mail(client, applicant):
    client.force_login(applicant)
    response = client.post(URL, data())
    assert response.status_code == 302
    user = User.objects.get(pk=applicant.pk)
    assert (user.address, user.contact_person, user.email, user.language) == (
        "新北市板橋區中山路一段161號", "李大同", "new@anxin.example", "en")


@pytest.mark.django_db
def test_it_never_changes_the_identifier_or_kind(client, applicant):
    client.force_login(applicant)
    client.post(URL, data(identifier="12345675", identifier_type="passport", role="agent",
                          name="別人的公司", is_staff="on"))
    user = User.objects.get(pk=applicant.pk)
    assert (user.identifier, user.identifier_type, user.role, user.name, user.is_staff) == (
        "22099131", "ban", "applicant", "安心醫材股份有限公司", False)


@pytest.mark.django_db
def test_it_shows_the_identifier_without_an_input_for_it(client, applicant):
    client.force_login(applicant)
    html = client.get(URL).content.decode()
    assert "22099131" in html and 'name="identifier"' not in html


@pytest.mark.django_db
def test_it_keeps_the_input_of_a_bad_form(client, applicant):
    client.force_login(applicant)
    response = client.post(URL, data(email="not-an-address", address=""))
    assert response.status_code == 400  # a refused form (issue 9, point 6)
    assert 'value="not-an-address"' in response.content.decode()
    assert User.objects.get(pk=applicant.pk).email == applicant.email


@pytest.mark.django_db
def test_it_is_for_logged_in_users_only(client):
    assert client.get(URL).status_code == 302
