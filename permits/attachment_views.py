"""Attachment upload and download (being written)."""

from django.http import Http404
from django.views.decorators.http import require_POST


@require_POST
def attachment_upload(request, pk):
    raise Http404


def attachment_download(request, pk):
    raise Http404
