"""忘記帳號密碼 (ACC-2): a reset link over real SMTP, in Chinese and English."""

import re

import pytest
from django.urls import reverse

from portal.accounts.models import User

RESET = reverse("accounts:password_reset")


@pytest.fixture
def smtp_settings(settings, smtp_sink):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_sink.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    return smtp_sink


def reset_link(message):
    body = message.get_body(("plain",)).get_content()
    return re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/\S+/)", body).group(1)


@pytest.mark.django_db(transaction=True)
def test_it_mails_the_account_and_a_link_that_sets_a_new_password(client, applicant,
                                                                   smtp_settings):
    response = client.post(RESET, {"email": applicant.email.upper()})
    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_done")
    [message] = smtp_settings.wait_for(1)
    assert message["To"] == applicant.email
    assert "重設密碼" in message["Subject"] and "password reset" in message["Subject"]
    body = message.get_body(("plain",)).get_content()
    assert applicant.identifier in body  # the forgotten account too
    assert "請於 24 小時內" in body and "Open this link within 24 hours" in body

    link = reset_link(message)
    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"]
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": "a-brand-new-secret-7",
                                 "new_password2": "a-brand-new-secret-7"})
    assert done.url == reverse("accounts:password_reset_complete")
    assert User.objects.get(pk=applicant.pk).check_password("a-brand-new-secret-7")

    again = client.get(link, follow=True)  # a link works once
    assert not again.context["validlink"]


@pytest.mark.django_db(transaction=True)
def test_it_says_the_same_for_an_unknown_address_and_mails_nobody(client, applicant,
                                                                   smtp_settings):
    response = client.post(RESET, {"email": "nobody@example.com"})
    assert response.url == reverse("accounts:password_reset_done")
    assert smtp_settings.messages == []


@pytest.mark.django_db
def test_it_tells_users_without_their_e_mail_to_call_the_bureau(client, settings):
    html = client.get(RESET).content.decode()
    assert settings.BUREAU_SERVICE_PHONE in html and "服務專線" in html


@pytest.mark.django_db
def test_it_refuses_a_forged_link(client, applicant):
    response = client.get(
        reverse("accounts:password_reset_confirm", args=["MQ", "bad-token"]), follow=True)
    assert not response.context["validlink"]
