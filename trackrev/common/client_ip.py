"""The address a request came from, as the rate limits count it (the pixel's, the logins')."""

from django.conf import settings


def client_ip(request) -> str:
    """The socket address, or the address the trusted proxies saw (TRUSTED_PROXY_COUNT)."""
    hops = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if hops and forwarded:
        chain = [part.strip() for part in forwarded.split(",")]
        return chain[-hops] if len(chain) >= hops else chain[0]
    return request.META.get("REMOTE_ADDR", "")
