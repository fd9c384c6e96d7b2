"""A version of every workspace's configuration (plan, allowed domains, …) for in-process caches of the
layers above, such as the pixel's (attribution/selectors/pixel.py), which cannot be told directly.

A committed change sets a new token in the shared cache and bumps a counter of this process: the
process that made the change sees it at once, the others when they next read the token.
"""

import secrets

from django.core.cache import cache

VERSION_KEY = "workspaces:config-version"
_local_changes = 0


def workspace_config_changed() -> None:
    """Call after the commit of a change to a workspace's configuration."""
    global _local_changes
    _local_changes += 1
    cache.set(VERSION_KEY, secrets.token_hex(8), timeout=None)


def workspace_config_local_version() -> int:
    """Changes made by this process: a module attribute, free to read on every hit."""
    return _local_changes


def workspace_config_shared_version() -> str | None:
    """The token of the latest change made by any process (None before the first one, or once the
    cache lost it): one cache read."""
    return cache.get(VERSION_KEY)
