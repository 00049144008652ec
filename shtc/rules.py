"""The SHTC rules that read the reference data (shtc/models.py): a permit's validity
(SHTC-14), the warnings a destination calls for before work is done (issue 11, point 6), the
re-export approval (SHTC-2 item 7), and what the case pages show of a destination (its
regimes, whether it is a controlled area).

Plain functions over the database, no request: a country is its ISO code ("US") or a
permits.Country; a date is a datetime.date.

The reference rows they read (regime memberships with their dates, controlled areas, the
re-export approval countries, the countries' names) change by the bureau's hand a few times a
year and are read on every 9-1-1 page and reviewer's panel, so each process keeps them with
the portal's other reference rows (permits.fields.reference_cached): a save or delete of one
of these rows, through the admin or elsewhere, clears this process's copy at once (signals
below), and every other process reads the change within permits.fields.REFERENCE_TTL (60 s).
Memberships are kept with their dates and filtered for the day asked, as
RegimeMembershipQuerySet.on() does, so a kept copy answers any day.
"""

import datetime
import functools
from typing import NamedTuple

from dateutil.relativedelta import relativedelta
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from permits.fields import country_names, forget_reference_on_change, reference_cached
from permits.prepared import PreparedQuery, among, arrays_supported
from portal.accounts.identifiers import normalize
from portal.templatetags.roc import roc
from shtc.models import ControlledArea, ReexportApprovalCountry, Regime, RegimeMembership

# SHTC-14.
SHORT_MONTHS = 6
LONG_MONTHS = 24
RELEASES_FOR_LONG = 5
# SHTC-2 item 6.
BUSINESS_LICENCE_COUNTRIES = frozenset({"CN", "AE"})


def _code(country):
    return str(getattr(country, "code", country) or "").strip().upper()


def _country_name(code):
    """The country's short name in the page's language (北韓, North Korea), or its code."""
    return country_names().get(code, code)


class _Reference(NamedTuple):
    memberships: dict  # {country code: [(regime, joined_on, left_on or None)]}
    controlled: dict  # {country code: ControlledArea} of the active ones
    reexport: tuple  # codes of the active re-export approval countries, in order


def _load_reference():
    memberships = {}
    for country, regime, joined, left in RegimeMembership.objects.order_by().values_list(
            "country_id", "regime", "joined_on", "left_on"):
        memberships.setdefault(country, []).append((regime, joined, left))
    return _Reference(
        memberships=memberships,
        controlled={area.country_id: area for area in ControlledArea.objects.filter(active=True)},
        reexport=tuple(ReexportApprovalCountry.objects.filter(active=True)
                       .values_list("country_id", flat=True)))


def _reference():
    """The rows above, kept per process (the module docstring says for how long)."""
    return reference_cached(("shtc.rules",), _load_reference)


forget_reference_on_change(RegimeMembership, ControlledArea, ReexportApprovalCountry)


def controlled_area(country):
    """The active ControlledArea row of `country`, or None."""
    return _reference().controlled.get(_code(country))


def controlled_areas():
    """The codes of the active controlled areas."""
    return list(_reference().controlled)


def _day(day):
    # In the ROC calendar, as the portal shows dates (2017-09-26 → 106/09/26).
    return roc(day)


def regimes_of(country, on=None):
    """The regimes (Regime values) `country` belongs to on `on` (default today), in the order
    of Regime."""
    on = on or timezone.localdate()
    # As RegimeMembershipQuerySet.on(): joined on or before `on`, not left by then.
    held = {regime for regime, joined, left in _reference().memberships.get(_code(country), ())
            if joined <= on and (left is None or left > on)}
    return [regime for regime in Regime.values if regime in held]


def in_all_regimes(country, on=None):
    """SHTC-14 (1): a member of all four regimes on `on`."""
    return len(regimes_of(country, on)) == len(Regime.values)


def is_controlled(country):
    """A controlled area (管制地區): Iran and North Korea as seeded, or as the bureau keeps
    them."""
    return controlled_area(country) is not None


