"""Encrypted model fields: values are Fernet tokens under `settings.FIELD_ENCRYPTION_KEYS` (newest first).

Encryption always uses the newest key; decryption tries every key, so rotation is "prepend a key,
run `encrypted_fields_rotate`, then drop the old key".
"""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "fernet:"


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty")
    return MultiFernet([Fernet(key.encode()) for key in keys])


def fernet() -> MultiFernet:
    # Read at call time, so key rotation (and tests) take effect without a restart of the module.
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt_str(value: str) -> str:
    return PREFIX + fernet().encrypt(value.encode()).decode()


def decrypt_str(token: str) -> str:
    if not token.startswith(PREFIX):
        raise ValueError("value is not an encrypted token")
    try:
        return fernet().decrypt(token[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured("cannot decrypt a field: is its key missing from FIELD_ENCRYPTION_KEYS?") from exc


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; Python sees plaintext. Not searchable, never rendered by forms."""

    def from_db_value(self, value, expression, connection):
        return value if value in (None, "") else decrypt_str(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return value if value in (None, "") else encrypt_str(value)


def encrypted_fields_rotate() -> dict[str, int]:
    """Re-encrypt every encrypted field of every model under the newest key (reading works with any listed
    key); returns how many rows each model had. Found by introspection, so a new secret is never missed."""
    counts: dict[str, int] = {}
    for model in apps.get_models():
        fields = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if not fields:
            continue
        counts[model._meta.label] = 0
        for obj in model._default_manager.order_by("pk").iterator():
            obj.save(update_fields=fields)
            counts[model._meta.label] += 1
    return counts
