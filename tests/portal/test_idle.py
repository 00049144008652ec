"""The idle logout (ACC-3) without losing what was typed: the notice's keep-alive extends the
session, its status check and the autosave do not count as activity, and what is on a case
entry form when the session is about to end is kept as the draft's unsaved input (never in
the case's own fields), brought back by 匯入暫存資料 or by opening the draft's page, and
dropped by the next valid 下一步 / 確認 (PERMIT-6)."""

import datetime
import time
from urllib.parse import urlencode

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from permits import autosave
from permits.models import Application, Status, UnsavedInput
from portal.middleware import IDLE_KEY
from tests.masks.conftest import BASIC, item

pytestmark = pytest.mark.django_db

STATUS = reverse("session_idle")
MASK = "masks:application"


def idle_for(client, seconds):
    session = client.session
    session[IDLE_KEY] = int(time.time()) - seconds
    session.save()


def last_activity(client):
    return client.session.get(IDLE_KEY)


def autosave_url(entry=MASK, **query):
    return f"{reverse('permits:autosave')}?{urlencode({'entry': entry, **query})}"


def mask_draft(client):
    """The applicant's mask draft after a valid 下一步, with one item after 確認."""
    response = client.post(reverse("masks:application_basic"), BASIC)
    assert response.status_code == 302
    application = Application.objects.get(status=Status.DRAFT,
                                          applicant=response.wsgi_request.user)
    assert client.post(reverse("masks:application_item_add", args=[application.pk]),
                       item()).status_code == 302
    return application


def restored(response):
    """Whether the page says it brought back input not yet saved (已帶回登出前尚未儲存的輸入)."""
    return any(autosave.RESTORED_TAG in message.extra_tags
               for message in get_messages(response.wsgi_request))


@pytest.fixture
def logged_in(client, applicant):
    client.force_login(applicant)
    client.get(reverse("home"))
    return client


# --- the session ---------------------------------------------------------------------------


def test_it_extends_the_session_with_the_keep_alive(logged_in):
    idle_for(logged_in, 19 * 60)
    response = logged_in.post(STATUS)
    assert response.status_code == 200
    assert response.json()["remaining"] == pytest.approx(20 * 60, abs=2)
    assert last_activity(logged_in) >= time.time() - 2
    idle_for(logged_in, 19 * 60)
    assert logged_in.post(STATUS).json()["remaining"] > 19 * 60
    assert logged_in.get(reverse("home")).status_code == 200


def test_it_answers_the_status_check_without_counting_it_as_activity(logged_in):
    idle_for(logged_in, 19 * 60)
    before = last_activity(logged_in)
    response = logged_in.get(STATUS)
    assert response.json()["remaining"] == pytest.approx(60, abs=2)
    assert last_activity(logged_in) == before
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]


def test_it_ends_a_session_whose_keep_alive_comes_too_late(logged_in):
    idle_for(logged_in, 20 * 60 + 1)
    response = logged_in.post(STATUS)
    assert response.status_code == 200 and response.json()["remaining"] == 0
    assert response.wsgi_request.user.is_anonymous
    assert logged_in.get(reverse("home")).status_code == 302


def test_it_answers_the_status_to_anyone_without_a_session(client):
    assert client.get(STATUS).json()["remaining"] == 0


def test_it_takes_the_timer_values_from_the_settings(logged_in, settings):
    settings.SESSION_IDLE_TIMEOUT = datetime.timedelta(seconds=90)
    settings.SESSION_IDLE_WARNING = datetime.timedelta(seconds=30)
    html = logged_in.get(reverse("masks:application_basic")).content.decode()
    assert 'data-idle-seconds="90"' in html and 'data-warn-seconds="30"' in html
    assert 'role="alertdialog"' in html and 'data-testid="idle-continue"' in html
    assert f'data-autosave-url="{autosave_url(step="basic")}"'.replace("&", "&amp;") in html
    assert "<script>" not in html  # no inline script (CSP)


def test_it_measures_idleness_with_the_setting_of_the_moment(logged_in, settings):
    settings.SESSION_IDLE_TIMEOUT = datetime.timedelta(seconds=5)
    idle_for(logged_in, 6)
    assert logged_in.get(reverse("home")).status_code == 302


def test_it_offers_no_autosave_on_a_page_without_an_entry_form(logged_in):
    html = logged_in.get(reverse("home")).content.decode()
    assert 'data-autosave-url=""' in html


# --- the autosave --------------------------------------------------------------------------


