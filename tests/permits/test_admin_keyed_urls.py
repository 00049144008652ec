"""permits.admin.keyed_url and fixed_url keep a path per URL configuration: a request whose
urlconf is another (request.urlconf, which Django sets with set_urlconf) gets that
configuration's path, not the one reversed first in the process."""

import pytest
from django.urls import reverse, set_urlconf

from permits.admin import fixed_url, keyed_url

CHANGE, CHANGELIST = "admin:permits_application_change", "admin:permits_application_changelist"
ELSEWHERE = "tests.permits.urls_elsewhere"


@pytest.fixture
def elsewhere():
    def under(function, *args, **kwargs):
        set_urlconf(ELSEWHERE)
        try:
            return function(*args, **kwargs)
        finally:
            set_urlconf(None)
    return under


@pytest.mark.parametrize("first", ["root", "elsewhere"])
def test_each_urlconf_its_own_paths(elsewhere, first):
    def paths():
        return keyed_url(CHANGE, 7), fixed_url(CHANGELIST)

    if first == "elsewhere":  # either one reversed first in the process
        other = elsewhere(paths)
        here = paths()
    else:
        here = paths()
        other = elsewhere(paths)
    assert here == (reverse(CHANGE, args=[7]), reverse(CHANGELIST))
    assert other == (reverse(CHANGE, args=[7], urlconf=ELSEWHERE),
                     reverse(CHANGELIST, urlconf=ELSEWHERE))
    assert other[0].startswith("/elsewhere/") and other[0] != here[0]
    assert other[1].startswith("/elsewhere/")
