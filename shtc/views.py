"""The SHTC pages of the portal beyond the entry flows (shtc/entry.py) and the port look-up
(shtc/port_views.py)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404

from permits import pdf
from permits.models import Application, DocumentType
from shtc.procedures import DOCUMENTS, documents_of


@login_required
def case_document(request, pk, document):
    """SHTC-3: the end-use assurance (buyer or consignee version, in English) or the red-flag
    affidavit (in Chinese) of a registered case, as a PDF to print and sign. Loaded through
    visible_to(): another user's case is not found."""
    if document not in DOCUMENTS:
        raise Http404
    application = get_object_or_404(
        Application.objects.visible_to(request.user).filter(
            document_type=DocumentType.SHTC_EXPORT), pk=pk)
    # Not offered yet, or not for this case: a case without an end-use assurance (SHTC-5)
    # has the affidavit only.
    if document not in documents_of(application):
        raise Http404
    name, language, _role = DOCUMENTS[document]
    content = pdf.render_case_document(application, name, language=language)
    response = HttpResponse(content, content_type="application/pdf")
    filename = f"{application.registration_no or application.number}-{document}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
