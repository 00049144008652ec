"""暫存資料 (PERMIT-6, FAQ 3.6) for the procedures' form pages.

"下一步" on the basic data and "確認" on a goods item save the user's last case of the
document type; "匯入暫存資料" brings it back into the form; "復原" resets the form to its
initial values. A form view mixes in DraftFormMixin and names its document type; the
buttons come from templates/permits/includes/draft_buttons.html.
"""

from django.contrib import messages
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.translation import gettext as _

from permits import services

IMPORT_DRAFT = "import_draft"
RESET = "reset"


def _jsonable(data):
    import json

    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


class DraftFormMixin:
    """For a FormView: handles the two draft buttons, and saves the draft after a valid
    "下一步"/"確認" (call save_draft from form_valid)."""

    draft_document_type = None

    def post(self, request, *args, **kwargs):
        action = request.POST.get("draft_action")
        if action == IMPORT_DRAFT:
            data = services.draft_load(user=request.user,
                                       document_type=self.draft_document_type)
            if data is None:
                messages.info(request, _("There is no saved draft of this document type."))
                data = self.get_initial()
            else:
                messages.success(request, _("The saved draft was brought back."))
            return self.render_to_response(self.get_context_data(
                form=self.get_form_class()(initial=data, **self.get_draft_form_kwargs())))
        if action == RESET:
            return self.render_to_response(self.get_context_data(
                form=self.get_form_class()(initial=self.get_initial(),
                                           **self.get_draft_form_kwargs())))
        return super().post(request, *args, **kwargs)

    def get_draft_form_kwargs(self):
        kwargs = self.get_form_kwargs()
        for key in ("data", "files", "initial"):
            kwargs.pop(key, None)
        return kwargs

    def save_draft(self, form):
        services.draft_save(user=self.request.user, document_type=self.draft_document_type,
                            data=_jsonable(form.cleaned_data))
