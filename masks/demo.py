"""A demo mask import for `make run`: a permit of the applicant imported through a customs
declaration (報單), declared and released by customs, so that 口罩流向登錄作業 (menu 2,
declaration AM115000000001) and 口罩流向退貨作業 have stock to work on. Created once."""

from django.utils import timezone

from masks import services
from masks.models import MaskApplication, Route
from reconciliation import services as customs

DECLARATION = "AM115000000001"


def seed(*, applicant):
    if MaskApplication.objects.filter(application__applicant=applicant,
                                      route=Route.DECLARATION).exists():
        return 0
    application = services.application_submit(
        actor=applicant, applicant=applicant, route=Route.DECLARATION,
        items=[{"category": "medical", "tariff_code": "63079050311",
                "description": "醫用口罩", "quantity": "1000", "unit": "PCE",
                "unit_price": "5", "currency": "TWD", "origin_country": "CN"}],
        applicant_name=applicant.name, applicant_name_en=applicant.name_en,
        applicant_address=applicant.address, company_email=applicant.email,
        contact_person=applicant.contact_person, contact_phone=applicant.phone)
    permit = application.issued_version.permit
    customs.receive([
        {"message_id": f"DEMO-{DECLARATION}", "type": "declaration", "declaration": {
            "number": DECLARATION, "direction": "import",
            "date": timezone.localdate().isoformat(),
            "declarant": applicant.identifier, "broker": "04595252",
            "permit_no": permit.permit_no,
            "items": [{"item_no": 1, "tariff_code": "63079050311", "description": "醫用口罩",
                       "quantity": "10", "unit": "PCE", "value": "50", "currency": "TWD",
                       "permit_item_no": 1}]}},
        {"message_id": f"DEMO-{DECLARATION}-R", "type": "release", "declaration": DECLARATION,
         "items": [{"item_no": 1, "quantity": "10"}]},
    ], source="demo")
    return 1
