"""The portal's settings for the test suite: the real ones, with development defaults and
faster password hashing. DATABASE_URL and REDIS_URL still choose the real services."""

import os

os.environ.setdefault("DEBUG", "1")

from portal.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Tests queue tasks in-process unless they start a real worker (tests/services.py). The
# broker is a Redis database of the tests' own, so that no other worker on the machine takes
# their tasks.
if REDIS_URL:  # noqa: F405
    from tests.services import test_redis_url

    CELERY_BROKER_URL = CELERY_RESULT_BACKEND = test_redis_url()
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

# Per-process state only; tests that need Redis talk to it themselves.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Close the database connection at the end of every request: the live server's request
# threads must not keep connections open when the test database is dropped.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405

# The framework's own test procedure (tests/testproc): a thin package over permits/.
INSTALLED_APPS = [*INSTALLED_APPS, "tests.testproc"]  # noqa: F405
ROOT_URLCONF = "tests.urls"
