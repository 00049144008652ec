"""permits.prepared: a queryset compiled once per process gives, for any values, the rows the
ORM gives for them."""

import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured

from permits.models import Application, Item, Status
from permits.prepared import PreparedInstances, PreparedQuery, arrays_supported
from permits.views import _with_parts
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
        loaded = _with_parts(Application.objects.get(pk=case.pk))
        for name in ("items", "attachments", "parties", "status_changes"):
            assert list(getattr(loaded, name).all()) == list(getattr(case, name).all()), name
        # Read from what is in place: the filter of the relation is still the case's.
        assert loaded.items.filter(line_no=1).get().application_id == case.pk
