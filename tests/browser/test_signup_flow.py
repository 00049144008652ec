"""A new user signs up, lands on the menu, logs out and logs in again, in Chromium."""

import pytest

from portal.accounts.models import User
from tests.services import orm

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_signs_up_logs_in_and_sees_the_menu(page, live_server):
    page.goto(live_server.url + "/")
    assert page.locator("h1").inner_text() == "登入系統"
    page.get_by_role("link", name="申請帳號").click()

    page.get_by_label("統一編號", exact=True).check()
    page.get_by_label("進出口人").check()
    # A bad check digit first: the message stands next to the field, the typing stays.
    page.locator("#id_identifier").fill("22099132")
    page.locator("#id_name").fill("安心醫材股份有限公司")
    page.locator("#id_address").fill("臺北市中正區重慶南路一段2號")
    page.locator("#id_contact_person").fill("王小明")
    page.locator("#id_phone").fill("02-2351-0000")
    page.locator("#id_email").fill("service@anxin.example")
    page.locator("#id_password1").fill("a-long-passphrase-9")
    page.locator("#id_password2").fill("a-long-passphrase-9")
    page.get_by_role("button", name="申請帳號").click()
    assert "統一編號檢查碼錯誤" in page.locator("#div_id_identifier").inner_text()
    assert page.locator("#id_name").input_value() == "安心醫材股份有限公司"
    assert not orm(User.objects.exists)

    page.locator("#id_identifier").fill("22099131")
    page.locator("#id_password1").fill("a-long-passphrase-9")
    page.locator("#id_password2").fill("a-long-passphrase-9")
    page.get_by_role("button", name="申請帳號").click()
    page.wait_for_url(live_server.url + "/")
    assert "帳號 22099131 申請完成" in page.locator("[role=alert]").inner_text()
    assert "安心醫材股份有限公司" in page.get_by_test_id("current-user").inner_text()
    assert page.get_by_role("heading", name="功能選單").is_visible()
    assert page.get_by_test_id("menu").get_by_role("link", name="帳號資料維護").is_visible()

    page.get_by_role("button", name="登出").click()
    page.wait_for_url("**/accounts/login/")
    page.locator("#id_username").fill("22099131")
    page.locator("#id_password").fill("a-long-passphrase-9")
    page.get_by_role("button", name="登入系統").click()
    page.wait_for_url(live_server.url + "/")
    assert page.get_by_test_id("menu").is_visible()


def test_it_switches_the_page_to_english(page, live_server):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Log in"
    page.get_by_role("button", name="繁體中文").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "登入系統"
