"""拾肆 簽審文件註銷或展延 (SHTC manual §1.5, §2.1; SHTC-11, SHTC-14): choose 註銷, enter the
certificate number and the reason, "帶入參考資料" shows the permit, "申請" cancels it at once
and opens a new application of the same procedure with 餘額註銷證號 filled in. 展延 is shown,
as in the manual's screen, and refused: a permit is never extended."""

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from permits import changes, procedures
from permits.decorators import filer_required
from permits.models import Permit
from portal.forms import PortalForm

CANCEL, EXTEND = "cancel", "extend"
LOAD, APPLY = "load_reference", "apply"  # the two buttons: 帶入參考資料, 申請

# Which field a refusal of the service belongs next to.
FIELD_OF = {"reason_required": "reason", "reason_too_long": "reason",
            "null_characters": "reason"}


class CancellationForm(PortalForm):
    action = forms.ChoiceField(
        label=gettext_lazy("Cancel or extend"), initial=CANCEL, widget=forms.RadioSelect,
        choices=[(CANCEL, gettext_lazy("Cancellation")), (EXTEND, gettext_lazy("Extension"))])
    permit_no = forms.CharField(label=gettext_lazy("Certificate number"), max_length=14)
    reason = forms.CharField(label=gettext_lazy("Reason for cancellation"), required=False,
                             max_length=changes.REASON_MAX_LENGTH,
                             widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, user, applying=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.applying = applying
        self.permit = None

    def clean_permit_no(self):
        return self.cleaned_data["permit_no"].strip().upper()

    def clean(self):
        cleaned_data = super().clean()
        if cleaned_data.get("action") == EXTEND:
            # SHTC-14: said next to the choice, whichever button was pressed.
            self.add_error("action", changes.error("no_extension"))
        if "permit_no" not in self.errors:
            try:
                self.permit = changes.permit_find(user=self.user,
                                                  permit_no=cleaned_data.get("permit_no"))
            except ValidationError as error:
                self.add_error("permit_no", error)
            else:
                problem = changes.cancel_problem(self.permit)
                if problem:
                    self.add_error("permit_no", problem)
        if self.applying and "reason" not in self.errors:
            try:
                cleaned_data["reason"] = changes.clean_reason(cleaned_data.get("reason"))
            except ValidationError as error:
                self.add_error("reason", error)
        return cleaned_data


def _reissue_note(permit):
    """Why the permit's balance is not re-issued through its procedure's new application
    (Procedure.balance_reissue_problem: SHTC to Iran or North Korea), or ""."""
    problem = procedures.get(permit.document_type).balance_reissue_problem(permit)
    return " ".join(problem.messages) if problem else ""


def _next_url(permit):
    """Where 申請 leads: the procedure's new application with 餘額註銷證號 filled in (SHTC-11),
    or, for a procedure without that page or a permit it does not re-issue, the case of the
    permit."""
    url_name = procedures.get(permit.document_type).new_application_url
    if url_name and not _reissue_note(permit):
        return f"{reverse(url_name)}?{urlencode({'balance_permit_no': permit.permit_no})}"
    return reverse("permits:application_detail", args=[permit.current.application_id])


@filer_required
def cancellation(request):
    """帶入參考資料 shows the permit; 申請 cancels it (permits.changes.permit_revoke, which
    checks everything again under the permit's lock) and goes on to the balance re-issue."""
    status = 200
    if request.method == "POST":
        applying = APPLY in request.POST
        form = CancellationForm(request.POST, user=request.user, applying=applying)
        if form.is_valid() and applying:
            try:
                changes.permit_revoke(permit=form.permit, actor=request.user,
                                      reason=form.cleaned_data["reason"])
            except ValidationError as error:
                form.permit = Permit.objects.get(pk=form.permit.pk)  # as the service saw it
                for problem in error.error_list:
                    form.add_error(FIELD_OF.get(problem.code, "permit_no"), problem)
            else:
                note = _reissue_note(form.permit)
                if note:
                    messages.success(request, _("Permit %(permit)s was cancelled.") % {
                        "permit": form.permit.permit_no})
                    messages.info(request, note)
                    return redirect(_next_url(form.permit))
                # The field named in the page's language (issue 9, point 16).
                messages.success(request, _(
                    "Permit %(permit)s was cancelled. Apply anew for the quantities not yet "
                    "exported or imported: “%(field)s” is filled in.") % {
                    "permit": form.permit.permit_no,
                    "field": _("Cancelled permit number for balance re-issue")})
                return redirect(_next_url(form.permit))
        if form.errors:
            status = 400
    else:
        form = CancellationForm(initial={"permit_no": request.GET.get("permit_no", "")[:14]},
                                user=request.user)
    permit = form.permit
    return render(request, "permits/cancellation.html", {
        "form": form, "permit": permit,
        "version": permit.current if permit else None,
        "items": changes.items_with_balance(permit) if permit else [],
        "reissue_note": _reissue_note(permit) if permit else "",
    }, status=status)
