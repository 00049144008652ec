"""The 轉口港代碼 look-up (SHTC-15; SHTC manual §2.2 item 4): the 26 letters A-Z; a letter
lists the two-letter country codes that start with it (U → UA … UZ) at the top of the page;
a country lists its five-character location codes below (US → USAA4 … USZZZ), every
location of the port table, not only seaports, as the manual shows them.

Picking a code fills the field of the page that opened the look-up. The link beside the
field (templates/shtc/includes/port_lookup_link.html) carries `field` (the input's id) and
`next` (the page itself); static/shtc/port_lookup.js opens the look-up in a small window of
its own, so the form and everything typed on it stay as they are, and a code picked there is
written into the field, which gets the focus back, and the window closes. Without script (or
with pop-ups refused) the look-up is a plain page in the same tab: each code is a link back
to `next` with `?transit_port=USLAX`, for the entry page to preset the field; with no `next`
it is a reference page that shows the code picked. Every step is a link, so the keyboard
(Tab, Enter) does all of it.
"""

import re
import string
from urllib.parse import quote_plus

from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db import connections, router
from django.db.models import Field, Func, IntegerField, Q, Subquery
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe

from permits.fields import country_names, reference_cached
from permits.prepared import plan_keeping_cursor
from portal.escaping import escaped, escaped_all
from shtc.models import Port

PER_PAGE = 200
FIELD_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
COUNTRY_RE = re.compile(r"[A-Z]{2}")
PORT_RE = re.compile(r"[A-Z]{2}[A-Z0-9]{3}")


def _safe_next(request):
    """`next` when it is a path of this site (never another site: an open redirect)."""
    target = request.GET.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return ""


