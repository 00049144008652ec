"""The English UI speaks English (issue 9, point 16): country names follow the language
(Country.name_en), sentences name the portal's menus in the current language, and the ROC
date fields say that they are ROC dates. Chinese words are left only where they are the
user's data or a gloss of a manual's term in parentheses, e.g. "reference copy (參考用聯)"."""

import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from permits.models import Status
from permits.notifications import NEXT_STEP

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff01-\uff5e]")
# A gloss: Chinese words in brackets right after the English ones, nothing else inside.
GLOSS = re.compile(r"[(（][\u3000-\u303f\u3400-\u9fff\uff01-\uff5e/]+[)）]")


def in_english(client):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})


def visible_text(html):
    """The words a user reads or hears: text between tags and the attributes that are
    read out (labels, titles, placeholders); not what a user typed (input values)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    said = re.findall(r'\s(?:aria-label|title|placeholder|alt|data-rocdate-[a-z]+)="([^"]*)"',
                      html)
    # The language switcher names each language in itself (繁體中文): that is its point.
    html = re.sub(r'<button[^>]*lang="zh-hant"[^>]*>.*?</button>', " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", html)
    return " ".join([text, *said])


def chinese_outside_data(html, data):
    text = visible_text(html)
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, " ")
    text = GLOSS.sub(" ", text)
    return sorted({match.strip() for match in re.findall(
        r".{0,30}[\u3000-\u303f\u3400-\u9fff\uff01-\uff5e]+.{0,30}", text)})


def user_data(*users, cases=()):
    """What the users typed: names, addresses, people, goods descriptions."""
    data = set()
    for user in users:
        data |= {user.name, user.address, user.contact_person}
    for case in cases:
        data |= {case.applicant_name, case.applicant_address, case.contact_person,
                 case.agent_name or "", case.agent_contact_person or "",
                 case.change_description or ""}
        data |= {item.description for item in case.items.all()}
        data |= set(case.status_changes.values_list("note", flat=True))
    return {value for value in data if value}


@pytest.mark.django_db
def test_it_names_countries_in_the_language_of_the_page(client, make_case, applicant,
                                                        reviewer):
    case = make_case(applicant, status=Status.APPROVED, reviewer=reviewer)  # DE, item TW
    url = reverse("permits:application_detail", args=[case.pk])
    client.force_login(applicant)
    chinese = client.get(url).content.decode()
    assert "DE 德國" in chinese and "TW 臺灣" in chinese
    in_english(client)
    english = client.get(url).content.decode()
    assert "DE Germany" in english and "TW Taiwan" in english
    assert "德國" not in english and "臺灣" not in english


@pytest.mark.django_db
def test_it_names_the_menu_in_the_language_of_the_sentence(client, make_case, applicant,
                                                           reviewer):
    case = make_case(applicant, status=Status.APPROVED, reviewer=reviewer)
    url = reverse("permits:application_detail", args=[case.pk])
    with translation.override("en"):
        assert "Application / write-off query → Application status query (with printing)" in (
            str(NEXT_STEP[Status.APPROVED]))
    with translation.override("zh-hant"):
        menu = f"{translation.gettext('Application / write-off query')} → " \
               f"{translation.gettext('Application status query (with printing)')}"
        assert menu in str(NEXT_STEP[Status.APPROVED])
    client.force_login(applicant)
    in_english(client)
    html = client.get(url).content.decode()
    next_step = re.search(r'data-testid="next-step">(.*?)</div>', html, re.S).group(1)
    assert not CJK.search(next_step), next_step


@pytest.mark.django_db
def test_it_says_that_a_date_field_takes_an_roc_date(client, applicant):
    client.force_login(applicant)
    in_english(client)
    html = client.get(reverse("permits:query")).content.decode()
    assert html.count("ROC date, e.g. 115/12/02") == 2  # 申請日期(起) and (止)
    assert 'placeholder="115/12/02"' in html


@pytest.mark.django_db
def test_the_applicants_english_pages_hold_no_chinese_but_their_data(
        client, make_case, applicant, agent, reviewer):
    """Every page the menu and the cases link to, in English, for an applicant and an
    agent; a page that shows Chinese outside the user's data and glosses fails."""
    from tests.services import seed_reference_data

    seed_reference_data()
    cases = [make_case(applicant, status=Status.APPROVED, reviewer=reviewer),
             make_case(applicant, actor=agent, status=Status.SUPPLEMENT, reviewer=reviewer),
             make_case(applicant, status=Status.INITIAL_REVIEW)]
    # ... and the languages, each named in itself (繁體中文) wherever one is chosen.
    data = user_data(applicant, agent, cases=cases) | {name for _code, name in
                                                        settings.LANGUAGES}
    found = {}
    for user in (applicant, agent):
        client.force_login(user)
        in_english(client)
        seen, pending = set(), [reverse("home")]
        while pending:
            url = pending.pop()
            if url in seen:
                continue
            seen.add(url)
            response = client.get(url)
            if response.status_code != 200 or "html" not in response["Content-Type"]:
                continue
            html = response.content.decode()
            for problem in chinese_outside_data(html, data):
                found.setdefault(problem, url)
            pending += [link for link in re.findall(r'href="(/[^"#?]*)"', html)
                        if not link.startswith(("/static/", "/admin/", "/i18n/"))
                        and not re.search(r"print|download|pdf|delete|logout", link)]
        assert len(seen) > 10  # the crawl reached the procedures
    assert found == {}


@pytest.mark.parametrize("copy", [False, True])
def test_the_english_reminder_names_the_flow_menu_in_english(copy):
    from types import SimpleNamespace

    from django.template.loader import render_to_string

    rows = [SimpleNamespace(declaration=True, number="AM115000000001", stock=10,
                            applicant="Anxin Medical")]
    context = {"holder": SimpleNamespace(name="Anxin Medical"), "rows": rows, "copy": copy,
               "url": "http://portal.example/masks/flows/"}
    with translation.override("en"):
        english = render_to_string("masks/emails/reminder.txt", context)
    assert "Face-mask flow registration" in english
    assert not CJK.search(english), english
    with translation.override("zh-hant"):
        chinese = render_to_string("masks/emails/reminder.txt", context)
        assert translation.gettext("Face-mask flow registration") in chinese


@pytest.mark.django_db
def test_the_cancellation_message_names_the_field_in_english(client, make_case, applicant,
                                                             reviewer):
    from django.contrib.messages import get_messages

    permit = make_case(applicant, status=Status.APPROVED, reviewer=reviewer).issued_version.permit
    client.force_login(applicant)
    in_english(client)
    response = client.post(reverse("permits:cancellation"), {
        "action": "cancel", "permit_no": permit.permit_no, "reason": "Order cancelled",
        "apply": "1"})
    assert response.status_code == 302
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert "Cancelled permit number for balance re-issue" in message
    assert not CJK.search(message), message


@pytest.mark.django_db
def test_a_country_is_named_in_the_current_language_wherever_it_is_shown():
    from permits.fields import country_names
    from permits.models import Country

    germany = Country.objects.get(code="DE")
    with translation.override("en"):
        assert str(germany) == "DE Germany" and country_names(["DE"]) == {"DE": "Germany"}
    with translation.override("zh-hant"):
        assert str(germany) == "DE 德國" and country_names(["DE"]) == {"DE": "德國"}
