"""Settings for the whole portal, read from the environment (portal/env.py lists the variables).

With DEBUG off this module is the production configuration: it refuses to start without a
SECRET_KEY and turns on HTTPS-only cookies, HSTS and the SSL redirect behind a proxy.
"""

import secrets
from datetime import timedelta

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from portal.env import BASE_DIR, VAR_DIR, env, private_storage_setting

DEBUG = env.bool("DEBUG", default=False)


def _secret_key():
    key = env.str("SECRET_KEY", default="")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    # Development only: one random key per checkout, kept in var/ so sessions survive restarts.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "portal.accounts",
    "portal",
    "permits",
    "masks",
    "shtc",
    "reconciliation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",  # django-bootstrap-static: Bootstrap's dist files under static/bootstrap/
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before WhiteNoise, so that static files carry the policies too.
    "portal.headers.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.middleware.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.middleware.IdleTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout signalled by the backend into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # WAL and a busy timeout let runserver and an in-process task share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE",
         "init_command": "PRAGMA journal_mode=WAL;"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Server-side prepared statements for the look-ups by id or key that permits.prepared
    # marks keep_plan (a case, its parts, the stock, a declaration): planning them cost the
    # server more than running them (bench/README.md). Every other query keeps Django's
    # client-side binding and is never prepared. A pooler in transaction mode must hold
    # prepared statements (PgBouncer 1.21+ with max_prepared_statements) or this is turned off.
    if env.bool("DB_PREPARED_STATEMENTS", default=True):
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker and cache ----------------------------------------------------------
# No request needs Redis (issue 9): while it is down the login address throttle counts from
# the database (portal/accounts/throttle.py), the /verify/ limit fails open (permits/verify.py)
# and a task that cannot be queued after commit is logged and left to what resends it
# (portal.tasks.enqueue; the outbox rows to beat's resend). That only helps if a dead Redis
# fails fast: a refused connection fails at once, an unreachable or hung one within the
# timeouts below, instead of Celery's default 20 reconnections a second apart.
REDIS_URL = env.str("REDIS_URL", default="")
REDIS_CACHE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": REDIS_URL, "OPTIONS": REDIS_CACHE_OPTIONS}}
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    # The embedded default: no broker; every task runs in-process when it is queued.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True
# Publishing: two quick retries, then the caller's except clause (portal.tasks.enqueue).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 2}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0,
                                    "interval_step": 0.2, "interval_max": 0.2}
# Nobody reads a task's result but the tests and the deployment's ping (those tasks say
# ignore_result=False): a web process queueing a task does not subscribe to its result, so
# the result store is out of the request path altogether.
CELERY_TASK_IGNORE_RESULT = True
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 1
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "retry_policy": {"max_retries": 2, "interval_start": 0, "interval_step": 0.5,
                     "interval_max": 1}}
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves the message for another one
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "Asia/Taipei"
CELERY_BEAT_SCHEDULE = {
    # The outbox's safety net: mail whose task was lost goes out within a minute or so.
    "resend-unsent-emails": {"task": "permits.tasks.resend_unsent_emails", "schedule": 60.0},
    # 稽催信 (MASK-8): checked daily; each applicant is mailed once per MASK_REMINDER_DAYS.
    "mask-stock-reminders": {"task": "masks.tasks.send_stock_reminders",
                             "schedule": crontab(hour=9, minute=0)},
    # Drafts (暫存) nobody touched for DRAFT_MAX_AGE_DAYS are deleted at night.
    "purge-drafts": {"task": "permits.tasks.purge_drafts",
                     "schedule": crontab(hour=3, minute=30)},
    # The archive copies of issued permits (PDF/A-3b) whose task was lost are stored at night.
    "archive-missing-permit-versions": {"task": "permits.tasks.archive_missing_permit_versions",
                                        "schedule": crontab(hour=3, minute=45)},
    # SHTC-5: exhibition permits whose proof of re-import is outstanding, 30 and 7 days
    # before their validity ends and once after (each reminder once: shtc/reimport.py).
    "shtc-reimport-reminders": {"task": "shtc.tasks.send_reimport_reminders",
                                "schedule": crontab(hour=9, minute=10)},
}
MASK_REMINDER_DAYS = env.int("MASK_REMINDER_DAYS", default=7)
DRAFT_MAX_AGE_DAYS = env.int("DRAFT_MAX_AGE_DAYS", default=30)

