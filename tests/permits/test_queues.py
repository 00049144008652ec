"""The reviewers' queues and assignment (issue 14, point 1; permits/assignment.py,
permits/admin_queues.py): Application.stage_due kept by transition() on Taiwan's working-day
calendar (a holiday, a weekend, a make-up workday, a typhoon day, the 補件 pause) and again
when the calendar or the targets change; the three queues with their counts in one query
over an index; 指派給我, 指派給…, 取消指派 with their rules, their history row and their
refusals as messages; the list's and the case page's queries constant."""

import datetime
import importlib
import re
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from permits import admin_queues, assignment, workdays, workflow
from permits.models import (
    Application,
    ReviewEvent,
    ReviewStage,
    ReviewTarget,
    Status,
    WorkdayAdjustment,
    WorkdayKind,
)
from portal.accounts.models import REVIEWERS_GROUP, IdentifierType
from tests.services import require_postgres

pytestmark = pytest.mark.django_db

D = datetime.date
TAIPEI = ZoneInfo("Asia/Taipei")
CHANGELIST = reverse("admin:permits_application_changelist")


@pytest.fixture(autouse=True)
def seeded_targets():
    """The targets as the data migration seeds them (SHTC: 初審 7, 協查 30)."""
    from django.apps import apps

    importlib.import_module("permits.migrations.0010_workday_calendar").seed_targets(apps, None)


@pytest.fixture
def on_day(monkeypatch):
    """on_day(date): the portal's clock says 10:00 in Taipei on that day."""
    def set_day(day):
        moment = datetime.datetime(day.year, day.month, day.day, 10, tzinfo=TAIPEI)
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_day


def another_reviewer(make_user, identifier, name):
    user = make_user(identifier, identifier_type=IdentifierType.NATIONAL_ID, is_staff=True,
                     name=name)
    user.groups.add(Group.objects.get_or_create(name=REVIEWERS_GROUP)[0])
    return user


@pytest.fixture
def colleague(make_user):
    return another_reviewer(make_user, "B123456780", "貿易局審核員乙")


@pytest.fixture
def supervisor(make_user):
    """A reviewer who may assign cases to others (the supervisors group's permission)."""
    user = another_reviewer(make_user, "C123456781", "貿易局科長")
    user.user_permissions.add(Permission.objects.get(content_type__app_label="permits",
                                                     codename="assign_application"))
    return user


def submitted(make_case, applicant, on_day, day):
    on_day(day)
    return make_case(applicant, status=Status.INITIAL_REVIEW)


def due_of(case):
    return Application.objects.get(pk=case.pk).stage_due


# --- stage_due ------------------------------------------------------------------------------


def test_it_sets_the_due_date_across_a_holiday_and_a_weekend(make_case, applicant, on_day):
    # Thursday 2026-10-08; Friday 10-09 is 國慶日's observed day off, then the weekend: the
    # 7th working day is Tuesday 10-20.
    case = submitted(make_case, applicant, on_day, D(2026, 10, 8))
    assert due_of(case) == D(2026, 10, 20)


def test_a_make_up_workday_and_a_typhoon_day_move_the_open_cases(make_case, applicant, on_day,
                                                                 reviewer):
    case = submitted(make_case, applicant, on_day, D(2026, 10, 8))
    closed = submitted(make_case, applicant, on_day, D(2026, 10, 8))
    workflow.transition(application=closed, to=Status.REJECTED, actor=reviewer, note="不符")
    # The bureau works Saturday 10-17 (補班): due a working day earlier, Monday 10-19.
    make_up = WorkdayAdjustment.objects.create(date=D(2026, 10, 17), kind=WorkdayKind.WORKDAY)
    assert due_of(case) == D(2026, 10, 19)
    # A typhoon closes the bureau on Wednesday 10-14: a day later again.
    WorkdayAdjustment.objects.create(date=D(2026, 10, 14), kind=WorkdayKind.DAY_OFF)
    assert due_of(case) == D(2026, 10, 20)
    make_up.delete()
    assert due_of(case) == D(2026, 10, 21)
    assert due_of(closed) is None  # closed cases are left alone


