"""A form field as crispy's bootstrap5 `as_crispy_field` prints it, written out in Python
(issue 10).

Crispy renders a field through half a dozen templates (field.html, the help text and error
includes, then Django's widget, attrs and option templates): 0.3 to 0.5 ms of CPU a field,
a third of a query page such as 申辦狀況查詢作業 with its four fields (profiled). `plain_field`
prints the same markup, less the blanks between tags that crispy's templates leave: the
wrapper with its id, the label with the required mark, the widget with crispy's classes
(form-control or form-select, is-invalid) and Django's own attributes (required, maxlength,
aria-invalid, aria-describedby naming the help text and errors), the errors under the field
and the help text. `templates/includes/text_field.html` uses it; tests/portal/
test_plain_fields.py compares both on every form of the pages that use it, bound and
unbound, refused, in both languages.

Only what those pages need is written out: one-line inputs (text, number, e-mail, URL...),
single selects (Django's or a widget that renders itself, as permits.fields.CodeSelect), with
the form's default FormHelper. Anything else (checkboxes, files, radios, hidden or
multi-part widgets, a helper that changes the layout) goes to crispy itself, so the markup
is crispy's in every case.

Written once, this still cost about 90 µs a field (9-1-1's five forms: 2 ms of a page of 9):
Django's escape() behind its lazy-argument wrapper (a dozen a field), each lazy label
translated again at every use, the field's errors and id worked out again by each
BoundField property that reads them. Here each is done once a field (portal.escaping,
`translated`), about 35 µs a field (issue 10, second pass).
"""

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django import forms
from django.conf import settings
from django.utils.functional import Promise
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from portal.escaping import escaped

# Django's templates of these widgets only include input.html (or are select.html).
_INPUT_TEMPLATES = {f"django/forms/widgets/{name}.html" for name in
                    ("text", "number", "email", "url", "tel", "search", "input")}
_SELECT_TEMPLATE = "django/forms/widgets/select.html"
_OPTION_TEMPLATE = "django/forms/widgets/select_option.html"

# Labels, help texts and choices are lazy translations, each str() a gettext through one or
# two proxies (capfirst of a verbose name): about a third of a field's context. They depend
# on the language only, so each is translated once per process and language (the entry
# keeps the proxy, so that an id used again by another object is not taken for it).
_TRANSLATED = {}
_TRANSLATED_MAX = 4096


def translated(value):
    """`value` (a label, help text or choice) as text ("" for None)."""
    if value is None:
        return ""
    if not isinstance(value, Promise):
        return str(value)
    key = (id(value), get_language())
    found = _TRANSLATED.get(key)
    if found is None or found[0] is not value:
        if len(_TRANSLATED) >= _TRANSLATED_MAX:
            _TRANSLATED.clear()  # labels built per form (format_lazy) come and go
        found = _TRANSLATED[key] = (value, str(value))
    return found[1]


_NAMES = {}  # {attribute name: escaped}: the few names widgets use, escaped once


