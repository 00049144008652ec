"""The SHTC reference tables in the bureau's back office (REFERENCE.md: data the bureau
keeps): regime memberships with their dates, controlled areas, the countries whose re-export
approval a re-export needs, and the UN/LOCODE location codes with an upload of an official
release. Nothing is deleted: a membership ends with its "member until" date, an area or a
country is retired by clearing "in use", and a location stays (a permit may name it)."""

from html import escape as _html_escape

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat, linebreaksbr
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from permits.admin import PortalDisplayMixin, ReadOnlyAdmin, ReadOnlyInline
from permits.admin_upload import UploadAdmin
from portal.forms import PortalForm
from portal.languages import per_language
from shtc import locode, review
from shtc.models import (
    ControlledArea,
    Port,
    ReexportApprovalCountry,
    RegimeMembership,
    ReimportReminder,
    ShtcApplication,
)

UPLOAD_PERMISSION = "shtc.add_port"
PROBLEMS_SHOWN = 20  # skipped rows listed one by one after an upload; the rest counted


class ShtcReviewInline(ReadOnlyInline):
    """The reviewer's panel of an SHTC case on the one case page (SHTC-13, SHTC-14; named in
    shtc.procedures: admin_inlines): the SHTC data, the missing documents, the destination's
    regimes and warnings, the validity and its reason (shtc.review.panel), drawn by
    admin/shtc/review_panel.html instead of a table of the row."""

    model = ShtcApplication
    fk_name = "application"  # (not `assurance`, the 9-2-1 case a 9-2-2 one was loaded from)
    fields = ("assurance_route",)
    # The row's title names its case (ShtcApplication.__str__): read with it, should a page
    # draw it (the panel does not).
    select_related = ("application",)
    template = "admin/shtc/review_panel.html"
    verbose_name = verbose_name_plural = _("SHTC review")

    def panel_calls(self, case):
        """What the panel reads beyond the case's parts (the five-export rule's buyers), for
        the case page's one round trip (permits.admin_case.Section); panel_take() gets
        their results."""
        return review.validity_calls(case)

    def panel_take(self, case, results):
        review.take_validity(case, results)

    def panel_html(self, case, prefix):
        """The panel on the reviewers' case page (permits.admin_case); Django's change form
        draws the same through the template."""
        return (f'\n<div class="inline-group" id="{escape(prefix)}-group" '
                f'data-testid="shtc-review">\n{review_panel_html(case)}\n</div>')


def _esc(text):
    """escape(`text`) as text: the same characters escaped, without keep_lazy's look for lazy
    arguments on each of the panel's thirty values."""
    return _html_escape(str(text))


def _panel_words():
    """The panel's fixed words in the language in force, escaped, and each line's opening
    (its label): looked up once a language and process (_words)."""
    def opening(label):
        return (f'<div class="form-row"><div class="flex-container"><label>{_esc(label)}:'
                '</label>\n<div class="readonly"')

    return {
        "heading": _esc(gettext("SHTC review")),
        "consultation": _esc(gettext(
            "A warning holds for this case: doubtful cases go to inter-agency consultation "
            "(協查中, 25 to 30 working days, SHTC-13). Move it to consultation unless the "
            "documents settle the doubt.")),
        "controlled": _esc(gettext("controlled area")),
        "none": _esc(gettext("none")),
        "all four": _esc(gettext("all four")),
        "partial": _esc(gettext("Partial shipments")),
        "one": _esc(gettext("One shipment only")),
        "none required": _esc(gettext("None required.")),
        "missing": _esc(gettext("missing")),
        "never extended": _esc(gettext("An expired permit is never extended (SHTC-14).")),
        "route": opening(gettext("End-use assurance")),
        "destination": opening(gettext("Destination country")),
        "regimes": opening(gettext("Export control regimes")),
        "port": opening(gettext("Transit port code")),
        "shipment": opening(gettext("Partial or one shipment")),
        "end use": opening(gettext("Specific end use (English)")),
        "website": opening(gettext("End user's English website")),
        "documents": opening(gettext("Required documents")),
        "validity": opening(gettext("Validity")),
    }


_words = per_language(_panel_words)


def _line(opening, value, attributes=""):
    """A line of the panel: its label's opening (_panel_words()), its value (HTML)."""
    return f"{opening}{attributes}>{value}</div></div></div>\n"


