"""Required documents (SHTC-2, SHTC-4): which documents a case must carry before it is filed,
as its procedure decides from the case's data, and which of them are still missing."""

from permits import procedures


def status(application):
    """[(code, label, uploaded)] of the case's required documents, in the procedure's order."""
    procedure = procedures.get(application.document_type)
    required = procedure.required_documents(application)
    if not required:
        return []
    labels = dict(procedure.document_kinds)
    present = _present_kinds(application)
    return [(code, labels.get(code, code), code in present) for code in required]


def _present_kinds(application):
    """The kinds of the case's attachments: from those the page read already (the case
    page's and 9-1-2's, in place as prefetch_related puts them), else one query."""
    if "attachments" in getattr(application, "_prefetched_objects_cache", {}):
        return {attachment.document_kind for attachment in application.attachments.all()}
    return set(application.attachments.values_list("document_kind", flat=True))


def missing(application):
    """[(code, label)] of the required documents not uploaded yet."""
    return [(code, label) for code, label, uploaded in status(application) if not uploaded]
