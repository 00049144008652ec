"""統計 in Chromium (issue 14 point 7): a reviewer goes from the admin's index to the
statistics page, finds both charts as images with their names, under the Content Security
Policy without a violation (the charts' colours are classes of a static style sheet), and
picks a longer window with the keyboard; axe-core audits each page (tests/browser/axe.py)."""

import pytest

from permits import workflow
from permits.models import Status
from tests.services import log_in, orm

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def decided_cases(make_case, applicant, reviewer):
    """Two cases in 初審 and one rejected from it: a week's bars and a median to draw."""
    for _ in range(2):
        make_case(applicant, status=Status.INITIAL_REVIEW)
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    workflow.transition(application=case, to=Status.REJECTED, actor=reviewer, note="理由")


def test_a_reviewer_reads_the_statistics(make_case, applicant, reviewer, live_server, page):
    orm(decided_cases, make_case, applicant, reviewer)
    orm(lambda: (reviewer.set_password("reviewer-password-1"), reviewer.save()))
    page.add_init_script(LISTEN)
    page.context.add_cookies([{"name": "django_language", "value": "en",
                               "url": live_server.url}])
    log_in(page, f"{live_server.url}/admin/login/?next=/admin/", reviewer.identifier,
           "reviewer-password-1")
    page.get_by_role("link", name="Statistics").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Statistics", level=1).is_visible()
    assert page.get_by_role("img", name="Cases per week").is_visible()
    assert page.get_by_role("img", name="Median working days per stage").is_visible()
    assert page.locator("#weekly-table tbody tr").count() == 12
    assert page.locator("#procedure-table tbody tr").count() == 1
    assert page.evaluate("window.__violations") == []

    page.get_by_label("Weeks shown").select_option("26")
    page.get_by_label("Weeks shown").press("Tab")
    page.keyboard.press("Enter")  # the "Show" button, reached from the field
    page.wait_for_url("**/statistics/?weeks=26")
    assert page.locator("#weekly-table tbody tr").count() == 26
    assert page.evaluate("window.__violations") == []
