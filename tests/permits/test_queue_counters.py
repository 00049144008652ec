"""The reviewers' queue counts kept by PostgreSQL's triggers (issue 10; permits.models.
QueueCount, permits.admin_queues.counter_statements, migration 0017): the counters equal
the queues' direct counts (queue_condition) for several reviewers and days after random
inserts, moves through transition() and application_assign(), raw update(), bulk_create(),
delete() and a TRUNCATE, and after two transactions on two connections at once; the
statuses written in the trigger function are the constants' (a change of QUEUE_STATUSES or
UNDER_REVIEW needs a migration that writes the function again). PostgreSQL only."""

import datetime
import random
import re
import threading

import pytest
from django.db import connection, transaction

from permits import admin_queues, assignment, workflow
from permits.models import QUEUE_STATUSES, Application, QueueCount, Status
from tests.permits.test_queues import another_reviewer

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

D = datetime.date
DAYS = [D(2020, 1, 1), D(2026, 1, 5), D(2026, 6, 30), D(2026, 12, 6), D(2027, 3, 1),
        D(2040, 1, 1)]


def kept(user_id, day):
    """The three counts as the counters hold them (not capped)."""
    rows = {(kind, key): n for kind, key, n in QueueCount.objects.values_list("kind", "key",
                                                                                 "n")}
    assert all(n > 0 for n in rows.values()), rows  # a counter at 0 is deleted
    limit = (day - admin_queues.EPOCH).days
    return {admin_queues.UNASSIGNED: rows.get(("u", 0), 0),
            admin_queues.MINE: rows.get(("m", user_id), 0),
            admin_queues.OVERDUE: sum(n for (kind, key), n in rows.items()
                                      if kind == "o" and key < limit)}


def counted(user_id, day):
    return {name: Application.objects.filter(
        admin_queues.queue_condition(name, user_id, day)).count()
        for name in admin_queues.QUEUES}


def check(users, days=DAYS):
    for user in users:
        for day in days:
            assert kept(user.pk, day) == counted(user.pk, day), (user, day)
            assert admin_queues.queue_counts(user, day) == {
                name: min(n, admin_queues.COUNT_CAP) for name, n in counted(user.pk, day).items()}


@pytest.fixture
def reviewers(make_user, reviewer):
    return [reviewer, another_reviewer(make_user, "B123456780", "貿易局審核員乙"),
            another_reviewer(make_user, "C123456781", "貿易局審核員丙")]


def random_move(rng, case, reviewers, applicant):
    """One move of `case` through the project's own functions, if the rules allow it."""
    case = Application.objects.get(pk=case.pk)
    actor = rng.choice(reviewers)
    try:
        with transaction.atomic():
            if rng.random() < 0.5 and case.status in assignment.OPEN:
                assignment.application_assign(application=case, actor=actor,
                                              assignee=rng.choice([*reviewers, None]))
            else:
                moves = [to for to in workflow.TRANSITIONS[case.status]
                         if to not in (Status.APPROVED, Status.REGISTERED)]
                if moves:
                    to = rng.choice(moves)
                    mover = applicant if workflow.TRANSITIONS[case.status][to] in (
                        workflow.APPLICANT,) else actor
                    workflow.transition(application=case, to=to, actor=mover, note="理由")
    except (workflow.TransitionNotAllowed, assignment.AssignmentRefused):
        pass


