"""The bureau's internal notes on a case (issue 14, point 5): written by reviewers on the admin's
case page, listed there with the assignments (permits.assignment) as the case's internal
history (ReviewEvent rows, oldest first, with author and time).

Never shown to the applicant: a note of a move (StatusChange.note) is what the applicant
receives, in the status history, the e-mail and the PDF; a ReviewEvent is read by the admin's
case page only (permits.admin_case, in the page's one round trip: REVIEW_EVENTS_QUERY).

A form posted from the case page that the server refuses (a note too long, a NUL byte; a
decision on a risk flag, shtc.admin_risk) draws the same page again with the error next to
the field and what was typed kept: refused_page() keeps the bound form on the request,
posted_form() gives it to the panel that draws it.
"""

import functools
import html

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.middleware.csrf import get_token
from django.shortcuts import redirect
from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from permits.models import ReviewEvent, ReviewEventKind
from permits.prepared import PreparedInstances
from portal.forms import TextRuleMixin
from portal.templatetags.roc import roc_datetime

NOTE_MAX_LENGTH = 2000
NOTE_FORM = "internal-note"  # the key of the note's form among posted_form()'s

# The case's internal history, read in the case page's one round trip (permits.admin_case._read)
# with its authors and assignees, by a query compiled once per process.
REVIEW_EVENTS_QUERY = PreparedInstances(
    ReviewEvent, lambda case: ReviewEvent.objects.filter(application=case).select_related(
        "actor", "assignee").order_by("created_at", "pk"), parameters=("case",),
    keep_plan=True)


class InternalNoteForm(TextRuleMixin, forms.Form):
    text = forms.CharField(label=_("Internal note"), max_length=NOTE_MAX_LENGTH,
                           widget=forms.Textarea(attrs={"rows": 3}))


@transaction.atomic
def review_note_add(*, application, actor, text):
    """Add `actor`'s (a reviewer's) internal note `text` to `application`'s internal history.
    No e-mail, no status change: the applicant never learns of it."""
    return ReviewEvent.objects.create(application=application, kind=ReviewEventKind.NOTE,
                                      actor=actor, text=text)


# --- The refused form, drawn again -------------------------------------------------------


def posted_form(request, key):
    """The bound form posted under `key` that the server refused, drawn again by its panel
    with its errors and what was typed; None when the page is drawn afresh (GET)."""
    return getattr(request, "_refused_forms", {}).get(key)


@functools.cache
def fresh_form(form_class):
    """An unbound `form_class`, made once per process: what field_html() reads of a form
    drawn afresh (its field's label, in the page's language, and length) is the same on
    every page, and nothing changes it."""
    return form_class()


def refused_page(model_admin, request, case, key, form):
    """The case page again (permits.admin_case.case_page) with the refused `form` in its
    panel, answered 400 as the portal answers a refused form (portal.forms.RefusedFormMixin).
    A page the reviewers' own page does not draw: back to the case with the errors as
    messages."""
    from permits.admin_case import case_page

    request._refused_forms = {key: form}
    response = case_page(model_admin, request, case, {"refused_form": form})
    if response is None:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("admin:permits_application_change", case.pk)
    response.status_code = 400
    return response


def field_html(form, name, field_id, *, rows=3, described=""):
    """A textarea of `form`'s field `name` as the admin draws a form row: its label, its
    errors tied to it (aria-describedby, aria-invalid), what was typed kept. Escaped."""
    field = form.fields[name]
    errors = form.errors.get(name, []) if form.is_bound else []
    # (a NUL byte, refused, cannot be written into HTML: shown as U+FFFD as a browser would)
    value = form.data.get(name, "").replace("\x00", "\ufffd") if form.is_bound else ""
    error_id = f"{field_id}_error"
    described_by = " ".join(part for part in (described, error_id if errors else "") if part)
    parts = [f'<div class="form-row{" errors" if errors else ""}">']
    if errors:
        parts.append(f'<ul class="errorlist" id="{error_id}">' + "".join(
            f"<li>{html.escape(str(error))}</li>" for error in errors) + "</ul>")
    parts.append(
        f'<label for="{field_id}" class="required">{html.escape(str(field.label))}</label>'
        f'<textarea name="{name}" id="{field_id}" rows="{rows}" cols="80" '
        f'maxlength="{field.max_length}" required'
        + (f' aria-describedby="{described_by}"' if described_by else "")
        + (' aria-invalid="true"' if errors else "")
        + f">\n{html.escape(value)}</textarea></div>")
    return "".join(parts)


