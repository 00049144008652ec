"""The SHTC manual §1.1.1.2.2 in Chromium (SHTC-5): 步驟4 tick the reason without an end-use
assurance (its documents and obligations appear beside it, the end use box with it;
static/shtc/assurance_route.js under the page's CSP), enter the end use, 下一步; 步驟5 新增貨品明細,
申請 gives the 收件編號; 步驟6 the affidavit is offered on the case page."""

import re

import pytest

from permits.models import Application, Status
from tests.services import orm
from tests.shtc.assurance import BASIC, ITEM
from tests.shtc.test_entry_browser import entry_page  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

END_USE = "Demonstration at SEMICON West 2026, returned after the show"


def fill(page, data):
    """Type or pick each value into the field of that name, as a user does."""
    for name, value in data.items():
        field = page.locator(f"[name='{name}']")
        kind = field.evaluate("element => element.tagName + ':' + (element.type || '')")
        if kind.startswith("SELECT"):
            field.select_option(value)
        elif kind == "INPUT:checkbox":
            field.check()
        elif kind == "INPUT:radio":
            page.locator(f"[name='{name}'][value='{value}']").check()
        else:
            field.fill(value)


def test_it_files_exhibition_goods_without_an_assurance(entry_page, applicant):  # noqa: F811
    page = entry_page
    help_box = page.locator("[data-assurance-route-help]")
    end_use = page.locator("#div_id_end_use")
    # With an assurance (the default) neither the help nor the end use box shows.
    assert not help_box.is_visible() and not end_use.is_visible()
    page.locator("#id_assurance_route_1").check()  # 展覽品
    assert page.locator("[data-testid=route-help-exhibition]").is_visible()
    assert not page.locator("[data-testid=route-help-special_approval]").is_visible()
    assert end_use.is_visible()
    page.locator("#id_assurance_route_2").check()  # 專案核准
    assert page.locator("[data-testid=route-help-special_approval]").is_visible()
    assert not page.locator("[data-testid=route-help-exhibition]").is_visible()
    page.locator("#id_assurance_route_1").check()
    fill(page, {name: value for name, value in BASIC.items()
                if name not in ("partial_shipment", "transit_port")})
    page.locator("#id_end_use").fill(END_USE)
    page.locator("[data-testid=next]").click()
    page.wait_for_load_state()
    assert END_USE in page.locator("[data-testid=basic-data]").inner_text()
    page.locator("[data-testid=add-item]").click()
    fill(page, ITEM)
    page.locator("[data-testid=confirm]").click()
    page.wait_for_load_state()
    apply_button = page.locator("[data-testid=apply]")
    assert apply_button.inner_text().strip() in ("申請", "Apply")  # the catalogue built or not
    apply_button.click()
    page.wait_for_load_state()
    case = orm(lambda: Application.objects.get(applicant=applicant))
    assert case.status == Status.INITIAL_REVIEW and case.registration_no is None
    assert re.fullmatch(r"RSE[0-9]{11}", case.receipt_no)
    assert case.receipt_no in page.locator("h1").inner_text()
    assert page.locator("[data-testid=link-red-flag-affidavit]").is_visible()
    assert page.locator("[data-testid=link-assurance-buyer]").count() == 0
