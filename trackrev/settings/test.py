"""Test overrides only. Tasks are not eager: tests call tasks directly and capture on_commit."""

import os

# What the tests see comes from the real environment only, never from a developer's .env (`make run`
# writes one with DEBUG on), here and in the processes the tests start.
os.environ.setdefault("TRACKREV_ENV_FILE", "")
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdefghijkl")
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "dGVzdC1maWVsZC1rZXktMDEyMzQ1Njc4OWFiY2RlZmc=")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("EMAIL_HASH_KEY", "test-email-hash-key")

from trackrev.settings.base import *  # noqa: F403

ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# In-memory broker: `.delay()` in a test queues and nothing runs unless the test starts a worker.
CELERY_EMBEDDED = False
CELERY_BROKER_URL = "memory://"
CELERY_BROKER_TRANSPORT = None
# Celery prefers the CELERY_BROKER_URL environment variable over any setting, so take it out of the
# environment: tests that need the real broker (CI exports Redis there) read TEST_BROKER_URL.
# (Kept in TRACKREV_TEST_BROKER_URL so that xdist workers, started after this ran, see it too.)
TEST_BROKER_URL = os.environ.setdefault("TRACKREV_TEST_BROKER_URL", os.environ.pop("CELERY_BROKER_URL", ""))
CELERY_BROKER_TRANSPORT_OPTIONS = {}
CELERY_WORKER_ENABLE_REMOTE_CONTROL = True
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
STATIC_ROOT = None  # static files come from the finders; no collectstatic in tests
WHITENOISE_USE_FINDERS = True
# The local fakes of the processors' APIs (tests/integrations/fake_polar.py) listen on 127.0.0.1, any port.
PROCESSOR_API_HOSTS = ["127.0.0.1"]

# Threads other than the test's (live server, inbox writer) close their connections after each use
# (the browser fixture closes the one Playwright's loop leaves), so the test database can be dropped.
for alias in DATABASES:  # noqa: F405
    DATABASES[alias]["CONN_MAX_AGE"] = 0  # noqa: F405
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, like the embedded default, not Django's shared-cache in-memory database: that one takes
    # table locks that fail at once (SQLITE_LOCKED) when the live server answers two hits together.
    os.makedirs(BASE_DIR / "var", exist_ok=True)  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / "test.sqlite3")}  # noqa: F405
    for alias in DATABASES:  # noqa: F405
        DATABASES[alias]["OPTIONS"]["init_command"] += "PRAGMA synchronous=OFF;"  # noqa: F405
