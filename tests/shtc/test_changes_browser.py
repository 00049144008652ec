"""9-1-1's 申請類別 in Chromium (shtc/changes.py, static/permits/change_start.js): from 9-1-1's
page to 更正, the fields each kind takes shown and the others hidden as the kind is chosen,
under the page's CSP; 帶入原始資料 opens the change's basic data."""

import pytest

from permits.models import Application, Permit, Status
from tests.services import log_in, orm, seed_shtc

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shown(page):
    """The names of the start form's fields shown now."""
    return [name for name in ("permit_no", "receipt_no", "declaration_no", "coordination_id",
                              "change_description")
            if page.locator(f"#div_id_{name}").is_visible()]


def test_it_shows_each_kind_its_fields_and_loads_a_correction(applicant, reviewer, shtc_case,
                                                              live_server, page):
    orm(seed_shtc)
    case = orm(shtc_case, status=Status.APPROVED)
    permit = orm(lambda: Permit.objects.get(versions__application=case))
    log_in(page, f"{live_server.url}/accounts/login/", applicant.identifier,
           "correct-horse-battery")
    page.goto(f"{live_server.url}/shtc/assurance/")
    page.locator("[data-testid=application-kinds] [data-kind=correction]").click()
    page.wait_for_load_state()
    assert page.locator("#id_kind_1").is_checked()  # 更正
    assert shown(page) == ["permit_no", "receipt_no", "change_description"]
    page.locator("#id_kind_2").check()  # 單證比對不符修正
    assert shown(page) == ["permit_no", "declaration_no", "coordination_id",
                           "change_description"]
    page.locator("#id_kind_0").check()  # 補正
    assert shown(page) == ["receipt_no"]
    page.locator("#id_kind_1").check()
    page.locator("#id_permit_no").fill(permit.permit_no)
    page.locator("#id_change_description").fill("更正最終使用者地址")
    page.locator("[data-testid=load-original]").click()
    page.wait_for_load_state()
    draft = orm(lambda: Application.objects.get(status=Status.DRAFT, kind="correction"))
    assert page.url.endswith(f"/shtc/changes/{draft.pk}/")
    assert permit.permit_no in page.locator("[data-testid=entry-header]").inner_text()
