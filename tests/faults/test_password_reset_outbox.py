"""忘記帳號密碼 (ACC-2) with Redis down: the page still says the mail is on its way, and the
mail is not lost: it waits in the outbox (one place for mail, permits.outbox) and goes out
once it can, as beat's resend sends it."""

import logging

import pytest
from django.core import mail
from django.urls import reverse

from permits import outbox
from permits.models import OutboundEmail
from tests.faults.test_redis_down import redis_down  # noqa: F401 (the fixture)

pytestmark = pytest.mark.redis_server


@pytest.mark.django_db(transaction=True)
def test_the_reset_mail_waits_in_the_outbox_while_redis_is_down(client, applicant,
                                                                redis_down,  # noqa: F811
                                                                caplog):
    client.cookies["django_language"] = "en"
    mail.outbox.clear()
    response = client.post(reverse("accounts:password_reset"), {"email": applicant.email},
                           follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("accounts:password_reset_done")
    assert any(r.levelno >= logging.WARNING and r.name == "portal.tasks"
               for r in caplog.records)
    email = OutboundEmail.objects.get(to=applicant.email)
    assert email.sent_at is None and email.pk in outbox.pending_ids()
    assert mail.outbox == []

    # Once the broker answers again, beat's resend hands the row to a worker: it goes out.
    assert outbox.send(email.pk) == outbox.SENT
    [sent] = mail.outbox
    assert sent.to == [applicant.email] and "/password/reset/" in sent.body
    assert applicant.identifier in sent.body
    assert OutboundEmail.objects.get(pk=email.pk).sent_at is not None


@pytest.mark.django_db
def test_the_outbox_admin_never_shows_a_reset_link(client, applicant, admin_user,
                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:password_reset"), {"email": applicant.email})
    email = OutboundEmail.objects.get(to=applicant.email)
    assert email.sent_at is not None and "/password/reset/" in email.body
    client.force_login(admin_user)
    page = client.get(reverse("admin:permits_outboundemail_change", args=[email.pk]))
    assert page.status_code == 200
    assert "/password/reset/" not in page.content.decode()
    assert email.subject in page.content.decode()
