"""Attachments (being written)."""

from django import forms


class AttachmentForm(forms.Form):
    def __init__(self, *args, document_type=None, **kwargs):
        super().__init__(*args, **kwargs)