def test_the_supplement_pause_shifts_the_due_date(make_case, applicant, on_day, reviewer):
    # 初審 Monday 11-30, 補件 Wednesday 12-02 (2 days used), back Monday 12-07: the 5 left
    # run out on Monday 12-14, as the clock says (tests/permits/test_workdays.py).
    case = submitted(make_case, applicant, on_day, D(2026, 11, 30))
    assert due_of(case) == D(2026, 12, 9)
    on_day(D(2026, 12, 2))
    case = workflow.transition(application=case, to=Status.SUPPLEMENT, actor=reviewer,
                               note="請補附型錄。")
    assert due_of(case) is None  # with the applicant: not in the bureau's hands
    on_day(D(2026, 12, 7))
    case = workflow.transition(application=case, to=Status.INITIAL_REVIEW, actor=applicant)
    assert due_of(case) == D(2026, 12, 14)
    history = list(case.status_changes.order_by("created_at", "pk"))
    clock = workdays.clock(status=case.status, document_type=case.document_type,
                           history=history, rules=workdays.load_rules())
    assert clock.due == due_of(case)


def test_consultation_has_its_own_target_and_second_review_none(make_case, applicant, on_day,
                                                                reviewer):
    case = submitted(make_case, applicant, on_day, D(2026, 11, 30))
    on_day(D(2026, 12, 1))
    case = workflow.transition(application=case, to=Status.CONSULTATION, actor=reviewer)
    assert due_of(case) == workdays.load_rules().calendar.add(D(2026, 12, 1), 30)
    on_day(D(2026, 12, 3))
    case = workflow.transition(application=case, to=Status.SECOND_REVIEW, actor=reviewer)
    assert due_of(case) is None  # no target for 複審


def test_a_changed_or_removed_target_moves_the_due_date(make_case, applicant, on_day):
    case = submitted(make_case, applicant, on_day, D(2026, 11, 30))
    target = ReviewTarget.objects.get(document_type=case.document_type,
                                      stage=ReviewStage.INITIAL_REVIEW)
    target.working_days = 3
    target.save()
    assert due_of(case) == D(2026, 12, 3)
    target.delete()
    assert due_of(case) is None


# --- The queues -----------------------------------------------------------------------------


@pytest.fixture
def queues(make_case, applicant, on_day, reviewer, colleague):
    """Cases in every queue and in none, for `reviewer`."""
    today = timezone.localdate()
    late = submitted(make_case, applicant, on_day, D(2026, 1, 5))  # due long ago
    on_day(today)
    cases = {
        "late": late,
        "free": make_case(applicant, status=Status.INITIAL_REVIEW),
        "mine": make_case(applicant, status=Status.INITIAL_REVIEW),
        "theirs": make_case(applicant, status=Status.INITIAL_REVIEW),
        "mine_supplement": make_case(applicant, status=Status.SUPPLEMENT, reviewer=reviewer),
        "mine_closed": make_case(applicant, status=Status.INITIAL_REVIEW),
        "draft": make_case(applicant),
    }
    for name in ("mine", "mine_supplement", "mine_closed"):
        assignment.application_assign(application=cases[name], assignee=reviewer,
                                      actor=reviewer)
    assignment.application_assign(application=cases["theirs"], assignee=colleague,
                                   actor=colleague)
    workflow.transition(application=cases["mine_closed"], to=Status.REJECTED, actor=reviewer,
                        note="不符")
    return cases


def listed(client, **params):
    response = client.get(CHANGELIST, params)
    assert response.status_code == 200
    return {case.pk for case in response.context["cl"].result_list}, response


def pks(cases, *names):
    return {cases[name].pk for name in names}