def review_panel_html(application):
    """The reviewer's panel of an SHTC case (SHTC-13, SHTC-14) from shtc.review.panel(), as
    HTML, every value escaped; "" for a case without SHTC data. Written in Python (issue 10:
    the template's tags cost more than the rest of the panel), its fixed words once a
    language (_words); admin/shtc/review_panel.html prints it on Django's change form."""
    panel = review.panel(application)
    if panel is None:
        return ""
    words = _words()
    parts = ['<fieldset class="module aligned shtc-review" aria-labelledby="shtc-review-heading">'
             f'\n<h2 id="shtc-review-heading">{words["heading"]}</h2>\n']
    if panel["consultation"]:
        parts.append('<p class="errornote" data-testid="shtc-consultation">'
                     + words["consultation"] + "</p>\n")
    if panel["warnings"]:
        parts.append('<ul class="messagelist" data-testid="shtc-warnings">'
                     + "".join(f'<li class="warning" data-code="{_esc(warning["code"])}">'
                               f'{_esc(warning["message"])}</li>'
                               for warning in panel["warnings"]) + "</ul>\n")
    destination = _esc(panel["destination"])
    if panel["controlled"]:
        destination += f' · {words["controlled"]}'
    regimes = "、".join(_esc(regime) for regime in panel["regimes"]) or words["none"]
    if panel["all_regimes"]:
        regimes += " (" + words["all four"] + ")"
    partial = panel["partial_shipment"]
    parts += [
        _line(words["route"], _esc(panel["assurance_route"]), ' data-testid="shtc-route"'),
        _line(words["destination"], destination, ' data-testid="shtc-destination"'),
        _line(words["regimes"], regimes, ' data-testid="shtc-regimes"'),
        _line(words["port"], _esc(panel["transit_port"] or "-"),
              ' data-testid="shtc-transit-port"'),
        _line(words["shipment"], words["partial" if partial else "one"],
              f' data-testid="shtc-partial-shipment" data-partial="{"yes" if partial else "no"}"'),
        _line(words["end use"], linebreaksbr(panel["end_use"] or "-"),
              ' data-testid="shtc-end-use"')]
    if panel["end_user_url"]:
        url = _esc(panel["end_user_url"])
        parts.append(_line(words["website"],
                           f'<a href="{url}" rel="noopener noreferrer" target="_blank">{url}</a>'))
    parts.append(_line(words["documents"], _documents_html(panel, words)))
    parts.append(_line(words["validity"], *_validity_html(panel["validity"], words)))
    parts.append("</fieldset>")
    return mark_safe("".join(parts))  # noqa: S308 (every value escaped)


def _documents_html(panel, words):
    if not panel["documents"]:
        return words["none required"]
    missing = words["missing"]
    items = []
    for document in panel["documents"]:
        uploaded = document["uploaded"]
        items.append(
            f'<li data-code="{_esc(document["code"])}" '
            f'data-uploaded="{"yes" if uploaded else "no"}">'
            + ("✔" if uploaded else f"<strong>✘ {missing}</strong>")
            + f' {_esc(document["label"])}\n'
            + "".join(f'· <a href="{_esc(file["url"])}">{_esc(file["name"])}</a> '
                      for file in document["files"]) + "</li>")
    result = '<ul data-testid="shtc-documents">\n' + "\n".join(items) + "\n</ul>"
    if panel["missing"]:
        count = len(panel["missing"])
        result += '\n<p data-testid="shtc-missing">' + _esc(ngettext(
            "%(counter)s required document is missing.",
            "%(counter)s required documents are missing.", count) % {"counter": count}) \
            + "</p>"
    return result


def _validity_html(validity, words):
    """(HTML, attributes) of the validity's line: recorded at approval, kept by a change, or
    what approving today would give."""
    state = validity["state"]
    if state == "recorded":
        text = gettext("Issued for %(months)s months: %(start)s to %(end)s.") % {
            "months": validity["months"], "start": validity["valid_from"],
            "end": validity["valid_until"]}
    elif state == "kept":
        text = gettext("A change keeps the validity of the permit version it changes (until "
                       "%(end)s).") % {"end": validity["valid_until"]}
    else:
        text = gettext("If approved today (%(day)s): %(months)s months, until %(end)s.") % {
            "day": validity["on"], "months": validity["months"],
            "end": validity["valid_until"]}
    value = f"<p>{_esc(text)}</p>"
    if state != "kept":
        value += f"<p>{_esc(validity['reason'])}</p>"
    value += '<p class="help">' + words["never extended"] + "</p>"
    months = validity.get("months") or ""
    return value, (f' data-testid="shtc-validity" data-state="{_esc(state)}" '
                   f'data-months="{_esc(months)}"')


class KeptAdmin(PortalDisplayMixin, admin.ModelAdmin):
    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RegimeMembership)
class RegimeMembershipAdmin(KeptAdmin):
    list_display = ("country", "regime", "joined_on", "left_on", "note")
    list_filter = ("regime", ("left_on", admin.EmptyFieldListFilter))
    search_fields = ("country__code", "country__name_zh", "country__name_en")
    list_select_related = ("country",)


@admin.register(ControlledArea)
class ControlledAreaAdmin(KeptAdmin):
    list_display = ("country", "own_procedure", "trade_banned_since", "active", "note")
    list_filter = ("active", "own_procedure")
    list_select_related = ("country",)


@admin.register(ReexportApprovalCountry)
class ReexportApprovalCountryAdmin(KeptAdmin):
    list_display = ("country", "active", "note")
    list_filter = ("active",)
    list_select_related = ("country",)


