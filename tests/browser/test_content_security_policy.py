"""The Content-Security-Policy in Chromium (issue 9, point 11): the home page, the login, the
mask application's basic data and the reviewers' admin case page load without a single
violation, nor a complaint about the Permissions-Policy header. A page with an inline script
under the same policy shows that a violation would be seen."""

import pytest

from permits.models import Status
from tests.services import log_in, orm, seed_reference_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every violation, as the page's own event reports it (init scripts are not subject to CSP).
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.fixture
def watched(page):
    """The page, and the console messages about either policy."""
    complaints = []
    page.on("console", lambda message: complaints.append(message.text)
            if "Content Security Policy" in message.text
            or "Permissions-Policy" in message.text else None)
    page.on("pageerror", lambda error: complaints.append(f"page error: {error}"))
    page.add_init_script(LISTEN)
    return page, complaints


def visit(page, url):
    response = page.goto(url)
    page.wait_for_load_state("networkidle")
    assert "Content-Security-Policy" in {name.title() for name in response.headers}, url
    return page.evaluate("window.__violations")



def test_it_loads_the_portal_and_the_admin_without_violations(
        make_case, applicant, reviewer, live_server, watched):
    # (The users exist before Playwright starts: see tests/services.py, orm().)
    page, complaints = watched
    orm(seed_reference_data)
    case = orm(make_case, applicant, status=Status.INITIAL_REVIEW)
    orm(lambda: (reviewer.set_password("reviewer-password-1"), reviewer.save()))
    violations = {}

    for path in ["/", "/accounts/login/"]:
        violations[path] = visit(page, live_server.url + path)

    log_in(page, f"{live_server.url}/accounts/login/", applicant.identifier,
           "correct-horse-battery")
    for path in ["/cases/", "/masks/apply/", f"/cases/{case.pk}/"]:
        violations[path] = visit(page, live_server.url + path)
    # The language switcher and the menu's collapse: Bootstrap's script under the policy.
    page.context.clear_cookies()

    log_in(page, f"{live_server.url}/admin/login/?next=/admin/", reviewer.identifier,
           "reviewer-password-1")
    for path in ["/admin/", "/admin/permits/application/",
                 f"/admin/permits/application/{case.pk}/change/"]:
        violations[path] = visit(page, live_server.url + path)

    assert {path: found for path, found in violations.items() if found} == {}
    assert complaints == []


def test_it_would_see_a_violation(watched, live_server, axe):
    """The control: the portal's own policy, on a page with an inline script and style."""
    from portal.headers import content_security_policy

    page, complaints = watched
    axe.skip("/probe/")  # a bare page of the test's own, not the portal's
    policy = content_security_policy()
    page.route(f"{live_server.url}/probe/", lambda route: route.fulfill(
        status=200, content_type="text/html",
        headers={"Content-Security-Policy": policy},
        body="<!doctype html><p style='color: red'>x</p><script>document.title = 'ran'</script>"))
    found = visit(page, f"{live_server.url}/probe/")
    assert page.title() != "ran"
    assert any(entry.startswith("script-src") for entry in found)
    assert any(entry.startswith("style-src") for entry in found)
    assert any("Content Security Policy" in text for text in complaints)
