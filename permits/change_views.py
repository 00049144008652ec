"""The first page of a change (PERMIT-2, PERMIT-3; the SHTC manual §1.2 to §1.4 step 2, the
mask manual's 更正輸入許可): 申請類別, the number of what the change loads, 更正描述 / 修正描述
and, for a 單證比對不符修正 where the procedure asks for them, 報單號碼 and 會辦識別碼;
"帶入原始資料" loads it into a new draft of the procedure's change entry
(permits.entry.change_draft_create), whose pages (basic → review → items → submit) follow.

    更正 (correction)               原證書號碼 or 原收件編號, 更正描述
    單證比對不符修正 (mismatch)      原證書號碼 (+ 報單號碼, 會辦識別碼), 修正描述
    已通關相符修正 (masks)           原許可號碼, 更正描述
    補正 (amendment)                原收件編號 of a case closed 補正結案

The change entry (a CaseEntry with start_url_name set) names the numbers each kind takes
(change_numbers) and whether the mismatch reference is asked (mismatch_reference); a
procedure routes ChangeStartView.as_view(entry=...) and may subclass the form for its own
labels (masks). Each refusal is said next to the field it concerns, in the words of
permits.changes (the gates; a mismatch correction's through
reconciliation.services.mismatch_problem); what was typed is kept, nothing is saved.

Error codes beyond those of permits.changes and the mismatch gate:

    number_required     no number for the kind
    several_references  two numbers: each names another case
    number_not_asked    a number the kind does not take
    number_format       not letters and digits
    not_found           no permit / case with that number among the user's
    no_permit           原收件編號 of a case without an issued permit, for a change of one
    description_required  更正描述 left empty
"""

from crispy_forms.layout import Layout
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils.decorators import method_decorator
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView

from permits import changes
from permits import entry as entries
from permits.decorators import filer_required
from permits.entry import PERMIT_NO, PERMIT_NO_LENGTH, RECEIPT_NO, REFERENCE_EXAMPLES
from permits.models import Application, Kind, Permit
from portal.forms import AsciiCharField, PortalForm, RefusedFormMixin

DECLARATION_NO = "declaration_no"
COORDINATION_ID = "coordination_id"
DESCRIPTION = "change_description"
# A 補正 fixes what the bureau closed 補正結案 for: the manual asks no description (§1.2).
DESCRIPTION_OPTIONAL = (Kind.AMENDMENT,)
DESCRIPTION_MAX_LENGTH = 500
# The gates' refusals that concern the number typed rather than the kind chosen; the others
# are said next to 申請類別 (choose another kind, PERMIT-3).
NUMBER_CODES = ("not_found", "not_amendable", "already_amended", "revoked", "not_current")
# The mismatch gate's refusals next to the field they concern (the others: next to the kind).
MISMATCH_FIELDS = {"wrong_coordination_id": COORDINATION_ID,
                   "unknown_declaration": DECLARATION_NO,
                   "declaration_matched": DECLARATION_NO}

ERRORS = {
    "number_required": _("Enter the %(numbers)s of what this %(kind)s changes."),
    "several_references": _("Enter only one number: each names another case."),
    "number_not_asked": _("A %(kind)s does not take this number: leave it empty."),
    "number_format": _("A number has letters and digits only, as printed, such as "
                       "%(example)s."),
    "not_found_permit": _("No permit with this number was found among your permits."),
    "not_found_case": _("No case with this number was found among your cases."),
    "no_permit": _("Case %(number)s has no permit issued: only an issued permit can be "
                   "changed (a case closed for amendment is amended: choose Amendment)."),
    "description_required": _("Describe the reason for this %(kind)s."),
    "mismatch_reference_required": _("Enter the declaration number and the coordination ID "
                                     "of the mismatch."),
}


def _error(code, message_code=None, **params):
    return ValidationError(ERRORS[message_code or code], code=code, params=params or None)


def _max_length(name):
    """The column's own bound (a number the user types is never longer than what is kept)."""
    return Application._meta.get_field(name).max_length


