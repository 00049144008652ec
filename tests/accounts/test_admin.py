"""Reviewers in the Django admin (ACC-5): the group holds exactly its permissions."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from portal.accounts.models import REVIEWERS_GROUP, User
from portal.accounts.reviewers import REVIEWER_PERMISSIONS

CHANGELIST = reverse("admin:accounts_user_changelist")


@pytest.mark.django_db
def test_it_gives_the_reviewers_group_exactly_its_permissions():
    group = Group.objects.get(name=REVIEWERS_GROUP)
    held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
    assert held == REVIEWER_PERMISSIONS


@pytest.mark.django_db
def test_it_lets_a_reviewer_look_up_accounts(client, reviewer, applicant):
    client.force_login(reviewer)
    response = client.get(CHANGELIST, {"q": "22099131"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [applicant]


@pytest.mark.django_db
def test_it_never_lets_a_reviewer_change_an_account(client, reviewer, applicant):
    client.force_login(reviewer)
    url = reverse("admin:accounts_user_change", args=[applicant.pk])
    client.post(url, {"name": "改名", "email": "x@example.com"})
    assert User.objects.get(pk=applicant.pk).name == applicant.name


@pytest.mark.django_db
def test_it_refuses_staff_outside_the_reviewers_group(client, make_user):
    staff = make_user("A223456781", identifier_type="national_id", is_staff=True)
    client.force_login(staff)
    assert client.get(CHANGELIST).status_code == 403


@pytest.mark.django_db
def test_it_refuses_applicants(client, applicant):
    client.force_login(applicant)
    response = client.get(CHANGELIST)
    assert response.status_code == 302 and "/admin/login/" in response.url


@pytest.mark.django_db
def test_it_shows_the_identifier_read_only_to_a_superuser(client, make_user, applicant):
    admin = make_user("A123456789", identifier_type="national_id", is_staff=True,
                      is_superuser=True)
    client.force_login(admin)
    url = reverse("admin:accounts_user_change", args=[applicant.pk])
    html = client.get(url).content.decode()
    assert 'name="identifier"' not in html and "22099131" in html
