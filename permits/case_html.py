"""The case page's lists written out in Python (issue 10): its permit's box, basic data (with
the procedure's rows), attachments, goods items, status history, permit versions, parties,
the procedure's links and the required documents.

As template loops each value cost Django's engine a lookup (a model instance's attribute a
failed subscription first), localisation and escaping, and each {% url %} a reverse(): the
lists were two thirds of the page's own template time (the SHTC case of a change: 2.6 of
3.5 ms of CPU, profiled). Here every value is escaped as the template escaped it, each link
is the one reverse() made once per list with the key put in, each label is translated once
per language (_words). templates/permits/application_detail.html prints them where its loops
(and two includes) were; tests/permits/test_case_page.py and test_case_page_words.py compare
each with the loop or include it replaces, in both languages, with values to escape.
"""

import html

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import Context
from django.template.base import render_value_in_context
from django.template.defaultfilters import filesizeformat
from django.template.loader import get_template
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.formats import get_format
from django.utils.functional import Promise
from django.utils.html import avoid_wrapping, conditional_escape
from django.utils.numberformat import format as number_format
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext, pgettext

from permits import workdays
from permits.templatetags.permits_tags import plain, tariff, with_country_name
from portal.dates import to_roc
from portal.languages import per_language
from portal.templatetags.roc import roc, roc_datetime

# A key no URL of the portal holds otherwise, reversed in place of a row's.
_KEY = 918_273_645


# {(view name, its arguments after the key, script prefix, URL configuration): the path
# before the key and after it} (_link)
_LINKS = {}


def _link(name, *rest):
    """`pk` → the URL of view `name` (whose first argument is a key, then `rest`, the same
    on every request) for that key: reversed once per process, script prefix and URL
    configuration (a reverse() each, five a case page, was a twentieth of its own CPU)."""
    cache_key = (name, rest, get_script_prefix(), get_urlconf())
    parts = _LINKS.get(cache_key)
    if parts is None:
        parts = _LINKS[cache_key] = tuple(reverse(name, args=[_KEY, *rest]).split(str(_KEY)))
    prefix, suffix = parts
    return lambda pk: f"{prefix}{int(pk)}{suffix}"


@receiver(setting_changed)
def _forget_links(*, setting, **kwargs):
    if setting == "ROOT_URLCONF":
        _LINKS.clear()


def case_link(name, pk, *rest):
    """reverse(name, args=[pk, *rest]) for an integer key `pk`, the path reversed once
    (_link)."""
    return _link(name, *rest)(pk)


def _text(value):
    """A value as a template's {{ value }} prints a text or a whole number: escaped unless
    marked safe. A plain str (most values) goes straight to what Django's escape() runs,
    without its lazy-argument wrapper: a hundred values a page."""
    if type(value) is str:
        return html.escape(value)
    return conditional_escape(value)


# The page's words in the language in force, made once a language: a gettext (a lazy
# label's cast too) looks the thread's language up and then the catalogue, a hundred
# thousand instructions for the thirty words of a case page; the lists look their words up
# once each.
_words = per_language(lambda: {
    "None.": gettext("None."),
    "Cancelled": pgettext("permit state", "Cancelled"),
    "Reason for cancellation": gettext("Reason for cancellation"),
    "Permit number": gettext("Permit number"),
    "Validity": gettext("Validity"),
    "Print": gettext("Print"),
    "Applicant identifier": gettext("Applicant identifier"),
    "Applicant name": gettext("Applicant name"),
    "Address": gettext("Address"),
    "Contact person": gettext("Contact person"),
    "Applicant company e-mail": gettext("Applicant company e-mail"),
    "Filing agent": gettext("Filing agent"),
    "Destination": gettext("Destination"),
    "Application date": gettext("Application date"),
    "Change description": gettext("Change description"),
    "in force": gettext("in force"),
    "already uploaded": gettext("already uploaded"),
    "not uploaded yet": gettext("not uploaded yet"),
    "Required documents": gettext("Required documents"),
    "Items": gettext("Items %(first)s–%(last)s of %(total)s"),
    "Total amount": gettext("Total amount"),
    # filesizeformat's words of each unit, from the largest: [(bytes in the unit, "%s KB")]
    "units": [(1 << 50, gettext("%s PB")), (1 << 40, gettext("%s TB")),
              (1 << 30, gettext("%s GB")), (1 << 20, gettext("%s MB")),
              (1 << 10, gettext("%s KB"))],
    # {id(label): (label, its text escaped)} (_label_text) and {(field, value): text}
    # (_display), filled as they are asked for
    "labels": {},
    "displays": {},
})
# At most this many labels or values kept a language (emptied beyond).
_LABELS_KEPT = 512


