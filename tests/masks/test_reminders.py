"""稽催信 (MASK-8): one mail per applicant and period listing every declaration and permit
with stock not declared, until that is 0; the job run twice mails nobody twice; the stock of
sources nobody opened is found from the ledger."""

import datetime
from decimal import Decimal

import pytest
from django.db.models import F

from masks import services
from masks.models import StockReminder, StockReport
from masks.tasks import send_stock_reminders
from permits.models import OutboundEmail
from tests import services as test_services
from tests.masks.test_flows import cleared_declaration, written_off_permit

pytestmark = pytest.mark.django_db

D = Decimal
MONDAY = datetime.date(2026, 3, 2)


@pytest.fixture
def sources(make_mask_permit, applicant):
    """A declaration with 10 masks released and a postal permit with 50 written off; nobody
    opened 口罩流向登錄作業 yet."""
    made = (cleared_declaration(make_mask_permit, applicant, quantity="10"),
            written_off_permit(make_mask_permit, applicant, medical="50"))
    OutboundEmail.objects.all().delete()  # the permits' own status mail
    return made


def test_it_mails_each_applicant_once_listing_its_sources(applicant, sources,
                                                          django_capture_on_commit_callbacks):
    declaration, permit = sources
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.reminders_send(today=MONDAY) == 1
    email = OutboundEmail.objects.get()
    assert email.to == applicant.email
    assert declaration.number in email.body and permit.permit_no in email.body
    reminder = StockReminder.objects.get()
    assert (reminder.holder, reminder.period, reminder.sources, reminder.undeclared,
            reminder.email) == (applicant, MONDAY, 2, D(60), email)
    assert len(callbacks) == 1  # the mail is queued after commit


def test_it_creates_the_stock_of_sources_nobody_opened(applicant, sources):
    declaration, permit = sources
    services.reminders_send(today=MONDAY)
    assert set(StockReport.objects.values_list("declaration", "permit", "cleared")) == {
        (declaration.pk, declaration.permit_id, D(10)), (None, permit.pk, D(50))}


def test_it_mails_nobody_twice_in_a_period(applicant, sources):
    assert services.reminders_send(today=MONDAY) == 1
    assert services.reminders_send(today=MONDAY + datetime.timedelta(days=6)) == 0
    assert send_stock_reminders.apply().get() in (0, 1)  # today: another period, maybe
    assert StockReminder.objects.filter(period=MONDAY).count() == 1


def test_it_mails_again_the_next_period(applicant, sources):
    services.reminders_send(today=MONDAY)
    assert services.reminders_send(today=MONDAY + datetime.timedelta(days=7)) == 1
    assert OutboundEmail.objects.count() == 2


def test_it_follows_the_configured_period(settings, applicant, sources):
    settings.MASK_REMINDER_DAYS = 14
    start = services.reminder_period(MONDAY)
    assert services.reminders_send(today=start) == 1
    assert services.reminders_send(today=start + datetime.timedelta(days=7)) == 0
    assert services.reminders_send(today=start + datetime.timedelta(days=14)) == 1


def test_it_mails_nobody_once_the_stock_is_declared(applicant, sources):
    declaration, permit = sources
    for source in ({"declaration": declaration}, {"permit": permit}):
        report = services.stock_report_load(**source)
        services.flow_register(actor=applicant, report=report, category="own_use",
                               quantity=report.stock, date=MONDAY)
        services.flows_declare(actor=applicant, report=report)
    assert services.reminders_send(today=MONDAY) == 0
    assert not OutboundEmail.objects.exists()


def test_it_still_reminds_of_flows_not_declared(applicant, sources):
    declaration, _permit = sources
    report = services.stock_report_load(declaration=declaration)
    services.flow_register(actor=applicant, report=report, category="own_use",
                           quantity=D(10), date=MONDAY)  # registered, not 申報
    services.reminders_send(today=MONDAY)
    assert StockReminder.objects.get().undeclared == D(60)


def test_it_lists_only_the_sources_with_stock(applicant, sources):
    declaration, permit = sources
    report = services.stock_report_load(declaration=declaration)
    services.flow_register(actor=applicant, report=report, category="own_use",
                           quantity=D(10), date=MONDAY)
    services.flows_declare(actor=applicant, report=report)
    services.reminders_send(today=MONDAY)
    body = OutboundEmail.objects.get().body
    assert permit.permit_no in body and declaration.number not in body


def test_it_mails_each_applicant_its_own_sources(make_mask_permit, applicant,
                                                 other_applicant, sources):
    others = cleared_declaration(make_mask_permit, other_applicant, quantity="3")
    OutboundEmail.objects.all().delete()
    assert services.reminders_send(today=MONDAY, batch_size=1) == 2
    mails = {email.to: email.body for email in OutboundEmail.objects.all()}
    assert others.number in mails[other_applicant.email]
    assert others.number not in mails[applicant.email]


def test_it_reads_the_same_few_queries_per_batch(make_mask_permit, applicant,
                                                 other_applicant, make_user,
                                                 django_assert_max_num_queries):
    for user in (applicant, other_applicant, make_user("53111112")):
        cleared_declaration(make_mask_permit, user, quantity="2")
    services.stock_reports_refresh()
    StockReport.objects.update(refreshed_at=F("refreshed_at"))
    # Three holders in batches of one: 1 + 3 × (reports, users, savepoint, 2 inserts)
    # + the empty read at the end, and the empty read of filing agents (none here),
    # whatever the batch holds.
    with django_assert_max_num_queries(1 + 3 * 7 + 1 + 1):
        services.reminders_send(today=MONDAY, batch_size=1, refresh=False)
    assert StockReminder.objects.count() == 3


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_it_delivers_the_reminder_through_a_real_worker(applicant, sources, celery_worker,
                                                        smtp_sink):
    test_services.require_postgres()
    assert services.reminders_send(today=MONDAY) == 1
    [message] = smtp_sink.wait_for(1, timeout=60)
    assert message["To"] == applicant.email
    assert sources[0].number in message.get_content()