def attrs_html(attrs):
    """The attributes as django/forms/widgets/attrs.html writes them."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        text = _NAMES.get(name)
        if text is None:
            text = escaped(name)
            if len(_NAMES) < 256:
                _NAMES[name] = text
        parts.append(f" {text}" if value is True else f' {text}="{escaped(value)}"')
    return "".join(parts)


def css_classes(field):
    """BoundField.css_classes(): the form's error_css_class and required_css_class, which
    PortalForm does not set (each call works out the field's errors again)."""
    form = field.form
    if hasattr(form, "error_css_class") or hasattr(form, "required_css_class"):
        return field.css_classes()
    return ""


def errors_html(errors, auto_id, *, list_id=None, tag="span"):
    """A field's errors as crispy's bootstrap5 field templates print them, under the field
    (`auto_id` escaped): their <div>, whose id (`list_id`, else `auto_id`) the field's
    aria-describedby names, each error in `tag`."""
    items = "".join(f'<{tag} id="error_{number}_{auto_id}"><strong>{escaped(error)}'
                    f"</strong></{tag}>" for number, error in enumerate(errors, 1))
    return (f'<div id="{auto_id if list_id is None else list_id}_error" '
            f'class="invalid-feedback">{items}</div>')


def help_html(help_text, auto_id):
    """The help text under a field (markup: crispy prints it |safe)."""
    named = f'id="{auto_id}_helptext" ' if auto_id else ""
    return f'<div {named}class="form-text">{help_text}</div>'


def _default_helper(form):
    helper = getattr(form, "helper", None)
    if helper is None:
        return True
    return all(getattr(helper, name, None) == value for name, value in (
        ("form_show_errors", True), ("form_show_labels", True), ("error_text_inline", True),
        ("help_text_inline", False), ("label_class", ""), ("field_class", ""),
        ("form_class", ""))) and helper.field_template in (None, "bootstrap5/field.html")


def _kind(widget):
    """"input", "select", "own" (a select that renders itself) or None (crispy's)."""
    if widget.is_hidden or isinstance(widget, forms.MultiWidget | forms.FileInput |
                                      forms.CheckboxInput | forms.RadioSelect):
        return None
    renders_itself = type(widget).render is not forms.Widget.render
    if isinstance(widget, forms.Select):
        if widget.allow_multiple_selected:
            return None
        if renders_itself:
            return "own"
        if (widget.template_name, widget.option_template_name) == (_SELECT_TEMPLATE,
                                                                   _OPTION_TEMPLATE):
            return "select"
        return None
    if isinstance(widget, forms.widgets.Input) and not renders_itself and \
            widget.template_name in _INPUT_TEMPLATES:
        return "input"
    return None


def add_classes(widget, css):
    """What crispy's {% crispy_field field 'class' css %} does to the widget's attrs (the
    form's own copy of the widget): its class name, then each of `css` not there yet."""
    class_name = type(widget).__name__.lower()
    class_name = getattr(settings, "CRISPY_CLASS_CONVERTERS", {}).get(class_name, class_name)
    current = widget.attrs.get("class", "")
    if current:
        if current.find(class_name) == -1:
            current += f" {class_name}"
    else:
        current = class_name
    widget.attrs["class"] = current
    for name in css.split():
        if name not in widget.attrs["class"].split():
            widget.attrs["class"] += f" {name}"


def _widget_html(field, kind, auto_id):
    """The widget as BoundField.as_widget() renders it, without the template engine."""
    widget = field.field.widget
    attrs = field.build_widget_attrs({}, widget)
    if auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", auto_id)
    value = field.value()
    if kind == "own":
        return widget.render(name=field.html_name, value=value, attrs=attrs,
                             renderer=field.form.renderer)
    context = widget.get_context(field.html_name, value, attrs)["widget"]
    name = escaped(context["name"])
    if kind == "input":
        shown = "" if context["value"] is None else f' value="{escaped(context["value"])}"'
        return f'<input type="{escaped(context["type"])}" name="{name}"{shown}' \
               f'{attrs_html(context["attrs"])}>'
    options = []
    for group_name, group_choices, _index in context["optgroups"]:
        if group_name:
            options.append(f'\n  <optgroup label="{escaped(group_name)}">')
        for option in group_choices:
            options.append(f'\n  <option value="{escaped(option["value"])}"'
                           f'{attrs_html(option["attrs"])}>{escaped(translated(option["label"]))}'
                           f"</option>\n")
        if group_name:
            options.append("\n  </optgroup>")
    return f'<select name="{name}"{attrs_html(context["attrs"])}>{"".join(options)}\n</select>'


def plain_field(field, *, default_helper=None):
    """`field` (a BoundField) as `{{ field|as_crispy_field }}` prints it (module
    docstring). `default_helper`: whether the form's helper is known to be the default one
    (permits.templatetags.form_fields checks it once a form)."""
    widget = field.field.widget
    kind = _kind(widget)
    if default_helper is None:
        default_helper = _default_helper(field.form)
    if kind is None or field.use_fieldset or not default_helper:
        return as_crispy_field(field)
    errors = field.errors
    add_classes(widget, ("form-select" if kind != "input" else "form-control")
                + (" is-invalid" if errors else ""))
    auto_id = field.auto_id
    id_text = escaped(auto_id)
    required = field.field.required
    css = css_classes(field)
    parts = [f'<div id="div_{id_text}" class="mb-3', f" {escaped(css)}" if css else "",
             '">']
    label = translated(field.label)
    if label:
        target = widget.id_for_label(widget.attrs.get("id") or auto_id)
        target = f' for="{escaped(target)}"' if target else ""
        mark = ' requiredField' if required else ""
        asterisk = '<span class="asteriskField">*</span>' if required else ""
        parts.append(f'<label{target} class="form-label{mark}">'
                     f"{escaped(label)}{asterisk}</label>")
    parts.append(_widget_html(field, kind, auto_id))
    if errors:
        parts.append(errors_html(errors, id_text, list_id=escaped(errors.field_id)))
    help_text = translated(field.help_text)
    if help_text:
        parts.append(help_html(help_text, id_text))
    parts.append("</div>")
    return mark_safe("".join(parts))  # noqa: S308 (every value escaped; help text is markup)
