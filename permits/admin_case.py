"""The reviewers' case page, drawn without Django's change form (issue 10, bench/README.md
"Stop 20").

A reviewer changes a case only by its moves (the move form above the case's data, posted to
ApplicationAdmin.move_view, which goes through transition()): every field of the change form
is read-only for everyone (ApplicationAdmin.read_only) and every table a view-only inline, so
the page posts nothing of its own; a reviewer, who may view cases but not change them, could
not post it (Django answers 403). Yet Django's change view built, for each GET, a ModelForm
class and its form, an AdminForm, an inline formset class and a formset for every table and
the procedure's panel, the media of all of them, and drew the fieldsets and tables through
templates: more than half of the page's CPU.

Here the page of a user who may view the case but not change it is the same HTML (the
content of Django's change form: tests/permits/test_admin_case.py compares them), written
in Python from the model admin's own declarations (fieldsets, inlines, their fields and
displays, as shown() shows them), the rows read by the queries compiled once per process
that the inlines' formsets read (permits.admin.inline_rows) and put where prefetch_related
puts them, so that the procedures' panels (ReadOnlyInline.panel_html: the SHTC review) read
them without a query of their own; all of them in one round trip (_read; bench/README.md
"Stop 21"), the goods items a hundred a page (permits.item_pages, issue 13), with the count
and totals over all of them. Below a reviewer's moves, the case's working-day clock
(issue 14: permits.workdays, from the history rows the page read, its rules in the same round
trip) and an SHTC case's risk flags (shtc.review.risk_panel_html, read in it too);
templates/admin/permits/application/change_form.html prints the same through
permits/templatetags/case_review.py. Users who may change the case (a superuser) keep
Django's change form, which saves; so do a popup and a page this does not know how to draw
(an inline that is not a ReadOnlyInline, a column it does not draw): Django draws those.
"""

import functools
import html
import itertools

from django.contrib.admin import ModelAdmin
from django.contrib.admin.options import BaseModelAdmin, InlineModelAdmin
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import (
    flatten_fieldsets,
    help_text_for_field,
    label_for_field,
    quote,
)
from django.db.models.manager import BaseManager
from django.forms.models import _get_foreign_key
from django.middleware.csrf import get_token
from django.templatetags.static import static
from django.utils.html import strip_tags
from django.utils.module_loading import import_string
from django.utils.safestring import mark_safe
from django.utils.text import Truncator, capfirst
from django.utils.translation import get_language, gettext, pgettext

from permits import admin_frame, admin_queues, item_pages, procedures, review_notes, workdays
from permits.admin import (
    PortalDisplayMixin,
    ReadOnlyInline,
    _escaped,
    _readonly_cell,
    fixed_url,
    inline_rows,
    keyed_url,
    shares_rows,
    table_rows,
)
from permits.models import Item, StatusChange
from permits.prepared import PreparedInstances, in_place, together
from portal.languages import per_language

TEMPLATE = "admin/permits/application/case_page.html"
PAGE_VAR = "page"  # the page of the goods items (as on the applicant's case page)