def test_it_keeps_what_is_typed_on_a_drafts_basic_page_apart_from_the_case(logged_in):
    draft = mask_draft(logged_in)
    idle_for(logged_in, 19 * 60)
    before = last_activity(logged_in)
    response = logged_in.post(autosave_url(case=draft.pk, step="basic"), {
        **BASIC, "applicant_name": "半途公司", "company_email": "not-yet-an-email",
        "csrfmiddlewaretoken": "x", "draft_action": "x", "unknown": "y"})
    assert response.status_code == 204
    assert last_activity(logged_in) == before  # an autosave is not activity
    saved = UnsavedInput.objects.get()
    assert (saved.user, saved.application, saved.step) == (draft.applicant, draft, "basic")
    assert saved.data["applicant_name"] == ["半途公司"]
    assert saved.data["company_email"] == ["not-yet-an-email"]
    assert not {"csrfmiddlewaretoken", "draft_action", "unknown"} & saved.data.keys()
    draft.refresh_from_db()
    assert draft.applicant_name == BASIC["applicant_name"]  # never into the case


def test_it_keeps_one_unsaved_input_per_page(logged_in):
    draft = mask_draft(logged_in)
    url = autosave_url(case=draft.pk, step="basic")
    logged_in.post(url, {**BASIC, "contact_person": "甲"})
    logged_in.post(url, {**BASIC, "contact_person": "乙"})
    assert list(UnsavedInput.objects.values_list("data__contact_person", flat=True)) == [["乙"]]


def test_it_bounds_what_it_stores(logged_in):
    draft = mask_draft(logged_in)
    response = logged_in.post(autosave_url(case=draft.pk, step="basic"), {
        "applicant_name": "甲" * 5000, "contact_person": "王\x00小明",
        "contact_phone": ["1", "2"] * 50})
    assert response.status_code == 204
    data = UnsavedInput.objects.get().data
    assert data["applicant_name"] == ["甲" * 120]  # the field's max_length
    assert data["contact_person"] == ["王小明"]
    assert len(data["contact_phone"]) <= autosave.MAX_VALUES


def test_it_refuses_more_than_the_size_limit(logged_in, monkeypatch):
    draft = mask_draft(logged_in)
    monkeypatch.setattr(autosave, "MAX_BYTES", 200)
    response = logged_in.post(autosave_url(case=draft.pk, step="basic"),
                              {**BASIC, "applicant_address": "臺" * 200})
    assert response.status_code == 413 and response.json()["code"] == "too_large"
    assert not UnsavedInput.objects.exists()


def test_it_keeps_the_input_of_a_new_case_not_yet_saved(logged_in, applicant):
    response = logged_in.post(autosave_url(step="basic"), {"applicant_name": "新公司"})
    assert response.status_code == 204
    saved = UnsavedInput.objects.get()
    assert saved.application is None and saved.user == applicant
    assert not Application.objects.exists()


def test_it_keeps_the_input_of_a_goods_item(logged_in):
    draft = mask_draft(logged_in)
    assert logged_in.post(autosave_url(case=draft.pk, step="item"),
                          {"quantity": "12", "description": "半途"}).status_code == 204
    assert logged_in.post(autosave_url(case=draft.pk, step="item", line=1),
                          {"quantity": "99"}).status_code == 204
    item_pk = draft.items.get().pk
    assert sorted(UnsavedInput.objects.values_list("step", flat=True)) == [
        f"item-{item_pk}", "item-new"]


@pytest.mark.parametrize("query", [
    {"case": "other", "step": "basic"},  # another applicant's draft
    {"case": "other", "step": "item"},
    {"case": "own", "step": "item", "line": 7},  # no such item
    {"case": "own", "step": "elsewhere"},
    {"case": "abc", "step": "basic"},
    {"case": "99999999999999999999", "step": "basic"},
    {"entry": "masks:nothing", "step": "basic"},
    {"entry": "masks:correction", "step": "basic"},  # a change has no new-case page
])
def test_it_refuses_an_autosave_for_no_page_of_the_user(client, applicant, other_applicant,
                                                        query):
    client.force_login(other_applicant)
    drafts = {"other": mask_draft(client).pk}
    client.force_login(applicant)
    drafts["own"] = mask_draft(client).pk
    query = {**query, "case": drafts.get(query.get("case"), query.get("case"))}
    response = client.post(autosave_url(**{k: v for k, v in query.items() if v}), BASIC)
    assert response.status_code == 404
    assert not UnsavedInput.objects.exists()


def test_it_refuses_the_agents_and_staffs_autosave_on_an_applicants_draft(
        client, applicant, agent, reviewer):
    client.force_login(applicant)
    draft = mask_draft(client)
    client.force_login(agent)
    assert client.post(autosave_url(case=draft.pk, step="basic"), BASIC).status_code == 404
    client.force_login(reviewer)
    assert client.post(autosave_url(case=draft.pk, step="basic"), BASIC).status_code == 403
    assert not UnsavedInput.objects.exists()


