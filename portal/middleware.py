import time

from django.conf import settings
from django.contrib.auth import logout
from django.utils import translation

IDLE_KEY = "last_activity"
IDLE_LOGOUT_FLAG = "idle_logout"


class IdleTimeoutMiddleware:
    """ACC-3: a session with no request for SESSION_IDLE_TIMEOUT (20 minutes) ends.

    The time of the last request is kept in the session. When the next one comes too late
    the user is logged out before the view runs, so a login-required page sends them to the
    login page, which says why (the flag survives in the new, anonymous session).
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.timeout = settings.SESSION_IDLE_TIMEOUT.total_seconds()

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            last = request.session.get(IDLE_KEY)
            if last is not None and now - last > self.timeout:
                logout(request)
                request.session[IDLE_LOGOUT_FLAG] = True
            else:
                request.session[IDLE_KEY] = now
        return self.get_response(request)


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