def test_the_counters_follow_every_kind_of_write(make_case, applicant, reviewers):
    rng = random.Random(2026)
    statuses = [Status.INITIAL_REVIEW, Status.SUPPLEMENT, None]
    cases = [make_case(applicant, status=rng.choice(statuses), reviewer=reviewers[0])
             for _ in range(12)]
    check(reviewers)
    for _ in range(40):  # moves through transition() and application_assign()
        random_move(rng, rng.choice(cases), reviewers, applicant)
    check(reviewers)
    for _ in range(15):  # raw updates of many rows: status, assignee, due day
        pks = rng.sample([case.pk for case in cases], 4)
        Application.objects.filter(pk__in=pks).update(**rng.choice([
            {"status": rng.choice([*QUEUE_STATUSES, Status.REJECTED, Status.DRAFT])},
            {"assignee": rng.choice([*reviewers, None])},
            {"stage_due": rng.choice([None, *DAYS])},
            {"status": Status.CONSULTATION, "assignee": reviewers[1], "stage_due": DAYS[2]},
        ]))
        check(reviewers, days=DAYS[::2])
    check(reviewers)
    # bulk_create: copies of the cases, in the queues and out of them
    copies = []
    for case in Application.objects.filter(pk__in=[case.pk for case in cases[:6]]):
        case.pk = case.id = None
        case.receipt_no = case.registration_no = case.client_token = None
        case.status = rng.choice([*QUEUE_STATUSES, Status.CANCELLED])
        case.assignee = rng.choice([*reviewers, None])
        case.stage_due = rng.choice(DAYS)
        copies.append(case)
    cases += Application.objects.bulk_create(copies)
    check(reviewers)
    Application.objects.filter(pk__in=[case.pk for case in cases[::3]]).delete()
    check(reviewers)
    # the same counter twice in one statement, and back
    Application.objects.filter(status__in=QUEUE_STATUSES).update(assignee=reviewers[2])
    check(reviewers)
    Application.objects.update(assignee=None, stage_due=DAYS[1])
    check(reviewers)


def test_a_truncate_empties_the_counters(make_case, applicant, reviewer):
    make_case(applicant, status=Status.INITIAL_REVIEW)
    make_case(applicant, status=Status.SUPPLEMENT, reviewer=reviewer)
    assert QueueCount.objects.exists()
    with connection.cursor() as cursor:
        # (the test's deferred foreign key checks first: TRUNCATE refuses pending ones)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {Application._meta.db_table} CASCADE")
    assert not QueueCount.objects.exists()
    check([reviewer])
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    assignment.application_assign(application=case, assignee=reviewer, actor=reviewer)
    check([reviewer])
    assert kept(reviewer.pk, D(2040, 1, 1))[admin_queues.MINE] == 1


def test_the_list_shows_the_kept_counts(client, make_case, applicant, reviewer, monkeypatch):
    """The filter's labels as before: each count up to COUNT_CAP, "COUNT_CAP+" beyond."""
    for _ in range(3):
        make_case(applicant, status=Status.INITIAL_REVIEW)
    monkeypatch.setattr(admin_queues, "COUNT_CAP", 2)
    assert admin_queues.queue_counts(reviewer) == {"unassigned": 2, "mine": 0, "overdue": 0}
    client.force_login(reviewer)
    client.cookies["django_language"] = "en"
    page = client.get("/admin/permits/application/").content.decode()
    assert "Unassigned (2+)" in page and "My cases (0)" in page and "Overdue (0)" in page


def test_the_counts_are_one_query_of_the_counters_with_one_kept_plan(make_case, applicant,
                                                                     reviewer):
    from django.test.utils import CaptureQueriesContext

    make_case(applicant, status=Status.INITIAL_REVIEW)
    with CaptureQueriesContext(connection) as queries:
        admin_queues.queue_counts(reviewer)
    ((query,),) = [[query["sql"] for query in queries]]
    assert '"permits_queuecount"' in query and "permits_application" not in query, query
    _alias, compiled, bound = admin_queues._kept_counts_query()._statement(  # noqa: SLF001
        {"user": reviewer.pk, "day": 20_000})
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {compiled[0]}", bound)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan" not in plan and plan.count("queue_count_key") == 3, plan
    assert "(SELECT ($1)::bigint)" in compiled[0] or "(SELECT (%s)::bigint)" in compiled[0]


def _statuses(text):
    return sorted(set(re.findall(r"'([a-z_]+)'", text)))


