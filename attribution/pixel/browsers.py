"""The browser family of a hit, from its user agent, for the visitor counts per family (Integrations
page): Safari and every iOS browser (all WebKit, all under Intelligent Tracking Prevention's cookie
caps), Chrome, Firefox, Edge, other. A cheap regex, cached per user-agent string as the bot check is."""

import re
from functools import lru_cache

from attribution.models import BrowserFamily

# Order matters: iOS browsers name themselves (CriOS, FxiOS, EdgiOS) and Edge and Chromium-based ones
# carry "Chrome/", Chrome carries "Safari/".
_FAMILIES = (
    (re.compile(r"iPhone|iPad|iPod"), BrowserFamily.SAFARI),
    (re.compile(r"Edg(?:e|A|iOS)?/"), BrowserFamily.EDGE),
    (re.compile(r"Firefox/"), BrowserFamily.FIREFOX),
    (re.compile(r"Chrome/|Chromium/"), BrowserFamily.CHROME),
    (re.compile(r"Version/[\d.]+.*Safari/"), BrowserFamily.SAFARI),
)


@lru_cache(maxsize=8192)
def browser_family(user_agent: str) -> str:
    for pattern, family in _FAMILIES:
        if pattern.search(user_agent):
            return family
    return BrowserFamily.OTHER
