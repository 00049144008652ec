from django.urls import path

from permits import attachment_views, autosave, cancel_views, verify, views

app_name = "permits"

urlpatterns = [
    path("cases/", views.dashboard, name="dashboard"),
    # ACC-3: an entry page keeps what is typed on it before an idle logout (idle.js).
    path("cases/autosave/", autosave.autosave, name="autosave"),
    path("cases/<int:pk>/continue/", views.draft_continue, name="draft_continue"),
    path("cases/<int:pk>/", views.application_detail, name="application_detail"),
    path("cases/<int:pk>/resubmit/", views.application_resubmit, name="application_resubmit"),
    path("cases/<int:pk>/attachments/", attachment_views.attachment_upload,
         name="attachment_upload"),
    path("attachments/<int:pk>/", attachment_views.attachment_download,
         name="attachment_download"),
    path("query/", views.query, name="query"),
    path("permits/<int:pk>/print/", views.permit_print, name="permit_print"),
    path("verify/", verify.verify, name="verify"),
    path("permits/cancellation/", cancel_views.cancellation, name="cancellation"),
]
