"""小月曆 (issue 9, point 12): every date field of the portal has the calendar the manuals
show (申辦狀況查詢作業: 申請日期(起)/(止)). It is our own static/portal/js/rocdate.js, served
by the portal (no CDN), and writes ROC dates; typing still works; it is used by keyboard in
Chromium (tests at the end)."""

import datetime
import importlib
import pkgutil
import re
from pathlib import Path

import pytest
from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import timezone, translation

from permits.models import Status
from portal.forms import RocDateInput
from tests.browser.axe import Auditor
from tests.browser.conftest import ARTIFACTS, CHROMIUM_ARGS
from tests.services import orm, require_chromium, seed_reference_data

QUERY = reverse("permits:query")
STRICT_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
              "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
PROJECT_APPS = ("portal", "permits", "masks", "reconciliation", "shtc")


def project_forms():
    """Every form class the portal's packages define (their modules imported)."""
    for app in PROJECT_APPS:
        package = importlib.import_module(app)
        for info in pkgutil.walk_packages(package.__path__, f"{app}."):
            if ".migrations" in info.name or ".management" in info.name:
                continue
            importlib.import_module(info.name)
    found = set()
    pending = [forms.BaseForm]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            pending.append(sub)
            if sub.__module__.split(".")[0] in PROJECT_APPS:
                found.add(sub)
    return found


def test_it_puts_every_date_field_of_the_portal_on_the_calendar():
    date_fields = []
    for form in project_forms():
        for name, field in getattr(form, "base_fields", {}).items():
            if isinstance(field, forms.DateField | forms.DateTimeField):
                date_fields.append(f"{form.__module__}.{form.__name__}.{name}")
                assert isinstance(field.widget, RocDateInput), (form, name)
    # 申辦狀況查詢作業 申請日期(起)/(止) and the flow's date at least.
    assert {"permits.forms.QueryForm.date_from", "permits.forms.QueryForm.date_to",
            "masks.forms.FlowForm.date"} <= set(date_fields)


def test_it_serves_the_calendar_from_the_portal_itself():
    for path in ("portal/js/rocdate.js", "portal/css/rocdate.css"):
        assert finders.find(path), path
    assert "portal" in apps.app_configs  # the app whose static/ holds them
    template = (settings.BASE_DIR / "templates" / "base.html").read_text()
    assert "{% static 'portal/js/rocdate.js' %}" in template
    assert "{% static 'portal/css/rocdate.css' %}" in template
    # Nothing from another host (no CDN): every script and style sheet is a static file.
    assert all(url.startswith("{% static ") for url in
               re.findall(r'<(?:script|link)[^>]* (?:src|href)="([^"]+)"', template))


def test_its_script_sets_no_inline_style_and_runs_no_inline_code():
    script = Path(finders.find("portal/js/rocdate.js")).read_text(encoding="utf-8")
    for forbidden in (".style", "setAttribute(\"style\"", "innerHTML", "eval(",
                      "new Function", "setTimeout(\""):
        assert forbidden not in script, forbidden


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hant", "en"])
def test_it_marks_the_query_dates_for_the_calendar_in_the_users_language(
        client, applicant, language):
    choose = t("Choose a date", language)  # 選擇日期 in the catalogue
    client.force_login(applicant)
    client.post(reverse("set_language"), {"language": language, "next": QUERY})
    html = client.get(QUERY).content.decode()
    for name in ("date_from", "date_to"):
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)
        assert "data-rocdate " in tag or "data-rocdate>" in tag
        assert f'data-rocdate-open="{choose}"' in tag
    assert "portal/js/rocdate.js" in html and "portal/css/rocdate.css" in html


@pytest.mark.django_db
def test_typing_still_works_without_the_calendar(client, make_case, applicant):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    client.force_login(applicant)
    today = timezone.localdate()
    roc = f"{today.year - 1911}{today:%m%d}"  # 1151202, typed without separators
    response = client.get(QUERY, {"document_type": "SE", "date_from": roc, "date_to": roc})
    assert list(response.context["page"].object_list) == [case]


# --- In Chromium ------------------------------------------------------------------------------


def t(msgid, language="zh-hant"):
    with translation.override(language):
        return translation.gettext(msgid)


def roc(date):
    return f"{date.year - 1911:03d}/{date:%m/%d}"


