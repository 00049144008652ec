"""The bureau's review of an SHTC case (SHTC-13, SHTC-14, PERMIT-5).

* The validity of the permit a case gets at 准件結案: shtc.rules.validity over the case's data,
  decided by ShtcProcedure.validity (which permits.services.permit_issue calls) and recorded
  on the case with the rule that applied.
* What the admin's case page shows the reviewer of an SHTC case beyond the parties, items,
  documents and history the framework lists (permits.admin): the SHTC data, which required
  documents are missing, the destination's regimes and warnings, the validity with its
  reason, and whether 協查 is called for. Drawn by shtc.admin.ShtcReviewInline.
* The 風險標示 panel of the case's risk flags (shtc.risk; issue 14), below the reviewer's
  moves (permits.admin_case), its query read in the page's one round trip.

Plain functions over the database, no request: each reads a fixed number of queries,
whatever the number of items, parties or documents.
"""

import functools

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.text import capfirst
from django.utils.translation import gettext, gettext_lazy

from permits import changes, procedures, workflow
from permits.fields import country_names
from permits.item_pages import item_origins
from permits.models import DocumentType, Kind, PartyRole, Status
from permits.prepared import PreparedInstances, PreparedQuery
from portal.templatetags.roc import roc, roc_datetime
from shtc import rules
from shtc.models import Port, Regime, RiskFlag
from shtc.procedures import shtc_of, transit_port_text

# The kinds whose approval issues a new permit with a validity of its own; a change keeps the
# validity of the version it changes (permits.services.permit_issue).
NEW_PERMIT_KINDS = (Kind.NEW, Kind.BALANCE_REISSUE)


def importer_name(application):
    """The importer of SHTC-14 (2), "the same importer in that country" (manual §1.6 item 3:
    同一國家或地區之進口人): the case's buyer (買方), the party the exporter sells to. The
    earlier exports are counted by their permits' buyers too (rules.releases_to_importer),
    so that both sides of the comparison are the same role."""
    # The parties as the case page reads them (prefetched there: no query of its own).
    return next((party.name for party in application.parties.all()
                 if party.role == PartyRole.BUYER), "")


def validity_of(application, on):
    """rules.Validity (months, reason) of a permit for `application` decided on `on`; the
    five-export rule's buyers as validity_calls() read them for the case's page, if it did."""
    shtc = shtc_of(application)
    read = application.__dict__.get(_BUYERS_READ)
    return rules.validity(destination=application.destination_country,
                          partial_shipment=shtc.partial_shipment if shtc else True,
                          exporter=application.applicant_identifier,
                          importer_name=importer_name(application), on=on,
                          buyers=read[1] if read and read[0] == on else None)


# Where validity_calls()'s rows are kept on the case: (the day they were read for, rows).
_BUYERS_READ = "_shtc_validity_buyers"


def validity_calls(application):
    """[(query, values)] reading what the panel's validity of `application` today would ask
    the database (the five-export rule's buyers: rules.buyers_call), for a page reading its
    parts in one round trip (permits.admin_case); [] where the panel asks nothing (a case
    without SHTC data, or approved: its validity is recorded). take_validity() keeps their
    results for validity_of(), which uses them for the same day only."""
    if shtc_of(application) is None or application.permit_version is not None:
        return []
    today = timezone.localdate()
    call = rules.buyers_call(exporter=application.applicant_identifier,
                             destination=application.destination_country, on=today)
    if call is None:
        return []
    application.__dict__[_BUYERS_READ] = (today, None)
    return [call]


def take_validity(application, results):
    """Keep the results of validity_calls(`application`) for its validity_of()."""
    read = application.__dict__.get(_BUYERS_READ)
    if results and read:
        application.__dict__[_BUYERS_READ] = (read[0], results[0])


@functools.lru_cache(maxsize=64)
def valid_until(valid_from, months):
    # Kept for the last days asked (two relativedeltas cost the panel 20 µs a view).
    # As the framework counts (permits.procedures.Procedure.validity): the day before the
    # same date `months` later (115/12/03 + 6 months → 116/06/02).
    return valid_from + relativedelta(months=months) - relativedelta(days=1)


def issues_new_permit(application):
    """Whether approving `application` issues a permit with a validity of its own."""
    kind, _changed = changes.origin(application)
    return kind in NEW_PERMIT_KINDS


