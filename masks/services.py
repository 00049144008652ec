"""Writes of the mask procedure (DOMAIN.md §3): filing a permit application, which issues the
permit at once (MASK-3); writing off the quantities imported without a declaration (MASK-5);
flows, returns and reminders (MASK-6 to MASK-9). Views call these and nothing else that
writes. The entry pages and changes (更正, 餘額重簽, PERMIT-3) are permits.entry's and
permits.changes' (masks/entry.py declares the mask flows).

Error codes (ValidationError.code; tests and views look at these, never at the wording):

    not_found            no mask permit with that number that the user may see
    revoked              a write-off of a cancelled permit
    not_valid            a write-off against a permit not valid today
    declaration_route    a write-off of a permit whose import situation is 報單
    route_mismatch       a write-off under another import situation than the permit's
    over_permit          a write-off of more than the permit has left in a category
    no_items             申請 without goods items
    declaration_not_found  no import declaration with that number citing a mask permit
                         the user may see (the same for someone else's declaration)
    nothing_cleared      流向登錄 of a source under which nothing was released or written off
    use_declaration      menu 3 (非報單) with the permit of an import through a declaration
    over_stock           a flow of more than the 庫存 left
    date_in_future       a flow dated after today
    date_before_clearance  a flow dated before its masks were cleared (params: earliest)
    documents_required   a flow without supporting documents, for a category that needs them
    nothing_to_declare   申報 with no pending flow (or return)
    not_declared         a return against a flow not declared yet
    over_flow            a return of more than the flow has left
"""

