"""The second login lock: by network address.

django-axes locks an *account* after 5 failed logins (settings.AXES_*). An address gets a
higher limit of its own, because a customs broker's clerks share one office address: one
clerk's typos must not lock the whole office out, while one address trying many accounts
(password spraying) is still stopped. Failures are counted in the cache (Redis in
production) for LOGIN_ADDRESS_COOLOFF and never reset by a success, which an attacker could
produce with an account of their own.
"""

from functools import wraps

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.dispatch import receiver
from django.shortcuts import render


def _key(request):
    return f"login-failures:{get_client_ip_address(request)}"


def _cooloff_seconds():
    return int(settings.LOGIN_ADDRESS_COOLOFF.total_seconds())


@receiver(user_login_failed)
def count_failure(sender, credentials, request=None, **kwargs):
    if request is None:
        return
    key = _key(request)
    cache.add(key, 0, timeout=_cooloff_seconds())
    try:
        cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=_cooloff_seconds())


def address_locked(request):
    return cache.get(_key(request), 0) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT


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
