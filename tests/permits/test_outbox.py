"""The e-mail outbox (PERMIT-5): written with the status change, sent after commit by a
real Celery worker over Redis to a real SMTP server, at most once, surviving outages."""

import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from permits import outbox, tasks, workflow
from permits.models import OutboundEmail, Status
from tests import services


def wait_until(predicate, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.django_db
def test_it_mails_each_status_change_to_the_company_address(
        make_case, applicant, reviewer, django_capture_on_commit_callbacks):
    # (The test's transaction never commits: run what the code queued for after commit.)
    with django_capture_on_commit_callbacks(execute=True):
        application = make_case(applicant, status=Status.SUPPLEMENT, reviewer=reviewer,
                                company_email="status@anxin.example")
    assert [m.to for m in mail.outbox] == [["status@anxin.example"]] * 2
    request = mail.outbox[-1]
    assert application.receipt_no in request.subject and "補件" in request.subject
    assert "請補附產品英文型錄。" in request.body  # what to supply
    assert OutboundEmail.objects.filter(sent_at__isnull=False).count() == 2


@pytest.mark.django_db
def test_it_writes_english_mail_for_an_english_account(
        make_case, applicant, reviewer, django_capture_on_commit_callbacks):
    applicant.language = "en"
    applicant.save()
    with django_capture_on_commit_callbacks(execute=True):
        make_case(applicant, status=Status.APPROVED, reviewer=reviewer)
    approved = mail.outbox[-1]
    assert "Approved" in approved.subject and "Permit number" in approved.body


@pytest.mark.django_db
def test_it_keeps_no_mail_of_a_change_that_rolled_back(make_case, applicant):
    application = make_case(applicant)
    with pytest.raises(RuntimeError), transaction.atomic():
        workflow.transition(application=application, to=Status.INITIAL_REVIEW,
                            actor=applicant)
        raise RuntimeError("the request failed after the move")
    assert not OutboundEmail.objects.exists() and mail.outbox == []


@pytest.mark.django_db
def test_it_sends_a_row_once(make_case, applicant, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        make_case(applicant, status=Status.INITIAL_REVIEW)
    email = OutboundEmail.objects.get()
    assert outbox.send(email.pk) == outbox.SKIPPED  # already sent after commit
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_it_takes_back_a_row_whose_worker_died(make_case, applicant, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    application = make_case(applicant)
    with transaction.atomic():
        OutboundEmail.objects.create(application=application, to="a@example.com",
                                     subject="s", body="b")
    email = OutboundEmail.objects.get()
    assert outbox.claim(email.pk)  # a worker claims it, then dies before sending
    assert email.pk not in outbox.pending_ids()
    OutboundEmail.objects.filter(pk=email.pk).update(
        claimed_until=timezone.now() - timedelta(seconds=1))  # its lease runs out
    assert email.pk in outbox.pending_ids()
    assert tasks.resend_unsent_emails() == 1
    assert OutboundEmail.objects.get(pk=email.pk).sent_at is not None


@pytest.mark.django_db
def test_it_keeps_the_row_for_the_resend_when_the_broker_cannot_take_the_task(
        make_case, applicant, monkeypatch, django_capture_on_commit_callbacks, caplog):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.send_outbound_email, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        application = make_case(applicant, status=Status.INITIAL_REVIEW)
    email = OutboundEmail.objects.get(application=application)
    assert email.sent_at is None and email.pk in outbox.pending_ids()
    assert "could not queue permits.tasks.send_outbound_email" in caplog.text


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_sends_once_when_two_senders_race(make_case, applicant, settings, smtp_sink):
    services.require_postgres()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_sink.port
    application = make_case(applicant)
    email = OutboundEmail.objects.create(application=application, to="a@example.com",
                                         subject="once", body="b")
    results = services.run_concurrently(lambda: outbox.send(email.pk),
                                        lambda: outbox.send(email.pk))
    assert sorted(results) == [outbox.SENT, outbox.SKIPPED]
    time.sleep(0.5)
    assert len(smtp_sink.messages) == 1


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_it_delivers_status_mail_through_the_worker(make_case, applicant, reviewer,
                                                    celery_worker, smtp_sink):
    services.require_postgres()
    application = make_case(applicant, status=Status.INITIAL_REVIEW)
    workflow.transition(application=application, to=Status.SUPPLEMENT, actor=reviewer,
                        note="請補附交易文件。")
    messages = smtp_sink.wait_for(2)
    assert {m["To"] for m in messages} == {applicant.email}
    assert any("請補附交易文件。" in m.get_body(("plain",)).get_content() for m in messages)
    assert wait_until(lambda: not OutboundEmail.objects.filter(sent_at__isnull=True).exists())


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_it_keeps_mail_while_smtp_is_down_and_sends_it_once_after(make_case, applicant):
    services.require_postgres()
    services.require_redis()
    sink = services.SMTPSink()  # not started: the mail server is down
    with services.running_worker(email_url=sink.url):
        make_case(applicant, status=Status.INITIAL_REVIEW)
        assert wait_until(lambda: OutboundEmail.objects.filter(attempts__gte=1).exists())
        email = OutboundEmail.objects.get()
        assert email.sent_at is None and email.last_error
        sink.start()  # the mail server is back
        try:
            tasks.resend_unsent_emails.delay()  # what beat runs every minute
            sink.wait_for(1)
            assert wait_until(lambda: OutboundEmail.objects.get().sent_at is not None)
            tasks.resend_unsent_emails.delay().get(timeout=30)  # nothing left to send
            time.sleep(1)
            assert len(sink.messages) == 1
        finally:
            sink.stop()
