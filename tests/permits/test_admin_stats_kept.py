"""統計 served from the cache costs little more than the admin's frame (issue 10; bench/README.md
"Stop 23 (admin floor and statistics)"): its figures' HTML is drawn once per window, day,
language and computation of the figures (permits.admin_stats.drawn), the window's form once
per language and window where it has no error to say, the frame from its skeleton
(permits.admin_frame). The page is what one template drawing all of it on every request
draws (and, but for blanks, with Django's chain of templates for its frame), for staff with
different permissions and in both languages; a new computation of the figures is drawn anew,
its "as of" time its own."""

import datetime
import re
from pathlib import Path
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from permits import admin_frame, admin_stats
from tests.permits.test_admin_frame import CHAIN, blanks_as_one, with_template
from tests.permits.test_admin_stats import (  # noqa: F401 (fixtures)
    TODAY,
    colleague,
    seeded_targets,
    window,
)

pytestmark = pytest.mark.django_db

URL = reverse("admin:permits_application_statistics")
TEMPLATE = "admin/permits/application/statistics.html"


def whole_template():
    """The page's template as it was before its figures and form were kept (issue 14's): one
    template drawing them for each request, statistics.html with its parts written in."""
    folder = Path(settings.BASE_DIR) / "templates" / "admin" / "permits" / "application"
    page = (folder / "statistics.html").read_text()
    for name, variable in (("window", "{{ window_form }}"), ("figures", "{{ figures }}")):
        part = (folder / f"statistics_{name}.html").read_text()
        part = re.sub(r"\A\{% load i18n %\}\{% comment %\}.*?\{% endcomment %\}", "", part,
                      flags=re.DOTALL)
        assert variable in page and "{% comment %}" not in part
        page = page.replace(variable, part)
    return page


@pytest.fixture(autouse=True)
def forgotten(monkeypatch):
    monkeypatch.setattr(admin_stats, "window_end", lambda: TODAY)
    cache.clear()
    for kept in (admin_frame._SKELETONS, admin_stats._DRAWN, admin_stats._WINDOW_FORMS):
        kept.clear()
    yield
    for kept in (admin_frame._SKELETONS, admin_stats._DRAWN, admin_stats._WINDOW_FORMS):
        kept.clear()


def without_tokens(response):
    return re.sub(r'(name="csrfmiddlewaretoken" value=)"[^"]*"', r"\1",
                  response.content.decode())


def drawn_as_before(client, path, *, djangos_frame):
    """The page as the old template drew it on every request, nothing kept; its frame the
    portal's admin/base_site.html or (`djangos_frame`) Django's admin/base.html and
    admin/base_site.html with the portal's additions written over them, as
    tests/permits/test_admin_frame.py draws it."""
    if djangos_frame:
        templates = with_template("admin/base_site.html", CHAIN, apps_first=True)
        templates[0]["OPTIONS"]["loaders"][0][1][TEMPLATE] = whole_template()
    else:
        templates = with_template(TEMPLATE, whole_template())
    with override_settings(TEMPLATES=templates), mock.patch.object(
            admin_frame, "framed_content", side_effect=lambda request, response: response):
        response = client.get(path)
    names = [t.name for t in response.templates]
    assert admin_frame.FILLED not in names
    assert ("admin/base.html" in names) == djangos_frame
    return response


@pytest.fixture
def staff(reviewer, colleague, make_user):  # noqa: F811
    """Three members of staff who may open the page, each with other permissions: a
    reviewer, a reviewer who may also change the users, and a superuser."""
    colleague.user_permissions.add(Permission.objects.get(codename="change_user"))
    superuser = make_user("99999993", is_staff=True, is_superuser=True, name="管理者")
    return [reviewer, colleague, superuser]


