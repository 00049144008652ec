"""A form field as crispy's bootstrap5 `as_crispy_field` prints it, written out in Python
(issue 10).

Crispy renders a field through half a dozen templates (field.html, the help text and error
includes, then Django's widget, attrs and option templates): 0.3 to 0.5 ms of CPU a field,
a third of a query page such as 申辦狀況查詢作業 with its four fields (profiled). `plain_field`
prints the same markup, less the blanks between tags that crispy's templates leave: the
wrapper with its id, the label with the required mark, the widget with crispy's classes
(form-control or form-select, is-invalid) and Django's own attributes (required, maxlength,
aria-invalid, aria-describedby naming the help text and the errors), the errors under it
and the help text. `templates/includes/text_field.html` uses it; tests/portal/
test_plain_fields.py compares both on every form of the pages that use it, bound and
unbound, refused, in both languages.

Only what those pages need is written out: one-line inputs (text, number, e-mail, URL...),
single selects (Django's or a widget that renders itself, as permits.fields.CodeSelect), with
the form's default FormHelper. Anything else (checkboxes, files, radios, hidden or
multi-part widgets, a helper that changes the layout) goes to crispy itself, so the markup
is crispy's in every case.
"""

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django import forms
from django.conf import settings
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

# Django's templates of these widgets only include input.html (or are select.html).
_INPUT_TEMPLATES = {f"django/forms/widgets/{name}.html" for name in
                    ("text", "number", "email", "url", "tel", "search", "input")}
_SELECT_TEMPLATE = "django/forms/widgets/select.html"
_OPTION_TEMPLATE = "django/forms/widgets/select_option.html"
def attrs_html(attrs):
    """The attributes as django/forms/widgets/attrs.html writes them."""
    return "".join(
        f" {conditional_escape(name)}" if value is True
        else f' {conditional_escape(name)}="{conditional_escape(value)}"'
        for name, value in attrs.items() if value is not False)


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


def _widget_html(field, kind):
    """The widget as BoundField.as_widget() renders it, without the template engine."""
    widget = field.field.widget
    attrs = field.build_widget_attrs({}, widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    value = field.value()
    if kind == "own":
        return widget.render(name=field.html_name, value=value, attrs=attrs,
                             renderer=field.form.renderer)
    context = widget.get_context(field.html_name, value, attrs)["widget"]
    name = conditional_escape(context["name"])
    if kind == "input":
        shown = "" if context["value"] is None else \
            f' value="{conditional_escape(context["value"])}"'
        return f'<input type="{conditional_escape(context["type"])}" name="{name}"{shown}' \
               f'{attrs_html(context["attrs"])}>'
    options = []
    for group_name, group_choices, _index in context["optgroups"]:
        if group_name:
            options.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        for option in group_choices:
            options.append(f'\n  <option value="{conditional_escape(option["value"])}"'
                           f'{attrs_html(option["attrs"])}>{conditional_escape(option["label"])}'
                           f"</option>\n")
        if group_name:
            options.append("\n  </optgroup>")
    return f'<select name="{name}"{attrs_html(context["attrs"])}>{"".join(options)}\n</select>'


def plain_field(field):
    """`field` (a BoundField) as `{{ field|as_crispy_field }}` prints it (module
    docstring)."""
    kind = _kind(field.field.widget)
    if kind is None or field.use_fieldset or not _default_helper(field.form):
        return as_crispy_field(field)
    errors = field.errors
    invalid = " is-invalid" if errors else ""
    add_classes(field.field.widget,
                 ("form-select" if kind != "input" else "form-control") + invalid)
    auto_id = conditional_escape(field.auto_id)
    required = field.field.required
    css_classes = field.css_classes()
    parts = [f'<div id="div_{auto_id}" class="mb-3',
             f" {conditional_escape(css_classes)}" if css_classes else "", '">']
    if field.label:
        target = field.id_for_label
        target = f' for="{conditional_escape(target)}"' if target else ""
        mark = ' requiredField' if required else ""
        asterisk = '<span class="asteriskField">*</span>' if required else ""
        parts.append(f'<label{target} class="form-label{mark}">'
                     f"{conditional_escape(field.label)}{asterisk}</label>")
    parts.append(_widget_html(field, kind))
    if errors:
        parts.append(f'<div id="{conditional_escape(errors.field_id)}_error" '
                     f'class="invalid-feedback">')
        parts.extend(f'<span id="error_{number}_{auto_id}"><strong>'
                     f"{conditional_escape(error)}</strong></span>"
                     for number, error in enumerate(errors, 1))
        parts.append("</div>")
    if field.help_text:
        named = f'id="{auto_id}_helptext" ' if auto_id else ""
        parts.append(f'<div {named}class="form-text">{field.help_text}</div>')
    parts.append("</div>")
    return mark_safe("".join(parts))  # noqa: S308 (every value escaped; help text is markup)
