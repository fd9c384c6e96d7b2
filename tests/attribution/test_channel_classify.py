"""The channel reference (shared/reference/channels.md), table-tested rule by rule."""

import pytest

from attribution.channels import Landing, classify, compile_rules
from attribution.channels.classify import ga4_group

SITE = "https://shop.example.com/"


def labels(query: str = "", referrer: str = "", *, session_start: bool = False, **kwargs):
    url = SITE + ("?" + query if query else "")
    result = classify(Landing.from_url(url, referrer=referrer, session_start=session_start), **kwargs)
    return None if result is None else (result.channel, result.channel_group)


# GA4 default channel groups, one row per rule of the table, in its order.
@pytest.mark.parametrize(
    ("query", "referrer", "expected"),
    [
        # 1 Direct
        ("", "", ("Direct", "Direct")),
        # 2 Cross-network
        ("utm_source=google&utm_medium=cpc&utm_campaign=PMax-cross-network", "", ("Google", "Cross-network")),
        # 3 Paid Shopping: shopping site or shop campaign, with paid medium
        ("utm_source=amazon&utm_medium=cpc", "", ("Amazon", "Paid Shopping")),
        ("utm_source=newsletter&utm_medium=paid&utm_campaign=summer-shop", "", ("Newsletter", "Paid Shopping")),
        # 4 Paid Search
        ("utm_source=google&utm_medium=cpc", "", ("Google", "Paid Search")),
        ("utm_source=bing&utm_medium=ppc", "", ("Bing", "Paid Search")),
        # 5 Paid Social
        ("utm_source=facebook&utm_medium=paid_social", "", ("Facebook", "Paid Social")),
        ("utm_source=linkedin&utm_medium=retargeting", "", ("LinkedIn", "Paid Social")),
        # 6 Paid Video
        ("utm_source=youtube&utm_medium=cpv", "", ("YouTube", "Paid Video")),
        # 7 Display
        ("utm_source=adnet&utm_medium=banner", "", ("Adnet", "Display")),
        ("utm_source=adnet&utm_medium=interstitial", "", ("Adnet", "Display")),
        # 8 Paid Other
        ("utm_source=podnews&utm_medium=paid", "", ("Podnews", "Paid Other")),
        # 9 Organic Shopping
        ("", "https://www.etsy.com/listing/1", ("etsy.com", "Organic Shopping")),
        ("utm_source=blog&utm_campaign=shopping-week", "", ("Blog", "Organic Shopping")),
        # 10 Organic Social: social site or social medium
        ("", "https://www.facebook.com/", ("Facebook", "Organic Social")),
        ("", "https://l.facebook.com/l.php?u=x", ("Facebook", "Organic Social")),
        ("", "https://lm.facebook.com/", ("Facebook", "Organic Social")),
        ("", "https://m.facebook.com/", ("Facebook", "Organic Social")),
        ("", "https://fb.me/abc", ("Facebook", "Organic Social")),
        ("utm_source=fb", "", ("Facebook", "Organic Social")),
        ("utm_source=forum&utm_medium=social-media", "", ("Forum", "Organic Social")),
        ("", "https://t.co/xyz", ("X", "Organic Social")),
        ("", "https://news.ycombinator.com/item?id=1", ("Hacker News", "Organic Social")),
        # 11 Organic Video
        ("", "https://www.youtube.com/watch?v=1", ("YouTube", "Organic Video")),
        ("", "https://m.youtube.com/", ("YouTube", "Organic Video")),
        ("", "https://youtu.be/abc", ("YouTube", "Organic Video")),
        ("utm_source=yt", "", ("YouTube", "Organic Video")),
        ("utm_source=podcast-site&utm_medium=video", "", ("Podcast Site", "Organic Video")),
        # 12 Organic Search
        ("", "https://www.google.com/", ("Google", "Organic Search")),
        ("", "https://www.google.co.uk/", ("Google", "Organic Search")),
        ("", "https://duckduckgo.com/", ("DuckDuckGo", "Organic Search")),
        ("utm_source=directory&utm_medium=organic", "", ("Directory", "Organic Search")),
        # 13 Referral
        ("", "https://blog.somesite.io/post", ("somesite.io", "Referral")),
        ("utm_source=partnerblog&utm_medium=link", "", ("Partnerblog", "Referral")),
        ("utm_source=store&utm_medium=app", "", ("Store", "Referral")),
        # 14 Email
        ("utm_source=newsletter&utm_medium=email", "", ("Newsletter", "Email")),
        ("utm_source=email&utm_medium=blast", "", ("Email", "Email")),
        ("utm_source=crm&utm_medium=e-mail", "", ("Crm", "Email")),
        # 15 Affiliates (by medium)
        ("utm_source=reviewsite&utm_medium=affiliate", "", ("Reviewsite", "Affiliates")),
        # 16 Audio
        ("utm_source=spotify&utm_medium=audio", "", ("Spotify", "Audio")),
        # 17 SMS
        ("utm_source=sms", "", ("Sms", "SMS")),
        ("utm_source=twilio&utm_medium=sms", "", ("Twilio", "SMS")),
        # 18 Mobile Push Notifications
        ("utm_source=app&utm_medium=web-push", "", ("App", "Mobile Push Notifications")),
        ("utm_source=app&utm_medium=mobile", "", ("App", "Mobile Push Notifications")),
        ("utm_source=firebase", "", ("Firebase", "Mobile Push Notifications")),
        # Unassigned stays visible
        ("utm_source=foo&utm_medium=bar", "", ("Foo", "Unassigned")),
        ("utm_medium=email", "", ("(not set)", "Email")),
    ],
)
def test_ga4_table(query, referrer, expected):
    assert labels(query, referrer, session_start=True) == expected


