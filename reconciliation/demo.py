"""Demo declarations for `make run`: one 相符 and one 不符 with two reasons, against the
demo applicant's first approved permit (the SHTC demo's, shtc/demo.py). Created once. The
mismatch gets its 會辦識別碼 (單證比對查詢), with which the applicant can try 單證比對不符修正."""

from django.utils import timezone

from permits.models import Permit
from reconciliation import services
from reconciliation.models import Declaration


def seed(*, applicant):
    permit = (Permit.objects.filter(holder=applicant, revoked_at__isnull=True)
              .order_by("created_at").first())
    if permit is None or Declaration.objects.filter(permit=permit).exists():
        return 0
    version = permit.current
    first = version.application.items.order_by("line_no").first()

    def declaration(number, **changes):
        item = {"item_no": 1, "tariff_code": first.tariff_code,
                "description": first.description, "quantity": "5", "unit": first.unit,
                "value": str(first.unit_price * 5), "currency": first.currency,
                "permit_item_no": first.line_no}
        item.update(changes)
        return {"message_id": f"DEMO-{number}", "type": "declaration", "declaration": {
            "number": number, "direction": "export",
            "date": timezone.localdate().isoformat(),
            "declarant": version.application.applicant_identifier, "broker": "04595252",
            "permit_no": permit.permit_no, "items": [item]}}

    services.receive([
        declaration("AW115000000001"),
        declaration("AW115000000002", tariff_code="85423900004", currency="EUR"),
    ], source="demo")
    return 2
