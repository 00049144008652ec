from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from portal.forms import PortalForm
from reconciliation import api

# The same words for a number that does not exist and for one the user may not see: the page
# must not tell who else's declarations exist (RECON-3, ACC-4).
NOT_FOUND = _("No declaration with this number was found.")


class DeclarationQueryForm(PortalForm):
    """單證比對查詢 (RECON-3): by declaration number."""

    number = forms.CharField(label=_("Declaration number"), max_length=14,
                             widget=forms.TextInput(attrs={"autocomplete": "off"}))

    def clean_number(self):
        return self.cleaned_data["number"].strip().upper()


class MessageFileForm(forms.Form):
    """A file of messages from customs for the admin (RECON-1): JSON lines (.jsonl), one
    message per line, or a .json file holding one message or an array of them. After
    is_valid(): `entries` [(position, message)] and `broken` [(line_no, error)]; a position
    is a line number in JSON lines and the message's place in the array in .json."""

    MAX_BYTES = api.MAX_BODY_BYTES

    file = forms.FileField(
        label=_("File of messages from customs"),
        help_text=_("JSON lines (.jsonl), one message per line, or a .json file with one "
                    "message or an array of them; UTF-8, at most 5 MB."))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        name = upload.name.lower()
        self.json_lines = name.endswith(".jsonl")
        if not (self.json_lines or name.endswith(".json")):
            raise ValidationError(_("Choose a .jsonl or .json file."), code="extension")
        if upload.size > self.MAX_BYTES:
            raise ValidationError(_("The file is larger than 5 MB."), code="too_large")
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError(_("The file is not UTF-8 text."), code="encoding") from None
        if self.json_lines:
            self.entries, self.broken = api.read_json_lines(text)
        else:
            try:
                data = api.decode(text)
            except ValueError as error:
                raise ValidationError(_("The file is not valid JSON: %(error)s"),
                                      code="malformed", params={"error": error}) from None
            batch = data if isinstance(data, list) else [data]
            self.entries, self.broken = list(enumerate(batch, start=1)), []
        if not (self.entries or self.broken):
            raise ValidationError(_("The file holds no messages."), code="empty")
        return upload
