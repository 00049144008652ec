"""What the test procedure declares: a reviewed export procedure with a buyer and an end
user, a licence required only for mainland China, a permit PDF of its own and a second
document, and one entry flow of two steps (basic data with the destination and the parties,
then the goods items) ending in 申請 → 初審中."""

from permits import entry, procedures
from permits.fields import BaseItemForm, CountryField, ExportControlNoField
from permits.models import Kind, PartyRole
from tests.testproc.apps import DOCUMENT_TYPE


class TestProcedure(procedures.Procedure):
    def required_documents(self, application):
        # A licence only when the goods go to mainland China (as SHTC-2 item 6).
        return ["licence"] if application.destination_country == "CN" else []


PROCEDURE = TestProcedure(
    document_type=DOCUMENT_TYPE, direction="export",
    document_kinds=[*procedures.COMMON_DOCUMENT_KINDS, ("licence", "Business licence")],
    parties=(PartyRole.BUYER, PartyRole.END_USER),
    change_kinds=(Kind.CORRECTION, Kind.BALANCE_REISSUE),
    pdf_templates={"permit": "testproc/permit.html", "summary": "pdf/case_summary.html"},
    new_application_url="testproc:application_basic")


class BasicForm(entry.BasicDataForm):
    destination_country = CountryField(label="Destination")


class ItemForm(BaseItemForm):
    control_no = ExportControlNoField(required=False, label="Export control number")

    class Meta(BaseItemForm.Meta):
        fields = [*BaseItemForm.Meta.fields, "control_no"]


class TestEntry(entry.CaseEntry):
    document_type = DOCUMENT_TYPE
    kinds = (Kind.NEW, Kind.BALANCE_REISSUE)
    namespace = "testproc"
    title = "Test export permit application"
    basic_form_class = BasicForm
    item_form_class = ItemForm
    balance_reissue = True
    show_control_no = True
    buttons = {**entry.CaseEntry.buttons, "submit": "Register and apply"}

    def extra_rows(self, application):
        return [("Destination", application.destination_country)]

    def save_basic(self, application, form):
        application.destination_country = form.cleaned_data["destination_country"]
        application.save(update_fields=["destination_country", "updated_at"])


ENTRY = TestEntry()

