"""Default site lists, brand names and aliases, precompiled at import.

Site lists hold *brand tokens* (the registrable domain's first label, such as `facebook` for
`m.facebook.com`) and full hosts; a source matches when any of its tokens is in the set. Curated
from the categories GA4 uses (search, social, video, shopping) for the sources SaaS sites see.
"""

import re

SEARCH = frozenset(
    [
        "google",
        "bing",
        "yahoo",
        "duckduckgo",
        "baidu",
        "yandex",
        "ecosia",
        "qwant",
        "naver",
        "seznam",
        "sogou",
        "so.com",
        "aol",
        "ask",
        "search.brave.com",
        "kagi",
        "startpage",
        "msn",
        "lens.google.com",
        "news.google.com",
        "daum",
        "rambler",
        "onet",
    ]
)
SOCIAL = frozenset(
    [
        "facebook",
        "fb",
        "fb.me",
        "instagram",
        "ig",
        "messenger",
        "linkedin",
        "lnkd",
        "twitter",
        "t.co",
        "x.com",
        "tiktok",
        "reddit",
        "pinterest",
        "tumblr",
        "quora",
        "medium.com",
        "snapchat",
        "whatsapp",
        "telegram",
        "t.me",
        "discord",
        "slack",
        "mastodon.social",
        "bsky.app",
        "threads.net",
        "vk.com",
        "weibo",
        "line.me",
        "news.ycombinator.com",
        "hackernews",
        "producthunt",
        "indiehackers.com",
        "dev.to",
        "hashnode",
        "stackoverflow",
        "stackexchange",
        "github",
        "flipboard",
        "substack.com",
    ]
)
VIDEO = frozenset(
    ["youtube", "youtu", "yt", "vimeo", "twitch", "dailymotion", "wistia", "loom", "netflix", "hulu", "ted.com"]
)
SHOPPING = frozenset(
    ["amazon", "ebay", "etsy", "shopify", "alibaba", "walmart", "mercadolibre", "igshopping", "google-shopping"]
)
# Chat assistants (TrackRev addition, evaluated before the GA4 table).
AI_ASSISTANTS = frozenset(
    [
        "chatgpt",
        "openai",
        "chat.openai.com",
        "claude",
        "anthropic",
        "perplexity",
        "gemini",
        "gemini.google.com",
        "bard",
        "copilot",
        "copilot.microsoft.com",
        "deepseek",
        "grok",
        "phind",
        "you.com",
        "mistral",
        "chat.mistral.ai",
        "poe",
        "kimi",
    ]
)
# Payment pages: a visitor returning from checkout is not a new touch (host and its subdomains).
CHECKOUT_HOSTS = (
    "checkout.stripe.com",
    "stripe.com",
    "buy.paddle.com",
    "paddle.com",
    "lemonsqueezy.com",
    "polar.sh",
    "paypal.com",
    "checkout.shopify.com",
    "gumroad.com",
    "onfastspring.com",
    "fastspring.com",
    "chargebee.com",
    "2checkout.com",
    "pay.google.com",
    "braintreegateway.com",
    "mollie.com",
)

