"""Risk flags of an SHTC case (issue 14, point 4; X6): computed once, when the case is
submitted (申請: its first move to 初審中, through ShtcProcedure.on_submitted, called by
permits.workflow.transition in the transaction of the move, the case's row locked), stored
as shtc.models.RiskFlag rows, and never blocking: they inform the reviewer, who records what
they decided on each.

The flags:

    controlled_destination  the destination is Iran or North Korea (a controlled area with its
                            own procedure, 9-2-1); North Korea's says its total trade ban
                            (since 2017-09-26, as the ControlledArea row keeps it)
    watched_destination     the destination is mainland China or the UAE (SHTC-2 item 6)
    reexport                an item's origin is one of the ten countries of SHTC-2 item 7
                            whose government must approve a re-export (shtc.rules)
    first_export            no earlier submitted case of the same applicant names this end user
                            (normalised name and country)
    screening_match         the buyer, consignee or end user matches an entry of the screening
                            list (fuzzy, after normalise(): score and entry stored)
    transit_port            the transit port is in a controlled area (its UN/LOCODE country)

Queries: a constant number whatever the list's size or the case's items: the items' distinct
origins, the parties, the applicant's earlier end users in that country, the screening list's
fingerprint (the list itself is read again only when it changed: _screening()), and one
INSERT of the flags. The reference rows (controlled areas, re-export countries) come from
shtc.rules' per-process copy.
"""

import re
import threading
import unicodedata
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext

from permits.fields import country_names
from portal.templatetags.roc import roc, roc_datetime

# A party matches a screening entry when the similarity of their normalised names (rapidfuzz
# ratio over the name's words in sorted order, 0 to 100) is at least this. 90 keeps a name
# typed with one or two letters off, run together or with its words in another order
# ("Siera Photonics" 97, "NorthStar Electronics" 98 against "North Star Electronics"), and
# leaves out names that share only a word ("Acme Holdings" against "Acme Trading" scores 72).
# A false match costs the reviewer a glance; a missed one an export to a listed entity, so
# the threshold errs low rather than at 95.
MATCH_THRESHOLD = 90

# Company suffixes dropped before matching (after punctuation became blanks): legal forms
# say nothing of who the entity is, and the list writes them differently from the parties
# ("Co., Ltd." against "Company Limited").
_SUFFIX_WORDS = frozenset((
    "co", "company", "corp", "corporation", "inc", "incorporated", "ltd", "limited", "llc",
    "llp", "plc", "pte", "pty", "gmbh", "mbh", "ag", "kg", "sa", "sas", "sarl", "srl", "spa",
    "bv", "nv", "oy", "ab", "as", "aps", "kk", "jsc", "ojsc", "pjsc", "cjsc", "ooo", "zao",
    "oao", "bhd", "sdn", "tbk", "the"))
_SUFFIX_ZH = ("股份有限公司", "有限責任公司", "有限公司", "股份公司", "公司", "集團")
_PUNCTUATION = re.compile(r"[^\w]+|_")


def normalise(name):
    """A name as it is matched: full-width letters and digits to half-width (NFKC), without
    case, dots, punctuation or company suffixes, its words sorted. "ＡＣＭＥ Trading Co., Ltd." and
    "Acme Trading Company Limited" are both "acme trading"; "安心科技股份有限公司" is "安心科技"."""
    text = unicodedata.normalize("NFKC", str(name or "")).casefold()
    for suffix in _SUFFIX_ZH:
        text = text.replace(suffix, " ")
    text = text.replace(".", "")  # abbreviations: "L.L.C." is "llc", "Co.,Ltd." "co ltd"
    words = [word for word in _PUNCTUATION.sub(" ", text).split() if word not in _SUFFIX_WORDS]
    return " ".join(sorted(words))


# --- the screening list, kept per process -------------------------------------------------


class _Screening(NamedTuple):
    fingerprint: tuple
    names: list  # normalised names and aliases, for rapidfuzz
    owners: list  # (entry id, the name or alias as listed) of each of `names`


_screening_lock = threading.Lock()
_screening_copy = _Screening(None, [], [])


def _fingerprint():
    """What changes whenever the list does: every upload and admin save sets updated_at, and a
    delete changes the count (one query, on an index)."""
    from shtc.models import ScreeningEntry

    stats = ScreeningEntry.objects.aggregate(count=Count("pk"), last=Max("updated_at"))
    return (stats["count"], stats["last"])


