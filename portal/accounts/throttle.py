"""The second login lock: by network address.

django-axes locks an *account* after 5 failed logins (settings.AXES_*). An address gets a
higher limit of its own, because a customs broker's clerks share one office address: one
clerk's typos must not lock the whole office out, while one address trying many accounts
(password spraying) is still stopped. Failures are counted in the cache (Redis in
production) for LOGIN_ADDRESS_COOLOFF and never reset by a success, which an attacker could
produce with an account of their own.

*decision*: while the cache is down (Redis stopped, issue 9) logins go on and the address
limit counts from the database instead: django-axes keeps a row per account, address and
browser with its failures (AccessAttempt), and the rows from this address whose last failure
is within LOGIN_ADDRESS_COOLOFF are summed. That count is coarser (a row's failures since it
was made; a success deletes its own account's rows) but an address spraying passwords over
many accounts is still stopped, and the account lock is axes' own, in the database anyway.
Each fallback logs a WARNING.
"""

import logging
from functools import wraps

from axes.helpers import get_client_ip_address
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.db.models import Sum
from django.dispatch import receiver
from django.shortcuts import render
from django.utils import timezone
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# What the cache raises while Redis is down, refuses or hangs (settings.REDIS_CACHE_OPTIONS
# bound the wait).
CACHE_ERRORS = (RedisError, OSError)


def count_in_window(key, seconds):
    """Add one to the cache counter `key`, which lives `seconds` from its first count (a
    fixed window), and return the new count. Raises one of CACHE_ERRORS if the cache is
    down: the caller decides how to degrade."""
    cache.add(key, 0, timeout=seconds)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=seconds)
        return 1


def _key(request):
    return f"login-failures:{get_client_ip_address(request)}"


def _cooloff_seconds():
    return int(settings.LOGIN_ADDRESS_COOLOFF.total_seconds())


@receiver(user_login_failed)
def count_failure(sender, credentials, request=None, **kwargs):
    if request is None:
        return
    try:
        count_in_window(_key(request), _cooloff_seconds())
    except CACHE_ERRORS as error:
        # axes' row holds this failure too; address_locked() reads it from there.
        logger.warning("login failure not counted in the cache (%s)", error)


def _failures_in_database(request):
    since = timezone.now() - settings.LOGIN_ADDRESS_COOLOFF
    return (AccessAttempt.objects
            .filter(ip_address=get_client_ip_address(request), attempt_time__gte=since)
            .aggregate(failures=Sum("failures_since_start"))["failures"] or 0)


def address_locked(request):
    try:
        failures = cache.get(_key(request), 0)
    except CACHE_ERRORS as error:
        logger.warning("login address limit counted from the database: the cache is down "
                       "(%s)", error)
        failures = _failures_in_database(request)
    return failures >= settings.LOGIN_ADDRESS_FAILURE_LIMIT


def locked_out_response(request):
    return render(request, "registration/locked_out.html", {
        "failure_limit": settings.LOGIN_ADDRESS_FAILURE_LIMIT,
        "cooloff_timedelta": settings.LOGIN_ADDRESS_COOLOFF,
        "by_address": True,
    }, status=429)


def guard_address(view):
    """Refuse login attempts from a locked address before the password is even checked."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method == "POST" and address_locked(request):
            return locked_out_response(request)
        return view(request, *args, **kwargs)

    return wrapper
