"""The applicants' pages made cheaper (issue 10, Stop 23): {% fixed %} (permits/templatetags/
fixed_text.py) renders a stretch of text and translations once per language and gives the
same text as the plain rendering; it refuses anything that could depend on the request. The
pages that use it print the same HTML with and without its cache, in both languages. The
lists' dates (permits.listing.roc_dates) are the roc filter's; a page's cases made with what
it looked up once (listing._maker) still go through from_db() for a model that reacts to
being made; the port look-up's count is the Paginator's int."""

import re
from datetime import UTC, date, datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import signals
from django.template import TemplateSyntaxError, engines
from django.urls import reverse
from django.utils import timezone, translation

from permits.listing import VisibleCases, roc_dates
from permits.models import Application, Status
from permits.templatetags import fixed_text
from portal.templatetags.roc import roc
from shtc import port_views
from shtc.models import Port
from tests.shtc.test_filing import registered

LANGUAGES = ["zh-hant", "en"]

FIXED = """{% load i18n fixed_text %}<p>{% fixed %}<b>{% translate "Status" %}</b> & \
{% translate "Next" context "pagination" %}{% blocktranslate %}No cases.{% endblocktranslate %}\
{% translate 'Pages' %}{% translate "Query" noop %}{% endfixed %}</p>"""


def rendered(source, context=None):
    return engines["django"].from_string(source).render(context or {})


def plain(source):
    return source.replace("{% fixed %}", "").replace("{% endfixed %}", "")


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_renders_what_the_plain_template_renders(language):
    with translation.override(language):
        for source in (FIXED, "{% autoescape off %}" + FIXED + "{% endautoescape %}",
                       FIXED.replace('"Status"', '"A & <b>"')):
            expected = rendered(plain(source))
            assert rendered(source) == expected
            assert rendered(source) == expected  # from the cache
    assert "&amp;" not in rendered(plain(FIXED)).split("</b>")[0]


def test_it_keeps_a_text_per_language_and_escaping():
    template = engines["django"].from_string(FIXED)
    texts = {}
    for language in [*LANGUAGES, *LANGUAGES]:
        with translation.override(language):
            texts.setdefault(language, template.render({}))
            assert template.render({}) == texts[language]
    assert texts["zh-hant"] != texts["en"]
    node = next(node for node in template.template.nodelist
                if isinstance(node, fixed_text.FixedNode))
    assert set(node.rendered) == {("zh-hant", True), ("en", True)}


@pytest.mark.parametrize("inside", [
    "{{ name }}", '{% translate "Status" as label %}', "{% translate name %}",
    '{% translate "Status"|upper %}', '{% translate "Next" context name %}',
    "{% blocktranslate %}Hello {{ name }}{% endblocktranslate %}",
    "{% blocktranslate with n=name %}Hello {{ n }}{% endblocktranslate %}",
    "{% blocktranslate count n=3 %}one{% plural %}many{% endblocktranslate %}",
    "{% if name %}x{% endif %}", "{% url 'home' %}", "{% csrf_token %}", "{% now 'Y' %}",
])
def test_it_refuses_what_could_differ_from_one_request_to_the_next(inside):
    with pytest.raises(TemplateSyntaxError):
        engines["django"].from_string(
            "{% load i18n fixed_text %}{% fixed %}" + inside + "{% endfixed %}")


def test_every_template_that_uses_it_compiles_and_loads_it():
    from pathlib import Path

    from django.conf import settings
    from django.template.loader import get_template

    root = Path(settings.BASE_DIR) / "templates"
    using = [path for path in root.rglob("*.html") if "{% fixed %}" in path.read_text()]
    assert len(using) >= 10
    for path in using:
        get_template(str(path.relative_to(root)))


def masked(html):
    return re.sub(r'(name="csrfmiddlewaretoken" value=)"[^"]*"', r'\1"X"', html)


