"""Which documents an SHTC case must carry before 案件申請 (SHTC-2), decided from its data:
ShtcProcedure.required_documents() asks here, and permits.documents lists them with what is
still missing (the 9-1-2 upload page, the case page, the refusal at 案件申請).

The codes are those of shtc.procedures.DOCUMENT_KINDS, in the manual's order. Not required
ever: the SHTC import certificate of a re-export (進口證明書, "若無則免附": if any), and the
common kinds (supplement, other). A 9-2-2 application (Iran, North Korea: SHTC-7) carries
items 1 to 5 only, uploaded after its 申請.
"""

from permits.models import Kind
from shtc.models import AssuranceRoute

# Goods of Taiwanese origin are exports; any other origin makes the item a re-export
# (SHTC-2 item 7).
DOMESTIC_ORIGIN = "TW"


def required_documents(application):
    """The document kinds `application` requires, by its route (with an end-use assurance,
    or without one under Article 18(1): SHTC-5). A case without SHTC data (made outside
    9-1-1, as the framework's own tests make them) requires none."""
    from shtc.procedures import shtc_of

    shtc = shtc_of(application)
    if shtc is None:
        return []
    if shtc.assurance_id is not None:
        # 9-2-2 (SHTC-7, manual §1.1.2 步驟5): items 1 to 5, nothing else.
        return _assurance_documents(shtc)
    if shtc.assurance_route == AssuranceRoute.WITH_ASSURANCE:
        if application.kind in PERMIT_CHANGES and application.changes_id:
            # 更正, 單證比對不符修正 (SHTC-9, SHTC-10): what the change affects.
            return _change_documents(application)
        return _with_assurance(application, shtc)
    return route_documents(shtc.assurance_route)


# SHTC-5, without an end-use assurance (manual §1.1.1.2.2 步驟4): the red-flag affidavit
# (步驟6) and the reason's own documents. The proof of re-import comes after approval.
ROUTE_DOCUMENTS = {
    AssuranceRoute.EXHIBITION: ["red_flag_affidavit", "catalogue", "exhibition_participation",
                                "exhibition_brief", "booth_plan"],
    AssuranceRoute.SPECIAL_APPROVAL: ["red_flag_affidavit", "special_approval"],
}


def route_documents(route):
    """The documents of a case without an end-use assurance for `route` (SHTC-5)."""
    return list(ROUTE_DOCUMENTS.get(route, ()))


def _assurance_documents(shtc):
    """SHTC-2 items 1 to 5: the signed assurance, the red-flag affidavit, the catalogue, the
    transaction documents and the end user's profile."""
    required = ["assurance", "red_flag_affidavit", "catalogue", "transaction"]
    # Item 5: a URL will do if the end user has an English website.
    if not shtc.end_user_url:
        required.append("end_user_profile")
    return required


def _with_assurance(application, shtc):
    """SHTC-2 items 1 to 7 for a case with an end-use assurance (SHTC-1, SHTC-4)."""
    required = _assurance_documents(shtc)
    required.extend(_destination_documents(application))
    required.extend(_reexport_documents(application))
    return required


def _destination_documents(application):
    """Item 6: the business licence copy, only for mainland China and the UAE."""
    from shtc import rules

    destination = (application.destination_country or "").upper()
    return ["business_licence"] if destination in rules.BUSINESS_LICENCE_COUNTRIES else []


def _reexport_documents(application):
    """Item 7, for re-exports only (an item of foreign origin): the import declaration copy,
    and the original exporting government's re-export approval when the origin is one of the
    ten countries, unless the goods go back to it (rules.reexport_needs_approval, read here
    for every origin of the case at once). The items as the page reads them: no query where
    it has them (the case page's, the admin's inlines), else one."""
    from permits.item_pages import item_origins
    from shtc import rules

    destination = (application.destination_country or "").upper()
    # Each origin once, not the case's items (10,000 a case: issue 13).
    origins = {origin.upper() for origin in item_origins(application) if origin} \
        - {DOMESTIC_ORIGIN}
    if not origins:
        return []
    required = ["import_declaration"]
    needing = set(rules.countries_needing_reexport_approval())
    if any(origin in needing and origin != destination for origin in origins):
        required.append("reexport_approval")
    return required


