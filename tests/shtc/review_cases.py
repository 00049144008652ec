"""SHTC cases taken to the bureau and through its review by the services users and reviewers
call (permits.workflow.transition, permits.attachments.attachment_add, shtc.services): what
tests/shtc/test_review.py and test_validity_issue.py share (the fixtures shtc_case and
shtc_release through tests/shtc/conftest.py). The 9-1-1 pages themselves are
tests/shtc/test_entry.py's; here the draft is written directly."""

import itertools

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from permits import attachments, documents, parties, services, workflow
from permits.models import DocumentType, Status
from shtc import rules
from shtc import services as shtc_services
from shtc.models import ShtcApplication
from tests.approvals import approve
from tests.reconciliation import helpers

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
IMPORTER = "Lion City Semiconductors Pte. Ltd."
END_USE = "Test equipment for the buyer's own 5G base station laboratory."
ITEM = {"tariff_code": "85423100003", "description": "Field programmable gate array",
        "quantity": "10", "unit": "PCE", "unit_price": "1500", "currency": "USD",
        "control_no": "3A001.a", "origin_country": "TW"}
_numbers = itertools.count(1)


def upload(case, kind, *, actor, name=None):
    return attachments.attachment_add(
        application=case, actor=actor, document_kind=kind,
        upload=SimpleUploadedFile(name or f"{kind}.pdf", PDF, content_type="application/pdf"))


@pytest.fixture
def shtc_case(applicant, reviewer):
    """An SHTC case of `applicant` with its parties and SHTC data, taken to `status`:
    登錄中 (registered), 初審中 (every required document uploaded, the end use entered and
    filed), or 准件結案 by the reviewer (the permit issued by transition()). To Iran or North
    Korea, 登錄中 is a 9-2-1 assurance, and a filed case a 9-2-2 application loaded from
    one."""

    def make(*, destination="US", buyer=IMPORTER, partial_shipment=True, items=None,
             status=Status.INITIAL_REVIEW, actor=None, end_user=None, transit_port=""):
        actor = actor or applicant
        case = services.application_create(
            document_type=DocumentType.SHTC_EXPORT, applicant=applicant, actor=actor,
            items=[dict(ITEM)] if items is None else items, destination_country=destination)
        parties.parties_replace(application=case, parties={
            "buyer": {"name": buyer, "address": "1 Harbourfront Walk", "country": destination},
            "consignee": {"same_as_buyer": True},
            "end_user": end_user or {"name": "Sierra Photonics LLC", "address": "5 Mesa Road",
                                     "country": destination}})
        if status != Status.REGISTERED and rules.has_own_procedure(destination):
            # To Iran or North Korea the bureau gets a 9-2-2 application, loaded from a 9-2-1
            # assurance and filed by 申請, its documents following (SHTC-6, SHTC-7).
            from tests.shtc.iran_cases import iran_assurance

            ShtcApplication.objects.create(
                application=case, partial_shipment=partial_shipment, transit_port=transit_port,
                end_use=END_USE, assurance=iran_assurance(applicant, actor=actor,
                                                          destination=destination))
            case = workflow.transition(application=case, to=Status.INITIAL_REVIEW, actor=actor)
            for kind, _label in documents.missing(case):
                upload(case, kind, actor=actor)
        else:
            ShtcApplication.objects.create(application=case, partial_shipment=partial_shipment,
                                           transit_port=transit_port)
            case = workflow.transition(application=case, to=Status.REGISTERED, actor=actor)
            if status == Status.REGISTERED:
                return case
            for kind, _label in documents.missing(case):
                upload(case, kind, actor=actor)
            case = shtc_services.application_file(application=case, actor=actor,
                                                  end_use=END_USE)
        if status == Status.APPROVED:
            case = approve(case, reviewer)
        return case

    return make


@pytest.fixture
def shtc_release(receive):
    """Declare and release one export of 1 PCE under `permit` (the customs feed as customs
    sends it); returns the ledger entry of the release."""
    from reconciliation.models import LedgerEntry

    def run(permit):
        number = f"AA115{next(_numbers):08d}R"
        first = {"item_no": 1, "tariff_code": ITEM["tariff_code"], "description": "FPGA",
                 "quantity": "1", "unit": "PCE", "value": "1500", "currency": "USD",
                 "permit_item_no": 1}
        records = receive(helpers.declaration(permit, number=number, items=[first]),
                          helpers.release(number, items=[{"item_no": 1, "quantity": "1"}]))
        assert [r.status for r in records] == ["accepted", "accepted"], \
            [r.errors for r in records]
        return LedgerEntry.objects.get(reference=number, kind=LedgerEntry.Kind.RELEASE)

    return run


# --- reading a page ----------------------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class Node:
    """An element of a page read by parse_page(): its tag, attributes, children and text."""

    def __init__(self, tag, attrs, parent=None):
        self.tag, self.attrs, self.parent, self.children = tag, dict(attrs), parent, []
        self.parts = []  # text and child nodes in document order

    def __getitem__(self, name):
        return self.attrs[name]

    def get(self, name, default=None):
        return self.attrs.get(name, default)

    def text(self):
        """The text inside, blanks collapsed."""
        return " ".join("".join(part if isinstance(part, str) else part.text() + " "
                                for part in self.parts).split())

    def walk(self):
        for child in self.children:
            yield child
            yield from child.walk()

    def find_all(self, tag=None, **attrs):
        return [node for node in self.walk() if (tag is None or node.tag == tag)
                and all(node.attrs.get(name.replace("_", "-")) == value
                        for name, value in attrs.items())]

    def find(self, tag=None, **attrs):
        found = self.find_all(tag, **attrs)
        return found[0] if found else None

    def by_testid(self, testid):
        return self.find(data_testid=testid)


def parse_page(content):
    """The page `content` (bytes or text) as a tree of Nodes, with the standard library's
    HTML parser (the project has no other)."""
    from html.parser import HTMLParser

    root = Node("#document", {})

    class Builder(HTMLParser):
        current = root

        def handle_starttag(self, tag, attrs):
            node = Node(tag, attrs, self.current)
            self.current.children.append(node)
            self.current.parts.append(node)
            if tag not in VOID:
                self.current = node

        def handle_startendtag(self, tag, attrs):
            node = Node(tag, attrs, self.current)
            self.current.children.append(node)
            self.current.parts.append(node)

        def handle_endtag(self, tag):
            node = self.current
            while node is not root and node.tag != tag:
                node = node.parent
            if node is not root:
                self.current = node.parent

        def handle_data(self, data):
            self.current.parts.append(data)

    builder = Builder(convert_charrefs=True)
    builder.feed(content.decode() if isinstance(content, bytes) else content)
    builder.close()
    return root
