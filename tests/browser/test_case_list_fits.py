"""The reviewers' case list fits a 1280-pixel screen (Chromium): every column, 風險 and 承辦人
included, is seen without scrolling the table sideways, in the portal's language
(static/permits/css/case_list.css: the headers wrap, the short choices do not). In English
its words and the filters' are longer: there the table scrolls sideways, as Django's does
(the last case below)."""

import pytest

from permits.models import Application, Status
from tests.browser.reviewing import admin_log_in, seed_review_targets
from tests.services import orm, seed_shtc
from tests.shtc.review_cases import shtc_case  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def assigned(case, user):
    Application.objects.filter(pk=case.pk).update(assignee=user)


def test_every_column_is_seen_at_1280_pixels(reviewer, applicant, shtc_case,  # noqa: F811
                                             live_server, page, axe):
    orm(seed_shtc)
    orm(seed_review_targets)
    flagged = orm(shtc_case, destination="CN")  # 風險: a watched destination
    orm(assigned, flagged, reviewer)
    orm(shtc_case, destination="JP")
    admin_log_in(page, live_server, reviewer)
    page.context.add_cookies([{"name": "django_language", "value": "zh-hant",
                               "url": live_server.url}])
    page.goto(f"{live_server.url}/admin/permits/application/")
    page.wait_for_load_state()
    assert page.viewport_size["width"] == 1280
    assert page.locator("#result_list tbody tr").count() == 2
    assert orm(lambda: Application.objects.get(pk=flagged.pk).status) == Status.INITIAL_REVIEW
    scroll, client = page.evaluate(
        "() => { const r = document.querySelector('#changelist-form .results');"
        " return [r.scrollWidth, r.clientWidth]; }")
    assert scroll <= client, f"the table is {scroll - client} px wider than its box"
    for cell in ("td.field-risks", "td.field-assigned_to"):
        for box in [c.bounding_box() for c in page.locator(f"#result_list tbody {cell}").all()]:
            assert box["x"] + box["width"] <= 1280
    # The assigned case's row shows its reviewer, the flagged one its badge.
    assert [text for text in page.locator("#result_list td.field-assigned_to").all_inner_texts()
            if text.strip()]
    assert page.locator("#result_list td.field-risks .risk-badge").count()
    axe.audit(page)


def test_in_english_the_table_scrolls_to_its_last_column(reviewer, applicant, shtc_case,  # noqa: F811
                                                         live_server, page, axe):
    orm(seed_shtc)
    orm(seed_review_targets)
    orm(shtc_case, destination="CN")
    admin_log_in(page, live_server, reviewer)  # in English
    page.goto(f"{live_server.url}/admin/permits/application/")
    page.wait_for_load_state()
    cell = page.locator("#result_list tbody td.field-assigned_to").first
    cell.scroll_into_view_if_needed()
    box = cell.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 1280
    axe.audit(page)