def _label_text(label, words):
    """_text(label), a lazy label's text made once a language (`words`: _words()): the
    lazy labels of the procedures' constants (document kinds), each a gettext when cast;
    the label kept with its text, so that an id is never another object's."""
    if not isinstance(label, Promise):
        return _text(label)
    texts = words["labels"]
    found = texts.get(id(label))
    if found is None or found[0] is not label:
        if len(texts) >= _LABELS_KEPT:
            texts.clear()
        found = texts[id(label)] = (label, _text(label))
    return found[1]


def _display(instance, name, words):
    """_text(instance.get_<name>_display()), marked safe, made once a language (`words`:
    _words()) for each value: the choices' lazy labels (document type, kind, statuses),
    each a gettext when cast (a value outside the choices is its own text)."""
    field = instance._meta.get_field(name)
    key = (field, getattr(instance, field.attname))
    texts = words["displays"]
    text = texts.get(key)
    if text is None:
        if len(texts) >= _LABELS_KEPT:
            texts.clear()
        text = texts[key] = mark_safe(  # noqa: S308 (escaped)
            _text(getattr(instance, f"get_{name}_display")()))
    return text


def _file_sizes(words):
    """A function printing a size in bytes as filesizeformat does ("253.6 KB"), its words
    and the language's number format looked up once for a list (a gettext and three
    get_format() a size; `words`: _words()); sizes under a KB, and what is not a whole
    number, by filesizeformat itself."""
    units, language = words["units"], get_language()
    decimal_separator = get_format("DECIMAL_SEPARATOR", language, use_l10n=True)
    grouping = get_format("NUMBER_GROUPING", language, use_l10n=True)
    thousand_separator = get_format("THOUSAND_SEPARATOR", language, use_l10n=True)

    def text(size):
        if type(size) is not int or size < 1 << 10:
            return filesizeformat(size)
        for unit, unit_words in units:
            if size >= unit:
                return avoid_wrapping(unit_words % number_format(
                    round(size / unit, 1), decimal_separator, 1, grouping, thousand_separator,
                    use_l10n=True))

    return text


def _roc_datetimes():
    """A function printing an aware datetime as roc_datetime does (109/09/12 14:05 in the
    portal's time zone), the zone looked up once for a list."""
    zone = timezone.get_current_timezone()

    def text(value):
        if not value:
            return ""
        if getattr(value, "tzinfo", None) is None:
            return roc_datetime(value)
        value = value.astimezone(zone)
        return f"{to_roc(value)} {value:%H:%M}"

    return text


def _safe(parts):
    return mark_safe("".join(parts))  # noqa: S308 (every value escaped where written)


def attachment_items(attachments, document_kinds):
    """The <li>s of 附件: each file's link, kind, size and time; "None." for none.
    `document_kinds` is the procedure's [(code, label)] (Attachment.get_document_kind_display
    reads the same)."""
    words = _words()
    if not attachments:
        return _safe(['<li class="text-secondary">', words["None."], "</li>"])
    link, labels = _link("permits:attachment_download"), dict(document_kinds)
    when, size = _roc_datetimes(), _file_sizes(words)
    kinds = {}
    parts = []
    for attachment in attachments:
        kind = attachment.document_kind
        label = kinds.get(kind)
        if label is None:
            label = kinds[kind] = _label_text(labels.get(kind, kind), words)
        parts.append(
            f'\n        <li><a href="{link(attachment.pk)}">{_text(attachment.original_name)}</a>'
            f'\n          <span class="text-secondary">({label}, '
            f"{_text(size(attachment.size))}, "
            f"{_text(when(attachment.uploaded_at))})</span></li>\n      ")
    return _safe(parts)


def permit_header(version):
    """The permit beside the case's number: its number and version, validity, cancellation
    (its date and reason) and the 列印 button; "" for a case without a permit."""
    if version is None:
        return ""
    permit, words = version.permit, _words()
    revocation = getattr(permit, "revocation", None)
    cancelled = ""
    if revocation:
        cancelled = (
            f'\n    <div class="small mt-1" data-testid="permit-cancelled"><span class="badge '
            f'text-bg-danger">{words["Cancelled"]}</span> '
            f"{_text(roc(revocation.created_at))} · {words['Reason for cancellation']}: "
            f"{_text(revocation.reason)}</div>\n    ")
    return _safe([
        f'\n  <div class="text-end">\n    <div>{words["Permit number"]}: '
        f'<strong data-testid="permit-no">{_text(permit.permit_no)}</strong> '
        f"(v{_text(version.version)})</div>"
        f'\n    <div class="small">{words["Validity"]}: {_text(roc(version.valid_from))} – '
        f"{_text(roc(version.valid_until))}</div>\n    {cancelled}"
        f'\n    <a class="btn btn-primary btn-sm mt-2" '
        f'href="{_link("permits:permit_print")(version.pk)}" target="_blank" '
        f'rel="noopener">{words["Print"]}</a>\n  </div>\n  '])


