"""The reviewers' back office (ACC-5): cases read-only, moves through transition()."""

import datetime
import functools
import html
import operator
import re

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IS_POPUP_VAR, TO_FIELD_VAR, IncorrectLookupParameters
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import (
    display_for_field,
    display_for_value,
    flatten_fieldsets,
    quote,
    unquote,
)
from django.contrib.admin.views.main import (
    ORDER_VAR,
    PAGE_VAR,
    SEARCH_VAR,
    ChangeList,
    ChangeListSearchForm,
)
from django.core.exceptions import (
    FieldDoesNotExist,
    ObjectDoesNotExist,
    PermissionDenied,
    ValidationError,
)
from django.core.paginator import Paginator
from django.core.signals import setting_changed
from django.db import connection, models
from django.db.models.expressions import RawSQL
from django.dispatch import receiver
from django.forms.models import BaseInlineFormSet
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import linebreaksbr
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, path, reverse
from django.utils import formats, timezone, translation
from django.utils.choices import CallableChoiceIterator
from django.utils.functional import Promise, SimpleLazyObject, cached_property
from django.utils.hashable import make_hashable
from django.utils.module_loading import import_string
from django.utils.safestring import SafeData, SafeString, mark_safe
from django.utils.text import capfirst, smart_split, unescape_string_literal
from django.utils.translation import get_language, gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from permits import (
    admin_frame,
    admin_list,
    admin_queues,
    numbering,
    procedures,
    workdays,
    workflow,
)
from permits.fields import (
    format_tariff_code,
    name_field,
    plain_decimal,
    reference_cached,
    reference_rows,
)
from permits.models import (
    Application,
    Attachment,
    Country,
    Currency,
    Item,
    OutboundEmail,
    Party,
    Permit,
    PermitRevocation,
    PermitVersion,
    StatusChange,
)
from permits.prepared import (
    Opaque,
    PreparedInstances,
    PreparedQuery,
    among,
    arrays_supported,
    id_array,
    together,
)
from portal.accounts.identifiers import normalize
from portal.escaping import escaped
from portal.forms import TextRuleMixin
from portal.languages import per_language
from portal.templatetags.roc import roc, roc_datetime, roc_datetime_local

# --- The admin's own pages (issue 10) ---------------------------------------------------------


def lazy_app_list(site):
    """`site.get_app_list()` made when a page reads it. AdminSite.each_context() builds it
    for every admin page (each model's permissions asked, its links reversed, the names
    sorted: 1.5 ms of CPU, a tenth of the case list's), for the navigation sidebar, which
    is off (portal/urls.py); the index and an app's page still list it, as before."""
    if getattr(site.get_app_list, "lazy", False):
        return
    get_app_list = site.get_app_list

    def lazily(request, app_label=None):
        return SimpleLazyObject(lambda: get_app_list(request, app_label))

    lazily.lazy = True
    site.get_app_list = lazily


lazy_app_list(admin.site)


# --- Values as the portal shows them (issue 9, point 17) -------------------------------------


@functools.cache
def shown(model, name):
    """The admin display of `model`'s field `name` as the portal shows it, or None where the
    admin's own display is the portal's: dates in the ROC calendar (115/12/02, times
    115/12/02 14:05 in Taipei), tariff codes with their dots (6307.90.50.31-1), quantities,
    prices and amounts plain (20, 100.55: never 20.0000). One function per field (cached),
    so that the change form recognises the same object among the fields and the read-only
    ones; the list still sorts by the field."""
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if isinstance(field, models.DateTimeField):
        show = roc_datetime
    elif isinstance(field, models.DateField):
        show = roc
    elif isinstance(field, models.DecimalField):
        show = plain_decimal
    elif name == "tariff_code":
        show = format_tariff_code
    else:
        return None

    def display(obj):
        value = getattr(obj, name)
        return admin.site.empty_value_display if value in (None, "") else show(value)

    display.__name__ = name  # the column's CSS class stays field-<name>
    if show is roc_datetime:
        display.datetime_field = name  # for the case list's cells (_datetime_cell)
    return admin.display(description=field.verbose_name, ordering=name)(display)


class PortalDisplayMixin:
    """Shows the dates, tariff codes and numbers of list_display and of the read-only
    fields through shown(). `read_only`: every field of the change page is read-only for
    everyone (then each is shown so); otherwise those the user may not change are."""

    read_only = False

    def _as_shown(self, names, only=None):
        result = []
        for name in names:
            if isinstance(name, str) and (only is None or name in only):
                name = shown(self.model, name) or name
            if name not in result:  # a field and its display function: once
                result.append(name)
        return result

    def _shown_names(self, request, obj):
        """The names shown through shown() on this change page: None for all of them."""
        if self.read_only or (obj is not None and not self.has_change_permission(request,
                                                                                  obj)):
            return None
        return {name for name in super().get_readonly_fields(request, obj)
                if isinstance(name, str)}

    def get_list_display(self, request):
        return self._as_shown(super().get_list_display(request))

    def get_inline_formsets(self, request, formsets, inline_instances, obj=None):
        """On a page where nothing is edited, the read-only inlines as plain tables
        (ReadOnlyInlineFormSet)."""
        inline_formsets = super().get_inline_formsets(request, formsets, inline_instances,
                                                      obj)
        if obj is None or self.has_change_permission(request, obj):
            return inline_formsets  # saved with the page: Django's forms, hidden inputs
        return [ReadOnlyInlineFormSet.adopt(inline_formset)
                for inline_formset in inline_formsets]

    def _create_formsets(self, request, obj, change):
        """Django's, but on a page that only shows (not a POST) without its loop over
        every row of a view-only inline, which built each row's form to mark it valid for
        a save that only a POST makes: a form a row (5 ms of CPU on a case page) that a
        read-only table (ReadOnlyInlineFormSet) never draws, and Django's tabular inline
        builds when it draws them. The same formsets, prefixes and inlines
        (tests/permits/test_admin_list.py compares)."""
        if request.method == "POST":
            return super()._create_formsets(request, obj, change)
        formsets, inline_instances, prefixes = [], [], {}
        for FormSet, inline in self.get_formsets_with_inlines(request,
                                                              *([obj] if change else [])):
            prefix = FormSet.get_default_prefix()
            prefixes[prefix] = prefixes.get(prefix, 0) + 1
            if prefixes[prefix] != 1 or not prefix:
                prefix = f"{prefix}-{prefixes[prefix]}"
            formsets.append(FormSet(**self.get_formset_kwargs(request, obj, inline, prefix)))
            inline_instances.append(inline)
        return formsets, inline_instances

    def get_readonly_fields(self, request, obj=None):
        return self._as_shown(super().get_readonly_fields(request, obj))

    def get_fields(self, request, obj=None):
        return self._as_shown(super().get_fields(request, obj),
                              self._shown_names(request, obj))

    def get_fieldsets(self, request, obj=None):
        only = self._shown_names(request, obj)
        return [(title, {**options, "fields": [
            tuple(self._as_shown(line, only)) if isinstance(line, list | tuple)
            else self._as_shown([line], only)[0] for line in options["fields"]]})
            for title, options in super().get_fieldsets(request, obj)]


class ReadOnlyAdmin(PortalDisplayMixin, admin.ModelAdmin):
    """Rows written only by services (or received from customs): seen, never edited."""

    read_only = True

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# {(model, foreign key, the queryset's shape): PreparedInstances} (see inline_rows)
_INLINE_ROWS = {}


def inline_rows(queryset, fk):
    """A PreparedInstances of the rows of `queryset` (an inline's, all of its model's rows,
    in its order, with its select_related()) whose foreign key `fk` names a case, as
    BaseInlineFormSet narrows and orders them: parameter `case`, the case's key. None for a
    queryset that is more than that (narrowed, annotated, sliced, deferred: the inline's own
    get_queryset(), or a user who may see none) or a key to another column than the case's
    own: Django's queryset reads those."""
    query = queryset.query
    if (query.where or query.annotations or query.extra or query.distinct
            or query.combinator or query.low_mark or query.high_mark is not None
            or query.deferred_loading != (frozenset(), True) or query.is_empty()
            or fk.remote_field.field_name != fk.remote_field.model._meta.pk.name):
        return None
    key = (queryset.model, fk, tuple(map(str, query.order_by)), query.default_ordering,
           repr(query.select_related))
    prepared = _INLINE_ROWS.get(key)
    if prepared is None:
        base = queryset.all()  # a copy: no results kept

        def build(case):
            rows = base.filter(**{fk.name: case})
            return rows if rows.ordered else rows.order_by(base.model._meta.pk.name)

        prepared = _INLINE_ROWS.setdefault(key, PreparedInstances(
            queryset.model, build, parameters=("case",), keep_plan=True))
    return prepared


class ReadOnlyFormSet(BaseInlineFormSet):
    """The formset of a ReadOnlyInline. Django asks a formset for its media and whether it
    takes files from its first row's form, building every row's form for it (forms), and
    builds a new empty form each time it is asked for one (four times an inline on a case
    page), which counts the rows (a query). Every row's form is of one class: here they ask
    one form of it, made once, without the fields the formset adds to each row (a hidden id
    and case, a check box to delete: no media, no file), so without reading the rows. The
    rows' forms are built only where they are drawn (Django's tabular inline); a read-only
    table (ReadOnlyInlineFormSet) draws none, and the SHTC panel no row."""

    def __getitem__(self, index):
        # A template reading `formset.prefix` tries formset["prefix"] first, which built
        # every row's form before failing: a name is no row.
        if isinstance(index, str):
            raise TypeError(f"a formset's rows are numbered, not named ({index!r})")
        return super().__getitem__(index)

    def __init__(self, *args, queryset=None, **kwargs):
        self.inline_queryset = queryset  # the inline's, before the case narrows it
        super().__init__(*args, queryset=queryset, **kwargs)

    def get_queryset(self):
        """Django's queryset of the rows, read (where the inline's queryset is a plain one)
        by a query compiled once per process (inline_rows): building and compiling it cost
        more CPU than PostgreSQL spent answering it, on each table of a case page."""
        if not hasattr(self, "_queryset"):
            queryset = super().get_queryset()
            prepared = inline_rows(self.inline_queryset, self.fk) \
                if self.inline_queryset is not None and self.instance.pk is not None else None
            if prepared is not None:
                rows = prepared.instances(case=self.instance.pk)
                for row in rows:  # each knows its case, which it names
                    self.fk.set_cached_value(row, self.instance)
                queryset._result_cache, queryset._prefetch_done = rows, True
            self._queryset = queryset
        return self._queryset

    @cached_property
    def empty_form(self):
        return super().empty_form

    @cached_property
    def _row_form(self):
        # As empty_form is made, without add_fields().
        return self.form(auto_id=self.auto_id, prefix=self.add_prefix("__prefix__"),
                         empty_permitted=True, use_required_attribute=False,
                         **self.get_form_kwargs(None), renderer=self.renderer)

    def is_multipart(self):
        return self._row_form.is_multipart()

    @property
    def media(self):
        return self._row_form.media


class ReadOnlyInline(PortalDisplayMixin, admin.TabularInline):
    formset = ReadOnlyFormSet
    extra = 0
    can_delete = False
    show_change_link = False
    read_only = True
    # Django's tabular inline, or the table of ReadOnlyInlineFormSet on a page where
    # nothing is edited.
    template = "admin/edit_inline/read_only_tabular.html"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # as can_delete says (Django asked the user's permissions four times)

    # The related rows each line shows (an actor, an uploader), read with the lines rather
    # than one query a line.
    select_related = ()

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        # (select_related() with no names would follow every foreign key)
        return queryset.select_related(*self.select_related) if self.select_related \
            else queryset

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)  # every one, as shown()

    def panel_html(self, case, prefix):
        """The HTML of a procedure's panel that stands for this inline on the reviewers' case
        page (permits.admin_case), instead of a table of its rows: overridden by such an
        inline (shtc.admin.ShtcReviewInline), whose template draws the same on Django's
        change form."""
        raise NotImplementedError


