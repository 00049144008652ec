"""{% form_fields form %}: the markup {% crispy form %} prints with the bootstrap5 pack, without
crispy's machinery (issue 10).

Crispy cost a page about 330 µs of CPU a field: a context built per form, the whole
`bootstrap5/field.html` with its includes per field, and Django's widget templates (input.html
with attrs.html, one template render per radio or select option). Here the form's layout is
walked as crispy walks it (field names, HTML pieces, Divs) and each field written out in
Python: a one-line field (an <input>, a <select>) by portal.plain_fields, as
templates/includes/text_field.html prints one; the other shapes here (radio_html,
checkbox_html, input_html: a <textarea> or a file input with its label, errors and help
text), whose control (the checkbox, the <textarea>, the file input) is built from the
widget's own get_context(), with the classes crispy's `crispy_field` adds to the widget (in
place, as crispy does). These were template includes until a second pass (issue 10): a
radio group cost 0.25 ms of the template engine, the same markup joined here a fifth of it.

What crispy prints is kept, the whitespace between tags aside: the label with its required
mark, `required`, `disabled`, `aria-invalid` and `aria-describedby` (help text and errors),
the errors next to the field, the help text, the layout's HTML pieces and Divs, and the
form's non-field errors. Not the CSRF input crispy adds to each form: the pages write the
<form> tag and its token themselves. tests/permits/test_form_fields.py compares the two for
bound, unbound and refused forms in both languages.

Anything else goes through crispy as before: a helper with settings other than the portal's
(PortalFormMixin: form_tag off, labels and errors shown, nothing inline or horizontal), a
layout object other than a field name, HTML or Div, a file input holding a stored file, a
multi-widget or a multiple checkbox."""

import functools

from crispy_forms.layout import HTML, Div, Layout
from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from crispy_forms.templatetags.crispy_forms_tags import CrispyFormNode
from django import forms, template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import Template
from django.templatetags.l10n import unlocalize
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from portal.escaping import escaped
from portal.forms import FieldsCopiedOnUse
from portal.plain_fields import (
    add_classes,
    attrs_html,
    css_classes,
    errors_html,
    help_html,
    plain_field,
    translated,
)

register = template.Library()

# The shapes of field written out (a file input is a field whose control, errors and help
# sit in a <div> of their own: crispy's field_file.html). A one-line field (an <input> or a
# <select>) is portal.plain_fields' to print.
ONE_LINE, TEXTAREA, FILE_FIELD, RADIO_FIELD, CHECKBOX_FIELD = (
    "one_line", "textarea", "file", "radio", "checkbox")

# Django's widget templates written out below (a checkbox's includes input.html).
_CHECKBOX_TEMPLATE = "django/forms/widgets/checkbox.html"
_TEXTAREA_TEMPLATE = "django/forms/widgets/textarea.html"
# The helper as PortalFormMixin leaves it; any other setting is crispy's to print.
_PLAIN_HELPER = {"form_show_labels": True, "form_show_errors": True, "label_class": "",
                 "field_class": "", "field_template": None, "help_text_inline": False,
                 "error_text_inline": True, "form_error_title": "", "template": None,
                 "render_unmentioned_fields": False, "render_hidden_fields": False,
                 "render_required_fields": False, "form_class": "", "inputs": [],
                 "attrs": {}, "form_tag": False}


