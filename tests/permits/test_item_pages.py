"""A case of thousands of goods items in the running portal (issue 13, permits.item_pages):
the review page and the case page list them a hundred a page with the links to the others,
say the range, the count and the amounts' totals over all of them, take any page number
typed in the address without an error, and read the same queries whatever the number of
items; 申請 checks every item by its item form's rules at once (permits.bulk_items), and a
bad item among many still stops it with its item form's own errors."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from permits import bulk_items, item_pages
from permits.entry import item_data
from permits.fields import country_names
from permits.models import Currency, Item, Status
from shtc.entry import APPLICATION
from tests.shtc.assurance import ITEM, enter, url

pytestmark = pytest.mark.django_db

CURRENCIES = ("USD", "EUR", "JPY")


def draft_of(client, count, **first):
    """A 9-1-1 draft of `count` items: the first entered on its page (with `first`), the
    others written at once as an import writes them, in three currencies, some of their
    words to escape."""
    draft = enter(client, items=[{**ITEM, **first}])
    item = draft.items.get()
    Item.objects.bulk_create([
        Item(application=draft, line_no=n, tariff_code=item.tariff_code,
             description=f"FPGA <{n}> & \"cable\" 'x'", brand=item.brand, model=f"M-{n}",
             control_no=item.control_no, quantity=n % 7 + 1, unit="PCE",
             unit_price=Decimal(f"{n}.25"), currency=CURRENCIES[n % 3],
             amount=(n % 7 + 1) * Decimal(f"{n}.25"), origin_country="US" if n % 2 else "TW")
        for n in range(2, count + 1)])
    return draft


def review(client, draft, page=None):
    return client.get(url("review", draft.pk), {"page": page} if page is not None else {})


def in_english(client, path, data=None):
    """The page in English (the new words are translated when the catalogue is merged)."""
    client.cookies["django_language"] = "en"
    try:
        return client.get(path, data or {}).content.decode()
    finally:
        del client.cookies["django_language"]


def links(html):
    """The 項次 linked on the page (each item's own page)."""
    return [int(n) for n in re.findall(r'data-testid="item-link-([0-9]+)"', html)]


# --- pages ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("page", "first", "last"), [(None, 1, 100), ("2", 101, 200),
                                                     ("3", 201, 250)])
def test_it_lists_a_hundred_items_a_page_with_links_to_the_others(client, applicant, page,
                                                                  first, last):
    client.force_login(applicant)
    draft = draft_of(client, 250)
    response = review(client, draft, page)
    html = response.content.decode()
    assert response.status_code == 200
    assert links(html) == list(range(first, last + 1))
    # Each item keeps its 刪除 button, named for the item (a POST form with its token).
    deletes = re.findall(r'<form method="post" action="([^"]+)"><input type="hidden" '
                         r'name="csrfmiddlewaretoken" value="[^"]+"><button type="submit"',
                         html)
    assert deletes == [url("item_delete", draft.pk, n) for n in range(first, last + 1)]
    assert f'<span class="visually-hidden"> 項次 {first}</span>' in html
    html = in_english(client, url("review", draft.pk), {"page": page} if page else {})
    assert f'<span data-testid="item-range">Items {first}–{last} of 250</span>' in html
    number = (first - 1) // 100 + 1
    assert f'<li class="page-item active" aria-current="page"><span class="page-link">' \
           f"{number}</span></li>" in html
    for other in {1, 2, 3} - {number}:
        assert f'href="?page={other}#items" aria-label="Page {other}">{other}</a>' in html
    assert ('data-testid="items-previous"' in html) == (number > 1)
    assert ('data-testid="items-next"' in html) == (number < 3)
    assert 'id="items"' in html and 'aria-describedby="items-range"' in html


def test_a_case_of_a_hundred_items_or_fewer_has_one_page_without_links(client, applicant):
    client.force_login(applicant)
    draft = draft_of(client, 100)
    html = review(client, draft).content.decode()
    assert links(html) == list(range(1, 101))
    assert 'aria-label="Pages of the goods items"' not in html
    assert "貨品明細分頁" not in html and 'data-testid="item-range"' in html


