"""Bot and headless-browser detection for /collect. The crawler list is the maintained
`crawler-user-agents` data set; results are cached per user-agent string (pages repeat them)."""

import re
from functools import lru_cache

import crawleruseragents

# Automation that identifies itself but is not in the crawler list as of the pinned version.
HEADLESS = re.compile(
    r"HeadlessChrome|PhantomJS|SlimerJS|Electron/|Puppeteer|Playwright|Selenium|"
    r"WebDriver|Cypress|jsdom|HtmlUnit|Nightmare|Splash|Lighthouse|Chrome-Lighthouse",
    re.IGNORECASE,
)
UA_MAX = 512


@lru_cache(maxsize=8192)
def _is_bot(user_agent: str) -> bool:
    return HEADLESS.search(user_agent) is not None or crawleruseragents.is_crawler(user_agent)


def is_bot(user_agent: str) -> bool:
    """Crawlers, headless browsers and requests without a user agent are not visitors."""
    if not user_agent or len(user_agent) > UA_MAX:
        return True
    return _is_bot(user_agent)
