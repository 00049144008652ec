"""逾期's conditions built once a day (permits.admin_queues._overdue): the queryset they
give is the one Django's filter() gives, its SQL, its parameters, its joins and its table's
count of uses (what permits.admin_list reads for the page's compiled query), on the list's
queryset and on others; a new day gets its own conditions; the queue still lists its cases."""

import datetime

import pytest
from django.db.models import Q

from permits import admin_queues
from permits.models import Application, Status

pytestmark = pytest.mark.django_db

D = datetime.date


def bases():
    """Querysets a filter may be given: the list's (its related rows, its order), one filtered
    already, one filtered across a join, one whose table is not yet named, one of values."""
    cases = Application.objects
    return [
        cases.all(),
        cases.select_related("assignee").order_by("-submitted_at", "-pk"),
        cases.filter(status=Status.INITIAL_REVIEW).select_related("assignee"),
        cases.filter(assignee__name="x").order_by("pk"),
        cases.filter(Q(receipt_no="1") | Q(applicant_name__icontains="公司")),
        cases.exclude(document_type="x").values("pk"),
        cases.filter(pk__in=Application.objects.filter(status=Status.RETURNED).values("pk")),
    ]


def django_filtered(queryset, today):
    return queryset.filter(admin_queues.queue_condition(admin_queues.OVERDUE, None, today))


def described(queryset):
    query = queryset.query
    return (*query.sql_with_params(), dict(query.alias_refcount), list(query.alias_map),
            [(alias, getattr(join, "join_type", None)) for alias, join in query.alias_map.items()])


@pytest.mark.parametrize("index", range(len(bases())))
def test_the_queryset_is_djangos(index):
    for today in (D(2026, 12, 5), D(2027, 1, 4)):
        kept = admin_queues._overdue(bases()[index], today)
        assert described(kept) == described(django_filtered(bases()[index], today))
        # Filtered further, as the other filters and the search do after it.
        more = kept.filter(document_type="x").exclude(assignee=None)
        assert described(more) == described(
            django_filtered(bases()[index], today).filter(document_type="x").exclude(
                assignee=None))


def test_the_conditions_are_kept_for_the_day_and_left_unchanged():
    first = admin_queues._overdue_where(D(2026, 12, 5))
    children = list(first.children)
    assert admin_queues._overdue_where(D(2026, 12, 5)) is first
    assert admin_queues._overdue_where(D(2026, 12, 6)) is not first
    for _ in range(2):
        str(admin_queues._overdue(Application.objects.filter(pk=1), D(2026, 12, 5)).query)
    assert first.children == children and len(children) == 2
    sql, params = admin_queues._overdue(Application.objects.all(), D(2026, 12, 6)).query \
        .sql_with_params()
    params = [str(value) for value in params]  # (SQLite's dates are texts)
    assert "2026-12-06" in params and "2026-12-05" not in params


def test_the_queue_lists_the_overdue_cases_of_the_day(make_case, applicant):
    late = make_case(applicant, status=Status.INITIAL_REVIEW)
    later = make_case(applicant, status=Status.INITIAL_REVIEW)
    closed = make_case(applicant, status=Status.INITIAL_REVIEW)
    Application.objects.filter(pk=closed.pk).update(status=Status.APPROVED)
    Application.objects.filter(pk=later.pk).update(status=Status.SECOND_REVIEW)
    Application.objects.filter(pk=late.pk).update(stage_due=D(2026, 12, 1))
    Application.objects.filter(pk__in=[later.pk, closed.pk]).update(stage_due=D(2026, 12, 8))
    for today, expected in ((D(2026, 12, 5), {late.pk}), (D(2026, 12, 9), {late.pk, later.pk}),
                            (D(2026, 12, 1), set())):
        found = admin_queues._overdue(Application.objects.all(), today)
        assert set(found.values_list("pk", flat=True)) == expected
        assert set(django_filtered(Application.objects.all(), today).values_list(
            "pk", flat=True)) == expected