def has_own_procedure(country):
    """Whether exports to `country` go through 9-2-1 輸往伊朗北韓 instead of 9-1-1."""
    area = controlled_area(country)
    return area is not None and area.own_procedure


@functools.lru_cache(maxsize=64)
def half_year_before(on):
    """The first day of the half year that ends on `on`: the same day six months earlier
    (the last day of the month when that month is shorter: 08-31 → 02-28). Kept for the
    last days asked (a relativedelta cost a reviewer's panel 15 µs a time)."""
    return on - relativedelta(months=SHORT_MONTHS)


def _normalise_name(name):
    if type(name) is str:
        return _normalised(name)
    return " ".join(str(name or "").split()).casefold()


@functools.lru_cache(maxsize=4096)
def _normalised(name):
    """A name compared without case and runs of blanks; kept for the names last compared
    (the reviewer's panel compares the exporter's buyers' names, 50 a case, on each view)."""
    return " ".join(name.split()).casefold()


def releases_to_importer(*, exporter, destination, importer_name, on, buyers=None):
    """How many of the exporter's SHTC export declarations to `importer_name` in
    `destination` had goods released from half_year_before(on) to `on`, both included
    (SHTC-14 (2)).

    What is counted, from the reconciliation app:
    * a declaration (reconciliation.Declaration) of direction export, not cancelled by
      customs, whose declarant is the exporter (`exporter`: the identifier customs reports,
      the 申請人辨識碼 of the case: Application.applicant_identifier) and which cites an SHTC
      permit (document type SE);
    * with at least one release in the write-off ledger (LedgerEntry of kind RELEASE, tied to
      one of its items) written in the half year and not reversed: a declaration released in
      several parts counts once, and one customs cancelled afterwards does not count.

    A declaration does not record the importer, so the importer is the one of the permit it
    cites: the buyer (permits.Party, role buyer) of the case a version of that permit came
    from, in the same country as the destination, with the same name compared without case
    and runs of blanks (the names are typed anew on every case; "ACME Corp." and
    "ACME  CORP." are one importer, "ACME Corporation" is another). That case's destination
    must be `destination` too. Any version of the permit counts: a 更正 that changed the
    buyer does not hide the earlier exports to it.

    `buyers`: the rows of buyers_call() for these arguments, read beforehand by a page that
    reads its parts in one round trip (the reviewers' case page), else read here.
    """
    destination = _code(destination)
    wanted = _normalise_name(importer_name)
    identifier = normalize(exporter)
    if not (destination and wanted and identifier):
        return 0
    start = half_year_before(on)
    # Whole days in the portal's time zone (Asia/Taipei), as the dates are shown.
    since = timezone.make_aware(datetime.datetime.combine(start, datetime.time.min))
    until = timezone.make_aware(datetime.datetime.combine(on + datetime.timedelta(days=1),
                                                          datetime.time.min))

    # The buyers are typed free text: narrow by country in SQL, compare names here. An
    # exporter's approved cases to one country are few, so this stays small. Only approved
    # cases (with a permit version) can be cited by a declaration: none of them buying
    # from the exporter under that name (the case being decided is not approved yet), no
    # declaration to count and no query for them.
    if buyers is None:
        buyers = _BUYERS.rows(identifier=identifier, destination=destination)
    buyer_cases = [application_id for application_id, name in buyers
                   if _normalise_name(name) == wanted]
    if not buyer_cases:
        return 0
    if not arrays_supported():  # (SQLite: the same query, compiled each time)
        return _released(identifier=identifier, since=since, until=until,
                         cases=buyer_cases).count()
    [(count,)] = _RELEASED.rows(identifier=identifier, since=since, until=until,
                                cases=buyer_cases)
    return count


def buyers_call(*, exporter, destination, on):
    """(query, values) reading the buyers releases_to_importer() compares for a permit to
    `destination` decided on `on` (a page's part, for permits.prepared.together: its rows
    go back as `buyers` through validity()), or None where validity() counts no releases:
    the destination in all four regimes or a controlled area, nothing to look up."""
    destination, identifier = _code(destination), normalize(exporter)
    if not (destination and identifier) or len(regimes_of(destination, on)) == len(
            Regime.values) or is_controlled(destination):
        return None
    return _BUYERS, {"identifier": identifier, "destination": destination}