class PortRow(dict):
    """A row of the codes' table: a dict, which the template reads at once (a model instance
    costs it a failed subscription per value, 200 rows of four), with attribute access."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


# The table's row (templates/shtc/port_lookup.html prints them): written here, 200 rows of
# five values cost the template engine about 3 ms, joined in Python 0.2 ms (issue 10).
ROW_HTML = ('      <tr>\n        <td><a href="{pick_url}" data-port-code="{code}" '
            'class="font-monospace">{code}</a></td>\n        <td>{name}</td>\n'
            '        <td>{subdivision}</td>\n      </tr>\n')


def rows_html(rows):
    """The <tr> of each PortRow, its values escaped (as Django's escape does: html.escape
    of the text, quotes too)."""
    return mark_safe("".join(  # noqa: S308 (every value escaped)
        ROW_HTML.format(**{key: escaped(str(value)) for key, value in row.items()})
        for row in rows))


def _page_rows(rows, head):
    """(PortRows, their <tr> as rows_html() writes them) of (code, name, subdivision) `rows`,
    each code's pick_url `head` with the code quoted. A code of letters and digits (every
    UN/LOCODE) is its own quoting and escape; `head` is escaped once for all: the quoting
    leaves nothing that HTML escapes (issue 10: escaping 200 links and quoting their codes
    was most of the table's time). The names and subdivisions are escaped in one call
    (portal.escaping.escaped_all)."""
    head_html = escaped(head)
    shown = iter(escaped_all([text for _code, name, subdivision in rows
                               for text in (name, subdivision)]))
    objects, parts = [], []
    for code, name, subdivision in rows:
        plain = code.isascii() and code.isalnum()
        quoted = code if plain else quote_plus(code)
        objects.append(PortRow(code=code, name=name, subdivision=subdivision,
                               pick_url=head + quoted))
        parts.append(ROW_HTML.format(pick_url=head_html + quoted,
                                     code=code if plain else escaped(code),
                                     name=next(shown), subdivision=next(shown)))
    return objects, mark_safe("".join(parts))  # noqa: S308 (every value escaped)



# The letters' and a letter's countries' buttons (templates/shtc/port_lookup.html prints
# them), written here as the rows are: 26 letters and the countries of five values each cost
# the template engine about a third of the page's own time (issue 10, Stop 22).
BUTTON_HTML = ('    <li class="list-inline-item mb-1"><a class="btn btn-sm {style}" '
               'href="{url}"{current}>{text}</a></li>\n')


def buttons_html(buttons, *, text, outline):
    """The <li> of each button of `buttons` (dicts: url, current, the `text` key it shows
    and, for a country, its name beside it), the one current in btn-primary, the others in
    `outline`; every value escaped."""
    html = []
    for each in buttons:
        label = escaped(each[text])
        if each.get("name"):
            label += f' <span class="small">{escaped(each["name"])}</span>'
        html.append(BUTTON_HTML.format(
            style="btn-primary" if each["current"] else outline, url=escaped(each["url"]),
            current=' aria-current="true"' if each["current"] else "", text=label))
    return mark_safe("".join(html))  # noqa: S308 (every value escaped)


# Past this page number a page is found by the Paginator (the count first, then the page):
# an OFFSET is bounded before it reaches the database.
COUNTED_PAGES = 10_000


def counted_page(rows, number, read=None):
    """Paginator(rows, PER_PAGE).get_page(number) of `rows` (a values_list queryset in its
    order), the page's rows and their count read in one query (the count a scalar subquery
    beside each row): one round trip and one compiled query less than the Paginator's count
    and then its page (issue 10, Stop 22). A number that is not a page (text, 0, past the
    end) gives what get_page gives (the first page, or the last), through the Paginator.
    `read(bottom)`, if given, reads the same rows from `bottom` with their count instead
    (the count kept elsewhere: _kept_count)."""
    paginator = Paginator(rows, PER_PAGE)
    try:
        wanted = int(number)
    except (TypeError, ValueError):
        wanted = 1
    if not 1 <= wanted <= COUNTED_PAGES:
        return paginator.get_page(number)
    bottom = (wanted - 1) * PER_PAGE
    if read is None:
        count = Subquery(rows.order_by().values(
            n=Func(template="COUNT(*)", output_field=IntegerField())), output_field=Field())
        # The count as the database gives it (an int: COUNT is a bigint), without a
        # converter called on each of the 200 rows (an IntegerField's int(), which it is).
        found = list(rows.annotate(count=count)[bottom:bottom + PER_PAGE])
    else:
        found = read(bottom)
    if not found or found[0][-1] is None:
        return paginator.get_page(number)
    paginator.count = found[0][-1]  # what the Paginator would have counted
    return Page([row[:-1] for row in found], wanted, paginator)


def pick_url(target, code):
    """The page to go back to with the code picked: `target` with ?transit_port=CODE."""
    return f"{target}{'&' if '?' in target else '?'}{urlencode({'transit_port': code})}"


@login_required
def port_lookup(request):
    letter = request.GET.get("letter", "").strip().upper()[:1]
    country = request.GET.get("country", "").strip().upper()
    if not COUNTRY_RE.fullmatch(country):
        country = ""
    if country:
        letter = country[0]  # the country's letter stays chosen above it
    if letter not in string.ascii_uppercase:
        letter = ""
    field = request.GET.get("field", "")
    if not FIELD_RE.fullmatch(field):
        field = ""
    target = _safe_next(request)
    query = request.GET.get("q", "").strip()[:60]

    # What every link of the page carries on: the field to fill and the page to go back to.
    carried = {name: value for name, value in (("field", field), ("next", target)) if value}

    def link(**params):
        return "?" + urlencode({**carried, **{k: v for k, v in params.items() if v}})

    # link(letter=...) and link(country=...) of every button: what they carry encoded once.
    ahead = link() + ("&" if carried else "")
    letters = [{"letter": each, "url": f"{ahead}letter={each}", "current": each == letter}
               for each in string.ascii_uppercase]
    countries = []
    if letter:
        codes = _countries_of(letter)
        names = country_names()  # in the request's language, kept per process
        countries = [{"code": code, "name": names.get(code, ""),
                      "url": f"{ahead}country={quote_plus(code)}",
                      "current": code == country} for code in codes]

    page = None
    if country:
        ports = Port.objects.filter(country=country).order_by("code")
        if query:
            # A code typed whole (USLAX) or without its country (LAX), or part of a name.
            prefix = query.upper() if query.upper().startswith(country) else country + query
            ports = ports.filter(Q(code__startswith=prefix.upper()[:5])
                                 | Q(name__icontains=query) | Q(name_ascii__icontains=query))
        page = counted_page(ports.values_list("code", "name", "subdivision"),
                            request.GET.get("page"),
                            None if query else _kept_count(country))
        # Every row's link is the same but for the code (last): built once, the code added.
        head = (pick_url(target, "") if target
                else link(country=country, q=query, page=page.number) + "&picked=")
        page.object_list, page.rows_html = _page_rows(page.object_list, head)

    picked = request.GET.get("picked", "").strip().upper()
    picked = Port.objects.filter(code=picked).first() if PORT_RE.fullmatch(picked) else None
    return render(request, "shtc/port_lookup.html", {
        "letters": letters, "letter": letter, "countries": countries, "country": country,
        "letters_html": buttons_html(letters, text="letter", outline="btn-outline-primary"),
        "countries_html": buttons_html(countries, text="code",
                                       outline="btn-outline-secondary"),
        "country_name": next((c["name"] for c in countries if c["code"] == country), ""),
        "page": page, "query": query, "field": field, "next_url": target, "picked": picked,
        "page_query": link(country=country, q=query)[1:],
        "editions": _editions_of(country) if country else [],
    })


# The letter's countries and a country's editions are read from the whole port table
# (SELECT DISTINCT over thousands of rows); they change only when a UN/LOCODE release is
# loaded, so each process keeps them with the reference rows for permits.fields.REFERENCE_TTL
# (60 s) after a load. No signal on Port: one would make every bulk delete of the 80,000
# rows fetch them one by one to send it.
def _countries_of(letter):
    return reference_cached(("shtc.port_countries", letter), lambda: list(
        Port.objects.filter(country__startswith=letter)
        .values_list("country", flat=True).distinct().order_by("country")))


def _editions_of(country):
    return reference_cached(("shtc.port_editions", country), lambda: list(
        Port.objects.filter(country=country).values_list("edition", flat=True)
        .distinct().order_by("edition")))


# A country's page of codes with the number of its codes as PostgreSQL keeps it (shtc
# migration 0011: triggers on the port table update it in the same transaction as every
# write of a code, so it is the count of the codes the same statement lists). Written out
# rather than compiled by the ORM (0.7 ms of CPU against 0.17 a request, issue 10) and its
# plan kept (permits.prepared.plan_keeping_cursor): the rows of
# Port.objects.filter(country=…).order_by("code").values_list("code", "name",
# "subdivision") from OFFSET, tests/shtc/test_port_page_read.py.
KEPT_COUNT_PAGE = (
    "SELECT code, name, subdivision, "  # noqa: S608 (the model's table and PER_PAGE)
    "(SELECT n FROM shtc_port_country_count WHERE country = %s) "
    f"FROM {Port._meta.db_table} WHERE country = %s "
    f"ORDER BY code LIMIT {PER_PAGE} OFFSET %s")


def _kept_count(country):
    """counted_page's `read` of `country`'s codes on PostgreSQL; None (count them)
    elsewhere."""
    connection = connections[router.db_for_read(Port)]
    if connection.vendor != "postgresql":
        return None

    def read(bottom):
        with plan_keeping_cursor(connection) as cursor:
            cursor.execute(KEPT_COUNT_PAGE, [country, country, bottom])
            return cursor.fetchall()

    return read
