"""The home page: the menu of procedures, with the user and, for agents, 代理人."""

import pytest
from django.urls import reverse

from portal import menu

HOME = reverse("home")


@pytest.mark.django_db
def test_it_shows_the_user_in_the_header(client, applicant):
    client.force_login(applicant)
    html = client.get(HOME).content.decode()
    assert applicant.name in html and applicant.identifier in html
    assert "代理人" not in html


@pytest.mark.django_db
def test_it_marks_an_agent(client, agent):
    client.force_login(agent)
    assert "代理人" in client.get(HOME).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["applicant", "agent", "reviewer"])
def test_it_has_no_dead_links(client, request, who):
    user = request.getfixturevalue(who)
    client.force_login(user)
    response = client.get(HOME)
    entries = [e for _section, group in response.context["sections"] for e in group]
    assert entries
    for entry in entries:
        assert client.get(entry.url).status_code == 200, entry.url


@pytest.mark.django_db
def test_it_shows_the_back_office_to_staff_only(client, applicant, reviewer):
    client.force_login(applicant)
    names = [e.url_name for e in _entries(client)]
    assert "admin:index" not in names
    client.force_login(reviewer)
    assert "admin:index" in [e.url_name for e in _entries(client)]


def _entries(client):
    return [e for _s, group in client.get(HOME).context["sections"] for e in group]


def test_it_registers_an_entry_once():
    before = len(menu._entries)
    for _ in range(2):
        menu.register(section="Test section", label="Test entry", url_name="home", order=1)
    assert len(menu._entries) == before + 1
    menu._entries.pop()


@pytest.mark.django_db
def test_it_answers_the_health_check(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200 and response.content == b"ok"