def test_a_draft_without_items_says_so_and_cannot_be_applied(client, applicant):
    client.force_login(applicant)
    draft = draft_of(client, 1)
    draft.items.all().delete()
    html = review(client, draft, "7").content.decode()
    assert 'data-testid="no-items"' in html and 'data-testid="item-pages"' not in html
    assert re.search(r'data-testid="apply" disabled', html)


# Anything that is not a page number is the first page; a number past either end the last
# page (Django's Paginator.get_page): never an error.
ODD_PAGES = [("0", 3), ("-1", 3), ("4", 3), ("99999999999999999999", 3),
             ("abc", 1), ("", 1), ("2\x00", 1), ("1.5", 1), ("9" * 5000, 1), ("２", 2)]


@pytest.mark.parametrize(("page", "shown"), ODD_PAGES)
def test_any_page_number_typed_gives_a_page(client, applicant, page, shown):
    client.force_login(applicant)
    draft = draft_of(client, 250)
    response = review(client, draft, page)
    assert response.status_code == 200
    assert response.context["item_page"].page.number == shown
    assert links(response.content.decode())[0] == (shown - 1) * 100 + 1


def test_the_count_and_totals_are_over_all_the_items(client, applicant):
    client.force_login(applicant)
    draft = draft_of(client, 250)
    items = list(draft.items.all())
    expected = {}
    for item in items:
        expected[item.currency] = expected.get(item.currency, 0) + item.amount
    for page in ("1", "3"):
        shown = review(client, draft, page).context["item_page"]
        assert shown.count == 250
        assert dict(shown.totals) == expected
    assert len(expected) == 3 and sum(expected.values()) == sum(item.amount for item in items)
    html = in_english(client, url("review", draft.pk), {"page": "3"})
    text = "; ".join(f"{currency} {item_pages.plain_decimal(amount)}"
                     for currency, amount in sorted(expected.items()))
    assert f'<span data-testid="item-totals">Total amount: {text}</span>' in html


def queries_of(client, path):
    client.get(path)  # caches warmed
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_the_review_page_reads_the_same_queries_with_10_and_300_items(client, applicant):
    client.force_login(applicant)
    small, large = draft_of(client, 10), draft_of(client, 300)
    counted = {}
    for draft in (small, large):
        counted[draft.pk], html = queries_of(client, url("review", draft.pk) + "?page=2")
    assert counted[small.pk] == counted[large.pk]
    assert links(html) == list(range(101, 201))


def test_the_case_page_lists_its_items_a_page_at_a_time_in_the_same_queries(client,
                                                                           applicant):
    client.force_login(applicant)
    cases = [draft_of(client, count) for count in (10, 300)]
    counted = {}
    for case in cases:
        assert client.post(url("submit", case.pk)).status_code == 302
        case.refresh_from_db()
        assert case.status == Status.REGISTERED
        path = reverse("permits:application_detail", args=[case.pk])
        counted[case.pk], html = queries_of(client, path + "?page=3")
    assert counted[cases[0].pk] == counted[cases[1].pk]
    rows = re.findall(r"<tr><td>([0-9]+)</td>", html)
    assert rows == [str(n) for n in range(201, 301)]
    assert '<span data-testid="item-range">Items 201–300 of 300</span>' in in_english(
        client, path, {"page": "3"})
    assert 'id="items"' in html and 'aria-describedby="items-range"' in html
    for page, first in (("\x00", 1), ("-5", 201), ("77", 201)):
        response = client.get(path, {"page": page})
        assert response.status_code == 200
        assert re.findall(r"<tr><td>([0-9]+)</td>", response.content.decode())[0] == str(first)


def test_saving_an_item_goes_back_to_the_page_that_lists_it(client, applicant):
    client.force_login(applicant)
    draft = draft_of(client, 250)
    response = client.post(url("item", draft.pk, 150), {**ITEM, "quantity": "3"})
    assert response.status_code == 302
    assert response.url == url("review", draft.pk) + "?page=2#item-150"
    assert 'id="item-150"' in client.get(response.url).content.decode()
    response = client.post(url("item", draft.pk, 20), {**ITEM, "quantity": "3"})
    assert response.url == url("review", draft.pk)
    response = client.post(url("item_delete", draft.pk, 201))
    assert response.url == url("review", draft.pk) + "?page=3#item-201"
    assert draft.items.count() == 249


