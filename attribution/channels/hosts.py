"""Host helpers: hosts of URLs, registrable domains, and the brand tokens used by the site lists."""

from functools import lru_cache
from urllib.parse import urlsplit

from attribution.channels.sites import BRAND_NAMES, HOST_NAMES, TWO_LEVEL_SUFFIXES


def host_of(url: str) -> str:
    """Lower-case host of a URL without port or a leading `www.`; "" when there is none."""
    if not url:
        return ""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


@lru_cache(maxsize=4096)
def registrable(host: str) -> str:
    labels = host.split(".")
    keep = 3 if len(labels) >= 3 and ".".join(labels[-2:]) in TWO_LEVEL_SUFFIXES else 2
    return ".".join(labels[-keep:])


@lru_cache(maxsize=4096)
def host_tokens(host: str) -> frozenset[str]:
    """The host, its registrable domain and that domain's first label (`m.youtube.com` →
    {`m.youtube.com`, `youtube.com`, `youtube`})."""
    if not host:
        return frozenset()
    domain = registrable(host)
    return frozenset({host, domain, domain.split(".")[0]})


def source_tokens(source: str) -> frozenset[str]:
    """Tokens of a utm_source value: itself, plus host tokens when it looks like a domain."""
    source = source.strip().lower()
    if not source:
        return frozenset()
    return frozenset({source}) | (host_tokens(source.removeprefix("www.")) if "." in source else frozenset())


def in_domains(host: str, domains) -> bool:
    """`host` is one of `domains` or a subdomain of one."""
    return any(host == d or host.endswith("." + d) for d in domains)


@lru_cache(maxsize=4096)
def host_display_name(host: str) -> str:
    """`m.facebook.com` → Facebook, `google.co.uk` → Google, `blog.example.com` → example.com."""
    labels = host.split(".")
    for i in range(len(labels) - 1):
        name = HOST_NAMES.get(".".join(labels[i:]))
        if name:
            return name
    domain = registrable(host)
    return BRAND_NAMES.get(domain.split(".")[0], domain)


def source_display_name(source: str) -> str:
    """utm_source → a human name through the alias table, else title-cased (`product_hunt` →
    Product Hunt); a domain-like value is named like a referrer host."""
    value = source.strip().lower()
    if value in BRAND_NAMES:
        return BRAND_NAMES[value]
    if "." in value and " " not in value:
        return host_display_name(value.removeprefix("www."))
    return " ".join(value.replace("_", " ").replace("-", " ").split()).title()