# --- E-mail ----------------------------------------------------------------------------------
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="輸出入貨品電子簽證系統 <noreply@eportal.invalid>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = 20

# --- Accounts, login and sessions ------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # must come first: it refuses locked-out logins
    # ModelBackend with the user and its permissions read in one query (issue 10); the one
    # sessions name. ModelBackend after it only for sessions that name it (its docstring).
    "portal.accounts.backends.UserBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
     "OPTIONS": {"user_attributes": ("identifier", "name", "email")}},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24  # one day

# ACC-3: twenty minutes without a request end the session (portal.middleware).
SESSION_IDLE_TIMEOUT = timedelta(minutes=env.int("SESSION_IDLE_MINUTES", default=20))
# The notice with 繼續使用 shows this long before (static/portal/js/idle.js).
SESSION_IDLE_WARNING = timedelta(minutes=2)
SESSION_COOKIE_AGE = 60 * 60 * 12  # an upper bound; the idle rule above is the real limit
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# django-axes: five failed logins lock the account for fifteen minutes. An address has a
# higher limit of its own (portal/accounts/throttle.py): brokers' clerks share one address.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username"]
LOGIN_ADDRESS_FAILURE_LIMIT = 30
LOGIN_ADDRESS_COOLOFF = timedelta(minutes=15)
# axes.W006 asks for 'ip_address' among axes' parameters; addresses are locked by the guard
# above instead, at a limit that does not lock a whole broker's office out.
# models.W040: SQLite (the embedded default) ignores the INCLUDE columns of the case-list
# indexes (permits 0005); they only let PostgreSQL answer from the index alone.
SILENCED_SYSTEM_CHECKS = ["axes.W006", "models.W040"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_PROXY_COUNT = env.int("PROXY_COUNT", default=0)
AXES_VERBOSE = False
AXES_USERNAME_CALLABLE = "portal.accounts.identifiers.axes_username"

# --- Language, time, dates -------------------------------------------------------------------
LANGUAGE_CODE = "zh-hant"
LANGUAGES = [("zh-hant", "繁體中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Taipei"
USE_I18N = True
USE_TZ = True

# --- Uploaded files ---------------------------------------------------------------------------
# Attachments and flow documents live outside every web root and are served only through a
# view that checks who may see the case (permits.attachment_views.attachment_download). They
# go to the storage "private" (STORAGES below, permits/storage.py): this folder, or with
# STORAGE_URL an S3-compatible bucket, which several web nodes share.
PRIVATE_MEDIA_ROOT = env.path("PRIVATE_MEDIA_ROOT", default=VAR_DIR / "private")
STORAGE_URL = env.str("STORAGE_URL", default="")
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024

# --- Static files ----------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
    "private": private_storage_setting(STORAGE_URL),
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# The portal's public address: links in e-mail and the QR code printed on permits.
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- The bureau ------------------------------------------------------------------------------
# ACC-2 and the SHTC manual's FAQ 3.2: users who lost their e-mail call this line.
BUREAU_SERVICE_PHONE = env.str("BUREAU_SERVICE_PHONE", default="02-2397-7384")

# --- Security (production) -------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (portal/headers.py), in the form of Django 6.0's SECURE_CSP. Scripts
# and styles come only from the portal's static files: no template has an inline script,
# event handler or style attribute (tests/test_security_headers.py). data: images are the
# icons Bootstrap's CSS draws (select arrows, check marks, the menu button).
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}
SECURE_CSP_REPORT_ONLY = {}
# Permissions-Policy: the portal uses none of these browser features; no page may, nor a
# frame in it. Only features Chromium knows (an unknown one is a console error).
PERMISSIONS_POLICY = {feature: [] for feature in (
    "accelerometer", "autoplay", "camera", "display-capture", "encrypted-media",
    "geolocation", "gyroscope", "hid", "idle-detection", "magnetometer", "microphone", "midi",
    "payment", "picture-in-picture", "publickey-credentials-get", "screen-wake-lock", "serial",
    "usb", "xr-spatial-tracking")}
if not DEBUG:
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # WeasyPrint narrates each PDF in seven INFO lines ("Step 1 - Fetching and parsing
    # HTML"…): a production log would be mostly that (bench/load.py).
    "loggers": {"axes": {"level": "WARNING"}, "weasyprint": {"level": "WARNING"},
                "fontTools": {"level": "WARNING"}},
}