def test_it_counts_each_queue(queues, reviewer, colleague):
    assert admin_queues.queue_counts(reviewer) == {"unassigned": 2, "mine": 2, "overdue": 1}
    assert admin_queues.queue_counts(colleague) == {"unassigned": 2, "mine": 1, "overdue": 1}


def test_each_queue_lists_its_cases(client, queues, reviewer):
    client.force_login(reviewer)
    assert listed(client, queue="unassigned")[0] == pks(queues, "late", "free")
    assert listed(client, queue="mine")[0] == pks(queues, "mine", "mine_supplement")
    assert listed(client, queue="overdue")[0] == pks(queues, "late")
    assert len(listed(client, queue="nonsense")[0]) == 7  # an unknown queue: all cases
    assert client.get(CHANGELIST, {"queue": "mine\x00"}).status_code == 302  # refused (?e=1)


def test_the_filter_shows_the_counts_and_the_column_who_has_the_case(client, queues, reviewer):
    client.force_login(reviewer)
    client.cookies["django_language"] = "en"
    _found, response = listed(client, queue="mine")
    page = response.content.decode()
    assert "Unassigned (2)" in page and "My cases (2)" in page and "Overdue (1)" in page
    assert '<td class="field-assigned_to">貿易局審核員</td>' in page


@pytest.mark.postgres
def test_the_counts_are_one_query_read_from_the_queues_indexes(queues, reviewer):
    require_postgres()
    query = admin_queues._counts_query(admin_queues.COUNT_CAP)  # noqa: SLF001
    with CaptureQueriesContext(connection) as queries:
        admin_queues.queue_counts(reviewer)
    assert len(queries) == 1
    _alias, compiled, bound = query._statement(  # noqa: SLF001
        {"user": reviewer.pk, "today": timezone.localdate()})
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {compiled[0]}", bound)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # Three counts (permits.admin_queues._counts_query), each read from an index. Which one
    # is the planner's choice, and it differs on a handful of rows: at 100,000 cases
    # 我的案件's comes from the assigned open cases' (0014), the others' from
    # application_queues (0013) (bench/README.md, "Stop 23 (clocks and queues)"); here it
    # chose application_queues for 我的案件 in one run of the whole suite.
    # (On a handful of rows the planner may also read one through a bitmap of the index.)
    read = re.findall(r"(?:Index Only Scan|Index Scan|Bitmap Index Scan) (?:using|on) ", plan)
    assert "Seq Scan" not in plan and len(read) == 3, plan
    # Each stops at the cap (COUNT_CAP): a Limit over its scan.
    assert plan.count("->  Limit ") == 3 and "Only Scan" in plan, plan


# --- The counts, up to a cap (issue 10: no full count) ---------------------------------------


def filter_labels(client, language):
    """The 工作佇列 filter's three labels on the list, in `language`."""
    client.cookies["django_language"] = language
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    ((spec, labels),) = [(spec, [str(title) for _name, title in spec.lookup_choices])
                         for spec in response.context["cl"].filter_specs
                         if isinstance(spec, admin_queues.QueueFilter)]
    return labels, response.content.decode()


@pytest.mark.parametrize(("language", "words"), [
    ("en", ("Unassigned", "My cases", "Overdue")), ("zh-hant", ("待分派", "我的案件", "逾期"))])
def test_counts_below_the_cap_are_exact(client, queues, reviewer, monkeypatch, language, words):
    monkeypatch.setattr(admin_queues, "COUNT_CAP", 3)
    assert admin_queues.queue_counts(reviewer) == {"unassigned": 2, "mine": 2, "overdue": 1}
    client.force_login(reviewer)
    labels, page = filter_labels(client, language)
    assert labels == [f"{words[0]} (2)", f"{words[1]} (2)", f"{words[2]} (1)"]
    assert all(label in page for label in labels)


@pytest.mark.parametrize(("language", "words"), [
    ("en", ("Unassigned", "My cases", "Overdue")), ("zh-hant", ("待分派", "我的案件", "逾期"))])
