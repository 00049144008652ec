"""permits.prepared: a queryset compiled once per process gives, for any values, the rows the
ORM gives for them."""

import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured

from permits.models import Application, Item, Status
from permits.prepared import PreparedInstances, PreparedQuery, arrays_supported
from permits.views import with_parts
from tests import services


def _cases_of(user):
    return (Application.objects.filter(applicant=user).exclude(status=Status.DRAFT)
            .order_by("-created_at", "-id").values_list("id", "receipt_no", "created_at"))


@pytest.mark.django_db
def test_it_gives_each_user_the_rows_the_orm_gives(make_case, applicant, other_applicant):
    for user in (applicant, applicant, other_applicant):
        make_case(user, status=Status.INITIAL_REVIEW)
    prepared = PreparedQuery(_cases_of, parameters=("user",))
    for user in (applicant, other_applicant, applicant):  # compiled once, values swapped
        rows = prepared.rows(user=user.pk)
        assert rows == list(_cases_of(user)) and rows
        assert all(isinstance(created, datetime.datetime) for _pk, _no, created in rows)
    assert len(prepared._compiled) == 1


@pytest.mark.django_db
def test_it_refuses_a_parameter_django_rewrites():
    prepared = PreparedQuery(
        lambda name: Application.objects.filter(applicant_name__icontains=name).values_list(
            "id"), parameters=("name",))
    with pytest.raises(ImproperlyConfigured):
        prepared.rows(name="安心")


@pytest.mark.postgres
@pytest.mark.django_db
def test_it_takes_a_list_of_ids_as_one_array(make_case, applicant):
    services.require_postgres()
    assert arrays_supported()
    cases = [make_case(applicant, status=Status.INITIAL_REVIEW) for _n in range(3)]
    prepared = PreparedQuery(
        lambda ids: Application.objects.filter(id__any=ids).order_by("id").values_list("id"),
        parameters=("ids",))
    assert prepared.rows(ids=[cases[0].pk, cases[2].pk]) == [(cases[0].pk,), (cases[2].pk,)]
    assert prepared.rows(ids=[cases[1].pk]) == [(cases[1].pk,)]
    assert prepared.rows(ids=[]) == []


@pytest.mark.django_db
def test_it_gives_the_instances_the_orm_gives(make_case, applicant, other_applicant):
    """PreparedInstances: whole instances, every field as read by the ORM (decimals, dates),
    in the model's order; and the case page's parts, in place as prefetch_related puts them."""
    cases = [make_case(user, status=Status.INITIAL_REVIEW)
             for user in (applicant, other_applicant)]
    items = PreparedInstances(Item, lambda application: Item.objects.filter(
        application=application), parameters=("application",))
    for case in (*cases, cases[0]):
        expected = list(Item.objects.filter(application=case))
        got = items.instances(application=case.pk)
        assert got and got == expected
        assert [vars(item) | {"_state": None} for item in got] == \
            [vars(item) | {"_state": None} for item in expected]
        loaded = with_parts(Application.objects.get(pk=case.pk))
        for name in ("items", "attachments", "parties", "status_changes"):
            assert list(getattr(loaded, name).all()) == list(getattr(case, name).all()), name
        # Read from what is in place: the filter of the relation is still the case's.
        assert loaded.items.filter(line_no=1).get().application_id == case.pk


@pytest.mark.django_db
def test_it_takes_text_times_and_small_integers(make_case, applicant, reviewer):
    """Parameters of other kinds (permits.prepared kinds): a number typed in a form, a day's
    bounds, a revision (a PositiveIntegerField, whose lookups refuse a value beyond its
    range); a literal of the query itself is kept, even one equal to a sentinel."""
    from django.utils import timezone

    from permits.prepared import _SENTINELS

    cases = [make_case(applicant, status=Status.INITIAL_REVIEW) for _n in range(3)]

    def build(number, since, line):
        return (Application.objects.filter(receipt_no=number, submitted_at__gte=since,
                                           items__line_no=line)
                .exclude(items__line_no=_SENTINELS[int](0, 1))  # a literal like a sentinel
                .values_list("id", flat=False))

    prepared = PreparedQuery(build, parameters=("number", "since", "line"),
                             kinds={"number": str, "since": datetime.datetime})
    hour_ago = timezone.now() - datetime.timedelta(hours=1)
    for case in (*cases, cases[0]):
        for since, line in ((hour_ago, 1), (timezone.now() + datetime.timedelta(days=1), 1),
                            (hour_ago, 2)):
            values = {"number": case.receipt_no, "since": since, "line": line}
            assert prepared.rows(**values) == list(build(**values))
        assert prepared.rows(number=case.receipt_no, since=hour_ago, line=1) == [(case.pk,)]
    assert len(prepared._compiled) == 1


@pytest.mark.django_db
def test_it_refuses_kinds_it_does_not_know():
    with pytest.raises(ImproperlyConfigured):
        PreparedQuery(lambda n: Application.objects.values_list("id"), parameters=("n",),
                      kinds={"n": float})
    with pytest.raises(ImproperlyConfigured):
        PreparedQuery(lambda n: Application.objects.values_list("id"), parameters=("n",),
                      kinds={"other": str})


@pytest.mark.django_db
def test_it_gives_instances_with_their_related_rows(make_case, applicant, other_applicant,
                                                    agent, reviewer):
    """PreparedInstances of a queryset with select_related() and the visibility rule: the
    instances the ORM gives, each related row in place (no query to read it)."""
    from django.contrib.auth import get_user_model

    from permits.prepared import in_place
    from permits.views import _case_of

    User = get_user_model()
    issued = make_case(applicant, actor=agent, status=Status.APPROVED, reviewer=reviewer)
    waiting = make_case(applicant, status=Status.INITIAL_REVIEW)
    other = make_case(other_applicant, status=Status.INITIAL_REVIEW)
    prepared = PreparedInstances(Application, lambda user, pk: _case_of(User(pk=user), pk),
                                 parameters=("user", "pk"))
    for user, case, seen in ((applicant, issued, True), (agent, issued, True),
                             (applicant, waiting, True), (agent, waiting, False),
                             (applicant, other, False), (other_applicant, other, True)):
        got = prepared.instances(user=user.pk, pk=case.pk)
        assert got == list(_case_of(user, case.pk))
        assert bool(got) == seen
        if got and case is issued:
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(connection) as queries:
                version = got[0].permit_version
                assert version.permit.permit_no == issued.issued_version.permit.permit_no
                assert not hasattr(version.permit, "revocation")  # none, and known so
            assert len(queries) == 0
        if got and case is waiting:
            assert got[0].permit_version is None
    # in_place: what prefetch_related would have put there.
    case = Application.objects.get(pk=issued.pk)
    items = list(Item.objects.filter(application=issued))
    in_place(case, "items", items)
    assert list(case.items.all()) == items and items[0].application is case
    assert case.items.filter(line_no=1).get().application_id == issued.pk