def control(field, css_class):
    """The checkbox or <textarea> of bound field `field` as crispy prints it (the widget's
    markup, `css_class` and the widget's class name added to the widget's class, as
    crispy's {% crispy_field %} does); another widget's by its own render()."""
    widget = field.field.widget
    add_classes(widget, css_class)
    if field.field.localize:
        widget.is_localized = True
    attrs = field.build_widget_attrs({}, widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    name, value = field.html_name, field.value()
    template_name = getattr(widget, "template_name", None)
    if template_name == _CHECKBOX_TEMPLATE:
        data = widget.get_context(name, value, attrs)["widget"]
        shown = "" if data["value"] is None else f' value="{escaped(data["value"])}"'
        return mark_safe(  # noqa: S308 (name, value and attributes escaped)
            f'<input type="{escaped(data["type"])}" '
            f'name="{escaped(data["name"])}"{shown}{attrs_html(data["attrs"])}>')
    if template_name == _TEXTAREA_TEMPLATE:
        data = widget.get_context(name, value, attrs)["widget"]
        text = escaped(data["value"]) if data["value"] else ""
        return mark_safe(  # noqa: S308 (name, value and attributes escaped)
            f'<textarea name="{escaped(data["name"])}"{attrs_html(data["attrs"])}>'
            f"\n{text}</textarea>")
    return widget.render(name=name, value=value, attrs=attrs, renderer=field.form.renderer)


def file_control(field, errors):
    """A file input as crispy's field_file.html writes it: "form-control" first in its
    class, `disabled` said by the field, then the widget's attributes but its class."""
    widget = field.field.widget
    id_ = widget.attrs.get("id") or field.auto_id
    attrs = field.build_widget_attrs({"id": id_} if id_ else {})
    data = widget.get_context(field.html_name, field.value(), attrs)["widget"]
    css_class = data["attrs"].get("class")
    css_class = "form-control" + (f" {css_class}" if css_class else "") + (
        " is-invalid" if errors else "")
    disabled = " disabled" if field.field.disabled else ""
    rest = attrs_html({name: value for name, value in data["attrs"].items()
                        if name != "class"})
    return mark_safe(  # noqa: S308 (name, class and attributes escaped)
        f'<input type="{escaped(data["type"])}" '
        f'name="{escaped(data["name"])}" class="{escaped(css_class)}"'
        f"{disabled}{rest}>")


def _shape(field):
    """How `field` is written out (ONE_LINE, or the shape of an include), or None when
    crispy has to."""
    widget = field.field.widget
    if isinstance(widget, forms.RadioSelect) and not isinstance(
            widget, forms.CheckboxSelectMultiple):
        return RADIO_FIELD
    if isinstance(widget, forms.CheckboxInput):
        return CHECKBOX_FIELD
    if isinstance(widget, forms.MultiWidget | forms.CheckboxSelectMultiple):
        return None
    if isinstance(widget, forms.FileInput):
        # A stored file (its link and 清除 box above the input): crispy's to print.
        return FILE_FIELD if not widget.is_initial(field.value()) else None
    if isinstance(widget, forms.Textarea):
        return TEXTAREA
    return ONE_LINE


def _label_html(label, required, *, tag="label", attrs="", css="form-label", last=""):
    """A field's label (or legend) with the required mark: `<tag{attrs} class="{css}
    [requiredField]{last}">`."""
    mark = " requiredField" if required else ""
    asterisk = '<span class="asteriskField">*</span>' if required else ""
    return f'<{tag}{attrs} class="{css}{mark}{last}">{escaped(label)}{asterisk}</{tag}>'


def radio_html(field):
    """Radio buttons as crispy's bootstrap5 field.html and radio_checkbox_select.html print
    them: a fieldset whose legend is the label (with the required mark), described by the
    help text and the errors, which follow the last option."""
    widget = field.field.widget
    errors = field.errors
    auto_id = field.auto_id
    id_text = escaped(auto_id)
    label = translated(field.label)
    required = field.field.required
    css = css_classes(field)
    id_ = widget.attrs.get("id") or auto_id
    attrs = field.build_widget_attrs({"id": id_} if id_ else {})
    groups = widget.optgroups(field.html_name, widget.format_value(field.value()), attrs)
    name = escaped(field.html_name)
    invalid = " is-invalid" if errors else ""
    parts = [f'<div id="div_{id_text}" class="mb-3{" " + escaped(css) if css else ""}">']
    if label:
        describedby = field.aria_describedby
        described = f' aria-describedby="{escaped(describedby)}"' if describedby else ""
        parts.append(f"<fieldset{described}>"
                     + _label_html(label, required, tag="legend", last=" fs-6"))
    parts.append("<div>")
    for number, (group, options, _index) in enumerate(groups, 1):
        if group:
            parts.append(f"<strong>{escaped(group)}</strong>")
        for position, option in enumerate(options, 1):
            parts.append(
                f'<div class="form-check"><input type="{escaped(option["type"])}" '
                f'class="form-check-input{invalid}" name="{name}" '
                f'value="{escaped(unlocalize(option["value"]))}"'
                f'{attrs_html(option["attrs"])}> '
                f'<label for="{escaped(option["attrs"].get("id"))}" class="form-check-label">'
                f'{escaped(unlocalize(translated(option["label"])))}</label>')
            if errors and number == len(groups) and position == len(options):
                parts.append(errors_html(errors, id_text, tag="p"))
            parts.append("</div>")
    parts.append("</div>")
    help_text = translated(field.help_text)
    if help_text:
        parts.append(help_html(help_text, id_text))
    if label:
        parts.append("</fieldset>")
    parts.append("</div>")
    return mark_safe("".join(parts))  # noqa: S308 (every value escaped; help is markup)


def checkbox_html(field):
    """A single checkbox as crispy's bootstrap5 field.html prints it: the box, then its
    label (with the required mark), its errors tied to it by aria-describedby, the help
    text."""
    errors = field.errors
    id_text = escaped(field.auto_id)
    css = css_classes(field)
    box = control(field, "form-check-input is-invalid" if errors else "form-check-input")
    label = _label_html(translated(field.label), field.field.required,
                        attrs=f' for="{escaped(field.id_for_label)}"', css="form-check-label")
    parts = [f'<div class="mb-3"><div id="div_{id_text}" '
             f'class="form-check{" " + escaped(css) if css else ""}">{box} {label}']
    if errors:
        parts.append(errors_html(errors, id_text))
    help_text = translated(field.help_text)
    if help_text:
        parts.append(help_html(help_text, id_text))
    parts.append("</div></div>")
    return mark_safe("".join(parts))  # noqa: S308 (every value escaped; help is markup)


def input_html(field, shape):
    """A <textarea> or a file input with its label, as crispy's bootstrap5 field.html prints
    it: the label with the required mark, the control, the errors tied to it by
    aria-describedby, the help text (a file input's control, errors and help in a <div> of
    their own: field_file.html)."""
    errors = field.errors
    id_text = escaped(field.auto_id)
    css = css_classes(field)
    parts = [f'<div id="div_{id_text}" class="mb-3{" " + escaped(css) if css else ""}">']
    label = translated(field.label)
    if label:
        target = field.id_for_label
        parts.append(_label_html(label, field.field.required,
                                 attrs=f' for="{escaped(target)}"' if target else ""))
    if shape == FILE_FIELD:
        parts.append('<div class="is-invalid">' if errors else "<div>")
        parts.append(file_control(field, errors))
    else:
        parts.append(control(field, "form-control is-invalid" if errors else "form-control"))
    if errors:
        parts.append(errors_html(errors, id_text))
    help_text = translated(field.help_text)
    if help_text:
        parts.append(help_html(help_text, id_text))
    if shape == FILE_FIELD:
        parts.append("</div>")
    parts.append("</div>")
    return mark_safe("".join(parts))  # noqa: S308 (every value escaped; help is markup)


@functools.lru_cache(maxsize=256)
def _html_template(source):
    # A layout's HTML piece: crispy compiles it on every render; the source is the code's.
    return Template(source)


def _plain(form):
    """Whether `form`'s helper is the portal's (PortalFormMixin), whose markup is written
    out here."""
    helper = getattr(form, "helper", None)
    return helper is not None and all(getattr(helper, name, None) == value
                                      for name, value in _PLAIN_HELPER.items())


def _render_field(field):
    if field.is_hidden:
        return str(field)
    shape = _shape(field)
    if shape is None:
        return as_crispy_field(field)
    if shape == ONE_LINE:
        # portal.plain_fields writes an <input> or a <select> out in Python (and leaves to
        # crispy what it does not know). The portal's helper (_plain) is the default one.
        return plain_field(field, default_helper=True)
    if shape == RADIO_FIELD:
        return radio_html(field)
    if shape == CHECKBOX_FIELD:
        return checkbox_html(field)
    return input_html(field, shape)


class _Piece(str):
    """A layout's HTML piece in a drawing: its source, rendered with the page's context each
    time the drawing is printed (it may name the request, as 9-1-1's port look-up link
    does)."""


def _layout_parts(form, objects, parts):
    """`parts` extended with the drawing of the layout `objects` of `form` as crispy prints
    them (the fields' markup, each HTML piece as a _Piece, the blanks crispy leaves between
    them); None if one of them is not a field name, an HTML piece or a plain Div."""
    for number, item in enumerate(objects):
        if number:
            parts.append(" ")
        if isinstance(item, str):
            if item not in form.fields:
                return None  # crispy's: a warning, or an error in DEBUG
            parts.append(_render_field(form[item]))
        elif type(item) is HTML:
            parts.append(_Piece(str(item.html)))
        elif type(item) is Div and item.template == Div.template:
            css_id = f' id="{item.css_id}"' if item.css_id else ""
            css_class = f' class="{item.css_class}"' if item.css_class else ""
            parts.append(f"<div{css_id}{css_class}{item.flat_attrs}> ")
            if _layout_parts(form, item.fields, parts) is None:
                return None
            parts.append(" </div>")
        else:
            return None
    return parts


def _drawing(form, layout):
    """(the form's media, its layout's parts, adjacent markup joined), or None when crispy
    has to print the form."""
    parts = _layout_parts(form, layout.fields, [])
    if not parts:
        return None
    joined = []
    for part in parts:
        if joined and type(part) is not _Piece and type(joined[-1]) is not _Piece:
            joined[-1] += part
        else:
            joined.append(part if type(part) is _Piece else str(part))
    return str(form.media), tuple(joined)


def _printed(context, parts):
    return "".join(_html_template(str(part)).render(context) if type(part) is _Piece
                   else part for part in parts)


# --- Kept drawings (issue 10) ------------------------------------------------------------
#
# An unbound form of a class that says so (`keep_drawing = True`: the basic data, the
# parties, 帶入參考資料) prints the same markup for the same state: its drawing is kept per
# process under a key naming everything the markup is made of (_kept_key): the form's class,
# the language, its prefix and ids, its layout, and for each field its name, kind, label,
# required and disabled marks, help text, widget with its attributes, choices (a reference
# table's as the options kept with its rows, so that a reloaded table makes a new key) and
# initial value. A bound form, or one with errors, is drawn every time: it shows the user's
# typing and the errors. The layout's HTML pieces are rendered with each page's context.
# The key reads the fields without copying them (portal.forms.FieldsCopiedOnUse): a drawing
# found kept leaves the form's untouched fields uncopied.
# At most DRAWINGS_KEPT drawings (then all are forgotten); forgotten when a setting changes.
DRAWINGS_KEPT = 256
_DRAWINGS = {}


def _hashable(value):
    hash(value)  # TypeError when it is not
    return value


def _layout_key(objects):
    key = []
    for item in objects:
        if isinstance(item, str):
            key.append(item)
        elif type(item) is HTML:
            key.append((HTML, str(item.html)))
        elif type(item) is Div and item.template == Div.template:
            key.append((Div, item.css_id, item.css_class, item.flat_attrs,
                        _layout_key(item.fields)))
        else:
            raise TypeError  # crispy's to print, never kept
    return tuple(key)


def _choices_key(widget):
    choices = getattr(widget, "choices", None)
    if choices is None:
        return None
    kept = getattr(widget, "_kept_options", None)
    kept = kept() if kept is not None else None
    if kept is not None:
        return kept[0]  # the reference table's options, kept with its rows
    if not isinstance(choices, list | tuple):
        raise TypeError  # choices read anew (a callable): never kept
    return tuple((value, translated(label)) for value, label in choices)


def _field_state(name, field):
    # What the markup takes from the field and its widget, but its choices and initial value.
    widget = field.widget
    return (name, type(field), type(widget), translated(field.label), field.label is None,
            field.required,
            field.disabled, translated(field.help_text), field.localize,
            field.show_hidden_initial, field.label_suffix, widget.is_required,
            widget.is_localized, getattr(widget, "input_type", None),
            getattr(widget, "template_name", None), tuple(widget.attrs.items()))


# _field_state() of the form classes' own fields, per language. An unbound form reads its
# fields in place until it takes one out (portal.forms.FieldsCopiedOnUse), and the class's
# are never changed (a form changes its own copies), so their state is read once. Bounded
# as the drawings are; forgotten with them.
_CLASS_FIELD_STATES = {}


def _class_field_state(name, field, language):
    key = (field, name, language)
    state = _CLASS_FIELD_STATES.get(key)
    if state is None:
        if len(_CLASS_FIELD_STATES) >= DRAWINGS_KEPT * 4:
            _CLASS_FIELD_STATES.clear()
        state = _CLASS_FIELD_STATES[key] = _field_state(name, field)
    return state


def _field_key(form, name, field, shared, language):
    # The form's own copy, which it may have changed, is read each time.
    state = _class_field_state(name, field, language) if shared else _field_state(name, field)
    initial = form.get_initial_for_field(field, name)
    return (state, _choices_key(field.widget), type(initial), initial)


def _fields_read(form):
    # The fields as the key reads them, (name, field, whether it is a class's own): an
    # unbound form's not yet copied (portal.forms.FieldsCopiedOnUse) are read where they
    # are, a class's (never changed), and stay uncopied.
    fields = form.fields
    if isinstance(fields, FieldsCopiedOnUse):
        shared = fields.shared
        return ((name, field, shared(name)) for name, field in fields.read_only_items())
    return ((name, field, False) for name, field in fields.items())


# An unbound form none of whose fields was taken out (the entry steps' forms as built) has
# only fields that never change (a class's own, or put once: portal.forms.put_field): per
# form class, language and those fields, their states and their choices' keys are read
# once, but for a reference table's options, read each time (_choices_reading). Bounded as
# the drawings are; forgotten with them.
_UNTAKEN_FIELDS = {}
_UNTAKEN = object()  # marks such a key's fields part, read apart from _field_key's


def _choices_reading(widget):
    # (widget, None) for a reference table's options (kept with its rows, changed when they
    # are read again), read each time; else (None, the choices' key), never changed.
    kept = getattr(widget, "_kept_options", None)
    if kept is not None and kept() is not None:
        return widget, None
    return None, _choices_key(widget)


def _untaken_fields_key(form, fields, language):
    items = tuple(fields.read_only_items())
    known = _UNTAKEN_FIELDS.get((type(form), language, items))
    if known is None:
        if len(_UNTAKEN_FIELDS) >= DRAWINGS_KEPT:
            _UNTAKEN_FIELDS.clear()
        known = _UNTAKEN_FIELDS[(type(form), language, items)] = (
            tuple(_class_field_state(name, field, language) for name, field in items),
            tuple(_choices_reading(field.widget) for _name, field in items
                  if getattr(field.widget, "choices", None) is not None))
    states, readings = known
    get_initial = form.get_initial_for_field
    initials = tuple(get_initial(field, name) for name, field in items)
    return (_UNTAKEN, states,
            tuple(fixed if widget is None else _choices_key(widget)
                  for widget, fixed in readings),
            tuple(map(type, initials)), initials)


def _fields_key(form, language):
    fields = form.fields
    if isinstance(fields, FieldsCopiedOnUse) and fields.none_taken():
        return _untaken_fields_key(form, fields, language)
    return tuple(_field_key(form, name, field, shared, language)
                 for name, field, shared in _fields_read(form))


def _kept_key(form, layout):
    """The key of `form`'s kept drawing, or None when it is drawn every time."""
    if form.is_bound or not getattr(form, "keep_drawing", False) or form.errors:
        return None
    language = get_language()
    try:
        return _hashable((
            type(form), language, form.prefix, form.auto_id, form.label_suffix,
            form.use_required_attribute, getattr(form, "required_css_class", None),
            getattr(form, "error_css_class", None),
            _layout_key(layout.fields), _fields_key(form, language)))
    except TypeError:  # a value that cannot be a key: drawn every time
        return None


def _layout_drawing(form, layout):
    key = _kept_key(form, layout)
    if key is None:
        return _drawing(form, layout)
    drawing = _DRAWINGS.get(key)
    if drawing is None:
        drawing = _drawing(form, layout)
        if len(_DRAWINGS) >= DRAWINGS_KEPT:
            _DRAWINGS.clear()
        _DRAWINGS[key] = drawing
    return drawing


@receiver(setting_changed)
def _forget_drawings(**kwargs):
    _DRAWINGS.clear()
    _CLASS_FIELD_STATES.clear()
    _UNTAKEN_FIELDS.clear()


class FormFieldsNode(template.Node):
    def __init__(self, form):
        self.form = template.Variable(form)
        self.crispy = CrispyFormNode(form, None)  # a variable's name, as crispy's tag takes

    def render(self, context):
        try:
            form = self.form.resolve(context)
        except template.VariableDoesNotExist:
            return self.crispy.render(context)  # what crispy prints for a missing form
        layout = getattr(getattr(form, "helper", None), "layout", None)
        if _plain(form) and isinstance(layout, Layout):
            drawing = _layout_drawing(form, layout)
            if drawing is not None:
                media, parts = drawing
                html = _printed(context, parts)
                errors = form.non_field_errors()
                if errors:
                    items = "".join(f"<li>{escaped(error)}</li>" for error in errors)
                    html = (f'<div class="alert alert-block alert-danger"><ul class="m-0">'
                            f"{items}</ul></div> {html}")
                return SafeString(f"{media} {html}" if media else html)
        return self.crispy.render(context)


@register.tag
def form_fields(parser, token):
    """{% form_fields form %}: the form's fields as {% crispy form %} prints them (module
    docstring), without the CSRF input."""
    try:
        _tag, form = token.split_contents()
    except ValueError:
        raise template.TemplateSyntaxError("{% form_fields form %}") from None
    return FormFieldsNode(form)
