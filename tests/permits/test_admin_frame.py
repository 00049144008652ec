"""The admin's frame in one template (templates/admin/base_site.html, issue 10): every admin
page is what Django's admin/base.html and admin/base_site.html, with the portal's idle notice
added as before, draw (but for blanks), for a reviewer, a superuser and a visitor who is not
signed in, in both languages."""

import copy
import re

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from permits.models import Status

pytestmark = pytest.mark.django_db

# What admin/base_site.html was: Django's (its admin/base_site.html over its admin/base.html)
# with the idle notice's styles and footer.
CHAIN = """{% extends "admin/base_site.html" %}{% load i18n static %}
{% block extrastyle %}{{ block.super }}<link rel="stylesheet" href="{% static 'portal/css/idle.css' %}"><link rel="stylesheet" href="{% static 'portal/css/admin_idle.css' %}"><link rel="stylesheet" href="{% static 'portal/css/admin_wcag.css' %}">{% endblock %}
{% block footer %}{{ block.super }}{% if user.is_authenticated %}{% include "includes/idle_notice.html" %}<script src="{% static 'portal/js/idle.js' %}"></script>{% endif %}<script src="{% static 'portal/js/error_summary.js' %}" data-title="{% translate "Please correct the following:" %}" data-separator="{% if LANGUAGE_CODE == 'zh-hant' %}：{% else %}: {% endif %}" data-class="errornote error-summary"></script>{% endblock %}
"""  # noqa: E501


def with_template(name, source, *, apps_first=False):
    """TEMPLATES with `name` taken from `source`, before the portal's own templates (or,
    `apps_first`, before the apps' and then the portal's: a `source` extending its own name
    then extends Django's)."""
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["APP_DIRS"] = False
    folders = ["django.template.loaders.filesystem.Loader",
               "django.template.loaders.app_directories.Loader"]
    templates[0]["OPTIONS"]["loaders"] = [
        ("django.template.loaders.locmem.Loader", {name: source}),
        *(reversed(folders) if apps_first else folders)]
    return templates


def blanks_as_one(response):
    """The page's HTML, its runs of blanks made one space (as HTML shows them), without the
    CSRF token's value (masked anew for every page)."""
    text = re.sub(r'(name="csrfmiddlewaretoken" value=)"[^"]*"', r"\1", response.content.decode())
    return re.sub(r"\s+", " ", text).strip()


def both_ways(client, path):
    framed = client.get(path)
    with override_settings(TEMPLATES=with_template("admin/base_site.html", CHAIN,
                                                    apps_first=True)):
        old = client.get(path)
    assert framed.status_code == old.status_code
    assert "admin/base.html" not in [t.name for t in framed.templates]
    assert "admin/base.html" in [t.name for t in old.templates]
    return blanks_as_one(framed), blanks_as_one(old)


@pytest.mark.parametrize("language", ["zh-hant", "en"])
def test_the_reviewers_pages_are_what_djangos_chain_draws(client, reviewer, make_case,
                                                         applicant, language):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    client.force_login(reviewer)
    client.cookies["django_language"] = language
    changelist = reverse("admin:permits_application_changelist")
    for path in (changelist, changelist + "?q=2209&_popup=1",
                 reverse("admin:permits_application_workflow"),
                 reverse("admin:permits_application_change", args=[case.pk]),
                 reverse("admin:index"), reverse("admin:app_list", args=["permits"]),
                 reverse("admin:accounts_user_changelist")):
        framed, old = both_ways(client, path)
        assert framed == old, path


def test_a_superusers_and_a_visitors_pages_are_what_djangos_chain_draws(client, make_user):
    superuser = make_user("99999993", is_staff=True, is_superuser=True)
    framed, old = both_ways(client, reverse("admin:login"))
    assert framed == old
    client.force_login(superuser)
    for path in (reverse("admin:index"), reverse("admin:auth_group_add"),
                 reverse("admin:permits_application_changelist")):
        framed, old = both_ways(client, path)
        assert framed == old, path