def basic_data_items(application, procedure_rows, country_names):
    """The <dt>/<dd> rows of 基本資料: the applicant, the filing agent, the destination, the
    application date, the procedure's rows (Procedure.detail_rows) and a change's
    description."""
    case, words = application, _words()

    def row(label, value):
        return f'\n      <dt class="col-sm-5">{label}</dt><dd class="col-sm-7">{value}</dd>'

    name = _text(case.applicant_name)
    if case.applicant_name_en:
        name += f"<br>{_text(case.applicant_name_en)}"
    parts = [
        row(words["Applicant identifier"], _text(case.applicant_identifier)),
        row(words["Applicant name"], name),
        row(words["Address"], _text(case.applicant_address)),
        row(words["Contact person"],
            f"{_text(case.contact_person)} {_text(case.contact_phone)}"),
        row(words["Applicant company e-mail"], _text(case.company_email))]
    if case.agent_identifier:
        parts.append(row(words["Filing agent"],
                         f"{_text(case.agent_identifier)} {_text(case.agent_name)}"))
    if case.destination_country:
        parts.append(row(words["Destination"],
                         _text(with_country_name(case.destination_country, country_names))))
    parts.append(row(words["Application date"], _text(_roc_datetimes()(case.submitted_at))))
    parts.append("\n      " + procedure_row_items(procedure_rows))
    if case.change_description:
        parts.append(row(words["Change description"], _text(case.change_description)))
    return _safe(parts)


def item_rows(items, country_names, category_label):
    """The <tr>s of 貨品明細; `category_label(code)` is the procedure's words for an item's
    category (Procedure.item_category_label)."""
    parts = []
    for item in items:
        category = (f' <span class="badge text-bg-light">{_text(category_label(item.category))}'
                    f"</span>" if item.category else "")
        control = (f' <span class="text-secondary">({_text(item.control_no)})</span>'
                   if item.control_no else "")
        parts.append(
            f'\n    <tr><td>{_text(item.line_no)}</td>'
            f'<td class="text-nowrap">{_text(tariff(item.tariff_code))}</td>'
            f"<td>{_text(item.description)}{category}{control}</td>"
            f'\n      <td class="text-end">{_text(plain(item.quantity))}</td>'
            f"<td>{_text(item.unit)}</td>"
            f'<td class="text-end">{_text(plain(item.unit_price))}</td>'
            f"<td>{_text(item.currency)}</td>"
            f'<td class="text-end">{_text(plain(item.amount))}</td>'
            f"<td>{_text(with_country_name(item.origin_country, country_names))}</td></tr>\n  ")
    return _safe(parts)


def history_items(history):
    """The <li>s of 狀態歷程, oldest first; "None." for none."""
    words = _words()
    if not history:
        return _safe(['\n  <li class="list-group-item text-secondary">', words["None."],
                      "</li>\n  "])
    when = _roc_datetimes()
    parts = []
    for change in history:
        note = (f'<div class="text-secondary text-pre-line">{_text(change.note)}</div>'
                if change.note else "")
        parts.append(
            f'\n  <li class="list-group-item">{_text(when(change.created_at))} · '
            f"{_display(change, 'old', words)} → <strong>{_display(change, 'new', words)}"
            f"</strong>{note}"
            "</li>\n  ")
    return _safe(parts)


def version_items(versions):
    """The <li>s of 許可證版次, newest first, the first marked in force."""
    badge = ' <span class="badge text-bg-success">' + _words()["in force"] + "</span>"
    return _safe(f"<li>{_text(version.permit.permit_no)} v{_text(version.version)} · "
                 f"{_text(roc(version.issued_at))}{badge if n == 0 else ''}</li>"
                 for n, version in enumerate(versions))


def party_blocks(parties):
    """The columns of the parties (permits.parties.party_rows: [(heading, [(label, value)])])."""
    parts = []
    for heading, rows in parties:
        fields = "".join(f'<dt class="col-sm-5">{_text(label)}</dt>'
                         f'<dd class="col-sm-7">{_text(value)}</dd>' for label, value in rows)
        parts.append(
            f'\n  <div class="col-lg-4">\n    <h2 class="h5">{_text(heading)}</h2>'
            f'\n    <dl class="row small">\n      {fields}\n    </dl>\n  </div>\n  ')
    return _safe(parts)


def procedure_row_items(rows):
    """The procedure's rows of the basic data (Procedure.detail_rows), as <dt>/<dd>."""
    return _safe(f'<dt class="col-sm-5">{_text(row["label"])}</dt>'
                 f'<dd class="col-sm-7" data-testid="procedure-row-{_text(row["code"])}">'
                 f'{_text(row["value"])}</dd>' for row in rows)