def case_page(model_admin, request, case, extra_context=None):
    """The response of `model_admin`'s change view (GET) for `case`, which the request's
    user may view but not change; None where this page would not draw what Django's change
    form draws (then Django's change form it is)."""
    sections = _sections(model_admin, request, case)
    fieldsets = _fieldsets(model_admin, request, case)
    if sections is None or fieldsets is None:
        return None
    # Every table's rows first, in one round trip: then the panels read them from the case.
    # A reviewer's page reads the case's risk flags in it too (issue 14, point 4).
    reviewing = model_admin.may_review(request)
    flags = _read(sections, case, request, flags=reviewing and _flagged(case),
                  rules=reviewing, people=reviewing, events=reviewing)
    opts = model_admin.opts
    site = model_admin.admin_site.name
    request.current_app = site
    token = get_token(request)
    preserved = model_admin.get_preserved_filters(request)
    # The history as the page's table read it: four eyes asks who took the case through 初審.
    changes = _history(sections, case) if reviewing else None
    moves = model_admin.review_context(request, case, token, history=changes)

    def kept(path):
        """`path` with the list's filters, which the change form's links keep."""
        return add_preserved_filters({"preserved_filters": preserved, "opts": opts}, path) \
            if preserved else path

    # The page's links reversed once per process (permits.admin.keyed_url, fixed_url).
    history = keyed_url(f"admin:{opts.app_label}_{opts.model_name}_history",
                        quote(case.pk), site)
    changelist = fixed_url(f"admin:{opts.app_label}_{opts.model_name}_changelist", site)
    # The form's own address keeps them too (render_change_form's form_url).
    action = f'action="{html.escape(kept(""))}" ' if preserved else ""
    history_word, close, back, home_word, app_name, plural, title = _page_words(opts)
    parts = [
        '<div id="content-main">\n<ul class="object-tools"><li>'
        f'<a href="{html.escape(kept(history))}" '
        f'class="historylink">{history_word}</a></li></ul>\n',
        moves.get("moves_html", ""),
        moves.get("assignment_html", ""),  # who has the case (permits.admin_queues)
        review_extras_html(case, changes, flags, request, token) if reviewing else "",
        # The change form's own form, which nothing posts (no field, no button): its
        # styles (forms.css) are those of `form .aligned`.
        f'\n<form {action}method="post" id="application_form" novalidate>'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">\n<div>\n',
        *fieldsets,
        *(section.html(last=index == len(sections) - 1)
          for index, section in enumerate(sections)),
        f'\n<div class="submit-row">\n<a href="{html.escape(kept(changelist))}" '
        f'class="closelink">{close}</a>\n</div>\n</div>\n</form></div>',
    ]
    if moves.get("moves"):
        parts.append('\n<p class="review-moves-back"><a href="#review-moves">'
                     f'{back} ↑</a></p>')
    home = fixed_url("admin:index", site)
    app = fixed_url("admin:app_list", site, app_label=opts.app_label)
    breadcrumbs = (
        f'<div class="breadcrumbs">\n<a href="{html.escape(home)}">'
        f'{home_word}</a>\n&rsaquo; <a href="{html.escape(app)}">'
        f"{app_name}</a>\n&rsaquo; "
        f'<a href="{html.escape(changelist)}">{plural}'
        f"</a>\n&rsaquo; {_escaped(_truncated(str(case)))}\n</div>")
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "subtitle": str(case),
        "object_id": str(case.pk),
        "original": case,
        "opts": opts,
        "app_label": opts.app_label,
        "preserved_filters": preserved,
        "csrf_token": token,  # the one mask for the page's forms (the logout's, idle's)
        "has_view_permission": True,
        "has_change_permission": False,
        **moves,
        "inlines": [section.inline for section in sections],
        "fieldsets": fieldsets,
        "breadcrumbs": mark_safe(breadcrumbs),  # noqa: S308 (escaped above)
        "content": mark_safe("".join(parts)),  # noqa: S308 (every value escaped)
        **(extra_context or {}),
    }
    # The frame drawn once per process and kind of page, the request's values put in it.
    return admin_frame.framed(request, TEMPLATE, context)


def _page_words(opts):
    """The page's fixed words for the model of `opts`, made once a language and process
    (a gettext and an escape each, or a lazy name cast, on every page): the links' words
    and the breadcrumbs' names escaped, and the title (as text: the frame escapes it)."""
    made = _PAGE_WORDS()
    words = made.get(opts)
    if words is None:
        words = made[opts] = (
            html.escape(gettext("History")), html.escape(gettext("Close")),
            html.escape(gettext("Back to the moves")), html.escape(gettext("Home")),
            _escaped(opts.app_config.verbose_name),
            _escaped(capfirst(opts.verbose_name_plural)),
            gettext("View %s") % opts.verbose_name)
    return words


# {model's options or (inline class, "heading"): its words} for the language in force
_PAGE_WORDS = per_language(dict)


def _truncated(text):
    """Truncator(text).words(18), the breadcrumbs' last part: the text's words joined by
    a space where there are no more than 18 (what words() gives them), without making a
    Truncator."""
    words = text.split()
    return " ".join(words) if len(words) <= 18 else Truncator(text).words(18)


def _heading(inline):
    """The escaped heading of `inline`'s table, capfirst(verbose_name_plural), once a
    language and inline class while its verbose_name_plural is the same object."""
    made = _PAGE_WORDS()
    key = (type(inline), "heading")
    title = inline.verbose_name_plural
    kept = made.get(key)
    if kept is None or kept[0] is not title:
        kept = made[key] = (title, _escaped(capfirst(title)))
    return kept[1]