def test_a_count_at_the_cap_is_shown_as_the_cap_and_more(
        client, queues, reviewer, make_case, applicant, monkeypatch, language, words):
    """A queue holding COUNT_CAP cases or more is counted up to COUNT_CAP and shown as
    "COUNT_CAP+" (zh-hant "COUNT_CAP 件以上"), whatever more it holds."""
    from django.utils import translation

    monkeypatch.setattr(admin_queues, "COUNT_CAP", 2)
    assert admin_queues.queue_counts(reviewer) == {"unassigned": 2, "mine": 2, "overdue": 1}
    for _ in range(3):  # more than the cap: still counted as the cap
        make_case(applicant, status=Status.INITIAL_REVIEW)
    assert admin_queues.queue_counts(reviewer) == {"unassigned": 2, "mine": 2, "overdue": 1}
    client.force_login(reviewer)
    labels, page = filter_labels(client, language)
    with translation.override(language):
        # ("2 件以上" in zh-hant with /tmp/po/queues.po merged into the catalogue)
        capped = translation.gettext("%(count)s+") % {"count": "2"}
    assert capped.startswith("2") and capped != "2" and (language != "en" or capped == "2+")
    assert labels == [f"{words[0]} ({capped})", f"{words[1]} ({capped})", f"{words[2]} (1)"]
    assert all(label in page for label in labels)


def test_the_cap_is_written_as_the_page_writes_numbers(settings, monkeypatch):
    """The cap's number as the page prints numbers (localized: grouped where thousands
    are grouped), in both languages."""
    from django.utils import translation

    monkeypatch.setattr(admin_queues, "COUNT_CAP", 1000)
    with translation.override("en"):
        assert admin_queues.shown_count(999) == "999"
        assert admin_queues.shown_count(1000) == "1000+"
        settings.USE_THOUSAND_SEPARATOR = True
        assert admin_queues.shown_count(1000) == "1,000+"
        assert admin_queues.shown_count(999) == "999"
    settings.USE_THOUSAND_SEPARATOR = False
    with translation.override("zh-hant"):
        assert admin_queues.shown_count(1000).startswith("1000")
        assert admin_queues.shown_count(3) == "3"


def test_the_cap_costs_the_list_no_query(client, queues, reviewer, monkeypatch):
    """The list's queries the same with the counts capped or not, the three counts still
    one query."""
    client.force_login(reviewer)

    def run():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(CHANGELIST).status_code == 200
        return [query["sql"] for query in queries]

    run()  # (the first request of the process reads what it keeps)
    uncapped = run()
    monkeypatch.setattr(admin_queues, "COUNT_CAP", 1)
    capped = run()
    assert len(capped) == len(uncapped)
    if connection.vendor == "postgresql":  # the counters its triggers keep (QueueCount)
        (counters,) = [sql for sql in capped if '"permits_queuecount"' in sql]
        assert counters in uncapped  # the cap is applied to what it reads
        return
    assert len([sql for sql in capped if "COUNT(*)" in sql]) == 1
    assert "LIMIT 1)" in next(sql for sql in capped if "COUNT(*)" in sql)


@pytest.mark.postgres
@pytest.mark.parametrize(("queue", "index", "column", "condition"), [
    ("mine", "application_assigned_list", "assignee_id", " ="),
    ("overdue", "application_under_review_list", "stage_due", " <"),
    ("unassigned", "application_under_review_list", "assignee_id", " IS NULL"),
])
def test_each_queue_page_is_read_in_the_lists_order_from_its_index(
        client, queues, reviewer, queue, index, column, condition):
    """permits migration 0014: the page of a queue is read from a partial index in the
    list's order, the queue's condition checked in the index (an Index Cond, not a Filter
    on each case reached: 逾期 skipped thousands of newer cases that way)."""
    require_postgres()
    client.force_login(reviewer)
    queries = []

    def kept(execute, sql, params, many, context):  # (a kept plan's SQL is logged unbound)
        queries.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(kept):
        listed(client, queue=queue)
    ((sql, params),) = [(sql, params) for sql, params in queries
                        if "ORDER BY" in sql and "LIMIT" in sql
                        and f'"{column}"{condition}' in sql]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert f"using {index} on permits_application" in plan, plan
    assert f"Index Cond: ({column}{condition}" in plan, plan
    assert "Filter" not in plan and "Sort" not in plan, plan


