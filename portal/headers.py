"""Content-Security-Policy and Permissions-Policy on every response (issue 9, point 11).

Django 5.2 has no CSP of its own (6.0 brings django.middleware.csp). This middleware is ours
rather than django-csp's because the policy is one fixed string (no nonces: no template has
an inline script or style left, tests/test_security_headers.py sees to that), and a
Permissions-Policy header needs a middleware anyway. It reads SECURE_CSP and
SECURE_CSP_REPORT_ONLY in Django 6.0's own form, so that moving to Django's middleware is
replacing this one in MIDDLEWARE; PERMISSIONS_POLICY maps a feature to its allowed origins
([] denies it everywhere).

A response that already carries a policy keeps it: a view may set a stricter one (as
attachment downloads do, permits.attachments.download_response).
"""

from django.conf import settings


def _serialize(policy):
    return "; ".join(" ".join([directive, *sources]) for directive, sources in policy.items())


def content_security_policy():
    return _serialize(settings.SECURE_CSP)


def permissions_policy():
    return ", ".join(f"{feature}=({' '.join(origins)})"
                     for feature, origins in settings.PERMISSIONS_POLICY.items())


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        # Fixed for the process: built once.
        self.headers = {}
        if settings.SECURE_CSP:
            self.headers["Content-Security-Policy"] = content_security_policy()
        if getattr(settings, "SECURE_CSP_REPORT_ONLY", None):
            self.headers["Content-Security-Policy-Report-Only"] = _serialize(
                settings.SECURE_CSP_REPORT_ONLY)
        if settings.PERMISSIONS_POLICY:
            self.headers["Permissions-Policy"] = permissions_policy()

    def __call__(self, request):
        response = self.get_response(request)
        for header, value in self.headers.items():
            response.headers.setdefault(header, value)
        return response
