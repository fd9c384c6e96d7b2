import secrets
import string

_ALPHABET = string.ascii_lowercase + string.digits


def public_id(prefix: str, length: int = 16) -> str:
    """An unguessable public identifier such as `ws_3k9x…`, safe in URLs and logs."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))
