"""The classifier. Order (first match wins): the workspace's own rules, a known partner's `via`/
`ref` (Affiliates), AI assistants, paid click ids, then the GA4 default table. Whether a hit is a
landing at all is decided first: internal and checkout-return referrers never create a touch."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from attribution.channels import sites
from attribution.channels.hosts import (
    host_display_name,
    host_of,
    host_tokens,
    in_domains,
    registrable,
    source_display_name,
    source_tokens,
)
from attribution.channels.rules import CompiledRule

DIRECT = "Direct"
UNASSIGNED = "Unassigned"
NOT_SET = "(not set)"
UTM_LIMITS = {"utm_source": 200, "utm_medium": 100, "utm_campaign": 200, "utm_term": 200, "utm_content": 200}
PARTNER_PARAMS = ("via", "ref")


@dataclass(frozen=True, slots=True)
class Landing:
    """The raw inputs of one hit, as stored on a Touch."""

    url: str = ""
    referrer: str = ""
    source: str = ""
    medium: str = ""
    campaign: str = ""
    term: str = ""
    content: str = ""
    click_id_type: str = ""
    click_id: str = ""
    partner_code: str = ""
    session_start: bool = False

    @classmethod
    def from_url(cls, url: str, *, referrer: str = "", session_start: bool = False) -> "Landing":
        """Read UTMs, click ids and the partner parameter from the page URL's query string."""
        try:
            query = urlsplit(url).query
        except ValueError:
            query = ""
        params: dict[str, str] = {}
        for key, value in parse_qsl(query):
            params.setdefault(key.lower(), value.strip())
        click_type = next((name for name in sites.CLICK_IDS if params.get(name)), "")
        partner = next((params[name] for name in PARTNER_PARAMS if params.get(name)), "")
        utm = {key: params.get(key, "")[:limit] for key, limit in UTM_LIMITS.items()}
        return cls(
            url=url,
            referrer=referrer,
            source=utm["utm_source"],
            medium=utm["utm_medium"],
            campaign=utm["utm_campaign"],
            term=utm["utm_term"],
            content=utm["utm_content"],
            click_id_type=click_type,
            click_id=params.get(click_type, "")[:255] if click_type else "",
            partner_code=partner[:64],
            session_start=session_start,
        )


@dataclass(frozen=True, slots=True)
class Classification:
    channel: str
    channel_group: str
    campaign: str


def is_checkout_host(host: str) -> bool:
    return in_domains(host, sites.CHECKOUT_HOSTS)


def is_internal_host(host: str, *, landing_host: str, own_domains: Sequence[str]) -> bool:
    if landing_host and (host == landing_host or registrable(host) == registrable(landing_host)):
        return True
    return in_domains(host, own_domains)


def classify(
    landing: Landing,
    *,
    own_domains: Sequence[str] = (),
    rules: Sequence[CompiledRule] = (),
    partner_name: Callable[[str], str | None] | None = None,
) -> Classification | None:
    """The touch's labels, or None when the hit is not a landing (a plain page view, or a
    return from the site itself or from a checkout page without campaign parameters)."""
    ref_host = host_of(landing.referrer)
    external_ref = bool(ref_host) and not (
        is_internal_host(ref_host, landing_host=host_of(landing.url), own_domains=own_domains)
        or is_checkout_host(ref_host)
    )
    has_params = bool(
        landing.source or landing.medium or landing.campaign or landing.click_id_type or landing.partner_code
    )
    if not (has_params or external_ref or (landing.session_start and not ref_host)):
        return None

    campaign = landing.campaign
    utm_source = landing.source.strip().lower()
    medium = landing.medium.strip().lower()
    referrer_domain = ref_host if external_ref else ""
    click = sites.CLICK_IDS.get(landing.click_id_type)

    # Source as GA4 sees it: UTMs beat the referrer, the referrer beats a click id's network.
    if utm_source:
        source, tokens = utm_source, source_tokens(utm_source)
    elif referrer_domain:
        source, tokens = referrer_domain, host_tokens(referrer_domain)
        medium = medium or ("organic" if tokens & sites.SEARCH else "referral")
    elif click:
        source, tokens = click[0], frozenset({click[0]})
    else:
        source, tokens = landing.partner_code.lower(), frozenset({landing.partner_code.lower()})

    for rule in rules:
        value = {"source": source, "medium": medium, "campaign": campaign.lower(), "referrer_domain": referrer_domain}[
            rule.field
        ]
        if value and rule.matches(value):
            return Classification(rule.channel, rule.channel_group, campaign)

    if landing.partner_code and partner_name is not None:
        partner = partner_name(landing.partner_code)
        if partner:
            return Classification(partner, "Affiliates", campaign)

    group = _group(tokens, source, medium, campaign.lower(), click)
    return Classification(_channel_name(landing, utm_source, referrer_domain, click, group), group, campaign)


def _channel_name(landing: Landing, utm_source: str, referrer_domain: str, click, group: str) -> str:
    if utm_source:
        return source_display_name(landing.source)
    if referrer_domain:
        return host_display_name(referrer_domain)
    if click:
        return sites.BRAND_NAMES.get(click[0], click[0].title())
    if landing.partner_code:
        return source_display_name(landing.partner_code)
    return DIRECT if group == DIRECT else NOT_SET


def _group(tokens: frozenset[str], source: str, medium: str, campaign: str, click) -> str:
    if tokens & sites.AI_ASSISTANTS:
        return "AI Assistants"
    paid = sites.PAID_MEDIUM.match(medium) is not None
    if click and (paid or not click[2]):
        return click[1]
    return ga4_group(tokens, source, medium, campaign)


def ga4_group(tokens: frozenset[str], source: str, medium: str, campaign: str) -> str:
    """GA4's default channel group table, top to bottom (all inputs lower-case)."""
    if not source and medium in ("", "(none)", "(not set)"):
        return DIRECT
    if "cross-network" in campaign:
        return "Cross-network"
    paid = sites.PAID_MEDIUM.match(medium) is not None
    shopping = bool(tokens & sites.SHOPPING) or sites.SHOP_CAMPAIGN.match(campaign) is not None
    if shopping and paid:
        return "Paid Shopping"
    if paid and tokens & sites.SEARCH:
        return "Paid Search"
    if paid and tokens & sites.SOCIAL:
        return "Paid Social"
    if paid and tokens & sites.VIDEO:
        return "Paid Video"
    if medium in sites.DISPLAY_MEDIUMS:
        return "Display"
    if paid:
        return "Paid Other"
    if shopping:
        return "Organic Shopping"
    if tokens & sites.SOCIAL or medium in sites.SOCIAL_MEDIUMS:
        return "Organic Social"
    if tokens & sites.VIDEO or "video" in medium:
        return "Organic Video"
    if tokens & sites.SEARCH or medium == "organic":
        return "Organic Search"
    if medium in sites.REFERRAL_MEDIUMS:
        return "Referral"
    if source in sites.EMAIL_WORDS or medium in sites.EMAIL_WORDS:
        return "Email"
    if medium == "affiliate":
        return "Affiliates"
    if medium == "audio":
        return "Audio"
    if source == "sms" or medium == "sms":
        return "SMS"
    if medium.endswith("push") or "mobile" in medium or "notification" in medium or source == "firebase":
        return "Mobile Push Notifications"
    return UNASSIGNED
