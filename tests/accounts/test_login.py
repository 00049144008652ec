"""登入系統 (ACC-2), the lockout after repeated failures and the 20-minute idle logout (ACC-3)."""

import time

import pytest
from django.urls import reverse

from portal.middleware import IDLE_KEY

LOGIN = reverse("accounts:login")
HOME = reverse("home")
PASSWORD = "correct-horse-battery"


def post_login(client, username, password, ip="127.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


@pytest.mark.django_db
def test_it_shows_the_login_page_in_the_manuals_words(client):
    html = client.get(LOGIN).content.decode()
    assert "登入系統" in html and "申請帳號" in html and "忘記帳號密碼" in html


@pytest.mark.django_db
def test_it_logs_in_with_the_identifier(client, applicant):
    response = post_login(client, applicant.identifier, PASSWORD)
    assert response.status_code == 302 and response.url == HOME
    assert client.get(HOME).context["user"] == applicant


@pytest.mark.django_db
def test_it_takes_the_account_in_any_case(client, make_user):
    user = make_user("A123456789", identifier_type="national_id")
    post_login(client, " a123456789", PASSWORD)
    assert client.get(HOME).context["user"] == user


@pytest.mark.django_db
def test_it_refuses_a_wrong_password_and_keeps_the_account(client, applicant):
    response = post_login(client, applicant.identifier, "wrong-password")
    assert response.status_code == 400  # a refused form (issue 9, point 6)
    assert [e.code for e in response.context["form"].non_field_errors().as_data()] == [
        "invalid_login"]
    assert 'value="22099131"' in response.content.decode()


@pytest.mark.django_db
def test_it_sends_the_anonymous_to_the_login_page(client):
    response = client.get(HOME)
    assert response.status_code == 302 and response.url.startswith(LOGIN)


@pytest.mark.django_db
def test_it_logs_out_on_post(client, applicant):
    client.force_login(applicant)
    client.post(reverse("accounts:logout"))
    assert client.get(HOME).status_code == 302


@pytest.mark.django_db
def test_it_locks_the_account_after_five_failures(client, applicant):
    for attempt in range(5):
        # from five addresses: the account lock does not depend on where the tries came from
        post_login(client, applicant.identifier.lower(), "wrong", ip=f"10.0.0.{attempt}")
    response = post_login(client, applicant.identifier, PASSWORD, ip="10.0.1.1")
    assert response.status_code == 429
    assert "registration/locked_out.html" in [t.name for t in response.templates]
    assert "15" in response.content.decode()
    assert client.get(HOME).status_code == 302  # not logged in


@pytest.mark.django_db
def test_it_keeps_an_office_open_when_one_clerk_is_locked(client, applicant, other_applicant):
    """Brokers' clerks share one address: one account's lock is not the address's."""
    for _ in range(5):
        post_login(client, applicant.identifier, "wrong", ip="10.9.9.9")
    assert post_login(client, applicant.identifier, PASSWORD, ip="10.9.9.9").status_code == 429
    assert post_login(client, other_applicant.identifier, PASSWORD,
                      ip="10.9.9.9").status_code == 302


@pytest.mark.django_db
def test_it_locks_an_address_that_tries_many_accounts(client, settings, applicant):
    for n in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT):
        post_login(client, f"{n:08d}", "wrong", ip="10.9.9.9")
    response = post_login(client, applicant.identifier, PASSWORD, ip="10.9.9.9")
    assert response.status_code == 429 and response.context["by_address"]
    assert client.get(HOME).status_code == 302  # not logged in
    assert post_login(client, applicant.identifier, PASSWORD, ip="10.9.9.8").status_code == 302


@pytest.mark.django_db
def test_it_guards_the_admin_login_by_address_too(client, settings, reviewer):
    for n in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT):
        post_login(client, f"{n:08d}", "wrong", ip="10.9.9.7")
    response = client.post(reverse("admin:login"), {"username": reviewer.identifier,
                                                    "password": PASSWORD},
                           REMOTE_ADDR="10.9.9.7")
    assert response.status_code == 429


@pytest.mark.django_db
def test_it_forgets_failures_after_a_successful_login(client, applicant):
    for _ in range(4):
        post_login(client, applicant.identifier, "wrong")
    assert post_login(client, applicant.identifier, PASSWORD).status_code == 302
    client.post(reverse("accounts:logout"))
    for _ in range(4):
        post_login(client, applicant.identifier, "wrong")
    assert post_login(client, applicant.identifier, PASSWORD).status_code == 302


def _idle_for(client, seconds):
    session = client.session
    session[IDLE_KEY] = int(time.time()) - seconds
    session.save()


@pytest.mark.django_db
def test_it_ends_a_session_idle_for_twenty_minutes(client, applicant):
    client.force_login(applicant)
    client.get(HOME)
    _idle_for(client, 20 * 60 + 1)
    response = client.get(HOME)
    assert response.status_code == 302 and response.url.startswith(LOGIN)
    page = client.get(response.url)
    assert [m.level_tag for m in page.context["messages"]] == ["warning"]
    assert "20" in page.content.decode()
    assert page.context["user"].is_anonymous


@pytest.mark.django_db
def test_it_keeps_a_session_active_within_twenty_minutes(client, applicant):
    client.force_login(applicant)
    client.get(HOME)
    _idle_for(client, 19 * 60)
    assert client.get(HOME).status_code == 200
    _idle_for(client, 19 * 60)  # each request starts the twenty minutes again
    assert client.get(HOME).status_code == 200


@pytest.mark.django_db
def test_it_says_nothing_of_idleness_on_a_plain_visit(client):
    assert list(client.get(LOGIN).context["messages"]) == []
