"""The environment variables the portal reads: one list, used by the settings, the README
and the docker-compose check (tests/test_deployment.py)."""

from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

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
    "DB_PREPARED_STATEMENTS": (False, "1 (the default): PostgreSQL keeps the plans of the "
                                      "look-ups by id (permits.prepared keep_plan); 0 behind "
                                      "a pooler that cannot hold them (PgBouncer before 1.21)"),
    "LOG_LEVEL": (False, "root log level (default INFO)"),
    "MASK_REMINDER_DAYS": (False, "days between two mask stock reminders (稽催信) to an "
                                  "applicant (default 7)"),
    "DRAFT_MAX_AGE_DAYS": (False, "days an untouched draft (暫存) is kept before the nightly "
                                  "purge (default 30)"),
    "PRIVATE_MEDIA_ROOT": (False, "where attachments are stored (default var/private/)"),
    "STORAGE_URL": (False, "s3://bucket[/prefix]?endpoint_url=https://…&region_name=…: "
                           "attachments in an S3-compatible bucket shared by every web node; "
                           "unset: the local folder PRIVATE_MEDIA_ROOT"),
    "AWS_ACCESS_KEY_ID": (False, "the bucket's access key, with STORAGE_URL (unset: boto3's "
                                 "own chain, e.g. an instance role)"),
    "AWS_SECRET_ACCESS_KEY": (False, "the secret of AWS_ACCESS_KEY_ID"),
    "PORTAL_BASE_URL": (True, "the portal's public address, e.g. https://eportal.example.gov.tw "
                              "(links in e-mail, the QR code on permits)"),
}


def production_variables():
    return sorted(name for name, (needed, _doc) in VARIABLES.items() if needed)


# What the query string of an s3:// STORAGE_URL may set (django-storages' S3Storage options).
STORAGE_URL_OPTIONS = frozenset({"endpoint_url", "region_name", "addressing_style",
                                 "signature_version", "default_acl"})
# The canned ACLs that give no one but the bucket's owner access; "bucket-owner-full-control"
# is the one a bucket with ACLs disabled (AWS's "bucket owner enforced") accepts.
PRIVATE_ACLS = frozenset({"private", "bucket-owner-full-control"})


def private_storage_setting(url):
    """settings.STORAGES["private"] for STORAGE_URL: the local folder PRIVATE_MEDIA_ROOT when
    it is empty; for s3://bucket[/prefix][?endpoint_url=…&region_name=…&addressing_style=path]
    that bucket, under that prefix. The keys come from AWS_ACCESS_KEY_ID and
    AWS_SECRET_ACCESS_KEY (or boto3's other sources), never from the URL, which is printed in
    logs and error pages more readily than a variable named SECRET."""
    if not url:
        return {"BACKEND": "permits.storage.PrivateStorage"}
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ImproperlyConfigured("STORAGE_URL must look like s3://bucket/prefix?endpoint_url=…")
    if "@" in parts.netloc:
        raise ImproperlyConfigured("STORAGE_URL carries no keys: put them in "
                                   "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    if ":" in parts.netloc:
        raise ImproperlyConfigured("STORAGE_URL names a bucket, not a server: put the server "
                                   "in ?endpoint_url=https://host:port")
    query = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    options = dict(query)
    unknown = sorted(set(options) - STORAGE_URL_OPTIONS) or (
        ["a repeated option"] if len(options) != len(query) else [])
    if unknown:
        raise ImproperlyConfigured(f"STORAGE_URL: unknown {', '.join(unknown)}; it may set "
                                   f"{', '.join(sorted(STORAGE_URL_OPTIONS))}")
    if options.get("default_acl", "private") not in PRIVATE_ACLS:
        raise ImproperlyConfigured(f"STORAGE_URL: default_acl may be "
                                   f"{' or '.join(sorted(PRIVATE_ACLS))}, nothing public")
    options.update(bucket_name=parts.netloc, location=parts.path.strip("/"))
    return {"BACKEND": "permits.storage_s3.PrivateS3Storage", "OPTIONS": options}
