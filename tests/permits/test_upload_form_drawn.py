"""The case page's 上傳文件 form drawn once per process, language, document type and kinds
offered (permits.views.upload_form_html; issue 10, bench/README.md "Stop 24 (applicants'
pages)"): the page prints what it printed when its template drew the form with
{% form_fields attachment_form %} on every request, in both languages; a drawing is never
another language's, document type's or set of kinds'; a changed setting draws it anew."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template import engines
from django.test import override_settings
from django.urls import reverse

from permits import views
from permits.attachments import AttachmentForm
from permits.models import DocumentType
from tests.shtc.test_filing import registered

LANGUAGES = ["zh-hant", "en"]
DRAW = "{% load form_fields %}{% form_fields form %}"


def masked(html):
    return re.sub(r'(name="csrfmiddlewaretoken" value=)"[^"]*"', r'\1"X"', html)


def drawn(form):
    return engines["django"].from_string(DRAW).render({"form": form})


def old_page(response):
    """The page as the template printed it before: {% form_fields attachment_form %} where it
    now prints the kept drawing."""
    source = (Path(settings.BASE_DIR) / "templates/permits/application_detail.html").read_text()
    assert "{{ attachment_form_html }}" in source
    source = source.replace("{{ attachment_form_html }}", "{% form_fields attachment_form %}")
    source = source.replace("{% load i18n fixed_text %}",
                            "{% load i18n fixed_text form_fields %}")
    page = next(context for context in response.context if "item_rows" in context)
    context = {key: value for key, value in page.flatten().items()
               if key != "attachment_form_html"}
    return engines["django"].from_string(source).render(context, response.wsgi_request)


@pytest.mark.django_db
@pytest.mark.usefixtures("private_root")
def test_the_page_prints_what_the_template_drew_in_both_languages(client, applicant):
    case = registered(applicant)
    page = reverse("permits:application_detail", args=[case.pk])
    client.force_login(applicant)
    views._UPLOAD_FORMS.clear()
    seen = {}
    for _round in range(2):  # drawn, then kept
        for language in LANGUAGES:
            client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
            response = client.get(page)
            assert response.status_code == 200
            html = masked(response.content.decode())
            assert 'data-testid="upload"' in html and 'name="document_kind"' in html
            assert html == masked(old_page(response))
            assert seen.setdefault(language, html) == html
    assert seen["zh-hant"] != seen["en"]
    assert len(views._UPLOAD_FORMS) == 2  # one drawing per language


@pytest.mark.django_db
def test_a_drawing_is_its_own_languages_document_types_and_kinds(settings):
    from django.utils import translation

    from permits import procedures

    views._UPLOAD_FORMS.clear()
    kinds = [code for code, _label in procedures.document_kind_choices(DocumentType.SHTC_EXPORT)]
    shapes = [(DocumentType.SHTC_EXPORT, kinds), (DocumentType.SHTC_EXPORT, kinds[:1]),
              (DocumentType.MASK_IMPORT, [code for code, _label in
                                          procedures.document_kind_choices(
                                              DocumentType.MASK_IMPORT)])]
    htmls = set()
    for language in LANGUAGES:
        with translation.override(language):
            for document_type, offered in shapes:
                form = AttachmentForm(document_type=document_type, kinds=offered)
                html = views.upload_form_html(form, document_type, offered)
                assert html == drawn(AttachmentForm(document_type=document_type,
                                                    kinds=offered))
                htmls.add(html)
    assert len(htmls) == len(LANGUAGES) * len(shapes)


@pytest.mark.django_db
def test_a_changed_setting_draws_it_anew():
    from django.utils import translation

    offered = ["catalogue"]
    with translation.override("en"):
        before = views.upload_form_html(
            AttachmentForm(document_type=DocumentType.SHTC_EXPORT, kinds=offered),
            DocumentType.SHTC_EXPORT, offered)
        with override_settings(ATTACHMENT_MAX_BYTES=1024):
            after = views.upload_form_html(
                AttachmentForm(document_type=DocumentType.SHTC_EXPORT, kinds=offered),
                DocumentType.SHTC_EXPORT, offered)
            assert after == drawn(AttachmentForm(document_type=DocumentType.SHTC_EXPORT,
                                                 kinds=offered))
    assert before != after and "1.0\xa0KB" in after


def test_the_kept_drawings_are_bounded(monkeypatch):
    from django.utils import translation

    monkeypatch.setattr(views, "_UPLOAD_FORMS_KEPT", 3)
    views._UPLOAD_FORMS.clear()

    class Form:
        pass

    monkeypatch.setattr(views, "_upload_form_template",
                        lambda: engines["django"].from_string("{{ form }}"))
    with translation.override("en"):
        for number in range(10):
            views.upload_form_html(Form(), "SE", [str(number)])
            assert len(views._UPLOAD_FORMS) <= 3
    views._UPLOAD_FORMS.clear()
