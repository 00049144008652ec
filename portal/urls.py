from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from portal import middleware, views
from portal.accounts import throttle

admin.site.site_header = _("Import/Export Goods E-Licensing System: bureau back office")
admin.site.site_title = _("E-Licensing back office")
admin.site.index_title = _("Review")
admin.site.login = throttle.guard_address(admin.site.login)
# The sidebar repeats the index's list of every app and model on each page: building it was
# a third of what an admin page cost beyond a bare one (issue 10, profiled). A reviewer
# works from the case list; the index and the breadcrumbs lead everywhere else.
admin.site.enable_nav_sidebar = False
# Django's index with the reviewers' own pages above the apps (issue 14: 統計).
admin.site.index_template = "admin/permits/index.html"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("session/idle/", middleware.session_idle, name="session_idle"),  # ACC-3's notice
    path("accounts/", include("portal.accounts.urls")),
    path("", include("permits.urls")),
    path("", include("reconciliation.urls")),
    path("masks/", include("masks.urls")),
    path("shtc/", include("shtc.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
