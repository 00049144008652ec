"""稽催信 (MASK-8), the stock refresh after the first run: only the sources that changed
since the last run are read again (StockRefreshMark), and every change is among them: a
release or a cancellation on the ledger, a new declaration, a write-off, an amendment that
makes a declaration a mask import, flows and returns; a release that commits after the run
read the ledger is read by the next run; a run with nothing new writes no stock row."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from masks import services
from masks.models import StockRefreshMark, StockReminder, StockReport
from permits.models import OutboundEmail
from reconciliation import matching
from reconciliation.models import Declaration, LedgerEntry
from reconciliation.services import receive
from tests import services as test_services
from tests.masks.test_flows import cleared_declaration, written_off_permit
from tests.reconciliation import helpers

pytestmark = pytest.mark.django_db

D = Decimal
MONDAY = datetime.date(2026, 3, 2)
WEEK = datetime.timedelta(days=7)


@pytest.fixture
def sources(make_mask_permit, applicant):
    """A declaration of 10 masks with 4 released, a postal permit with 50 written off, and
    the first run done (the mark set)."""
    declaration = cleared_declaration(make_mask_permit, applicant, quantity="10",
                                      released="4")
    permit = written_off_permit(make_mask_permit, applicant, medical="50")
    assert services.reminders_send(today=MONDAY) == 1
    return declaration, permit


def stock(**source):
    report = StockReport.objects.get(**source)
    return report.cleared, report.allocated, report.declared


def release(number, quantity):
    receive([helpers.release(number, items=[{"item_no": 1, "quantity": quantity}])],
            source="test")


def reminded(today):
    """The undeclared quantity the reminder of `today`'s period names (None: no mail)."""
    services.reminders_send(today=today)
    reminder = StockReminder.objects.filter(period=services.reminder_period(today)).first()
    return reminder and reminder.undeclared


def stock_writes(queries):
    return [query["sql"] for query in queries
            if '"masks_stockreport"' in query["sql"]
            and not query["sql"].lstrip().upper().startswith("SELECT")]


def test_it_sets_the_mark_at_the_first_run(sources):
    mark = StockRefreshMark.objects.get()
    assert mark.ledger_entry == LedgerEntry.objects.order_by("-pk").first().pk


def test_it_reads_a_release_after_the_last_run(sources):
    declaration, _permit = sources
    release(declaration.number, "6")
    assert reminded(MONDAY + WEEK) == D(60)
    assert stock(declaration=declaration) == (D(10), 0, 0)


def test_it_reads_a_new_declaration_and_a_new_write_off(make_mask_permit, applicant,
                                                        sources):
    _declaration, permit = sources
    newer = cleared_declaration(make_mask_permit, applicant, quantity="7")
    services.write_off_record(actor=applicant, permit=permit, route="postal",
                              medical_quantity=D(20), non_medical_quantity=D(0))
    assert reminded(MONDAY + WEEK) == D(4 + 50 + 7 + 20)
    assert stock(declaration=newer)[0] == D(7)
    assert stock(permit=permit, declaration=None)[0] == D(70)


def test_it_reads_a_cancellation(sources):
    declaration, _permit = sources
    receive([helpers.cancellation(declaration.number)], source="test")
    assert reminded(MONDAY + WEEK) == D(50)
    assert stock(declaration=declaration)[0] == 0
    body = OutboundEmail.objects.order_by("-pk").first().body
    assert declaration.number not in body


def test_it_reads_an_amendment_that_makes_a_declaration_a_mask_import(
        make_mask_permit, applicant, sources):
    """Released while it said export (not a stock source), then amended to an import: no
    new ledger entry, but it is matched again."""
    permit = make_mask_permit(applicant, route="declaration")
    message = helpers.declaration(permit, number="AA11599999999B", direction="export")
    receive([message], source="test")
    release("AA11599999999B", "3")
    assert services.stock_reports_refresh() == 0  # an export is no stock
    message["declaration"].update(revision=1, direction="import")
    receive([{**message, "message_id": "amended"}], source="test")
    amended = Declaration.objects.get(number="AA11599999999B")
    matching.match_declarations([amended.pk])  # what the task queued after commit does
    assert services.stock_reports_refresh() == 1
    assert stock(declaration=amended)[0] == D(3)


