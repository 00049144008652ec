"""Traditional Chinese by default, English through the switcher, whatever the browser says."""

import pytest
from django.urls import reverse

LOGIN = reverse("accounts:login")


@pytest.mark.django_db
def test_it_speaks_chinese_to_an_english_browser(client):
    response = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response["Content-Language"] == "zh-hant"
    html = response.content.decode()
    assert 'lang="zh-Hant-TW"' in html and "<h1 class=\"h3 mb-3\">登入系統</h1>" in html


@pytest.mark.django_db
def test_it_switches_to_english_and_back(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": LOGIN})
    assert response.status_code == 302 and response.url == LOGIN
    english = client.get(LOGIN)
    assert english["Content-Language"] == "en"
    assert "Forgot account or password" in english.content.decode()

    client.post(reverse("set_language"), {"language": "zh-hant", "next": LOGIN})
    assert "忘記帳號密碼" in client.get(LOGIN).content.decode()


@pytest.mark.django_db
def test_it_ignores_an_unknown_language(client):
    client.cookies["django_language"] = "xx"
    assert client.get(LOGIN)["Content-Language"] == "zh-hant"


@pytest.mark.django_db
def test_it_translates_validation_messages(client):
    data = {"identifier_type": "ban", "identifier": "00501502"}
    html = client.post(reverse("accounts:signup"), data).content.decode()
    assert "統一編號檢查碼錯誤" in html
