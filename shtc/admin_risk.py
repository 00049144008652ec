"""The reviewer's decision on a risk flag of an SHTC case (issue 14, point 4; X6): a flag never
blocks; the reviewer records what they decided on it (a note, required), with who and when,
once. Posted from the 風險標示 panel of the admin's case page (shtc.review.decisions_html);
the flags have no admin pages of their own, only this URL (admin:shtc_riskflag_decide)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from permits.admin import ReadOnlyAdmin
from permits.models import Application
from permits.review_notes import refused_page
from portal.forms import TextRuleMixin
from shtc import risk
from shtc.models import RiskFlag

DECIDE_PERMISSION = "shtc.change_riskflag"  # the reviewers group's (shtc.apps)


def form_key(flag_pk):
    """The key of a flag's refused form (permits.review_notes.posted_form)."""
    return f"risk-flag-{flag_pk}"


class RiskDecisionForm(TextRuleMixin, forms.Form):
    note = forms.CharField(label=_("Your decision on this flag"),
                           max_length=risk.DECISION_MAX_LENGTH,
                           widget=forms.Textarea(attrs={"rows": 2}))


@admin.register(RiskFlag)
class RiskFlagAdmin(ReadOnlyAdmin):
    """The flags, read only (a decision is recorded on the case's page, through
    decide_view, never by editing a flag)."""

    list_display = ("application", "kind", "created_at", "decided_by", "decided_at")
    list_select_related = ("application", "decided_by")
    list_filter = ("kind",)

    def get_urls(self):
        return [path("<int:pk>/decide/", self.admin_site.admin_view(self.decide_view),
                     name="shtc_riskflag_decide"), *super().get_urls()]

    def decide_view(self, request, pk):
        """POST: a reviewer's decision on flag `pk`; back to its case's page, or that page
        again with the error next to the field and the typing kept."""
        cases = self.admin_site._registry[Application]  # noqa: SLF001
        if not (cases.may_review(request) and request.user.has_perm(DECIDE_PERMISSION)):
            raise PermissionDenied
        flag = RiskFlag.objects.filter(pk=pk).only("pk", "application_id").first()
        if flag is None:
            raise Http404
        case_url = reverse("admin:permits_application_change", args=[flag.application_id])
        if request.method != "POST":
            return redirect(case_url)
        form = RiskDecisionForm(request.POST)
        if not form.is_valid():
            case = cases.get_object(request, str(flag.application_id))
            return refused_page(cases, request, case, form_key(flag.pk), form)
        try:
            risk.risk_flag_decide(flag=flag, actor=request.user, note=form.cleaned_data["note"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, gettext("Your decision on the risk flag was recorded."))
        return redirect(case_url + "#risk-panel-heading")
