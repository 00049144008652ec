import logging
import smtplib

from celery import shared_task
from django.core.mail import EmailMessage

logger = logging.getLogger(__name__)


@shared_task(
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=60 * 30,
    retry_jitter=True,
    max_retries=12,
)
def send_email(*, subject, body, to):
    """Send one plain-text mail; when the mail server is down, retry with a growing pause
    (about a day in all). Used for account mail; case status mail goes through the permits
    outbox, which also keeps what it could not send."""
    EmailMessage(subject=subject, body=body, to=to).send()
    logger.info("mail sent to %s: %s", ", ".join(to), subject)


@shared_task
def ping():
    """Answers 'pong': lets the deployment (and the tests) see a worker end to end."""
    return "pong"