@admin.register(ReimportReminder)
class ReimportReminderAdmin(ReadOnlyAdmin):
    """The re-import reminders mailed for exhibition permits whose proof is outstanding
    (SHTC-5 (1), shtc/reimport.py): reviewers see which holder was reminded when. Written
    only by the reminder job, under its once-per-step constraint: never added, changed or
    deleted here."""

    list_display = ("permit", "step", "valid_until", "email", "created_at")
    list_filter = ("step",)
    search_fields = ("^permit__permit_no",)
    list_select_related = ("permit", "email")
    date_hierarchy = "created_at"


def checked_csv(upload, max_bytes):
    """An uploaded file named .csv, not empty, at most `max_bytes`; else ValidationError."""
    if not upload.name.lower().endswith(".csv"):
        raise ValidationError(_("Choose a .csv file."), code="extension")
    if upload.size > max_bytes:
        raise ValidationError(_("The file is %(size)s; at most %(limit)s."),
                              code="too_large",
                              params={"size": filesizeformat(upload.size),
                                      "limit": filesizeformat(max_bytes)})
    if upload.size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    return upload


class LocodeFileForm(PortalForm):
    """One CSV file of an official UN/LOCODE release (a part of its code list), as
    shtc.locode reads it."""

    MAX_BYTES = 16 * 1024 * 1024  # a part of the code list is about 4 MB

    file = forms.FileField(
        label=_("UN/LOCODE code list (CSV)"),
        help_text=_("One CSV file of an official release, e.g. “2024-2 UNLOCODE "
                    "CodeListPart1.csv”, at most 16 MB. Load each part of the release."))
    edition = forms.CharField(
        label=_("Edition"), max_length=60, required=False,
        help_text=_("e.g. 2024-2; read from the file name when left empty."))
    encoding = forms.ChoiceField(label=_("Encoding"), choices=list(locode.ENCODINGS.items()),
                                 initial="utf-8")

    def clean_file(self):
        return checked_csv(self.cleaned_data["file"], self.MAX_BYTES)

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload is None or self.errors:
            return cleaned
        cleaned["edition"] = (cleaned.get("edition") or "").strip() \
            or locode.edition_from_name(upload.name)
        if not cleaned["edition"]:
            self.add_error("edition", ValidationError(
                _("Name the edition: the file name does not say it."), code="edition"))
            return cleaned
        try:
            text = locode.decode(upload.read(), encoding=cleaned["encoding"])
            self.rows, self.problems = locode.read_rows(text)
        except locode.LocodeFileError as error:
            self.add_error("file", ValidationError(error.message, code="unreadable"))
            return cleaned
        if not self.rows:
            self.add_error("file", ValidationError(
                _("The file holds no location: is it a UN/LOCODE code list?"),
                code="no_locations"))
        return cleaned


@admin.register(Port)
class PortAdmin(UploadAdmin, KeptAdmin):
    list_display = ("code", "name", "subdivision", "function", "status", "iata", "edition")
    list_filter = ("edition",)
    # A code or its first letters (US, USLA), or the start of a name.
    search_fields = ("^code", "^name", "^name_ascii")
    show_full_result_count = False
    readonly_fields = ("code", "country", "edition")

    def get_readonly_fields(self, request, obj=None):
        # The code of a location on file never changes; a new one is typed whole (its
        # country is its first two letters).
        return super().get_readonly_fields(request, obj) if obj else ()

    def get_exclude(self, request, obj=None):
        return ("country",) if obj is None else ()

    def save_model(self, request, obj, form, change):
        obj.country = obj.code[:2]
        super().save_model(request, obj, form, change)

    upload_permission = UPLOAD_PERMISSION
    upload_form = LocodeFileForm
    upload_template = "admin/shtc/port/upload.html"
    upload_title = _("Load a UN/LOCODE release")

    def upload_done(self, request, form):
        """A CSV file of an official UN/LOCODE release, loaded as `manage.py load_locode`
        loads it; a file that cannot be read is refused on the form, nothing of it loaded."""
        outcome = locode.load(form.rows, edition=form.cleaned_data["edition"])
        self._report(request, outcome, form.problems, form.cleaned_data["edition"])

    def _report(self, request, outcome, problems, edition):
        level = messages.WARNING if problems else messages.SUCCESS
        self.message_user(request, gettext(
            "UN/LOCODE %(edition)s: %(read)d locations read; %(created)d added, %(updated)d "
            "changed, %(unchanged)d already on file; %(skipped)d rows skipped.") % {
            "edition": edition, "read": outcome.read, "created": outcome.created,
            "updated": outcome.updated, "unchanged": outcome.unchanged,
            "skipped": len(problems)}, level)
        for line, reason in problems[:PROBLEMS_SHOWN]:
            self.message_user(request, gettext("Line %(line)s skipped: %(reason)s") % {
                "line": line, "reason": reason}, messages.ERROR)
        more = len(problems) - PROBLEMS_SHOWN
        if more > 0:
            self.message_user(request, ngettext("%(count)d more row skipped.",
                                                "%(count)d more rows skipped.", more)
                              % {"count": more}, messages.ERROR)


# The screening list and its CSV upload, and the reviewer's decision on a risk flag (issue 14,
# point 4).
from shtc import admin_risk, admin_screening  # noqa: E402, F401