# --- 更正 and 單證比對不符修正 (SHTC-9, SHTC-10): is the end-use assurance signed again? -------

# The changes of an issued permit: they carry what the change affects, not SHTC-2 again. A
# 補正 (SHTC-8) carries every document again, as the case it amends did (the manual §1.2:
# 修正後之最終用途保證書 … 連同修正後之其他檢附文件再次上傳).
PERMIT_CHANGES = (Kind.CORRECTION, Kind.MISMATCH_CORRECTION)
# What the end-use assurance says (templates/pdf/shtc/assurance.html, SHTC-3): the exporter
# and the destination, 分批 and the transit port, the buyer, consignee and end user, each
# item's goods, export control number, quantity and unit, and the end use. Prices are not on
# it (they are the transaction documents').
ASSURANCE_CASE_FIELDS = ("applicant_identifier", "applicant_name", "applicant_name_en",
                         "applicant_address", "destination_country")
ASSURANCE_SHTC_FIELDS = ("partial_shipment", "transit_port")
ASSURANCE_PARTY_FIELDS = ("role", "name", "address", "country", "name_zh")
ASSURANCE_ITEM_FIELDS = ("description", "brand", "model", "specification", "control_no",
                         "quantity", "unit")


def _assurance_data(application):
    """What the end-use assurance of `application` prints, as comparable plain data."""
    from shtc.procedures import shtc_of

    shtc = shtc_of(application)
    return {
        "exporter": [getattr(application, name) for name in ASSURANCE_CASE_FIELDS],
        "shipment": [getattr(shtc, name) for name in ASSURANCE_SHTC_FIELDS] if shtc else [],
        # The parties and items as the page reads them (the case page's, the admin's
        # tables: no query of their own), else one query each.
        "parties": sorted(tuple(getattr(party, name) for name in ASSURANCE_PARTY_FIELDS)
                          for party in application.parties.all()),
        "items": [tuple(getattr(item, name) for name in ASSURANCE_ITEM_FIELDS)
                  for item in sorted(application.items.all(), key=lambda item: item.line_no)],
        "end_use": shtc.end_use.strip() if shtc else "",
    }


def assurance_changes(application, original):
    """What the change `application` changes of what the end-use assurance of `original`
    (the case of the permit version it changes) says: the parts that differ ("exporter",
    "shipment", "parties", "items", "end_use"), in that order; empty when the assurance the
    end user signed still says what the change says (SHTC-9, the manual §1.3: 如修改之內容將
    影響最終用途保證書上所登載事項). Quantities compare as numbers (10 is 10.0000)."""
    changed, signed = _assurance_data(application), _assurance_data(original)
    return [part for part in changed if changed[part] != signed[part]]


def new_assurance_needed(application):
    """Whether the case must carry an end-use assurance newly signed by the end user before
    案件申請: a 更正 or 單證比對不符修正 only when it changes what the assurance of the version
    it changes says (assurance_changes); any other case with an assurance (a 新申請, a 補正:
    SHTC-8, a 餘額重簽) always; a case without one (SHTC-5) never."""
    from shtc.procedures import shtc_of

    shtc = shtc_of(application)
    if shtc is None or not shtc.with_assurance:
        return False
    if application.kind in PERMIT_CHANGES and application.changes_id:
        return bool(assurance_changes(application, application.changes.application))
    return True


def _change_documents(application):
    """A 更正 or 單證比對不符修正 (SHTC-9, SHTC-10): the assurance signed again when the change
    touches what it says, and the documents the changed data newly require beside those of
    the original (SHTC-2 item 6, a destination needing the business licence; item 7, an item
    now a re-export). The original's other documents stand."""
    original = application.changes.application
    # Its items are read twice (the assurance, the re-exports): once, with its parties, by
    # the case page's queries compiled once per process (permits.views.with_parts).
    from permits.views import with_parts

    read = getattr(original, "_prefetched_objects_cache", {})
    with_parts(original, tuple(name for name in ("items", "parties") if name not in read))
    required = ["assurance"] if assurance_changes(application, original) else []

    def affected(case):
        return [*_destination_documents(case), *_reexport_documents(case)]

    before = set(affected(original))
    required.extend(code for code in affected(application) if code not in before)
    return required