# Display names: host (or a parent host) first, then brand token, then alias of a utm_source.
HOST_NAMES = {
    "chat.openai.com": "ChatGPT",
    "gemini.google.com": "Gemini",
    "bard.google.com": "Gemini",
    "news.google.com": "Google News",
    "mail.google.com": "Gmail",
    "news.ycombinator.com": "Hacker News",
    "copilot.microsoft.com": "Copilot",
    "search.brave.com": "Brave Search",
    "t.co": "X",
    "x.com": "X",
    "lnkd.in": "LinkedIn",
    "fb.me": "Facebook",
    "fb.com": "Facebook",
    "youtu.be": "YouTube",
    "chat.mistral.ai": "Mistral",
    "t.me": "Telegram",
    "bsky.app": "Bluesky",
    "dev.to": "DEV",
}
BRAND_NAMES = {
    "facebook": "Facebook",
    "fb": "Facebook",
    "instagram": "Instagram",
    "ig": "Instagram",
    "youtube": "YouTube",
    "yt": "YouTube",
    "google": "Google",
    "bing": "Bing",
    "yahoo": "Yahoo",
    "duckduckgo": "DuckDuckGo",
    "ecosia": "Ecosia",
    "baidu": "Baidu",
    "yandex": "Yandex",
    "chatgpt": "ChatGPT",
    "openai": "ChatGPT",
    "claude": "Claude",
    "perplexity": "Perplexity",
    "gemini": "Gemini",
    "copilot": "Copilot",
    "deepseek": "DeepSeek",
    "grok": "Grok",
    "phind": "Phind",
    "linkedin": "LinkedIn",
    "twitter": "X",
    "tiktok": "TikTok",
    "reddit": "Reddit",
    "pinterest": "Pinterest",
    "producthunt": "Product Hunt",
    "hackernews": "Hacker News",
    "hn": "Hacker News",
    "github": "GitHub",
    "newsletter": "Newsletter",
    "vimeo": "Vimeo",
    "twitch": "Twitch",
    "medium": "Medium",
    "substack": "Substack",
    "quora": "Quora",
    "stackoverflow": "Stack Overflow",
    "threads": "Threads",
    "bsky": "Bluesky",
    "mastodon": "Mastodon",
    "discord": "Discord",
    "slack": "Slack",
    "whatsapp": "WhatsApp",
    "telegram": "Telegram",
    "snapchat": "Snapchat",
    "amazon": "Amazon",
}

# Second-level public suffixes common enough to matter for "registrable domain".
TWO_LEVEL_SUFFIXES = frozenset(
    [
        "co.uk",
        "org.uk",
        "ac.uk",
        "gov.uk",
        "com.au",
        "net.au",
        "org.au",
        "co.nz",
        "co.jp",
        "ne.jp",
        "or.jp",
        "co.kr",
        "co.in",
        "com.br",
        "com.mx",
        "com.ar",
        "com.tr",
        "com.cn",
        "com.hk",
        "com.sg",
        "com.tw",
        "co.za",
        "co.il",
        "com.ua",
        "com.pl",
    ]
)

EMAIL_WORDS = frozenset({"email", "e-mail", "e_mail", "e mail"})
SOCIAL_MEDIUMS = frozenset({"social", "social-network", "social-media", "sm", "social network", "social media"})
REFERRAL_MEDIUMS = frozenset({"referral", "app", "link"})
DISPLAY_MEDIUMS = frozenset({"display", "banner", "expandable", "interstitial", "cpm"})
PAID_MEDIUM = re.compile(r"^(.*cp.*|ppc|retargeting|paid.*)$")
SHOP_CAMPAIGN = re.compile(r"^(.*(([^a-df-z]|^)shop|shopping).*)$")

# Click ids: (source token when no utm_source, group, needs a paid medium to count as paid).
CLICK_IDS = {
    "gclid": ("google", "Paid Search", False),
    "gbraid": ("google", "Paid Search", False),
    "wbraid": ("google", "Paid Search", False),
    "msclkid": ("bing", "Paid Search", False),
    "fbclid": ("facebook", "Paid Social", True),  # Meta adds fbclid to organic links too
    "ttclid": ("tiktok", "Paid Social", False),
    "li_fat_id": ("linkedin", "Paid Social", False),
    "twclid": ("twitter", "Paid Social", False),
}

GROUPS = (
    "Direct",
    "Cross-network",
    "Paid Shopping",
    "Paid Search",
    "Paid Social",
    "Paid Video",
    "Display",
    "Paid Other",
    "Organic Shopping",
    "Organic Social",
    "Organic Video",
    "Organic Search",
    "Referral",
    "Email",
    "Affiliates",
    "Audio",
    "SMS",
    "Mobile Push Notifications",
    "AI Assistants",
    "Unassigned",
)
