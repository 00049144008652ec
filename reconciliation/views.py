from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import render

from permits.models import Application, Permit
from permits.prepared import PreparedInstances, in_place, together
from reconciliation.forms import NOT_FOUND, DeclarationQueryForm
from reconciliation.models import Declaration, DeclarationItem, MatchResult

User = get_user_model()


def visible_declarations(user):
    """The declarations `user` may look up (RECON-3): those citing a permit of which some
    version came from a case the user may see (Application.visible_to: its applicant, the
    agent who filed it, the staff who see every case). Those staff also see a declaration
    citing a permit number that does not exist, which no case leads to (ACC-5)."""
    if Application.objects.sees_every_case(user):
        return Declaration.objects.all()
    return Declaration.objects.filter(permit__in=Permit.objects.visible_to(user))


# The page's three queries, compiled once per process (permits.prepared): building them cost
# Django more CPU than PostgreSQL spent answering them (issue 10, profiled). The declaration
# through the visibility rule of an ordinary account; the bureau's staff read it through the
# ORM (visible_declarations). Each reads by a key: PostgreSQL may keep its plan where
# prepared statements are on (permits.prepared keep_plan). The items and the result go in
# one round trip after the declaration (permits.prepared.together).
DECLARATION = PreparedInstances(
    Declaration, lambda user, number: visible_declarations(User(pk=user)).filter(
        number=number)[:1], parameters=("user", "number"), kinds={"number": str},
    keep_plan=True)
ITEMS = PreparedInstances(DeclarationItem, lambda declaration: DeclarationItem.objects.filter(
    declaration=declaration), parameters=("declaration",), keep_plan=True)
RESULT = PreparedInstances(MatchResult, lambda declaration, revision: MatchResult.objects.filter(
    declaration=declaration, revision=revision).select_related("permit_version").order_by(
    "-seq")[:1], parameters=("declaration", "revision"), keep_plan=True)


def _declaration(user, number):
    """Declaration `number` if `user` may look it up, else None."""
    if Application.objects.sees_every_case(user):
        return visible_declarations(user).filter(number=number).first()
    return next(iter(DECLARATION.instances(user=user.pk, number=number)), None)


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
        declaration = _declaration(request.user, form.cleaned_data["number"])
        if declaration is None:
            form.add_error("number", ValidationError(NOT_FOUND, code="not_found"))
        else:
            # Its items and the result of the revision on file (after an amendment, until it
            # is matched again, the earlier revision's result no longer describes the
            # declaration), in one round trip (permits.prepared.together).
            items, results = together(
                (ITEMS, {"declaration": declaration.pk}),
                (RESULT, {"declaration": declaration.pk, "revision": declaration.revision}))
            in_place(declaration, "items", items)
            result = next(iter(results), None)
    return render(request, "reconciliation/query.html",
                  {"form": form, "declaration": declaration, "result": result}, status=status)
