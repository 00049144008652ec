"""The reviewer's workbench in Chromium, as one story (issue 14): an SHTC case to China, flagged
on submission (風險標示: a watched destination), waits in 待分派. Reviewer A filters the case
list to 待分派, takes the case with 指派給我 and finds it in 我的案件; on its page she reads the
working-day clock (days of the target, the due date) and the flag, records her decision on
the flag and an internal note, which the applicant does not see on the case's page; she takes
the case from 初審 to 複審中, where 准件結案 is not offered to her and the page says why.
Reviewer B, of the senior reviewers group, approves it; the internal history lists the
assignment and the note with their authors. Every page passes the WCAG 2.1 AA audit
(axe-core); the pages are used through their labels and roles, as a user would."""

import pytest

from permits import workdays
from permits.models import Application, ReviewEvent, ReviewEventKind, Status
from portal.dates import to_roc
from shtc.models import RiskFlag
from tests.approvals import second_reviewer
from tests.browser.reviewing import admin_log_in, in_english, seed_review_targets
from tests.services import log_in, orm, seed_shtc
from tests.shtc.review_cases import shtc_case  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOTE = "Called the end user in Shenzhen: the order is genuine."
DECISION = "Known university laboratory; cleared after the call."


def flagged_case(shtc_case):  # noqa: F811
    """The case, submitted (初審中) and nobody's, with its watched-destination flag."""
    case = shtc_case(destination="CN")
    assert case.status == Status.INITIAL_REVIEW and case.assignee_id is None
    assert RiskFlag.objects.filter(application=case, kind="watched_destination").exists()
    return case


def open_queue(page, live_server, label):
    """The case list filtered to the queue whose link (with its count) reads `label`."""
    page.goto(f"{live_server.url}/admin/permits/application/")
    page.get_by_role("link", name=label).click()
    page.wait_for_load_state()
    return page.locator("#result_list tbody tr")


def test_a_flagged_case_from_the_unassigned_queue_to_its_approval(
        reviewer, applicant, shtc_case, live_server, page, axe):  # noqa: F811
    orm(seed_shtc)
    orm(seed_review_targets)
    case = orm(flagged_case, shtc_case)
    senior = orm(second_reviewer)

    # Reviewer A finds the case in 待分派 and takes it.
    admin_log_in(page, live_server, reviewer)
    rows = open_queue(page, live_server, "Unassigned (1)")
    axe.audit(page)
    assert rows.count() == 1
    rows.get_by_role("link", name=case.receipt_no).click()
    page.wait_for_load_state()
    assignment = page.get_by_role("region", name="Assignment")
    assert assignment.get_by_test_id("assignee").inner_text() == "Unassigned"
    assignment.get_by_role("button", name="Assign to me").click()
    page.wait_for_load_state()
    assert reviewer.name in page.get_by_role("region", name="Assignment").inner_text()
    assert page.get_by_role("button", name="Assign to me").count() == 0

    # ... and finds it in 我的案件, hers in the 承辦人 column; 待分派 is empty.
    rows = open_queue(page, live_server, "My cases (1)")
    axe.audit(page)
    assert rows.count() == 1
    assert rows.locator("td.field-assigned_to").inner_text() == reviewer.name
    assert page.get_by_role("link", name="Unassigned (0)").is_visible()
    rows.get_by_role("link", name=case.receipt_no).click()
    page.wait_for_load_state()

    # The working-day clock of 初審: the days of its target, due on the case's stage_due.
    due = orm(lambda: Application.objects.get(pk=case.pk).stage_due)
    assert due is not None
    clock = page.get_by_role("region", name="Working-day clock")
    initial = clock.get_by_test_id("clock-initial_review").inner_text()
    assert " working days, due " in initial and initial.endswith(to_roc(due))
    target = orm(lambda: workdays.load_rules([case.document_type]).target(
        case.document_type, "initial_review"))
    assert f"of {target} working days" in initial

    # The 風險標示 panel: the flag, and her decision on it.
    flags = page.get_by_role("region", name="Risk flags")
    flag = flags.get_by_test_id("risk-watched_destination")
    assert flag.is_visible()
    flag.get_by_label("Your decision on this flag").fill(DECISION)
    flag.get_by_role("button", name="Record the decision").click()
    page.wait_for_load_state()
    decided = page.get_by_role("region", name="Risk flags").get_by_test_id("risk-decision")
    assert reviewer.name in decided.inner_text() and DECISION in decided.inner_text()

    # An internal note, in the bureau's own history.
    notes = page.get_by_role("region", name="Internal notes")
    notes.get_by_label("Internal note").fill(NOTE)
    notes.get_by_role("button", name="Add the note").click()
    page.wait_for_load_state()
    assert NOTE in page.get_by_role("region", name="Internal notes").inner_text()
    axe.audit(page)

    # The applicant, on the case's page, sees neither the note nor the bureau's history.
    page.context.clear_cookies()
    in_english(page, live_server)
    log_in(page, f"{live_server.url}/accounts/login/", applicant.identifier,
           "correct-horse-battery")
    page.get_by_test_id("my-cases").get_by_role("link", name=case.receipt_no).click()
    page.wait_for_load_state()
    assert page.get_by_test_id("status").is_visible()
    assert NOTE not in page.content()
    assert page.get_by_role("region", name="Internal notes").count() == 0

    # Reviewer A takes the case from 初審 to 複審中, and may not approve it.
    admin_log_in(page, live_server, reviewer, "/admin/permits/application/?queue=mine")
    page.locator("#result_list").get_by_role("link", name=case.receipt_no).click()
    page.wait_for_load_state()
    moves = page.get_by_role("region", name="Review")
    moves.get_by_role("button", name="Second review").click()
    page.wait_for_load_state()
    moves = page.get_by_role("region", name="Review")
    assert moves.get_by_test_id("review-status").inner_text() == "Second review"
    assert moves.get_by_role("button", name="Approved").count() == 0
    assert "needs a second reviewer with the permission to approve" in \
        moves.get_by_test_id("withheld-move").inner_text()
    axe.audit(page)

    # Reviewer B, a senior reviewer, approves it.
    admin_log_in(page, live_server, senior, f"/admin/permits/application/{case.pk}/change/")
    page.get_by_role("region", name="Review").get_by_role("button", name="Approved").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("review-status").inner_text() == "Approved"
    history = page.get_by_role("region", name="Internal notes").get_by_test_id("review-event")
    assert history.count() == 2
    assigned, note = history.nth(0).inner_text(), history.nth(1).inner_text()
    assert reviewer.name in assigned and f"Assigned to {reviewer.name}." in assigned
    assert reviewer.name in note and NOTE in note
    axe.audit(page)

    def state():
        approved = Application.objects.get(pk=case.pk)
        return (approved.status, approved.assignee_id,
                approved.status_changes.get(new=Status.APPROVED).actor_id,
                list(ReviewEvent.objects.filter(application=case).order_by("created_at", "pk")
                     .values_list("kind", "actor_id")),
                RiskFlag.objects.get(application=case, kind="watched_destination")
                .decided_by_id)

    assert orm(state) == (Status.APPROVED, reviewer.pk, senior.pk,
                          [(ReviewEventKind.ASSIGNED, reviewer.pk),
                           (ReviewEventKind.NOTE, reviewer.pk)], reviewer.pk)
