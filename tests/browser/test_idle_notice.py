"""The idle logout (ACC-3) in Chromium, with the idle limit cut to seconds: the notice appears
before the end, 繼續使用 keeps the user logged in past the first limit, and what was typed on
輸入許可申請's basic data and never saved survives the logout: after logging in again,
匯入暫存資料 brings it back and 下一步 saves it."""

import datetime
import time

import pytest
from django.utils import translation
from playwright.sync_api import expect

from permits.models import Application, Status, UnsavedInput
from tests.services import orm, seed_reference_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IDLE = 12  # seconds of the idle limit in this test (20 minutes in the portal)
WARN = 6  # the notice this long before the end (2 minutes in the portal)
PASSWORD = "correct-horse-battery"


def t(msgid):
    with translation.override("zh-hant"):
        return translation.gettext(msgid)


@pytest.fixture
def short_idle(settings):
    settings.SESSION_IDLE_TIMEOUT = datetime.timedelta(seconds=IDLE)
    settings.SESSION_IDLE_WARNING = datetime.timedelta(seconds=WARN)


def log_in(page, identifier):
    page.locator("#id_username").fill(identifier)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main [type=submit]").first.click()
    page.wait_for_load_state()


def unsaved():
    return orm(lambda: list(UnsavedInput.objects.values_list("data", flat=True)))


def test_it_warns_extends_and_keeps_what_was_typed_through_the_logout(
        applicant, live_server, page, short_idle):
    orm(seed_reference_data)
    page.goto(f"{live_server.url}/accounts/login/?next=/masks/apply/")
    log_in(page, applicant.identifier)
    started = time.monotonic()
    assert page.url.endswith("/masks/apply/")
    page.locator("#id_contact_person").fill("半途輸入的聯絡人")
    page.locator("input[name=route][value=postal]").check()

    # The notice: an alert dialog whose 繼續使用 takes the focus.
    notice = page.get_by_role("alertdialog")
    expect(notice).to_be_hidden()
    expect(notice).to_be_visible(timeout=(IDLE - WARN + 4) * 1000)
    assert time.monotonic() - started < IDLE
    keep = page.get_by_test_id("idle-continue")
    expect(keep).to_be_focused()
    # What was typed was kept as soon as the notice appeared; nothing saved in the case.
    expect_soon(lambda: [d.get("contact_person") for d in unsaved()] == [["半途輸入的聯絡人"]])
    keep.click()
    expect(notice).to_be_hidden()

    # Past the first limit the user is still logged in, on the same page with its input.
    page.wait_for_timeout(max(0, (started + IDLE + 2 - time.monotonic()) * 1000))
    assert page.url.endswith("/masks/apply/")
    assert page.request.get(f"{live_server.url}/session/idle/").json()["remaining"] > 0
    assert page.locator("#id_contact_person").input_value() == "半途輸入的聯絡人"

    # Typing on without saving; the session ends; the login page says why.
    page.locator("#id_contact_phone").fill("02-2397-7384 分機 9")
    page.wait_for_url("**/accounts/login/**", timeout=(IDLE + 6) * 1000)
    expect(page.get_by_test_id("message-warning")).to_be_visible()
    assert [d.get("contact_phone") for d in unsaved()] == [["02-2397-7384 分機 9"]]
    assert not orm(Application.objects.exists)

    # Log in again: 新申請 starts empty; 匯入暫存資料 brings back what was typed.
    log_in(page, applicant.identifier)
    assert page.url.endswith("/masks/apply/")
    assert page.locator("#id_contact_person").input_value() != "半途輸入的聯絡人"
    page.get_by_role("button", name=t("Import saved draft")).click()
    page.wait_for_load_state()
    assert page.locator("#id_contact_person").input_value() == "半途輸入的聯絡人"
    assert page.locator("#id_contact_phone").input_value() == "02-2397-7384 分機 9"
    assert page.locator("input[name=route][value=postal]").is_checked()

    # 下一步 saves it: the draft holds it and the unsaved input is gone.
    page.get_by_role("button", name=t("Next step")).click()
    page.wait_for_load_state()
    draft = orm(lambda: Application.objects.get(status=Status.DRAFT))
    assert (draft.contact_person, draft.contact_phone) == ("半途輸入的聯絡人",
                                                           "02-2397-7384 分機 9")
    assert unsaved() == []


def expect_soon(predicate, timeout=5):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_reviewer_in_the_admin_is_warned_and_logged_out_when_idle(
        reviewer, live_server, page, short_idle):
    # The reviewers' pages end after the same idle time (portal.middleware); they used to end
    # without a word, losing a half-written note (templates/admin/base_site.html).
    orm(lambda: (reviewer.set_password(PASSWORD), reviewer.save()))
    page.goto(f"{live_server.url}/admin/login/?next=/admin/permits/application/")
    page.locator("#id_username").fill(reviewer.identifier)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#login-form [type=submit]").click()
    page.wait_for_load_state()
    assert page.url.endswith("/admin/permits/application/")
    notice = page.get_by_role("alertdialog")
    expect(notice).to_be_hidden()
    expect(notice).to_be_visible(timeout=(IDLE - WARN + 4) * 1000)
    expect(page.get_by_test_id("idle-continue")).to_be_focused()
    assert t("The session is about to end") in notice.inner_text()
    # Left alone, the page goes to the login page when the time is up.
    page.wait_for_url("**/login/**", timeout=(WARN + 8) * 1000)
