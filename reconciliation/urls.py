from django.urls import path

from reconciliation import api, views

app_name = "reconciliation"

urlpatterns = [
    path("matching/", views.query, name="query"),
    # For customs' system (token authentication, JSON): see reconciliation/api.py.
    path("api/customs/messages", api.messages, name="api_messages"),
    path("api/customs/results", api.results, name="api_results"),
    # Their description (OpenAPI 3.1), and the same as a page: public.
    path("api/customs/openapi.json", api.openapi, name="api_openapi"),
    path("api/customs/docs", api.docs, name="api_docs"),
]