# The two queries of releases_to_importer, compiled once per process (permits.prepared):
# building them through the ORM cost about 3 ms of CPU on each reviewer's panel (issue 10).


def _buyers(*, identifier, destination):
    """(case, buyer's name) of the exporter's approved SHTC export cases (those with a
    permit version, which a declaration may cite) to `destination` whose buyer is in it (no
    order: Party's, by its case's date, sorted them for nothing)."""
    from permits.models import DocumentType, Party, PartyRole

    return Party.objects.filter(
        role=PartyRole.BUYER, country=destination,
        application__destination_country=destination,
        application__document_type=DocumentType.SHTC_EXPORT,
        application__applicant_identifier=identifier,
        application__issued_version__isnull=False,
    ).order_by().values_list("application_id", "name")


def _released(*, identifier, since, until, cases):
    """The exporter's export declarations citing a permit of one of `cases` (a version of
    it), not cancelled, with a release in [since, until) not reversed."""
    from permits.models import PermitVersion
    from reconciliation.models import Declaration, Direction, LedgerEntry

    permits = PermitVersion.objects.filter(among("application_id", cases)).values("permit_id")
    released = LedgerEntry.objects.filter(
        kind=LedgerEntry.Kind.RELEASE, declaration_item__declaration=OuterRef("pk"),
        created_at__gte=since, created_at__lt=until, reversed_by__isnull=True)
    return (Declaration.objects
            .filter(direction=Direction.EXPORT, cancelled_at__isnull=True,
                    declarant_identifier=identifier, permit_id__in=permits)
            .filter(Exists(released)))


# Its plan kept (keep_plan): PostgreSQL planned it on every reviewer's case page, 0.3 to 0.9
# ms, more than it took to run. Its document type written into the SQL (inline_constants),
# where the kept plan sees it: the condition of the index that reads the exporter's cases
# (shtc 0009). As a parameter, the generic plan ANDed two bitmaps of thousands of cases
# instead, 7 to 14 ms (bench/README.md "Stop 24").
_BUYERS = PreparedQuery(_buyers, parameters=("identifier", "destination"),
                        kinds={"identifier": str, "destination": str}, keep_plan=True,
                        inline_constants=True)
_RELEASED = PreparedQuery(
    lambda **values: _released(**values).order_by().values_list("pk"),
    parameters=("identifier", "since", "until", "cases"),
    kinds={"identifier": str, "since": datetime.datetime, "until": datetime.datetime},
    wrap=lambda sql: f"SELECT COUNT(*) FROM ({sql}) AS released")  # noqa: S608 (compiled)


class Validity(NamedTuple):
    months: int
    reason: str


