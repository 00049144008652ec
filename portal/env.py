"""The environment variables the portal reads: one list, used by the settings, the README
and the docker-compose check (tests/test_deployment.py)."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

# name -> (needed in production, what it is)
VARIABLES = {
    "DEBUG": (True, "1 for development; 0 (the default) turns on the production settings"),
    "SECRET_KEY": (True, "Django's signing key; required when DEBUG is off"),
    "ALLOWED_HOSTS": (True, "comma-separated host names the portal answers to"),
    "DATABASE_URL": (True, "postgres://user:pass@host:5432/name; default: SQLite in var/"),
    "REDIS_URL": (
        True, "redis://host:6379/0, Celery broker and cache; absent: tasks run in-process"
    ),
    "EMAIL_URL": (True, "smtp://user:pass@host:25 (or smtp+tls://); default: files in var/mail/"),
    "DEFAULT_FROM_EMAIL": (True, "sender of the portal's e-mail"),
    "CSRF_TRUSTED_ORIGINS": (False, "comma-separated https:// origins when behind a proxy"),
    "SESSION_IDLE_MINUTES": (False, "minutes without a request before logout (default 20, ACC-3)"),
    "BUREAU_SERVICE_PHONE": (False, "the bureau's service line shown on the help pages"),
    "SECURE_SSL_REDIRECT": (False, "0 when the proxy already redirects http to https"),
    "PROXY_COUNT": (False, "reverse proxies in front of the portal (client address for lockouts)"),
    "CONN_MAX_AGE": (False, "seconds a PostgreSQL connection is kept (default 60)"),
    "LOG_LEVEL": (False, "root log level (default INFO)"),
    "MASK_REMINDER_DAYS": (False, "days between two mask stock reminders (稽催信) to an "
                                  "applicant (default 7)"),
    "DRAFT_MAX_AGE_DAYS": (False, "days an untouched draft (暫存) is kept before the nightly "
                                  "purge (default 30)"),
    "PRIVATE_MEDIA_ROOT": (False, "where attachments are stored (default var/private/)"),
    "PORTAL_BASE_URL": (True, "the portal's public address, e.g. https://eportal.example.gov.tw "
                              "(links in e-mail, the QR code on permits)"),
}


def production_variables():
    return sorted(name for name, (needed, _doc) in VARIABLES.items() if needed)