class ReadOnlyInlineFormSet(helpers.InlineAdminFormSet):
    """A ReadOnlyInline on a page where nothing is edited, drawn from `rows` by
    admin/edit_inline/read_only_tabular.html: the cells of Django's tabular inline (as
    AdminReadonlyField.contents() shows them; tests/permits/test_admin_list.py compares),
    without an admin form, a field wrapper and hidden inputs for each row and each cell,
    which cost 2 ms of CPU an inline and a third of one a row."""

    @classmethod
    def adopt(cls, inline_formset):
        """`inline_formset` as one of these if its inline is read-only and every column
        drawable here; else as it is."""
        inline = inline_formset.opts
        if (not isinstance(inline, ReadOnlyInline) or inline.show_change_link
                or hasattr(inline.model, "get_absolute_url")):  # no "View on site" here
            return inline_formset
        empty = inline.get_empty_value_display()
        cells = [_readonly_cell(inline, name, empty)
                 for name in flatten_fieldsets(inline_formset.fieldsets)]
        if None in cells:
            return inline_formset
        inline_formset.__class__ = cls  # the same state, another way to draw it
        inline_formset.cells = cells
        return inline_formset

    def __iter__(self):
        # No admin form a row: nothing in one is edited or prepopulated.
        return iter(())

    @cached_property
    def rows(self):
        return table_rows(self.formset.prefix, self.cells, self.formset.get_queryset())


def table_rows(prefix, cells, rows, start=0):
    """The <tr> of each of `rows` in the table of an inline whose formset's prefix is
    `prefix`, its columns `cells` (_readonly_cell()), as Django's tabular inline draws a
    read-only row (the reviewers' case page draws them too: permits.admin_case, numbering
    a page of rows from `start`)."""
    # A choice column's cells in the page's language, its labels drawn once a process; a
    # date's and a link's with what they look up (the time zone, the script prefix) once a
    # table (in_language(): _readonly_cell, _field_cell).
    language = get_language()
    cells = [(f'<td class="field-{name}"><p>',
              cell.in_language(language) if hasattr(cell, "in_language") else cell)
             for name, cell in cells]
    # SafeString: what mark_safe() makes of a text, without keep_lazy's look at it.
    return [SafeString(  # every value escaped by the cells
        f'<tr class="form-row has_original" id="{prefix}-{index}">'
        f'<td class="original"><p>{html.escape(str(row))}</p></td>'
        + "".join([f"{opening}{cell(row)}</p></td>" for opening, cell in cells])
        + '<td class="delete"></td></tr>')
        for index, row in enumerate(rows, start)]


def _readonly_cell(model_admin, name, empty):
    """(CSS name, function of a row giving its HTML) of a read-only column as
    AdminReadonlyField.contents() shows it, or None for what this does not draw
    (lambdas, yes/no icons, reverse and many-to-many relations, model methods)."""
    opts = model_admin.model._meta
    if callable(name):
        function = name
    else:
        try:
            field = opts.get_field(name)
        except FieldDoesNotExist:
            function = getattr(model_admin, name, None)
            if not callable(function):
                return None
        else:
            if field.many_to_many or not field.concrete:
                return None
            return name, _field_cell(model_admin, field, empty)
    if function.__name__ == "<lambda>" or getattr(function, "boolean", False):
        return None

    def cell(row):
        try:
            value = function(row)
        except (AttributeError, ValueError, ObjectDoesNotExist):
            return _escaped(empty)
        return value.__html__() if hasattr(value, "__html__") else _linebreaksbr(value)

    dated = getattr(function, "datetime_field", None)  # shown()'s display of a timestamp
    if dated is not None:
        def in_language(language):
            """The cell for one table: the time zone looked up once (localtime() looked it
            up for each of the case page's dates); anything but an aware timestamp as cell()
            draws it."""
            zone = timezone.get_current_timezone()

            def dated_cell(row):
                try:
                    value = getattr(row, dated)
                except (AttributeError, ValueError, ObjectDoesNotExist):
                    return cell(row)
                if type(value) is not datetime.datetime or value.utcoffset() is None:
                    return cell(row)
                return html.escape(roc_datetime_local(value.astimezone(zone)))

            return dated_cell

        cell.in_language = in_language
    table_cell = getattr(function, "table_cell", None)  # a display's own cell for one table
    if table_cell is not None:
        cell.in_language = lambda language: table_cell(cell)
    return function.__name__, cell


def _field_cell(model_admin, field, empty):
    related = field.related_model._meta if field.is_relation else None
    site = model_admin.admin_site.name
    # What display_for_field() gives, without its work on each cell: a choice's label from
    # a mapping made once (it made a dict of the choices each time), a plain text as it is.
    labels = dict(make_hashable(field.flatchoices)) if field.choices else None
    if labels is not None and related is None:
        return _choice_cell(field, labels, empty)
    plain = type(field) in (models.CharField, models.TextField) and labels is None
    # A whole number as number_format() prints it where no thousands are grouped: str().
    whole = (labels is None and not settings.USE_THOUSAND_SEPARATOR
             and isinstance(field, models.IntegerField))
    boolean = labels is None and isinstance(field, models.BooleanField)

    def cell(row):
        try:
            value = getattr(row, field.name)
        except (AttributeError, ValueError, ObjectDoesNotExist):
            return _escaped(empty)
        if related is not None and value is not None:  # a link to it, as Django's
            url = change_url(related, value.pk, site)
            shown = str(value) if url is None else \
                mark_safe(f'<a href="{html.escape(url)}">{html.escape(str(value))}</a>')  # noqa: S308
        elif plain:
            shown = empty if value is None or value == "" else value
        elif whole and type(value) is int:
            shown = str(value)
        elif boolean and (value is True or value is False or value is None):
            return _boolean_html(value)
        else:
            shown = display_for_field(value, field, empty)
        return _linebreaksbr(shown)

    if related is not None:
        view = f"admin:{related.app_label}_{related.model_name}_change"

        def in_language(language):
            """The cell for one table: the path of the related rows' change page looked up
            once (keyed_url asked the script prefix for each cell); a row without one, or
            keyed otherwise, as cell() draws it."""
            probe = keyed_url(view, _MARK, site)
            if probe is None:
                return cell
            start, end = (html.escape(part) for part in probe.split(str(_MARK)))

            def linked(row):
                try:
                    value = getattr(row, field.name)
                except (AttributeError, ValueError, ObjectDoesNotExist):
                    return cell(row)
                if value is None or type(value.pk) is not int:
                    return cell(row)
                text = html.escape(str(value))
                if "\n" in text or "\r" in text:
                    return cell(row)
                return f'<a href="{start}{value.pk}{end}">{text}</a>'

            return linked

        cell.in_language = in_language
    return cell


def _boolean_html(value):
    """The cell of a yes/no value as display_for_field() draws it (Django's icon, its
    static() path), drawn once per value and script prefix: static() asked the storage
    for each cell."""
    key = (value, get_script_prefix())
    found = _BOOLEAN_HTML.get(key)
    if found is None:
        from django.contrib.admin.templatetags.admin_list import _boolean_icon

        found = _BOOLEAN_HTML[key] = _linebreaksbr(_boolean_icon(value))
    return found


# {(True, False or None, script prefix): its cell's HTML}; forgotten when the static files'
# settings change (the tests').
_BOOLEAN_HTML = {}


@receiver(setting_changed)
def _static_changed(*, setting, **kwargs):
    if setting in ("STATIC_URL", "STORAGES", "STATICFILES_STORAGE"):
        _BOOLEAN_HTML.clear()


def _choice_cell(field, labels, empty):
    """The cell of a choice column (`labels`: {value: label}): its value's label, or `empty`.
    Its in_language(language) gives the cell with each label's HTML drawn once a process
    for that language (table_rows() asks it once a table): a lazy label cast to text,
    its translation looked up, for each cell was most of a case page's cells' cost."""
    drawn = {}

    def in_language(language):
        shown = drawn.get(language)
        if shown is None:
            with translation.override(language):
                shown = {value: _linebreaksbr(label) for value, label in labels.items()}
                none = _linebreaksbr(empty)
            drawn[language] = shown = (shown, none, _escaped(empty))

        def cell(row, shown=shown):
            labels_html, none, failed = shown
            try:
                value = getattr(row, field.name)
            except (AttributeError, ValueError, ObjectDoesNotExist):
                return failed
            try:
                return labels_html.get(make_hashable(value), none)
            except TypeError:
                return _linebreaksbr(display_for_field(value, field, empty))

        return cell

    def cell(row):
        return in_language(get_language())(row)

    cell.in_language = in_language
    return cell


def _linebreaksbr(value):
    """linebreaksbr(value) (escaped unless safe, its line breaks <br>) as HTML, at once for
    the text without line breaks most cells hold."""
    value = str(value) if isinstance(value, Promise) else value  # (a lazy label; safe stays)
    if isinstance(value, str) and "\n" not in value and "\r" not in value:
        return value.__html__() if isinstance(value, SafeData) else html.escape(value)
    return _escaped(linebreaksbr(value))


def change_url(opts, pk, site):
    """reverse("admin:<app>_<model>_change", args=[quote(pk)]) of admin site `site`, or None
    where that model has no admin page (keyed_url)."""
    return keyed_url(f"admin:{opts.app_label}_{opts.model_name}_change",
                     pk if isinstance(pk, int) else quote(pk), site)


# A key no URL holds otherwise, reversed in place of a row's (keyed_url).
_MARK = 918_273_646
# {(view name, admin site, script prefix, URL configuration): (the path before the key, after
# it) or ()}
_KEYED_PATHS = {}


def keyed_url(name, key, current_app=None):
    """reverse(name, args=[key], current_app=current_app), or None where it does not
    reverse: for an integer key the path reversed once per view (reversing it for each
    row, and failing for each row where there is none, cost more than the rest of a cell
    of the reviewers' tables)."""
    if not isinstance(key, int) or isinstance(key, bool):
        try:
            return reverse(name, args=[key], current_app=current_app)
        except NoReverseMatch:
            return None
    parts = keyed_parts(name, current_app)
    return f"{parts[0]}{key}{parts[1]}" if parts else None


def keyed_parts(name, current_app=None):
    """The path of the view `name` for an integer key as (before the key, after it), or ()
    where it does not reverse: reversed once per view, script prefix and URL
    configuration (keyed_url)."""
    cache_key = (name, current_app, get_script_prefix(), get_urlconf())
    parts = _KEYED_PATHS.get(cache_key)
    if parts is None:
        try:
            parts = tuple(reverse(name, args=[_MARK], current_app=current_app).split(
                str(_MARK)))
        except NoReverseMatch:
            parts = ()
        _KEYED_PATHS[cache_key] = parts
    return parts


# {(view name, admin site, its keyword arguments, script prefix, URL configuration): its path}
_FIXED_PATHS = {}


def fixed_url(name, current_app=None, **kwargs):
    """reverse(name, kwargs=kwargs, current_app=current_app) of a view whose arguments are
    the same on every request (none, or an app's label), reversed once per process, script
    prefix and URL configuration (the case page's links: a reverse() each, fourteen a page,
    was a twentieth of its own CPU)."""
    cache_key = (name, current_app, tuple(sorted(kwargs.items())), get_script_prefix(),
                 get_urlconf())
    found = _FIXED_PATHS.get(cache_key)
    if found is None:
        found = _FIXED_PATHS[cache_key] = reverse(name, kwargs=kwargs or None,
                                                  current_app=current_app)
    return found


class ItemInline(ReadOnlyInline):
    model = Item
    fields = ("line_no", "tariff_code", "description", "control_no", "category", "quantity",
              "unit", "unit_price", "currency", "amount", "origin_country")


class AttachmentInline(ReadOnlyInline):
    model = Attachment
    fields = ("download", "document_kind", "content_type", "size", "uploaded_by",
              "uploaded_at")
    select_related = ("uploaded_by",)

    @admin.display(description=_("file name"))
    def download(self, obj):
        # format_html()'s HTML, written out (a case page draws several).
        return mark_safe(  # noqa: S308 (escaped)
            f'<a href="{_escaped(keyed_url("permits:attachment_download", obj.pk))}">'
            f"{_escaped(obj.original_name)}</a>")

    def _download_cells(cell):
        """download()'s cell for one table (table_rows: _readonly_cell's in_language): the
        path of the download looked up once (keyed_url asked the script prefix, mark_safe
        looked at its argument, for each row); a row keyed otherwise as `cell` draws it."""
        parts = keyed_parts("permits:attachment_download")
        if not parts:
            return cell
        start, end = (_escaped(part) for part in parts)

        def download_cell(row):
            pk = row.pk
            if type(pk) is not int:
                return cell(row)
            try:
                name = row.original_name
            except AttributeError:
                return cell(row)
            return f'<a href="{start}{pk}{end}">{_escaped(name)}</a>'

        return download_cell

    download.table_cell = _download_cells
    del _download_cells


