"""Benchmark-only settings: production settings (the environment decides database, cache and broker)
plus a URLconf with the bare 204 baseline view."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "bench-secret-key-not-for-production-0123456789abcdefghijkl")
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "YmVuY2gtZmllbGQta2V5LTAxMjM0NTY3ODlhYmNkZWY=")
os.environ.setdefault("EMAIL_HASH_KEY", "bench-email-hash-key")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")

from trackrev.settings.base import *  # noqa: F403

ROOT_URLCONF = "tests.benchmarks.urls"
LOGGING["root"]["level"] = "ERROR"  # noqa: F405
