"""In Chromium (issue 14, point 1): a reviewer opens the 待分派 queue of the case list, takes
a case with 指派給我 on its page, and finds it in her 我的案件 queue with her name in the
承辦人 column. Every page passes the WCAG 2.1 AA audit (axe-core)."""

import pytest

from permits.models import Application, ReviewEvent, Status
from tests.browser.reviewing import admin_log_in, seed_review_targets
from tests.services import orm, seed_reference_data


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_reviewer_takes_a_case_from_the_unassigned_queue(reviewer, make_case, applicant,
                                                          live_server, page, axe):
    orm(seed_reference_data)
    orm(seed_review_targets)
    case = orm(make_case, applicant, status=Status.INITIAL_REVIEW)
    admin_log_in(page, live_server, reviewer)
    page.goto(f"{live_server.url}/admin/permits/application/")
    page.get_by_role("link", name="Unassigned (1)").click()
    page.wait_for_load_state()
    axe.audit(page)
    page.locator("#result_list tbody a").first.click()
    page.wait_for_load_state()
    axe.audit(page)

    page.get_by_role("button", name="Assign to me").click()
    page.wait_for_load_state()
    assert "貿易局審核員" in page.locator("[data-testid=assignee]").inner_text()
    assert page.get_by_role("button", name="Assign to me").count() == 0

    page.goto(f"{live_server.url}/admin/permits/application/")
    page.get_by_role("link", name="My cases (1)").click()
    page.wait_for_load_state()
    axe.audit(page)
    assert page.locator("#result_list tbody tr").count() == 1
    assert page.locator("#result_list td.field-assigned_to").inner_text() == "貿易局審核員"

    def state():
        taken = Application.objects.get(pk=case.pk)
        event = ReviewEvent.objects.get(application=case)
        return taken.assignee_id, event.kind, event.actor_id

    assert orm(state) == (reviewer.pk, "assigned", reviewer.pk)