# --- the rows: what the template's loop printed -----------------------------------------------

# templates/permits/entry/items_table.html's loop before issue 13 wrote the rows in Python.
TEMPLATE_ROWS = """{% load i18n permits_tags %}{% for item in items %}
    <tr>
      <td>{% if item_url %}<a href="{% url item_url application.pk item.line_no %}" data-testid="item-link-{{ item.line_no }}">{{ item.line_no }}</a>{% else %}{{ item.line_no }}{% endif %}</td>
      {% if entry.category_heading %}<td>{{ item.category_label }}</td>{% endif %}
      <td class="text-nowrap">{{ item.tariff_code|tariff }}</td>
      <td>{{ item.description }}</td>
      {% if entry.show_control_no %}<td>{{ item.control_no }}</td>{% endif %}
      <td class="text-end">{{ item.quantity|plain }}</td>
      <td>{{ item.unit }}</td>
      <td class="text-end">{{ item.unit_price|plain }}</td>
      <td>{{ item.currency }}</td>
      <td class="text-end">{{ item.amount|plain }}</td>
      <td data-testid="origin-{{ item.line_no }}">{{ item.origin_country }} {{ item.country_name }}</td>
      {% if delete_url %}<td class="text-end">
        <form method="post" action="{% url delete_url application.pk item.line_no %}">{% csrf_token %}
          <button type="submit" class="btn btn-link btn-sm text-danger p-0">{% translate "Delete" %}<span class="visually-hidden"> {% translate "Item no." %} {{ item.line_no }}</span></button>
        </form></td>{% endif %}
    </tr>{% endfor %}"""  # noqa: E501 (the template's lines as they were)


def comparable(html):
    html = re.sub(r'(name="csrfmiddlewaretoken" value=")[^"]+"', r'\1"', str(html))
    html = re.sub(r'<tr id="item-[0-9]+">', "<tr>", html)
    return re.sub(r">\s+<", "><", html).strip()


@pytest.mark.parametrize("language", ["zh-hant", "en"])
@pytest.mark.parametrize("editable", [True, False])
def test_its_rows_are_what_the_template_loop_printed(client, applicant, language, editable):
    from masks.entry import APPLICATION as MASKS

    client.force_login(applicant)
    draft = draft_of(client, 12)
    Item.objects.filter(application=draft, line_no=3).update(control_no="", origin_country="ZZ")
    request = RequestFactory().get("/")
    names = {"item_url": "shtc:application_item" if editable else "",
             "delete_url": "shtc:application_item_delete" if editable else ""}
    with translation.override(language):
        for entry in (APPLICATION, MASKS):  # with the control number, with the category
            page = item_pages.stored_page(draft, "1")
            items = page.items
            countries = country_names({item.origin_country for item in items})
            for item in items:
                item.category_label = entry.procedure().item_category_label(item.category)
                item.country_name = countries.get(item.origin_country, "")
            looped = Template(TEMPLATE_ROWS).render(Context({
                "items": items, "entry": entry, "application": draft, "request": request,
                "csrf_token": "token", **names}))
            written = item_pages.review_rows(
                page, entry=entry, application=draft, request=request,
                category_label=entry.procedure().item_category_label, country_names=countries,
                **names)
            assert comparable(written) == comparable(looped)
    assert "&lt;4&gt; &amp; &quot;cable&quot; &#x27;x&#x27;" in written


# --- 申請 -------------------------------------------------------------------------------------


def refused_one_by_one(draft):
    """What 申請 refused before issue 13: each item by its own item form, in order; the
    first refused item's 項次 and its form's errors, or None."""
    for item in draft.items.order_by("line_no"):
        form = APPLICATION.item_form_class(
            data=item_data(item), instance=item,
            **APPLICATION.item_form_kwargs(draft, item.line_no))
        if not form.is_valid():
            return item.line_no, form.errors.get_json_data()
    return None