def test_the_list_costs_the_same_queries_with_more_cases(client, queues, reviewer, make_case,
                                                         applicant, colleague):
    client.force_login(reviewer)
    params = [{}, {"queue": "unassigned"}, {"queue": "mine"}, {"queue": "overdue"}]

    def counted():
        found = []
        for each in params:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(CHANGELIST, each).status_code == 200
            found.append(len(queries))
        return found

    counted()  # (the first request of the process reads what it keeps)
    few = counted()
    for _ in range(4):
        for user in (reviewer, colleague):
            case = make_case(applicant, status=Status.INITIAL_REVIEW)
            assignment.application_assign(application=case, assignee=user, actor=user)
    assert counted() == few


# --- Assignment -----------------------------------------------------------------------------


def assign(client, case, **data):
    client.cookies.pop("messages", None)  # those of an earlier post, never shown
    return client.post(reverse("admin:permits_application_assign", args=[case.pk]), data)


def errors(response):
    return [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "error"]


def test_a_reviewer_assigns_a_case_to_herself(client, make_case, applicant, reviewer):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    client.force_login(reviewer)
    response = assign(client, case, action="take", seen="0")
    assert response.status_code == 302 and not errors(response)
    assert due_of(case) is not None
    assert Application.objects.get(pk=case.pk).assignee == reviewer
    (event,) = ReviewEvent.objects.filter(application=case)
    assert (event.kind, event.actor, event.assignee) == ("assigned", reviewer, reviewer)


def test_a_reviewer_cannot_take_a_colleagues_case(client, make_case, applicant, reviewer,
                                                  colleague):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    assignment.application_assign(application=case, assignee=colleague, actor=colleague)
    client.force_login(reviewer)
    response = assign(client, case, action="take")
    assert errors(response)
    assert Application.objects.get(pk=case.pk).assignee == colleague
    assert ReviewEvent.objects.filter(application=case).count() == 1


def test_assigning_to_a_colleague_needs_the_permission(client, make_case, applicant, reviewer,
                                                       colleague, supervisor):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    client.force_login(reviewer)
    response = assign(client, case, action="give", assignee=str(colleague.pk))
    assert errors(response)
    assert Application.objects.get(pk=case.pk).assignee is None
    client.force_login(supervisor)
    response = assign(client, case, action="give", assignee=str(colleague.pk), seen="0")
    assert not errors(response)
    assert Application.objects.get(pk=case.pk).assignee == colleague
    event = ReviewEvent.objects.get(application=case)
    assert (event.actor, event.assignee) == (supervisor, colleague)
    # The supervisor takes it over, then puts it back to 待分派.
    assign(client, case, action="take", seen=str(colleague.pk))
    assert Application.objects.get(pk=case.pk).assignee == supervisor
    assign(client, case, action="release")
    assert Application.objects.get(pk=case.pk).assignee is None
    assert [(e.actor_id, e.assignee_id) for e in ReviewEvent.objects.filter(
        application=case)] == [(supervisor.pk, colleague.pk), (supervisor.pk, supervisor.pk),
                               (supervisor.pk, None)]


def test_a_case_assigned_meanwhile_is_not_taken_over_unseen(client, make_case, applicant,
                                                           colleague, supervisor):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    assignment.application_assign(application=case, assignee=colleague, actor=colleague)
    client.force_login(supervisor)
    response = assign(client, case, action="take", seen="0")  # the page showed nobody
    assert errors(response)
    assert Application.objects.get(pk=case.pk).assignee == colleague