# --- The case's data ---------------------------------------------------------------------


def _fieldsets(model_admin, request, case):
    """The HTML of each fieldset of the case's data, as the change form draws a fieldset
    whose every field is read-only (admin/includes/fieldset.html, AdminReadonlyField), or
    None for a field this does not draw. What does not depend on the case (the headings,
    labels, help texts) is made once per process and language (_drawn_fieldsets)."""
    fieldsets = _fieldsets_of(model_admin, request, case)[1]
    key = (model_admin, fieldsets, get_language())
    drawn = _FIELDSETS.get(key)
    if drawn is None:
        drawn = _drawn_fieldsets(model_admin, fieldsets)
        if drawn is not None:  # each run of text one string: a part to join, a call less
            drawn = [[part for is_text, run in itertools.groupby(parts, key=_is_text)
                      for part in (("".join(run),) if is_text else run)] for parts in drawn]
        _FIELDSETS[key] = drawn
    if drawn is None:
        return None
    return [mark_safe("".join(  # noqa: S308 (escaped by _drawn_fieldsets and the cells)
        [part if type(part) is str else part(case) for part in parts])) for parts in drawn]


def _is_text(part):
    return type(part) is str


# {(model admin, its fieldsets, language): _drawn_fieldsets()}
_FIELDSETS = {}


def _fieldsets_of(admin_, request, case):
    """(admin_.get_fieldsets(request, case), the same as tuples: (name, fields, classes,
    description) each, its lines tuples). Kept per class where they are its declarations
    (_declares_fieldsets: PortalDisplayMixin's, every field read-only whoever asks, its
    `fieldsets` or `fields` declared), which the request and the case do not change;
    building them again (each name through shown()) cost the page about 0.1 ms."""
    kind = type(admin_)
    kept = _DECLARED.get(kind)
    if kept is not None and kept[0] is admin_.fieldsets and kept[1] is admin_.fields:
        return kept[2]
    fieldsets = admin_.get_fieldsets(request, case)
    found = (fieldsets, tuple(
        (name, tuple(tuple(line) if isinstance(line, list | tuple) else line
                     for line in options["fields"]),
         tuple(options.get("classes", ())), options.get("description"))
        for name, options in fieldsets))
    if (_declares_fieldsets(kind) and getattr(admin_, "read_only", False) is True
            and (admin_.fieldsets or admin_.fields)):
        _DECLARED[kind] = (admin_.fieldsets, admin_.fields, found)
    return found


# {admin class: (its fieldsets, its fields, _fieldsets_of())}
_DECLARED = {}


@functools.cache
def _declares_fieldsets(kind):
    """Whether admin class `kind` gives its fieldsets as PortalDisplayMixin does from
    Django's BaseModelAdmin: its declared `fieldsets`, or its declared `fields`, each
    name as shown() shows it, and none narrowed by the user where it is read_only."""
    if not (issubclass(kind, PortalDisplayMixin)
            and kind.get_fieldsets is PortalDisplayMixin.get_fieldsets
            and kind.get_fields is PortalDisplayMixin.get_fields
            and kind._shown_names is PortalDisplayMixin._shown_names
            and kind._as_shown is PortalDisplayMixin._as_shown):
        return False
    after = kind.__mro__[kind.__mro__.index(PortalDisplayMixin) + 1:]

    def parents(name):
        return next((base.__dict__[name] for base in after if name in base.__dict__), None)

    return (parents("get_fieldsets") is BaseModelAdmin.get_fieldsets
            and parents("get_fields") is BaseModelAdmin.get_fields)