def test_it_sends_the_logged_out_to_the_login_page(client):
    response = client.post(autosave_url(step="basic"), BASIC)
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


def test_it_answers_conflict_for_a_draft_filed_meanwhile(logged_in):
    draft = mask_draft(logged_in)
    logged_in.post(reverse("masks:application_submit", args=[draft.pk]))
    assert Application.objects.get(pk=draft.pk).status != Status.DRAFT
    response = logged_in.post(autosave_url(case=draft.pk, step="basic"), BASIC)
    assert response.status_code == 409
    assert not UnsavedInput.objects.exists()


def test_it_takes_no_autosave_by_get(logged_in):
    assert logged_in.get(autosave_url(step="basic")).status_code == 405


# --- bringing it back ------------------------------------------------------------------------


def test_it_brings_the_input_back_when_the_drafts_page_is_opened(logged_in):
    draft = mask_draft(logged_in)
    logged_in.post(autosave_url(case=draft.pk, step="basic"),
                   {**BASIC, "contact_person": "半途", "route": "declaration"})
    response = logged_in.get(reverse("masks:application_edit", args=[draft.pk]))
    form = response.context["form"]
    assert not form.is_bound
    assert form.initial["contact_person"] == "半途" and form.initial["route"] == "declaration"
    assert restored(response)
    draft.refresh_from_db()
    assert draft.contact_person == BASIC["contact_person"]


