"""The mask procedure's periodic work. Tasks call one service."""

from celery import shared_task

from masks import services


@shared_task
def send_stock_reminders():
    """稽催信 (MASK-8), run daily by Celery beat; mails each applicant once per period."""
    return services.reminders_send()
