"""Messages as customs sends them (reconciliation/services.py documents the format)."""

import itertools

from django.utils import timezone

_ids = itertools.count(1)


def declaration(permit, *, number="AA11500000001B", declarant=None, direction="export",
                date=None, revision=0, items=None, permit_no=None, message_id=None):
    version = permit.current
    first = version.application.items.order_by("line_no").first()
    return {
        "message_id": message_id or f"M{next(_ids):08d}",
        "type": "declaration",
        "declaration": {
            "number": number, "direction": direction,
            "date": (date or timezone.localdate()).isoformat(),
            "declarant": declarant or version.application.applicant_identifier,
            "broker": "04595252", "permit_no": permit_no or permit.permit_no,
            "revision": revision,
            "items": items if items is not None else [{
                "item_no": 1, "tariff_code": first.tariff_code, "description": "FPGA",
                "quantity": "4", "unit": first.unit, "value": "6000",
                "currency": first.currency, "permit_item_no": first.line_no}],
        },
    }


def release(number="AA11500000001B", items=None, message_id=None):
    return {"message_id": message_id or f"M{next(_ids):08d}", "type": "release",
            "declaration": number,
            "items": items if items is not None else [{"item_no": 1, "quantity": "4"}]}


def cancellation(number="AA11500000001B", message_id=None):
    return {"message_id": message_id or f"M{next(_ids):08d}", "type": "cancellation",
            "declaration": number, "reason": "報單撤銷"}
