"""A case's goods items a page at a time (issue 13): a case holds up to 10,000 items
(permits.bulk_items.MAX_ITEMS), and its pages listed them all. At 10,000 items the entry's
review page took 8.5 s and 8.5 MB of HTML (about 0.8 ms a row in the template loop), the case
page 1.1 s and 3.3 MB.

Each page lists PER_PAGE items in 項次 order with the links to the others; what the page says
of all the items (their count, the amounts' totals per currency) is read over all of them,
never summed from the rows shown. The page number is taken as typed in the address: anything
that is not a page number (text, a NUL, more digits than int() reads) is the first page, a
number past the end the last page (Django's Paginator.get_page), never an error.

templates/permits/includes/item_pages.html prints an ItemPage's range, totals and links; the
rows are written here (review_rows) or by permits.case_html, each value escaped as the
template escaped it. The reviewers' case page (permits.admin_case) reads its page of items,
their count, totals and origins in the round trip of its other tables (page_calls,
page_from) and draws them in the admin's own markup.
"""

from decimal import Decimal

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import Count, Sum
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from permits.fields import format_tariff_code, plain_decimal
from permits.listing import LINK_KEY, key_link
from permits.models import Item
from permits.prepared import PagedInstances, PreparedQuery
from portal.escaping import escaped

PER_PAGE = 100
ON_EACH_SIDE = 2  # page links beside the current page's, then "…" and the first and last


class ItemPage:
    """One page of a case's items: `page` (Django's Page: its Items, number, paginator),
    `count` of all the case's items, `totals` [(currency, amount)] of all their amounts,
    `rows` (the <tr>s, once written), `anchor` (the id the page links go to)."""

    def __init__(self, page, *, totals, anchor="items"):
        self.page = page
        self.items = list(page.object_list)
        self.count = page.paginator.count
        self.totals = totals
        self.anchor = anchor
        self.rows = ""

    @property
    def first(self):
        """The 項次 of the page's first item (None on a case without items)."""
        return self.items[0].line_no if self.items else None

    @property
    def last(self):
        return self.items[-1].line_no if self.items else None

    def links(self):
        """The page numbers to link to, Paginator.ELLIPSIS where some are left out."""
        if not self.page.has_other_pages():
            return []
        return list(self.page.paginator.get_elided_page_range(
            self.page.number, on_each_side=ON_EACH_SIDE, on_ends=1))

    @property
    def ellipsis(self):
        return self.page.paginator.ELLIPSIS

    def totals_text(self):
        """"USD 1200.5; EUR 30" in the currencies' order."""
        return "; ".join(f"{currency} {plain_decimal(amount)}"
                         for currency, amount in self.totals)


def totals_of(items):
    """[(currency, sum of the amounts)] of `items`, in the currencies' order."""
    totals = {}
    for item in items:
        totals[item.currency] = totals.get(item.currency, Decimal(0)) + (item.amount or 0)
    return sorted(totals.items())


def listed_page(items, number, *, per_page=PER_PAGE, anchor="items"):
    """Page `number` of `items`, a list of the case's Items already read (the case page's:
    its documents' rules read them all), in 項次 order; no query."""
    items = sorted(items, key=lambda item: item.line_no)
    page = Paginator(items, per_page).get_page(number)
    return ItemPage(page, totals=totals_of(items), anchor=anchor)


def stored_page(application, number, *, per_page=PER_PAGE, anchor="items"):
    """Page `number` of the case's items read from the database: two queries whatever the
    number of items, one for the count and the totals, one for the page's items."""
    items = application.items.order_by("line_no")
    sums = list(items.order_by().values("currency")
                .annotate(total=Sum("amount"), count=Count("pk")).order_by("currency"))
    paginator = Paginator(items, per_page)
    # Known from the totals: the paginator needs no COUNT(*) of its own.
    paginator.count = sum(row["count"] for row in sums)
    page = paginator.get_page(number)
    return ItemPage(page, totals=[(row["currency"], row["total"]) for row in sums],
                    anchor=anchor)