def _drawn_fieldsets(model_admin, fieldsets):
    """Each fieldset as a list of HTML (str) and functions of the case giving a field's
    HTML, or None for a field that _readonly_cell() does not draw."""
    empty = model_admin.get_empty_value_display()
    suffix = _escaped(gettext(":"))  # a form's label_suffix
    result = []
    for index, (name, lines, classes, description) in enumerate(fieldsets):
        heading = f"fieldset-0-{index}-heading"  # change_form.html's prefix and ids
        classes = " ".join(classes)
        collapsible = bool(name) and "collapse" in classes.split()
        parts = [f'<fieldset class="module aligned {classes}"'
                 + (f' aria-labelledby="{heading}">' if name else ">")]
        if name:
            parts.append(("<details><summary>" if collapsible else "")
                         + f'<h2 id="{heading}" class="fieldset-heading">{_escaped(name)}'
                         + "</h2>" + ("</summary>" if collapsible else ""))
        if description:
            parts.append(f'<div class="description">{description}</div>')
        for line in lines:
            cells = [_field(model_admin, field, empty)
                     for field in (line if isinstance(line, tuple) else (line,))]
            if None in cells:
                return None
            single = len(cells) == 1
            parts.append('<div class="form-row' + "".join(f" field-{css}" for css, *_ in cells
                                                          if css)
                         + '">' + ("" if single else '<div class="flex-container form-multiline">'))
            for position, (css, label, help_text, contents) in enumerate(cells):
                box = "" if single else " fieldBox" + (f" field-{css}" if css else "")
                label_class = "" if position == 0 else ' class="inline"'
                parts += [f'<div><div class="flex-container{box}"><label{label_class}>'
                          f'{_escaped(capfirst(label))}{suffix}</label><div class="readonly">',
                          contents, "</div></div>"]
                if help_text:
                    parts.append(f'<div class="help"><div>{help_text}</div></div>')
                parts.append("</div>")
            parts.append(("" if single else "</div>") + "</div>")
        parts.append(("</details>" if collapsible else "") + "</fieldset>")
        result.append(parts)
    return result


@functools.cache
def _field(model_admin, field, empty):
    """(CSS name, label, help text, function of the case giving its HTML) of a field of the
    change form, as AdminReadonlyField shows it; None for one that _readonly_cell() does not
    draw."""
    cell = _readonly_cell(model_admin, field, empty)
    if cell is None:
        return None
    name, contents = cell
    model = model_admin.model
    return (name, label_for_field(field, model, model_admin), help_text_for_field(name, model),
            contents)


# --- The tables and the procedures' panels -------------------------------------------------


def _sections(model_admin, request, case):
    """A Section of each inline the user may see, with the formset prefix Django gives it, in
    Django's order; None if one of them is not drawn here."""
    sections, prefixes = [], {}
    own = type(model_admin).get_inline_instances is ModelAdmin.get_inline_instances
    for inline in _inline_instances(model_admin, request, case):
        if not isinstance(inline, ReadOnlyInline):
            return None

        fk = _foreign_key(type(case), inline.model, inline.fk_name)
        prefix = fk.remote_field.get_accessor_name(model=inline.model).replace("+", "")
        prefixes[prefix] = prefixes.get(prefix, 0) + 1
        if prefixes[prefix] != 1 or not prefix:
            prefix = f"{prefix}-{prefixes[prefix]}"
        # Listed by _inline_instances() for the view permission it asked (a ReadOnlyInline
        # may not add or delete): get_queryset() would ask it again.
        section = Section(inline, fk, prefix, request, case,
                          viewed=own and _views_as_django(type(inline)))
        if not section.drawable:
            return None
        sections.append(section)
    return sections


def _inline_instances(model_admin, request, case):
    """model_admin.get_inline_instances(request, case): Django's, but each inline made once
    per process (an inline's __init__ deep-copied the admin's form field defaults, five
    times a page) where the model admin does not make them its own way; nothing here sets
    anything on them (Django's sets max_num, for formsets this page does not make)."""
    if type(model_admin).get_inline_instances is not ModelAdmin.get_inline_instances:
        return model_admin.get_inline_instances(request, case)
    inlines = []
    for inline_class in model_admin.get_inlines(request, case):
        inline = _inline(inline_class, model_admin.model, model_admin.admin_site)
        if (inline.has_view_or_change_permission(request, case)
                or inline.has_add_permission(request, case)
                or inline.has_delete_permission(request, case)):
            inlines.append(inline)
    return inlines


@functools.cache
def _inline(inline_class, model, admin_site):
    return inline_class(model, admin_site)