@pytest.mark.parametrize("status", [Status.APPROVED, None])
def test_a_closed_case_or_a_draft_cannot_be_assigned(client, make_case, applicant, reviewer,
                                                     status):
    case = make_case(applicant, status=status, reviewer=reviewer)
    client.force_login(reviewer)
    response = assign(client, case, action="take")
    assert errors(response)
    assert Application.objects.get(pk=case.pk).assignee is None
    assert not ReviewEvent.objects.exists()


@pytest.mark.parametrize("assignee", ["999999", "9223372036854775808", "\x00", "abc", ""])
def test_a_forged_assignee_is_a_message(client, make_case, applicant, supervisor, assignee,
                                        make_user):
    outsider = make_user("D123456782", identifier_type=IdentifierType.NATIONAL_ID)
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    client.force_login(supervisor)
    for value in (assignee, str(outsider.pk)):
        response = assign(client, case, action="give", assignee=value)
        assert response.status_code == 302 and errors(response)
    assert Application.objects.get(pk=case.pk).assignee is None


def test_only_reviewers_post_and_a_get_goes_back(client, make_case, applicant, agent,
                                                 reviewer):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    client.force_login(reviewer)
    response = client.get(reverse("admin:permits_application_assign", args=[case.pk]))
    assert response.status_code == 302
    assert reverse("admin:permits_application_change", args=[case.pk]) in response["Location"]
    client.force_login(agent)  # not staff: to the admin's login
    assert assign(client, case, action="take").status_code == 302
    assert Application.objects.get(pk=case.pk).assignee is None


def test_the_case_page_shows_who_has_it_and_the_buttons(client, make_case, applicant,
                                                        reviewer, supervisor):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    url = reverse("admin:permits_application_change", args=[case.pk])
    client.force_login(reviewer)
    page = client.get(url).content.decode()
    assert 'data-testid="assign-take"' in page and 'data-testid="assign-give"' not in page
    assignment.application_assign(application=case, assignee=reviewer, actor=reviewer)
    page = client.get(url).content.decode()
    assert 'data-testid="assign-take"' not in page and "貿易局審核員 (A123456789)" in page
    client.force_login(supervisor)
    page = client.get(url).content.decode()
    assert all(f'data-testid="assign-{kind}"' in page for kind in ("take", "give", "release"))
    assert '<label for="id_assignee">' in page


def test_the_case_page_reads_the_reviewers_in_its_round_trip(client, make_case, applicant,
                                                             reviewer, colleague):
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    url = reverse("admin:permits_application_change", args=[case.pk])
    client.force_login(reviewer)
    client.get(url)
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    assignment.application_assign(application=case, assignee=colleague, actor=colleague)
    with CaptureQueriesContext(connection) as after:
        assert "貿易局審核員乙" in client.get(url).content.decode()
    assert len(after) == len(before)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_reviewers_taking_a_case_at_once_one_gets_it(make_case, applicant, reviewer,
                                                         colleague):
    """The first holds the row until it commits; the second, which saw the case unassigned,
    waits for it, then finds it taken: without the lock both would have "taken" it."""
    import threading

    from django.db import transaction

    require_postgres()
    case = make_case(applicant, status=Status.INITIAL_REVIEW)
    took, outcome = threading.Event(), {}

    def first():
        try:
            with transaction.atomic():
                assignment.application_assign(application=case, assignee=reviewer,
                                              actor=reviewer, seen=0)
                took.set()
                threading.Event().wait(0.5)  # still uncommitted while the second tries
        finally:
            connection.close()

    def second():
        try:
            took.wait(5)
            assignment.application_assign(application=case, assignee=colleague,
                                          actor=colleague, seen=0)
            outcome["second"] = "took it"
        except assignment.AssignmentRefused as refusal:
            outcome["second"] = refusal.code
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcome == {"second": "changed"}
    assert Application.objects.get(pk=case.pk).assignee == reviewer
    assert ReviewEvent.objects.filter(application=case).count() == 1
