"""What the reviewers' case page makes once a language or a table (bench/README.md "Stop 27
(the reviewers' case pages)"): its fixed words and the breadcrumbs' names
(permits.admin_case._page_words), each table's heading (_heading), the breadcrumbs' case
(_truncated), the attachments' file links (AttachmentInline.download's table cell). Each
gives what it stands for in the language in force; the page as a whole is Django's change
form's (tests/permits/test_admin_case.py, both languages)."""

import html

import pytest
from django.contrib import admin
from django.urls import clear_script_prefix, get_script_prefix, set_script_prefix
from django.utils import translation
from django.utils.safestring import SafeString
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext

from permits import admin_case
from permits.admin import (
    AttachmentInline,
    ItemInline,
    PartyInline,
    StatusChangeInline,
    _escaped,
    table_rows,
)
from permits.models import Application, Attachment
from tests.shtc.review_cases import upload

LANGUAGES = ["zh-hant", "en", "zh-hant", "en"]  # each asked after the other


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_page_words_are_the_languages(language):
    opts = Application._meta
    with translation.override(language):
        words = admin_case._page_words(opts)
        assert words == (
            html.escape(gettext("History")), html.escape(gettext("Close")),
            html.escape(gettext("Back to the moves")), html.escape(gettext("Home")),
            _escaped(opts.app_config.verbose_name),
            _escaped(capfirst(opts.verbose_name_plural)),
            gettext("View %s") % opts.verbose_name)
        assert admin_case._page_words(opts) is words  # made once a language


def test_the_page_words_differ_by_language():
    opts = Application._meta
    with translation.override("zh-hant"):
        chinese = admin_case._page_words(opts)
    with translation.override("en"):
        english = admin_case._page_words(opts)
    assert chinese != english
    assert english[0] == "History" and english[3] == "Home"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("inline_class",
                         [ItemInline, AttachmentInline, PartyInline, StatusChangeInline])
def test_a_tables_heading_is_its_verbose_name_plural(language, inline_class):
    inline = inline_class(Application, admin.site)
    with translation.override(language):
        assert admin_case._heading(inline) == _escaped(capfirst(inline.verbose_name_plural))


def test_a_heading_follows_its_inlines_verbose_name_plural():
    """Kept per class while the inline's verbose_name_plural is the same object: another
    instance naming its table otherwise gets its own heading."""
    inline = StatusChangeInline(Application, admin.site)
    with translation.override("en"):
        assert admin_case._heading(inline) == _escaped(capfirst(inline.verbose_name_plural))
        other = StatusChangeInline(Application, admin.site)
        other.verbose_name_plural = "moves <&> made"
        assert admin_case._heading(other) == "Moves &lt;&amp;&gt; made"
        assert admin_case._heading(inline) == _escaped(capfirst(inline.verbose_name_plural))


@pytest.mark.parametrize("text", [
    "", "PSE11500000003", "PSE11500000003 v2 戰略性高科技貨品",
    "  spaced\n\tout  words ", " ".join(f"w{n}" for n in range(18)),
    " ".join(f"w{n}" for n in range(19)), " ".join(f"字{n}" for n in range(40)),
])
@pytest.mark.parametrize("language", ["zh-hant", "en"])
def test_the_breadcrumbs_case_is_truncators(text, language):
    with translation.override(language):
        assert admin_case._truncated(text) == Truncator(text).words(18)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hant", "en"])
def test_the_file_links_of_a_table_are_downloads(make_case, applicant, language):
    """AttachmentInline.download's cell for a table gives download()'s HTML for each row,
    under another script prefix too; a row whose key is not a whole number as download()."""
    case = make_case(applicant)
    upload(case, "catalogue", actor=applicant, name="型錄 <1> & \"co\".pdf")
    upload(case, "transaction", actor=applicant)
    rows = list(Attachment.objects.filter(application=case).order_by("pk"))
    inline = AttachmentInline(Application, admin.site)
    name, cell = next((name, cell) for name, cell in admin_case._made_columns(
        inline, tuple(inline.get_fields(None)))[1] if name == "download")
    kept = get_script_prefix()
    try:
        for prefix in ("/", "/portal/"):
            set_script_prefix(prefix)
            with translation.override(language):
                once = cell.in_language(language)
                for row in rows:
                    assert once(row) == inline.download(row) == cell(row)
                    assert f'href="{prefix}' in once(row)
                odd = Attachment(pk="7/8", original_name="a&b.pdf", application=case)
                assert once(odd) == cell(odd)
    finally:
        set_script_prefix(kept)
        if kept == "/":
            clear_script_prefix()
    drawn = table_rows("attachments", [(name, cell)], rows)
    assert all(type(row) is SafeString for row in drawn)
    assert "&lt;1&gt; &amp; &quot;co&quot;.pdf" in drawn[0]
