"""Celery: a real worker process over the real Redis broker; in-process without REDIS_URL."""

import pytest

from portal import tasks


@pytest.mark.redis
def test_it_round_trips_a_task_through_redis_and_a_worker(celery_worker):
    result = tasks.ping.delay()
    assert result.get(timeout=30) == "pong"
    assert result.state == "SUCCESS"


@pytest.mark.redis
def test_it_delivers_mail_from_the_worker_over_smtp(celery_worker, smtp_sink):
    tasks.send_email.delay(subject="測試 / test", body="內容", to=["a@example.com"])
    [message] = smtp_sink.wait_for(1)
    assert message["Subject"] == "測試 / test"
    assert message["To"] == "a@example.com"


def test_it_runs_tasks_in_process_when_eager():
    from portal.celery import app

    assert app.conf.task_always_eager
    assert tasks.ping.delay().get() == "pong"
