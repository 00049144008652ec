from django import template

from portal import plain_fields

register = template.Library()


@register.filter
def plain_field(field):
    """{{ form.number|plain_field }}: what {{ form.number|as_crispy_field }} prints, without
    crispy's templates (portal.plain_fields)."""
    return plain_fields.plain_field(field)
