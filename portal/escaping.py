"""Escaping text for HTML written out in Python (issue 10).

Django's escape() and conditional_escape() go through keep_lazy's wrapper, which looks for
lazy arguments on every call: most of what a dozen escapes a form field, or five values in
each row of a list, cost once the template engine was gone (profiled). `escaped` gives the
same text as conditional_escape() without it.
"""

import html
import re

from django.utils.functional import Promise

_escape = html.escape  # what django.utils.html.escape() calls, quotes included
_SPECIAL = re.compile("[&<>\"']").search  # what it replaces: most texts hold none


def escaped(value):
    """conditional_escape(`value`) as text: markup (__html__) as it is, anything else
    escaped as Django's escape() escapes it (&, <, >, " and ')."""
    if type(value) is str:
        return _escape(value) if _SPECIAL(value) else value
    if isinstance(value, Promise):
        value = str(value)
    if hasattr(value, "__html__"):
        return value.__html__()
    return _escape(str(value))


def escaped_all(texts):
    """[escaped(text) for text in `texts`], escaped as one text joined by NUL (which HTML
    escaping leaves as it is) and split again: one call for a page's texts (the 轉口港代碼
    look-up's 400) in place of one each. A text holding NUL itself, or not a str, is
    escaped alone."""
    try:
        shown = _escape("\x00".join(texts)).split("\x00")
    except TypeError:
        shown = ()
    return shown if len(shown) == len(texts) else [escaped(text) for text in texts]