class ChangeStartForm(PortalForm):
    """申請類別 (the change entry's kinds), the number(s) it takes, 更正描述 / 修正描述 and,
    where asked, 報單號碼 and 會辦識別碼. Valid: `change` holds what change_draft_create()
    takes (kind, permit or amends, and the change's own fields). The gates are asked here, to
    say each refusal next to its field, and again by change_draft_create() under the lock."""

    kind = forms.ChoiceField(label=capfirst(_("application kind")), widget=forms.RadioSelect)
    permit_no = AsciiCharField(label=_("Original certificate number"),
                               max_length=PERMIT_NO_LENGTH, required=False)
    receipt_no = AsciiCharField(label=_("Original receipt number"),
                                max_length=PERMIT_NO_LENGTH, required=False)
    declaration_no = AsciiCharField(label=_("Declaration number"),
                                    max_length=_max_length(DECLARATION_NO), required=False)
    coordination_id = AsciiCharField(label=_("Coordination ID"),
                                     max_length=_max_length(COORDINATION_ID), required=False)
    change_description = forms.CharField(
        label=_("Correction description"), max_length=DESCRIPTION_MAX_LENGTH,
        required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, user, entry, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.entry = entry
        self.fields["kind"].choices = [(Kind(kind).value, Kind(kind).label)
                                       for kind in entry.kinds]
        self.fields["kind"].initial = Kind(entry.kinds[0]).value
        numbers = {name for names in entry.change_numbers.values() for name in names}
        asked = {*numbers, DESCRIPTION}
        if entry.mismatch_reference and Kind.MISMATCH_CORRECTION in entry.kinds:
            asked |= {DECLARATION_NO, COORDINATION_ID}
        for name in [name for name in self.fields if name != "kind" and name not in asked]:
            del self.fields[name]
        # Which kinds take each field, for the page (the help beside it, change_start.js).
        for name, field in self.fields.items():
            field.widget.attrs["data-change-kinds"] = " ".join(self._kinds_of(name))
        self.helper.layout = Layout(*self.fields)
        self.change = None  # what change_draft_create() takes, once valid
        self.number_field = None  # the field of the number typed

    def _kinds_of(self, name):
        kinds = [Kind(kind) for kind in self.entry.kinds]
        if name in (PERMIT_NO, RECEIPT_NO):
            return [kind.value for kind in kinds if name in self.entry.change_numbers[kind]]
        if name in (DECLARATION_NO, COORDINATION_ID):
            return [Kind.MISMATCH_CORRECTION.value]
        if name == DESCRIPTION:
            return [kind.value for kind in kinds if kind not in DESCRIPTION_OPTIONAL]
        return [kind.value for kind in kinds]

    def clean(self):
        data = super().clean()
        if not data.get("kind"):
            return data
        kind = Kind(data["kind"])
        if kind not in DESCRIPTION_OPTIONAL and DESCRIPTION in self.fields and \
                DESCRIPTION not in self.errors and not data.get(DESCRIPTION):
            self.add_error(DESCRIPTION, _error("description_required",
                                               kind=kind.label.lower()))
        number = self._number(kind, data)
        mismatch = self._mismatch_reference(kind, data)
        if number is None or mismatch is None:
            return data
        name, value = number
        self.number_field = name
        found = self._find(kind, name, value)
        if found is None:
            return data
        # The gates (a mismatch correction's with its declaration and 會辦識別碼: SHTC-10).
        problem = (changes.change_problem(kind=kind, amends=found)
                   if kind == Kind.AMENDMENT
                   else changes.change_problem(kind=kind, permit=found, version=found.current,
                                               **mismatch))
        if problem:
            self.add_error(self.field_of(problem), problem)
            return data
        self.change = {"kind": kind, DESCRIPTION: data.get(DESCRIPTION, ""), **mismatch,
                       **({"amends": found} if kind == Kind.AMENDMENT else {"permit": found})}
        return data

    def field_of(self, problem):
        """The field a gate's refusal is said next to: the number it names, the declaration
        or 會辦識別碼 of a mismatch, or else 申請類別 (choose another kind, PERMIT-3)."""
        code = getattr(problem, "code", None)
        if code in NUMBER_CODES and self.number_field:
            return self.number_field
        return MISMATCH_FIELDS.get(code, "kind")

    def _number(self, kind, data):
        """(field, number) of the one number typed among those `kind` takes; None after an
        error said next to its field."""
        allowed = self.entry.change_numbers.get(kind, ())
        typed = [name for name in (PERMIT_NO, RECEIPT_NO) if name in self.fields
                 and name not in self.errors and data.get(name)]
        if any(name in self.errors for name in allowed):
            return None
        for name in typed:
            if name not in allowed:
                self.add_error(name, _error("number_not_asked", kind=kind.label.lower()))
        filled = [name for name in typed if name in allowed]
        if not filled:
            labels = gettext(" or ").join(str(self.fields[name].label) for name in allowed)
            self.add_error(allowed[0], _error("number_required", numbers=labels,
                                              kind=kind.label.lower()))
            return None
        if len(filled) > 1:
            self.add_error(filled[1], _error("several_references"))
            return None
        name = filled[0]
        number = data[name].upper()
        if not entries.REFERENCE_NUMBER_RE.fullmatch(number):
            self.add_error(name, _error("number_format", example=REFERENCE_EXAMPLES[name]))
            return None
        return name, number

    def _mismatch_reference(self, kind, data):
        """{declaration_no, coordination_id} of a 單證比對不符修正 where the entry asks for
        them ({} otherwise); None after an error."""
        if kind != Kind.MISMATCH_CORRECTION or DECLARATION_NO not in self.fields:
            return {}
        if DECLARATION_NO in self.errors or COORDINATION_ID in self.errors:
            return None
        reference = {DECLARATION_NO: (data.get(DECLARATION_NO) or "").upper(),
                     COORDINATION_ID: (data.get(COORDINATION_ID) or "").upper()}
        missing = [name for name, value in reference.items() if not value]
        for name in missing:
            self.add_error(name, _error("mismatch_reference_required"))
        return None if missing else reference

    def _find(self, kind, name, number):
        """The permit (a change of an issued permit) or the case (補正) that `number` names
        among the entry's document type the user may see; None after the error. Another
        user's number is answered as an unknown one (the one visibility rule)."""
        document_type = self.entry.document_type
        if name == PERMIT_NO:
            permit = (Permit.objects.visible_to(self.user)
                      .filter(document_type=document_type, permit_no=number).first())
            if permit is None:
                self.add_error(name, _error("not_found", "not_found_permit"))
            return permit
        case = entries.reference_source(entry=self.entry, user=self.user, field=RECEIPT_NO,
                                        number=number)
        if case is None:
            self.add_error(name, _error("not_found", "not_found_case"))
            return None
        if kind == Kind.AMENDMENT:
            return case
        version = case.permit_version
        if version is None:
            self.add_error(name, _error("no_permit", number=case.number))
            return None
        return version.permit


@method_decorator(filer_required, name="dispatch")
class ChangeStartView(RefusedFormMixin, FormView):
    """The change's first page: the form, then "帶入原始資料" (change_draft_create) and the
    draft's basic page. A link may preset the kind and a number (?kind=correction&permit_no=…
    from a case page): shown, never trusted."""

    entry = None
    form_class = ChangeStartForm
    template_name = "permits/entry/change_start.html"

    def get_initial(self):
        initial = {name: self.request.GET.get(name, "")[:PERMIT_NO_LENGTH]
                   for name in (PERMIT_NO, RECEIPT_NO)}
        kind = self.request.GET.get("kind", "")
        if kind in {Kind(k).value for k in self.entry.kinds}:
            initial["kind"] = kind
        return initial

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user, "entry": self.entry}

    def get_context_data(self, **kwargs):
        return super().get_context_data(**self.entry.context(None, **kwargs))

    def form_valid(self, form):
        change = dict(form.change)
        kind = change["kind"]
        try:
            application = entries.change_draft_create(entry=self.entry,
                                                      actor=self.request.user, **change)
        except ValidationError as error:
            # Recorded meanwhile (a clearance, another change filed): said as the form would.
            form.add_error(form.field_of(error), error)
            return self.form_invalid(form)
        if getattr(application, "loaded_before", False):
            messages.info(self.request, entries.loaded_before_message(
                form.cleaned_data.get(PERMIT_NO) or form.cleaned_data.get(RECEIPT_NO)))
            return redirect(self.entry.url("edit", application.pk))
        messages.success(self.request, gettext(
            "The original data were loaded into a new %(kind)s: make the changes, then click "
            "“%(next)s”.") % {"kind": kind.label.lower(), "next": self.entry.buttons["next"]})
        return redirect(self.entry.url("edit", application.pk))


def change_start_urls(entry, view=ChangeStartView, **kwargs):
    """The start page's URL pattern, named as the entry's start_url_name says."""
    from django.urls import path

    name = entry.start_url_name.split(":")[-1]
    return path(entry.url_root, view.as_view(entry=entry, **kwargs), name=name)
