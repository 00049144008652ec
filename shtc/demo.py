"""Demo SHTC cases for `make run` (registered in shtc/apps.py), created once, each the way a
user and a reviewer make it: 9-1-1 through the entry's services and forms (shtc/entry.py:
下一步, 確認, 登錄並列印最終用途保證書), the documents through permits.attachments, 9-1-2's
登錄最終用途並申請 through shtc.services, the review through permits.workflow.

    登錄中 to Japan, waiting for documents (only the signed assurance uploaded)
    初審中 to mainland China, filed by the agent (a business licence and 協查 to consider)
    准件結案 to the United States: 2 years (all four regimes, SHTC-14 (1))
    准件結案 to Singapore, 不分批: 6 months
    補件 to Germany: the bureau asked for the end user's company profile
    補正結案 to Japan: the bureau closed it for a 補正 (9-1-1 → 補正 → 原收件編號)

and the Iran procedure (SHTC-6, SHTC-7): a 9-2-1 assurance registered and locked, waiting for
its 9-2-2 application, and a 9-2-2 application the bureau sent to 協查.
"""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from permits import attachments, documents, entry, pdf, workflow
from permits.models import Status
from portal.templatetags.roc import roc
from shtc import services
from shtc.entry import APPLICATION
from shtc.iran_entry import IRAN_ASSURANCE
from shtc.iran_filing import IRAN_APPLICATION
from shtc.models import ShtcApplication
from shtc.procedures import DOCUMENT_KINDS

BASIC = {"applicant_name": "安心科技股份有限公司",
         "applicant_name_en": "Anxin Technology Co., Ltd.",
         "applicant_address": "臺北市中正區重慶南路一段2號",
         "company_email": "applicant@demo.invalid",
         "contact_person": "王小明", "contact_phone": "02-2351-0000",
         "partial_shipment": "True", "consignee-same_as_buyer": "on",
         "assurance_route": "assurance"}
AGENT = {"agent_contact_person": "林順達", "agent_phone": "03-398-0000",
         "agent_email": "agent@demo.invalid"}
FPGA = {"description": "Field programmable gate array", "brand": "Xilinx", "model": "XCVU9P",
        "specification": "Virtex UltraScale+, 2,586K logic cells", "quantity": "10",
        "unit": "PCE", "unit_price": "1500", "currency": "USD",
        "tariff_code": "85423100003", "control_no": "3A001.a", "origin_country": "TW"}
MODULE = {"description": "Encrypted network interface module", "brand": "Anxin",
          "model": "ANX-5A2", "quantity": "50", "unit": "PCE", "unit_price": "380.5",
          "currency": "USD", "tariff_code": "85177900002", "control_no": "5A002.a",
          "origin_country": "TW"}
END_USE = ("Signal processing boards for the customer's own 5G base station test equipment, "
           "used in its laboratory; not for resale.")