def permit_validity(*, application, issued_on):
    """(valid_from, valid_until, partial_shipment) of the permit `application` gets on
    `issued_on`, with the rule that applied written on the case (ShtcApplication.validity_*).

    Called by permits.services.permit_issue through ShtcProcedure.validity, once, inside
    the transaction of the move to 准件結案 (the case row is locked by transition()), so the
    record and the permit version are written or rolled back together. For a change the
    framework keeps the validity of the version it changes, and there is nothing to decide
    or record: an expired permit is never extended (SHTC-14), and no path here lengthens
    one.
    """
    shtc = shtc_of(application)
    partial = shtc.partial_shipment if shtc else True
    if not issues_new_permit(application):
        # permit_issue discards these dates for a change.
        return issued_on, issued_on, partial
    # Recorded in the portal's language (Traditional Chinese), whoever approves.
    with translation.override(settings.LANGUAGE_CODE):
        decided = validity_of(application, issued_on)
    if shtc is not None:
        shtc.validity_months, shtc.validity_rule = decided.months, decided.reason
        shtc.save(update_fields=["validity_months", "validity_rule"])
    return issued_on, valid_until(issued_on, decided.months), partial


# --- The reviewer's panel ---------------------------------------------------------------------


# The applicant's words ("apply in 9-2-1, not here") say nothing to the reviewer of a case
# that is already there: the panel says what follows from it.
OWN_PROCEDURE = gettext_lazy("Iran or North Korea: a case of 9-2-1 / 9-2-2, sent to "
                             "inter-agency consultation by default (SHTC-7, SHTC-13).")


def _warnings(application, destination):
    """[(code, message)]: the destination's warnings (rules.destination_warnings) and, for each
    origin of the items, the re-export approval (rules.reexport_warning; the reference rows
    are kept per process, so no query per origin)."""
    warnings = [(code, OWN_PROCEDURE if code == "own_procedure" else message)
                for code, message in rules.destination_warnings(destination)] \
        if destination else []
    # The items' origins as the case pages read them (no query of their own).
    origins = {origin for origin in item_origins(application) if origin}
    for origin in sorted(origins):
        reexport = rules.reexport_warning(origin, destination)
        if reexport:
            warnings.append(reexport)
    return warnings


def _documents(application):
    """The required documents (as permits.documents.status lists them) with the files
    uploaded for each: the attachments as the case page reads them (prefetched there), once."""
    from permits.admin import keyed_url  # (each file's link: its path reversed once)

    files = {}
    for attachment in sorted(application.attachments.all(),
                             key=lambda each: (each.uploaded_at, each.pk)):
        files.setdefault(attachment.document_kind, []).append(
            {"name": attachment.original_name,
             "url": keyed_url("permits:attachment_download", attachment.pk)})
    procedure = procedures.get(application.document_type)
    labels = dict(procedure.document_kinds)
    return [{"code": code, "label": labels.get(code, code), "uploaded": code in files,
             "files": files.get(code, [])}
            for code in procedure.required_documents(application)]


def _validity(application, shtc, today):
    """What the panel says of the validity: recorded at approval, kept by a change, or what
    approving today would give."""
    version = application.permit_version
    if version is not None:
        return {"state": "recorded", "months": shtc.validity_months if shtc else None,
                "reason": shtc.validity_rule if shtc else "",
                "valid_from": roc(version.valid_from), "valid_until": roc(version.valid_until)}
    kind, changed = changes.origin(application)
    if kind not in NEW_PERMIT_KINDS:
        return {"state": "kept", "valid_until": roc(changed.valid_until) if changed else ""}
    decided = validity_of(application, today)
    return {"state": "computed", "months": decided.months, "reason": decided.reason,
            "on": roc(today), "valid_from": roc(today),
            "valid_until": roc(valid_until(today, decided.months))}


# The transit port's code and name, by a query compiled once per process (permits.prepared).
PORT_QUERY = PreparedQuery(
    lambda code: Port.objects.filter(code=code).order_by().values_list("code", "name"),
    parameters=("code",), kinds={"code": str})


def _port(code):
    """The location `code` names, as "USLAX Los Angeles", or None if it is not on file."""
    found = PORT_QUERY.rows(code=code)
    return f"{found[0][0]} {found[0][1]}" if found else None


def panel(application, *, today=None):
    """The reviewer's view of an SHTC case (a dict of strings, lists and flags), or None for
    a case without SHTC data (one made outside the 9-1-1 entry)."""
    shtc = shtc_of(application)
    if shtc is None:
        return None
    today = today or timezone.localdate()
    destination = application.destination_country
    names = country_names()  # cached: no query per country shown
    # (read with the case where its page's query did: shtc.procedures.PORT_NAME)
    port = transit_port_text(application, shtc) if shtc.transit_port else None
    regimes = rules.regimes_of(destination, today) if destination else []
    warnings = _warnings(application, destination)
    required = _documents(application)
    return {
        "assurance_route": shtc.get_assurance_route_display(),
        "transit_port": port or shtc.transit_port,
        "partial_shipment": shtc.partial_shipment,
        "end_use": shtc.end_use,
        "end_user_url": shtc.end_user_url,
        "destination": f"{destination} {names.get(destination, '')}".strip(),
        "regimes": [str(Regime(regime).label) for regime in regimes],
        "all_regimes": len(regimes) == len(Regime.values),
        "controlled": bool(destination) and rules.is_controlled(destination),
        "warnings": [{"code": code, "message": message} for code, message in warnings],
        # SHTC-13: Iran, North Korea and doubtful cases go to the agencies (協查中), advised
        # where that is a move the reviewer can make (not on a 9-2-1 assurance in 登錄中).
        "consultation": bool(warnings) and Status.CONSULTATION in workflow.TRANSITIONS.get(
            application.status, {}),
        "documents": required,
        "missing": [document["label"] for document in required if not document["uploaded"]],
        "validity": _validity(application, shtc, today),
    }


