"""In Chromium (issue 14, points 3 to 5): a reviewer records a decision on a risk flag, adds
an internal note and takes an SHTC case to 複審中, where the page does not offer her 准件結案
and says why; a second, senior reviewer approves it. Every page passes the WCAG 2.1 AA audit
(axe-core)."""

import pytest

from permits.models import Application, ReviewEvent, Status
from shtc.models import RiskFlag
from tests.approvals import second_reviewer
from tests.browser.reviewing import admin_log_in
from tests.permits.test_admin_case import change_url
from tests.services import orm, seed_reference_data, seed_shtc
from tests.shtc.review_cases import shtc_case  # noqa: F401 (a fixture)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_two_reviewers_approve_a_flagged_case(reviewer, shtc_case, live_server,  # noqa: F811
                                              page, axe):
    orm(seed_reference_data)
    orm(seed_shtc)
    case = orm(shtc_case, destination="CN")
    senior = orm(second_reviewer)
    admin_log_in(page, live_server, reviewer)
    page.goto(f"{live_server.url}{change_url(case)}")
    axe.audit(page)

    flag = page.locator("[data-testid=risk-watched_destination]")
    flag.get_by_label("Your decision on this flag").fill("Known laboratory; cleared.")
    flag.get_by_role("button", name="Record the decision").click()
    page.wait_for_load_state()
    assert page.locator("[data-testid=risk-decision]").is_visible()

    page.locator("#id_internal_note").fill("Called the end user: the order is genuine.")
    page.get_by_role("button", name="Add the note").click()
    page.wait_for_load_state()
    assert "the order is genuine" in page.locator("[data-testid=internal-notes]").inner_text()
    axe.audit(page)

    page.locator("button[data-move=second_review]").click()
    page.wait_for_load_state()
    assert page.locator("[data-testid=review-status]").inner_text() == "Second review"
    assert page.locator("button[data-move=approved]").count() == 0
    assert page.locator("[data-testid=withheld-move]").is_visible()

    admin_log_in(page, live_server, senior)
    page.goto(f"{live_server.url}{change_url(case)}")
    axe.audit(page)
    page.locator("button[data-move=approved]").click()
    page.wait_for_load_state()

    def state():
        approved = Application.objects.get(pk=case.pk)
        return (approved.status, approved.status_changes.get(new=Status.APPROVED).actor_id,
                ReviewEvent.objects.filter(application=case, kind="note").count(),
                RiskFlag.objects.get(application=case, kind="watched_destination")
                .decided_by_id)

    assert orm(state) == (Status.APPROVED, senior.pk, 1, reviewer.pk)
