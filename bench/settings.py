"""Settings of the page benchmark (bench/pages.py): the tests' settings, DATABASE_URL still
choosing the database, but as production runs: DEBUG off (cached templates, no debug
cursor), persistent database connections, and a URLconf with the bare baseline page."""

import os
import secrets

# Production settings refuse to start without a key; a fresh one per run (sessions of a
# bench run live only as long as it does).
os.environ["DEBUG"] = "0"
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))

from tests.settings import *  # noqa: E402,F403

ROOT_URLCONF = "bench.urls"
ALLOWED_HOSTS = ["testserver"]  # django.test.Client's host
# The tests close the connection after every request (their live server); production keeps
# it (CONN_MAX_AGE, default 60 s), which is what a page costs there.
DATABASES["default"]["CONN_MAX_AGE"] = 60  # noqa: F405
# Production's CompressedManifestStaticFilesStorage needs collectstatic's manifest; the
# plain storage costs the same per {% static %} (a join, no file access) without it.
STORAGES = {**STORAGES, "staticfiles": {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