def _inline_queryset(inline, request, *, viewed=False):
    """inline.get_queryset(request). Where the inline makes it as ReadOnlyInline does (its
    model's manager's rows, in its ordering, with its select_related(), none for a user who
    may not view them: Django's InlineModelAdmin.get_queryset), it depends on the request
    only through that permission: made once per class and answer (building it through the
    ORM, five a page, cost more than asking the permission). Never evaluated: the page reads
    the rows by its compiled query (inline_rows), or by a filter() of it, a copy. `viewed`:
    the user is known to have that permission (_sections)."""
    kind, manager = type(inline), inline.model._default_manager
    if (kind.get_queryset is not ReadOnlyInline.get_queryset
            or kind.get_ordering is not BaseModelAdmin.get_ordering
            or type(manager).get_queryset is not BaseManager.get_queryset or manager._db
            or manager._hints):
        return inline.get_queryset(request)
    key = (kind, viewed or bool(inline.has_view_or_change_permission(request)))
    queryset = _QUERYSETS.get(key)
    if queryset is None:
        queryset = _QUERYSETS[key] = inline.get_queryset(request)
    return queryset


# {(inline class, whether the user may view its rows): its queryset}
_QUERYSETS = {}


@functools.cache
def _views_as_django(kind):
    """Whether inline class `kind` answers its permissions as Django's InlineModelAdmin and
    ReadOnlyInline do: its view permission the same with or without a case (Django asks the
    user's model permission), no change, add or delete."""
    return (kind.has_view_or_change_permission is BaseModelAdmin.has_view_or_change_permission
            and kind.has_view_permission is InlineModelAdmin.has_view_permission
            and kind.has_change_permission is ReadOnlyInline.has_change_permission
            and kind.has_add_permission is ReadOnlyInline.has_add_permission
            and kind.has_delete_permission is ReadOnlyInline.has_delete_permission)


@functools.cache
def _foreign_key(parent, model, fk_name):
    return _get_foreign_key(parent, model, fk_name=fk_name)


def _read(sections, case, request, *, flags=False, rules=False, people=False, events=False):
    """The rows of every table (Section.calls, Section.take) and the parts of the cases
    beside the case that the procedure's hooks read (Procedure.related_parts: a change's
    original items and parties, which SHTC-9 compares), in one round trip
    (permits.prepared.together); a table whose rows Django's queryset reads, alone. With
    `flags`, the case's risk flags in the same round trip: returned ([RiskFlag]), else
    None; with `rules`, the working-day clock's rules, kept for the request (workdays.rules_for)
    unless it has them; with `people`, the reviewers and the case's assignee, kept for it
    too (admin_queues.assignment_html); with `events`, the case's internal history
    (permits.review_notes), put in place as case.review_events."""
    from permits.views import CASE_PARTS, _related_cases

    related = _related_cases(case, procedures.get(case.document_type))
    # A procedure comparing the case's items with another case's reads them all: the page
    # lists its page of them from those.
    all_items = any("items" in names for _case, names in related)
    calls, takers = [], []
    for section in sections:
        wanted = section.calls(request, all_items=all_items)
        takers.append((section, len(calls), len(wanted)))
        calls += wanted
    rows = [(other, fk) for other, _names in related for fk in _one_rows(other)]
    for other, names in related:
        calls += [(CASE_PARTS[name], {"application": other.pk}) for name in names]
    calls += [(_one_row_query(fk), {"case": other.pk}) for other, fk in rows]
    rules = rules and getattr(request, "_workday_rules", None) is None
    if rules:  # those the process keeps if current (no query), else read here
        kept, token = workdays.kept_rules()
        if kept is not None:
            request._workday_rules, rules = kept, False
        else:
            calls.append((workdays.RULES_QUERY, {}))
    if flags:
        from shtc.review import RISK_FLAGS_QUERY

        calls.append((RISK_FLAGS_QUERY, {"case": case.pk}))
    # A reviewer's page: the reviewers and the case's assignee (admin_queues.assignment_html).
    people = people and getattr(request, "_case_people", None) is None
    if people:
        calls.append((admin_queues.PEOPLE_QUERY, {"assignee": case.assignee_id or 0}))
    if events:  # the 內部註記 panel's (issue 14, point 5)
        calls.append((review_notes.REVIEW_EVENTS_QUERY, {"case": case.pk}))
    results = together(*calls) if calls else []
    if events:
        in_place(case, "review_events", results.pop())
    if people:
        admin_queues.people_from(results.pop(), request)
    found = results.pop() if flags else None
    if rules:
        workdays.keep_rules(workdays.rules_from(results.pop(), request), token)
    for section, start, count in takers:
        section.take(results[start:start + count])
    results = iter(results[sum(count for _section, _start, count in takers):])
    for other, names in related:
        for name in names:
            in_place(other, name, next(results))
    for other, fk in rows:  # the case's one row of that model, or none
        row = next(iter(next(results)), None)
        fk.remote_field.set_cached_value(other, row)
        if row is not None:
            fk.set_cached_value(row, other)
    return found