def procedure_link_items(links):
    """The procedure's links (Procedure.detail_links), as buttons."""
    return _safe(f'<a class="btn btn-outline-primary btn-sm" href="{_text(link["url"])}" '
                 f'data-testid="link-{_text(link["code"])}">{_text(link["label"])}</a>'
                 for link in links)


def required_document_items(required):
    """The <li>s of the required documents (permits.documents.status: [(code, label,
    uploaded)]), each said uploaded or not in words and a sign."""
    words = _words()
    uploaded_text, missing_text = words["already uploaded"], words["not uploaded yet"]
    parts = []
    for code, label, uploaded in required:
        if uploaded:
            state = (f'<span class="text-success" aria-hidden="true">✓</span> {_text(label)} '
                     f'<span class="text-success">({uploaded_text})</span>')
        else:
            state = (f'<span class="text-danger" aria-hidden="true">✗</span> {_text(label)} '
                     f'<span class="text-danger fw-semibold">({missing_text})</span>')
        parts.append(
            f'\n  <li data-kind="{_text(code)}" data-uploaded="{"true" if uploaded else "false"}">'
            f"\n    {state}\n  </li>\n  ")
    return _safe(parts)


def required_documents_block(required):
    """What templates/permits/includes/required_documents.html prints for `required`
    (permits.documents.status) on the case page: its heading and required_document_items,
    written here as the include's template rendered them (an include, a tenth of the
    page's own template time)."""
    if not required:
        return mark_safe("\n\n\n")  # the include's lines around its {% if %}
    return _safe(['\n\n\n<h2 class="h5">', _words()["Required documents"], "</h2>\n"
                  '<ul class="list-unstyled small" data-testid="required-documents">\n  ',
                  required_document_items(required), "\n</ul>\n\n"])


# The template of a page of items with links to the other pages (item_pages_block).
_ITEM_PAGES = "permits/includes/item_pages.html"


def item_pages_block(item_page):
    """What templates/permits/includes/item_pages.html prints for `item_page`
    (permits.item_pages.ItemPage): the range of items and the totals written here as the
    include's template rendered them when every item is on the page (no link to another
    page: every case page but those of a case over a hundred items); the template's own
    output when there are other pages to link to."""
    if not item_page.count:
        return mark_safe("\n\n")  # the include's lines around its {% if %}
    if item_page.page.has_other_pages():
        return get_template(_ITEM_PAGES).render({"item_page": item_page})
    # {% blocktranslate %}'s values as it prints them (localised, escaped); its words and
    # {% translate %}'s are the catalogue's, unescaped, as the template gives them.
    context = Context()
    values = {name: render_value_in_context(value, context) for name, value in (
        ("first", item_page.first), ("last", item_page.last), ("total", item_page.count))}
    anchor, words = _text(item_page.anchor), _words()
    return _safe([
        '\n\n<div class="d-flex flex-wrap justify-content-between align-items-center gap-2 '
        'small mb-3" data-testid="item-pages">\n  <p class="mb-0" id="', anchor,
        '-range"><span data-testid="item-range">',
        words["Items"] % values,
        '</span>\n    · <span data-testid="item-totals">', words["Total amount"], ": ",
        _text(item_page.totals_text()), "</span></p>\n  \n</div>\n\n"])


def lists(application, procedure, context):
    """The written-out lists of the case page for `application` (its items and attachments
    in place, permits.views.with_parts) and the view's `context` (history, versions,
    parties, the procedure's rows and links, the country names): what the template prints
    where its loops were."""
    names, words = context["country_names"], _words()
    return {
        # The heading's words: the case's document type, kind and status.
        "document_type_text": _display(application, "document_type", words),
        "kind_text": _display(application, "kind", words),
        "status_text": _display(application, "status", words),
        # What to do next (Procedure.next_step): a lazy text of several, cast once.
        "next_step_text": conditional_escape(context["next_step"]),
        "permit_header": permit_header(application.permit_version),
        "basic_data_items": basic_data_items(application, context["procedure_rows"], names),
        "attachment_items": attachment_items(application.attachments.all(),
                                             procedure.document_kinds),
        # The page of the items the page lists (permits.item_pages; issue 13), or all.
        "item_rows": item_rows(context["item_page"].items if "item_page" in context
                               else application.items.all(), names,
                               procedure.item_category_label),
        "history_items": history_items(context["history"]),
        # 預計於 115/12/11 前完成初審 while a stage with a target is open (issue 14; one
        # query, for a case under review only).
        "review_expected": workdays.expected_completion(application, context["history"]),
        "version_items": version_items(context["versions"]),
        "party_blocks": party_blocks(context["parties"]),
        "procedure_link_items": procedure_link_items(context["procedure_links"]),
        "required_documents_block": required_documents_block(context["required_documents"]),
        "item_pages_block": item_pages_block(context["item_page"]),
    }
