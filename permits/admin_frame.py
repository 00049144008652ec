"""The admin's frame around a page written in Python (the reviewers' case page,
permits.admin_case), drawn from its template once per process and kind of page instead of on
every request (issue 10, bench/README.md "Stop 22 (admin drawing)").

The frame (templates/admin/base_site.html, under the page's own template) is the same for
every request but for a few values: the title, the user's name, the CSRF token, the
breadcrumbs, the content. So its template is rendered once with a marker in place of each of
those (a "skeleton", kept per language, script prefix, URL configuration, time zone offset
and every flag the template tests: the user's kind, the site's settings), and each request
puts its values, escaped as the template escapes them, where the markers stand. Nothing a
user sees is kept (the skeleton holds no value of a request), and what the template would
draw differently for a request (messages to show, the navigation sidebar's apps, a value
the skeleton does not know) is drawn by the template as before. A change of any setting (the
tests' override_settings: the context processors read settings, the idle notice's times for
one) forgets the skeletons. tests/permits/test_admin_frame.py compares the page with
Django's chain of templates; tests/permits/test_admin_frame_kept.py with the template drawn
on every request.
"""

import re

from django.contrib.messages import get_messages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.middleware.csrf import get_token
from django.template.context import make_context
from django.template.loader import render_to_string
from django.template.loader_tags import ExtendsNode
from django.template.response import TemplateResponse
from django.urls import get_script_prefix, get_urlconf
from django.utils import dateformat, timezone
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString
from django.utils.translation import get_language

# The response's template: the page drawn here, as it is (the test client sees the page's
# context through it).
FILLED = "admin/permits/application/framed.html"

_MARK = "\x00{}\x00"
_MARKS = re.compile("\x00([a-z_]+)\x00")
_HOLES = ("title", "subtitle", "site_url", "csrf_token", "user_name", "breadcrumbs", "content",
          "media_css", "media_js")
_GIVEN = {"csrf_token", "user_name", "media_css", "media_js"}  # always a marker

# {key: [text, hole, text, hole, ..., text]}
_SKELETONS = {}
# {template name: the template that draws it with its content block a hole}
_HOLLOWED = {}


@receiver(setting_changed)
def _forget(setting, **kwargs):
    _SKELETONS.clear()
    _HOLLOWED.clear()


class _Someone:
    """The user as the frame's template reads it: its flags, its name a marker."""

    def __init__(self, user):
        self.is_anonymous = user.is_anonymous
        self.is_authenticated = user.is_authenticated
        self.is_active = user.is_active
        self.is_staff = user.is_staff
        self.usable = getattr(user, "has_usable_password", lambda: False)()

    def has_usable_password(self):
        return self.usable

    def get_short_name(self):
        return SafeString(_MARK.format("user_name"))

    get_username = get_short_name

    def flags(self):
        return (self.is_anonymous, self.is_authenticated, self.is_active, self.is_staff,
                self.usable)


def framed(request, template, context, flags=()):
    """The response of `template` (a name or a template, which extends the admin's frame)
    for `context`, its frame drawn from a skeleton (see above) where it can be; `flags`: what
    else the template tests outside the holes."""
    user = context.get("user", request.user)
    values = _values(request, context, user)
    if values is None:
        return TemplateResponse(request, template, context)
    someone = _Someone(user)
    key = (template, get_language(), get_script_prefix(), get_urlconf(),
           # {% now "Z" %}: the time zone's offset now
           dateformat.format(timezone.localtime(), "Z"),
           someone.flags(), bool(context.get("title")), bool(context.get("subtitle")),
           bool(context.get("site_url")), bool(context.get("breadcrumbs")),
           bool(context.get("content")), str(context.get("site_header", "")),
           str(context.get("site_title", "")), context.get("has_permission"),
           context.get("is_popup"), context.get("opts"), flags)
    skeleton = _SKELETONS.get(key)
    if skeleton is None:
        # A value the template tests (title, subtitle, ...) a marker only where it is given.
        marked = {**context, **{hole: SafeString(_MARK.format(hole)) for hole in _HOLES
                                if context.get(hole) or hole in _GIVEN},
                  "user": someone, "messages": (),
                  "media": {"css": SafeString(_MARK.format("media_css")),
                            "js": SafeString(_MARK.format("media_js"))}}
        skeleton = _MARKS.split(render_to_string(template, marked, request)
                                if isinstance(template, str) else
                                template.render(marked, request))
        if any("\x00" in text for text in skeleton[::2]) or not set(skeleton[1::2]) <= set(
                _HOLES):  # a marker the template changed: draw it each time
            return TemplateResponse(request, template, context)
        _SKELETONS[key] = skeleton
    page = [values[part] if index % 2 else part for index, part in enumerate(skeleton)]
    return TemplateResponse(request, FILLED, {**context, "page": SafeString("".join(page))})


def _values(request, context, user):
    """{hole: its HTML} of this request, or None where the skeleton would not draw the page
    as the template does."""
    if (context.get("is_nav_sidebar_enabled") or context.get("autosave_url")
            or "messages" in context or get_messages(request)):
        return None
    media = context.get("media") or {}
    if not isinstance(media, dict):  # a forms.Media: the template prints it
        return None
    name = user.get_short_name() or user.get_username()
    return {
        "title": conditional_escape(context.get("title", "")),
        "subtitle": conditional_escape(context.get("subtitle", "")),
        "site_url": conditional_escape(context.get("site_url") or ""),
        "csrf_token": conditional_escape(context["csrf_token"]),
        "user_name": conditional_escape(name),
        "breadcrumbs": conditional_escape(context.get("breadcrumbs", "")),
        "content": conditional_escape(context.get("content", "")),
        "media_css": conditional_escape(media.get("css", "")),
        "media_js": conditional_escape(media.get("js", "")),
    }


def framed_content(request, response, flags=(), content=None):
    """`response` (a TemplateResponse not yet rendered, whose template extends the admin's
    frame) with its block "content" drawn by its template for the request and its frame
    from a skeleton (framed()): the case list. `content`: None, or a function of the
    template's name, the response's context and the request's CSRF token giving the block's
    HTML as the template draws it, or None where the template is to draw it
    (admin_list.content_block)."""
    template = response.resolve_template(response.template_name)
    compiled = template.template
    extends = next((node for node in compiled.nodelist if isinstance(node, ExtendsNode)), None)
    if not (extends and extends.blocks.get("content")):  # not its own: drawn by its templates
        return response
    hollow = _HOLLOWED.get(template.origin.template_name)
    if hollow is None:
        hollow = _HOLLOWED[template.origin.template_name] = template.backend.from_string(
            '{% extends "' + template.origin.template_name + '" %}'
            "{% block content %}{{ content }}{% endblock %}")
    context = {**response.context_data, "csrf_token": get_token(request)}
    written = content and content(template.origin.template_name, context,
                                  context["csrf_token"])
    if written is not None:
        context["content"] = written
    else:
        block = extends.blocks["content"]
        drawn = make_context(context, request, autoescape=template.backend.engine.autoescape)
        with drawn.render_context.push_state(compiled), drawn.bind_template(compiled):
            drawn.template_name = compiled.name
            context["content"] = SafeString(block.render(drawn))
    return framed(request, hollow, context, flags)