def _flagged(case):
    """Whether the case's procedure raises risk flags (SHTC's), which its page shows."""
    from shtc.review import has_risk_flags

    return has_risk_flags(case)


def _history(sections, case):
    """The case's status history as the page's history table read it (oldest first), or
    the case's own rows where the user may not see that table."""
    for section in sections:
        if section.inline.model is StatusChange and section.rows is not None:
            return section.rows
    return case.status_changes.order_by("created_at", "pk")


# --- The working-day clock and the risk flags (issue 14, points 2 and 4) -------------------


def clock_html(clock):
    """The 工作天 section: each stage's working days used of its target, the open stage's due
    date in ROC (permits.workdays.describe), an overdue stage in red and said in words, and
    that the clock stands still while the applicant has the case (補件). Escaped."""
    parts = ['<section class="module case-clock-panel" aria-labelledby="case-clock-heading" '
             'data-testid="case-clock">\n'
             '<h2 id="case-clock-heading">' + _escaped(gettext("Working-day clock"))
             + "</h2>\n"]
    if clock.stages:
        parts.append('<ul class="case-clock-stages">')
        for stage in clock.stages:
            overdue = stage.overdue
            parts.append(
                f'<li class="case-clock-stage{" case-clock-overdue" if overdue else ""}'
                f'{" case-clock-open" if stage.open else ""}" '
                f'data-testid="clock-{html.escape(stage.stage)}">'
                + _escaped(workdays.describe(stage))
                + (' <strong class="case-clock-late">' + _escaped(gettext("overdue"))
                   + "</strong>" if overdue else "") + "</li>")
        parts.append("</ul>\n")
    else:
        parts.append("<p>" + _escaped(gettext("Not yet in the bureau’s hands.")) + "</p>\n")
    if clock.paused:
        parts.append('<p class="case-clock-paused" data-testid="clock-paused">' + _escaped(
            gettext("Paused: the case is with the applicant (補件); working days do not count "
                    "until it is returned.")) + "</p>\n")
    parts.append("</section>\n")
    return "".join(parts)


def review_extras_html(case, history, flags, request, token=None):
    """What a reviewer reads below the moves: the case's working-day clock from its history
    `history` (StatusChange rows, oldest first, as the page read them) and the rules read
    once a request (workdays.rules_for), and for a case whose procedure raises risk flags,
    the 風險標示 panel of `flags` (shtc.review.risk_panel_html, with the forms that record a
    decision on a flag; None: not such a case); then the 內部註記 panel, the case's internal
    history (permits.review_notes: as _read put it in place, else one query). `token`: the
    page's CSRF token, masked once for its forms."""
    clock = workdays.clock(status=case.status, document_type=case.document_type,
                           history=history, rules=workdays.rules_for(request))
    drawn = clock_html(clock)
    if flags is not None:
        from shtc.review import risk_panel_html

        drawn += risk_panel_html(flags, request=request)
    return drawn + review_notes.notes_html(case, review_notes.events_of(case), request,
                                           token=token)


def _one_rows(case):
    """The foreign keys of the one-to-one rows of `case`'s procedure's own inlines
    (Procedure.admin_inlines: SHTC's row) not read with it: a case beside the page's case
    that its hooks read (a change's original, whose SHTC row SHTC-9 compares)."""
    keys = []
    for inline in procedures.get(case.document_type).admin_inlines:
        inline = import_string(inline) if isinstance(inline, str) else inline
        fk = _foreign_key(type(case), inline.model, inline.fk_name)
        if fk.one_to_one and not fk.remote_field.is_cached(case):
            keys.append(fk)
    return keys


@functools.cache
def _one_row_query(fk):
    """The rows of fk's model naming a case (parameter `case`), compiled once."""
    return PreparedInstances(fk.model, lambda case: fk.model._default_manager.filter(
        **{fk.name: case}).order_by(), parameters=("case",), keep_plan=True)


