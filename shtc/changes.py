"""9-1-1's changes, chosen as 申請類別 on its page (the SHTC manual §1.2 to §1.4, "於步驟2程序中
點選補正選項 / 更正選項 / 單證比對不符修正選項"; SHTC-8 to SHTC-10), over permits.entry and the
start page of permits.change_views:

    補正 (SHTC-8)               原收件編號 of the user's case closed 補正結案
    更正 (SHTC-9)               原證書號碼 or 原收件編號, 更正描述; no clearance recorded yet
    單證比對不符修正 (SHTC-10)   原證書號碼, 報單號碼, 會辦識別碼, 修正描述; a mismatch of that
                               declaration, nothing released
    ─帶入原始資料→ basic data + 買方 / 收貨人 / 最終使用者 ─下一步→ review ─ items ─登錄→ 登錄中
    ─ 9-1-2: 上傳檔案 (the assurance signed again where shtc.requirements asks it) ─案件申請→
    初審中 ─ the bureau's 准件結案 → the permit's next version (PERMIT-2), or for a 補正 what the
    amended case would have had (permits.services.permit_issue)

The gates are permits.changes': asked on the start page (each refusal next to its field),
when the change is registered, at 案件申請, and under the permit's lock at approval. An agent
files for the applicant whose permit or case it may see (ACC-4); both see the change.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from permits import change_views
from permits import entry as entries
from permits.models import Kind
from shtc import requirements
from shtc.entry import AssuranceEntry
from shtc.forms import ShtcBasicDataForm

REGISTER = gettext_lazy("Register")  # 登錄: the assurance stays as the end user signed it


class ShtcChangeEntry(AssuranceEntry):
    """補正, 更正 and 單證比對不符修正 of 9-1-1: the data of the case or permit version loaded, to
    fix (basic data, parties, items), then 登錄 → 9-1-2 as a new case."""

    kinds = (Kind.AMENDMENT, Kind.CORRECTION, Kind.MISMATCH_CORRECTION)
    prefix = "change"
    url_root = "changes/"
    start_url_name = "shtc:change_start"
    basic_form_class = ShtcBasicDataForm
    balance_reissue = False
    reference_fields = ()
    change_numbers = {
        Kind.AMENDMENT: (entries.RECEIPT_NO,),  # §1.2: 原收件編號
        Kind.CORRECTION: (entries.PERMIT_NO, entries.RECEIPT_NO),  # §1.3: 原證書號碼或原收件編號
        Kind.MISMATCH_CORRECTION: (entries.PERMIT_NO,),  # §1.4: 原證書號碼
    }
    mismatch_reference = True  # §1.4: 報單號碼, 會辦識別碼
    start_help = gettext_lazy(
        "Choose the application kind, enter the number of what it changes and the reason, "
        "then click “Load original data”: the original data are loaded into a new case to "
        "fix. For a new application, use “New application”.")
    kind_help = (
        (Kind.AMENDMENT.label, gettext_lazy(
            "A case the reviewer closed for amendment (補正結案) because its data were wrong: "
            "enter its original receipt number. After fixing the data, print the corrected "
            "end-use assurance for the end user to sign again and upload it with the other "
            "corrected documents.")),
        (Kind.CORRECTION.label, gettext_lazy(
            "An issued permit whose goods have no customs clearance record yet, changed at "
            "the applicant's request: enter the original certificate number or the original "
            "receipt number and describe the reason in detail. If the change affects what the "
            "end-use assurance states, the updated assurance must be signed again by the end "
            "user and uploaded with the documents the change affects.")),
        (Kind.MISMATCH_CORRECTION.label, gettext_lazy(
            "The matching of an export declaration with the permit found a difference and no "
            "goods have been released under the permit: enter the original certificate "
            "number, the declaration number, the coordination ID and a description. If the "
            "change affects what the end-use assurance states, it must be signed again.")),
    )
    basic_help = gettext_lazy(
        "The original data are loaded: change what is to be changed. Buyer, consignee and end "
        "user are written in English letters and digits: they are printed on the end-use "
        "assurance. Then click “Next step”.")
    review_help = gettext_lazy(
        "Check the data below; click an item number to change the item, or add or delete "
        "items. Then click the button below: the change is registered and gets its "
        "registration number, and its documents are uploaded in 9-1-2 before “File the "
        "application”.")
    review_help_fixed_items = review_help

    def basic_form_kwargs(self, application):
        # A change is the same applicant's: an agent cannot retype whom it is for.
        return {"fixed_applicant": application.applicant_identifier
                if application is not None else None}

    def header(self, application):
        """What the change changes, with its reference and description (the manual's
        fields), above each of its steps."""
        kind = application.get_kind_display()
        if application.kind == Kind.AMENDMENT:
            line = _("Application kind: %(kind)s · Original receipt number: %(number)s") % {
                "kind": kind, "number": application.amends.number if application.amends_id
                else ""}
        else:
            version = application.changes
            line = _("Application kind: %(kind)s · Original certificate number: %(permit)s "
                     "(version %(version)s)") % {"kind": kind,
                                                 "permit": version.permit.permit_no,
                                                 "version": version.version}
        if application.declaration_no:
            line += " · " + _("Declaration number: %(declaration)s · Coordination ID: "
                              "%(coordination)s") % {
                "declaration": application.declaration_no,
                "coordination": application.coordination_id}
        if application.change_description:
            line += " · " + _("Description: %(description)s") % {
                "description": application.change_description}
        return line

    def buttons_for(self, application):
        buttons = super().buttons_for(application)
        if application is not None and buttons is self.buttons and \
                not requirements.new_assurance_needed(application):
            # The assurance the end user signed still says what the change says (SHTC-9):
            # nothing to print for signing again.
            return {**buttons, "submit": REGISTER}
        return buttons

    def done_message(self, application):
        from shtc.entry import without_assurance

        if without_assurance(application):
            return super().done_message(application)
        if requirements.new_assurance_needed(application):
            return _("The %(kind)s was registered: registration number %(number)s. Print the "
                     "updated end-use assurance for the end user to sign again, then upload "
                     "it with the documents the change affects in 9-1-2 and apply.") % {
                "kind": application.get_kind_display(), "number": application.registration_no}
        return _("The %(kind)s was registered: registration number %(number)s. It does not "
                 "change what the end-use assurance states: no new assurance is needed. "
                 "Upload the documents the change affects, if any, in 9-1-2 and apply.") % {
            "kind": application.get_kind_display(), "number": application.registration_no}


CHANGE = entries.register(ShtcChangeEntry())


class ShtcChangeStartView(change_views.ChangeStartView):
    """The start page of 9-1-1's changes (templates/shtc/change_start.html)."""

    template_name = "shtc/change_start.html"


def urls():
    """The start page and the change's entry pages, for shtc/urls.py."""
    return [change_views.change_start_urls(CHANGE, view=ShtcChangeStartView), *CHANGE.urls()]
