from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import render

from permits.models import Application, Permit
from reconciliation.forms import NOT_FOUND, DeclarationQueryForm
from reconciliation.models import Declaration


def visible_declarations(user):
    """The declarations `user` may look up (RECON-3): those citing a permit of which some
    version came from a case the user may see (Application.visible_to: its applicant, the
    agent who filed it, the staff who see every case). Those staff also see a declaration
    citing a permit number that does not exist, which no case leads to (ACC-5)."""
    if Application.objects.sees_every_case(user):
        return Declaration.objects.all()
    return Declaration.objects.filter(permit__in=Permit.objects.visible_to(user))


@login_required
def query(request):
    """單證比對查詢 (RECON-3): a declaration by number, with its items and the result of its
    latest matching and every reason. A number the user may not see is answered exactly as
    one that does not exist."""
    form = DeclarationQueryForm(request.GET or None)
    declaration = result = None
    # A refused number answers 400 (the portal's convention); "not found" is an answer.
    status = 400 if form.is_bound and not form.is_valid() else 200
    if form.is_valid():
        declaration = (visible_declarations(request.user)
                       .filter(number=form.cleaned_data["number"])
                       .prefetch_related("items").first())
        if declaration is None:
            form.add_error("number", ValidationError(NOT_FOUND, code="not_found"))
        else:
            # The result of the revision on file: after an amendment, until it is matched
            # again, the earlier revision's result no longer describes the declaration.
            result = (declaration.results.filter(revision=declaration.revision)
                      .select_related("permit_version").order_by("-seq").first())
    return render(request, "reconciliation/query.html",
                  {"form": form, "declaration": declaration, "result": result}, status=status)