class Section:
    """A ReadOnlyInline on the case page: its panel (panel_html) or its table, drawn as
    admin/edit_inline/read_only_tabular.html draws it (ReadOnlyInlineFormSet's rows). The
    goods items a page at a time (issue 13: permits.item_pages), as on the applicant's case
    page, the count and totals over all of them."""

    def __init__(self, inline, fk, prefix, request, case, *, viewed=False):
        self.inline, self.fk, self.prefix, self.case = inline, fk, prefix, case
        self.request = request
        self.panel = type(inline).panel_html is not ReadOnlyInline.panel_html
        self.rows = None
        self.item_page = None
        if self.panel:
            self.drawable = True
            return
        self.queryset = _inline_queryset(inline, request, viewed=viewed)
        # The goods items: a page at a time.
        self.items = inline.model is Item and fk.name == "application"
        self.columns = _columns(inline, tuple(flatten_fieldsets(
            _fieldsets_of(inline, request, case)[0])))
        self.drawable = (self.columns is not None and not inline.show_change_link
                         and inline.template == ReadOnlyInline.template
                         and not hasattr(inline.model, "get_absolute_url"))

    def calls(self, request, *, all_items=False):
        """The (query, values) that read the table's rows, for together(): those of the
        inline's formset (ReadOnlyFormSet; permits.admin.inline_rows), or of a page of the
        items (item_pages.page_calls) unless `all_items`; none for a panel, a row read with
        the case and a queryset Django reads (take() reads it)."""
        self.how = None
        if self.panel:  # what it reads beyond the case's parts, if anything
            calls = getattr(self.inline, "panel_calls", None)
            return calls(self.case) if calls else []
        fk, case, queryset = self.fk, self.case, self.queryset
        prepared = inline_rows(queryset, fk)
        if prepared is not None and fk.one_to_one and fk.remote_field.is_cached(case):
            self.how = "cached"
            return []
        if prepared is None:
            return []
        self.number = request.GET.get(PAGE_VAR)
        if self.items and not all_items and not queryset.query.select_related:
            self.how, self.guess = "page", item_pages.page_guess(self.number)
            return item_pages.page_calls(case.pk, self.guess)
        self.how = "all"
        return [(prepared, {"case": case.pk})]

    def take(self, results):
        """The table's rows from the results of calls(), as the inline's formset reads them,
        put in the case where they stand for its relation (permits.admin.shares_rows): all
        of them, or a page of the items that is all of them."""
        if self.panel:
            take = getattr(self.inline, "panel_take", None)
            if take:
                take(self.case, results)
            return
        fk, case, queryset, how = self.fk, self.case, self.queryset, self.how
        related = fk.remote_field
        if how == "cached":  # read with the case (permits.admin.case_page_related)
            row = related.get_cached_value(case)
            rows = [] if row is None else [row]
        elif how == "page":
            self.item_page = item_pages.page_from(case, results, self.number, self.guess)
            rows = self.item_page.items
        elif how == "all":
            rows = results[0]
            if self.items:
                self.item_page = item_pages.listed_page(rows, self.number)
        else:  # a narrowed queryset: Django's query, as BaseInlineFormSet narrows it
            rows = queryset.filter(**{fk.name: case})
            rows = list(rows if rows.ordered else rows.order_by(fk.model._meta.pk.name))
        for row in rows:  # each knows its case
            fk.set_cached_value(row, case)
        complete = self.item_page is None or self.item_page.count == len(rows)
        if complete and not fk.one_to_one and shares_rows(case, fk, self.inline, queryset):
            cache = case.__dict__.get("_prefetched_objects_cache", {})
            if related.cache_name not in cache:
                in_place(case, related.get_accessor_name(), rows)
        if self.item_page is not None:
            rows = self.item_page.items
        self.rows = rows

    def html(self, *, last):
        inline, prefix = self.inline, self.prefix
        if self.panel:
            return inline.panel_html(self.case, prefix)
        classes = " ".join(inline.classes) if inline.classes else ""
        collapsible = "collapse" in classes.split()
        # Django's title of a formset whose max_num is 1 (a one-to-one row) is the verbose
        # name; but on a page where the case is not edited, every formset's max_num is 0:
        # the heading is verbose_name_plural's (_heading).
        headers, cells = self.columns
        pages, start = "", 0
        if self.item_page is not None and self.item_page.page.has_other_pages():
            pages = _pages_html(self.item_page, self.request, f"{prefix}-group")
            start = self.item_page.page.start_index() - 1
        return (
            f'\n<div class="inline-group" id="{prefix}-group">\n'
            f'<div class="tabular inline-related {"last-related" if last else ""}">\n'
            f'<fieldset class="module {classes}" aria-labelledby="{prefix}-heading">\n'
            + ("<details><summary>" if collapsible else "")
            + f'<h2 id="{prefix}-heading" class="inline-heading">\n'
            f"{_heading(inline)}\n</h2>\n"
            + ("</summary>" if collapsible else "")
            + pages
            + f'<table>\n<thead><tr>\n<th class="original"></th>\n{headers()}<th></th>\n'
            "</tr></thead>\n<tbody>\n"
            + "\n".join(table_rows(prefix, cells, self.rows, start=start))
            + "\n</tbody>\n</table>\n"
            + ("</details>" if collapsible else "")
            + "</fieldset>\n</div>\n</div>")


