import logging
import smtplib

from celery import shared_task
from django.core.mail import EmailMessage
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# What queueing raises when the broker is down, refuses or hangs (kombu wraps most of it).
BROKER_ERRORS = (OperationalError, RedisError, OSError)


def enqueue(task, *args, **kwargs):
    """`task.delay(*args, **kwargs)` for a caller whose work is committed: when the broker
    cannot take the task the request must not fail (issue 9), so the error is logged and
    None returned. Whatever the task would have done must be kept elsewhere and done later
    (an outbox row waits for beat's resend); the settings make a dead broker fail within
    seconds. In-process (no broker), the task's own errors still propagate."""
    try:
        return task.delay(*args, **kwargs)
    except BROKER_ERRORS as error:
        logger.warning("could not queue %s%r: %s", task.name, args, error)
        return None


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


@shared_task(ignore_result=False)  # its answer is read (settings: results are ignored)
def ping():
    """Answers 'pong': lets the deployment (and the tests) see a worker end to end."""
    return "pong"
