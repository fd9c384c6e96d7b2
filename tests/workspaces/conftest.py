import pytest
from django.core.cache import cache

from attribution.selectors.pixel import pixel_site_forget


@pytest.fixture(autouse=True)
def _fresh_usage_state():
    """Usage is counted in the cache and the pixel caches workspaces in the process: start clean."""
    pixel_site_forget()
    cache.clear()
    yield
    pixel_site_forget()
    cache.clear()