def _screening():
    """The active entries' names and aliases, normalised: read from the database again only
    when _fingerprint() differs from the copy's (so every process sees an upload at its next
    submission, and 50,000 entries are read once, not per case)."""
    global _screening_copy
    from shtc.models import ScreeningEntry

    fingerprint = _fingerprint()
    if _screening_copy.fingerprint == fingerprint:
        return _screening_copy
    with _screening_lock:
        if _screening_copy.fingerprint != fingerprint:
            names, owners = [], []
            rows = ScreeningEntry.objects.filter(active=True).order_by().values_list(
                "pk", "name", "aliases")
            for pk, name, aliases in rows.iterator(chunk_size=5000):
                for listed in (name, *aliases.split(";")):
                    key = normalise(listed)
                    if key:
                        names.append(key)
                        owners.append((pk, listed.strip()))
            _screening_copy = _Screening(fingerprint, names, owners)
    return _screening_copy


def best_match(name, screening=None):
    """(score, entry id, the listed name or alias) of the screening entry `name` matches best
    at MATCH_THRESHOLD or above, or None. `screening`: the list as _screening() read it."""
    from rapidfuzz import fuzz, process

    key = normalise(name)
    screening = screening or _screening()
    if not key or not screening.names:
        return None
    found = process.extractOne(key, screening.names, scorer=fuzz.ratio, processor=None,
                               score_cutoff=MATCH_THRESHOLD)
    if found is None:
        return None
    _choice, score, index = found
    entry_id, listed = screening.owners[index]
    return round(score, 1), entry_id, listed


# --- the flags --------------------------------------------------------------------------


def flag_case(application):
    """Compute and store the risk flags of `application`, an SHTC case being submitted (its
    row locked by the caller, in the caller's transaction). Returns the RiskFlag rows."""
    from permits.models import Party, PartyRole
    from shtc import rules
    from shtc.models import RiskFlag, RiskFlagKind, ScreeningEntry, ShtcApplication

    flags = []

    def flag(kind, score=None, entry=None, **params):
        flags.append(RiskFlag(application=application, kind=kind, params=params, score=score,
                              matched_entry_id=entry))

    destination = (application.destination_country or "").upper()
    area = rules.controlled_area(destination)
    if area is not None and area.own_procedure:
        flag(RiskFlagKind.CONTROLLED_DESTINATION, country=destination,
             trade_banned_since=area.trade_banned_since.isoformat()
             if area.trade_banned_since else None)
    if destination in rules.BUSINESS_LICENCE_COUNTRIES:
        flag(RiskFlagKind.WATCHED_DESTINATION, country=destination)

    origins = sorted(set(application.items.order_by().values_list("origin_country", flat=True)
                         .distinct()))
    needing = [origin for origin in origins if rules.reexport_needs_approval(origin, destination)]
    if needing:
        flag(RiskFlagKind.REEXPORT, origins=needing)

    parties = {party.role: party for party in Party.objects.filter(application=application)}
    end_user = parties.get(PartyRole.END_USER)
    if end_user is not None and normalise(end_user.name) and \
            not _exported_to_before(application, end_user):
        flag(RiskFlagKind.FIRST_EXPORT, name=end_user.name, country=end_user.country)

    matched = []
    screening = _screening() if parties else None
    for role in (PartyRole.BUYER, PartyRole.CONSIGNEE, PartyRole.END_USER):
        party = parties.get(role)
        if party is None or (role == PartyRole.CONSIGNEE and party.same_as_buyer):
            continue
        best = None
        for name in (party.name, party.name_zh):
            found = best_match(name, screening)
            if found and (best is None or found[0] > best[0]):
                best = (*found, name)
        if best:
            score, entry_id, listed, name = best
            matched.append(entry_id)
            flag(RiskFlagKind.SCREENING_MATCH, score=score, entry=entry_id, role=role,
                 name=name, country=party.country, listed=listed)
    if matched:
        # The entries' lists and countries, as they stood at the match (one query).
        entries = {pk: (source, country) for pk, source, country in ScreeningEntry.objects
                   .filter(pk__in=matched).values_list("pk", "source_list", "country")}
        for row in flags:
            if row.matched_entry_id:
                row.params["source_list"], row.params["entry_country"] = \
                    entries[row.matched_entry_id]

    port = (ShtcApplication.objects.filter(application=application)
            .values_list("transit_port", flat=True).first() or "")
    if port and rules.is_controlled(port[:2]):
        # A UN/LOCODE code's first two letters are its country's ISO code.
        flag(RiskFlagKind.TRANSIT_PORT, port=port, country=port[:2])

    return RiskFlag.objects.bulk_create(flags)


def _exported_to_before(application, end_user):
    """Whether an earlier submitted SHTC case of the same applicant (申請人辨識碼) names an end
    user of the same normalised name in the same country. One query: the applicant's end users
    in that country, compared here (names are typed anew on every case)."""
    from permits.models import DocumentType, Party, PartyRole

    wanted = normalise(end_user.name)
    names = (Party.objects.filter(
        role=PartyRole.END_USER, country=end_user.country,
        application__document_type=DocumentType.SHTC_EXPORT,
        application__applicant_identifier=application.applicant_identifier,
        application__submitted_at__isnull=False)
        .exclude(application=application).order_by().values_list("name", flat=True).distinct())
    return any(normalise(name) == wanted for name in names)


