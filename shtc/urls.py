from django.urls import path

from shtc import changes, entry, filing_views, iran_entry, iran_filing, port_views, views

app_name = "shtc"

urlpatterns = [
    # 9-1-1 非輸往伊朗北韓-最終用途保證書登錄 (SHTC-1): permits.entry pages
    *entry.APPLICATION.urls(),
    # 9-1-1's 補正, 更正, 單證比對不符修正 (SHTC-8 to SHTC-10): the start page (帶入原始資料),
    # then permits.entry pages
    *changes.urls(),
    # The assurance (buyer / consignee version) and the red-flag affidavit (SHTC-3)
    path("cases/<int:pk>/documents/<slug:document>/", views.case_document,
         name="case_document"),
    # 9-1-2 非輸往伊朗北韓-附件上傳暨戰略性高科技輸出許可申請/取消作業 (SHTC-4, SHTC-12): 查詢,
    # the case's upload page, 登錄最終用途並申請 → 案件申請, 取消申請
    path("filing/", filing_views.filing_query, name="filing_query"),
    path("filing/<int:pk>/", filing_views.filing_case, name="filing_case"),
    path("filing/<int:pk>/apply/", filing_views.filing_apply, name="filing_apply"),
    path("filing/<int:pk>/cancel/", filing_views.filing_cancel, name="filing_cancel"),
    # 9-2-1 輸往伊朗北韓-最終用途保證書登錄作業 (SHTC-6): permits.entry pages; locked once
    # registered (shtc/iran_entry.py)
    *iran_entry.IRAN_ASSURANCE.urls(),
    # 9-2-2 輸往伊朗北韓-戰略性高科技輸出許可申請作業 (SHTC-7): 保證書編號 → 帶入參考資料, then
    # permits.entry pages; its documents on the upload page above (filing_case)
    *iran_filing.IRAN_APPLICATION.urls(),
    # 轉口港代碼 look-up (SHTC-15, manual §2.2 item 4)
    path("ports/", port_views.port_lookup, name="port_lookup"),
]