def validity(*, destination, partial_shipment, exporter, importer_name, on, buyers=None):
    """(months, reason) of a permit decided on `on` (SHTC-14): 24 months when the destination
    belongs to all four regimes on that day, or when it is not a controlled area and the
    exporter's SHTC exports to the same importer there were released at least 5 times in the
    half year before (releases_to_importer); 6 months otherwise. 分批 does not change the
    period: a permit allows partial shipments unless the case said 不分批, and says which.
    The reason names the rule that applied, for the reviewer; an expired permit is never
    extended, so nothing here looks at an earlier permit's validity. `buyers`: as
    releases_to_importer() takes them (buyers_call())."""
    destination = _code(destination)
    name = _country_name(destination)
    shipments = (gettext("Partial shipments allowed (分批).") if partial_shipment
                 else gettext("One shipment only (不分批)."))
    regimes = regimes_of(destination, on)
    if len(regimes) == len(Regime.values):
        reason = gettext("2 years: on %(date)s %(country)s belongs to all four regimes "
                         "(Wassenaar Arrangement, MTCR, NSG, Australia Group), SHTC-14 (1).") % {
            "date": _day(on), "country": name}
        return Validity(LONG_MONTHS, f"{reason} {shipments}")
    held = "、".join(str(Regime(regime).label) for regime in regimes) or gettext("none")
    not_all = gettext("%(country)s does not belong to all four regimes (on %(date)s: "
                      "%(regimes)s).") % {"country": name, "date": _day(on), "regimes": held}
    if is_controlled(destination):
        reason = gettext("6 months: %(not_all)s %(country)s is a controlled area, so the "
                         "five-export rule does not apply (SHTC-14 (2)).") % {
            "not_all": not_all, "country": name}
        return Validity(SHORT_MONTHS, f"{reason} {shipments}")
    count = releases_to_importer(exporter=exporter, destination=destination,
                                 importer_name=importer_name, on=on, buyers=buyers)
    period = {"start": _day(half_year_before(on)), "end": _day(on), "count": count,
              "importer": " ".join(str(importer_name or "").split()), "country": name}
    if count >= RELEASES_FOR_LONG:
        reason = gettext("2 years: %(count)s export declarations of the exporter to "
                         "%(importer)s in %(country)s were released from %(start)s to "
                         "%(end)s, at least 5, and %(country)s is not a controlled area, "
                         "SHTC-14 (2).") % period
        return Validity(LONG_MONTHS, f"{reason} {shipments}")
    counted = ngettext(
        "%(count)s export declaration of the exporter to %(importer)s in %(country)s was "
        "released from %(start)s to %(end)s, fewer than 5.",
        "%(count)s export declarations of the exporter to %(importer)s in %(country)s were "
        "released from %(start)s to %(end)s, fewer than 5.", count) % period
    reason = gettext("6 months: %(not_all)s %(counted)s") % {"not_all": not_all,
                                                             "counted": counted}
    return Validity(SHORT_MONTHS, f"{reason} {shipments}")


def destination_warnings(country):
    """[(code, message)] to show as soon as `country` is chosen as the destination, before
    the applicant invests work (issue 11, point 6): "trade_ban" (a total trade ban in force:
    North Korea since 2017-09-26), "own_procedure" (Iran and North Korea: 9-2-1),
    "business_licence" (mainland China and the UAE, SHTC-2 item 6). The re-export warning
    depends on the goods' origin too: reexport_warning()."""
    code = _code(country)
    warnings = []
    area = controlled_area(code)
    if area is not None and area.trade_banned_since is not None \
            and area.trade_banned_since <= timezone.localdate():
        warnings.append(("trade_ban", gettext(
            "Trade with %(country)s has been banned since %(date)s.") % {
            "country": _country_name(code), "date": _day(area.trade_banned_since)}))
    if area is not None and area.own_procedure:
        warnings.append(("own_procedure", gettext(
            "Iran and North Korea have their own procedure: apply in 9-2-1 輸往伊朗北韓-"
            "最終用途保證書登錄作業, not here.")))
    if code in BUSINESS_LICENCE_COUNTRIES:
        warnings.append(("business_licence", gettext(
            "For %(country)s a copy of the company business licence will be needed (SHTC-2).")
            % {"country": _country_name(code)}))
    return warnings


def reexport_needs_approval(origin_country, destination):
    """SHTC-2 item 7: a re-export of goods originally exported by one of the ten countries
    needs that government's approval, unless the goods go back to it."""
    origin = _code(origin_country)
    if not origin or origin == _code(destination):
        return False
    return origin in _reference().reexport


def reexport_warning(origin_country, destination):
    """(code, message) when reexport_needs_approval(), else None (issue 11, point 6)."""
    if not reexport_needs_approval(origin_country, destination):
        return None
    return ("reexport_approval", gettext(
        "A re-export of goods from %(country)s needs the re-export approval of its "
        "government (SHTC-2), unless the goods go back there.") % {
        "country": _country_name(_code(origin_country))})


def countries_needing_reexport_approval():
    """The codes of the ten countries of SHTC-2 item 7 (as the bureau keeps them)."""
    return list(_reference().reexport)


