"""A refused form by keyboard alone (issue 15, what axe-core cannot check): 申請帳號's fields
are reached by Tab in the order they are shown, each with a visible focus; the form is sent
with Enter; the refusal puts the focus on a summary at the top of the form (role="alert"),
one link a refused field, and each link moves the focus into its field, whose
aria-describedby names the error under it. Page titles say where the user is and `lang` is
right in both languages."""

import pytest

from portal.accounts.models import User
from tests.services import log_in, orm

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FOCUSED = """() => {
  const node = document.activeElement;
  const box = node.getBoundingClientRect();
  const style = getComputedStyle(node);
  return {id: node.id, tag: node.tagName, type: node.type || "", name: node.name || "",
          inForm: !!node.closest("main form"), top: Math.round(box.top + scrollY),
          left: Math.round(box.left),
          ring: style.outlineStyle !== "none" || style.boxShadow !== "none",
          summary: node.dataset.testid === "error-summary"};
}"""

FIELDS = ["id_identifier_type_0", "id_identifier", "id_role_0", "id_name", "id_name_en",
          "id_address", "id_contact_person", "id_phone", "id_email", "id_language",
          "id_password1", "id_password2"]


def tab_through_form(page, limit=60):
    """Tab from the top of the page until the form's submit button; what took the focus."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused["inForm"]:
            seen.append(focused)
        if focused["type"] == "submit" and focused["inForm"]:
            return seen
    raise AssertionError(f"the submit button was not reached by Tab: {seen}")


def test_a_refused_form_by_keyboard_alone(page, live_server):
    page.goto(live_server.url + "/accounts/signup/")
    assert page.locator("html").get_attribute("lang") == "zh-Hant-TW"
    assert page.title() == "申請帳號 · 貿易局"

    # Tab order: every field, in the order shown (top to bottom, left to right), each with a
    # focus ring, then the button. (A radio group is one stop: its checked button.)
    order = tab_through_form(page)
    fields = [focused for focused in order if focused["type"] != "submit"]
    assert [focused["id"] for focused in fields] == FIELDS, order
    positions = [(focused["top"], focused["left"]) for focused in fields]
    assert positions == sorted(positions), order
    assert all(focused["ring"] for focused in order), order

    # A few fields filled by keyboard, a bad check digit, then Enter on the button.
    page.locator("#id_identifier").focus()
    page.keyboard.type("22099132")
    page.locator("#id_name").focus()
    page.keyboard.type("安心醫材股份有限公司")
    tab_through_form(page)  # from the top again, to the button
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert not orm(User.objects.exists)
    assert page.title() == "申請帳號 · 貿易局"

    # The focus is on the summary at the top of the form, which lists each refused field.
    summary = page.get_by_test_id("error-summary")
    assert page.evaluate(FOCUSED)["summary"]
    assert summary.get_attribute("role") == "alert"
    assert summary.evaluate("node => node === node.closest('form').firstElementChild")
    links = summary.get_by_role("link")
    targets = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert targets == ["#id_identifier", "#id_address", "#id_contact_person", "#id_phone",
                       "#id_email", "#id_password1", "#id_password2"]
    assert links.nth(0).inner_text().startswith("帳號：統一編號檢查碼錯誤")
    assert links.nth(1).inner_text() == "地址：這個欄位是必須的。"

    # Tab to each link in turn and follow it with Enter: the focus lands in its field, which
    # names its error with aria-describedby; what was typed is still there.
    for number, target in enumerate(targets):
        page.get_by_test_id("error-summary").focus()
        for _ in range(number + 1):
            page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.getAttribute('href')") == target
        page.keyboard.press("Enter")
        focused = page.evaluate(FOCUSED)
        assert f"#{focused['id']}" == target
        assert focused["ring"], focused
        field = page.locator(target)
        described = (field.get_attribute("aria-describedby") or "").split()
        errors = [page.locator(f"#{name}").inner_text() for name in described
                  if name.endswith("_error")]
        assert errors and errors[0].strip() in links.nth(number).inner_text(), (target, described)
    assert page.locator("#id_name").input_value() == "安心醫材股份有限公司"


def test_titles_and_lang_in_english(page, live_server):
    page.context.add_cookies([{"name": "django_language", "value": "en",
                               "url": live_server.url}])
    page.goto(live_server.url + "/accounts/signup/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.title() == "Apply for an account · Trade Bureau"
    page.get_by_role("button", name="Apply for an account").press("Enter")
    page.wait_for_load_state()
    summary = page.get_by_test_id("error-summary")
    assert summary.get_by_role("heading").inner_text() == "Please correct the following:"
    assert summary.get_by_role("link").first.inner_text() == "Account: This field is required."


def test_a_refused_admin_form_names_its_fields_at_the_top(page, live_server):
    """The reviewers' admin forms too: Django's errornote is followed by a summary with one
    link a refused field (static/portal/js/error_summary.js over Django's error lists, whose
    ids the fields' aria-describedby name); the summary takes the focus, a link the field."""
    orm(lambda: User.objects.create_superuser(
        identifier="A123456789", password="keeper-password-1", name="Calendar keeper",
        email="keeper@example.com"))
    log_in(page, f"{live_server.url}/admin/login/?next=/admin/", "A123456789",
           "keeper-password-1")
    page.context.add_cookies([{"name": "django_language", "value": "en",
                               "url": live_server.url}])
    page.goto(live_server.url + "/admin/permits/workdayadjustment/add/")
    page.locator("#id_note").fill("typed\u00a0and kept")
    page.locator("input[name=_save]").click()
    page.wait_for_load_state()
    summary = page.get_by_test_id("error-summary")
    assert summary.evaluate("element => element === document.activeElement")
    links = summary.get_by_role("link")
    texts = links.all_inner_texts()
    assert [text.split(":")[0].lower() for text in texts] == ["date", "kind"], texts
    assert page.locator("#id_note").input_value() == "typed\u00a0and kept"
    links.nth(1).press("Enter")
    focused = page.evaluate(FOCUSED)
    assert focused["id"] == "id_kind"
    assert "id_kind_error" in page.locator("#id_kind").get_attribute("aria-describedby")