# --- The panel ---------------------------------------------------------------------------


def events_of(case):
    """The case's internal history: as the case page read it in its round trip (in place as
    case.review_events), else by one query (Django's change form of a superuser)."""
    cached = getattr(case, "_prefetched_objects_cache", {}).get("review_events")
    if cached is not None:
        return list(cached)
    return REVIEW_EVENTS_QUERY.instances(case=case.pk)


def _who(user):
    return user.name or user.identifier


def _event_text(event):
    if event.kind == ReviewEventKind.NOTE:
        return linebreaksbr(event.text, autoescape=True)
    if event.assignee_id is None:
        return html.escape(gettext("Put back among the unassigned cases."))
    return html.escape(gettext("Assigned to %(name)s.") % {"name": _who(event.assignee)})


def notes_html(case, events, request, token=None):
    """The 內部註記 panel: the case's internal history `events` (ReviewEvent rows, oldest
    first, their actors and assignees read with them), each with its author and time, and
    the form that adds a note, with the page's CSRF `token` if given (masked once a page).
    Every value escaped."""
    parts = ['<section class="module internal-notes" aria-labelledby="internal-notes-heading" '
             'data-testid="internal-notes">\n<h2 id="internal-notes-heading">'
             + html.escape(gettext("Internal notes")) + "</h2>\n"
             '<p class="help" id="internal-notes-help">' + html.escape(gettext(
                 "The bureau's own history of the case: notes and assignments. The applicant "
                 "never sees it.")) + "</p>\n"]
    if events:
        parts.append('<ol class="internal-history">')
        for event in events:
            parts.append(
                f'<li class="review-event review-event-{html.escape(event.kind)}" '
                'data-testid="review-event"><p class="review-event-meta">'
                f'<time datetime="{event.created_at.isoformat()}">'
                f"{html.escape(roc_datetime(event.created_at))}</time> · "
                f"{html.escape(_who(event.actor))} · "
                f"{html.escape(str(event.get_kind_display()))}</p>"
                f'<div class="review-event-text">{_event_text(event)}</div></li>')
        parts.append("</ol>\n")
    else:
        parts.append('<p data-testid="review-events-none">'
                     + html.escape(gettext("No internal notes yet.")) + "</p>\n")
    from permits.admin import keyed_url

    form = posted_form(request, NOTE_FORM) or fresh_form(InternalNoteForm)
    url = keyed_url("admin:permits_application_note", case.pk)  # reversed once per process
    parts.append(
        f'<form method="post" action="{html.escape(url)}" id="internal-note-form" novalidate>'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{token or get_token(request)}">'
        + field_html(form, "text", "id_internal_note", described="internal-notes-help")
        + '<div class="submit-row"><button type="submit" class="button">'
        + html.escape(gettext("Add the note")) + "</button></div></form>\n</section>\n")
    return "".join(parts)


# --- The view ----------------------------------------------------------------------------


def note_view(request, pk, *, model_admin):
    """POST: a reviewer's internal note on case `pk`; back to the case page, or the page
    again with the error next to the field. (A reviewer's POST: ApplicationAdmin.case_button.)"""
    case = model_admin.get_object(request, str(pk))
    if case is None:
        raise Http404
    form = InternalNoteForm(request.POST)
    if not form.is_valid():
        return refused_page(model_admin, request, case, NOTE_FORM, form)
    review_note_add(application=case, actor=request.user, text=form.cleaned_data["text"])
    messages.success(request, gettext("The internal note was added."))
    return redirect(reverse("admin:permits_application_change", args=[case.pk])
                    + "#internal-notes-heading")