def test_it_follows_the_flows_and_returns_registered_since(applicant, sources):
    declaration, permit = sources
    report = services.stock_report_load(declaration=declaration)
    flow = services.flow_register(actor=applicant, report=report, category="own_use",
                                  quantity=D(4), date=MONDAY)
    services.flows_declare(actor=applicant, report=report)
    assert reminded(MONDAY + WEEK) == D(50)  # the declaration's 4 are declared
    flow.refresh_from_db()
    services.return_register(actor=applicant, flow=flow, quantity=D(3))
    assert reminded(MONDAY + 2 * WEEK) == D(50 + 3)
    assert stock(declaration=declaration) == (D(4), D(1), D(1))


def test_it_lets_go_of_the_stock_the_flows_held_after_a_cancellation(applicant, sources):
    """Customs cancels after the flows took the masks: the stock stays at what the flows
    hold (never below it) and drops as they give it back, without another ledger entry."""
    declaration, _permit = sources
    report = services.stock_report_load(declaration=declaration)
    sold = services.flow_register(actor=applicant, report=report, category="own_use",
                                  quantity=D(3), date=MONDAY)
    services.flows_declare(actor=applicant, report=report)
    pending = services.flow_register(actor=applicant, report=report, category="own_use",
                                     quantity=D(1), date=MONDAY)
    receive([helpers.cancellation(declaration.number)], source="test")
    services.reminders_send(today=MONDAY + WEEK)
    assert stock(declaration=declaration) == (D(4), D(4), D(3))  # held by the flows
    services.flow_delete(actor=applicant, flow=pending)
    assert stock(declaration=declaration) == (D(3), D(3), D(3))
    sold.refresh_from_db()
    services.return_register(actor=applicant, flow=sold, quantity=D(2))
    assert stock(declaration=declaration) == (D(1), D(1), D(1))
    assert reminded(MONDAY + 2 * WEEK) == D(50)  # nothing left to declare under it


def test_it_touches_no_stock_row_when_nothing_came(make_mask_permit, applicant,
                                                   other_applicant, sources):
    before = list(StockReport.objects.values_list("pk", "cleared", "refreshed_at"))
    with CaptureQueriesContext(connection) as few:
        assert services.reminders_send(today=MONDAY) == 0
    assert stock_writes(few) == []
    assert list(StockReport.objects.values_list("pk", "cleared", "refreshed_at")) == before
    # More sources, already read: the same queries.
    for user in (applicant, other_applicant):
        cleared_declaration(make_mask_permit, user, quantity="5")
    services.reminders_send(today=MONDAY)
    with CaptureQueriesContext(connection) as same:
        assert services.reminders_send(today=MONDAY) == 0
    assert stock_writes(same) == []
    assert len(same) == len(few) <= 12


def test_it_reads_every_source_again_when_asked(sources):
    declaration, _permit = sources
    StockReport.objects.filter(declaration=declaration).update(cleared=D(9))  # by hand
    assert services.stock_reports_refresh() == 0  # no ledger entry since: not read
    assert services.stock_reports_refresh(full=True) == 1
    assert stock(declaration=declaration)[0] == D(4)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_reads_a_release_committed_after_the_run_in_the_next_run(
        make_mask_permit, applicant, other_applicant, monkeypatch):
    """A release takes a lower id than another but commits after the run read the ledger:
    the run cannot tell how far the ledger is final, keeps the mark, and the next run reads
    the late release."""
    test_services.require_postgres()
    test_services.seed_reference_data()
    late = cleared_declaration(make_mask_permit, applicant, quantity="10", released="4")
    early = cleared_declaration(make_mask_permit, other_applicant, quantity="10",
                                released="4")
    services.reminders_send(today=MONDAY)
    mark = StockRefreshMark.objects.get().ledger_entry
    monkeypatch.setattr(services, "LEDGER_LOCK_PAUSE", 0.01)
    inserted, commit = threading.Event(), threading.Event()

    def late_release():
        try:
            with transaction.atomic():
                release(late.number, "6")
                inserted.set()
                assert commit.wait(timeout=60)
        finally:
            connections.close_all()

    writer = threading.Thread(target=late_release)
    writer.start()
    try:
        assert inserted.wait(timeout=60)
        release(early.number, "6")  # a higher id, committed first
        assert (LedgerEntry.objects.order_by("-pk").first().declaration_item.declaration_id
                == early.pk)
        services.stock_reports_refresh()
        assert stock(declaration=early)[0] == D(10)
        assert stock(declaration=late)[0] == D(4)  # not committed yet
        assert StockRefreshMark.objects.get().ledger_entry == mark  # kept
    finally:
        commit.set()
        writer.join(timeout=60)
    services.stock_reports_refresh()
    assert stock(declaration=late)[0] == D(10)
    assert StockRefreshMark.objects.get().ledger_entry == LedgerEntry.objects.order_by(
        "-pk").first().pk
