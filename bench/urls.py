"""The portal's URLs plus the page benchmark's baseline (bench/settings.py)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path

from portal.urls import urlpatterns as portal_urlpatterns


@login_required
def bare(request):
    """The baseline the pages are measured against: base.html for the logged-in user
    (header, menu, footer, the idle notice), and nothing of its own."""
    return render(request, "base.html")


urlpatterns = [
    path("bench/bare/", bare, name="bench_bare"),
    *portal_urlpatterns,
]
