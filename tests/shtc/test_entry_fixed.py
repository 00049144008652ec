"""The entry pages' fixed texts rendered once per language ({% fixed %},
permits/templatetags/fixed_text.py; issue 10, bench/README.md "Stop 24 (applicants' pages)"):
the basic data page (permits/entry/basic.html: 9-1-1's and the mask application's), its draft
buttons, 9-1-1's 申請類別 (with each kind current, on the change start page too) and the
轉口港代碼 look-up's link print what the plain templates print, in both languages, for an
applicant and a filing agent."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from permits.templatetags import fixed_text

LANGUAGES = ["zh-hant", "en"]


def masked(html):
    html = re.sub(r'(name="csrfmiddlewaretoken" value=)"[^"]*"', r'\1"X"', html)
    return re.sub(r'(name="client_token" value=)"[^"]*"', r'\1"X"', html)


def printed(client, users, pages):
    """{(user, language, page): the page's HTML} as each user sees each page now."""
    found = {}
    for user in users:
        client.force_login(user)
        for language in LANGUAGES:
            client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
            for page in pages:
                response = client.get(page)
                assert response.status_code == 200, page
                found[user.pk, language, page] = masked(response.content.decode())
    return found


@pytest.mark.django_db
def test_the_entry_pages_print_what_the_plain_templates_print(client, applicant, agent,
                                                              monkeypatch):
    pages = [reverse("shtc:application_basic"),
             reverse("shtc:application_basic") + "?registration_no=EEU11500000001",
             reverse("masks:application_basic"),
             *(reverse("shtc:change_start") + f"?kind={kind}"
               for kind in ("amendment", "correction", "mismatch_correction"))]
    monkeypatch.setattr(fixed_text, "CACHING", False)
    seen = printed(client, (applicant, agent), pages)
    monkeypatch.setattr(fixed_text, "CACHING", True)
    assert printed(client, (applicant, agent), pages) == seen  # drawn and kept
    assert printed(client, (applicant, agent), pages) == seen  # kept
    basic = seen[applicant.pk, "en", pages[0]]
    for shown in ('data-testid="draft-buttons"', 'data-testid="application-kinds"',
                  'data-kind="new"', "data-port-lookup", 'data-testid="load-reference"'):
        assert shown in basic
    assert 'aria-current="page" href="/shtc/assurance/"' in basic
    assert seen[applicant.pk, "zh-hant", pages[0]] != basic
