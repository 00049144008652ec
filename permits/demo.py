"""Demo cases for `make run` (called by portal's seed_demo), created once."""

from django.db import transaction

from permits import services, workflow
from permits.models import Application, DocumentType, Status

ITEMS = [
    {"tariff_code": "85423100003", "description": "Field programmable gate array (FPGA)",
     "brand": "Xilinx", "model": "XCVU9P", "control_no": "3A001.a", "quantity": "20",
     "unit": "PCE", "unit_price": "4200", "currency": "USD", "origin_country": "US"},
    {"tariff_code": "85177900002", "description": "Encrypted network interface module",
     "brand": "Anxin", "model": "ANX-5A2", "control_no": "5A002.a", "quantity": "50",
     "unit": "PCE", "unit_price": "380.5", "currency": "USD", "origin_country": "TW"},
]


@transaction.atomic
def seed(*, applicant, agent, reviewer):
    """Three SHTC cases of the demo applicant: one waiting in 初審中 for the reviewer, one in
    補件 waiting for the applicant, one 准件結案 with a permit to print."""
    if Application.objects.filter(applicant=applicant).exists():
        return 0
    waiting_review = services.application_create(
        document_type=DocumentType.SHTC_EXPORT, applicant=applicant, actor=agent,
        items=ITEMS, destination_country="DE")
    workflow.transition(application=waiting_review, to=Status.INITIAL_REVIEW, actor=agent)

    supplement = services.application_create(
        document_type=DocumentType.SHTC_EXPORT, applicant=applicant, actor=applicant,
        items=ITEMS[:1], destination_country="JP")
    workflow.transition(application=supplement, to=Status.INITIAL_REVIEW, actor=applicant)
    workflow.transition(application=supplement, to=Status.SUPPLEMENT, actor=reviewer,
                        note="請補附最終使用者公司介紹（英文）及交易文件（Purchase Order）。")

    approved = services.application_create(
        document_type=DocumentType.SHTC_EXPORT, applicant=applicant, actor=applicant,
        items=ITEMS, destination_country="US")
    workflow.transition(application=approved, to=Status.INITIAL_REVIEW, actor=applicant)
    workflow.transition(application=approved, to=Status.APPROVED, actor=reviewer)
    return 3
