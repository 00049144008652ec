from django.urls import path

from masks import entry, views

app_name = "masks"

urlpatterns = [
    # 輸入許可申請 (MASK-1 to MASK-4) and its 餘額重簽 (PERMIT-3): permits.entry pages
    *entry.APPLICATION.urls(),
    path("applications/<int:pk>/issued/", views.application_issued, name="application_issued"),
    # 更正輸入許可 (MASK-10): 帶入原始資料, then permits.entry pages
    path("corrections/", views.CorrectionStartView.as_view(), name="correction_start"),
    *entry.CORRECTION.urls(),
    # 非報單輸入口罩核銷 (MASK-5)
    path("write-offs/", views.write_off_list, name="write_off_list"),
    path("write-offs/new/", views.WriteOffAddView.as_view(), name="write_off_add"),
    path("write-offs/confirm/", views.write_off_confirm, name="write_off_confirm"),
    # 口罩流向登錄作業 (MASK-6, MASK-7)
    path("flows/", views.flow_start, name="flow_start"),
    path("flows/<int:pk>/", views.flow_report, name="flow_report"),
    path("flows/<int:pk>/new/", views.FlowAddView.as_view(), name="flow_add"),
    path("flows/<int:pk>/declare/", views.flow_declare, name="flow_declare"),
    path("flows/<int:pk>/<int:flow_pk>/delete/", views.flow_delete, name="flow_delete"),
    path("flows/documents/<int:pk>/", views.flow_document, name="flow_document"),
    # 口罩流向退貨作業 (MASK-9)
    path("returns/", views.return_start, name="return_start"),
    path("returns/<int:pk>/", views.return_report, name="return_report"),
    path("returns/<int:pk>/<int:flow_pk>/", views.ReturnAddView.as_view(), name="return_add"),
    path("returns/<int:pk>/declare/", views.return_declare, name="return_declare"),
]
