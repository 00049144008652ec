from django.conf import settings


def portal(request):
    return {
        "bureau_phone": settings.BUREAU_SERVICE_PHONE,
        "idle_timeout_seconds": int(settings.SESSION_IDLE_TIMEOUT.total_seconds()),
        "idle_warning_seconds": int(settings.SESSION_IDLE_WARNING.total_seconds()),
    }
