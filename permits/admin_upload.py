"""A reference table's "load a file" page in the reviewers' admin, beside its list: UN/LOCODE
ports (shtc.admin), the screening list (shtc.admin_screening) and customs' messages
(reconciliation.admin). One shape for all: the page needs its own permission, the list shows
its button only to those who have it (`may_upload` in the list's template), a refused file
comes back on the form with 400 and its messages, nothing of it loaded, and a loaded one
returns to the list with what `upload_done()` reports."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path


class UploadAdmin:
    """Mixed into a ModelAdmin (before it): set `upload_permission`, `upload_form` (a form
    taking data and files), `upload_template`, `upload_title`, and write `upload_done(request,
    form)`, which loads the valid form's file and reports with message_user(). The page's URL
    name is admin:<app>_<model>_upload."""

    upload_permission = None
    upload_form = None
    upload_template = None
    upload_title = ""

    def may_upload(self, request):
        return request.user.has_perm(self.upload_permission)

    def get_urls(self):
        opts = self.model._meta
        return [
            path("upload/", self.admin_site.admin_view(self.upload_view),
                 name=f"{opts.app_label}_{opts.model_name}_upload"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "may_upload": self.may_upload(request)}
        return super().changelist_view(request, extra_context)

    def upload_done(self, request, form):
        raise NotImplementedError

    def upload_view(self, request):
        if not self.may_upload(request):
            raise PermissionDenied
        status = 200
        if request.method == "POST":
            form = self.upload_form(request.POST, request.FILES)
            if form.is_valid():
                self.upload_done(request, form)
                opts = self.model._meta
                return redirect(f"admin:{opts.app_label}_{opts.model_name}_changelist")
            status = 400
        else:
            form = self.upload_form()
        return TemplateResponse(request, self.upload_template, {
            **self.admin_site.each_context(request), "form": form, "opts": self.model._meta,
            "title": self.upload_title}, status=status)
