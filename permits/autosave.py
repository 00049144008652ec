"""What a user typed on a case entry page is not lost to the idle logout (ACC-3).

The SHTC manual (FAQ 3.5–3.6) tells a user logged out after 20 idle minutes to log in again
and click 匯入暫存資料, which brings back what was saved up to the last 下一步 / 確認 only. Here
the page keeps the rest too: static/portal/js/idle.js posts the fields of the entry form to
autosave() when the idle notice appears and again shortly before the logout, and they are
kept as the page's UnsavedInput: of a draft's basic data or one of its goods items, or of
the basic data of a new case not yet saved (the case is a draft only from its first 下一步).

The input is kept as typed, bounded in size and never checked: it never reaches the case's
fields. BasicView and ItemView (permits/entry.py) put it back into the form as its initial
values, saying that it is not saved yet, when a draft's page is opened or on 匯入暫存資料
(PERMIT-6); the form's own checks decide when 下一步 / 確認 saves it, and the page's next
valid 下一步 / 確認 (or 復原) drops it.
"""

import datetime
import json

from django.conf import settings
from django.contrib import messages
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from permits.decorators import filer_required
from permits.models import Item, Status, UnsavedInput
from permits.prepared import PreparedQuery
from portal.middleware import idle_passive

BASIC = "basic"
NEW_ITEM = "item-new"
MAX_BYTES = 64 * 1024  # of one page's stored input, as JSON
MAX_VALUE = 4000  # characters of a value whose form field sets no max_length
MAX_VALUES = 20  # values of one name (a multiple choice)
RESTORED_TAG = "unsaved-input"  # the message saying so (tests look for it)
MAX_ID_DIGITS = 18  # a case number or 項次 beyond this is no row of ours (bigint)


class TooLarge(Exception):
    pass


def entry_key(entry):
    """How a CaseEntry is named in the autosave URL and in UnsavedInput.entry."""
    return f"{entry.namespace}:{entry.prefix}"


def item_step(item):
    """The step of an item page: a new item, or an item entered before (by its row, which
    keeps its identity when the items before it are deleted and 項次 move up)."""
    return NEW_ITEM if item is None else f"item-{item.pk}"


def autosave_url(entry, application=None, *, step=BASIC, line_no=None):
    """Where the page of `entry` (a new case's or `application`'s basic data, or its item
    `line_no`, or a new item when step is "item") posts its fields; data-autosave-url."""
    query = {"entry": entry_key(entry)}
    if application is not None:
        query["case"] = application.pk
    query["step"] = step
    if line_no is not None:
        query["line"] = line_no
    return f"{reverse('permits:autosave')}?{urlencode(query)}"


def _number(value):
    if not (value.isascii() and value.isdigit()) or len(value) > MAX_ID_DIGITS:
        raise Http404
    return int(value)


def _page(request):
    """(entry, draft or None, step, the page's unbound forms) of the page the query names,
    as `request.user` may open it: Http404 for any other (another user's draft: drafts_of()),
    AlreadySubmitted for a draft filed meanwhile."""
    from permits import entry as entries

    key = request.GET.get("entry", "")
    entry = next((e for e in entries._entries if entry_key(e) == key), None)
    if entry is None:
        raise Http404
    case, step = request.GET.get("case", ""), request.GET.get("step")
    application = entry.load(request, _number(case)) if case else None
    if step == BASIC:
        if application is None and entry.start_url_name is not None:
            raise Http404  # a change starts from its original, not from an empty page
        form = entry.basic_form_class(user=request.user,
                                      **entry.basic_form_kwargs(application))
        return entry, application, BASIC, [form, *entry.party_forms(application)]
    if step == "item" and application is not None:
        line = request.GET.get("line", "")
        item = None
        if line:
            item = Item.objects.filter(application=application, line_no=_number(line)).first()
            if item is None:
                raise Http404
        elif not entry.may_add_items(application):
            raise Http404
        form = entry.item_form_class(
            instance=item, **entry.item_form_kwargs(application, item and item.line_no))
        return entry, application, item_step(item), [form]
    raise Http404


def _posted_names(form, name, field):
    key = form.add_prefix(name)
    suffixes = getattr(field.widget, "widgets_names", None)  # a MultiWidget posts key_0…
    return [key + suffix for suffix in suffixes] if suffixes else [key]


def bounded_data(forms, post):
    """The values `post` holds for the fields of `forms` ({name: [values]}), as typed but
    bounded: only the forms' own fields that the user can change, each value cut at its
    field's max_length (or MAX_VALUE), no NUL, at most MAX_VALUES values a name. TooLarge
    if they still exceed MAX_BYTES."""
    data = {}
    for form in forms:
        for name, field in form.fields.items():
            if field.disabled:
                continue
            limit = getattr(field, "max_length", None) or MAX_VALUE
            for key in _posted_names(form, name, field):
                if key in post:
                    data[key] = [value.replace("\x00", "")[:limit]
                                 for value in post.getlist(key)[:MAX_VALUES]]
    if len(json.dumps(data, ensure_ascii=False).encode()) > MAX_BYTES:
        raise TooLarge
    return data


def _rows(*, user, entry, application, step=None):
    rows = UnsavedInput.objects.filter(user=user, entry=entry_key(entry),
                                       application=application)
    return rows if step is None else rows.filter(step=step)


def _fresh(rows):
    # Input older than a draft may grow old is not brought back (unsaved_purge removes it).
    return rows.filter(saved_at__gte=timezone.now() - datetime.timedelta(
        days=settings.DRAFT_MAX_AGE_DAYS))


