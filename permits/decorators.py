"""View decorators every procedure's pages share."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def filer_required(view):
    """Applicants and filing agents only: bureau staff work in the admin (ACC-5) and get
    403; anyone not logged in goes to the login page."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.user.is_staff:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped
