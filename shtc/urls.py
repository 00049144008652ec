from django.urls import path

from shtc import port_views

app_name = "shtc"

urlpatterns = [
    # 轉口港代碼 look-up (SHTC-15, manual §2.2 item 4)
    path("ports/", port_views.port_lookup, name="port_lookup"),
]