def test_matching_is_case_insensitive():
    assert labels("utm_source=NewsLetter&utm_medium=EMAIL") == ("Newsletter", "Email")
    assert labels("utm_source=Google&utm_medium=CPC") == ("Google", "Paid Search")


@pytest.mark.parametrize("medium", ["cpc", "ppc", "retargeting", "paid_search", "paidsocial", "cpm-x"])
def test_paid_medium_regex(medium):
    assert ga4_group(frozenset({"google"}), "google", medium, "") == "Paid Search"


# TrackRev additions
def test_utms_beat_the_referrer():
    assert labels("utm_source=newsletter&utm_medium=email", "https://www.facebook.com/") == ("Newsletter", "Email")
    assert labels("utm_source=newsletter", "https://chatgpt.com/") == ("Newsletter", "Unassigned")


@pytest.mark.parametrize(
    ("query", "referrer", "expected"),
    [
        ("", "https://chatgpt.com/", ("ChatGPT", "AI Assistants")),
        ("", "https://chat.openai.com/c/1", ("ChatGPT", "AI Assistants")),
        ("", "https://claude.ai/chat", ("Claude", "AI Assistants")),
        ("", "https://www.perplexity.ai/search", ("Perplexity", "AI Assistants")),
        ("", "https://gemini.google.com/app", ("Gemini", "AI Assistants")),
        ("", "https://copilot.microsoft.com/", ("Copilot", "AI Assistants")),
        ("", "https://chat.deepseek.com/", ("DeepSeek", "AI Assistants")),
        ("", "https://grok.com/", ("Grok", "AI Assistants")),
        ("", "https://www.phind.com/", ("Phind", "AI Assistants")),
        ("utm_source=chatgpt.com", "", ("ChatGPT", "AI Assistants")),
    ],
)
def test_ai_assistants(query, referrer, expected):
    assert labels(query, referrer) == expected


@pytest.mark.parametrize(
    "referrer",
    [
        "https://checkout.stripe.com/c/pay/cs_test_1",
        "https://billing.stripe.com/p/session",
        "https://buy.paddle.com/checkout",
        "https://sandbox-buy.paddle.com/checkout",
        "https://acme.lemonsqueezy.com/checkout/buy/1",
        "https://polar.sh/acme/checkout",
        "https://sandbox.polar.sh/checkout",
        "https://www.paypal.com/checkoutnow",
    ],
)
def test_checkout_return_never_creates_a_touch(referrer):
    assert labels("", referrer, session_start=True) is None
    assert labels("", referrer) is None