# --- The risk flags on the reviewers' case page (issue 14, point 4) ---------------------------


def has_risk_flags(application):
    """Whether `application`'s procedure computes risk flags at 申請 (SHTC's: shtc.risk), so
    that its case page shows the 風險標示 panel, even empty."""
    return application.document_type == DocumentType.SHTC_EXPORT


# The flags of one case with their matched entries, as shtc.risk.flags_of reads them, by a
# query compiled once per process: the reviewers' case page reads it in its one round trip
# (permits.admin_case._read, permits.prepared.together).
RISK_FLAGS_QUERY = PreparedInstances(
    RiskFlag, lambda case: RiskFlag.objects.filter(application=case).select_related(
        "matched_entry", "decided_by").order_by("pk"), parameters=("case",), keep_plan=True)


def risk_panel_html(flags, request=None):
    """The 風險標示 panel of an SHTC case: its flags (shtc.risk.flags_html: each flag's kind
    as its class, its sentence, for a screening match the score and the entry and list
    matched) under the names of their kinds, or that none was raised. With `request` (a
    reviewer's case page), each flag with the decision recorded on it (who, when, what), or
    the form that records it (shtc.admin_risk). Every value escaped."""
    from shtc import risk

    if request is not None:
        return _risk_panel_html(flags, lambda flags: decisions_html(flags, request))
    return _risk_panel_html(flags, risk.flags_html)


def decisions_html(flags, request):
    """The flags as shtc.risk.flags_html lists them, each followed by its decision or the
    form that records one: the note posted to shtc.admin_risk.RiskFlagAdmin.decide_view (a
    refused one drawn again with its error and the typing kept: permits.review_notes)."""
    from django.middleware.csrf import get_token

    from permits.admin import keyed_url
    from permits.review_notes import field_html, fresh_form, posted_form
    from shtc.admin_risk import RiskDecisionForm, form_key

    rows = []
    for flag in flags:
        state = "decided" if flag.decided_at else "open"
        row = [f'<li class="risk-flag risk-{escape(flag.kind)} risk-{state}" '
               f'data-testid="risk-{escape(flag.kind)}">{escape(flag.text)}']
        if flag.decided_at:
            who = flag.decided_by
            row.append('<div class="risk-decision" data-testid="risk-decision"><p>' + escape(
                gettext("Decided by %(name)s on %(time)s:") % {
                    "name": who.name or who.identifier, "time": roc_datetime(flag.decided_at)})
                + "</p><p>" + escape(flag.decision_note) + "</p></div>")
        else:
            form = posted_form(request, form_key(flag.pk)) or fresh_form(RiskDecisionForm)
            url = keyed_url("admin:shtc_riskflag_decide", flag.pk)
            row.append(
                f'<form method="post" action="{escape(url)}" class="risk-decision-form" '
                f'id="risk-decision-{flag.pk}" novalidate>'
                f'<input type="hidden" name="csrfmiddlewaretoken" value="{get_token(request)}">'
                + field_html(form, "note", f"id_risk_decision_{flag.pk}", rows=2)
                + '<div class="submit-row"><button type="submit" class="button">'
                + escape(gettext("Record the decision")) + "</button></div></form>")
        rows.append("".join(row) + "</li>")
    return f'<ul class="risk-flags">{"".join(rows)}</ul>'


def _risk_panel_html(flags, listed):
    """The panel around the flags as `listed` (a function of them) writes them."""
    parts = ['<section class="module risk-panel" aria-labelledby="risk-panel-heading" '
             'data-testid="risk-panel">\n'
             f'<h2 id="risk-panel-heading">{escape(capfirst(RiskFlag._meta.verbose_name_plural))}'
             "</h2>\n"]
    if flags:
        kinds = []
        for flag in flags:
            label = str(flag.get_kind_display())
            if label not in kinds:
                kinds.append(label)
        parts.append(f'<p class="risk-kinds">{escape("、".join(kinds))}</p>\n'
                     + listed(flags))
    else:
        parts.append('<p data-testid="risk-none">' + escape(gettext(
            "No risk flags were raised when the case was submitted.")) + "</p>")
    parts.append("\n</section>\n")
    return "".join(parts)