def _pages_html(item_page, request, anchor):
    """Which items the table lists of how many, their amounts' totals over all of them, and
    the links to the other pages (as templates/permits/includes/item_pages.html says them
    on the applicant's page), each link keeping the page's other parameters (the list's
    filters)."""
    page = item_page.page
    query = request.GET.copy()

    def link(number, text, attributes=""):
        query[PAGE_VAR] = str(number)
        return (f'<li><a href="?{html.escape(query.urlencode())}#{anchor}"{attributes}>'
                f"{text}</a></li>")

    parts = ['<div class="item-pages" data-testid="item-pages">\n<p id="items-range">'
             '<span data-testid="item-range">' + html.escape(
                 gettext("Items %(first)s–%(last)s of %(total)s") % {
                     "first": item_page.first, "last": item_page.last,
                     "total": item_page.count})
             + '</span> · <span data-testid="item-totals">'
             + html.escape(f'{gettext("Total amount")}: {item_page.totals_text()}')
             + '</span></p>\n<nav aria-label="'
             + html.escape(gettext("Pages of the goods items")) + '"><ul class="item-page-links">']
    if page.has_previous():
        parts.append(link(page.previous_page_number(),
                          html.escape(pgettext("pagination", "Previous")),
                          ' rel="prev" data-testid="items-previous"'))
    for number in item_page.links():
        if number == item_page.ellipsis:
            parts.append(f'<li><span aria-hidden="true">{html.escape(str(number))}</span></li>')
        elif number == page.number:
            parts.append(f'<li><strong aria-current="page">{number}</strong></li>')
        else:
            parts.append(link(number, str(number), ' aria-label="' + html.escape(
                gettext("Page %(n)s") % {"n": number}) + '"'))
    if page.has_next():
        parts.append(link(page.next_page_number(), html.escape(pgettext("pagination", "Next")),
                          ' rel="next" data-testid="items-next"'))
    parts.append("</ul></nav>\n</div>\n")
    return "".join(parts)


# {(inline class, its columns): _columns()}
_COLUMNS = {}


def _columns(inline, names):
    """(function giving the header cells' HTML in the page's language, the cells) of a
    table's columns `names`, or None for one that _readonly_cell() does not draw. Kept per
    inline class and columns (made from the first instance: an inline's labels and displays
    are its class's declarations)."""
    key = (type(inline), names)
    if key not in _COLUMNS:
        _COLUMNS[key] = _made_columns(inline, names)
    return _COLUMNS[key]


def _made_columns(inline, names):
    empty = inline.get_empty_value_display()
    cells = [_readonly_cell(inline, name, empty) for name in names]
    if None in cells:
        return None
    model = inline.model
    columns = [(name if isinstance(name, str) else "",  # a display function: no class
                label_for_field(name, model, inline),
                help_text_for_field(name, model))
               for name in names]
    headers = {}

    def header_html():
        language = get_language()
        drawn = headers.get(language)
        if drawn is None:
            drawn = headers[language] = "".join(
                f'<th class="column-{html.escape(css)}">{_escaped(capfirst(label))}'
                + (f'<img src="{html.escape(static("admin/img/icon-unknown.svg"))}" '
                   f'class="help help-tooltip" width="10" height="10" '
                   f'alt="({html.escape(strip_tags(help_text))})" '
                   f'title="{html.escape(strip_tags(help_text))}">' if help_text else "")
                + "</th>\n" for css, label, help_text in columns)
        return drawn

    return header_html, cells