import datetime
import functools
import time
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import (
    Case,
    CharField,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from masks.models import (
    FLOW_CATEGORIES_WITHOUT_DOCUMENTS,
    WRITE_OFF_ROUTES,
    Category,
    Flow,
    FlowDocument,
    FlowReturn,
    MaskApplication,
    Route,
    StockRefreshMark,
    StockReminder,
    StockReport,
    WriteOff,
)
from permits import changes, workflow
from permits import services as permit_services
from permits.attachments import check_upload, store
from permits.listing import filed_permits_sql, held_permits_sql
from permits.models import (
    Application,
    DocumentType,
    OutboundEmail,
    Permit,
    PermitState,
    Status,
)
from permits.prepared import PreparedQuery, among, arrays_supported, plan_keeping_cursor
from permits.storage import files_delete_on_commit
from portal.accounts.models import User
from reconciliation import ledger
from reconciliation.models import (
    Declaration,
    DeclarationItem,
    Direction,
    LedgerEntry,
    MatchResult,
)

ZERO = Decimal(0)

MESSAGES = {
    "not_found": _("No face-mask import permit with this number was found among your "
                   "permits."),
    "revoked": _("The permit was cancelled."),
    "not_valid": _("The permit is not valid today."),
    "declaration_route": _("This permit is for an import through a customs declaration: "
                           "customs writes its quantities off."),
    "route_mismatch": _("The permit was issued for “%(route)s”."),
    "over_permit": _("The permit has %(balance)s left for %(category)s; %(quantity)s is more "
                     "than that."),
    "no_items": _("Add at least one goods item."),
    "declaration_not_found": _("No customs import declaration with this number was found "
                               "among your face-mask import permits."),
    "nothing_cleared": _("No masks have been cleared under %(number)s yet: there is no stock "
                         "to declare."),
    "use_declaration": _("The masks of this permit were imported through a customs "
                         "declaration: start from the declaration number (2)."),
    "over_stock": _("The stock is %(stock)s; %(quantity)s is more than that."),
    "date_in_future": _("The date cannot be later than today (%(today)s)."),
    "date_before_clearance": _("The masks were cleared on %(earliest)s: a flow cannot be "
                               "dated earlier."),
    "documents_required": _("Attach the supporting documents: every flow except “Own use "
                            "(not for sale)” needs them."),
    "nothing_to_declare": _("There is nothing to declare."),
    "not_declared": _("Only a declared flow can take a return."),
    "over_flow": _("The flow has %(left)s left; %(quantity)s is more than that."),
}

def error(code, **params):
    return permit_services.coded_error(MESSAGES, code, **params)


def visible_permits(user):
    """The mask permits `user` may see: those whose cases they may see (ACC-4)."""
    return Permit.objects.visible_to(user).filter(document_type=DocumentType.MASK_IMPORT)


def permit_find(*, user, permit_no):
    """The mask permit numbered `permit_no` that `user` may see. Another user's permit gives
    the same error as an unknown number, so a number tells nothing about other users."""
    number = (permit_no or "").strip().upper()
    permit = visible_permits(user).filter(permit_no=number).first()
    if permit is None:
        raise error("not_found")
    return permit


def route_of(version):
    """The import situation of a permit version (of its case), or None for a case filed
    without one (not through these pages)."""
    try:
        return version.application.mask.route
    except MaskApplication.DoesNotExist:
        return None


# --- 輸入許可申請 (MASK-1 to MASK-4) ----------------------------------------------------------


@transaction.atomic
def application_submit(*, actor, applicant, route, items, client_token=None, **basic):
    """申請: file the case with its items and issue the permit at once (MASK-3).

    `basic` is the basic data (permits.services.PARTY_FIELDS); `items` the goods items as
    permits.services.item_add takes them. A repeated request with the same `client_token`
    (a double-clicked 申請) returns the first request's case, already issued. The status
    e-mail with the permit number goes to the company e-mail given, through the outbox that
    transition() writes.
    """
    if not items:
        raise error("no_items")
    application = permit_services.application_create(
        document_type=DocumentType.MASK_IMPORT, applicant=applicant, actor=actor,
        items=items, client_token=client_token, **basic)
    if application.status != Status.DRAFT:
        return application  # the first request issued it (this whole function is atomic)
    MaskApplication.objects.create(application=application, route=route)
    # No reviewer: the portal issues it (workflow.SYSTEM), recording who filed it.
    return workflow.transition(application=application, to=Status.APPROVED, actor=actor,
                               system=True)


# --- 更正輸入許可 (MASK-10): an entry flow (masks/entry.py); its gates are permits.changes' --


def used_by_line(permit):
    """{line_no: quantity written off or released} of a permit."""
    return dict(ledger.used_by_line([permit])[permit.pk])


def below_used(*, permit, line_no, quantity):
    """The error for a corrected quantity below what line `line_no` already used, or None:
    said next to the item's quantity at 確認 (permits.changes checks every item again at
    申請)."""
    used = used_by_line(permit).get(line_no, ZERO)
    if quantity < used:
        return changes.error("below_used", line=line_no, used=used)
    return None


# --- 非報單輸入口罩核銷 (MASK-5) ---------------------------------------------------------------


def write_off_problems(*, permit, route):
    """Why `permit` cannot be written off under `route` (a list of ValidationErrors)."""
    version = permit.current
    permit_route = route_of(version)
    if permit_route not in WRITE_OFF_ROUTES:
        return [error("declaration_route")]
    problems = []
    if route != permit_route:
        problems.append(error("route_mismatch", route=Route(permit_route).label))
    if permit.state != PermitState.VALID:
        problems.append(error("revoked" if permit.state == PermitState.REVOKED
                              else "not_valid"))
    return problems


def category_balances(permit):
    """{category: [(line_no, balance)]} of the permit version in force, in line order."""
    balances = ledger.balances(permit)
    lines = {category: [] for category in Category}
    for item in permit.current.application.items.order_by("line_no"):
        if item.category in lines:
            lines[item.category].append((item.line_no, balances.get(item.line_no, ZERO)))
    return lines


def write_off_allocate(*, permit, quantities):
    """{line_no: quantity}: each category's quantity spread over that category's items in
    line order, each item taking what it has left. Raises ValidationError(code=
    "over_permit"), keyed by category, when a category has less left than asked
    (*decision*, MASK-5: never more than the permit allows per category)."""
    lines, problems = {}, {}
    for category, available in category_balances(permit).items():
        quantity = quantities.get(category) or ZERO
        left = sum((balance for _line, balance in available), ZERO)
        if quantity > left:
            problems[category] = error("over_permit", balance=left, quantity=quantity,
                                       category=Category(category).label)
            continue
        for line_no, balance in available:
            take = min(balance, quantity)
            if take > 0:
                lines[line_no] = take
                quantity -= take
    if problems:
        raise ValidationError(problems)
    return lines


@transaction.atomic
def write_off_record(*, actor, permit, route, medical_quantity, non_medical_quantity,
                     client_token=None):
    """核銷完成: record a write-off without a declaration on the reconciliation ledger.

    The permit row is locked before the balances are read, and the ledger writes every
    line in one call under the same lock: two write-offs against one permit at once queue
    on the lock, the second allocates from what the first left, and either all of a
    write-off's lines are written or none (ValidationError, code "over_permit" by category
    or the ledger's "over_balance"). A repeated request with the same `client_token` returns
    the first one's write-off.
    """
    permit = Permit.objects.select_for_update().get(pk=permit.pk)
    if client_token:
        existing = WriteOff.objects.filter(client_token=client_token).first()
        if existing is not None:
            return existing
    problems = write_off_problems(permit=permit, route=route)
    if problems:
        raise ValidationError(problems)
    lines = write_off_allocate(permit=permit, quantities={
        Category.MEDICAL: medical_quantity, Category.NON_MEDICAL: non_medical_quantity})
    record = WriteOff.objects.create(
        permit=permit, route=route, medical_quantity=medical_quantity or ZERO,
        non_medical_quantity=non_medical_quantity or ZERO, actor=actor,
        client_token=client_token)
    ledger.write_off(permit=permit, lines=lines, kind=LedgerEntry.Kind.WRITE_OFF, actor=actor,
                     reference=record.reference)
    return record


# --- 口罩流向登錄作業 (MASK-6, MASK-7) ---------------------------------------------------------
#
# What counts as stock (庫存): the quantity cleared under a source, read from the
# reconciliation ledger, less what the flows took.
#   * A customs import declaration citing a mask permit (menu 2): the quantities customs
#     released under it (LedgerEntry RELEASE entries of its items) plus their reversals (a
#     cancelled declaration's releases are reversed, so it clears nothing).
#   * A mask permit imported without a declaration (menu 3): the quantities written off
#     through 非報單輸入口罩核銷 (LedgerEntry entries without a declaration item: WRITE_OFF and
#     their reversals).
# The flows take their quantity from the stock when they are registered (pending); 申報
# makes them final. A return gives its quantity back to the stock when it is registered.
# If the ledger later shows less cleared than the flows already took (customs cancelled
# the declaration after the flows were registered), the stock stays at 0: flows are never
# taken away by the portal, and the bureau sees the case in the admin.


def _number(text):
    return (text or "").strip().upper()


def declaration_find(*, user, number):
    """The import declaration numbered `number` that cites a mask permit `user` may see.
    Someone else's declaration gives the same error as an unknown number."""
    declaration = (Declaration.objects
                   .filter(number=_number(number), direction=Direction.IMPORT,
                           permit__in=visible_permits(user))
                   .select_related("permit").first())
    if declaration is None:
        raise error("declaration_not_found")
    return declaration


def stock_permit_find(*, user, permit_no):
    """The mask permit (menu 3) imported without a declaration, numbered `permit_no`."""
    permit = permit_find(user=user, permit_no=permit_no)
    if route_of(permit.current) not in WRITE_OFF_ROUTES:
        raise error("use_declaration")
    return permit


def cleared_by_declaration(declaration_ids):
    """{declaration_id: quantity released and not reversed}, in one query."""
    return dict(LedgerEntry.objects
                .filter(declaration_item__declaration_id__in=declaration_ids)
                .values_list("declaration_item__declaration_id")
                .annotate(total=Sum("quantity")).order_by())


def cleared_by_permit(permit_ids):
    """{permit_id: quantity written off without a declaration}, in one query."""
    return dict(LedgerEntry.objects
                .filter(permit_id__in=permit_ids, declaration_item__isnull=True)
                .values_list("permit_id").annotate(total=Sum("quantity")).order_by())


def _cleared_now(allocated):
    """For the StockReport row an UPDATE writes: the quantity cleared under its source as
    the ledger says when the statement runs (a scalar subquery), never below `allocated`
    (what the flows hold after the UPDATE; the check constraint would refuse less).

    Read in the same statement as the write, not before it: a release committed between a
    read and the write could otherwise be overwritten by the older sum, and the 稽催信 job,
    which reads only the ledger entries that came after its last run, would never set it
    right again (see stock_reports_refresh)."""
    return Greatest(
        Case(When(declaration__isnull=False,
                  then=_total(LedgerEntry.objects, "declaration_item__declaration",
                              outer="declaration_id")),
             default=_total(LedgerEntry.objects.filter(declaration_item__isnull=True),
                            "permit", outer="permit_id")),
        allocated)


def _refresh(report):
    """Copy the cleared quantity from the ledger, in one UPDATE that never puts it below
    what the flows already took."""
    StockReport.objects.filter(pk=report.pk).update(cleared=_cleared_now(F("allocated")),
                                                    refreshed_at=timezone.now())
    report.refresh_from_db()
    return report


def _stock_source(*, declaration, permit):
    """A stock's source, a declaration (menu 2) or a permit imported without one (menu 3):
    the lookup of its StockReport, its permit, its number and what was cleared under it."""
    if declaration is not None:
        return ({"declaration": declaration}, declaration.permit, declaration.number,
                cleared_by_declaration([declaration.pk]).get(declaration.pk, ZERO))
    return ({"permit": permit, "declaration": None}, permit, permit.permit_no,
            cleared_by_permit([permit.pk]).get(permit.pk, ZERO))


def stock_report_check(*, declaration=None, permit=None):
    """Whether 帶入報單資料 can open the stock of a declaration or permit, writing nothing
    (the load forms' clean() asks this): ValidationError(code="nothing_cleared") while
    nothing was cleared under a source whose stock was never opened."""
    lookup, _permit, number, cleared = _stock_source(declaration=declaration, permit=permit)
    if cleared <= 0 and not StockReport.objects.filter(**lookup).exists():
        raise error("nothing_cleared", number=number)


@transaction.atomic
def stock_report_load(*, declaration=None, permit=None):
    """帶入報單資料: the StockReport of a declaration (menu 2) or of a permit imported without
    one (menu 3), created on first use, with the cleared quantity read from the ledger.
    Raises ValidationError(code="nothing_cleared") while nothing was cleared under it."""
    lookup, permit, number, cleared = _stock_source(declaration=declaration, permit=permit)
    report = StockReport.objects.filter(**lookup).first()
    if report is None:
        if cleared <= 0:
            raise error("nothing_cleared", number=number)
        # Two first loads at once: the unique constraints let one insert; get_or_create
        # finds the other's row.
        report, _created = StockReport.objects.get_or_create(
            **lookup, defaults={"permit": permit, "holder_id": permit.holder_id,
                                "cleared": cleared})
    return _refresh(report)


# --- What the start pages list (口罩流向登錄作業 / 退貨作業) and 我的案件 shows -------------------
#
# Read only: a source nobody opened has no StockReport yet, so its cleared quantity is read
# from the ledger as 帶入報單資料 would read it, and opening it (one click) creates the row.

# The sources listed on a start page, newest first; the number boxes open any other.
SOURCES_SHOWN = 50
_QUANTITY = DecimalField(max_digits=17, decimal_places=4)


def _total(queryset, key, outer="pk"):
    """SUM(quantity) of `queryset` rows whose `key` is the outer row's `outer`, as a scalar
    subquery (0 when there are none)."""
    return Coalesce(Subquery(queryset.filter(**{key: OuterRef(outer)}).order_by()
                             .values(key).annotate(total=Sum("quantity")).values("total"),
                             output_field=_QUANTITY),
                    Value(ZERO), output_field=_QUANTITY)


def _sources(permits):
    """Every stock source (MASK-6) of the mask permits `permits` that has stock or flows not
    declared, as one SQL query (a UNION of the two menus): rows (menu, number, permit_id,
    permit_no, cleared, allocated, declared, report_id, at). `cleared` is the ledger's;
    allocated and declared are the StockReport's (0 before it exists)."""
    columns = ("menu", "source_no", "source_permit", "source_permit_no", "cleared_now",
               "in_flows", "made_final", "report_id", "at")
    has_stock = Q(cleared_now__gt=F("in_flows")) | Q(in_flows__gt=F("made_final"))
    declarations = (
        Declaration.objects.filter(direction=Direction.IMPORT, permit__in=permits)
        .annotate(menu=Value("2", output_field=CharField()),
                  source_no=F("number"), source_permit=F("permit_id"),
                  source_permit_no=F("permit__permit_no"),
                  cleared_now=_total(LedgerEntry.objects, "declaration_item__declaration"),
                  in_flows=Coalesce(F("mask_stock_report__allocated"), Value(ZERO),
                                    output_field=_QUANTITY),
                  made_final=Coalesce(F("mask_stock_report__declared"), Value(ZERO),
                                      output_field=_QUANTITY),
                  report_id=F("mask_stock_report__id"),
                  at=F("received_at"))
        .filter(has_stock).order_by().values_list(*columns))
    report = StockReport.objects.filter(permit=OuterRef("pk"), declaration__isnull=True)
    written_off = (
        permits.filter(Exists(WriteOff.objects.filter(permit=OuterRef("pk"))))
        .annotate(menu=Value("3", output_field=CharField()),
                  source_no=F("permit_no"), source_permit=F("pk"),
                  source_permit_no=F("permit_no"),
                  cleared_now=_total(LedgerEntry.objects.filter(declaration_item__isnull=True),
                                     "permit"),
                  in_flows=Coalesce(Subquery(report.values("allocated")), Value(ZERO),
                                    output_field=_QUANTITY),
                  made_final=Coalesce(Subquery(report.values("declared")), Value(ZERO),
                                      output_field=_QUANTITY),
                  report_id=Subquery(report.values("pk")),
                  at=F("created_at"))
        .filter(has_stock).order_by().values_list(*columns))
    return declarations.union(written_off, all=True)


def _source_row(row):
    menu, number, permit_id, permit_no, cleared, allocated, declared, report_id, _at = row
    return {"menu": menu, "number": number, "permit_id": permit_id, "permit_no": permit_no,
            "report_id": report_id, "cleared": cleared,
            # As the stock page shows it: never below 0 (_refresh keeps cleared >= allocated).
            "stock": max(cleared - allocated, ZERO), "pending": allocated - declared}


def stock_sources(*, user, limit=None):
    """口罩流向登錄作業's list: ([source], more) of the declarations (menu 2) and permits
    imported without one (menu 3) that `user` may see and that have stock or flows not
    declared, newest first, at most `limit` (SOURCES_SHOWN); `more` says whether others
    were left off. One query (on PostgreSQL, one per batch: _newest_sources). Each source is
    a dict: menu, number, permit_no, report_id (None before it was opened), cleared, stock
    and pending (in flows not declared)."""
    limit = limit or SOURCES_SHOWN
    if connection.vendor == "postgresql" and not Application.objects.sees_every_case(user):
        rows = _newest_sources(user, limit + 1, dates=False)
    else:
        rows = list(_sources(visible_permits(user)).order_by("-at", "-source_no")[:limit + 1])
    return [_source_row(row) for row in rows[:limit]], len(rows) > limit


# Past this many visible mask permits, the declarations are read newest first from the whole
# index and kept if their permit is visible (a hash of the permits), rather than read permit
# by permit and sorted: the bench's applicant sees 1,189 mask permits with 1,853
# declarations, most users a handful.
DENSE_PERMITS = 256


def _newest_sources(user, wanted, *, dates=True):
    """The rows of _sources(visible_permits(user)) ordered by -at, -source_no, the first
    `wanted` of them, on PostgreSQL (for users who do not see every case), in one query.

    _sources() computes the stock of every source the user may see and then sorts them:
    180 ms for the bench's applicant with 2,072 sources. Here the candidates come newest
    first from indexes and PostgreSQL stops once `wanted` of them have stock: each branch
    of candidates is read in the list's order (menu 2: the import declarations from
    mask_import_newest, kept if their permit is visible, for a user seeing many permits,
    else those of each visible permit, sorted; menu 3: the holder's own permits from
    permit_holder_newest, kept if written off, and those filed as agent, sorted), the
    branches merged (Merge Append), and each candidate in turn gets the ledger's sum and its
    StockReport (LATERAL) and is kept if it has stock or flows not declared, until the
    LIMIT. The permits visible are permits.listing.visible_permits_sql() (the holder, and the
    agent's cases). tests/masks/test_newest_sources.py compares the rows with _sources()'s.
    Without `dates` each row's date (the last column, which only orders them) is None:
    the list does not show it, and decoding 51 timestamps cost about 0.2 ms (Django's
    time-zone loader is psycopg's Python one)."""
    # A server-side prepared statement (where the database's OPTIONS allow them) whose plan
    # PostgreSQL keeps: planning it cost 1.2 ms a request, more than running it for most
    # users (bench/README.md "Stop 26 (flow start and port look-up)"). The user's id is its
    # one parameter; the rest is written into the text.
    with plan_keeping_cursor(connection) as cursor:
        cursor.execute(_newest_sources_sql(dates, int(wanted), int(DENSE_PERMITS)),
                       [user.pk] * 4)
        return cursor.fetchall()


def _literal(value):
    """A model's constant (a choice's value) as an SQL string literal."""
    if not value.isalnum():
        raise ValueError(value)
    return f"'{value}'"


@functools.cache
def _newest_sources_sql(dates, wanted, dense_permits):
    """The SQL of _newest_sources, written out once per length and threshold from the models'
    tables and columns, with one parameter, the user's id (four times). Without `dates`,
    NULL in place of each row's date.

    Its plan is the same for every user, so PostgreSQL keeps it (after five runs: generic
    plans only in pg_prepared_statements), and it is good for every holder
    (tests/masks/test_sources_kept_plan.py): the constants (the document type, the
    direction, which the partial index mask_import_newest needs in the text, the
    threshold, the LIMIT) are written in; the user's id is read through a sub-select,
    `(SELECT $n::bigint)`, which PostgreSQL does not look into when it plans, so the plan
    made for one user's values is the plan for any user and costs no less than it (a plain
    parameter would let each user's plan look cheaper than the kept one, which is then
    never chosen); and menu 2's permit-by-permit branch reads each permit's declarations
    from its index (LATERAL), which a plan for any user would otherwise read by hashing
    every import declaration (20 ms for a holder of one permit)."""
    declaration, permit, write_off, item, entry, report = (
        model._meta.db_table for model in
        (Declaration, Permit, WriteOff, DeclarationItem, LedgerEntry, StockReport))
    me, mask, imported = "(SELECT %s::bigint)", _literal(DocumentType.MASK_IMPORT), _literal(
        Direction.IMPORT)
    dense = "(SELECT yes FROM dense)"
    written_off = f"(SELECT true FROM {write_off} w WHERE w.permit_id = p.id LIMIT 1)"  # noqa: S608
    newest_d = "ORDER BY d.received_at DESC, d.number DESC"
    newest_p = "ORDER BY p.created_at DESC, p.permit_no DESC"
    # Only the models' table names, the model constants (_literal) and integers go into the
    # text; the user's id is a parameter. No branch has a LIMIT: each is read lazily in the
    # list's order (an index, or a sort of few rows) and the outer LIMIT stops them; the
    # filter on stock is applied as the rows come.
    return (
        # (The two branches of permits.listing.visible_permits_sql, their parameters (user id,
        # document type) written as above.)
        f"WITH filed AS MATERIALIZED ({filed_permits_sql() % (me, mask)}), "  # noqa: S608
        f"visible AS MATERIALIZED ({held_permits_sql() % (me, mask)} "
        f"UNION ALL SELECT permit_id FROM filed), "
        # Whether the user sees many permits, counted once for both branches of menu 2.
        f"dense AS MATERIALIZED (SELECT count(*) > {dense_permits} AS yes FROM visible)"
        f" SELECT c.menu, c.source_no, c.permit_id, p.permit_no, cl.total, "
        f"COALESCE(sr.allocated, 0), COALESCE(sr.declared, 0), sr.id, "
        f"{'c.at' if dates else 'NULL'} FROM ("
        f"(SELECT '2' AS menu, d.number AS source_no, d.permit_id, d.id AS declaration_id, "
        f"d.received_at AS at FROM {declaration} d "
        f"WHERE d.direction = {imported} AND {dense} "
        f"AND (d.permit_id IN (SELECT id FROM visible)) IS TRUE {newest_d}) "
        f"UNION ALL "
        f"(SELECT '2', d.number, d.permit_id, d.id, d.received_at "
        f"FROM (SELECT DISTINCT id FROM visible) v CROSS JOIN LATERAL (SELECT d.number, "
        f"d.permit_id, d.id, d.received_at FROM {declaration} d WHERE d.permit_id = v.id "
        f"AND d.direction = {imported} OFFSET 0) d WHERE NOT {dense} {newest_d}) "
        f"UNION ALL "
        # Menu 3: the holder's permits newest first (permit_holder_newest), each probed for a
        # write-off as it comes ...
        f"(SELECT '3', p.permit_no, p.id, NULL, p.created_at FROM {permit} p "
        f"WHERE p.holder_id = {me} AND p.document_type = {mask} AND {written_off} "
        f"{newest_p}) "
        f"UNION ALL "
        # ... and those filed as agent but held by another (the holder's are above): the
        # write-offs (a few thousand, in their permit index) kept if their permit is one.
        f"(SELECT '3', p.permit_no, p.id, NULL, p.created_at FROM (SELECT DISTINCT "
        f"w.permit_id FROM {write_off} w WHERE (w.permit_id IN (SELECT permit_id FROM filed)) "
        f"IS TRUE) x CROSS JOIN LATERAL (SELECT p.id, p.permit_no, p.created_at FROM "
        f"{permit} p WHERE p.id = x.permit_id AND p.holder_id <> {me} OFFSET 0) p "
        f"WHERE EXISTS (SELECT FROM filed) {newest_p})"
        f") c JOIN {permit} p ON p.id = c.permit_id "
        # What was cleared: menu 2 released under the declaration's items, menu 3 written off
        # the permit without a declaration (_sources()' cleared_now).
        f"CROSS JOIN LATERAL (SELECT COALESCE(SUM(t.quantity), 0) AS total FROM ("
        f"SELECT l.quantity FROM {item} i JOIN {entry} l ON l.declaration_item_id = i.id "
        f"WHERE i.declaration_id = c.declaration_id "
        f"UNION ALL SELECT l.quantity FROM {entry} l WHERE c.declaration_id IS NULL "
        f"AND l.permit_id = c.permit_id AND l.declaration_item_id IS NULL) t) cl "
        f"LEFT JOIN LATERAL (SELECT s.id, s.allocated, s.declared FROM {report} s "
        f"WHERE s.declaration_id = c.declaration_id "
        f"UNION ALL SELECT s.id, s.allocated, s.declared FROM {report} s "
        f"WHERE c.declaration_id IS NULL AND s.permit_id = c.permit_id "
        f"AND s.declaration_id IS NULL) sr ON true "
        # _sources()' has_stock: something cleared not yet in flows, or flows not declared.
        f"WHERE cl.total > COALESCE(sr.allocated, 0) "
        f"OR COALESCE(sr.allocated, 0) > COALESCE(sr.declared, 0) "
        f"ORDER BY c.at DESC, c.source_no DESC LIMIT {wanted}")


def returnable_sources(*, user, limit=None):
    """口罩流向退貨作業's list: ([source], more) of the stocks `user` may see with a
    declared flow that can still take a return (MASK-9), newest first. One query."""
    limit = limit or SOURCES_SHOWN
    reports = list(
        StockReport.objects.visible_to(user)
        .filter(Exists(Flow.objects.filter(report=OuterRef("pk"), declared_at__isnull=False,
                                           returned__lt=F("quantity"))))
        .select_related("declaration", "permit").order_by("-pk")[:limit + 1])
    return [{"menu": "2" if report.declaration_id else "3", "number": report.number,
             "permit_id": report.permit_id, "permit_no": report.permit.permit_no,
             "report_id": report.pk, "cleared": report.cleared, "stock": report.stock,
             "pending": report.allocated - report.declared}
            for report in reports[:limit]], len(reports) > limit


def _one_of(field, ids):
    """Q: `field` is one of `ids`, an IN list of as many parameters (_NOTES_OF)."""
    return Q(**{f"{field}__in": ids})


def _ledger_by_source(permits, match=among):
    """(permit, declaration or None, SUM(quantity)) of the ledger of the mask permits
    `permits`, per stock source: menu 2's import declarations citing the permit, menu 3's
    write-offs without one. `match(field, ids)`: the Q of "field is one of ids"."""
    return (LedgerEntry.objects.filter(match("permit_id", permits))
            .filter(Q(declaration_item__isnull=True)
                    | Q(declaration_item__declaration__direction=Direction.IMPORT,
                        declaration_item__declaration__permit_id=F("permit_id")))
            .values_list("permit_id", "declaration_item__declaration_id")
            .annotate(total=Sum("quantity")).order_by())


def _stock_by_source(permits, match=among):
    """(permit, declaration or None, allocated, declared) of the StockReports of
    `permits`."""
    return StockReport.objects.filter(match("permit_id", permits)).values_list(
        "permit_id", "declaration_id", "allocated", "declared")


def _sources_of(permits, match=among):
    """_ledger_by_source's and _stock_by_source's rows in one query (UNION ALL), each as
    (permit, declaration or None, SUM(quantity), allocated, declared): a ledger row with no
    allocated and declared, a StockReport's with no sum. One round trip less for 我的案件."""
    nothing = Value(None, output_field=DecimalField())
    return _ledger_by_source(permits, match).annotate(
        allocated_=nothing, declared_=nothing).union(
        _stock_by_source(permits, match).annotate(total=nothing, allocated_=F("allocated"),
                                                  declared_=F("declared"))
        .values_list("permit_id", "declaration_id", "total", "allocated_", "declared_")
        .order_by(), all=True)


# 我的案件's notes (a page's permits, CASES_PER_PAGE at most) read by _sources_of with this
# many permit ids, an IN list of parameters, the page's ids repeated to fill it: one SQL
# text whatever the page, whose plan PostgreSQL keeps (keep_plan; the direction written
# into it). With the ids as one array (among(): `= ANY(%s)`) it planned the statement for each
# request: a plan for an array of unknown length is costed above one for the page's ids,
# so the kept plan was never chosen, and planning was 0.4 of its 0.55 ms on the server
# (EXPLAIN ANALYZE; the kept plan is the same plan: bench/README.md "Stop 25").
NOTE_PERMITS = 25
_NOTE_SLOTS = tuple(f"permit_{n}" for n in range(NOTE_PERMITS))
_NOTES_OF = PreparedQuery(
    lambda **permits: _sources_of([permits[name] for name in _NOTE_SLOTS], _one_of),
    parameters=_NOTE_SLOTS, keep_plan=True, inline_constants=True)


def _sources_of_page(permit_ids):
    """_sources_of(permit_ids)'s rows, by _NOTES_OF (NOTE_PERMITS ids at a time). The ids
    bound as bigints, whatever their size (psycopg binds a small int as a smallint, and
    keeps a statement per combination of its parameters' types)."""
    from psycopg.types.numeric import Int8

    permit_ids = [Int8(permit_id) for permit_id in permit_ids]
    rows = []
    for start in range(0, len(permit_ids), NOTE_PERMITS):
        chunk = permit_ids[start:start + NOTE_PERMITS]
        chunk += chunk[:1] * (NOTE_PERMITS - len(chunk))
        rows += _NOTES_OF.rows(**dict(zip(_NOTE_SLOTS, chunk, strict=True)))
    return rows


def permit_stock(permit_ids):
    """{permit_id: {"stock": ..., "pending": ...}} over every source of each permit, for
    those with stock or flows not declared (我的案件).

    The same figures as _sources() gives per source, summed per permit, but read as two
    plain grouped queries (the ledger per source, the StockReports; on PostgreSQL in one
    round trip, _sources_of) instead of _sources()' UNION of subqueries: 我的案件 shows a
    page of permits on every request, and compiling that UNION in the ORM cost more than
    the rest of the page. tests/masks compare both."""
    permit_ids = list(permit_ids)  # of mask permits (MaskProcedure.dashboard_notes)
    if not permit_ids:
        return {}
    # A source is (permit, import declaration) for menu 2, (permit, None) for menu 3.
    if arrays_supported():  # one query, compiled once per process (permits.prepared)
        rows = _sources_of_page(permit_ids)
        ledger = [row[:3] for row in rows if row[2] is not None]
        stock = [(*row[:2], *row[3:]) for row in rows if row[2] is None]
    else:
        ledger = _ledger_by_source(permit_ids)
        stock = _stock_by_source(permit_ids)
    cleared = {(permit_id, declaration_id): total
               for permit_id, declaration_id, total in ledger}
    reports = {(permit_id, declaration_id): (allocated, declared)
               for permit_id, declaration_id, allocated, declared in stock}
    totals = {}
    for source in cleared.keys() | reports.keys():
        allocated, declared = reports.get(source, (ZERO, ZERO))
        now = cleared.get(source, ZERO)
        if not (now > allocated or allocated > declared):  # no stock, nothing pending
            continue
        total = totals.setdefault(source[0], {"stock": ZERO, "pending": ZERO})
        total["stock"] += max(now - allocated, ZERO)
        total["pending"] += allocated - declared
    return totals


def flow_earliest_date(report):
    """The first day a flow of `report` may be dated (MASK-7): the day the masks were first
    cleared under its source, in the portal's time zone: customs' first release under the
    declaration (menu 2; the day the portal received it, a release carries no date), or
    the first 非報單 write-off of the permit (menu 3). Entries reversed since (a cancelled
    declaration) do not count. None when nothing was cleared (there is no stock either)."""
    if report.declaration_id:
        entries = LedgerEntry.objects.filter(
            declaration_item__declaration_id=report.declaration_id,
            kind=LedgerEntry.Kind.RELEASE)
    else:
        entries = LedgerEntry.objects.filter(
            permit_id=report.permit_id, declaration_item__isnull=True,
            kind=LedgerEntry.Kind.WRITE_OFF)
    first = entries.filter(reversed_by__isnull=True).order_by("created_at").values_list(
        "created_at", flat=True).first()
    return timezone.localdate(first) if first else None


def flow_date_problem(*, report, date, earliest=None):
    """Why a flow of `report` cannot be dated `date`, or None: not after today, not before
    the masks were cleared (`earliest`: flow_earliest_date(report), if already read). The
    dates in the message are ROC dates, as the pages show them."""
    from portal import dates

    today = timezone.localdate()
    if date > today:
        return error("date_in_future", today=dates.to_roc(today))
    earliest = earliest or flow_earliest_date(report)
    if earliest and date < earliest:
        return error("date_before_clearance", earliest=dates.to_roc(earliest))
    return None


def _store_document(*, flow, upload, actor, content_type):
    return store(FlowDocument(flow=flow), upload, content_type=content_type, actor=actor)


@transaction.atomic
def flow_register(*, actor, report, category, quantity, date, counterparty="",
                  documents=()):
    """流向登錄 → 確認並回上一頁: a pending flow taking `quantity` from the stock (MASK-7).

    The stock is taken by one UPDATE allocated = allocated + quantity. In PostgreSQL the
    UPDATE locks the row, so a second request for the same stock waits for the first to
    commit and then adds to what the first left; the check constraint allocated <= cleared
    refuses whichever would go over (ValidationError, code "over_stock"). Every category
    except 自用(非銷售) needs `documents` (uploaded files), each checked as case attachments
    are (permits.attachments.check_upload).
    """
    if category not in FLOW_CATEGORIES_WITHOUT_DOCUMENTS and not documents:
        raise error("documents_required")
    problem = flow_date_problem(report=report, date=date)
    if problem:
        raise problem
    content_types = [check_upload(upload) for upload in documents]
    report = _refresh(report)
    try:
        with transaction.atomic():  # a savepoint: the refused UPDATE leaves the rest usable
            StockReport.objects.filter(pk=report.pk).update(
                allocated=F("allocated") + quantity)
    except IntegrityError:
        report.refresh_from_db()
        raise error("over_stock", stock=report.stock, quantity=quantity) from None
    flow = Flow.objects.create(report=report, category=category, quantity=quantity, date=date,
                               counterparty=counterparty, actor=actor)
    stored = []
    try:
        for upload, content_type in zip(documents, content_types, strict=True):
            stored.append(_store_document(flow=flow, upload=upload, actor=actor,
                                          content_type=content_type))
    except BaseException:
        for document in stored:
            document.file.storage.delete(document.file.name)
        raise
    return flow


@transaction.atomic
def flow_delete(*, actor, flow):
    """A pending flow taken back before 申報: its quantity returns to the stock."""
    flow = Flow.objects.select_for_update().get(pk=flow.pk)
    if flow.declared_at is not None:
        raise error("nothing_to_declare")
    # The flows held the stock up to what they took (_cleared_now): with less held, the
    # cleared quantity follows the ledger again (customs may have cancelled meanwhile).
    StockReport.objects.filter(pk=flow.report_id).update(
        allocated=F("allocated") - flow.quantity,
        cleared=_cleared_now(F("allocated") - flow.quantity), refreshed_at=timezone.now())
    names = [document.file.name for document in flow.documents.all()]
    flow.delete()
    files_delete_on_commit(names)


@transaction.atomic
def flows_declare(*, actor, report):
    """申報: the pending flows of `report` become final (MASK-7). Returns how many."""
    report = StockReport.objects.select_for_update().get(pk=report.pk)
    pending = report.flows.filter(declared_at__isnull=True)
    total = pending.aggregate(total=Sum("quantity"))["total"]
    if not total:
        raise error("nothing_to_declare")
    count = pending.update(declared_at=timezone.now())
    StockReport.objects.filter(pk=report.pk).update(declared=F("declared") + total)
    return count


# --- 口罩流向退貨作業 (MASK-9) ------------------------------------------------------------------


@transaction.atomic
def return_register(*, actor, flow, quantity):
    """A return of `quantity` from a declared flow: it goes back to the stock at once (the
    manual: 退貨成功後系統自動將退貨數量歸還至「庫存量」) and no longer counts as declared.

    The flow's UPDATE returned = returned + quantity locks its row; the check constraint
    returned <= quantity refuses a return beyond what is left, also when two come at once
    (ValidationError, code "over_flow")."""
    if flow.declared_at is None:
        raise error("not_declared")
    try:
        with transaction.atomic():
            Flow.objects.filter(pk=flow.pk).update(returned=F("returned") + quantity)
    except IntegrityError:
        flow.refresh_from_db()
        raise error("over_flow", left=flow.remaining, quantity=quantity) from None
    StockReport.objects.filter(pk=flow.report_id).update(
        allocated=F("allocated") - quantity, declared=F("declared") - quantity,
        cleared=_cleared_now(F("allocated") - quantity), refreshed_at=timezone.now())
    return FlowReturn.objects.create(flow=flow, quantity=quantity, actor=actor)


@transaction.atomic
def returns_declare(*, actor, report):
    """申報 of the returns registered on `report`'s flows. Returns how many."""
    StockReport.objects.select_for_update().get(pk=report.pk)
    count = FlowReturn.objects.filter(flow__report=report, declared_at__isnull=True).update(
        declared_at=timezone.now())
    if not count:
        raise error("nothing_to_declare")
    return count


# --- 稽催信 (MASK-8) ----------------------------------------------------------------------------
#
# While a source has masks cleared and not declared (StockReport.cleared − declared > 0:
# pending flows and returned masks count as not declared), its applicant (the permit's
# holder) gets one reminder per period listing every such source, until that is 0; so does,
# with a copy, every filing agent who filed a case of the permit (it sees the stock too,
# Permit.visible_to, and it is often the agent who registers the flows): one mail per agent
# and period listing the sources of every applicant it filed for. The job runs daily
# (CELERY_BEAT_SCHEDULE, or `manage.py send_stock_reminders`); the period
# (MASK_REMINDER_DAYS, default 7) decides how often a recipient is mailed. Before mailing,
# the job brings the StockReport rows up to date from the ledger, creating those of sources
# the user never opened: the first time every source, then only those that changed since
# the last run (stock_reports_refresh).

REMINDER_EPOCH = datetime.date(2020, 1, 6)  # a Monday: weekly periods run Monday to Sunday
BATCH_SIZE = 1000

# Who is reminded of a StockReport, as the lookup from it to the user: the applicant, and
# (a copy) the agents who filed its permit's cases. StockReminder keeps one row per user
# and period for both (its `holder` is the user mailed), so its unique constraint mails
# each of them once per period.
HOLDER = "holder_id"
FILING_AGENT = "permit__versions__application__agent_id"


def reminder_period(today=None):
    """The first day of the reminder period `today` falls in."""
    today = today or timezone.localdate()
    days = max(int(settings.MASK_REMINDER_DAYS), 1)
    return REMINDER_EPOCH + datetime.timedelta(days=(today - REMINDER_EPOCH).days // days * days)


def _refresh_batch(sources, cleared, existing, lookup):
    """Create the reports of sources with something cleared; update those whose cleared
    quantity changed. Two queries at most."""
    now = timezone.now()
    new, changed = [], []
    for key, permit_id, holder_id in sources:
        quantity = cleared.get(key, ZERO)
        report = existing.get(key)
        if report is None:
            if quantity > 0:
                new.append(StockReport(permit_id=permit_id, holder_id=holder_id,
                                       cleared=quantity, refreshed_at=now, **lookup(key)))
        elif report.cleared != max(quantity, report.allocated):
            # In SQL, against the row as it is then: a flow registered meanwhile counts.
            report.cleared = Greatest(Value(quantity), F("allocated"))
            report.refreshed_at = now
            changed.append(report)
    if new:
        # A report created meanwhile by a user's first 帶入報單資料 is left as it is.
        StockReport.objects.bulk_create(new, ignore_conflicts=True)
    if changed:
        StockReport.objects.bulk_update(changed, ["cleared", "refreshed_at"])
    return len(new) + len(changed)


def _stock_sources():
    """The two kinds of stock source (MASK-6), menu 2 (declarations) and menu 3 (permits
    written off without one), each as (rows, cleared, reports, key, lookup): the rows
    (key, permit_id, holder_id) in key (pk) order; cleared(keys) -> {key: quantity}, in one
    query; reports(keys), their StockReport rows; key, the StockReport field holding the
    key; lookup(key), the fields naming the source on a new StockReport."""
    return [
        (Declaration.objects.filter(direction=Direction.IMPORT,
                                    permit__document_type=DocumentType.MASK_IMPORT)
         .order_by("pk").values_list("pk", "permit_id", "permit__holder_id"),
         cleared_by_declaration,
         lambda keys: StockReport.objects.filter(declaration_id__in=keys),
         "declaration_id", lambda key: {"declaration_id": key}),
        (Permit.objects.filter(document_type=DocumentType.MASK_IMPORT)
         .filter(Exists(WriteOff.objects.filter(permit=OuterRef("pk"))))
         .order_by("pk").values_list("pk", "pk", "holder_id"),
         cleared_by_permit,
         lambda keys: StockReport.objects.filter(permit_id__in=keys, declaration__isnull=True),
         "permit_id", lambda key: {"declaration": None}),
    ]


def _refresh_rows(batch, cleared, reports, key, lookup):
    """Refresh one batch of source rows (key, permit_id, holder_id): three queries."""
    keys = [row[0] for row in batch]
    existing = {getattr(report, key): report for report in reports(keys).only(
        "pk", key, "cleared", "allocated")}
    return _refresh_batch(batch, cleared(keys), existing, lookup)


# What the refresh reads again (the incremental run). StockReport.cleared is the ledger's
# sum for the source, held up to what the flows took (_cleared_now), and nothing else:
#   * the ledger is append-only (a cancellation appends reversals), so a source's sum can
#     only change with a new LedgerEntry, by id;
#   * whether a declaration is a mask import source (its permit, its direction) changes
#     only with an amendment, which is matched again: a new MatchResult, by seq;
#   * a write-off without a declaration appends its entries with the WriteOff row;
#   * flows, their deletion and returns change `allocated` and set `cleared` in the same
#     UPDATE (_cleared_now), so they need no second look here.
# So a run reads the entries and results that came after the last run's mark, refreshes
# only their sources, and moves the mark.
#
# Late commits. MatchResult.seq is handed out under FeedCounter's row lock, which is held
# until commit: seq order is commit order, and a result committing after the mark was read
# has a higher seq. LedgerEntry ids are not: an id comes from the sequence when the row is
# inserted, and a transaction that took id 100 may commit after another that took 101
# (many writers, locked per permit, not globally). A mark of 101 read in between would pass
# 100 by for good. So the ledger's mark is read under LOCK TABLE … IN SHARE MODE: it waits
# for no one (NOWAIT, a few tries) but is granted only while no transaction holds a write
# lock on the table, that is when every id handed out so far has committed or rolled back;
# rows inserted later take higher ids (the sequence only grows). The lock is held for the
# one SELECT max(id). When the writers never leave the table quiet, the run still reads
# everything after the old mark but keeps it: the next run reads those entries again,
# late commits included. SQLite lets one writer in at a time, so its ids commit in order.
LEDGER_LOCK_TRIES = 20
LEDGER_LOCK_PAUSE = 0.25  # seconds between tries
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for NOWAIT refused


def _ledger_mark():
    """The highest ledger entry id below which no entry can still commit, or None when the
    ledger was never quiet enough to say so (see above)."""
    last = LedgerEntry.objects.order_by("-pk").values_list("pk", flat=True)
    if connection.vendor != "postgresql":
        return last.first() or 0
    table = connection.ops.quote_name(LedgerEntry._meta.db_table)
    for attempt in range(LEDGER_LOCK_TRIES):
        if attempt:
            time.sleep(LEDGER_LOCK_PAUSE)
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {table} IN SHARE MODE NOWAIT")
                return last.first() or 0
        except OperationalError as failure:
            if getattr(failure.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
            # A writer is inside: try again in a moment.
    return None


def _changed_sources(mark):
    """({declaration_id}, {permit_id}) of the sources whose ledger entries or matching
    came after `mark`. Two queries."""
    declarations, permits = set(), set()
    for declaration_id, permit_id in (
            LedgerEntry.objects.filter(pk__gt=mark.ledger_entry).order_by()
            .values_list("declaration_item__declaration_id", "permit_id").distinct()):
        if declaration_id is None:
            permits.add(permit_id)
        else:
            declarations.add(declaration_id)
    declarations.update(MatchResult.objects.filter(seq__gt=mark.match_seq).order_by()
                        .values_list("declaration_id", flat=True).distinct())
    return declarations, permits


def stock_reports_refresh(*, batch_size=BATCH_SIZE, full=False):
    """Bring the StockReport rows up to date from the ledger, in batches of `batch_size`
    sources with the same few queries each; returns the rows written. The first run (or
    `full`) reads every source; later runs only those with ledger entries or matching
    results after the last run's StockRefreshMark (see above), a handful of queries when
    nothing came."""
    mark = StockRefreshMark.objects.filter(pk=1).first()
    # Both read before the sources: whatever they cover is committed, and so read below.
    match_seq = MatchResult.objects.order_by("-seq").values_list("seq", flat=True).first()
    ledger_entry = _ledger_mark()
    written = 0
    if mark is None or full:
        for rows, cleared, reports, key, lookup in _stock_sources():
            last = 0
            while batch := list(rows.filter(pk__gt=last)[:batch_size]):
                last = batch[-1][0]
                written += _refresh_rows(batch, cleared, reports, key, lookup)
    else:
        for (rows, cleared, reports, key, lookup), keys in zip(
                _stock_sources(), _changed_sources(mark), strict=True):
            keys = sorted(keys)
            for start in range(0, len(keys), batch_size):
                batch = list(rows.filter(pk__in=keys[start:start + batch_size]))
                if batch:
                    written += _refresh_rows(batch, cleared, reports, key, lookup)
    _mark_move(mark, ledger_entry=ledger_entry, match_seq=match_seq or 0)
    return written


def _mark_move(mark, *, ledger_entry, match_seq):
    """Move the mark forward, never back (two runs at once: the later mark stays). Without
    a ledger mark (the ledger was never quiet) the ledger's stays where it was."""
    entry = F("ledger_entry") if ledger_entry is None else Greatest(F("ledger_entry"),
                                                                     Value(ledger_entry))
    if mark is not None:
        StockRefreshMark.objects.filter(pk=1).update(
            ledger_entry=entry, match_seq=Greatest(F("match_seq"), Value(match_seq)),
            refreshed_at=timezone.now())
    elif ledger_entry is not None:
        # The first run: a run created meanwhile keeps its own (both read everything).
        StockRefreshMark.objects.bulk_create([StockRefreshMark(
            pk=1, ledger_entry=ledger_entry, match_seq=match_seq)], ignore_conflicts=True)


def _reminder_mail(recipient, rows, period, *, copy):
    with translation.override(recipient.language or settings.LANGUAGE_CODE):
        context = {"holder": recipient, "rows": rows, "period": period, "copy": copy,
                   "url": settings.PORTAL_BASE_URL + reverse("masks:flow_start")}
        subject = " ".join(render_to_string("masks/emails/reminder_subject.txt",
                                            context).split())
        body = render_to_string("masks/emails/reminder.txt", context)
    return OutboundEmail(to=recipient.email, subject=subject, body=body)


def _enqueue(email_ids):
    # With the broker down the rows stay unsent for beat's resend (portal.tasks.enqueue).
    from permits.tasks import send_outbound_email
    from portal.tasks import enqueue

    for email_id in email_ids:
        if enqueue(send_outbound_email, email_id) is None:
            break  # the broker is down: the others would fail the same way


def _remind_batch(user_ids, period, *, via=HOLDER):
    """One transaction: the reminder rows (unique per user and period) and their outbox
    rows of the users `user_ids`, reached from their stock through `via` (HOLDER or
    FILING_AGENT); the mail is queued after commit. Five queries whatever the batch holds."""
    rows = {}
    for row in (StockReport.objects.filter(**{f"{via}__in": user_ids},
                                           cleared__gt=F("declared"))
                .order_by(via, "pk")
                .values(via, "pk", "declaration__number", "permit__permit_no", "holder__name",
                        stock=F("cleared") - F("declared"))
                .distinct()):  # an agent who filed two versions of a permit: listed once
        rows.setdefault(row[via], []).append(
            {"number": row["declaration__number"] or row["permit__permit_no"],
             "declaration": bool(row["declaration__number"]), "stock": row["stock"],
             "applicant": row["holder__name"]})
    recipients = User.objects.filter(pk__in=rows).only("pk", "email", "language", "name")
    mails = [(user, _reminder_mail(user, rows[user.pk], period, copy=via != HOLDER))
             for user in recipients]
    with transaction.atomic():
        emails = OutboundEmail.objects.bulk_create([mail for _user, mail in mails])
        StockReminder.objects.bulk_create([
            StockReminder(holder=user, period=period, email=email,
                          sources=len(rows[user.pk]),
                          undeclared=sum(row["stock"] for row in rows[user.pk]))
            for (user, _mail), email in zip(mails, emails, strict=True)])
        ids = [email.pk for email in emails]
        transaction.on_commit(lambda: _enqueue(ids))
    return len(emails)


def _remind(period, *, via, batch_size):
    """Mail every user reached through `via` from stock not declared, not reminded in
    `period` yet. Users are taken in keyset batches; a batch that meets a reminder written
    meanwhile by another run (the unique constraint) is rolled back and read again, without
    the users already reminded."""
    pending = (StockReport.objects.filter(cleared__gt=F("declared"))
               .annotate(recipient=F(via)).filter(recipient__isnull=False)
               .exclude(Exists(StockReminder.objects.filter(holder_id=OuterRef("recipient"),
                                                            period=period)))
               .order_by("recipient").values_list("recipient", flat=True).distinct())
    sent, last, retries = 0, 0, 0
    while user_ids := list(pending.filter(recipient__gt=last)[:batch_size]):
        try:
            sent += _remind_batch(user_ids, period, via=via)
        except IntegrityError:
            retries += 1
            if retries > 3:
                raise
            continue  # read the batch again: the users reminded meanwhile drop out
        last = user_ids[-1]
    return sent


def reminders_send(*, today=None, batch_size=BATCH_SIZE, refresh=True):
    """稽催信: refresh the stock from the ledger, then mail each holder with stock not
    declared, once per period, one mail listing every declaration and permit with its
    stock; then each filing agent of those permits its copy, once per period, one mail
    listing them all. Returns the number of mails queued."""
    if refresh:
        stock_reports_refresh(batch_size=batch_size)
    period = reminder_period(today)
    return (_remind(period, via=HOLDER, batch_size=batch_size)
            + _remind(period, via=FILING_AGENT, batch_size=batch_size))


def stock_summary(report, flows=None):
    """[(label, quantity)] for the page's chart: 庫存, then the flows by category. With the
    stock's `flows` at hand (the stock page reads them all) they are summed here: no query."""
    from masks.models import FlowCategory

    if flows is None:
        by_category = dict(report.flows.values_list("category").annotate(
            total=Sum(F("quantity") - F("returned"))).order_by())
    else:
        by_category = {}
        for flow in flows:
            by_category[flow.category] = (by_category.get(flow.category, ZERO)
                                          + flow.quantity - flow.returned)
    rows = [(str(_("Stock")), report.stock)]
    rows += [(category.label, by_category.get(category.value, ZERO))
             for category in FlowCategory]
    top = max((quantity for _label, quantity in rows), default=ZERO) or Decimal(1)
    return [{"label": label, "quantity": quantity, "percent": float(quantity / top * 100)}
            for label, quantity in rows]
