"""Permits and their versions (PERMIT-2, PERMIT-3): a change adds a version, never
overwrites one; the newest is in force."""

import datetime

import pytest
from django.utils import timezone

from permits import workflow
from permits.models import Kind, Permit, PermitState, Status
from tests.approvals import approve


@pytest.fixture
def permit_version(make_case, applicant, reviewer):
    return make_case(applicant, status=Status.APPROVED, reviewer=reviewer).issued_version


def _approve_change(make_case, applicant, reviewer, version, kind, **data):
    change = make_case(applicant, kind=kind, changes=version,
                       change_description="更正產地", **data)
    change = workflow.transition(application=change, to=Status.INITIAL_REVIEW, actor=applicant)
    return approve(change, reviewer).issued_version


@pytest.mark.django_db
def test_it_adds_a_version_for_a_correction(make_case, applicant, reviewer, permit_version):
    second = _approve_change(make_case, applicant, reviewer, permit_version, Kind.CORRECTION)
    assert second.permit == permit_version.permit and second.version == 2
    assert (second.valid_from, second.valid_until) == (permit_version.valid_from,
                                                       permit_version.valid_until)
    permit_version.refresh_from_db()
    assert permit_version.version == 1  # untouched
    assert permit_version.permit.current == second


@pytest.mark.django_db
def test_it_gives_a_balance_reissue_a_new_number(make_case, applicant, reviewer,
                                                 permit_version):
    # 餘額重簽 follows 註銷 (SHTC-11).
    Permit.objects.filter(pk=permit_version.permit_id).update(revoked_at=timezone.now())
    reissue = _approve_change(make_case, applicant, reviewer, permit_version,
                              Kind.BALANCE_REISSUE)
    assert reissue.permit != permit_version.permit and reissue.version == 1


@pytest.mark.django_db
def test_it_answers_the_clearance_and_release_questions(permit_version):
    permit = permit_version.permit
    assert not permit.has_clearance() and not permit.has_release()
    permit.first_cleared_at = timezone.now()
    assert permit.has_clearance() and not permit.has_release()
    permit.first_released_at = timezone.now()
    assert permit.has_release()


@pytest.mark.django_db
def test_it_tells_valid_cancelled_and_expired(permit_version):
    permit = permit_version.permit
    today = timezone.localdate()
    assert permit.state_on(today) == PermitState.VALID
    assert permit.state_on(permit_version.valid_until + datetime.timedelta(days=1)) == \
        PermitState.EXPIRED
    permit.revoked_at = timezone.now()
    assert permit.state_on(today) == PermitState.REVOKED


@pytest.mark.django_db
def test_it_refuses_a_change_that_names_no_permit(make_case, applicant):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        make_case(applicant, kind=Kind.CORRECTION)
