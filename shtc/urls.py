from django.urls import path

from shtc import entry, port_views, views

app_name = "shtc"

urlpatterns = [
    # 9-1-1 非輸往伊朗北韓-最終用途保證書登錄 (SHTC-1): permits.entry pages
    *entry.APPLICATION.urls(),
    # The assurance (buyer / consignee version) and the red-flag affidavit (SHTC-3)
    path("cases/<int:pk>/documents/<slug:document>/", views.case_document,
         name="case_document"),
    # 轉口港代碼 look-up (SHTC-15, manual §2.2 item 4)
    path("ports/", port_views.port_lookup, name="port_lookup"),
]