# --- the words ---------------------------------------------------------------------------


def flag_text(flag):
    """The flag's sentence in the current language, from its params."""
    from shtc.models import RiskFlagKind

    params = flag.params or {}
    names = country_names()

    def country(code):
        return names.get(code, code or "")

    kind = flag.kind
    if kind == RiskFlagKind.CONTROLLED_DESTINATION:
        text = gettext("Destination %(country)s: a controlled area with its own procedure and "
                       "inter-agency consultation (協查).") % {"country": country(params.get(
                           "country"))}
        if params.get("trade_banned_since"):
            import datetime

            text += " " + gettext("Total trade ban since %(date)s: no export may be "
                                  "approved.") % {"date": roc(datetime.date.fromisoformat(
                                      params["trade_banned_since"]))}
        return text
    if kind == RiskFlagKind.WATCHED_DESTINATION:
        return gettext("Destination %(country)s: check the end user and its business licence "
                       "closely.") % {"country": country(params.get("country"))}
    if kind == RiskFlagKind.REEXPORT:
        return gettext("Re-export of goods originating in %(countries)s: that government's "
                       "re-export approval is needed (SHTC-2).") % {
            "countries": "、".join(country(code) for code in params.get("origins", ()))}
    if kind == RiskFlagKind.FIRST_EXPORT:
        return gettext("First export of this applicant to the end user %(name)s "
                       "(%(country)s).") % {"name": params.get("name", ""),
                                            "country": country(params.get("country"))}
    if kind == RiskFlagKind.SCREENING_MATCH:
        from permits.models import PartyRole

        role = params.get("role", "")
        return gettext("%(role)s %(name)s matches “%(listed)s” of the screening list "
                       "%(source)s (score %(score)s).") % {
            "role": PartyRole(role).label if role in PartyRole.values else role,
            "name": params.get("name", ""), "listed": params.get("listed", ""),
            "source": params.get("source_list", ""),
            "score": f"{flag.score:g}" if flag.score is not None else ""}
    if kind == RiskFlagKind.TRANSIT_PORT:
        return gettext("Transit port %(port)s is in a controlled area (%(country)s).") % {
            "port": params.get("port", ""), "country": country(params.get("country"))}
    return str(kind)


# --- for the reviewers' pages (the case list's column, the case page's panel) -----------------


def flags_of(case_ids, *, deciders=False):
    """{case id: [RiskFlag]} of `case_ids`, with their matched entries (and with `deciders`
    who decided each, which a case page shows): one query for a page of the case list or for
    one case page."""
    from shtc.models import RiskFlag

    found = {}
    related = ("matched_entry", "decided_by") if deciders else ("matched_entry",)
    for flag in (RiskFlag.objects.filter(application_id__in=list(case_ids))
                 .select_related(*related).order_by("application_id", "pk")):
        found.setdefault(flag.application_id, []).append(flag)
    return found


def flags_html(flags):
    """The flags as an HTML list (every value escaped), each with its kind as a class and
    data-testid, an open flag marked until the reviewer records a decision; "" for none."""
    from django.utils.html import escape

    if not flags:
        return ""
    rows = []
    for flag in flags:
        state = "decided" if flag.decided_at else "open"
        rows.append(f'<li class="risk-flag risk-{escape(flag.kind)} risk-{state}" '
                    f'data-testid="risk-{escape(flag.kind)}">{escape(flag.text)}</li>')
    return f'<ul class="risk-flags">{"".join(rows)}</ul>'


# --- the reviewer's decision on a flag (issue 14, point 4) --------------------------------


DECISION_MAX_LENGTH = 2000


@transaction.atomic
def risk_flag_decide(*, flag, actor, note):
    """Record `actor`'s (a reviewer's) decision `note` on the risk flag `flag`, with who and
    when. A flag is decided once: the row is locked first, so of two reviewers deciding at
    once the second sees the first's decision and is refused (ValidationError, code
    "decided"). Returns the decided flag."""
    from shtc.models import RiskFlag

    locked = RiskFlag.objects.select_for_update(of=("self",)).select_related(
        "decided_by").get(pk=flag.pk)
    if locked.decided_at is not None:
        raise ValidationError(
            gettext("This risk flag was already decided by %(name)s on %(time)s.")
            % {"name": locked.decided_by.name or locked.decided_by.identifier,
               "time": roc_datetime(locked.decided_at)}, code="decided")
    locked.decided_by, locked.decided_at, locked.decision_note = actor, timezone.now(), note
    locked.save(update_fields=["decided_by", "decided_at", "decision_note"])
    return locked
