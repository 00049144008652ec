"""Which documents an SHTC case must carry before 案件申請 (SHTC-2), decided from its data:
ShtcProcedure.required_documents() asks here, and permits.documents lists them with what is
still missing (the 9-1-2 upload page, the case page, the refusal at 案件申請).

The codes are those of shtc.procedures.DOCUMENT_KINDS, in the manual's order. Not required
ever: the SHTC import certificate of a re-export (進口證明書, "若無則免附": if any), and the
common kinds (supplement, other).
"""

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
    if shtc.assurance_route == AssuranceRoute.WITH_ASSURANCE:
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


def _with_assurance(application, shtc):
    """SHTC-2 items 1 to 7 for a case with an end-use assurance (SHTC-1, SHTC-4)."""
    required = ["assurance", "red_flag_affidavit", "catalogue", "transaction"]
    # Item 5: a URL will do if the end user has an English website.
    if not shtc.end_user_url:
        required.append("end_user_profile")
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
    for every origin of the case at once: one query for the items, one for the countries)."""
    from shtc import rules

    destination = (application.destination_country or "").upper()
    origins = {origin.upper() for origin in
               application.items.order_by().values_list("origin_country", flat=True).distinct()
               if origin} - {DOMESTIC_ORIGIN}
    if not origins:
        return []
    required = ["import_declaration"]
    needing = set(rules.countries_needing_reexport_approval())
    if any(origin in needing and origin != destination for origin in origins):
        required.append("reexport_approval")
    return required
