"""The public permit verification page (being written)."""

from django.http import HttpResponse


def verify(request):
    return HttpResponse("")