def page_of_line(line_no, *, per_page=PER_PAGE):
    """The page number that lists item `line_no` (items numbered 1, 2, 3…)."""
    return max((int(line_no) - 1) // per_page + 1, 1)


def review_rows(item_page, *, entry, application, request, item_url="", delete_url="",
                category_label=None, country_names=None):
    """The <tr>s of templates/permits/entry/items_table.html for `item_page`'s items: each
    item's 項次 (linked to its item page when `item_url`, a URL name taking the case and
    the 項次), the entry's columns, and with `delete_url` its 刪除 button (a POST form).
    As the template loop printed them (tests/permits/test_item_pages.py compares)."""
    names = country_names or {}
    label = category_label or (lambda code: code)
    link = key_link(reverse(item_url, args=[application.pk, LINK_KEY])) if item_url else None
    delete = (key_link(reverse(delete_url, args=[application.pk, LINK_KEY]))
              if delete_url else None)
    if delete is not None:
        token = escaped(get_token(request))
        csrf = f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
        delete_words = escaped(gettext("Delete"))
        line_words = escaped(gettext("Item no."))
    parts = []
    for item in item_page.items:
        line = int(item.line_no)
        number = (f'<a href="{link(line)}" data-testid="item-link-{line}">{line}</a>'
                  if link else str(line))
        cells = [f'<tr id="item-{line}">\n      <td>{number}</td>']
        if entry.category_heading:
            cells.append(f"<td>{escaped(label(item.category))}</td>")
        cells.append(f'<td class="text-nowrap">{escaped(format_tariff_code(item.tariff_code))}'
                     f"</td><td>{escaped(item.description)}</td>")
        if entry.show_control_no:
            cells.append(f"<td>{escaped(item.control_no)}</td>")
        origin = f"{item.origin_country} {names.get(item.origin_country, '')}"
        cells.append(
            f'<td class="text-end">{_number(item.quantity)}</td><td>{escaped(item.unit)}</td>'
            f'<td class="text-end">{_number(item.unit_price)}</td>'
            f"<td>{escaped(item.currency)}</td>"
            f'<td class="text-end">{_number(item.amount)}</td>'
            f'<td data-testid="origin-{line}">{escaped(origin)}</td>')
        if delete is not None:
            cells.append(
                f'<td class="text-end"><form method="post" action="{delete(line)}">{csrf}'
                f'<button type="submit" class="btn btn-link btn-sm text-danger p-0">'
                f'{delete_words}<span class="visually-hidden"> {line_words} {line}</span>'
                f"</button></form></td>")
        cells.append("</tr>\n")
        parts.append("".join(cells))
    return mark_safe("".join(parts))  # noqa: S308 (every value escaped where written)


def _number(value):
    # permits_tags.plain: a stored Decimal as the fields take it (10.0000 → 10).
    return "" if value is None else plain_decimal(value)


# --- A page of items read beside the case's other parts (the reviewers' case page) ---------
# Compiled once per process (permits.prepared) so that they go in the page's one round trip
# (permits.prepared.together) with its other tables.

# [(currency, origin, total of the amounts, items)] of a case's items: their count, totals
# per currency and origins in one reading of them.
ITEM_SUMS = PreparedQuery(
    lambda application: Item.objects.filter(application=application).order_by()
    .values("currency", "origin_country").annotate(total=Sum("amount"), count=Count("pk"))
    .order_by("currency", "origin_country")
    .values_list("currency", "origin_country", "total", "count"), parameters=("application",),
    keep_plan=True)
# [(origin,)] of a case's items, each once (item_origins()).
ITEM_ORIGINS = PreparedQuery(
    lambda application: Item.objects.filter(application=application).order_by()
    .values_list("origin_country").distinct(), parameters=("application",), keep_plan=True)
# A page of a case's items in 項次 order (unique in a case: the index item_line_unique
# reads them in order), `limit`, `offset` (PagedInstances).
ITEM_PAGE = PagedInstances(
    Item, lambda application: Item.objects.filter(application=application).order_by(
        "line_no"), parameters=("application",), keep_plan=True)
# The pages a number is read at once for (more is a page past the end at any case's size).
MAX_PAGE = 10 ** 6
_ORIGINS = "_item_origins"  # where the origins read beside the page are kept on the case


def page_guess(number):
    """The page number to read for `number` as typed, before the items are counted: the
    number itself, or 1 where it is none (Paginator.get_page's first page) or beyond any
    case (then page_from() reads the last page after the count)."""
    try:
        number = int(number)
    except (TypeError, ValueError, OverflowError):
        return 1
    return number if 1 <= number <= MAX_PAGE else 1


def page_calls(application_pk, guess, *, per_page=PER_PAGE):
    """The (query, values) that read page `guess` of a case's items, their count, totals
    and origins, for together(); page_from() makes the page from their results."""
    return [(ITEM_SUMS, {"application": application_pk}),
            (ITEM_PAGE, {"application": application_pk, "limit": per_page,
                         "offset": (guess - 1) * per_page})]


def page_from(application, results, number, guess, *, per_page=PER_PAGE, anchor="items"):
    """The ItemPage of page `number` (as typed: Paginator.get_page's reading of it) from the
    results of page_calls(application.pk, guess): `guess` was that page unless the number
    was not one or past the end, then the page is read again (one query). The items'
    origins are kept on the case (item_origins())."""
    sums, items = results
    application.__dict__[_ORIGINS] = {origin for _currency, origin, _total, _count in sums}
    totals = {}  # {currency: [its amounts' totals by origin]}
    for currency, _origin, total, _count in sums:
        totals.setdefault(currency, []).append(total)
    paginator = Paginator((), per_page)
    paginator.count = sum(count for *_rest, count in sums)
    try:
        number = paginator.validate_number(number)
    except PageNotAnInteger:
        number = 1
    except EmptyPage:
        number = paginator.num_pages
    if number != guess:
        items = ITEM_PAGE.instances(application=application.pk, limit=per_page,
                                    offset=(number - 1) * per_page)
    for item in items:  # each knows its case
        Item.application.field.set_cached_value(item, application)
    return ItemPage(Page(items, number, paginator), anchor=anchor, totals=[
        (currency, sum(known) if (known := [each for each in amounts if each is not None])
         else None) for currency, amounts in totals.items()])


def item_origins(application):
    """The origins of the case's items (origin_country, "" for none), each once: from its
    items where they were read (prefetched: the case pages), from what the reviewers' case
    page read beside its page of them, else one query (not the items themselves: 10,000 a
    case)."""
    if "items" in getattr(application, "_prefetched_objects_cache", {}):
        return {item.origin_country for item in application.items.all()}
    known = application.__dict__.get(_ORIGINS)
    if known is None:
        known = application.__dict__[_ORIGINS] = {
            origin for (origin,) in ITEM_ORIGINS.rows(application=application.pk)}
    return set(known)
