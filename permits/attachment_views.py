"""Attachment upload and download. Both load the case through visible_to(), so another user's
case or document is simply not found (404)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from permits import attachments
from permits.models import Application, Attachment


@require_POST
@login_required
def attachment_upload(request, pk):
    """上傳文件 (補件, FAQ 3.3): add one document to a case, or say why not."""
    application = get_object_or_404(Application.objects.visible_to(request.user), pk=pk)
    form = attachments.AttachmentForm(request.POST, request.FILES,
                                      document_type=application.document_type)
    if form.is_valid():
        try:
            attachment = attachments.attachment_add(
                application=application, actor=request.user,
                document_kind=form.cleaned_data["document_kind"],
                upload=form.cleaned_data["file"])
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("“%(name)s” was added to the case.")
                             % {"name": attachment.original_name})
    else:
        # The form sits on the case page (permits:application_detail), which the redirect
        # shows again with these messages; a file input cannot be refilled anyway.
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else ""
            for message in errors:
                messages.error(request, f"{label}: {message}" if label else message)
    return redirect("permits:application_detail", pk=application.pk)


@login_required
def attachment_download(request, pk):
    """A document of a case, only for those who may see the case (always a download)."""
    attachment = get_object_or_404(
        Attachment.objects.filter(
            application__in=Application.objects.visible_to(request.user)),
        pk=pk)
    return attachments.download_response(attachment)
