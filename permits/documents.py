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
    present = set(application.attachments.values_list("document_kind", flat=True))
    return [(code, labels.get(code, code), code in present) for code in required]


def missing(application):
    """[(code, label)] of the required documents not uploaded yet."""
    return [(code, label) for code, label, uploaded in status(application) if not uploaded]