@pytest.fixture
def taipei_page(request):
    """Chromium in Taipei's time zone, so its "today" is the portal's."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=CHROMIUM_ARGS)
        context = browser.new_context(locale="zh-TW", timezone_id="Asia/Taipei",
                                      viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15000)
        # The strict policy of issue 9, point 11, whatever the portal sends: the calendar
        # works without inline script or style.
        def strict(route):
            response = route.fetch(max_redirects=0)
            route.fulfill(response=response, headers={**response.headers,
                                                      "content-security-policy": STRICT_CSP})

        context.route("**/*", strict)
        axe = Auditor()  # WCAG 2.1 AA on every page, as in tests/browser/conftest.py
        page = axe.watch(context.new_page())
        page.axe = axe
        problems = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("console", lambda message: problems.append(message.text)
                if message.type == "error" else None)
        page.problems = problems
        yield page
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"{request.node.name}.png", full_page=True)
        try:
            axe.finish(context.pages)
        finally:
            context.close()
            browser.close()


def log_in(page, live_server, user):
    page.goto(f"{live_server.url}{reverse('accounts:login')}")
    page.locator("#id_username").fill(user.identifier)
    page.locator("#id_password").fill("correct-horse-battery")
    page.locator("main [type=submit]").first.click()
    page.wait_for_load_state()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_picks_the_query_dates_by_keyboard(applicant, make_case, live_server, taipei_page):
    page = taipei_page
    orm(seed_reference_data)
    case = orm(make_case, applicant, status=Status.INITIAL_REVIEW)
    log_in(page, live_server, applicant)
    page.goto(f"{live_server.url}{QUERY}")
    page.locator("#id_document_type").select_option("SE")

    # 申請日期(起): typed first, then Alt+Down opens the calendar on the day typed.
    start = page.locator("#id_date_from")
    start.fill("114/12/02")
    start.press("Alt+ArrowDown")
    dialog = page.get_by_role("dialog", name=re.compile(re.escape(t("Application date (from)"))))
    assert dialog.is_visible()
    focused = page.locator("td:focus")
    assert focused.get_attribute("data-date") == "114/12/02"
    assert focused.get_attribute("aria-selected") == "true"
    assert "民國114年12月" in dialog.locator("h2").inner_text()
    page.axe.audit(page)  # the calendar open, too
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "calendar.png")
    # Arrows by day and week, Page Down by month; Enter picks and closes; focus returns.
    for key in ("ArrowRight", "ArrowDown", "PageDown"):
        page.keyboard.press(key)
    assert page.locator("td:focus").get_attribute("data-date") == "115/01/10"
    page.keyboard.press("Enter")
    assert start.input_value() == "115/01/10"
    assert dialog.is_hidden()
    assert page.evaluate("document.activeElement.id") == "id_date_from"

    # 申請日期(止): its button (labelled, reached by Tab), Esc closes and gives focus back,
    # Enter on the button opens it again on today; Enter picks today.
    page.keyboard.press("Tab")
    toggle = page.get_by_role("button", name=f"{t('Choose a date')}: "
                                             f"{t('Application date (from)')}")
    assert page.evaluate("document.activeElement") == toggle.evaluate("node => node")
    page.keyboard.press("Tab")  # on to 申請日期(止)
    page.keyboard.press("Tab")  # and its button
    end_toggle = page.get_by_role("button", name=f"{t('Choose a date')}: "
                                                 f"{t('Application date (to)')}")
    assert end_toggle.evaluate("node => node === document.activeElement")
    page.keyboard.press("Enter")
    end_dialog = page.get_by_role("dialog", name=re.compile(re.escape(t("Application date (to)"))))
    assert end_dialog.is_visible() and end_toggle.get_attribute("aria-expanded") == "true"
    page.keyboard.press("Escape")
    assert end_dialog.is_hidden()
    assert end_toggle.evaluate("node => node === document.activeElement")
    page.keyboard.press("Enter")
    today = roc(timezone.localdate())
    assert page.locator("td:focus").get_attribute("data-date") == today
    assert page.locator("td:focus").get_attribute("aria-current") == "date"
    # Tab stays inside the open dialog (previous, next, the day, Today, Close, previous...).
    for _ in range(5):
        page.keyboard.press("Tab")
    assert page.locator("td:focus").get_attribute("data-date") == today
    page.keyboard.press("Enter")
    assert page.locator("#id_date_to").input_value() == today

    # The query runs with the two ROC dates and finds the case filed today.
    page.get_by_role("button", name=t("Query")).click()
    page.wait_for_load_state()
    assert "date_from=115%2F01%2F10" in page.url
    assert page.locator(".is-invalid").count() == 0
    assert case.receipt_no in page.locator("main").inner_text()
    assert page.problems == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_picks_a_date_with_the_mouse_in_english(applicant, live_server, taipei_page):
    page = taipei_page
    log_in(page, live_server, applicant)
    page.goto(f"{live_server.url}{QUERY}")
    page.locator("button[name=language][value=en]").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Choose a date: Application date (to)").click()
    dialog = page.get_by_role("dialog", name=re.compile("Application date \\(to\\)"))
    dialog.get_by_role("button", name="Next month").click()
    day = (timezone.localdate().replace(day=1) + datetime.timedelta(days=32)).replace(day=15)
    dialog.locator(f"td[data-date='{roc(day)}']").click()
    assert page.locator("#id_date_to").input_value() == roc(day)
    assert "ROC date" in page.locator("#div_id_date_to").inner_text()
    assert page.problems == []
    # A date that does not exist: the server's message shows next to the field, inside the
    # calendar's input group, with what was typed.
    page.locator("#id_date_from").fill("115/13/01")
    page.get_by_role("button", name="Query").click()
    page.wait_for_load_state()
    assert page.locator("#id_date_from").input_value() == "115/13/01"
    assert page.locator("#id_date_from_error").is_visible()

