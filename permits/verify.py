"""The public permit verification page, opened from the QR code on a printed permit (PERMIT-7).

Anyone may ask, without logging in, whether a permit is valid: they give its number and the
verification code printed beside the QR code, and learn only the permit's state today and
its holder's name. An unknown number and a wrong code get the same answer, so the page does
not tell which numbers exist, and lookups are rate-limited per network address so that codes
cannot be guessed.

*decision*: the limit is counted in the cache; while the cache is down (Redis stopped, issue
9) lookups are let through and each says so in a WARNING. Guessing one permit's code takes
about 10^12 tries, far beyond what gets through during an outage, while refusing everyone
would take the QR codes on every printed permit out of service.
"""

import hmac
import logging

from axes.helpers import get_client_ip_address
from django import forms
from django.conf import settings
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from permits.models import Permit
from portal.accounts.throttle import CACHE_ERRORS, count_in_window
from portal.forms import PortalForm

logger = logging.getLogger(__name__)

# Lookups per address per window; settings may lower or raise them.
RATE_LIMIT = 30
RATE_WINDOW_SECONDS = 10 * 60

# Compared against when the number is unknown, so that both answers take the same time.
_NO_CODE = b"--------"


class VerifyForm(PortalForm):
    no = forms.CharField(label=_("Permit number"), max_length=14)
    code = forms.CharField(label=_("Verification code"), max_length=8)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A GET form: a CSRF token would only end up in the address bar and in logs.
        self.helper.disable_csrf = True

    def clean_no(self):
        return self.cleaned_data["no"].strip().upper()

    def clean_code(self):
        return self.cleaned_data["code"].strip().upper()


def _limits():
    return (getattr(settings, "PERMIT_VERIFY_RATE_LIMIT", RATE_LIMIT),
            getattr(settings, "PERMIT_VERIFY_RATE_WINDOW", RATE_WINDOW_SECONDS))


def _over_limit(request):
    """Count one lookup from the request's address; True once the address used them up."""
    limit, window = _limits()
    key = f"permit-verify:{get_client_ip_address(request)}"
    try:
        # A fixed window that starts with the address's first lookup.
        count = count_in_window(key, window)
    except CACHE_ERRORS as error:
        logger.warning("permit verification not rate-limited: the cache is down (%s)", error)
        return False
    return count > limit


def find_permit(permit_no, code):
    """The permit with this number if `code` is its verification code, else None."""
    permit = (Permit.objects.select_related("holder")
              .filter(permit_no=permit_no).first())
    expected = permit.verification_code.upper().encode() if permit else _NO_CODE
    # Constant time: the answer must not leak how much of a code was right.
    matches = hmac.compare_digest(expected, code.upper().encode())
    return permit if permit is not None and matches else None


def verify(request):
    """Permit number + verification code → valid / cancelled / expired and the holder's name,
    nothing else."""
    form = VerifyForm(request.GET or None)
    context = {"form": form, "looked_up": False, "permit": None}
    if form.is_bound:
        limit, window = _limits()
        if _over_limit(request):
            return render(request, "permits/verify.html",
                          {**context, "rate_limited": True, "limit": limit,
                           "minutes": max(1, window // 60)}, status=429)
        if form.is_valid():
            permit = find_permit(form.cleaned_data["no"], form.cleaned_data["code"])
            context["looked_up"] = True
            if permit is not None:
                current = permit.current
                context["permit"] = {
                    "permit_no": permit.permit_no,
                    "state": permit.state,
                    "state_label": permit.state.label,
                    # The name on the version in force, which a change may have updated.
                    "holder_name": (current.application.applicant_name if current
                                    else permit.holder.name),
                }
    # A malformed number or code answers 400 (the portal's convention for a refused form); a
    # well-formed one answers 200 whether or not it was found.
    return render(request, "permits/verify.html", context, status=400 if form.errors else 200)