class PartyInline(ReadOnlyInline):
    """買方 / 收貨人 / 最終使用者, for the procedures that ask for them (SHTC-15)."""

    model = Party
    fields = ("role", "name", "address", "country", "name_zh", "same_as_buyer")


class StatusChangeInline(ReadOnlyInline):
    model = StatusChange
    fields = ("created_at", "old", "new", "actor", "note")
    select_related = ("actor",)
    ordering = ("created_at", "pk")


def share_rows(case, formsets, inline_instances):
    """Put the rows of each read-only inline that lists all of the case's rows of a model
    (its own queryset, not narrowed) where prefetch_related puts them: then
    `case.items.all()` and the like (the procedures' hooks on the case page) read the rows
    the inline reads, once, instead of a query each. Only for the relations not already
    read (prefetched) and only from ReadOnlyInline's own get_queryset(): an inline that
    narrows its rows (or orders them its own way) does not stand for the relation."""
    cache = case.__dict__.setdefault("_prefetched_objects_cache", {})
    for formset, inline in zip(formsets, inline_instances, strict=True):
        fk = getattr(formset, "fk", None)
        if not shares_rows(case, fk, inline, formset.queryset):
            continue
        if fk.remote_field.cache_name not in cache:
            rows = formset.get_queryset()
            # Each row knows its case, as the relation's manager (and prefetch_related) says.
            rows._known_related_objects = {fk: {case.pk: case}}
            cache[fk.remote_field.cache_name] = rows


def shares_rows(case, fk, inline, queryset):
    """Whether the rows `inline` reads of `case` through its foreign key `fk` (its queryset
    `queryset`) are all of the case's rows of that relation (see share_rows)."""
    return not (fk is None or fk.one_to_one or not isinstance(case, fk.remote_field.model)
                or not isinstance(inline, ReadOnlyInline) or inline.ordering
                or type(inline).get_queryset is not ReadOnlyInline.get_queryset
                or queryset.query.is_empty())  # (a user who may see none)


# --- The case list at 100,000 cases (issue 10) ---------------------------------------------
# Django's search ORed `UPPER(column) LIKE '%q%'` over six columns joined to the permits,
# which no index serves; the list counted every case twice, and the date drill-down and the
# destination filter read the whole table for their choices. Here each part of the list is
# answered from an index (permits/migrations/0006_admin_search.py, PostgreSQL); on SQLite
# the same queries run without those indexes.

# 收件編號, 登錄編號, 許可證號碼: a letter, the document type, 11 digits (permits.numbering).
NUMBER_RE = re.compile(r"[REP][A-Z]{2}[0-9]{11}")
NUMBER_START_RE = re.compile(r"[REP][A-Z]{0,2}[0-9]{0,10}")
# 統一編號, 身分證字號, resident certificate or passport number (or their beginning).
IDENTIFIER_RE = re.compile(r"[A-Z0-9]{1,20}")
NUMBER_FIELDS = {numbering.RECEIPT: "receipt_no", numbering.REGISTRATION: "registration_no",
                 numbering.PERMIT: "issued_version__permit__permit_no"}
# A shorter part of a name holds no trigram for the index to look up, but the start of a
# name does (the index pads it): shorter words are matched at the start of the name.
NAME_PART_MIN = 3
FEW_FOUND = 1000


def search_words(term):
    """The words of a search, a quoted phrase as one, as Django's own search splits them."""
    for bit in smart_split(term):
        if bit[:1] in ('"', "'") and bit[-1:] == bit[:1]:
            bit = unescape_string_literal(bit)
        if bit.strip():
            yield bit.strip()


def search_branches(word):
    """What `word` may be, as lookups on the cases, each served by an index: a whole number
    finds its case by that number alone; the beginning of a number or an identifier, the
    numbers and the applicants' and agents' identifiers starting so; any word, the
    applicants' names holding it (shorter than NAME_PART_MIN: starting with it)."""
    values = {"code": normalize(word), "word": word}
    return [{lookup: values[which]} for lookup, which in search_shape(word)]


def search_shape(word):
    """search_branches(`word`) as (lookup, "code" or "word"): the lookup and which of the
    word's two forms it takes, the word as typed or as numbers and identifiers are stored
    (ASCII, upper case). Words of one shape make the same SQL (few_found compiles it once)."""
    code = normalize(word)
    if NUMBER_RE.fullmatch(code):
        return ((NUMBER_FIELDS[code[0]], "code"),)
    branches = []
    if NUMBER_START_RE.fullmatch(code):
        branches.append((f"{NUMBER_FIELDS[code[0]]}__startswith", "code"))
    if IDENTIFIER_RE.fullmatch(code):
        branches += [("applicant_identifier__startswith", "code"),
                     ("agent_identifier__startswith", "code")]
    lookup = "icontains" if len(word) >= NAME_PART_MIN else "istartswith"
    return (*branches, (f"applicant_name__{lookup}", "word"))


def case_matches(word, *, newest=None, branches=None):
    """The ids of the cases `word` finds: its branches, each read from its own index,
    joined by UNION ALL (a case may come twice). With `newest`, at most so many of each
    branch: of a number or an identifier, the first so many of its index's range (which
    holds the ids: migration 0009, an index-only scan); of a name, the newest: a name that
    finds many then walks the cases from the newest and soon has them, where PostgreSQL's
    plan for "any so many" read the table from its oldest rows (and the new cases, the
    ones looked for, are the last). Newest first, an identifier's 5,000 cases had walked
    20,000 cases backwards (7 ms). `branches`: search_branches(word) given."""
    branches = [(Application.objects.filter(**branch).values_list("pk", flat=True),
                 any(name.startswith("applicant_name__") for name in branch))
                for branch in (search_branches(word) if branches is None else branches)]
    branches = ([(branch.order_by("-pk") if by_name else branch.order_by())[:newest]
                 for branch, by_name in branches] if newest
                else [branch.order_by() for branch, _by_name in branches])
    if newest and not connection.features.supports_slicing_ordering_in_compound:
        # SQLite (the embedded default) takes no LIMIT inside a UNION: one query a branch.
        return [pk for branch in branches for pk in branch]
    first, *rest = branches
    return first.union(*rest, all=True) if rest else first


def case_search(queryset, term):
    """`queryset` narrowed by each word of `term` to the cases it finds. A word that finds
    few cases (FEW_FOUND) names them, and the list sorts those few. One that finds more is
    asked of every case of the list in its order (an OR of its branches), which soon fills
    a page: PostgreSQL cannot tell these two apart by its estimates, and chose to walk the
    whole list for a few cases or to sort thousands for a page."""
    for word in search_words(term):
        found, branches = _probed(word)
        if found is not None:
            queryset = queryset.filter(among("pk", found) if found else models.Q(pk__in=()))
        else:
            queryset = queryset.filter(functools.reduce(
                operator.or_, (models.Q(**branch) for branch in branches)))
    return queryset


def few_found(word):
    """The ids of the cases `word` finds (case_matches) if they are at most FEW_FOUND, or
    None. On PostgreSQL counted there, the ids coming back as one array: reading and
    counting the up to 3,003 ids of the branches here cost more than the query. The query
    is compiled once per shape of word (_probe): Django's compiling of the union of three
    branches cost a millisecond of CPU, more than PostgreSQL's answer."""
    return _probed(word)[0]


def _probed(word):
    """(few_found(word), None), or (None, the branches that find many) when `word` finds
    more than FEW_FOUND: search_branches(word), on PostgreSQL only those the probe found
    cases by (at the same moment as the cases it names when they are few), an applicant's
    identifier's beginning that is one whole identifier as that identifier (`=`, which
    application_identifier_status, 0015, reads in the list's order within a status: the
    list of an applicant with 5,006 cases walked 1,841 cases of the list to fill a page)."""
    if not arrays_supported():
        found = set(case_matches(word, newest=FEW_FOUND + 1))
        return ((found, None) if len(found) <= FEW_FOUND else (None, search_branches(word)))
    shape = search_shape(word)
    values = {"code": normalize(word), "word": word}
    # Its plan kept for a word of digits (an identifier's or its beginning), which no
    # branch finds more of by its plan: a word of letters may be in thousands of names,
    # which PostgreSQL reads newest first when it sees the word, and sorted otherwise.
    probe = _probe(shape, FEW_FOUND, kept=values["code"].isdigit())
    ((count, ids, tags),) = probe.rows(**{name: values[name] for name in probe.parameters})
    # (None, None, None) when it finds none
    if count is not None and count > FEW_FOUND:
        branches = [{(_APPLICANT_ID if lookup == _APPLICANT_ID_START and not tags & _LONGER
                      else lookup): values[which]}
                    for place, (lookup, which) in enumerate(shape, 1) if tags >> place & 1]
        return None, branches
    return ids or [], None


_APPLICANT_ID, _APPLICANT_ID_START = "applicant_identifier", "applicant_identifier__startswith"
# The probe's tag of the cases whose applicant's identifier starts with the word and is longer
# (bit 0; a branch's tag is the bit of its place in the word's shape, from 1).
_LONGER = 1
_PROBES = {}


def _probe(shape, few, *, kept=False):
    """The PreparedQuery of few_found() for words of `shape` (search_shape): the branches'
    union (case_matches, the words' patterns bound as Django binds them), wrapped in a
    count (of the cases, or of the rows read where one branch found more than `few`) and
    the ids as one array, the ids only when they are at most `few`, and the tags
    of the branches that found any, ORed (_probed(): the bit of each one's place in
    `shape`, and _LONGER for an applicant's identifier longer than the word, one index
    entry more read). `kept`: its
    plan kept (keep_plan), for words whose every branch is best read from its index
    whatever the word: the beginnings of numbers and identifiers read as a range of their
    index (Prefix: those words are letters and digits), every value hidden from the
    planner (as permits.prepared.Opaque), so that PostgreSQL costs the plan it keeps as
    those made with the values, and keeps it (0.6 ms of the server's CPU less a search)."""
    probe = _PROBES.get((shape, few, kept))
    if probe is None:
        def build(**values):
            branches = [({lookup.replace("__startswith", "__prefix") if kept else lookup:
                          values[which]}, 1 << place)
                        for place, (lookup, which) in enumerate(shape, 1)]
            if any(lookup == _APPLICANT_ID_START for lookup, _which in shape):
                branches.append(({f"{_APPLICANT_ID}__longer": values["code"]}, _LONGER))
            cases = []
            for branch, tag in branches:  # (as case_matches(newest=few + 1) reads them)
                found = Application.objects.filter(**branch).annotate(
                    tag=RawSQL(f"{tag:d}", (), output_field=models.IntegerField()),  # noqa: S611
                ).values_list("pk", "tag")
                cases.append(found.order_by()[:1] if tag == _LONGER
                             else found.order_by("-pk")[:few + 1]
                             if any(name.startswith("applicant_name__") for name in branch)
                             else found.order_by()[:few + 1])
            first, *rest = cases
            return first.union(*rest, all=True) if rest else first

        def wrap(sql):
            # One pass over the branches' rows (`sql`, Django's, compiled): each branch's
            # rows counted (a case at most once in a branch), the branches that found any as
            # the bits of their tags, the ids. A branch that found more than `few` says so
            # without more (its rows counted); otherwise a case that two branches find
            # counts once (grouped, of the few ids read, where more than one branch found
            # any). Grouping every row by its case first cost the server a third of the
            # probe: an identifier's 1,001 entries in 1,001 groups (bench/README.md, Stop 26
            # (search probe)).
            if kept:
                sql = re.sub(r"%[%s]", lambda found: "(SELECT %s)" if found.group() == "%s"
                             else "%%", sql)
            limit = int(few)
            most = ", ".join(f"SUM((tag = {1 << place:d})::int)"
                             for place in range(1, len(shape) + 1))
            read = (f"SELECT GREATEST({most}), "  # noqa: S608
                    f"ARRAY_AGG(pk) FILTER (WHERE tag <> {_LONGER:d}), BIT_OR(tag) "
                    f"FROM ({sql}) AS b(pk, tag)")
            branches = f"(tags & ~{_LONGER:d})"  # one bit: a single branch found any
            ids = (f"SELECT CASE WHEN most > {limit} OR {branches} & ({branches} - 1) = 0 "  # noqa: S608
                   f"THEN ids ELSE (SELECT ARRAY_AGG(pk) FROM (SELECT pk FROM UNNEST(ids) "
                   f"AS u(pk) GROUP BY pk) AS g) END, tags FROM ({read}) AS a(most, ids, tags)")
            size = "CARDINALITY(ids)"
            return (f"SELECT {size}, CASE WHEN {size} <= {limit} THEN ids END, tags "  # noqa: S608
                    f"FROM ({ids}) AS c(ids, tags)")

        names = sorted({which for _lookup, which in shape})
        probe = _PROBES[(shape, few, kept)] = PreparedQuery(
            build, parameters=names, kinds=dict.fromkeys(names, str), wrap=wrap,
            keep_plan=kept)
    return probe


