from django.urls import path

from masks import views

app_name = "masks"

urlpatterns = [
    # 輸入許可申請 (MASK-1 to MASK-4)
    path("apply/", views.ApplicationBasicView.as_view(), name="application_basic"),
    path("apply/review/", views.application_review, name="application_review"),
    path("apply/items/new/", views.ApplicationItemView.as_view(), name="application_item_add"),
    path("apply/items/<int:line_no>/", views.ApplicationItemView.as_view(),
         name="application_item"),
    path("apply/items/<int:line_no>/delete/", views.application_item_delete,
         name="application_item_delete"),
    path("apply/submit/", views.application_submit, name="application_submit"),
    path("applications/<int:pk>/issued/", views.application_issued, name="application_issued"),
    # 更正輸入許可 (MASK-10)
    path("corrections/", views.CorrectionStartView.as_view(), name="correction_start"),
    path("corrections/basic/", views.CorrectionBasicView.as_view(), name="correction_basic"),
    path("corrections/items/", views.correction_items, name="correction_items"),
    path("corrections/items/<int:line_no>/", views.CorrectionItemView.as_view(),
         name="correction_item"),
    path("corrections/submit/", views.correction_submit, name="correction_submit"),
    # 非報單輸入口罩核銷 (MASK-5)
    path("write-offs/", views.write_off_list, name="write_off_list"),
    path("write-offs/new/", views.WriteOffAddView.as_view(), name="write_off_add"),
    path("write-offs/confirm/", views.write_off_confirm, name="write_off_confirm"),
]
