"""The start pages of 口罩流向登錄作業 and 口罩流向退貨作業 print their list and number boxes
without crispy's or the template filters' machinery (issue 10): the page must stay what it
was, each row's 開啟 posting what the number box would."""

import re
from decimal import Decimal

import pytest
from django.template import engines
from django.utils import translation

from masks.forms import DeclarationLoadForm, PermitLoadForm
from masks.models import StockReport
from tests.masks.test_flows import cleared_declaration, written_off_permit

pytestmark = pytest.mark.django_db

D = Decimal


def compact(html):
    """`html` without the blanks between and inside tags' edges that crispy's templates
    leave, and without the CSRF input crispy adds of its own."""
    html = re.sub(r'<input type="hidden" name="csrfmiddlewaretoken"[^>]*>', "", html)
    return re.sub(r"\s+<", "<", re.sub(r">\s+", ">", re.sub(r"\s+", " ", html))).strip()


def rendered(source, **context):
    return engines["django"].from_string(source).render(context)


@pytest.mark.parametrize("language", ["zh-hant", "en"])
@pytest.mark.parametrize("form_class,data,initial", [
    (DeclarationLoadForm, None, {}),
    (DeclarationLoadForm, {"menu": "2", "d-declaration_no": 'AA"<é>'}, {}),
    (PermitLoadForm, None, {"permit_no": "PMK1"}),
    (PermitLoadForm, {"menu": "3", "p-permit_no": ""}, {}),
    (PermitLoadForm, {"menu": "3", "p-permit_no": "X" * 20}, {}),
])
def test_the_plain_field_prints_what_crispy_does(applicant, language, form_class, data,
                                                 initial):
    prefix = "d" if form_class is DeclarationLoadForm else "p"
    with translation.override(language):
        form = form_class(data, user=applicant, prefix=prefix, initial=initial)
        if data:
            assert not form.is_valid()  # its errors are printed, tied to the input
        crispy = rendered("{% load crispy_forms_tags %}{% crispy form %}", form=form)
        plain = rendered('{% include "includes/text_field.html" with field=field %}',
                         field=form[form.field_name])
    assert compact(plain) == compact(crispy)
    if data:
        assert f'aria-describedby="id_{prefix}-{form.field_name}_error"' in plain


def test_each_row_posts_what_its_number_box_would(client, url, make_mask_permit, applicant):
    declaration = cleared_declaration(make_mask_permit, applicant, quantity="12.5")
    permit = written_off_permit(make_mask_permit, applicant, medical="50")
    client.force_login(applicant)
    page = client.get(url("masks:flow_start")).content.decode()
    rows = dict(re.findall(r'<tr data-testid="source-([^"]+)">(.*?)</tr>', page, re.S))
    assert set(rows) == {declaration.number, permit.permit_no}
    for number, menu, field, quantity in [
            (declaration.number, "2", "d-declaration_no", "12.5000"),  # as floatformat:"-4"
            (permit.permit_no, "3", "p-permit_no", "50")]:
        row = rows[number]
        cells = re.findall(r'<td class="text-end">([^<]*)</td>', row)
        assert cells == [quantity, quantity, "0"]  # cleared, stock, in flows not declared
        inputs = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', row))
        assert inputs.keys() == {"csrfmiddlewaretoken", "menu", field}
        assert (inputs["menu"], inputs[field]) == (menu, number)
        assert len(inputs["csrfmiddlewaretoken"]) == 64
        assert f'<span class="visually-hidden"> {number}</span>' in row  # 開啟 which one
    # Posted as the row's form posts it (with its CSRF token), the stock opens.
    client.handler.enforce_csrf_checks = True
    row = rows[declaration.number]
    inputs = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', row))
    response = client.post(url("masks:flow_start"), inputs)
    assert response.status_code == 302
    assert response.url == url("masks:flow_report", StockReport.objects.get().pk)