class PageAheadPaginator(Paginator):
    """Reads the page asked for and one case more, and counts no further: counting 100,000
    cases read them all, and a COUNT of what a search or a filter finds may read as many
    (more than a page of them). The list then says "more than" the cases up to this page
    and offers the next page; a reviewer narrows it by the filters and the search.
    CaseChangeList shows the rows read here."""

    more = False

    def __init__(self, object_list, per_page, *, number=1, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.number = max(number, 1)  # page() still refuses 0 and below

    @cached_property
    def rows(self):
        """The cases of page `number` and, if there is one, the first of the next page."""
        offset = (self.number - 1) * self.per_page
        if isinstance(self.object_list, models.QuerySet):
            return admin_list.page_rows(self.object_list, offset, self.per_page + 1)
        return list(self.object_list[offset:offset + self.per_page + 1])

    @cached_property
    def count(self):
        rows = self.rows
        self.more = len(rows) > self.per_page
        return (self.number - 1) * self.per_page + len(rows)

    @property
    def shown_to(self):
        """How many cases the list holds up to the end of this page."""
        return min(self.count, self.number * self.per_page)

    def page(self, number):
        number = self.validate_number(number)
        if number == self.number:
            return self._get_page(self.rows[:self.per_page], number, self)
        return super().page(number)


class _Searched:
    """What ChangeList reads of its search form (search_term_form()) that took the search."""

    def __init__(self, term):
        self.cleaned_data = {SEARCH_VAR: term}

    def is_valid(self):
        return True


def search_term_form(data):
    """ChangeList's search form of the query string `data` (ChangeListSearchForm), without
    a form where it takes the search: its one field, CharField(required=False, strip=False),
    gives the text as it is ("" for none) and refuses a NUL alone (ProhibitNullCharacters-
    Validator), for which Django's form is made (its message). Making the form copied its
    fields and made its field anew on every page."""
    term = data.get(SEARCH_VAR)
    if term is not None and (type(term) is not str or "\x00" in term):
        return ChangeListSearchForm(data)
    return _Searched(term or "")


class CaseChangeList(ChangeList):
    search_form_class = staticmethod(search_term_form)

    def get_queryset(self, request, exclude_parameters=None):
        # A forged filter the list cannot read is refused as Django refuses an unknown one
        # (the list redirects to ?e=1, the export goes back with a message): a NUL, which
        # PostgreSQL refuses in a parameter, and a drill-down year past datetime's, whose
        # OverflowError Django's ChangeList does not catch (both were 500s).
        if any("\x00" in part for name, values in self.filter_params.items()
               for part in (name, *values)):
            raise IncorrectLookupParameters("a NUL in the query string")
        try:
            queryset = super().get_queryset(request, exclude_parameters)
        except OverflowError as error:
            raise IncorrectLookupParameters(error) from error
        # Only the columns the list shows (list_fields): a case has thirty, each converted
        # on each row. A display that read another would cost a query a row, which
        # tests/permits/test_admin_list.py would see.
        fields = getattr(self.model_admin, "list_fields", None)
        return queryset.only(*fields) if fields else queryset

    def get_results(self, request):
        super().get_results(request)
        if not self.multi_page:  # the whole list: the rows the paginator read
            self.result_list = self.paginator.rows
        self.clocks_and_flags(request)

    def clocks_and_flags(self, request):
        """The working-day clock (permits.workdays) and the open risk flags (shtc.risk) of
        the page's cases, for the list's 工作天 and 風險 columns (ApplicationAdmin.working_days,
        .risks): three queries a page whatever its length (the status history, the rules,
        the flags), none for an empty page. On PostgreSQL the history and the flags are read
        by queries compiled once (_page_history, _page_flags: Django compiled each anew,
        half the columns' cost), in one round trip (permits.prepared.together: one query
        logged) with the date drill-down's bounds (_bounds_call), their plans kept; the
        clocks are workdays.clock()'s of those rows. A page read as rows (admin_list.
        PageRows) gets them as the rows' list_clock and list_flags, instances as their
        attributes."""
        cases = self.result_list
        if not cases:
            return
        rules = workdays.rules_for(request)
        if isinstance(cases, admin_list.PageRows):  # the rows, read by position
            rows, (pk_of, status_of, type_of) = cases.rows, (cases.getter(name) for name in (
                self.model._meta.pk.attname, "status", "document_type"))
        else:
            rows, (pk_of, status_of, type_of) = cases, (operator.attrgetter(name) for name in (
                "pk", "status", "document_type"))
        ids = [pk_of(case) for case in rows]
        if arrays_supported():
            # Both in one round trip (together()), and the date drill-down's bounds
            # (_date_range) with them.
            dated = _bounds_call(self)
            array = id_array(ids)  # encoded once for both statements
            changes, open_flags, *bounds = together(
                (_page_history(), {"ids": array}), (_page_flags(), {"ids": array}),
                *([dated] if dated else []))
            if bounds:
                self.bounds_rows = bounds[0]
            clocks = _page_clocks(rows, pk_of, status_of, type_of, changes, rules)
            flags = {}
            for flag in open_flags:
                flags.setdefault(flag.application_id, []).append(flag)
        else:
            from shtc import risk

            clocks = workdays.clocks(cases, rules=rules)
            flags = risk.flags_of(ids)
        if isinstance(cases, admin_list.PageRows):
            cases.annotate("list_clock", [clocks.get(pk) for pk in ids])
            cases.annotate("list_flags", [flags.get(pk, ()) for pk in ids])
            return
        for case in cases:
            case.list_clock = clocks.get(case.pk)
            case.list_flags = flags.get(case.pk, ())

    def get_query_string(self, new_params=None, remove=None):
        """Django's, each text quoted once a page (admin_list.query_string): the links of
        the filters, the columns' sorting and the pages ask for sixty a page."""
        kept = self.__dict__
        return admin_list.query_string(self.filter_params, new_params, remove,
                                       kept.setdefault("quoted", {}),
                                       kept.setdefault("around", {}))

    def get_ordering_field_columns(self):
        """Django's; the columns of the admin's own ordering (no ORDER_VAR) found once per
        process and columns: each page looked each column up for each of its two fields,
        a FieldDoesNotExist raised for each display."""
        if ORDER_VAR in self.params:
            return super().get_ordering_field_columns()
        ordering = self._get_default_ordering()
        key = (type(self.model_admin), self.model, tuple(self.list_display))
        kept = _DEFAULT_COLUMNS.get(key)
        if kept is None or kept[0] is not ordering:
            kept = _DEFAULT_COLUMNS[key] = (ordering, super().get_ordering_field_columns())
        return dict(kept[1])


# {(admin class, model, columns): (the admin's ordering, its columns {index: "asc"/"desc"})}
_DEFAULT_COLUMNS = {}


def _page_clocks(rows, pk_of, status_of, type_of, changes, rules):
    """{case id: workdays.clock()} of the page's cases `rows` (pk_of, status_of, type_of:
    functions of a case) from their status changes `changes` ((case id, new status,
    created_at), oldest first), counted once for the cases that share what clock() reads:
    the status, the document type and each change's new status and day (in the time zone
    in force, the one clock() counts in: the page's clocks are counted inside
    workdays.one_today(), which pins it). A page's cases share a few such shapes (the list's
    newest fifty: 6, 逾期's: 14, a search's 29), and clock() keeps each shape's clock for
    the next pages (given the days, workdays.kept_clock()); the cases that share one share
    its CaseClock (immutable; admin_list.clock_cells writes its cell once)."""
    zone, today = workdays.zone_and_today()
    days = {}  # {case id: [new, day, new, day, ...]}, each change's day read once
    for case_id, new, created_at in changes:
        day = created_at.astimezone(zone).date()
        found = days.get(case_id)
        if found is None:
            days[case_id] = [new, day]
        else:
            found += (new, day)
    clocks, shared = {}, {}
    for case in rows:
        pk, status, document_type = pk_of(case), status_of(case), type_of(case)
        case_days = days.get(pk, ())
        key = (status, document_type, *case_days)
        made = shared.get(key)
        if made is None:
            made = shared[key] = workdays.clock(status=status, document_type=document_type,
                                                rules=rules, today=today, days=case_days)
        clocks[pk] = made
    return clocks


admin_list.SORTED_QUERY_STRINGS.add(CaseChangeList.get_query_string)


@functools.cache
def _page_history():
    """The status changes of the cases `ids` (an array), oldest first, as workdays.clocks()
    reads them."""
    return PreparedQuery(
        lambda ids: StatusChange.objects.filter(among("application_id", ids)).order_by(
            "application_id", "created_at", "pk").values_list(
            "application_id", "new", "created_at"), parameters=("ids",), keep_plan=True)


@functools.cache
def _page_flags():
    """The open risk flags (no decision recorded) of the cases `ids` (an array)."""
    from shtc.models import RiskFlag

    return PreparedInstances(RiskFlag, lambda ids: RiskFlag.objects.filter(
        among("application_id", ids), decided_at__isnull=True).order_by("application_id", "pk"),
        parameters=("ids",), keep_plan=True)


def date_drilldown(cl):
    """Django's date drill-down above the list (the same links and titles), without its
    SELECT DISTINCT over every case for the years, months or days that hold one: it offers
    those from the first to the last case (_date_range), read from the date's index."""
    field = cl.date_hierarchy
    year, month, day = (cl.params.get(f"{field}__{part}") for part in ("year", "month", "day"))

    def link(filters):
        return cl.get_query_string(filters, [f"{field}__"])

    def title(moment, format_name):
        return capfirst(formats.date_format(moment, format_name))

    if year and month and day:
        chosen = datetime.date(int(year), int(month), int(day))
        return {"show": True,
                "back": {"link": link({f"{field}__year": year, f"{field}__month": month}),
                         "title": title(chosen, "YEAR_MONTH_FORMAT")},
                "choices": [{"title": title(chosen, "MONTH_DAY_FORMAT")}]}
    first, last = _date_range(cl)
    # With no date chosen, start at the first level that offers a choice, as Django does.
    if first is not None and not year and first.year == last.year:
        year = first.year
        if first.month == last.month:
            month = first.month
    if year and month:
        days = range(first.day, last.day + 1) if first else ()
        return {"show": True, "back": {"link": link({f"{field}__year": year}),
                                       "title": str(year)},
                "choices": [{"link": link({f"{field}__year": year, f"{field}__month": month,
                                           f"{field}__day": number}),
                             "title": title(datetime.date(int(year), int(month), number),
                                            "MONTH_DAY_FORMAT")} for number in days]}
    if year:
        months = range(first.month, last.month + 1) if first else ()
        return {"show": True, "back": {"link": link({}), "title": _("All dates")},
                "choices": [{"link": link({f"{field}__year": year, f"{field}__month": number}),
                             "title": title(datetime.date(int(year), number, 1),
                                            "YEAR_MONTH_FORMAT")} for number in months]}
    years = range(first.year, last.year + 1) if first else ()
    return {"show": True, "back": None,
            "choices": [{"link": link({f"{field}__year": str(number)}), "title": str(number)}
                        for number in years]}


def _date_range(cl):
    """The first and last date (local time) of every case in the chosen year or month, or
    (None, None): two ends of the date's index, whatever the other filters and the search.
    The first and last of those the list holds could lie anywhere along it, and looking
    for them read most of it."""
    field = cl.date_hierarchy
    bounds = _chosen_bounds(cl)
    if _bounds_prepared(cl):
        # The admin's cases are every case of the model: the query compiled once (_bounds;
        # its rows as the database gives them, which on SQLite are texts), read with the
        # page's clocks and flags where they were (CaseChangeList.clocks_and_flags).
        rows = cl.__dict__.get("bounds_rows")
        if rows is None:
            rows = _bounds(cl.model, field, bool(bounds)).rows(**bounds)
        ((first, last),) = rows
    else:
        cases = cl.root_queryset
        if bounds:
            cases = cases.filter(**{f"{field}__gte": bounds["start"],
                                    f"{field}__lt": bounds["end"]})
        found = cases.aggregate(first=models.Min(field), last=models.Max(field))
        first, last = found["first"], found["last"]
    if first is None:
        return None, None
    return timezone.localtime(first), timezone.localtime(last)


def _chosen_bounds(cl):
    """{"start", "end"}: the instants that begin the chosen year or month and the next, or
    {} for none chosen."""
    field = cl.date_hierarchy
    year, month = (cl.params.get(f"{field}__{part}") for part in ("year", "month"))
    if not year:
        return {}
    start = timezone.make_aware(datetime.datetime(int(year), int(month or 1), 1))
    end = ((start + datetime.timedelta(days=32)).replace(day=1) if month
           else start.replace(year=start.year + 1))
    return {"start": start, "end": end}


def _bounds_prepared(cl):
    """Whether _date_range() reads the bounds through _bounds(): on PostgreSQL, for an
    admin whose cases are every case of its model."""
    return (type(cl.model_admin).get_queryset is admin.ModelAdmin.get_queryset
            and connection.vendor == "postgresql")


def _bounds_call(cl):
    """(_bounds()'s query, its values) that _date_range() will run for the list `cl`, for
    together(), or None: no date drill-down, a day chosen (date_drilldown() reads no
    bounds), or bounds not read through _bounds()."""
    field = cl.date_hierarchy
    if not field or not _bounds_prepared(cl) or all(
            cl.params.get(f"{field}__{part}") for part in ("year", "month", "day")):
        return None
    try:
        bounds = _chosen_bounds(cl)
    except (ValueError, OverflowError):  # (refused where _date_range() reads them)
        return None
    return _bounds(cl.model, field, bool(bounds)), bounds


_BOUNDS = {}


def _bounds(model, field, ranged):
    """The PreparedQuery of the first and last `field` of every `model` (from `start` to
    before `end` when `ranged`): MIN and MAX over the column's rows, which PostgreSQL reads
    as the two ends of its index. Django's aggregate() built and compiled it each time
    (half a millisecond of CPU); the statement's plan is kept, the same for any bounds."""
    key = (model, field, ranged)
    query = _BOUNDS.get(key)
    if query is None:
        def build(**bounds):
            cases = model._default_manager.order_by()
            if ranged:  # (Opaque: the plan kept costed as the plans made with the bounds)
                column = model._meta.get_field(field)
                cases = cases.filter(**{f"{field}__gte": Opaque(bounds["start"], column),
                                        f"{field}__lt": Opaque(bounds["end"], column)})
            return cases.values_list(field)

        names = ("start", "end") if ranged else ()
        query = _BOUNDS[key] = PreparedQuery(
            build, parameters=names, kinds=dict.fromkeys(names, datetime.datetime),
            keep_plan=True, wrap=lambda sql: f"SELECT MIN(d), MAX(d) FROM ({sql}) AS r(d)")  # noqa: S608
    return query


def case_result_list(cl):
    """The context of admin/change_list_results.html as Django's {% result_list %} makes it,
    with the rows drawn by case_rows(): Django's items_for_result() spent a third of a
    millisecond of CPU on a row (a reverse() and the preserved filters for each link, a
    field's choices rebuilt for each cell), two thirds of the page. The same HTML (tests/
    permits/test_admin_list.py compares them). None for a list this does not draw (editable
    or a popup, or a column that is not a plain field or a function): Django draws it."""
    if (cl.formset or cl.is_popup or cl.to_field
            or list(cl.list_display_links or ()) != list(cl.list_display[:1])):
        return None
    columns = [_column(cl, name, index) for index, name in enumerate(cl.list_display)]
    if None in columns:
        return None
    headers = admin_list.headers(cl)  # Django's result_headers(cl), its columns kept
    # The current time zone pinned while the rows' dates are shown (the same zone): with
    # none activated, Django finds the default only after a failed look-up, an exception
    # each time, 12 µs a date (a third of the rows' cost).
    with timezone.override(timezone.get_current_timezone()):
        rows = list(case_rows(cl, columns))
    return {"cl": cl, "result_hidden_fields": [], "result_headers": headers,
            "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
            "results": [[row] for row in rows],
            # What Django's loop writes for each (admin/permits/application/
            # change_list_results.html): no form's errors, the row.
            # (Joined between its <tr>s: a SafeString in an f-string is a call of its
            # __str__.)
            "body": mark_safe("\n\n<tr>" + "</tr>\n\n\n<tr>".join(rows)  # noqa: S308
                              + "</tr>\n" if rows else "")}


def _column(cl, name, index):
    """(CSS name, field or None, function of a case giving its value) of a list column, or
    None for what case_rows() does not draw (relations, properties, model methods)."""
    if callable(name):
        return (f"lambda{index}" if name.__name__ == "<lambda>" else name.__name__,
                None, name)
    try:
        field = cl.lookup_opts.get_field(name)
    except FieldDoesNotExist:
        method = getattr(cl.model_admin, name, None)
        return (name, None, method) if callable(method) else None
    if field.is_relation or not field.concrete:
        return None
    return name, field, operator.attrgetter(field.attname)


_escaped = escaped  # conditional_escape(), without its check for lazy strings


def _row_reader(display, get):
    """The function of a row (admin_list.PageRows.getter `get`) giving what the list's
    `display` (a function of a case) gives: its `row_value(get)`. KeyError for a display
    that has none: the page's instances are read then (case_rows)."""
    row_value = getattr(display, "row_value", None)
    if row_value is None:
        raise KeyError(display)
    return row_value(get)


def _cell_html(field, value_of, empty, get=None):
    """A function of a case giving its cell's HTML and whether the cell keeps on one line,
    as items_for_result() draws them. With `get` (admin_list.PageRows.getter), a function
    of the case's row instead."""
    if field is None:  # a function of the case
        empty = getattr(value_of, "empty_value_display", empty)
        boolean = getattr(value_of, "boolean", False)
        shown_empty = _escaped(display_for_value("", empty, boolean))
        if getattr(value_of, "datetime_field", None) and not boolean:
            return _datetime_cell(value_of.datetime_field, shown_empty, get)
        display = value_of if get is None else _row_reader(value_of, get)

        def cell(case):
            value = display(case)
            if type(value) is str and not boolean:  # plain text, as display_for_value gives it
                return (_escaped(value) if value.strip() else shown_empty), False
            if isinstance(value, str) and not value.strip():
                value = ""
            return (_escaped(display_for_value(value, empty, boolean)),
                    isinstance(value, datetime.date | datetime.time))

        return cell
    if get is not None:
        value_of = get(field.attname)
    nowrap = isinstance(field, models.DateField | models.TimeField)
    if field.flatchoices:  # the labels, once a process and language
        labels = _labels_html(field, get_language())
        shown_empty = _escaped(empty)
        return lambda case: (labels.get(value_of(case), shown_empty), nowrap)
    if isinstance(field, models.CharField | models.TextField):
        shown_empty = _escaped(empty)

        def text(case):
            value = value_of(case)
            return (_escaped(value) if value and value.strip() else shown_empty), nowrap

        return text
    return lambda case: (_escaped(display_for_field(value_of(case), field, empty)), nowrap)


# {(field, language): {value: its label's HTML}} of the list's choice columns.
_LABELS = {}


def _labels_html(field, language):
    """{value: the HTML of its label} of the choice field `field` in `language` (the one in
    force), drawn once a process: each label, lazy, was cast to text (its translation looked
    up) on every page. Choices given by a callable, which may change, are drawn each time."""
    key = (field, language)
    labels = _LABELS.get(key)
    if labels is None:
        labels = {value: _escaped(label) for value, label in field.flatchoices}
        if not isinstance(field.choices, CallableChoiceIterator):
            _LABELS[key] = labels
    return labels


def _datetime_cell(name, shown_empty, get=None):
    """The cell of shown()'s display of the date and time `name` (roc_datetime), the time
    zone looked up once (case_result_list pins it for the rows): localtime() looked it up
    again for each of the fifty, a third of the rows' CPU. The same text as the display's,
    as a function of the case's cell shows it (plain text: no "nowrap")."""
    text = _datetime_text(name, shown_empty, get)
    return lambda case: (text(case), False)


def _datetime_text(name, shown_empty, get=None):
    """_datetime_cell()'s text alone (admin_list.roc_minute: roc_datetime_local's text);
    with `get`, of a row (admin_list.PageRows.getter)."""
    value_of = operator.attrgetter(name) if get is None else get(name)
    text_of = _datetime_value_text(shown_empty)
    return lambda case: text_of(value_of(case))


def _datetime_value_text(shown_empty, zone=None):
    """_datetime_text()'s function, of the date and time itself (in `zone`, the current
    time zone's)."""
    zone = timezone.get_current_timezone() if zone is None else zone
    none = admin.site.empty_value_display  # what the display shows for no date
    none = _escaped(none) if none.strip() else shown_empty
    roc_minute = admin_list.roc_minute

    def text(value):
        if value is None or value == "":
            return none
        if type(value) is datetime.datetime:
            if value.tzinfo is not None:  # aware: in the zone, as _local()
                value = value.astimezone(zone)
            return roc_minute(value)  # (never blank: digits)
        if getattr(value, "tzinfo", None) is not None:
            value = value.astimezone(zone)
        shown = roc_datetime_local(value)
        return _escaped(shown) if shown.strip() else shown_empty

    return text


def _cell_writer(name, field, value_of, empty, get=None):
    """A function of a case giving its whole <td> cell, as case_rows() wrote it from
    _cell_html(): a column of choices from its labels' cells written once (a dict's look-up
    a cell), text and dates without the (text, nowrap) pair, and a display that has its own
    `page_cell` (a function making, for one page, a function of a case giving the cell's
    HTML, "" for none: ApplicationAdmin's 工作天, 風險, 承辦人) by it. With `get`
    (admin_list.PageRows.getter), a function of the case's row (_cell_html())."""
    td, td_nowrap = f'<td class="field-{name}">', f'<td class="field-{name} nowrap">'
    if field is None:
        own_empty = getattr(value_of, "empty_value_display", empty)
        boolean = getattr(value_of, "boolean", False)
        shown_empty = _escaped(display_for_value("", own_empty, boolean))
        page_cell = getattr(value_of, "page_cell", None)
        if page_cell is not None and not boolean:
            html_of = page_cell() if get is None else page_cell(get)
            return lambda case: f"{td}{html_of(case) or shown_empty}</td>"
        if getattr(value_of, "datetime_field", None) and not boolean:
            text = _datetime_text(value_of.datetime_field, shown_empty, get)
            return lambda case: f"{td}{text(case)}</td>"
    else:
        if get is not None:
            value_of = get(field.attname)
        nowrap = isinstance(field, models.DateField | models.TimeField)
        opening = td_nowrap if nowrap else td
        cells = _choice_cells(field, opening, empty)
        if cells is not None:  # each label's whole cell, once a process and language
            cells, shown_empty = cells
            return lambda case: cells.get(value_of(case), shown_empty)
        if isinstance(field, models.CharField | models.TextField):
            shown_empty = _escaped(empty)

            def text(case):
                value = value_of(case)
                return (f"{opening}{_escaped(value) if value and value.strip() else shown_empty}"
                        "</td>")

            return text
    cell = _cell_html(field, value_of, empty, get if field is None else None)

    def paired(case):
        text, nowrap = cell(case)
        return f"{td_nowrap if nowrap else td}{text}</td>"

    return paired


# {(field, language, the cell's opening tag, the empty value's text): ({value: its
# label's whole cell}, the empty cell)} of the list's choice columns (_choice_cells).
_CHOICE_CELLS = {}


def _choice_cells(field, opening, empty, language=None):
    """({value: its label's whole cell}, the cell of a value that has none) of the choice
    field `field` in the language in force (`language`, get_language()'s), made once a
    process (as _labels_html() keeps the labels: not for choices given by a callable);
    None for a field of no choices."""
    if field.choices is None:  # (a field of none: the same to the end)
        return None
    language = get_language() if language is None else language
    key = (field, language, opening, empty)
    made = _CHOICE_CELLS.get(key)
    if made is None:
        if not field.flatchoices:
            return None
        made = ({value: f"{opening}{label}</td>"
                 for value, label in _labels_html(field, language).items()},
                f"{opening}{_escaped(empty)}</td>")
        if not isinstance(field.choices, CallableChoiceIterator):
            _CHOICE_CELLS[key] = made
    return made


def case_rows(cl, columns):
    """Each case of the page as the HTML of its table row's cells (see case_result_list):
    the first column's cell and its link, then each other column's whole cell
    (_cell_writer). A page read as rows (admin_list.PageRows) is written from its rows
    (tuples: no instances made) where every column can read them (a field the rows hold,
    a display with a `row_value` or a `page_cell` taking the rows' getter), the reviewers'
    list's own columns by one function (_case_row_writer); from its instances otherwise."""
    empty = cl.model_admin.get_empty_value_display()
    page = cl.result_list
    (first, first_field, first_value), rest = columns[0], columns[1:]
    get = page.getter if isinstance(page, admin_list.PageRows) else None
    write = None
    if get is not None:
        try:
            write = _case_row_writer(cl, columns, empty)
            if write is None:
                first_cell = _cell_html(first_field, first_value, empty, get)
                writers = [_cell_writer(name, field, value_of, empty, get)
                           for name, field, value_of in rest]
            pk_of, cases = get(cl.opts.pk.attname), page.rows
        except KeyError:  # a column the rows do not hold
            get, write = None, None
    if get is None:
        first_cell = _cell_html(first_field, first_value, empty)
        writers = [_cell_writer(name, field, value_of, empty) for name, field, value_of in rest]
        pk_of, cases = operator.attrgetter("pk"), page
    if write is None:
        # The first cell's opening tag, with and without "nowrap", made once.
        heads = (f'<th class="field-{first}"><a href="',
                 f'<th class="field-{first} nowrap"><a href="')

        def write(case, url):
            text, nowrap = first_cell(case)
            return (f'{heads[nowrap]}{url}">{text}</a></th>'
                    + "".join([writer(case) for writer in writers]))

    # The change page's link, made once (its path once a process: fixed_url): "0" stands
    # for the case; its parts escaped once (an escape is of each character: a key, digits,
    # needs none).
    opts, context = cl.opts, {"preserved_filters": cl.preserved_filters, "opts": cl.opts}
    path = fixed_url(f"admin:{opts.app_label}_{opts.model_name}_change",
                     current_app=cl.model_admin.admin_site.name, object_id="0")
    head, tail = path.rsplit("/0/", 1)
    query = _preserved_query(context, path)
    head, tail = _escaped(f"{head}/"), _escaped(f"/{tail}{query}")
    for index, case in enumerate(cases):
        pk = pk_of(case)
        url = (f"{head}{pk}{tail}" if isinstance(pk, int)
               else _escaped(add_preserved_filters(context, cl.url_for_result(page[index]))))
        yield SafeString(write(case, url))  # every value escaped by _escaped(); no lazy check


# The reviewers' list's own columns (ApplicationAdmin.list_display), written by one function
# a page (_case_row_writer) where a page shows them all, in this order.
_CASE_COLUMNS = ("number", "permit_number", "document_type", "kind", "applicant_identifier",
                 "applicant_name", "destination_country", "status", "submitted_at",
                 "working_days", "risks", "assigned_to")
_CASE_CHOICES = ("document_type", "kind", "status")  # their cells: _choice_cells()
_CASE_TEXTS = ("applicant_identifier", "applicant_name", "destination_country")
# {display: (its attribute giving its cells from a page's rows, what that attribute is)}
_CASE_DISPLAYS = {"number": ("row_value", "_number_of_row"),
                  "permit_number": ("row_value", "_permit_number_of_row"),
                  "working_days": ("page_cell", "clock_cells"),
                  "risks": ("page_cell", "risk_cells"),
                  "assigned_to": ("page_cell", "_assignee_cells")}


def _case_row_writer(cl, columns, empty):
    """A function (row, the change page's link) giving the row's HTML for a page of the
    reviewers' list read as rows (admin_list.PageRows), the whole row in one text with each
    value read by its position: the same HTML as the first column's _cell_html() and the
    others' _cell_writer() (tests/permits/test_admin_list_written.py compares them), which
    made ten calls or more a cell, 80,000 instructions a row. The same texts (its cells'
    labels once a process and language, the page's clock cells shared: admin_list.
    page_clock_cell). None where the columns are not ApplicationAdmin's own, each as it
    defines it (another list, another admin's override, a column added): case_rows()
    writes them cell by cell. KeyError for a value the rows do not hold."""
    if cl.model is not Application or tuple(name for name, _f, _v in columns) != _CASE_COLUMNS:
        return None
    column = {name: (field, value_of) for name, field, value_of in columns}
    shown_empty = {}  # the displays' text for no value, as _cell_html() writes it
    for name, (attribute, its) in _CASE_DISPLAYS.items():
        field, display = column[name]
        its = ApplicationAdmin.__dict__.get(its) or getattr(admin_list, its)
        function = getattr(display, "__func__", None)
        # (Its attributes read from its __dict__: a missing one is no exception caught.)
        own = function.__dict__ if function is not None else {}
        if (field is not None or function is not getattr(ApplicationAdmin, name)
                or own.get("boolean") or own.get(attribute) is not its):
            return None
        shown_empty[name] = _escaped(display_for_value(
            "", own.get("empty_value_display", empty), False))
    field, submitted = column["submitted_at"]
    if field is not None or submitted is not shown(Application, "submitted_at") \
            or submitted.__dict__.get("boolean"):
        return None
    zone, language = timezone.get_current_timezone(), get_language()
    date_text = _datetime_value_text(_escaped(display_for_value(
        "", submitted.__dict__.get("empty_value_display", empty), False)), zone)
    choices = {}  # ({value: its whole cell}, the cell of no value), as _cell_writer()'s
    for name in _CASE_CHOICES + _CASE_TEXTS:
        field = column[name][0]
        if field is None or field is not Application._meta.get_field(name):
            return None
        if name in _CASE_CHOICES:
            choices[name] = _choice_cells(field, f'<td class="field-{name}">', empty, language)
        if (choices.get(name) is None) is (name in _CASE_CHOICES) or not isinstance(
                field, models.CharField):  # (a text's cell: _cell_writer()'s text())
            return None
    (documents, no_document), (kinds, no_kind), (statuses, no_status) = (
        choices[name] for name in _CASE_CHOICES)
    at = cl.result_list.at  # the rows' positions (KeyError for one they do not hold)
    receipt, registration, version_key, permit_no, version, identifier, name, country, \
        document, kind, status, when, clock, flags, assignee = (at[path] for path in (
            "receipt_no", "registration_no", "issued_version", "issued_version__permit__"
            "permit_no", "issued_version__version", *_CASE_TEXTS, *_CASE_CHOICES,
            "submitted_at", "list_clock", "list_flags", "assignee__name"))
    no_number, no_permit, no_clock, no_risk, no_assignee = shown_empty.values()
    no_text = _escaped(empty)
    no_version = _escaped("-")  # permit_number()'s "-" (never blank)
    roc_minute = admin_list.roc_minute
    clock_cell, risk_cell = admin_list.page_clock_cell(), admin_list.risk_cell
    datetime_type = datetime.datetime

    def write(row, link):
        number = row[receipt] or row[registration] or "-"  # number()
        permit = (no_version if row[version_key] is None  # permit_number()
                  else _escaped(f"{row[permit_no]} v{row[version]}"))
        texts = row[identifier], row[name], row[country]
        moment = row[when]
        if type(moment) is datetime_type and moment.tzinfo is not None:
            moment = roc_minute(moment.astimezone(zone))
        else:
            moment = date_text(moment)
        flagged = row[flags]
        assigned = row[assignee] or ""
        return (
            f'<th class="field-number"><a href="{link}">'
            f'{_escaped(number) if number.strip() else no_number}</a></th>'
            '<td class="field-permit_number">'
            f'{permit}</td>{documents.get(row[document], no_document)}'
            f'{kinds.get(row[kind], no_kind)}'
            '<td class="field-applicant_identifier">'
            f'{_escaped(texts[0]) if texts[0] and texts[0].strip() else no_text}</td>'
            '<td class="field-applicant_name">'
            f'{_escaped(texts[1]) if texts[1] and texts[1].strip() else no_text}</td>'
            '<td class="field-destination_country">'
            f'{_escaped(texts[2]) if texts[2] and texts[2].strip() else no_text}</td>'
            f'{statuses.get(row[status], no_status)}<td class="field-submitted_at">{moment}</td>'
            f'<td class="field-working_days">{clock_cell(row[clock]) or no_clock}</td>'
            f'<td class="field-risks">{(risk_cell(flagged) if flagged else "") or no_risk}</td>'
            '<td class="field-assigned_to">'
            f'{(_escaped(assigned) if assigned.strip() else "") or no_assignee}</td>')

    return write


# {(path, the list's preserved filters, its model's options, script prefix, URL
# configuration): the query string add_preserved_filters() gives the path}, bounded.
_PRESERVED = {}
_PRESERVED_MAX = 512


def _preserved_query(context, path):
    """add_preserved_filters(context, path)'s query string (what it adds to `path`), once a
    process for the same filters: on a filtered list (a queue, a status, a search) it
    resolved the path anew on every page (a tenth of a millisecond)."""
    key = (path, context["preserved_filters"], context["opts"], get_script_prefix(),
           get_urlconf())
    query = _PRESERVED.get(key)
    if query is None:
        if len(_PRESERVED) >= _PRESERVED_MAX:
            _PRESERVED.clear()
        query = _PRESERVED[key] = add_preserved_filters(context, path)[len(path):]
    return query


@receiver(setting_changed)
def _urls_changed(*, setting, **kwargs):
    if setting == "ROOT_URLCONF":
        _PRESERVED.clear()


class Unchosen:
    """A field's filter that leaves the list's query as it is while nothing is chosen:
    Django's adds an empty condition, a copy of the query each (four a page)."""

    def queryset(self, request, queryset):
        if len(self.used_parameters) == 1:
            # One choice (a status): filtered by it as Django's would, without its Q built of
            # every choice (an empty Q ANDed with an OR of one): a quarter of the filter's CPU.
            ((name, values),) = self.used_parameters.items()
            if len(values) == 1:
                try:
                    return queryset.filter(**{name: values[0]})
                except (ValueError, ValidationError) as error:
                    raise IncorrectLookupParameters(error) from error
        return super().queryset(request, queryset) if self.used_parameters else queryset


class ChoicesFilter(Unchosen, admin.ChoicesFieldListFilter):
    pass


class DateFilter(Unchosen, admin.DateFieldListFilter):
    pass


# {name column: (the countries' rows as reference_rows() keeps them, DestinationFilter's
# lookups of them)}
_DESTINATIONS = {}


class DestinationFilter(admin.SimpleListFilter):
    """By destination, the countries of the code table in one list to choose from (a small
    form: admin/permits/application/destination_filter.html). Django's filter of a plain
    column offered the values found, by a SELECT DISTINCT over every case, and a link of
    its own for each (250 links, a tenth of the page's time)."""

    title = Application._meta.get_field("destination_country").verbose_name
    parameter_name = "destination_country__exact"  # Django's, so that saved links still work
    template = "admin/permits/application/destination_filter.html"

    def lookups(self, request, model_admin):
        # As Country.__str__ says them ("DE 德國", "DE Germany"), from the code table as this
        # process keeps it (permits.fields.reference_rows: no query a page).
        # Made again only when those rows are (Django copies the list it is given).
        rows = reference_rows(Country)
        made = _DESTINATIONS.get(name_field())
        if made is None or made[0] is not rows:
            made = _DESTINATIONS[name_field()] = (
                rows, [(code, f"{code} {name}") for code, name in rows])
        return made[1]

    def _options(self):
        """The countries' <option>s, none selected, escaped: made once per process and
        language, and kept with the code table's rows (permits.fields.reference_cached)."""
        choices = self.lookup_choices
        return reference_cached((DestinationFilter, name_field()), lambda: "".join(
            f'<option value="{html.escape(code)}">{html.escape(title)}</option>'
            for code, title in choices))

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(destination_country=self.value())
        return queryset

    def choices(self, changelist):
        """Django's "All" choice, with what the form needs: the list's other parameters
        and the options, as HTML made in one go (one template loop over 250 countries
        cost as much as the rest of the filters)."""
        chosen = self.value()
        options = self._options()
        if chosen:  # the one chosen marked so (each value is on one option)
            option = f'<option value="{html.escape(chosen)}">'
            options = options.replace(option, option[:-1] + " selected>", 1)
        yield {
            "selected": chosen is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": _("All"),
            "hidden": [(name, value) for name, values in changelist.filter_params.items()
                       if not name.startswith(self.parameter_name) for value in values],
            "options": mark_safe(options),  # noqa: S308 (escaped in _options())
        }
        for code, title in self.lookup_choices:
            yield {"selected": chosen == code, "value": code, "display": title}


class MoveForm(TextRuleMixin, forms.Form):  # the note reaches the applicant: text rule
    to = forms.ChoiceField(choices=())
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


def moves_html(request, case, moves, move_url, suggested, token=None, withheld=()):
    """The reviewer's section at the top of the case page (issue 9, point 17: the moves
    first, where a reviewer starts; a link at the page's end leads back up to them): the
    status and one form, so one note, with a button for each move, the procedure's advice
    preselected (it has the focus). Written here for both case pages (Django's change form,
    admin/permits/application/change_form.html, and permits.admin_case's). `token`: the
    page's CSRF token, if it has one already (each new one is a mask made anew).
    `withheld`: why a move is not offered to this reviewer (four eyes), a line each."""
    escape = html.escape
    words = _moves_words()
    parts = [
        '<section class="module aligned review-moves" id="review-moves" '
        'aria-labelledby="review-moves-heading">\n'
        f'<h2 id="review-moves-heading">{words[0]} · '
        f'<a href="{escape(fixed_url("admin:permits_application_workflow"))}">'
        f'{words[1]}</a></h2>\n'
        f'<p class="review-moves-status">{words[2]}: '
        f'<strong data-testid="review-status">{escape(case.get_status_display())}</strong></p>\n']
    if moves:
        parts.append(
            f'<form method="post" action="{escape(move_url)}" id="move-form">\n'
            f'<input type="hidden" name="csrfmiddlewaretoken" '
            f'value="{token or get_token(request)}">\n'
            '<div class="form-row">\n<label for="id_move_note">'
            + words[3]
            + '</label>\n<textarea name="note" id="id_move_note" rows="3" cols="80"></textarea>\n'
            "</div>\n")
        if suggested:
            parts.append('<p class="help" data-testid="suggested-move">' + words[4] + "</p>\n")
        parts.append('<div class="submit-row">\n')
        for to, label, note_required in moves:
            chosen = to == suggested
            parts.append(
                f'<button type="submit" name="to" value="{escape(to)}" '
                f'class="button{" default" if chosen else ""}" data-move="{escape(to)}"'
                + (' data-suggested="yes" autofocus' if chosen else "")
                + f'>{escape(str(label))}{" *" if note_required else ""}</button>\n')
        parts.append("</div>\n")
        parts.extend('<p class="help review-moves-withheld" data-testid="withheld-move">'
                     f"{escape(str(reason))}</p>\n" for reason in withheld)
        parts.append("</form>\n")
    else:
        parts.append("<p>" + words[5] + "</p>\n")
    parts.append("</section>")
    return mark_safe("".join(parts))  # noqa: S308 (every value escaped)


# The moves' section's words, escaped, looked up once a language and process.
_moves_words = per_language(lambda: tuple(html.escape(text) for text in (
    gettext("Review"), gettext("Statuses and moves"), gettext("Status"),
    gettext("Note to the applicant (required for the moves marked *)"),
    gettext("The highlighted move is the one this kind of case usually takes next "
            "(preselected)."),
    gettext("This case is closed: no further moves."))))


# The case page's case, with the permit version it changes (and that version's case, which
# a procedure's panel compares with it) and the one it produced.
CASE_PAGE_RELATED = ("changes__permit", "changes__application", "issued_version")


def case_page_related():
    """CASE_PAGE_RELATED and the one row a case has of each procedure's own inline
    (Procedure.admin_inlines: SHTC's row, which its panel reads, the mask route, which its
    table shows), read with the case: no query each. Not the rest of Procedure.case_related
    (what the portal's case page reads): each join more cost PostgreSQL more to plan than
    a query of its own (EXPLAIN: 0.7 ms for the five tables above, 1.1 ms with these two,
    15 to 37 ms with the nine of case_related, bench/README.md "Stop 20")."""
    from django.forms.models import _get_foreign_key

    names = set()
    for procedure in procedures.registered():
        for inline in procedure.admin_inlines:
            inline = import_string(inline) if isinstance(inline, str) else inline
            fk = _get_foreign_key(Application, inline.model, fk_name=inline.fk_name)
            if fk.one_to_one:
                names.add(fk.remote_field.get_accessor_name())
    return (*CASE_PAGE_RELATED, *sorted(names))


def case_page_annotations():
    """The values the procedures' hooks read, computed in the case's query
    (Procedure.case_annotations: SHTC's transit port name, which its panel shows)."""
    return {name: expression for procedure in procedures.registered()
            for name, expression in procedure.case_annotations.items()}


CASE_PAGE_QUERY = PreparedInstances(
    Application, lambda pk: Application.objects.select_related(*case_page_related()).annotate(
        **case_page_annotations()).filter(pk=pk).order_by(), parameters=("pk",),
    keep_plan=True)
BIGINT = (-(2 ** 63), 2 ** 63 - 1)


@admin.register(Application)
class ApplicationAdmin(PortalDisplayMixin, admin.ModelAdmin):
    list_display = ("number", "permit_number", "document_type", "kind", "applicant_identifier",
                    "applicant_name", "destination_country", "status", "submitted_at",
                    "working_days", "risks", "assigned_to")
    # The reviewers' queues first (待分派, 我的案件, 逾期: permits.admin_queues).
    list_filter = (admin_queues.QueueFilter, ("document_type", ChoicesFilter),
                   ("status", ChoicesFilter),
                   ("kind", ChoicesFilter), DestinationFilter, ("submitted_at", DateFilter))
    # What the search looks in; get_search_results() says how (case_matches).
    search_fields = ("receipt_no", "registration_no", "issued_version__permit__permit_no",
                     "applicant_identifier", "applicant_name", "agent_identifier")
    search_help_text = _("A receipt, registration or permit number, an applicant's or "
                         "agent's identifier (whole or its beginning), or part of the "
                         "applicant's name.")
    # One query for the page of cases, whatever its length, of the columns it shows.
    list_select_related = ("issued_version__permit", "assignee")
    list_fields = ("receipt_no", "registration_no", "document_type", "kind",
                   "applicant_identifier", "applicant_name", "destination_country", "status",
                   "submitted_at", "issued_version__version", "issued_version__application",
                   "issued_version__permit__permit_no", "assignee__name")
    # Django's 100 rows cost twice what a reviewer reads of them before narrowing the list.
    list_per_page = 50
    # Drawn by date_drilldown(): Django's reads every case for its choices.
    date_hierarchy = "submitted_at"
    # Filed cases newest first, drafts (no date) last; served by an index (0006).
    ordering = (models.F("submitted_at").desc(nulls_last=True), "-pk")
    show_full_result_count = False  # the count of every case, on each filtered page
    list_max_show_all = 0  # "Show all" would read every case the list holds
    show_facets = admin.ShowFacets.NEVER  # a COUNT per choice of every filter
    inlines = [ItemInline, AttachmentInline, StatusChangeInline]
    change_form_template = "admin/permits/application/change_form.html"
    fieldsets = (
        (None, {"fields": ("document_type", "kind", "status", "receipt_no", "registration_no",
                           "submitted_at", "changes", "change_description")}),
        (_("Applicant"), {"fields": ("applicant_identifier", "applicant_name",
                                     "applicant_name_en", "applicant_address",
                                     "contact_person", "contact_phone", "company_email",
                                     "destination_country")}),
        (_("Filing agent"), {"fields": ("agent_identifier", "agent_name",
                                        "agent_contact_person", "agent_phone",
                                        "agent_email")}),
    )

    read_only = True  # a case is changed only by moves (transition())

    def get_readonly_fields(self, request, obj=None):
        return self._as_shown(f for fs in self.fieldsets for f in fs[1]["fields"])

    def get_inlines(self, request, obj):
        """The shared inlines, with what the case's procedure adds after the items: its
        parties if it asks for any, and its own inlines (Procedure.admin_inlines, dotted
        paths, so that procedures.py need not import admin modules)."""
        if obj is None:
            return self.inlines
        procedure = procedures.get(obj.document_type)
        own = [PartyInline] if procedure.parties else []
        own += [import_string(path) if isinstance(path, str) else path
                for path in procedure.admin_inlines]
        items, *rest = self.inlines
        return [items, *own, *rest]

    def get_inline_formsets(self, request, formsets, inline_instances, obj=None):
        """The inlines' rows are also the case's (share_rows): the procedure's hooks on the
        page (the SHTC panel: the origins of the items, the buyer, the documents) read
        `application.items.all()` and the like, which read them again."""
        if obj is not None:
            share_rows(obj, formsets, inline_instances)
        return super().get_inline_formsets(request, formsets, inline_instances, obj)

    def get_changelist(self, request, **kwargs):
        return CaseChangeList

    def get_preserved_filters(self, request):
        """Django's, encoded once a request: the list asked for it twice (its ChangeList,
        then changelist_view's context), each time a urlencode of the query string. Kept
        with what it reads (this admin, the request's query and the URL it resolved to),
        so that a request given another query is encoded anew."""
        kept = getattr(request, "_preserved_filters", None)
        if kept is not None and kept[0] is self and kept[1] is request.GET \
                and kept[2] is request.resolver_match:
            return kept[3]
        found = super().get_preserved_filters(request)
        request._preserved_filters = (self, request.GET, request.resolver_match, found)
        return found

    def get_paginator(self, request, queryset, per_page, orphans=0,
                      allow_empty_first_page=True):
        try:
            number = int(request.GET.get(PAGE_VAR, 1))
        except ValueError:
            number = 1  # as ChangeList reads it
        return PageAheadPaginator(queryset, per_page, number=number, orphans=orphans,
                                  allow_empty_first_page=allow_empty_first_page)

    def get_search_results(self, request, queryset, search_term):
        """Each word narrows the list to the cases it finds (case_matches), none twice."""
        return case_search(queryset, search_term), False

    def changelist_view(self, request, extra_context=None):
        with workdays.one_today():  # (the page's clocks: the zone and today looked up once)
            response = super().changelist_view(request, extra_context)
        cl = (getattr(response, "context_data", None) or {}).get("cl")
        if cl is not None:  # rendered by admin/permits/application/change_list.html
            response.context_data["drilldown"] = date_drilldown(cl)
            response.context_data["case_results"] = case_result_list(cl)
            # Its parts written in Python (permits.admin_list), printed by the template.
            response.context_data["lean"] = admin_list.page_parts(cl, response.context_data)
            media = response.context_data.get("media")
            if isinstance(media, forms.Media):
                response.context_data["media"] = admin_list.rendered_media(media)
            if response.context_data["lean"]["results"] is not None:
                # The frame drawn once per process and kind of page (permits.admin_frame).
                context = response.context_data
                return admin_frame.framed_content(request, response, flags=(
                    bool(cl.formset), bool(context.get("action_form")),
                    context.get("actions_on_top"), context.get("actions_on_bottom")),
                    content=functools.partial(self._content_block, cl))
        return response

    @staticmethod
    def _content_block(cl, template_name, context, csrf_token):
        """The list's block "content" written in Python (admin_list.content_block)."""
        site = cl.model_admin.admin_site.name
        return admin_list.content_block(cl, template_name, context, csrf_token, links=(
            fixed_url("admin:permits_application_export_xlsx", current_app=site),
            fixed_url("admin:permits_application_export_ods", current_app=site),
            fixed_url("admin:permits_application_statistics", current_app=site)))

    def has_add_permission(self, request):
        return False  # cases are filed in the portal

    def has_delete_permission(self, request, obj=None):
        return False  # a case's history is kept

    @admin.display(description=_("number"), ordering="receipt_no")
    def number(self, obj):
        return obj.number or "-"

    @staticmethod
    def _number_of_row(get):
        """number() of a row of the page (admin_list.PageRows.getter `get`, case_rows):
        Application.number, or "-"."""
        receipt, registration = get("receipt_no"), get("registration_no")
        return lambda row: receipt(row) or registration(row) or "-"

    number.row_value = _number_of_row

    @admin.display(description=pgettext_lazy("case list column", "working days"),
                   empty_value="")
    def working_days(self, obj):
        """The open stage's working days of its target, overdue in red and in words
        (CaseChangeList.clocks_and_flags read the page's clocks)."""
        return admin_list.clock_cell(getattr(obj, "list_clock", None))

    working_days.page_cell = admin_list.clock_cells  # (case_rows: a page's cells)

    @admin.display(description=_("risk"), empty_value="")
    def risks(self, obj):
        """A badge per kind of the case's open risk flags."""
        return admin_list.risk_cell(getattr(obj, "list_flags", ()))

    risks.page_cell = admin_list.risk_cells

    @admin.display(description=Application._meta.get_field("assignee").verbose_name,
                   empty_value="")
    def assigned_to(self, obj):
        """承辦人: who has the case (read with the page's cases)."""
        return admin_queues.assignee_cell(obj)

    @staticmethod
    def _assignee_cells(get=None):
        """assigned_to's cell of a case, a page's (case_rows): its name escaped, "" for none.
        With `get` (admin_list.PageRows.getter), of a row: the name read with it, None
        where the case has no assignee (admin_queues.assignee_cell)."""
        name_of = admin_queues.assignee_cell if get is None else get("assignee__name")

        def cell(case):
            name = name_of(case) or ""
            return _escaped(name) if name.strip() else ""

        return cell

    assigned_to.page_cell = _assignee_cells

    @admin.display(description=_("permit number"))
    def permit_number(self, obj):
        version = obj.permit_version
        return f"{version.permit.permit_no} v{version.version}" if version else "-"

    @staticmethod
    def _permit_number_of_row(get):
        """permit_number() of a row of the page (admin_list.PageRows.getter `get`): the
        issued version's key None where the case has none."""
        version_of, permit_no, number = (get(path) for path in (
            "issued_version", "issued_version__permit__permit_no", "issued_version__version"))
        return lambda row: (f"{permit_no(row)} v{number(row)}" if version_of(row) is not None
                            else "-")

    permit_number.row_value = _permit_number_of_row

    def get_urls(self):
        from permits import admin_export, admin_stats, review_notes

        return [
            path("<int:pk>/move/", self.case_button(self.move_view),
                 name="permits_application_move"),
            # 內部註記 (issue 14 point 5, permits/review_notes.py).
            path("<int:pk>/note/", self.case_button(
                functools.partial(review_notes.note_view, model_admin=self)),
                name="permits_application_note"),
            path("workflow/", self.admin_site.admin_view(self.workflow_view),
                 name="permits_application_workflow"),
            # 指派給我, 指派給…, 取消指派 (issue 14, permits/admin_queues.py).
            path("<int:pk>/assign/", self.case_button(
                functools.partial(admin_queues.assign_view, self)),
                name="permits_application_assign"),
            # 匯出 Excel / 匯出 ODF of the list as filtered (permits/admin_export.py).
            *(path(f"export/{fmt}/", self.admin_site.admin_view(
                functools.partial(admin_export.export_view, model_admin=self)), {"fmt": fmt},
                name=f"permits_application_export_{fmt}") for fmt in ("xlsx", "ods")),
            # 統計 (issue 14 point 7, permits/admin_stats.py).
            path("statistics/", self.admin_site.admin_view(
                functools.partial(admin_stats.statistics_view, self)),
                name="permits_application_statistics"),
            *super().get_urls(),
        ]

    def may_review(self, request):
        return request.user.has_perm("permits.review_application") and request.user.is_reviewer

    def get_object(self, request, object_id, from_field=None):
        """The case as Django's get_object() reads it, with the permit version it changes
        (shown as "PSE11500000003 v2") and its case, and the one it produced if it was
        approved (the procedures' panels show its validity): one query for the five."""
        read = getattr(request, "_case_read", None)  # by change_view(), for this request
        if read is not None and from_field is None and read[0] == object_id:
            return read[1]
        field = (self.model._meta.pk if from_field is None
                 else self.model._meta.get_field(from_field))
        try:
            value = field.to_python(object_id)
            if from_field is None and type(self).get_queryset is admin.ModelAdmin.get_queryset:
                # Compiled once per process (the ORM's query cost twice what PostgreSQL
                # spent on it); a key outside bigint's range is no case, as Django says.
                found = CASE_PAGE_QUERY.instances(pk=value) if BIGINT[0] <= value <= BIGINT[1] \
                    else []
                return found[0] if found else None
            queryset = self.get_queryset(request).select_related(*case_page_related()) \
                .annotate(**case_page_annotations())
            return queryset.get(**{field.name: value})
        except (self.model.DoesNotExist, ValidationError, ValueError, TypeError):
            return None

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The case page. For a user who may view the case but not change it (a reviewer),
        who posts nothing here (the moves go to move_view), a page of its own with the
        change form's content (permits.admin_case), without the form machinery; the same
        checks first, in Django's order. Anyone else, a POST, a popup: Django's change
        form."""
        if (request.method not in ("GET", "HEAD") or IS_POPUP_VAR in request.GET
                or TO_FIELD_VAR in request.GET):
            return super().change_view(request, object_id, form_url, extra_context)
        case = self.get_object(request, unquote(object_id))
        if not self.has_view_or_change_permission(request, case):
            raise PermissionDenied
        if case is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, case):
            from permits.admin_case import case_page

            response = case_page(self, request, case, extra_context)
            if response is not None:
                return response
        # Django's change form (a superuser's) reads it again through get_object(): not twice.
        request._case_read = (unquote(object_id), case)
        return super().change_view(request, object_id, form_url, extra_context)

    def review_context(self, request, case, token=None, history=None):
        """What the case page shows a reviewer above the case: the moves the table allows
        the bureau now ([(status, label, whether a note is required)]), where they post,
        the procedure's advice among them, and that section's HTML; {} for a user who does
        not review. 准件結案 is not offered where four eyes would refuse it to this reviewer
        (workflow.four_eyes_problem, from `history`, the case's StatusChange rows if the
        page read them), and a line says why."""
        if not self.may_review(request):
            return {}
        table = workflow.TRANSITIONS[case.status]
        withheld = []
        if table.get(workflow.Status.APPROVED) == workflow.BUREAU:
            problem = workflow.four_eyes_problem(case, workflow.Status.APPROVED,
                                                 request.user, history)
            if problem:
                withheld.append(problem)
        moves = [(to, workflow.move_label(case.status, to),
                  workflow.note_required(to, workflow.BUREAU))
                 for to in workflow.allowed_moves(case, workflow.BUREAU)
                 if not (withheld and to == workflow.Status.APPROVED)]
        move_url = keyed_url("admin:permits_application_move", case.pk)
        # The procedure's advice, preselected among the moves (SHTC-13: 協查中).
        suggested = procedures.get(case.document_type).suggested_move(case)
        suggested = suggested if suggested in {to for to, _label, _note in moves} else None
        return {"moves": moves, "move_url": move_url, "suggested_move": suggested,
                "withheld_moves": withheld,
                "moves_html": moves_html(request, case, moves, move_url, suggested, token,
                                         withheld=withheld),
                # Who has the case, and 指派給我 etc. (issue 14: permits.admin_queues).
                "assignment_html": mark_safe(  # noqa: S308 (every value escaped)
                    admin_queues.assignment_html(request, case, token))}

    def render_change_form(self, request, context, add=False, change=False, form_url="",
                           obj=None):
        # Here rather than in change_view(): the case is loaded once, by Django.
        if obj is not None:
            context.update(self.review_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def workflow_view(self, request):
        """The transition table, as the code enforces it, for reviewers to read."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        rows = [{"status": status, "meaning": workflow.MEANING[status],
                 "moves": [(workflow.Status(to).label, workflow.WHO[who])
                           for to, who in workflow.TRANSITIONS[status].items()]}
                for status in workflow.Status]
        return TemplateResponse(request, "admin/permits/application/workflow.html", {
            **self.admin_site.each_context(request), "rows": rows,
            "title": _("Statuses and moves"), "opts": self.model._meta})

    def case_button(self, view):
        """The admin view of a reviewer's button on the case page, `view(request, pk)` (a POST
        to <pk>/…/): any other method goes back to the case page; only reviewers."""

        def button(request, pk):
            if request.method != "POST":
                return redirect("admin:permits_application_change", pk)
            if not self.may_review(request):
                raise PermissionDenied
            return view(request, pk)

        return self.admin_site.admin_view(button)

    def move_view(self, request, pk):
        """A reviewer's move (a button on the case page, case_button): only through
        transition()."""
        application = get_object_or_404(Application, pk=pk)
        form = MoveForm(request.POST)
        form.fields["to"].choices = workflow.Status.choices
        if not form.is_valid():
            messages.error(request, _("Choose a move."))
            return redirect("admin:permits_application_change", pk)
        try:
            application = workflow.transition(application=application,
                                              to=form.cleaned_data["to"], actor=request.user,
                                              note=form.cleaned_data["note"])
        except (workflow.TransitionNotAllowed, PermissionDenied) as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("%(case)s is now “%(status)s”.") % {
                "case": application, "status": application.get_status_display()})
        return redirect("admin:permits_application_change", pk)


