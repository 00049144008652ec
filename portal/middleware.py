import time
from functools import wraps

from django.conf import settings
from django.contrib.auth import logout
from django.http import JsonResponse
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

IDLE_KEY = "last_activity"
IDLE_LOGOUT_FLAG = "idle_logout"


def idle_timeout():
    """The idle limit in seconds, read at each request (tests shorten it)."""
    return settings.SESSION_IDLE_TIMEOUT.total_seconds()


class IdleTimeoutMiddleware:
    """ACC-3: a session with no request for SESSION_IDLE_TIMEOUT (20 minutes) ends.

    The time of the last request is kept in the session. When the next one comes too late
    the user is logged out before the view runs, so a login-required page sends them to the
    login page, which says why (the flag survives in the new, anonymous session). A request
    to a view marked idle_passive (the page's own status check and autosave, which no user
    clicked) does not count as activity: otherwise the page would keep itself logged in.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            last = request.session.get(IDLE_KEY)
            if last is not None and time.time() - last > idle_timeout():
                logout(request)
                request.session[IDLE_LOGOUT_FLAG] = True
        response = self.get_response(request)
        # After the view: it may have logged the user in or out, or declared itself passive.
        if request.user.is_authenticated and not getattr(request, "idle_passive", False):
            request.session[IDLE_KEY] = time.time()
        return response


def idle_passive(view):
    """Requests to `view` do not restart the idle time (ACC-3); a session already idle too
    long still ends before the view runs."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        request.idle_passive = True
        return view(request, *args, **kwargs)

    return wrapped


@never_cache
@require_http_methods(["GET", "POST"])
def session_idle(request):
    """The idle notice's endpoint (static/portal/js/idle.js): GET tells how many seconds the
    session has left without counting as activity, so that a page idle in one tab does not
    warn or log out while the user works in another; POST ("繼續使用") is activity and
    extends the session. Anyone without a session has 0 left."""
    request.idle_passive = request.method != "POST"
    remaining = 0
    if request.user.is_authenticated:
        timeout = idle_timeout()
        last = request.session.get(IDLE_KEY)
        if request.method == "POST" or last is None:
            remaining = timeout
        else:
            remaining = max(timeout - (time.time() - last), 0)
    return JsonResponse({"remaining": round(remaining, 1)})


class LocaleMiddleware:
    """Traditional Chinese unless the user chose English with the language switcher.

    Django's own LocaleMiddleware would follow the browser's Accept-Language; a government
    portal speaks its own language first, so only the switcher's cookie counts here.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response
