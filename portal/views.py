from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from portal import menu


@login_required
def home(request):
    """The menu of procedures (named as in the manuals) after login."""
    return render(request, "portal/home.html", {"sections": menu.sections_for(request.user),
                                                "panels": menu.panels_for(request)})


@never_cache
def healthz(request):
    """For the load balancer and docker-compose: the web process answers and the database too."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