class PermitVersionInline(ReadOnlyInline):
    model = PermitVersion
    fk_name = "permit"
    fields = ("version", "application", "issued_at", "valid_from", "valid_until",
              "partial_shipment")
    select_related = ("application",)


class PermitRevocationInline(ReadOnlyInline):
    """註銷: who cancelled the permit, when and why (permits.changes.permit_revoke)."""

    model = PermitRevocation
    fields = ("created_at", "actor", "reason")
    select_related = ("actor",)


@admin.register(Permit)
class PermitAdmin(PortalDisplayMixin, admin.ModelAdmin):
    list_display = ("permit_no", "document_type", "holder", "created_at", "revoked_at")
    list_filter = ("document_type",)
    search_fields = ("permit_no", "holder__identifier", "holder__name")
    list_select_related = ("holder",)
    readonly_fields = ("permit_no", "document_type", "holder", "verification_code",
                       "revoked_at", "first_cleared_at", "first_released_at", "created_at")
    inlines = [PermitVersionInline, PermitRevocationInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutboundEmail)
class OutboundEmailAdmin(PortalDisplayMixin, admin.ModelAdmin):
    list_display = ("created_at", "to", "subject", "sent_at", "attempts", "last_error")
    list_filter = (("sent_at", admin.EmptyFieldListFilter),)
    search_fields = ("to", "subject", "application__receipt_no")
    readonly_fields = [f.name for f in OutboundEmail._meta.fields]

    def get_fields(self, request, obj=None):
        # Account mail (a password-reset link, ACC-2) is never shown: whoever read it could
        # use the link.
        fields = super().get_fields(request, obj)
        if obj is not None and obj.application_id is None:
            return [name for name in fields if name != "body"]
        return fields

    def has_add_permission(self, request):
        return False


@admin.register(Country, Currency)
class ReferenceCodeAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "active")
    list_filter = ("active",)
    search_fields = ("code", "name_zh", "name_en")