@transaction.atomic
def unsaved_save(*, user, entry, application, step, data):
    """Keep `data` as the unsaved input of the page, in place of what it kept before."""
    rows = _rows(user=user, entry=entry, application=application, step=step)
    if rows.update(data=data, saved_at=timezone.now()):
        return
    try:
        with transaction.atomic():
            UnsavedInput.objects.create(user=user, entry=entry_key(entry),
                                        application=application, step=step, data=data)
    except IntegrityError:
        # The notice's autosave and the last one before the logout crossed: the other one
        # created the row; this one, the later, replaces its data.
        rows.update(data=data, saved_at=timezone.now())


def unsaved_clear(*, user, entry, application, step):
    """Drop the page's unsaved input: its 下一步 / 確認 saved the form, or 復原 reset it."""
    _rows(user=user, entry=entry, application=application, step=step).delete()


def unsaved_get(*, user, entry, application, step):
    return _fresh(_rows(user=user, entry=entry, application=application, step=step)).first()


def _new_case_kept(user, entry, step, since):
    return UnsavedInput.objects.filter(user=user, entry=entry, application__isnull=True,
                                       step=step, saved_at__gte=since).values_list("pk")[:1]


# Whether a new case's page has input kept (unsaved_kept), compiled once per process
# (permits.prepared): every new-case page asks it, and building the ORM query cost that
# page more CPU than any of its forms (issue 10, profiled: 1.5 ms).
NEW_CASE_KEPT = PreparedQuery(_new_case_kept, parameters=("user", "entry", "step", "since"),
                              kinds={"entry": str, "step": str, "since": datetime.datetime})


def unsaved_kept(*, user, entry, step):
    """Whether the basic data of a new case of `entry` typed by `user` were kept (what
    unsaved_get() would find, not older than a draft may grow)."""
    since = timezone.now() - datetime.timedelta(days=settings.DRAFT_MAX_AGE_DAYS)
    return bool(NEW_CASE_KEPT.rows(user=user.pk, entry=entry_key(entry), step=step,
                                   since=since))


def restore(request, *, entry, application, step, forms):
    """Put the page's unsaved input, if any, into the unbound `forms` as their initial
    values (fields the user cannot change keep theirs) and say that it is not saved yet.
    Returns whether there was any."""
    unsaved = unsaved_get(user=request.user, entry=entry, application=application, step=step)
    if unsaved is None:
        return False
    data = MultiValueDict({key: [str(v) for v in values] for key, values in unsaved.data.items()
                           if isinstance(values, list)})
    for form in forms:
        for name, field in form.fields.items():
            key = form.add_prefix(name)
            # As the form would read the data if posted: an unticked box is False.
            if field.disabled or field.widget.value_omitted_from_data(data, {}, key):
                continue
            form.initial[name] = field.widget.value_from_datadict(data, {}, key)
    messages.warning(request, _("Brought back the input not yet saved before the logout: "
                                "it is saved with “Next step” or “Confirm”."),
                     extra_tags=RESTORED_TAG)
    return True


def newer_new_case(*, user, entry, draft):
    """The unsaved input of a new case of `entry` if it is newer than `draft` (the user's
    last draft, or None) and what was typed on its pages: PERMIT-6 brings back the last case
    entered."""
    pending = unsaved_get(user=user, entry=entry, application=None, step=BASIC)
    if pending is None or draft is None:
        return pending
    latest = _fresh(_rows(user=user, entry=entry, application=draft)).order_by(
        "-saved_at").values_list("saved_at", flat=True).first()
    return pending if pending.saved_at >= max(filter(None, (draft.updated_at, latest))) \
        else None


def resume_url(*, user, entry, draft):
    """Where 匯入暫存資料 takes the user to go on with `draft`: the page typed on last before
    the logout, if it kept unsaved input there, else the draft's basic data."""
    last = _fresh(_rows(user=user, entry=entry, application=draft)).order_by(
        "-saved_at").values_list("step", flat=True).first()
    if last == NEW_ITEM and entry.may_add_items(draft):
        return entry.url("item_add", draft.pk)
    if last and last.startswith("item-") and last != NEW_ITEM:
        line_no = Item.objects.filter(application=draft, pk=last.removeprefix("item-")) \
            .values_list("line_no", flat=True).first()
        if line_no is not None:
            return entry.url("item", draft.pk, line_no)
    return entry.url("edit", draft.pk)


@transaction.atomic
def unsaved_purge(*, older_than=None):
    """Delete unsaved input older than settings.DRAFT_MAX_AGE_DAYS (or `older_than`), and
    that of cases no longer in 暫存 (filed: nothing to bring back). Returns how many."""
    age = older_than or datetime.timedelta(days=settings.DRAFT_MAX_AGE_DAYS)
    stale = UnsavedInput.objects.filter(
        Q(saved_at__lt=timezone.now() - age)
        | (Q(application__isnull=False) & ~Q(application__status=Status.DRAFT)))
    count, _kinds = stale.delete()
    return count


@idle_passive  # posted by the page, not by the user: the idle time runs on (ACC-3)
@require_POST
@filer_required
def autosave(request):
    """Keep what is typed on an entry page as its unsaved input: 204. The query names the
    page (autosave_url); a page the user may not open is 404, a draft filed meanwhile 409,
    more than MAX_BYTES 413."""
    from permits.entry import AlreadySubmitted

    try:
        entry, application, step, forms = _page(request)
    except AlreadySubmitted:
        return JsonResponse({"code": "submitted", "message": _(
            "This case was already submitted; it can no longer be changed here.")}, status=409)
    try:
        data = bounded_data(forms, request.POST)
    except TooLarge:
        return JsonResponse({"code": "too_large", "message": _(
            "The input of this page is too large to keep.")}, status=413)
    unsaved_save(user=request.user, entry=entry, application=application, step=step,
                 data=data)
    return HttpResponse(status=204)