@pytest.mark.parametrize("language", ["zh-hant", "en"])
def test_the_page_is_what_its_old_template_and_djangos_frame_drew(client, staff, window,  # noqa: F811
                                                                  language):
    client.cookies["django_language"] = language
    # A window sent, none, one sent twice, a forged one (its error said), one escaped.
    queries = ("?weeks=4", "", "?weeks=52", "?weeks=4&weeks=26", "?weeks=13", "?weeks=%3Cb%3E",
               "?weeks=4")
    kept = {}
    for user in staff:
        client.force_login(user)
        for query in queries:
            response = kept[user, query] = client.get(URL + query)
            assert response.status_code == 200
            assert [t.name for t in response.templates][-1] == admin_frame.FILLED
            assert user.get_short_name() in response.content.decode()
    assert "115/09/21" in kept[staff[0], "?weeks=4"].content.decode()  # the window's figures
    # One skeleton and one drawing of each window's figures for every member of staff.
    assert len(admin_frame._SKELETONS) == 1
    assert {key[0] for key in admin_stats._DRAWN} == {4, 12, 26, 52}
    assert len(admin_stats._DRAWN) == 4
    for html, _values in admin_stats._DRAWN.values():  # nothing of who asked (the
        assert "管理者" not in html  # reviewers' names are figures: the table per reviewer)
    # Forms with an error to say were drawn for their request, not kept.
    assert {value for _language, value in admin_stats._WINDOW_FORMS} == {None, "4", "26", "52"}
    for user in staff:
        client.force_login(user)
        for query in queries[:-1]:
            old = drawn_as_before(client, URL + query, djangos_frame=False)
            assert without_tokens(kept[user, query]) == without_tokens(old), (user, query)
            djangos = drawn_as_before(client, URL + query, djangos_frame=True)
            assert blanks_as_one(kept[user, query]) == blanks_as_one(djangos), (user, query)


def figures(computed_at, received):
    weeks = [TODAY - datetime.timedelta(days=TODAY.weekday() + 7 * n) for n in (3, 2, 1, 0)]
    return admin_stats.Figures(weeks=weeks, received=received, decided=[0] * 4,
                               overdue=[0] * 4, computed_at=computed_at)


def test_a_new_computation_is_drawn_anew_with_its_own_time(client, reviewer):
    client.force_login(reviewer)
    client.cookies["django_language"] = "zh-hant"
    key = admin_stats.CACHE_KEY.format(weeks=4, day=TODAY.isoformat())
    taipei = ZoneInfo("Asia/Taipei")
    first = datetime.datetime(2026, 10, 16, 9, 5, tzinfo=taipei)
    cache.set(key, figures(first, [3, 1, 4, 1]))
    page = client.get(URL, {"weeks": "4"}).content.decode()
    assert "09:05" in page[page.index('id="stats-as-of"'):][:200]
    assert "<tr><th scope=\"row\">115/09/21</th><td>3</td>" in page
    again = client.get(URL, {"weeks": "4"})
    assert without_tokens(again) == re.sub(r'(name="csrfmiddlewaretoken" value=)"[^"]*"',
                                           r"\1", page)
    # The figures computed again (another process, the cache's 5 minutes past): the page
    # shows them and their time at once, and the drawing of the earlier ones is forgotten.
    second = first + datetime.timedelta(minutes=7)
    cache.set(key, figures(second, [5, 9, 2, 6]))
    page = client.get(URL, {"weeks": "4"}).content.decode()
    assert "09:12" in page[page.index('id="stats-as-of"'):][:200]
    assert "09:05" not in page
    assert "<tr><th scope=\"row\">115/09/21</th><td>5</td>" in page
    assert [key[4] for key in admin_stats._DRAWN] == [second]
    # The cache emptied: computed anew from the cases (none), drawn anew.
    cache.clear()
    page = client.get(URL, {"weeks": "4"}).content.decode()
    assert "<tr><th scope=\"row\">115/09/21</th><td>0</td>" in page
    (computed,) = [key[4] for key in admin_stats._DRAWN]
    assert computed > second
    local = computed.astimezone(taipei).strftime("%H:%M")
    assert local in page[page.index('id="stats-as-of"'):][:200]


def test_each_language_draws_its_own_figures(client, reviewer):
    client.force_login(reviewer)
    pages = {}
    for language in ("zh-hant", "en", "zh-hant"):
        client.cookies["django_language"] = language
        pages[language] = client.get(URL, {"weeks": "12"}).content.decode()
    assert "Cases per week" in pages["en"] and "Cases per week" not in pages["zh-hant"]
    assert sorted(key[2] for key in admin_stats._DRAWN) == ["en", "zh-hant"]
    assert sorted(key[0] for key in admin_stats._WINDOW_FORMS) == ["en", "zh-hant"]
