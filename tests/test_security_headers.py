"""Content-Security-Policy and Permissions-Policy on every response, and templates that need
no exception from them: no inline script, event handler, javascript: URL or style attribute
(issue 9, point 11). The Chromium check is tests/browser/test_content_security_policy.py."""

import re
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template import engines
from django.urls import include, path, reverse

from permits.models import Status

ROOT = Path(__file__).resolve().parent.parent


def boom(request):
    raise RuntimeError("a bug")


def forbidden(request):
    raise PermissionDenied


def own_policy(request):
    response = HttpResponse("x")
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


# This module is also the URL configuration of the tests marked `urls` below: the portal's
# URLs plus views that fail, to see the headers on error pages too.
urlpatterns = [
    path("boom/", boom),
    path("forbidden/", forbidden),
    path("own-policy/", own_policy),
    path("", include("tests.urls")),
]


def directives(header):
    parsed = {}
    for directive in header.split(";"):
        name, *sources = directive.split()
        parsed[name] = sources
    return parsed


EXPECTED_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}
DENIED_FEATURES = ["camera", "microphone", "geolocation", "payment", "usb", "serial",
                   "display-capture"]


def assert_headers(response):
    assert "Content-Security-Policy" in response, response.request["PATH_INFO"]
    assert directives(response["Content-Security-Policy"]) == EXPECTED_CSP
    policy = dict(feature.strip().split("=", 1)
                  for feature in response["Permissions-Policy"].split(","))
    for feature in DENIED_FEATURES:
        assert policy[feature] == "()", feature


def test_it_builds_the_policy_from_the_settings():
    from portal.headers import content_security_policy, permissions_policy

    assert directives(content_security_policy()) == EXPECTED_CSP
    assert "camera=()" in permissions_policy().split(", ")


ANONYMOUS_PAGES = ["/", "/accounts/login/", "/accounts/signup/", "/accounts/password/reset/",
                   "/verify/", "/admin/login/", "/healthz", "/no-such-page/",
                   "/api/customs/messages", "/cases/", "/static/portal/css/portal.css"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", ANONYMOUS_PAGES)
def test_it_sends_the_headers_to_anonymous_visitors(client, url):
    assert_headers(client.get(url))


@pytest.mark.django_db
def test_it_sends_the_headers_on_the_applicants_pages(client, applicant, make_case):
    application = make_case(applicant, status=Status.INITIAL_REVIEW)
    client.force_login(applicant)
    for url in [reverse("permits:dashboard"), reverse("masks:application_basic"),
                reverse("permits:application_detail", args=[application.pk]),
                reverse("accounts:profile"), reverse("masks:flow_start")]:
        response = client.get(url)
        assert response.status_code in (200, 302), url
        assert_headers(response)
    # A refused form (400) and a redirect carry them too.
    assert_headers(client.post(reverse("accounts:password_change"), {}))
    assert_headers(client.post(reverse("accounts:logout")))


@pytest.mark.django_db
def test_it_sends_the_headers_in_the_admin(client, reviewer, applicant, make_case):
    application = make_case(applicant, status=Status.INITIAL_REVIEW)
    client.force_login(reviewer)
    for url in ["/admin/", "/admin/permits/application/",
                f"/admin/permits/application/{application.pk}/change/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_headers(response)


@pytest.mark.django_db
@pytest.mark.urls("tests.test_security_headers")
def test_it_sends_the_headers_on_error_pages(client):
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    assert_headers(response)
    response = client.get("/forbidden/")
    assert response.status_code == 403
    assert_headers(response)


@pytest.mark.django_db
@pytest.mark.urls("tests.test_security_headers")
def test_it_leaves_a_policy_a_view_set_itself(client):
    response = client.get("/own-policy/")
    assert response["Content-Security-Policy"] == "default-src 'none'"
    assert "camera=()" in response["Permissions-Policy"]


# --- The templates ------------------------------------------------------------------------

# Templates rendered only into PDFs by WeasyPrint, or into e-mail, are never served to a
# browser; everything else is.
NOT_SERVED = ("pdf/", "emails/", "masks/emails/")
INLINE = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc\s*=)[^>]*>", re.IGNORECASE),
    "event handler": re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
    "style attribute": re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE),
    "style element": re.compile(r"<style[\s>]", re.IGNORECASE),
}


def served_templates():
    """Every template of the project's own directories (not the installed packages')."""
    directories = [Path(d) for d in engines["django"].engine.dirs]
    directories += [p for p in ROOT.glob("*/templates") if p.is_dir()]
    directories += [p for p in ROOT.glob("*/*/templates") if p.is_dir()
                    and ".venv" not in p.parts]
    for directory in directories:
        for template in sorted(directory.rglob("*.html")):
            name = template.relative_to(directory).as_posix()
            if not name.startswith(NOT_SERVED):
                yield name, template


def test_it_finds_the_templates():
    names = [name for name, _path in served_templates()]
    assert "base.html" in names
    assert "admin/permits/application/change_form.html" in names
    assert not any(name.startswith("pdf/") for name in names)


@pytest.mark.parametrize("kind", INLINE.keys())
def test_it_leaves_nothing_inline_in_the_templates(kind):
    offenders = [f"{name}: {match.group(0)[:80]}"
                 for name, template in served_templates()
                 for match in INLINE[kind].finditer(template.read_text())]
    assert offenders == []


@pytest.mark.parametrize("snippet", [
    '<script>alert(1)</script>', '<SCRIPT type="module">x</SCRIPT>',
    '<button onclick="go()">', '<a href="javascript:go()">', '<div style="width: 5%">',
    '<style>p {}</style>', '<body\n  onload="x()">'])
def test_it_would_notice_each_inline_form(snippet):
    assert any(pattern.search(snippet) for pattern in INLINE.values())


@pytest.mark.parametrize("snippet", [
    '<script src="/static/x.js"></script>', '<script defer src="/static/x.js"></script>',
    '<div data-style="x" class="once">', '<a href="/only/">'])
def test_it_lets_scripts_from_files_through(snippet):
    assert not any(pattern.search(snippet) for pattern in INLINE.values())
