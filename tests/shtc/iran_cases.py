"""Iran / North Korea cases for the 9-2-2 tests (tests/shtc/test_iran_application.py and
test_iran_flow_browser.py): the registered 9-2-1 end-use assurance written through the
services (the contract of issue 12: an SHTC export case to IR or KP, 登錄中 with its 登錄編號,
its ShtcApplication and items), and the 9-2-2 pages driven as a user does."""

from django.urls import reverse

from permits import parties, services, workflow
from permits.models import Application, DocumentType, Status
from shtc.models import ShtcApplication
from tests.shtc.assurance import submit

ITEMS = [
    {"tariff_code": "85423100003", "description": "Field programmable gate array",
     "brand": "Xilinx", "model": "XCVU9P", "quantity": "10", "unit": "PCE",
     "unit_price": "1500", "currency": "USD", "control_no": "3A001.a",
     "origin_country": "TW"},
    {"tariff_code": "90314990005", "description": "Wafer inspection microscope",
     "brand": "Anxin", "model": "WIM-7", "quantity": "2", "unit": "SET",
     "unit_price": "250000", "currency": "USD", "control_no": "3B001.c",
     "origin_country": "TW"},
]
BUYER = {"name": "Persian Gulf Trading Co.", "address": "12 Vali-e Asr Ave, Tehran",
         "country": "IR"}
END_USE = "Quality control of the end user's PCB assembly line in Tehran."
# What 9-2-2's basic page posts: the basic data and the parties, completed.
BASIC = {"applicant_name": "安心科技股份有限公司",
         "applicant_name_en": "Anxin Technology Co., Ltd.",
         "applicant_address": "臺北市中正區重慶南路一段2號",
         "company_email": "export@anxin.example", "contact_person": "王小明",
         "contact_phone": "02-2351-0000", "transit_port": "", "partial_shipment": "True",
         "buyer-name": BUYER["name"], "buyer-address": BUYER["address"],
         "buyer-country": "IR", "consignee-same_as_buyer": "on",
         "end_user-name": "Tehran Electronics Industries",
         "end_user-address": "7 Azadi Street, Tehran", "end_user-country": "IR"}
AGENT = {"agent_contact_person": "林順達", "agent_phone": "03-398-0000",
         "agent_email": "filing@shunda.example"}


def iran_assurance(applicant, *, actor=None, destination="IR", items=None, end_user=None):
    """A 9-2-1 end-use assurance as helper iran's pages leave it: an SHTC export case to
    `destination` (IR or KP), 登錄中 with its 登錄編號, its ShtcApplication (with an
    assurance) and its items; the end user's address only a city (9-2-2 completes it)."""
    actor = actor or applicant
    case = services.application_create(
        document_type=DocumentType.SHTC_EXPORT, applicant=applicant, actor=actor,
        items=[dict(item) for item in (items or ITEMS)], destination_country=destination)
    parties.parties_replace(application=case, parties={
        "buyer": {**BUYER, "country": destination}, "consignee": {"same_as_buyer": True},
        "end_user": end_user or {"name": "Tehran Electronics Industries",
                                 "address": "Tehran", "country": destination}})
    ShtcApplication.objects.create(application=case, partial_shipment=True, end_use=END_USE)
    return workflow.transition(application=case, to=Status.REGISTERED, actor=actor)


def url(step, *args):
    return reverse(f"shtc:iran_application_{step}", args=args)


def load(client, number):
    """新申請: 保證書編號 → 帶入參考資料."""
    return client.post(url("basic"), {"registration_no": number, "load_reference": "1"})


def draft_of(response):
    """The draft a 302 after 帶入參考資料 leads to (its edit page)."""
    assert response.status_code == 302, response.status_code
    return Application.objects.get(pk=int(response.url.rstrip("/").split("/")[-1]))


def enter(client, assurance, *, basic=None):
    """帶入參考資料, then 下一步 with the basic data completed: the draft."""
    draft = draft_of(load(client, assurance.registration_no))
    response = client.post(url("edit", draft.pk), {**BASIC, **(basic or {})})
    assert response.status_code == 302, response.context and [
        form.errors for form in (response.context["form"], *response.context["party_forms"])]
    assert response.url == url("review", draft.pk)
    return draft


def apply(client, draft):
    """申請: the case, filed (初審中, 收件編號)."""
    return submit(client, draft, prefix="iran_application", status=Status.INITIAL_REVIEW)
