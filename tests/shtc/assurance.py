"""The 9-1-1 pages driven as a user does (shtc/entry.py): what tests/shtc/test_entry.py and
test_documents.py share."""

import re

from django.urls import reverse

from permits.models import Application, Status

BASIC = {"applicant_name": "安心科技股份有限公司",
         "applicant_name_en": "Anxin Technology Co., Ltd.",
         "applicant_address": "臺北市中正區重慶南路一段2號",
         "company_email": "export@anxin.example", "contact_person": "王小明",
         "contact_phone": "02-2351-0000", "destination_country": "US",
         "transit_port": "USLAX", "partial_shipment": "True",
         "buyer-name": "Pacific Optics Inc.", "buyer-address": "100 Harbor Blvd, Long Beach, CA",
         "buyer-country": "US",
         "consignee-same_as_buyer": "on",
         "end_user-name": "Sierra Photonics LLC", "end_user-address": "5 Mesa Road, Tucson, AZ",
         "end_user-country": "US"}
AGENT = {"applicant_identifier": "22099131", "agent_contact_person": "林順達",
         "agent_phone": "03-398-0000", "agent_email": "filing@shunda.example"}
ITEM = {"description": "Field programmable gate array", "brand": "Xilinx", "model": "XCVU9P",
        "specification": "Virtex UltraScale+, 2,586K logic cells", "quantity": "10",
        "unit": "PCE", "unit_price": "1500", "currency": "USD",
        "tariff_code": "85423100003", "control_no": "3A001.a", "origin_country": "TW"}


def url(name, *args, prefix="application"):
    """The URL of an SHTC entry's step: 9-1-1's, or with `prefix` another's (9-2-1's
    "iran_assurance")."""
    return reverse(f"shtc:{prefix}_{name}", args=args)


def enter(client, *, basic=None, items=(ITEM,), prefix="application", base=BASIC,
          then="review"):
    """下一步 on the basic data and the parties (`base` updated with `basic`), which leads to
    step `then`, and 確認 on each item: the draft. By default 9-1-1's; 9-2-1's with its
    prefix, its data, and then="item_add" (新增貨品明細/基本資料存檔)."""
    response = client.post(url("basic", prefix=prefix), {**base, **(basic or {})})
    assert response.status_code == 302, response.context and [
        form.errors for form in (response.context["form"], *response.context["party_forms"])]
    draft = Application.objects.get(pk=int(re.search(r"/([0-9]+)/", response.url)[1]))
    assert response.url == url(then, draft.pk, prefix=prefix)
    for item in items:
        response = client.post(url("item_add", draft.pk, prefix=prefix), item)
        assert response.status_code == 302, response.context["form"].errors
    return draft


def submit(client, draft, *, prefix="application", status=Status.REGISTERED):
    """The review page's last button of the entry of `prefix` (登錄並列印最終用途保證書, 附件申請,
    登錄, 申請): the case, now in `status`."""
    response = client.post(url("submit", draft.pk, prefix=prefix))
    assert response.status_code == 302, response.status_code
    draft.refresh_from_db()
    assert draft.status == status, draft.status
    return draft


def register(client, *, prefix="application", **kwargs):
    """The whole of 9-1-1 (or of the entry of `prefix`): enter, then 登錄並列印最終用途保證書
    (9-2-1: 附件申請). The case, registered."""
    return submit(client, enter(client, prefix=prefix, **kwargs), prefix=prefix)


END_USE = "Wafer inspection in the end user's semiconductor fab in Arizona."


def file(case, actor, *, end_use=END_USE):
    """9-1-2 (SHTC-4) as its page does it: 上傳檔案 for each required document still missing
    (a one-page PDF each, in a throw-away private storage), then 登錄最終用途並申請 → 案件申請.
    The case, filed: 初審中 with its 收件編號."""
    import tempfile

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import override_settings

    from permits import documents
    from permits.attachments import attachment_add
    from shtc import services
    from tests.permits.test_attachments import pdf_bytes

    with tempfile.TemporaryDirectory() as root, override_settings(PRIVATE_MEDIA_ROOT=root):
        for code, _label in documents.missing(Application.objects.get(pk=case.pk)):
            attachment_add(application=case, actor=actor, document_kind=code,
                           upload=SimpleUploadedFile(f"{code}.pdf", pdf_bytes()))
    return services.application_file(application=case, actor=actor, end_use=end_use)
