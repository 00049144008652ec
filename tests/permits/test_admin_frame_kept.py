"""The reviewers' case page's frame drawn once per process and kind of page
(permits.admin_frame): the page is what its template draws on every request, for each user
and language; the kept skeleton holds nothing of a request (no name, no token, no case); a
page with messages to show, or after a change of the templates, is drawn by the template."""

import re
from unittest import mock

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.template.response import TemplateResponse
from django.test import RequestFactory
from django.urls import reverse

from permits import admin_frame
from permits.models import Status
from tests.permits.test_admin_stats import colleague  # noqa: F401 (a fixture: a second reviewer)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def forgotten():
    admin_frame._SKELETONS.clear()
    yield
    admin_frame._SKELETONS.clear()


def without_tokens(response):
    return re.sub(r'(name="csrfmiddlewaretoken" value=)"[^"]*"', r"\1",
                  response.content.decode())


def drawn_each_time(client, path):
    """The page with its whole template drawn for the request, as before."""
    with mock.patch.object(admin_frame, "framed", side_effect=TemplateResponse):
        return client.get(path)


@pytest.mark.parametrize("language", ["zh-hant", "en"])
def test_the_page_is_what_its_template_draws_for_each_user(client, reviewer, colleague,  # noqa: F811
                                                           make_case, applicant, language):
    first = make_case(applicant, status=Status.INITIAL_REVIEW)
    second = make_case(applicant, status=Status.INITIAL_REVIEW)
    client.cookies["django_language"] = language
    for user in (reviewer, colleague, reviewer):
        client.force_login(user)
        for case in (first, second, first):
            path = reverse("admin:permits_application_change", args=[case.pk])
            kept = client.get(path)
            assert kept.status_code == 200
            assert [t.name for t in kept.templates][-1] == admin_frame.FILLED
            assert without_tokens(kept) == without_tokens(drawn_each_time(client, path))
            page = kept.content.decode()
            assert user.get_short_name() in page
            assert str(case) in page
    # One skeleton a language (the same user flags): the second user's page drew none.
    assert len(admin_frame._SKELETONS) == 1
    skeleton = "".join(next(iter(admin_frame._SKELETONS.values()))[::2])  # its text
    for value in (reviewer.get_short_name(), colleague.get_short_name(), str(first),
                  str(second)):
        assert value not in skeleton
    assert not re.search(r'csrfmiddlewaretoken" value="[^"]', skeleton)


def test_each_request_has_its_own_token_in_every_form(client, reviewer, make_case, applicant):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    client.force_login(reviewer)
    path = reverse("admin:permits_application_change", args=[case.pk])
    tokens = [re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"',
                         client.get(path).content.decode()) for _ in range(2)]
    # The logout's, the idle notice's (the frame's) and the page's forms: masked anew.
    assert len(tokens[0]) >= 3 and len(tokens[1]) == len(tokens[0])
    assert not set(tokens[0]) & set(tokens[1])


def test_messages_are_shown_by_the_template(client, reviewer, make_case, applicant):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    client.force_login(reviewer)
    path = reverse("admin:permits_application_change", args=[case.pk])
    for page in (path, reverse("admin:permits_application_changelist")):
        client.get(page)  # the skeleton kept
        storage = CookieStorage(RequestFactory().get(page))
        client.cookies[storage.cookie_name] = storage._encode(
            [Message(constants.INFO, "已退回補件")])
        shown = client.get(page)
        assert '<ul class="messagelist">' in shown.content.decode()
        assert "已退回補件" in shown.content.decode()
        assert str(case) in shown.content.decode()  # the page's own content too
        assert admin_frame.FILLED not in [t.name for t in shown.templates]
        assert "已退回補件" not in client.get(page).content.decode()  # shown once


def test_a_user_without_a_usable_password_gets_a_frame_of_its_own(client, reviewer,
                                                                 make_case, applicant):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    path = reverse("admin:permits_application_change", args=[case.pk])
    client.force_login(reviewer)
    with_password = client.get(path).content.decode()
    reviewer.set_unusable_password()
    reviewer.save()
    client.force_login(reviewer)
    without = client.get(path)
    assert reverse("admin:password_change") in with_password
    assert reverse("admin:password_change") not in without.content.decode()
    assert without_tokens(without) == without_tokens(drawn_each_time(client, path))
    assert len(admin_frame._SKELETONS) == 2


def test_the_list_is_what_its_template_draws(client, reviewer, colleague,  # noqa: F811
                                             make_case, applicant):
    make_case(applicant, status=Status.INITIAL_REVIEW)
    make_case(applicant)
    changelist = reverse("admin:permits_application_changelist")
    for user in (reviewer, colleague):
        client.force_login(user)
        # The export links carry each list's own filters; the search box its own words.
        for query in ("", "?status__exact=initial_review", "?q=22099131&o=-2", "?q=%3Cb%3E"):
            kept = client.get(changelist + query)
            assert [t.name for t in kept.templates][-1] == admin_frame.FILLED
            with mock.patch.object(admin_frame, "framed_content",
                                   side_effect=lambda request, response, **kwargs: response):
                each_time = client.get(changelist + query)
            assert admin_frame.FILLED not in [t.name for t in each_time.templates]
            assert without_tokens(kept) == without_tokens(each_time)
            assert user.get_short_name() in kept.content.decode()
    assert len(admin_frame._SKELETONS) == 1
