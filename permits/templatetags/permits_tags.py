import uuid

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def client_token():
    """A hidden one-time token for a form that creates a case (see services.application_create):
    a double-clicked submit then creates one case."""
    return format_html('<input type="hidden" name="client_token" value="{}">', uuid.uuid4().hex)
