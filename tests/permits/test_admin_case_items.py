"""The goods items on the reviewers' case page a hundred a page (issue 13, permits.admin_case
with permits.item_pages): the range, the count and the amounts' totals over all the items,
links to the other pages (keeping the list's filters), any page number typed giving a page,
the SHTC panel still reading every item's origin, and the same queries whatever the number
of items. A case of a hundred items or fewer is drawn as before (tests/permits/
test_admin_case.py compares it with Django's change form)."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from permits.item_pages import plain_decimal
from permits.models import Item
from tests.shtc.review_cases import shtc_case  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

CURRENCIES = ("USD", "EUR", "JPY")


def change_url(case):
    return reverse("admin:permits_application_change", args=[case.pk])


@pytest.fixture
def big_case(shtc_case):  # noqa: F811
    """An SHTC case in 初審中 of `count` items: the first as filed, the others written at
    once as an import writes them, in three currencies, words to escape, every origin
    domestic but the last item's (a re-export: SHTC-2 item 7)."""

    def make(count):
        case = shtc_case(destination="SG")
        first = case.items.get()
        Item.objects.bulk_create([
            Item(application=case, line_no=n, tariff_code=first.tariff_code,
                 description=f"FPGA <{n}> & \"cable\"", control_no=first.control_no,
                 quantity=n % 7 + 1, unit="PCE", unit_price=Decimal(f"{n}.25"),
                 currency=CURRENCIES[n % 3], amount=(n % 7 + 1) * Decimal(f"{n}.25"),
                 origin_country="US" if n == count else "TW")
            for n in range(2, count + 1)])
        return case

    return make


def page(client, case, number=None, **params):
    client.cookies["django_language"] = "en"
    data = {**params, **({"page": number} if number is not None else {})}
    response = client.get(change_url(case), data)
    assert response.status_code == 200
    return response.content.decode()


def lines(html):
    """The 項次 of the rows of the items' table, and the rows' ids."""
    rows = re.findall(r'<tr class="form-row has_original" id="(items-[0-9]+)">'
                      r'<td class="original"><p>([0-9]+)\. ', html)
    return [int(line) for _id, line in rows], [row_id for row_id, _line in rows]


@pytest.mark.parametrize(("number", "first", "last"), [
    (None, 1, 100), ("2", 101, 200), ("3", 201, 250)])
def test_it_lists_a_hundred_items_a_page_with_links_to_the_others(
        client, reviewer, big_case, number, first, last):
    case = big_case(250)
    client.force_login(reviewer)
    html = page(client, case, number)
    shown, ids = lines(html)
    assert shown == list(range(first, last + 1))
    # Each row keeps the id it had on the page of every item (its place among them).
    assert ids == [f"items-{n - 1}" for n in shown]
    assert f"Items {first}–{last} of 250" in html
    current = (first - 1) // 100 + 1
    assert f'<strong aria-current="page">{current}</strong>' in html
    for other in {1, 2, 3} - {current}:
        assert f'<a href="?page={other}#items-group" aria-label="Page {other}">{other}</a>' \
            in html
    assert ('data-testid="items-previous"' in html) == (current > 1)
    assert ('data-testid="items-next"' in html) == (current < 3)
    assert 'nav aria-label="Pages of the goods items"' in html
    # The descriptions escaped as in every cell.
    assert f"FPGA &lt;{max(first, 2)}&gt; &amp; &quot;cable&quot;" in html


def test_the_count_and_totals_are_over_all_the_items(client, reviewer, big_case):
    case = big_case(250)
    client.force_login(reviewer)
    expected = {}
    for item in case.items.all():
        expected[item.currency] = expected.get(item.currency, Decimal(0)) + item.amount
    totals = "; ".join(f"{currency} {plain_decimal(amount)}"
                       for currency, amount in sorted(expected.items()))
    for number in ("1", "3"):
        html = page(client, case, number)
        assert f'<span data-testid="item-totals">Total amount: {totals}</span>' in html


def test_the_panel_reads_the_origins_of_every_item(client, reviewer, big_case):
    """Item 250, the only one of foreign origin, is on the last page: the first page's
    panel still asks for the import declaration of a re-export (SHTC-2 item 7)."""
    case = big_case(250)
    client.force_login(reviewer)
    html = page(client, case)
    assert re.search(r'<li data-code="import_declaration" data-uploaded="no">', html)
    small = big_case(3)  # one page, the items shared with the panel as before
    assert re.search(r'<li data-code="import_declaration" data-uploaded="no">',
                     page(client, small))


