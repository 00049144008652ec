"""get_FOO_display() without rebuilding the field's choices on every call.

Django's Model._get_FIELD_display builds a dict of the field's choices, hashing every lazy
label (a gettext each), on every call. A list of 25 cases showing document type, kind and
status made over a hundred such calls and most of the page's gettext work (issue 10,
profiled). The choices of a field are fixed when its class is made, so the mapping is built
once per field; the labels stay lazy and are translated when shown, in the page's language.
"""

from django.utils.encoding import force_str
from django.utils.hashable import make_hashable

_LABELS = {}


class ChoiceLabels:
    """A model mixin (before models.Model in the bases) whose get_FOO_display() reads a
    mapping built once per field."""

    def _get_FIELD_display(self, field):
        labels = _LABELS.get(field)
        if labels is None:
            labels = _LABELS[field] = dict(make_hashable(field.flatchoices))
        value = getattr(self, field.attname)
        return force_str(labels.get(make_hashable(value), value), strings_only=True)
