"""What the reviewers' case page keeps per process (permits.admin_case; bench/README.md "Stop
23 (reviewers' case pages)"): its links reversed once per script prefix and URL
configuration (permits.admin.fixed_url, keyed_url) and its yes/no icons once per value and
prefix (permits.admin._boolean_html), each inline's queryset once per class and
permission, the note's and the decision's forms drawn afresh from one unbound form each
(permits.review_notes.fresh_form). The page stays what Django's change form draws
(tests/permits/test_admin_case.py compares them, an SHTC case with its risk flag included,
in both languages); here: what the kept parts must not carry from one page to the next."""

import re

import pytest
from django.contrib import admin
from django.contrib.admin.options import InlineModelAdmin
from django.contrib.auth.models import AnonymousUser
from django.templatetags.static import static
from django.test import RequestFactory
from django.urls import clear_script_prefix, get_script_prefix, reverse, set_script_prefix

from permits import admin_case
from permits.admin import ItemInline, ReadOnlyInline
from permits.models import Application
from shtc.models import RiskFlag
from tests.permits.test_admin_case import change_url
from tests.permits.test_internal_notes import note_url, refused_in_place
from tests.shtc.review_cases import shtc_case  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def flagged(shtc_case):  # noqa: F811
    """An SHTC case in 初審中 to 中國大陸, so with an open risk flag (watched_destination)."""
    case = shtc_case(destination="CN")
    assert RiskFlag.objects.filter(application=case, decided_at=None).exists()
    return case


def page_links(case):
    """The case page's own links, as reverse() gives them under the current script prefix."""
    flag = RiskFlag.objects.filter(application=case).first()
    attachment = case.attachments.order_by("pk").first()
    return [
        reverse("admin:permits_application_history", args=[case.pk]),
        reverse("admin:permits_application_changelist"),
        reverse("admin:index"),
        reverse("admin:app_list", kwargs={"app_label": "permits"}),
        reverse("admin:permits_application_move", args=[case.pk]),
        reverse("admin:permits_application_workflow"),
        reverse("admin:permits_application_note", args=[case.pk]),
        reverse("admin:shtc_riskflag_decide", args=[flag.pk]),
        reverse("permits:attachment_download", args=[attachment.pk]),
    ]


@pytest.mark.parametrize("language", ["zh-hant", "en"])
def test_its_links_follow_the_script_prefix(client, reviewer, flagged, language):
    client.force_login(reviewer)
    client.cookies["django_language"] = language
    plain_links, url = page_links(flagged), change_url(flagged)
    plain_icons = [static(f"admin/img/icon-{name}.svg") for name in ("yes", "no")]
    html = client.get(url).content.decode()
    for link in plain_links:
        assert f'"{link}' in html, link
    set_script_prefix("/portal/")  # as the WSGI handler sets it from SCRIPT_NAME
    try:
        prefixed_links = page_links(flagged)
        prefixed_icons = [static(f"admin/img/icon-{name}.svg") for name in ("yes", "no")]
        prefixed = client.get(url).content.decode()
    finally:
        clear_script_prefix()
    assert get_script_prefix() == "/"
    for plain, link in zip(plain_links, prefixed_links, strict=True):
        assert link == "/portal" + plain
        assert f'"{link}' in prefixed, link
        assert f'"{plain}' not in prefixed, plain  # not the path kept for the other prefix
    # The parties' yes/no icons (drawn once per value and prefix): where static() says.
    for page, icons in ((html, plain_icons), (prefixed, prefixed_icons)):
        for icon in icons:
            assert f'<img src="{icon}" alt="' in page, icon
    # And back: the paths of the plain prefix, not the last ones reversed.
    again = client.get(url).content.decode()
    assert again.count('"/portal/') == 0
    for link in plain_links:
        assert f'"{link}' in again, link


def test_the_links_name_each_case_its_own(client, reviewer, flagged, shtc_case):  # noqa: F811
    other = shtc_case(destination="CN")
    client.force_login(reviewer)
    for case in (flagged, other, flagged):
        html = client.get(change_url(case)).content.decode()
        for link in page_links(case):
            assert f'"{link}' in html, link
        elsewhere = other if case is flagged else flagged
        assert reverse("admin:permits_application_note", args=[elsewhere.pk]) not in html


