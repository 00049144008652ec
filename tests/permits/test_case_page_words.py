"""The case page's words made once a language (issue 10, stop 26): the parties' headings and
labels (permits.parties.party_rows), the attachments' document kinds and file sizes
(permits.case_html) and the SHTC case's links (shtc.procedures.detail_links) are the texts
the lazy labels and filesizeformat give, in the language in force, whichever language asked
first. The required documents and the items' range, written in Python, are what their
includes printed."""

from decimal import Decimal

import pytest
from django.template import engines
from django.template.defaultfilters import filesizeformat
from django.utils import translation
from django.utils.html import conditional_escape
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from permits import case_html, item_pages
from permits.models import (
    Application,
    DocumentType,
    Item,
    Kind,
    Party,
    PartyRole,
    Status,
    StatusChange,
)
from permits.parties import parties_replace, party_rows
from portal.forms import field_label
from shtc import procedures as shtc_procedures
from shtc.procedures import DOCUMENT_LABELS, filing_title
from shtc.procedures import PROCEDURE as SHTC
from tests.permits.test_parties import BUYER, END_USER
from tests.shtc.test_filing import registered

# Each language twice: the second time from what the first made.
LANGUAGES = ["zh-hant", "en", "zh-hant", "en"]

SIZES = [0, 1, 1023, 1024, 1025, 1536, 10_000, 259_700, 1_048_524, 1_048_575, 1 << 20,
         5 * (1 << 20) + 1, (1 << 30) - 1, 1 << 30, 3 * (1 << 40) + 12_345, 1 << 50, 1 << 62,
         -1, -2048, True, None, "", "12x", "2048"]


@pytest.mark.parametrize("thousands", [False, True])
def test_the_sizes_are_filesizeformats(settings, thousands):
    settings.USE_THOUSAND_SEPARATOR = thousands
    for language in LANGUAGES:
        with translation.override(language):
            size = case_html._file_sizes(case_html._words())
            assert [size(value) for value in SIZES] == [filesizeformat(value) for value in SIZES]
    with translation.override("en"):
        assert case_html._file_sizes(case_html._words())(259_700) == "253.6\xa0KB"


def test_a_lazy_labels_text_is_its_text_in_each_language():
    labels = [label for _code, label in SHTC.document_kinds] + [_("A & <b>"), "a <b>"]
    texts = {}
    for language in LANGUAGES:
        with translation.override(language):
            made = [case_html._label_text(label, case_html._words()) for label in labels]
            assert made == [case_html._text(label) for label in labels]
            assert texts.setdefault(language, made) == made
    assert texts["zh-hant"] != texts["en"]
    assert texts["en"][-2:] == ["A &amp; &lt;b&gt;", "a &lt;b&gt;"]


def test_a_kept_text_is_never_another_labels():
    label, other = _("Other document"), _("Supplementary document")
    with translation.override("en"):
        # What an id freed and given to another label would find: the other's text.
        words = case_html._words()
        words["labels"][id(label)] = (other, "Supplementary document")
        assert case_html._label_text(label, words) == "Other document"
        for n in range(case_html._LABELS_KEPT + 5):
            case_html._label_text(_(f"label {n}"), words)
        assert len(words["labels"]) <= case_html._LABELS_KEPT


@pytest.mark.django_db
def test_the_parties_words_are_the_languages_whichever_came_first(make_case, applicant):
    case = make_case(applicant)
    parties_replace(application=case, parties={"end_user": END_USER, "buyer": BUYER,
                                               "consignee": {"same_as_buyer": True}})
    seen = set()
    for language in LANGUAGES:
        with translation.override(language):
            rows = party_rows(case)
            assert [heading for heading, _fields in rows] == [
                str(role.label) for role in (PartyRole.BUYER, PartyRole.CONSIGNEE,
                                             PartyRole.END_USER)]
            labels = {str(field_label(Party, name)): name for name in (
                "name", "address", "country", "name_zh", "same_as_buyer")}
            assert [[labels[label] for label, _value in fields] for _heading, fields in rows] \
                == [["name", "address", "country"],
                    ["name", "address", "country", "same_as_buyer"],
                    ["name", "address", "country", "name_zh"]]
            assert rows[1][1][-1][1] == gettext("Yes")
            seen.add(rows[0][0])
    assert len(seen) == 2  # 買方, Buyer


@pytest.mark.django_db
def test_the_shtc_links_words_are_the_labels(applicant, monkeypatch):
    case = registered(applicant)
    for language in LANGUAGES:
        with translation.override(language):
            links = SHTC.detail_links(case, applicant)
            assert "filing" in {link["code"] for link in links} and len(links) > 1
            assert [link["label"] for link in links] == [
                str(filing_title(case)) if link["code"] == "filing"
                else str(DOCUMENT_LABELS[link["code"]]) for link in links]
            for iran in (False, True):  # 9-1-2's title, or 9-2-2's
                monkeypatch.setattr(shtc_procedures, "is_iran_application",
                                    lambda application, iran=iran: iran)
                assert SHTC.detail_links(case, applicant)[0]["label"] == \
                    str(filing_title(case))
            monkeypatch.undo()


def included(name, **context):
    return engines["django"].from_string(f'{{% include "{name}" %}}').render(context)


@pytest.mark.parametrize(("count", "number", "per_page"), [
    (0, 1, 100), (1, 1, 100), (5, 1, 100), (100, 1, 100), (101, 2, 100), (1000, 5, 100),
    (1000, "x", 100), (1500, 1, 2000)])
@pytest.mark.parametrize("thousands", [False, True])
def test_the_items_range_is_what_its_include_printed(settings, count, number, per_page,
                                                       thousands):
    settings.USE_THOUSAND_SEPARATOR = thousands
    items = [Item(line_no=n, currency="USD" if n % 3 else "EUR<",
                  amount=Decimal("1234.5") if n % 2 else None) for n in range(1, count + 1)]
    for language in LANGUAGES:
        with translation.override(language):
            page = item_pages.listed_page(items, number, per_page=per_page, anchor='it"ems')
            assert case_html.item_pages_block(page) == included(
                "permits/includes/item_pages.html", item_page=page)


def test_the_required_documents_are_what_their_include_printed():
    for required in ([], [("assurance", _("End-use assurance"), True),
                          ("a<b", "A & <b>", False)]):
        for language in LANGUAGES:
            with translation.override(language):
                assert case_html.required_documents_block(required) == included(
                    "permits/includes/required_documents.html", required_documents=required)


def test_the_choices_words_are_get_display_in_each_language():
    cases = [Application(document_type=document_type, kind=kind, status=status)
             for document_type in [*DocumentType.values, "z<"] for kind in [*Kind.values, "k&"]
             for status in [*Status.values, "s>"]]
    changes = [StatusChange(old=old, new=new) for old in Status.values for new in Status.values]
    seen = set()
    for language in LANGUAGES:
        with translation.override(language):
            for case in cases:
                for name in ("document_type", "kind", "status"):
                    text = case_html._display(case, name, case_html._words())
                    assert text == conditional_escape(getattr(case, f"get_{name}_display")())
                    assert conditional_escape(text) == text  # printed as it is
            for change in changes:
                assert case_html._display(change, "new", case_html._words()) == \
                    change.get_new_display()
            seen.add(case_html._display(cases[0], "status", case_html._words()))
    assert len(seen) == 2