CASES = [
    {"label": "only the signed assurance uploaded", "to": Status.REGISTERED,
     "documents": ("assurance",),
     "basic": {"destination_country": "JP", "transit_port": "",
               "buyer-name": "Sakura Devices K.K.", "buyer-address": "1-1 Marunouchi, Tokyo",
               "buyer-country": "JP", "end_user-name": "Sakura Devices K.K.",
               "end_user-address": "1-1 Marunouchi, Tokyo", "end_user-country": "JP"},
     "items": (FPGA,)},
    {"label": "filed by the agent", "to": Status.INITIAL_REVIEW, "by_agent": True,
     "basic": {"destination_country": "CN", "transit_port": "HKHKG",
               "buyer-name": "Shenzhen Lianxin Electronics Co., Ltd.",
               "buyer-address": "8 Keji Road, Nanshan, Shenzhen", "buyer-country": "CN",
               "end_user-name": "Shenzhen Lianxin Electronics Co., Ltd.",
               "end_user-address": "8 Keji Road, Nanshan, Shenzhen", "end_user-country": "CN",
               "end_user-name_zh": "深圳聯芯電子有限公司"},
     "items": (FPGA, MODULE)},
    {"label": "2 years: all four regimes", "to": Status.APPROVED,
     "basic": {"destination_country": "US", "transit_port": "USLAX",
               "buyer-name": "Pacific Optics Inc.",
               "buyer-address": "100 Harbor Blvd, Long Beach, CA", "buyer-country": "US",
               "end_user-name": "Sierra Photonics LLC",
               "end_user-address": "5 Mesa Road, Tucson, AZ", "end_user-country": "US"},
     "items": (FPGA, MODULE)},
    {"label": "6 months, one shipment", "to": Status.APPROVED,
     "basic": {"destination_country": "SG", "transit_port": "SGSIN", "partial_shipment": "False",
               "buyer-name": "Lion City Semiconductors Pte. Ltd.",
               "buyer-address": "1 Harbourfront Walk, Singapore", "buyer-country": "SG",
               "end_user-name": "Lion City Semiconductors Pte. Ltd.",
               "end_user-address": "1 Harbourfront Walk, Singapore", "end_user-country": "SG"},
     "items": (MODULE,)},
    {"label": "the bureau asks for the end user's profile", "to": Status.SUPPLEMENT,
     "note": "請補附最終使用者公司介紹（英文）：所登錄之英文網址無法開啟。",
     "basic": {"destination_country": "DE", "transit_port": "",
               "buyer-name": "Rhein Messtechnik GmbH",
               "buyer-address": "Industriestrasse 12, Mannheim", "buyer-country": "DE",
               "end_user-name": "Rhein Messtechnik GmbH",
               "end_user-address": "Industriestrasse 12, Mannheim", "end_user-country": "DE"},
     "items": (FPGA,)},
    {"label": "closed for a 補正: the consignee's address was wrong",
     "to": Status.AMENDMENT_CLOSED,
     "note": "收貨人地址與交易文件不符，請以補正方式重新登錄並上傳重新簽署之最終用途保證書。",
     "basic": {"destination_country": "JP", "transit_port": "",
               "buyer-name": "Kansai Precision Co., Ltd.",
               "buyer-address": "3-5 Nakanoshima, Osaka", "buyer-country": "JP",
               "end_user-name": "Kansai Precision Co., Ltd.",
               "end_user-address": "3-5 Nakanoshima, Osaka", "end_user-country": "JP"},
     "items": (MODULE,)},
]
IRAN_PARTIES = {"buyer-name": "Persian Gulf Trading Co.",
                "buyer-address": "12 Vali-e Asr Ave, Tehran", "buyer-country": "IR",
                "end_user-name": "Tehran Electronics Industries",
                "end_user-address": "7 Azadi Street, Tehran", "end_user-country": "IR"}
IRAN_CASES = [
    {"label": "9-2-1: registered, waiting for its 9-2-2 application",
     "basic": {"destination_country": "IR", "transit_port": "", **IRAN_PARTIES},
     "items": (MODULE,)},
    {"label": "9-2-2: sent to 協查 (25 to 30 working days)", "file": True,
     "basic": {"destination_country": "IR", "transit_port": "", **IRAN_PARTIES},
     "items": (FPGA,)},
]


def _checked(form):
    if not form.is_valid():
        raise ValueError(f"demo data refused: {form.errors.as_json()}")
    return form


def _basic(case_entry, data, *, actor, draft=None):
    """下一步 (or 新增貨品明細/基本資料存檔) on `case_entry`'s basic page: the draft."""
    basic = _checked(case_entry.basic_form_class(
        data=data, user=actor, **case_entry.basic_form_kwargs(draft)))
    party_forms = case_entry.party_forms(draft, data=data)
    for form in party_forms:
        _checked(form)
    return entry.draft_save_basic(entry=case_entry, actor=actor, form=basic,
                                  party_forms=party_forms, application=draft)


def _register(spec, *, applicant, actor, case_entry=APPLICATION):
    """9-1-1 (or 9-2-1) as the pages do it: 下一步, 確認 for each item, 登錄並列印最終用途保證書
    (附件申請)."""
    data = {**BASIC, **spec["basic"]}
    if actor.pk != applicant.pk:
        data.update(AGENT, applicant_identifier=applicant.identifier)
    draft = _basic(case_entry, data, actor=actor)
    for item in spec["items"]:
        entry.draft_item_save(application=draft,
                              form=_checked(case_entry.item_form_class(data=item)))
    return entry.draft_submit(entry=case_entry, application=draft, actor=actor)


