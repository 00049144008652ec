"""The exhibition permits' re-import reminders in the admin (shtc.admin.ReimportReminderAdmin,
SHTC-5 (1)): reviewers see them; nobody adds, changes or deletes one there (the reminder job
alone writes them, shtc/reimport.py)."""

import datetime

import pytest
from django.urls import reverse

from permits.models import Status
from shtc.models import ReimportReminder, ReimportReminderStep

pytestmark = pytest.mark.django_db


@pytest.fixture
def reminder(make_case, applicant, reviewer):
    case = make_case(applicant, status=Status.APPROVED, reviewer=reviewer)
    return ReimportReminder.objects.create(
        permit=case.issued_version.permit, step=ReimportReminderStep.DAYS_7,
        valid_until=datetime.date(2026, 3, 31))


def admin_url(view, *args):
    return reverse(f"admin:shtc_reimportreminder_{view}", args=args)


def test_it_lists_the_reminders_to_a_reviewer(client, reviewer, reminder):
    client.force_login(reviewer)
    response = client.get(admin_url("changelist"))
    assert response.status_code == 200
    assert reminder.permit.permit_no in response.content.decode()
    found = client.get(admin_url("changelist"), {"q": reminder.permit.permit_no[:6]})
    assert list(found.context["cl"].result_list) == [reminder]


def test_it_shows_a_reminder_read_only(client, reviewer, reminder):
    client.force_login(reviewer)
    response = client.get(admin_url("change", reminder.pk))
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    assert response.context["adminform"].form.fields == {}  # every field read-only
    response = client.post(admin_url("change", reminder.pk), {
        "step": ReimportReminderStep.EXPIRED, "valid_until": "2030-01-01"})
    assert response.status_code == 403
    reminder.refresh_from_db()
    assert reminder.step == ReimportReminderStep.DAYS_7


def test_it_adds_and_deletes_none(client, reviewer, reminder, admin_user):
    for user in (reviewer, admin_user):  # not even a superuser
        client.force_login(user)
        assert client.get(admin_url("add")).status_code == 403
        assert client.post(admin_url("delete", reminder.pk), {"post": "yes"}).status_code == 403
        changelist = client.get(admin_url("changelist"))
        assert changelist.context["action_form"] is None  # no delete_selected either
    assert ReimportReminder.objects.filter(pk=reminder.pk).exists()


def test_it_is_not_for_staff_outside_the_reviewers(client, make_user, reminder):
    staff = make_user("B123456780", is_staff=True)
    client.force_login(staff)
    assert client.get(admin_url("changelist")).status_code == 403
    assert client.get(admin_url("change", reminder.pk)).status_code == 403


def test_it_sends_applicants_to_the_admin_login(client, applicant, reminder):
    client.force_login(applicant)
    response = client.get(admin_url("changelist"))
    assert response.status_code == 302 and "/admin/login/" in response.url
