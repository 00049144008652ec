"""The documents 9-1-1 offers once the assurance is registered (SHTC-3; manual §1.1.1.2.1 steps
6 and 7): the end-use assurance (WRITTEN ASSURANCE OF END USES) in a buyer and a consignee
version, in English, for the end user to sign; and the red-flag list (abnormal transaction)
affidavit, in Chinese, for the applicant to sign and stamp. Printed by
permits.pdf.render_case_document with the templates of templates/pdf/shtc/ and the data
below on top of the case's (permits.pdf.case_context)."""

from permits.models import PartyRole

# The warning signs of an abnormal transaction the applicant affirms having checked
# (REFERENCE.md, 紅色警戒清單): the bureau's Chinese form, printed as it is in every language.
RED_FLAGS = (
    "客戶對貨品之最終用途或最終使用者資訊閃爍其詞、不願提供或前後不一。",
    "貨品之性能、規格或數量與買方之業務性質或需求不相稱。",
    "客戶願以現金支付高價貨品，或所提付款條件異常優厚。",
    "客戶拒絕一般應有之安裝、訓練或維修等售後服務。",
    "交貨日期、交貨地點或運送方式模糊不清或異常。",
    "以貨運承攬業者（運輸代理）為貨品之最終目的地。",
    "運送路線迂迴或異常，與貨品及目的地不相稱。",
    "客戶對貨品之性能不熟悉，卻堅持購買。",
    "客戶要求之包裝或標示與貨品或運送方式不符。",
    "買方、收貨人或最終使用者名列戰略性高科技貨品出口實體管理名單。",
)
# The assurance's undertakings (REFERENCE.md, the end-use assurance), in the form's English.
UNDERTAKINGS = (
    "The goods will be used only for the end use stated above.",
    "The goods will not be used in the design, development, production, stockpiling or use "
    "of nuclear, chemical or biological weapons or of missiles capable of delivering such "
    "weapons.",
    "The goods will not be re-exported, transferred or diverted to any other end user or "
    "destination without the prior approval of the issuing authority of the Republic of "
    "China (Taiwan).",
)
# Which party a version of the assurance names (SHTC-3: 買方或是收貨人兩種版本).
VERSION_ROLE = {"assurance_buyer": PartyRole.BUYER,
                "assurance_consignee": PartyRole.CONSIGNEE}


def context(application, name):
    """The data the SHTC documents add to case_context() (plain strings and lists); the
    template takes the version's party and the end user from case_context's `parties` by
    their codes."""
    from shtc.procedures import shtc_of

    shtc = shtc_of(application)
    role = VERSION_ROLE.get(name)
    return {
        "end_use": shtc.end_use if shtc else "",
        # SHTC-5: without an assurance the affidavit names the 收件編號 and the end use
        # declared on the application instead.
        "with_assurance": shtc.with_assurance if shtc else True,
        "partial_shipment": shtc.partial_shipment if shtc else True,
        "transit_port": shtc.transit_port if shtc else "",
        "version_role": role.label if role else "",
        "version_code": role.value if role else "",
        "undertakings": UNDERTAKINGS,
        "red_flags": RED_FLAGS,
    }
