"""Keyed hashes of customer emails: matching works across the pixel and processors, while a database
leak reveals no address (an unkeyed hash of an email is trivially reversed by dictionary)."""

import hashlib
import hmac

from django.conf import settings


def email_normalize(email: str) -> str:
    return email.strip().lower()


def email_digest(email: str) -> str:
    """HMAC-SHA256 of the normalised email under EMAIL_HASH_KEY, hex. Empty input → empty string."""
    normalized = email_normalize(email)
    if not normalized:
        return ""
    return hmac.new(settings.EMAIL_HASH_KEY.encode(), normalized.encode(), hashlib.sha256).hexdigest()


def email_domain(email: str) -> str:
    """The normalised email's domain ("" without one): shown nowhere, compared for self-referrals."""
    _, at, domain = email_normalize(email).rpartition("@")
    return domain if at else ""
