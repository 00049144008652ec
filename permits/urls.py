from django.urls import path

from permits import attachment_views, autosave, bulk_views, cancel_views, verify, views

app_name = "permits"

urlpatterns = [
    path("cases/", views.dashboard, name="dashboard"),
    # ACC-3: an entry page keeps what is typed on it before an idle logout (idle.js).
    path("cases/autosave/", autosave.autosave, name="autosave"),
    path("cases/<int:pk>/continue/", views.draft_continue, name="draft_continue"),
    path("cases/<int:pk>/", views.application_detail, name="application_detail"),
    path("cases/<int:pk>/resubmit/", views.application_resubmit, name="application_resubmit"),
    # SHTC-17: a draft's goods items as a spreadsheet (匯出 Excel / ODF) and back (匯入), on
    # the review page of an entry with CaseEntry.bulk_items.
    path("cases/<int:pk>/items/export/<slug:fmt>/", bulk_views.items_export,
         name="items_export"),
    path("cases/<int:pk>/items/import/<slug:fmt>/", bulk_views.items_import,
         name="items_import"),
    path("cases/<int:pk>/items/imports/<int:import_pk>/", bulk_views.item_import,
         name="item_import"),
    path("cases/<int:pk>/items/imports/<int:import_pk>/status/",
         bulk_views.item_import_status, name="item_import_status"),
    path("cases/<int:pk>/items/imports/<int:import_pk>/confirm/",
         bulk_views.item_import_confirm, name="item_import_confirm"),
    path("cases/<int:pk>/items/imports/<int:import_pk>/cancel/",
         bulk_views.item_import_cancel, name="item_import_cancel"),
    path("cases/<int:pk>/attachments/", attachment_views.attachment_upload,
         name="attachment_upload"),
    path("attachments/<int:pk>/", attachment_views.attachment_download,
         name="attachment_download"),
    path("query/", views.query, name="query"),
    path("permits/<int:pk>/print/", views.permit_print, name="permit_print"),
    path("verify/", verify.verify, name="verify"),
    path("permits/cancellation/", cancel_views.cancellation, name="cancellation"),
]
