"""The list's chosen filters (permits.admin.Unchosen) narrow the cases as Django's own filters."""
import pytest
from django.contrib import admin
from django.contrib.admin import ChoicesFieldListFilter, DateFieldListFilter
from django.test import RequestFactory

from permits.admin import ChoicesFilter, DateFilter
from permits.models import Application

CASES = [
    (ChoicesFilter, ChoicesFieldListFilter, "status", {"status__exact": ["initial_review"]}),
    (ChoicesFilter, ChoicesFieldListFilter, "status", {"status__exact": ["approved"]}),
    (ChoicesFilter, ChoicesFieldListFilter, "document_type", {"document_type__exact": ["x"]}),
    (DateFilter, DateFieldListFilter, "submitted_at", {"submitted_at__isnull": ["True"]}),
    (DateFilter, DateFieldListFilter, "submitted_at",
     {"submitted_at__gte": ["2026-01-01"], "submitted_at__lt": ["2026-02-01"]}),
    (ChoicesFilter, ChoicesFieldListFilter, "status", {}),
]


@pytest.mark.parametrize(("ours", "djangos", "name", "params"), CASES)
def test_chosen_filter_is_djangos(ours, djangos, name, params):
    request = RequestFactory().get("/")
    model_admin = admin.site._registry[Application]
    field = Application._meta.get_field(name)
    queryset = Application.objects.filter(applicant_identifier="22099131").order_by("-pk")
    made = [kind(field, request, {key: list(values) for key, values in params.items()},
                 Application, model_admin, name).queryset(request, queryset)
            for kind in (ours, djangos)]
    assert str(made[0].query) == str(made[1].query)
    assert made[0].query.where == made[1].query.where
    if not params:  # nothing chosen: the list's query as it was, not a copy
        assert made[0] is queryset