def test_it_brings_the_input_back_with_import_draft(logged_in):
    draft = mask_draft(logged_in)
    logged_in.post(autosave_url(case=draft.pk, step="basic"), {**BASIC, "contact_person": "半途"})
    response = logged_in.post(reverse("masks:application_basic"),
                              {"draft_action": "import_draft"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("masks:application_edit", args=[draft.pk])
    assert response.context["form"].initial["contact_person"] == "半途"
    assert restored(response)


def test_it_leads_import_draft_to_the_goods_item_typed_last(logged_in):
    draft = mask_draft(logged_in)
    logged_in.post(autosave_url(case=draft.pk, step="item", line=1),
                   {**item(), "quantity": "77"})
    response = logged_in.post(reverse("masks:application_basic"),
                              {"draft_action": "import_draft"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("masks:application_item",
                                                     args=[draft.pk, 1])
    assert response.context["form"].initial["quantity"] == "77"
    assert restored(response)
    assert draft.items.get().quantity == 100


def test_it_brings_back_a_new_goods_item(logged_in):
    draft = mask_draft(logged_in)
    logged_in.post(autosave_url(case=draft.pk, step="item"), {"quantity": "5", "unit": "PCE",
                                                               "category": "non_medical"})
    response = logged_in.get(reverse("masks:application_item_add", args=[draft.pk]))
    assert response.context["form"].initial["quantity"] == "5"
    assert response.context["form"].initial["category"] == "non_medical"
    assert restored(response)


def test_it_brings_back_a_new_case_with_import_draft(logged_in):
    logged_in.post(autosave_url(step="basic"), {**BASIC, "contact_person": "新案半途"})
    page = logged_in.get(reverse("masks:application_basic"))
    # Opening 新申請 starts a new case: it only says what 匯入暫存資料 would bring back.
    assert page.context["form"].initial.get("contact_person") != "新案半途"
    response = logged_in.post(reverse("masks:application_basic"),
                              {"draft_action": "import_draft"})
    assert response.status_code == 200
    assert response.context["form"].initial["contact_person"] == "新案半途"
    assert restored(response)
    assert not Application.objects.exists()


def test_it_prefers_the_newer_of_a_new_case_and_the_last_draft(logged_in):
    draft = mask_draft(logged_in)
    logged_in.post(autosave_url(step="basic"), {**BASIC, "contact_person": "新案"})
    UnsavedInput.objects.update(saved_at=draft.updated_at - datetime.timedelta(minutes=1))
    response = logged_in.post(reverse("masks:application_basic"),
                              {"draft_action": "import_draft"})
    assert response.status_code == 302
    assert response.url == reverse("masks:application_edit", args=[draft.pk])


def test_it_drops_the_unsaved_input_on_the_next_valid_next_step(logged_in):
    logged_in.post(autosave_url(step="basic"), {**BASIC, "contact_person": "新案"})
    draft = mask_draft(logged_in)
    assert not UnsavedInput.objects.exists()
    logged_in.post(autosave_url(case=draft.pk, step="basic"), {**BASIC, "contact_person": "甲"})
    bad = logged_in.post(reverse("masks:application_edit", args=[draft.pk]),
                         {**BASIC, "company_email": "bad"})
    assert bad.status_code == 400 and UnsavedInput.objects.exists()  # kept until valid
    logged_in.post(reverse("masks:application_edit", args=[draft.pk]),
                   {**BASIC, "contact_person": "甲"})
    assert not UnsavedInput.objects.exists()
    assert Application.objects.get(pk=draft.pk).contact_person == "甲"


def test_it_drops_the_unsaved_input_of_an_item_on_confirm(logged_in):
    draft = mask_draft(logged_in)
    logged_in.post(autosave_url(case=draft.pk, step="item"), {"quantity": "5"})
    logged_in.post(autosave_url(case=draft.pk, step="item", line=1), {"quantity": "6"})
    logged_in.post(reverse("masks:application_item_add", args=[draft.pk]), item(quantity="5"))
    assert list(UnsavedInput.objects.values_list("step", flat=True)) == [
        f"item-{draft.items.get(line_no=1).pk}"]
    logged_in.post(reverse("masks:application_item", args=[draft.pk, 1]), item(quantity="6"))
    assert not UnsavedInput.objects.exists()


def test_it_drops_the_unsaved_input_on_restore(logged_in):
    draft = mask_draft(logged_in)
    logged_in.post(autosave_url(case=draft.pk, step="basic"), {**BASIC, "contact_person": "甲"})
    response = logged_in.post(reverse("masks:application_edit", args=[draft.pk]),
                              {"draft_action": "reset"})
    assert response.context["form"].initial["contact_person"] == BASIC["contact_person"]
    assert not UnsavedInput.objects.exists()


def test_it_brings_back_the_parties_and_their_boxes(client, applicant):
    from tests.test_access_matrix import TESTPROC_BASIC

    client.force_login(applicant)
    client.post(reverse("testproc:application_basic"), TESTPROC_BASIC)
    draft = Application.objects.get()
    assert draft.parties.get(role="end_user").same_as_buyer
    typed = {**TESTPROC_BASIC, "buyer-name": "Half Typed GmbH", "end_user-name": "Own User"}
    del typed["end_user-same_as_buyer"]  # unticked
    assert client.post(autosave_url(entry="testproc:application", case=draft.pk, step="basic"),
                       typed).status_code == 204
    response = client.get(reverse("testproc:application_edit", args=[draft.pk]))
    buyer, end_user = response.context["party_forms"]
    assert buyer.initial["name"] == "Half Typed GmbH"
    assert end_user.initial["name"] == "Own User" and end_user.initial["same_as_buyer"] is False
    assert response.context["form"].initial["destination_country"] == "DE"


def test_it_does_not_bring_back_another_users_input(client, applicant, other_applicant):
    client.force_login(other_applicant)
    client.post(autosave_url(step="basic"), {**BASIC, "contact_person": "別人的"})
    client.force_login(applicant)
    response = client.post(reverse("masks:application_basic"), {"draft_action": "import_draft"})
    assert response.context["form"].initial.get("contact_person") != "別人的"


def test_it_purges_unsaved_input_of_filed_cases_and_old_input(logged_in, settings):
    draft = mask_draft(logged_in)
    logged_in.post(autosave_url(case=draft.pk, step="basic"), BASIC)
    logged_in.post(autosave_url(step="basic"), BASIC)
    assert autosave.unsaved_purge() == 0
    Application.objects.filter(pk=draft.pk).update(status=Status.INITIAL_REVIEW)
    UnsavedInput.objects.filter(application=None).update(
        saved_at=draft.updated_at - datetime.timedelta(days=settings.DRAFT_MAX_AGE_DAYS + 1))
    assert autosave.unsaved_purge() == 2
    assert not UnsavedInput.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_keeps_one_row_when_two_autosaves_cross(applicant):
    """The notice's autosave and the last one before the logout may cross: one row stays."""
    from masks import entry as mask_entry
    from tests import services as test_services

    test_services.require_postgres()
    results = test_services.run_concurrently(*[
        lambda n=n: autosave.unsaved_save(user=applicant, entry=mask_entry.APPLICATION,
                                          application=None, step=autosave.BASIC,
                                          data={"contact_person": [str(n)]})
        for n in range(4)])
    assert results == [None] * 4
    assert UnsavedInput.objects.count() == 1


def test_it_purges_with_the_nightly_draft_purge(logged_in):
    from permits import tasks

    draft = mask_draft(logged_in)
    logged_in.post(autosave_url(case=draft.pk, step="basic"), BASIC)
    Application.objects.filter(pk=draft.pk).update(status=Status.INITIAL_REVIEW)
    tasks.purge_drafts()
    assert not UnsavedInput.objects.exists()
