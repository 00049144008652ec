from django import template

register = template.Library()


@register.filter
def total_minutes(value):
    """A timedelta as whole minutes, rounded up: 15 for timedelta(minutes=14, seconds=1)."""
    if not value:
        return 0
    return -(-int(value.total_seconds()) // 60)
