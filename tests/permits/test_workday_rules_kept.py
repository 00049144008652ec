"""The working-day rules kept per process (permits.workdays.kept_rules, bench/README.md
"Stop 22 (admin pages)"): read once, read again in every process after a calendar adjustment
or a target is saved or deleted (the version token in Django's cache, replaced at commit),
never kept inside a transaction, read from the database while the cache is down; and the
calendar's arithmetic (count, add) as counting day by day."""

import datetime
import importlib

import pytest
from django.core.cache import cache, caches
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from permits import workdays
from permits.models import (
    DocumentType,
    ReviewStage,
    ReviewTarget,
    WorkdayAdjustment,
    WorkdayKind,
)

D = datetime.date
SHTC = DocumentType.SHTC_EXPORT


@pytest.fixture
def fresh(transactional_db, monkeypatch):
    """Committed rows (outside a transaction the rules may be kept), the data migration's
    targets, nothing kept from another test."""
    from django.apps import apps

    importlib.import_module("permits.migrations.0010_workday_calendar").seed_targets(apps, None)
    monkeypatch.setattr(workdays, "_kept", None)
    monkeypatch.setattr(workdays, "_cache_failed_at", None)
    cache.delete(workdays.VERSION_KEY)


class Request:
    """What rules_for() reads of a request: nothing but its own attribute."""


def rules_read():
    """(rules for a new request, queries it cost)."""
    with CaptureQueriesContext(connection) as queries:
        rules = workdays.rules_for(Request())
    return rules, len(queries)


def test_the_rules_are_read_once_and_kept(fresh):
    first, read = rules_read()
    again, read_again = rules_read()
    assert (read, read_again) == (1, 0)
    assert again is first
    assert first.target(SHTC, ReviewStage.INITIAL_REVIEW) == 7


def test_a_new_adjustment_or_target_is_seen_at_the_next_request(fresh):
    rules_read()
    WorkdayAdjustment.objects.create(date=D(2026, 12, 9), kind=WorkdayKind.DAY_OFF)
    rules, read = rules_read()
    assert read == 1 and not rules.calendar.is_workday(D(2026, 12, 9))
    target = ReviewTarget.objects.get(document_type=SHTC, stage=ReviewStage.INITIAL_REVIEW)
    target.working_days = 5
    target.save()
    rules, read = rules_read()
    assert read == 1 and rules.target(SHTC, ReviewStage.INITIAL_REVIEW) == 5
    WorkdayAdjustment.objects.all().delete()
    rules, read = rules_read()
    assert read == 1 and rules.calendar.is_workday(D(2026, 12, 9))
    assert rules_read()[1] == 0


def test_another_process_change_is_seen_through_the_token(fresh):
    rules_read()
    # Another process saved a change: its commit replaced the token in the shared cache.
    WorkdayAdjustment.objects.bulk_create(  # (no signal here: the token stands for it)
        [WorkdayAdjustment(date=D(2026, 12, 12), kind=WorkdayKind.WORKDAY)])
    assert not rules_read()[0].calendar.is_workday(D(2026, 12, 12))  # still the kept ones
    cache.set(workdays.VERSION_KEY, "another process's token")
    rules, read = rules_read()
    assert read == 1 and rules.calendar.is_workday(D(2026, 12, 12))
    # The token expired (VERSION_TTL): read again too.
    cache.delete(workdays.VERSION_KEY)
    assert rules_read()[1] == 1


def test_the_token_is_replaced_at_commit_not_before(fresh):
    rules_read()
    token = cache.get(workdays.VERSION_KEY)
    with transaction.atomic():
        WorkdayAdjustment.objects.create(date=D(2026, 12, 9), kind=WorkdayKind.DAY_OFF)
        assert cache.get(workdays.VERSION_KEY) == token
        # Inside a transaction nothing is kept or used: its rows are read.
        rules, read = rules_read()
        assert read == 1 and not rules.calendar.is_workday(D(2026, 12, 9))
    assert cache.get(workdays.VERSION_KEY) != token


def test_a_change_rolled_back_is_not_kept(fresh):
    kept, _read = rules_read()
    with pytest.raises(RuntimeError), transaction.atomic():
        WorkdayAdjustment.objects.create(date=D(2026, 12, 9), kind=WorkdayKind.DAY_OFF)
        assert not rules_read()[0].calendar.is_workday(D(2026, 12, 9))
        raise RuntimeError
    rules, read = rules_read()
    assert read == 0 and rules is kept and rules.calendar.is_workday(D(2026, 12, 9))


def test_without_the_cache_the_rules_are_read_from_the_database(fresh, monkeypatch):
    rules_read()
    backend = caches["default"]  # (what `cache` stands for in this thread)
    real_get = backend.get

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(backend, "get", down)
    monkeypatch.setattr(backend, "set", down)
    # A change saved meanwhile stands (its token not replaced), and is seen: nothing kept
    # is used without the cache.
    WorkdayAdjustment.objects.create(date=D(2026, 12, 9), kind=WorkdayKind.DAY_OFF)
    rules, read = rules_read()
    assert read == 1 and not rules.calendar.is_workday(D(2026, 12, 9))
    asked = []
    monkeypatch.setattr(backend, "get", lambda *args, **kwargs: asked.append(args))
    assert rules_read()[1] == 1 and not asked  # not asked again for CACHE_RETRY seconds
    # Back: the token the failed write did not replace expires (VERSION_TTL).
    monkeypatch.setattr(backend, "get", real_get)
    monkeypatch.setattr(workdays, "_cache_failed_at", None)
    cache.delete(workdays.VERSION_KEY)
    rules, read = rules_read()
    assert read == 1 and not rules.calendar.is_workday(D(2026, 12, 9))
    assert rules_read()[1] == 0


def test_the_case_page_reads_no_rules_when_they_are_kept(fresh, client, reviewer, make_case,
                                                         applicant):
    """admin_case._read: the kept rules, not the rules' statement in its round trip."""
    from django.urls import reverse

    from permits.models import Status

    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    client.force_login(reviewer)
    url = reverse("admin:permits_application_change", args=[case.pk])
    pages = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200 and 'data-testid="case-clock"' in \
            response.content.decode()
        pages.append(" ".join(query["sql"] for query in queries.captured_queries))
    assert "permits_workdayadjustment" in pages[0]
    assert "permits_workdayadjustment" not in pages[1]


