"""收件編號 / 登錄編號 / 許可證號碼: 14 characters, unique under parallel submissions."""

import datetime

import pytest
from django.utils import timezone

from permits import numbering, workflow
from permits.models import Application, DocumentType, Status
from tests import services


@pytest.mark.django_db
def test_it_formats_numbers_with_the_roc_year():
    moment = datetime.datetime(2026, 3, 1, 10, 0, tzinfo=datetime.UTC)
    assert numbering.next_number("R", DocumentType.MASK_IMPORT, moment) == "RMK11500000001"
    assert numbering.next_number("R", DocumentType.MASK_IMPORT, moment) == "RMK11500000002"


@pytest.mark.django_db
def test_it_counts_each_kind_type_and_year_apart():
    jan = datetime.datetime(2026, 1, 1, 12, tzinfo=datetime.UTC)
    numbering.next_number("R", DocumentType.MASK_IMPORT, jan)
    assert numbering.next_number("P", DocumentType.MASK_IMPORT, jan).endswith("00000001")
    assert numbering.next_number("R", DocumentType.SHTC_EXPORT, jan).endswith("00000001")
    next_year = datetime.datetime(2027, 1, 1, 12, tzinfo=datetime.UTC)
    assert numbering.next_number("R", DocumentType.MASK_IMPORT, next_year) == \
        "RMK11600000001"


@pytest.mark.django_db
def test_it_takes_the_year_in_taipei():
    # 2025-12-31 17:00 UTC is already 2026-01-01 in Taipei: ROC year 115.
    moment = datetime.datetime(2025, 12, 31, 17, 0, tzinfo=datetime.UTC)
    with timezone.override("Asia/Taipei"):
        assert numbering.next_number("R", DocumentType.MASK_IMPORT, moment)[3:6] == "115"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_numbers_parallel_submissions_uniquely(make_case, applicant):
    services.require_postgres()
    cases = [make_case(applicant) for _ in range(12)]
    services.run_concurrently(*[
        lambda case=case: workflow.transition(application=case, to=Status.INITIAL_REVIEW,
                                              actor=applicant)
        for case in cases])
    numbers = sorted(Application.objects.values_list("receipt_no", flat=True))
    assert len(set(numbers)) == 12
    assert [int(n[-8:]) for n in numbers] == list(range(1, 13))