@pytest.mark.django_db
@pytest.mark.usefixtures("private_root")
def test_the_pages_print_the_same_with_and_without_the_cache(client, applicant, agent,
                                                             monkeypatch):
    case = registered(applicant)
    registered(applicant, actor=agent)
    pages = [
        reverse("permits:dashboard"),
        reverse("permits:query") + "?document_type=SE&date_from=2000-01-01&date_to=2100-12-31",
        reverse("shtc:filing_query") + "?document_type=SE&date_from=2000-01-01"
                                       "&date_to=2100-12-31",
        reverse("shtc:filing_case", args=[case.pk]),
        reverse("permits:application_detail", args=[case.pk]),
        reverse("shtc:port_lookup") + "?country=US", reverse("shtc:port_lookup") + "?letter=Q",
        reverse("masks:flow_start"),
    ]
    client.force_login(applicant)
    seen = {}
    for caching in (True, True, False):
        monkeypatch.setattr(fixed_text, "CACHING", caching)
        for language in LANGUAGES:
            client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
            for page in pages:
                response = client.get(page)
                assert response.status_code == 200, page
                html = masked(response.content.decode())
                assert seen.setdefault((language, page), html) == html, (caching, page)
    assert seen["zh-hant", pages[0]] != seen["en", pages[0]]


@pytest.mark.parametrize("zone", ["Asia/Taipei", "UTC", "America/New_York"])
def test_the_lists_dates_are_the_roc_filters(zone):
    values = [None, "", date(2020, 9, 12), datetime(2020, 9, 12, 23, 30),
              datetime(2020, 9, 12, 16, 30, tzinfo=UTC),
              datetime(2020, 9, 12, 15, 59, tzinfo=UTC),
              datetime(2020, 1, 1, 0, 0, tzinfo=dt_timezone(timedelta(hours=-5)))]
    with timezone.override(zone):
        text = roc_dates()
        assert [text(value) for value in values] == [roc(value) for value in values]


@pytest.mark.django_db
def test_a_page_makes_a_model_that_reacts_to_being_made_through_from_db(applicant):
    cases = [registered(applicant) for _ in range(2)]
    made = []

    def receiver(sender, instance, **kwargs):
        made.append(instance)

    signals.post_init.connect(receiver, sender=Application)
    try:
        page = VisibleCases(Application.objects.exclude(status=Status.DRAFT), user=applicant,
                            ordering=("-created_at", "-id"))[0:5]
    finally:
        signals.post_init.disconnect(receiver, sender=Application)
    assert [case.pk for case in page] == [case.pk for case in reversed(cases)]
    assert [case.pk for case in made] == [case.pk for case in page]
    assert all(case.permit_version is None for case in page)


@pytest.mark.django_db
def test_the_port_pages_count_is_an_int():
    Port.objects.bulk_create(Port(code=f"QQ{n:03d}", country="QQ", name=f"Port {n}",
                                  name_ascii=f"Port {n}", subdivision="")
                             for n in range(port_views.PER_PAGE + 3))
    rows = Port.objects.filter(country="QQ").order_by("code").values_list(
        "code", "name", "subdivision")
    page = port_views.counted_page(rows, "2")
    assert type(page.paginator.count) is int
    assert (page.paginator.count, page.paginator.num_pages, len(page.object_list)) == (
        port_views.PER_PAGE + 3, 2, 3)


@pytest.mark.django_db
def test_the_lists_timestamps_read_as_text_are_the_orms(make_case, applicant, agent):
    from permits import entry
    from permits.listing import Drafts, _reads_text_dates

    filed = [make_case(applicant, status=Status.INITIAL_REVIEW) for _ in range(3)]
    draft = make_case(applicant)
    # A microsecond, a moment past midnight in Taipei, and a case never submitted.
    Application.objects.filter(pk=filed[0].pk).update(
        submitted_at=datetime(2020, 9, 12, 16, 0, 0, 1, tzinfo=UTC))
    Application.objects.filter(pk=filed[1].pk).update(submitted_at=None)
    # (PostgreSQL reads them as text; elsewhere the ORM's loader makes them, as before.)
    assert _reads_text_dates() == (connection.vendor == "postgresql")
    for related, drafts in (((), Drafts(entry.drafts_of, 5)), (("shtc",), None)):
        cases = VisibleCases(Application.objects.exclude(status=Status.DRAFT),
                             user=applicant, ordering=("-created_at", "-id"),
                             drafts=drafts, related=related)
        page = cases[0:10]
        assert len(page) == 3
        for case in page:
            stored = Application.objects.get(pk=case.pk)
            for name in ("created_at", "submitted_at"):
                value = getattr(case, name)
                assert value == getattr(stored, name), name
                if value is not None:
                    assert value.tzinfo is getattr(stored, name).tzinfo
        if drafts is not None:
            assert [row[0] for row in cases.drafts_shown] == [draft.pk]
            assert cases.drafts_shown[0][4] == Application.objects.get(pk=draft.pk).updated_at
            assert cases.drafts_shown == drafts.rows(applicant)