# Anything that is not a page number is the first page; a number past either end the last
# page (Django's Paginator.get_page, as on the applicant's pages): never an error.
ODD_PAGES = [("0", 3), ("-1", 3), ("4", 3), (str(2 ** 63), 3), ("9" * 30, 3),
             ("abc", 1), ("", 1), ("2\x00", 1), ("1.5", 1), ("9" * 5000, 1), ("２", 2)]


@pytest.mark.parametrize(("number", "shown"), ODD_PAGES)
def test_any_page_number_typed_gives_a_page(client, reviewer, big_case, number, shown):
    case = big_case(250)
    client.force_login(reviewer)
    html = page(client, case, number)
    assert lines(html)[0][0] == (shown - 1) * 100 + 1
    assert f'<strong aria-current="page">{shown}</strong>' in html


def test_the_links_keep_the_lists_filters(client, reviewer, big_case):
    case = big_case(150)
    client.force_login(reviewer)
    filters = "status__exact=initial_review&q=RSE"
    html = page(client, case, "2", _changelist_filters=filters)
    assert lines(html)[0] == list(range(101, 151))
    kept = "_changelist_filters=status__exact%3Dinitial_review%26q%3DRSE"
    assert f'<a href="?{kept}&amp;page=1#items-group"' in html
    # and the close link the list's, as before
    assert 'class="closelink"' in html


def test_a_case_of_a_hundred_items_has_no_page_links(client, reviewer, big_case):
    case = big_case(100)
    client.force_login(reviewer)
    html = page(client, case)
    assert lines(html)[0] == list(range(1, 101))
    assert 'data-testid="item-pages"' not in html


def queries(client, case, number=None):
    client.get(change_url(case))  # caches warm
    with CaptureQueriesContext(connection) as captured:
        response = client.get(change_url(case), {"page": number} if number else {})
    assert response.status_code == 200
    return len(captured), response


def test_the_page_reads_the_same_queries_with_10_and_250_items(client, reviewer, big_case):
    client.force_login(reviewer)
    small, big = big_case(10), big_case(250)
    counted = {count: queries(client, case)[0] for count, case in ((10, small), (250, big))}
    assert counted[10] == counted[250], counted
    assert queries(client, big, "2")[0] == counted[250]
    assert queries(client, big, "3")[0] == counted[250]
    # A number that is no page reads the page it gives once more (after the count).
    assert queries(client, big, "9" * 30)[0] == counted[250] + 1
    # The page reads its hundred items, not 250.
    _count, response = queries(client, big, "2")
    assert len(re.findall(r'<tr class="form-row has_original" id="items-',
                          response.content.decode())) == 100


def test_a_superusers_change_form_reads_the_case_once(client, admin_user, big_case):
    case = big_case(2)
    client.force_login(admin_user)
    client.get(change_url(case))
    with CaptureQueriesContext(connection) as captured:
        response = client.get(change_url(case))
    assert response.status_code == 200 and "adminform" in response.context  # Django's form
    reads = [query["sql"] for query in captured.captured_queries
             if re.match(r'SELECT "permits_application"\."id".*WHERE "permits_application"'
                         r'\."id" = ', query["sql"], re.S)]
    assert len(reads) == 1, [query["sql"][-200:] for query in captured.captured_queries]


def more_items(case, count):
    first = case.items.order_by("line_no").first()
    Item.objects.bulk_create([
        Item(application=case, line_no=n, tariff_code=first.tariff_code,
             description=f"FPGA <{n}>", control_no=first.control_no, quantity=1, unit="PCE",
             unit_price=Decimal("2.5"), currency="USD", amount=Decimal("2.5"),
             origin_country="TW")
        for n in range(first.line_no + 1, first.line_no + count)])


def test_a_change_lists_its_items_a_page_at_a_time_too(client, reviewer, make_case,
                                                        applicant, agent):
    """A change (更正) whose procedure compares its items with the version it changes
    (Procedure.related_parts: SHTC-9) reads them all, as before, and lists a page of them;
    the same queries at 10 and 250 items."""
    approved = make_case(applicant, status="approved", reviewer=reviewer)
    changes = []
    for count in (10, 250):
        change = make_case(applicant, actor=agent, kind="correction",
                           changes=approved.issued_version, change_description="更改數量")
        more_items(change, count)
        changes.append(change)
    client.force_login(reviewer)
    small, big = changes
    assert queries(client, small)[0] == queries(client, big)[0] == queries(client, big, "3")[0]
    html = page(client, big, "3")
    assert lines(html)[0] == list(range(201, 251))
    assert "Items 201–250 of 250" in html
    expected = {}
    for item in big.items.all():
        expected[item.currency] = expected.get(item.currency, Decimal(0)) + item.amount
    totals = "; ".join(f"{currency} {plain_decimal(amount)}"
                       for currency, amount in sorted(expected.items()))
    assert f'<span data-testid="item-totals">Total amount: {totals}</span>' in html
