"""A URL configuration with the admin somewhere else (tests/permits/test_admin_keyed_urls.py:
a request's own urlconf, as a middleware may set one)."""

from django.contrib import admin
from django.urls import path

urlpatterns = [path("elsewhere/", admin.site.urls)]