def _iran_application(assurance, *, actor):
    """9-2-2: 保證書編號 → 帶入參考資料, the basic data completed → 下一步, 申請 (收件編號)."""
    draft = entry.reference_draft_create(entry=IRAN_APPLICATION, actor=actor,
                                         field=entry.REGISTRATION_NO,
                                         number=assurance.registration_no)
    data = {**BASIC, **IRAN_PARTIES, "transit_port": ""}
    draft = _basic(IRAN_APPLICATION, data, actor=actor, draft=draft)
    return entry.draft_submit(entry=IRAN_APPLICATION, application=draft, actor=actor)


def _upload(case, *, actor, kinds, pages):
    """The documents, as PDFs: the assurance and the affidavit as the portal prints them for
    the case (signed, in real life), the others one page saying what they stand for
    (`pages`: those printed already, by kind)."""
    printed = {"assurance": "assurance_buyer", "red_flag_affidavit": "affidavit"}
    labels = dict(DOCUMENT_KINDS)
    for kind in kinds:
        if kind in printed:
            content = pdf.render_case_document(case, printed[kind])
        else:
            if kind not in pages:
                pages[kind] = pdf.render_document(template="pdf/shtc/demo_document.html",
                                                  context={"label": str(labels[kind])},
                                                  language="en")
            content = pages[kind]
        attachments.attachment_add(
            application=case, actor=actor, document_kind=kind,
            upload=SimpleUploadedFile(f"{kind}.pdf", content, content_type="application/pdf"))


@transaction.atomic
def seed(*, applicant, agent, reviewer, senior):
    """The cases of the module docstring; [(label, case)], or [] if they exist."""
    if ShtcApplication.objects.filter(application__applicant=applicant,
                                      application__registration_no__isnull=False).exists():
        return []
    made, pages = [], {}
    for spec in CASES:
        actor = agent if spec.get("by_agent") else applicant
        case = _register(spec, applicant=applicant, actor=actor)
        required = [code for code, _label, _uploaded in documents.status(case)]
        if spec["to"] == Status.REGISTERED:
            _upload(case, actor=actor, kinds=spec["documents"], pages=pages)
        else:
            held_back = {"end_user_profile"} if spec["to"] == Status.SUPPLEMENT else set()
            _upload(case, actor=actor, pages=pages,
                    kinds=[kind for kind in required if kind not in held_back])
            if held_back:
                # A website instead of the profile (SHTC-2 item 5), which the bureau will
                # find does not open: 補件.
                services.end_user_url_set(application=case, actor=actor,
                                          url="https://rhein-messtechnik.example/en/")
            case = services.application_file(application=case, actor=actor, end_use=END_USE)
            if spec["to"] == Status.APPROVED:
                # Four eyes (issue 14): the reviewer takes it to 複審中, the senior approves.
                case = workflow.transition(application=case, to=Status.SECOND_REVIEW,
                                           actor=reviewer)
                case = workflow.transition(application=case, to=Status.APPROVED,
                                           actor=senior)
            elif spec["to"] in (Status.SUPPLEMENT, Status.AMENDMENT_CLOSED):
                case = workflow.transition(application=case, to=spec["to"],
                                           actor=reviewer, note=spec["note"])
        made.append((spec["label"], case))
    for spec in IRAN_CASES:
        case = _register(spec, applicant=applicant, actor=applicant, case_entry=IRAN_ASSURANCE)
        if spec.get("file"):
            case = _iran_application(case, actor=applicant)
            _upload(case, actor=applicant, pages=pages,
                    kinds=[code for code, _label, _uploaded in documents.status(case)])
            case = workflow.transition(application=case, to=Status.CONSULTATION,
                                       actor=reviewer)
        made.append((spec["label"], case))
    return made


def lines(made):
    """What `make run` prints of the cases."""
    out = [f"Demo SHTC cases of the applicant ({made[0][1].applicant_identifier}):"]
    for label, case in made:
        case.refresh_from_db()
        version = case.permit_version
        permit = (f", permit {version.permit.permit_no} valid {roc(version.valid_from)} to "
                  f"{roc(version.valid_until)}") if version else ""
        out.append(f"  {case.number} to {case.destination_country}: "
                   f"{case.get_status_display()} ({label}){permit}")
    return "\n".join(out)