def test_a_refused_note_stays_on_its_own_page(client, reviewer, flagged):
    """The refused form is drawn with its error and typing; the next page has the empty form
    of one unbound form kept per process, which the refused one did not change."""
    client.force_login(reviewer)
    fresh = client.get(change_url(flagged)).content.decode()
    refused = client.post(note_url(flagged), {"text": "a\x07b"})
    refused_in_place(refused, "text", "id_internal_note", "a\x07b")
    typed = "長" * 2001
    refused_in_place(client.post(note_url(flagged), {"text": typed}), "text",
                     "id_internal_note", typed)
    after = client.get(change_url(flagged)).content.decode()
    note = re.search(r'<textarea name="text" id="id_internal_note"[^>]*>(.*?)</textarea>',
                     after, re.S)
    assert note.group(1).strip() == ""
    assert "aria-invalid" not in note.group(0) and "id_internal_note_error" not in after
    assert _forms(after) == _forms(fresh)


def test_a_refused_decision_stays_on_its_own_page(client, reviewer, flagged):
    client.force_login(reviewer)
    flag = RiskFlag.objects.filter(application=flagged, decided_at=None).first()
    field = f"id_risk_decision_{flag.pk}"
    fresh = client.get(change_url(flagged)).content.decode()
    refused = client.post(reverse("admin:shtc_riskflag_decide", args=[flag.pk]), {"note": ""})
    refused_in_place(refused, "note", field, "")
    after = client.get(change_url(flagged)).content.decode()
    assert f"{field}_error" not in after and 'aria-invalid="true"' not in after
    assert _forms(after) == _forms(fresh)


def _forms(html):
    """The page's forms, their CSRF masks aside (a new one each page)."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "",
                  "".join(re.findall(r"<form\b.*?</form>", html, re.S)))


def test_each_inlines_queryset_is_made_once_per_permission(client, reviewer, flagged,
                                                          shtc_case, monkeypatch):  # noqa: F811
    other = shtc_case(destination="US")
    made = []
    original = ReadOnlyInline.get_queryset

    def counted(inline, request):
        made.append(type(inline))
        return original(inline, request)

    monkeypatch.setattr(ReadOnlyInline, "get_queryset", counted)
    monkeypatch.setattr(admin_case, "_QUERYSETS", {})
    client.force_login(reviewer)
    first = client.get(change_url(flagged)).content.decode()
    assert made and len(made) == len(set(made))
    made.clear()
    second = client.get(change_url(other)).content.decode()
    assert made == []  # kept
    # Each page lists its own case's rows: the kept querysets hold no case.
    for case, html in ((flagged, first), (other, second)):
        for party in case.parties.all():
            assert f'id="parties-{list(case.parties.order_by("role")).index(party)}"' in html
        for item in case.items.all():
            assert item.description in html
        names = {attachment.original_name for attachment in case.attachments.all()}
        assert names and all(name in html for name in names)
    assert change_url(other) not in first


def test_a_user_who_may_not_view_an_inlines_rows_gets_none(reviewer, make_user):
    """The queryset is kept per answer of the permission, as Django's get_queryset() asks
    it: none for a user who may not view the rows, all of them (narrowed later) for one
    who may."""
    inline = admin_case._inline(ItemInline, Application, admin.site)
    request = RequestFactory().get("/")
    request.user = reviewer
    assert not admin_case._inline_queryset(inline, request).query.is_empty()
    nobody = make_user("B223456783", identifier_type="national_id", is_staff=True)
    request.user = nobody
    assert admin_case._inline_queryset(inline, request).query.is_empty()
    request.user = AnonymousUser()
    assert admin_case._inline_queryset(inline, request).query.is_empty()
    request.user = reviewer
    assert not admin_case._inline_queryset(inline, request).query.is_empty()


def test_the_inlines_view_permission_is_asked_once_a_page(client, reviewer, flagged,
                                                         monkeypatch):
    """_inline_instances() asks each inline's view permission (with the case); the queryset
    kept for that answer needs it no second time (without the case)."""
    from permits.admin import AttachmentInline, PartyInline, StatusChangeInline
    from shtc.admin import ShtcReviewInline

    for kind in (ItemInline, AttachmentInline, PartyInline, StatusChangeInline,
                 ShtcReviewInline):
        assert admin_case._views_as_django(kind)

    class Narrowed(ItemInline):
        def has_view_permission(self, request, obj=None):
            return obj is not None

    assert not admin_case._views_as_django(Narrowed)
    asked = []
    original = InlineModelAdmin.has_view_permission

    def counted(inline, request, obj=None):
        asked.append((type(inline), obj))
        return original(inline, request, obj)

    monkeypatch.setattr(InlineModelAdmin, "has_view_permission", counted)
    client.force_login(reviewer)
    client.get(change_url(flagged))
    asked.clear()
    assert client.get(change_url(flagged)).status_code == 200
    assert asked and all(obj == flagged for _kind, obj in asked)
    assert len(asked) == len({kind for kind, _obj in asked})