def test_the_trigger_function_names_the_constants_statuses():
    """The statuses written into the trigger function and the triggers' conditions by the
    migration are QUEUE_STATUSES and UNDER_REVIEW as they are now. If this fails, a constant
    changed: add a migration that runs admin_queues.counter_statements() and
    refill_statements() again."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = 'permits_queue_counts_row'")
        ((source,),) = cursor.fetchall()
        cursor.execute("SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger "
                       "WHERE tgrelid = %s::regclass AND tgname LIKE 'permits_queue_counts_%%'",
                       [Application._meta.db_table])
        triggers = dict(cursor.fetchall())
    lists = re.findall(r"(OLD|NEW)\.status IN \(([^)]*)\)", source)
    assert [row for row, _statuses_ in lists] == ["OLD", "OLD", "NEW", "NEW"], source
    for _row, review in lists[::2]:
        assert _statuses(review) == sorted(admin_queues.UNDER_REVIEW), source
    for _row, queue in lists[1::2]:
        assert _statuses(queue) == sorted(QUEUE_STATUSES), source
    for name in ("permits_queue_counts_insert", "permits_queue_counts_delete"):
        assert _statuses(triggers[name]) == sorted(QUEUE_STATUSES), triggers[name]
    assert set(triggers) == {f"permits_queue_counts_{name}" for name in
                             ("insert", "update", "delete", "truncate")}
    # and the whole function as the statements would write it now
    (written,) = [sql for sql in admin_queues.counter_statements()
                  if "REPLACE FUNCTION permits_queue_counts_row()" in sql]
    assert written.split("$$")[1] == source
    # (another list of statuses is another function)
    (other,) = [sql for sql in admin_queues.counter_statements(
        queue_statuses=QUEUE_STATUSES[:-1], under_review=admin_queues.UNDER_REVIEW[:-1])
        if "REPLACE FUNCTION permits_queue_counts_row()" in sql]
    assert other.split("$$")[1] != source


@pytest.mark.django_db(transaction=True)
def test_two_transactions_at_once_on_two_connections(make_case, applicant, reviewers):
    """Two reviewers taking cases at once, each in a transaction of its own connection: the
    second waits for the first's counter rows (待分派's) until it commits; both counted."""
    cases = [make_case(applicant, status=Status.INITIAL_REVIEW) for _ in range(4)]
    first_wrote, errors, order = threading.Event(), [], []

    def take(case, user, hold):
        try:
            with transaction.atomic():
                assignment.application_assign(application=Application.objects.get(pk=case.pk),
                                              assignee=user, actor=user)
                order.append(("wrote", user.pk))
                if hold:
                    first_wrote.set()
                    threading.Event().wait(0.5)
                    order.append(("commit", user.pk))
        except Exception as error:  # reported below, in the test's thread
            errors.append(error)
            first_wrote.set()
        finally:
            connection.close()

    first = threading.Thread(target=take, args=(cases[0], reviewers[0], True))
    first.start()
    assert first_wrote.wait(10)
    second = threading.Thread(target=take, args=(cases[1], reviewers[1], False))
    second.start()
    first.join(10)
    second.join(10)
    assert not errors, errors
    # the second's write waited for the first's commit (the 待分派 counter's row lock)
    assert order == [("wrote", reviewers[0].pk), ("commit", reviewers[0].pk),
                     ("wrote", reviewers[1].pk)], order
    check(reviewers, days=DAYS[::2])
    assert kept(reviewers[0].pk, DAYS[0])[admin_queues.MINE] == 1
    assert kept(reviewers[1].pk, DAYS[0])[admin_queues.UNASSIGNED] == 2


def test_recount_queues_mends_counters_written_around_the_triggers(make_case, applicant,
                                                                   reviewers):
    """`manage.py recount_queues` (a restore with the triggers off): the counters counted
    again from the cases, and it says whether any was wrong."""
    from io import StringIO

    from django.core.management import call_command

    make_case(applicant, status=Status.INITIAL_REVIEW)
    make_case(applicant, status=Status.SUPPLEMENT, reviewer=reviewers[1])
    QueueCount.objects.filter(kind="u").update(n=7)  # counters no trigger wrote
    QueueCount.objects.filter(kind="m").delete()
    QueueCount.objects.create(kind="m", key=reviewers[2].pk, n=3)
    with pytest.raises(AssertionError):
        check(reviewers)
    out = StringIO()
    call_command("recount_queues", stdout=out)
    assert "rows differed from the count" in out.getvalue()
    check(reviewers)
    out = StringIO()
    call_command("recount_queues", stdout=out)
    assert "all were right" in out.getvalue()
