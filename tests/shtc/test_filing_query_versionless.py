"""9-1-2's query reads its cases without their permit versions (issue 10, bench/README.md
"Stop 26 (applicants' lists)": its rows show no permit, and two joins less are planned on
every request): the same cases, columns and SHTC rows as with them, a version still read
right when asked, and the page in one query."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from permits.listing import Criteria, VisibleCases, _page_sql
from permits.models import Application, DocumentType, Status
from shtc import filing_views
from shtc.filing_forms import FilingQueryForm

pytestmark = pytest.mark.django_db

CASE_FIELDS = ("pk", "document_type", "kind", "status", "receipt_no", "registration_no",
               "applicant_id", "agent_id", "applicant_name", "destination_country",
               "created_at", "submitted_at")


def listed(user, *, versions, criteria=None):
    criteria = Criteria("filing_query_test", filing_views._filing_cases, {
        "document_type": DocumentType.SHTC_EXPORT, "number": None,
        "start": datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC), "end": None,
        **(criteria or {})}, FilingQueryForm.KINDS)
    return VisibleCases(user=user, ordering=FilingQueryForm.ORDERING, criteria=criteria,
                        related=("shtc",), versions=versions)


def shown(case):
    shtc = getattr(case, "shtc", None)  # read with the case (None: it has none)
    return [getattr(case, name) for name in CASE_FIELDS], None if shtc is None else shtc.pk


def test_the_cases_are_those_read_with_their_versions(make_case, applicant, agent,
                                                      other_applicant, reviewer):
    issued = make_case(applicant, actor=agent, document_type=DocumentType.SHTC_EXPORT,
                       status=Status.APPROVED, reviewer=reviewer)
    for _n in range(3):
        make_case(applicant, document_type=DocumentType.SHTC_EXPORT,
                  status=Status.INITIAL_REVIEW)
        make_case(other_applicant, actor=agent, document_type=DocumentType.SHTC_EXPORT,
                  status=Status.INITIAL_REVIEW)
    for user in (applicant, agent, other_applicant, reviewer):
        for start in (0, 2, 4, 40):
            with_versions = listed(user, versions=True)[start:start + 3]
            without = listed(user, versions=False)[start:start + 3]
            assert [shown(case) for case in without] == [shown(case) for case in with_versions]
            # A version asked for all the same is read, and is the case's.
            assert [case.permit_version for case in without] == \
                [case.permit_version for case in with_versions]
    assert issued.issued_version in [case.permit_version
                                     for case in listed(agent, versions=False)[0:9]]


def test_no_version_is_joined():
    sql = _page_sql("created_at", False, ("shtc",), False)
    assert "permits_permitversion" not in sql and "permits_permit." not in sql
    assert "permits_permitversion" in _page_sql("created_at", False, ("shtc",))


def test_the_query_page_is_one_query_of_no_version(client, make_case, applicant):
    for _n in range(2):
        make_case(applicant, document_type=DocumentType.SHTC_EXPORT,
                  status=Status.INITIAL_REVIEW)
    client.force_login(applicant)
    path = reverse("shtc:filing_query") + "?document_type=SE&date_from=2000-01-01"
    client.get(path)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    assert len([query for query in captured if "permits_application" in query["sql"]]) == 1
    # No version read by the list, nor by its rows afterwards.
    assert not [query for query in captured if "permits_permitversion" in query["sql"]]
    for receipt_no in Application.objects.filter(applicant=applicant).values_list(
            "receipt_no", flat=True):
        assert f">{receipt_no}</a>" in response.content.decode()