def test_internal_referrers_never_create_a_touch():
    assert labels("", "https://shop.example.com/pricing", session_start=True) is None
    assert labels("", "https://app.example.com/login", session_start=True) is None  # same site
    assert labels("", "https://docs.mysaas.dev/", own_domains=["mysaas.dev"], session_start=True) is None


def test_plain_page_views_are_not_landings():
    assert labels("") is None
    assert labels("page=2") is None


def test_session_start_without_referrer_is_direct():
    assert labels("", session_start=True) == ("Direct", "Direct")


def test_campaign_parameters_on_return_from_checkout_still_count():
    assert labels("utm_source=newsletter&utm_medium=email", "https://checkout.stripe.com/") == ("Newsletter", "Email")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("gclid=abc", ("Google", "Paid Search")),
        ("gbraid=abc", ("Google", "Paid Search")),
        ("wbraid=abc", ("Google", "Paid Search")),
        ("msclkid=abc", ("Bing", "Paid Search")),
        ("ttclid=abc", ("TikTok", "Paid Social")),
        ("li_fat_id=abc", ("LinkedIn", "Paid Social")),
        ("twclid=abc", ("X", "Paid Social")),
        ("fbclid=abc&utm_medium=paid", ("Facebook", "Paid Social")),
    ],
)
def test_paid_click_ids(query, expected):
    assert labels(query) == expected


def test_fbclid_without_paid_medium_is_organic():
    assert labels("fbclid=abc", "https://l.facebook.com/") == ("Facebook", "Organic Social")


def test_click_id_is_stored_raw():
    landing = Landing.from_url(SITE + "?gclid=CjwK&utm_campaign=brand")
    assert (landing.click_id_type, landing.click_id, landing.campaign) == ("gclid", "CjwK", "brand")


def test_known_partner_via_or_ref_is_affiliates_and_beats_utms():
    partners = {"jane": "Jane Doe"}.get
    query = "via=jane&utm_source=newsletter&utm_medium=email"
    assert labels(query, partner_name=partners) == ("Jane Doe", "Affiliates")
    assert labels("ref=jane", partner_name=partners) == ("Jane Doe", "Affiliates")


def test_unknown_partner_parameter_names_the_source():
    assert labels("ref=producthunt", partner_name={}.get) == ("Product Hunt", "Organic Social")
    assert labels("via=someone") == ("Someone", "Unassigned")


class Rule:
    def __init__(self, field, operator, value, channel, channel_group):
        self.field, self.operator, self.value = field, operator, value
        self.channel, self.channel_group = channel, channel_group


@pytest.mark.parametrize(
    ("rule", "query", "referrer"),
    [
        (Rule("source", "equals", "Beehiiv", "Weekly", "Email"), "utm_source=beehiiv", ""),
        (Rule("medium", "contains", "influ", "Creators", "Organic Social"), "utm_source=x&utm_medium=influencer", ""),
        (Rule("campaign", "regex", r"^bf-\d+$", "Black Friday", "Paid Other"), "utm_campaign=bf-2026", ""),
        (Rule("referrer_domain", "equals", "blog.friend.io", "Friend", "Referral"), "", "https://blog.friend.io/x"),
        (Rule("source", "equals", "blog.friend.io", "Friend", "Referral"), "", "https://blog.friend.io/x"),
    ],
)
def test_custom_rules_come_first(rule, query, referrer):
    assert labels(query, referrer, rules=compile_rules([rule])) == (rule.channel, rule.channel_group)


def test_custom_rules_first_match_wins_and_bad_regex_is_skipped():
    rules = compile_rules(
        [
            Rule("source", "regex", "(", "Broken", "Email"),
            Rule("source", "contains", "news", "First", "Email"),
            Rule("source", "contains", "letter", "Second", "Email"),
        ]
    )
    assert labels("utm_source=newsletter", rules=rules) == ("First", "Email")
    assert labels("utm_source=other", rules=rules) == ("Other", "Unassigned")
