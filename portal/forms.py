"""Form pieces every procedure uses: the crispy base form and the ROC date field."""

import contextlib
import datetime

from crispy_forms.helper import FormHelper
from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from portal import dates


def field_label(model, name):
    """A model field's label as forms and pages show it: its verbose name, capitalised."""
    return capfirst(model._meta.get_field(name).verbose_name)


class PortalFormMixin:
    """Builds the crispy FormHelper once. Crispy renders every error next to its field and
    the bound values back into the inputs, so a bad form loses nothing the user typed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper(self)
        # Templates write the <form> tag themselves (with novalidate, so that the server's
        # messages, in the user's language, are the ones shown) and the buttons the manuals
        # name next to it.
        self.helper.form_tag = False


class PortalForm(PortalFormMixin, forms.Form):
    pass


class PortalModelForm(PortalFormMixin, forms.ModelForm):
    pass


class RocDateInput(forms.TextInput):
    """Shows a date as 109/09/12; what the user typed comes back unchanged on a bad form."""

    def __init__(self, attrs=None):
        attrs = {"placeholder": "109/09/12", "inputmode": "numeric",
                 "autocomplete": "off", **(attrs or {})}
        super().__init__(attrs)

    def format_value(self, value):
        if isinstance(value, str) and len(value) == 10 and value[4] == "-":
            # An ISO date from stored JSON (a draft); anything else is what the user typed
            # and is shown as it was.
            with contextlib.suppress(ValueError):
                value = datetime.date.fromisoformat(value)
        if isinstance(value, datetime.date):
            return dates.to_roc(value)
        return super().format_value(value)


class RocDateField(forms.DateField):
    """Accepts the ROC calendar (109/09/12, 1090912) and the Gregorian one (2020-09-12)."""

    widget = RocDateInput
    default_error_messages = {
        "invalid": _("Enter a date such as 109/09/12 (ROC year) or 2020-09-12."),
    }

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        try:
            return dates.parse(str(value))
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
