import pytest
from django.core.cache import cache

from attribution.selectors.pixel import pixel_site_forget


@pytest.fixture(autouse=True)
def _fresh_pixel_state():
    """The pixel caches workspaces in the process and counts in the cache: start every test clean."""
    pixel_site_forget()
    cache.clear()
    yield
    pixel_site_forget()
    cache.clear()