def spoil(draft, line_no, **values):
    """Item `line_no` stored with `values` its item form refuses (the database takes them)."""
    Item.objects.filter(application=draft, line_no=line_no).update(**values)


def test_a_bad_item_among_many_stops_apply_with_its_item_forms_errors(client, applicant):
    client.force_login(applicant)
    draft = draft_of(client, 300)
    spoil(draft, 157, currency="GBP")
    spoil(draft, 220, unit="P-C")
    # A currency withdrawn since the item was entered: the item form refuses it now.
    Currency.objects.filter(code="GBP").update(active=False)
    expected = refused_one_by_one(draft)
    assert expected is not None and expected[0] == 157
    response = client.post(url("submit", draft.pk))
    assert response.status_code == 400
    assert response.templates[0].name == APPLICATION.templates["item"]
    assert response.context["line_no"] == expected[0]
    assert response.context["form"].errors.get_json_data() == expected[1]
    assert response.context["form"].errors.as_data()["currency"][0].code == "invalid_choice"
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT and draft.registration_no is None


def test_the_first_bad_item_is_the_one_shown(client, applicant):
    client.force_login(applicant)
    draft = draft_of(client, 300)
    spoil(draft, 220, unit="P-C")
    spoil(draft, 157, control_no="!!")
    spoil(draft, 290, tariff_code="ABCDEFGHIJK")
    expected = refused_one_by_one(draft)
    assert expected[0] == 157
    response = client.post(url("submit", draft.pk))
    assert response.status_code == 400 and response.context["line_no"] == 157
    assert response.context["form"].errors.get_json_data() == expected[1]
    # Shown on the item's own page, the error tied to its field.
    html = response.content.decode()
    [control] = re.findall(r'<input[^>]*name="control_no"[^>]*>', html)
    assert 'aria-invalid="true"' in control and "aria-describedby=" in control


@pytest.mark.parametrize("values", [
    {"currency": "XXX"}, {"origin_country": "QQ"}, {"unit": "P-C"}, {"control_no": "!!"},
    {"tariff_code": "ABCDEFGHIJK"}, {"description": ""}, {"unit_price": Decimal("-1")},
    {"description": "FPGA\x07"}, {"amount": Decimal("-5")},
])
def test_the_check_at_once_names_every_item_its_form_refuses(client, applicant, values):
    client.force_login(applicant)
    draft = draft_of(client, 30)
    for line_no in (4, 17, 30):
        spoil(draft, line_no, **values)
    items = list(draft.items.order_by("line_no"))
    refused = set()
    for item in items:
        form = APPLICATION.item_form_class(
            data=item_data(item), instance=item,
            **APPLICATION.item_form_kwargs(draft, item.line_no))
        if not form.is_valid():
            refused.add(item.line_no)
    assert refused == {4, 17, 30}
    named = {item.line_no for item in bulk_items.items_to_recheck(APPLICATION, draft, items)}
    assert named == refused  # and only them: the others are not checked one by one


def test_an_item_only_the_files_words_refuse_is_filed(client, applicant):
    """items_to_recheck may name more than the form refuses (a break in the 項次 run): the
    item's own form decides, as before."""
    client.force_login(applicant)
    draft = draft_of(client, 5)
    Item.objects.filter(application=draft, line_no=5).update(line_no=9)
    items = list(draft.items.order_by("line_no"))
    assert [item.line_no for item in
            bulk_items.items_to_recheck(APPLICATION, draft, items)] == [9]
    assert refused_one_by_one(draft) is None
    assert client.post(url("submit", draft.pk)).status_code == 302
    draft.refresh_from_db()
    assert draft.status == Status.REGISTERED


def test_apply_reads_the_same_queries_with_10_and_300_items(client, applicant):
    client.force_login(applicant)
    counted = []
    for count in (3, 10, 300):  # the first warms the caches
        draft = draft_of(client, count)
        with CaptureQueriesContext(connection) as queries:
            response = client.post(url("submit", draft.pk))
        assert response.status_code == 302
        draft.refresh_from_db()
        assert draft.status == Status.REGISTERED
        counted.append(len(queries))
    assert counted[1] == counted[2]
