"""Keyed hashes of customer emails: matching works across the pixel and processors, while a database
leak reveals no address (an unkeyed hash of an email is trivially reversed by dictionary)."""

import hashlib
import hmac

from django.conf import settings


def email_normalize(email: str) -> str:
    return email.strip().lower()


def keyed_digest(value: str) -> str:
    """HMAC-SHA256 of `value` under EMAIL_HASH_KEY, hex: what stands in for personal data we must match
    but never store (an email, a client IP)."""
    return hmac.new(settings.EMAIL_HASH_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


def email_digest(email: str) -> str:
    """The keyed digest of the normalised email. Empty input → empty string."""
    normalized = email_normalize(email)
    return keyed_digest(normalized) if normalized else ""


def email_domain(email: str) -> str:
    """The normalised email's domain ("" without one): shown nowhere, compared for self-referrals."""
    _, at, domain = email_normalize(email).rpartition("@")
    return domain if at else ""
