"""The portal's URLs and, for the framework's tests, the test procedure's (tests.testproc)."""

from django.urls import include, path

from portal.urls import urlpatterns as portal_urlpatterns

urlpatterns = [
    *portal_urlpatterns,
    path("testproc/", include("tests.testproc.urls")),
]
