"""The SHTC procedure's periodic work. Tasks call one service."""

from celery import shared_task

from shtc import reimport


@shared_task
def send_reimport_reminders():
    """SHTC-5 (1): remind the holders of exhibition permits whose proof of re-import is
    outstanding, 30 and 7 days before the validity ends and once after; run daily by Celery
    beat. Returns the number of mails queued."""
    return reimport.reminders_send()
