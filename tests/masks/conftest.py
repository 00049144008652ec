"""Fixtures of the mask procedure's tests: the mask pages routed, a mask permit issued
through masks.services as "申請" issues it, and the data the pages post."""

import pytest
from django.urls import reverse

MEDICAL = "63079050311"  # 6307.90.50.31-1 紡織材料製醫用口罩 (seeded by masks 0002)
NON_MEDICAL = "63079050106"  # 6307.90.50.10-6, non-medical since the split

BASIC = {"applicant_name": "安心醫材股份有限公司", "applicant_name_en": "Anxin Medical Co., Ltd.",
         "applicant_address": "臺北市中正區重慶南路一段2號", "company_email": "masks@anxin.example",
         "contact_person": "王小明", "contact_phone": "02-2351-0000", "route": "postal"}


# An agent's own contact data on its case (the mask manual: 申辦代理人須加填申辦代理人資料).
AGENT = {"agent_contact_person": "林志豪", "agent_phone": "03-398-0000",
         "agent_email": "broker@shunda.example"}


def item(category="medical", quantity="100", **fields):
    """An item as the service takes it (and as the item page posts it)."""
    return {"category": category, "tariff_code": MEDICAL if category == "medical" else
            NON_MEDICAL, "description": "口罩", "quantity": quantity, "unit": "PCE",
            "unit_price": "5", "currency": "TWD", "origin_country": "US", **fields}


@pytest.fixture
def url():
    return lambda name, *args: reverse(name, args=args)


@pytest.fixture
def make_mask_permit(db):
    """A mask permit of `applicant` filed by `actor` (default: the applicant) through
    masks.services.application_submit; returns the Permit."""
    from masks import services

    def make(applicant, *, actor=None, route="postal", items=None):
        application = services.application_submit(
            actor=actor or applicant, applicant=applicant, route=route,
            items=items if items is not None else [item()],
            **{k: v for k, v in BASIC.items() if k != "route"})
        return application.issued_version.permit

    return make


@pytest.fixture
def make_correction(db):
    """A 更正 of `permit`'s version in force, filed through the shared entry services as the
    pages file it: item `line_no` takes `changes`; returns the issued Application."""
    from masks import entry
    from permits import entry as permit_entry
    from permits.models import Kind

    def make(actor, permit, *, line_no=1, kind=Kind.CORRECTION, description="更正口罩產地",
             **changes):
        version = permit.current
        draft = permit_entry.draft_from(entry=entry.CORRECTION, actor=actor,
                                        source=version.application, kind=kind,
                                        changes=version, change_description=description)
        draft.items.filter(line_no=line_no).update(**changes)
        return permit_entry.draft_submit(entry=entry.CORRECTION, application=draft,
                                         actor=actor)

    return make
