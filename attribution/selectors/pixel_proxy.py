"""The values every first-party proxy recipe is rendered with (CONTRACTS.md §3, proxy mode): one place,
so the nginx, Caddy, Next.js, Cloudflare and Django recipes and the proxy-mode snippet can never
disagree about the path, the upstream or the secret."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from attribution.selectors.pixel import normalize_domain
from trackrev.workspaces.models import Workspace

PROXY_PATH = "/_tr"
PLACEHOLDER_SITE = "yoursite.com"


@dataclass(frozen=True, slots=True)
class ProxyRecipe:
    key: str
    title: str
    where: str  # where the code goes, in one line; `{site}` is the site's host

    @property
    def template(self) -> str:
        return f"attribution/proxy_recipes/{self.key}.txt"


RECIPES = (
    ProxyRecipe("nginx", "nginx", "Inside the server { } block that serves your site, then reload nginx."),
    ProxyRecipe("caddy", "Caddy", "Inside your site's block in the Caddyfile, then reload Caddy."),
    ProxyRecipe(
        "nextjs",
        "Next.js",
        "Save as proxy.ts (Next.js 16) or middleware.ts (Next.js 13 to 15) next to your app/ or pages/ "
        "folder; if you already have one, call trackrevProxy from it for paths under /_tr/.",
    ),
    ProxyRecipe("cloudflare", "Cloudflare Workers", "A Worker on the route {site}/_tr/* of your zone."),
    ProxyRecipe(
        "django",
        "Django view",
        "For a Django app that is the site: add the view and its URL; needs the requests package.",
    ),
)


@dataclass(frozen=True, slots=True)
class ProxyValues:
    public_id: str
    secret: str
    upstream: str  # TrackRev's public URL, e.g. https://trackrev.example
    upstream_host: str  # the Host TrackRev answers to, e.g. trackrev.example
    site_host: str  # the host the customer's pages are served from (a placeholder when unknown)
    cookie_domain: str  # `.yoursite.com`: the visitor cookie is shared by every subdomain
    site_known: bool
    path: str = PROXY_PATH

    @property
    def upstream_origin(self) -> str:
        return self.upstream.removesuffix(self.upstream_path)

    @property
    def upstream_path(self) -> str:
        return urlsplit(self.upstream).path.rstrip("/")

    @property
    def snippet(self) -> str:
        return (
            f'<script async src="{self.path}/p.js" data-workspace="{self.public_id}" '
            f'data-api="https://{self.site_host}{self.path}" data-cookie-domain="{self.cookie_domain}"></script>'
        )


def pixel_proxy_values(*, workspace: Workspace) -> ProxyValues:
    # The first allowed domain is the site's: its host as typed for the pages' origin, and without
    # `www.` for the cookie, as the direct snippet does (attribution/templatetags/pixel.py).
    domains = [str(d).strip().lower().removeprefix("*.").removeprefix(".") for d in workspace.allowed_domains or ()]
    site_host = next((d for d in domains if d), "")
    upstream = settings.TRACKREV_PUBLIC_URL
    return ProxyValues(
        public_id=workspace.public_id,
        secret=workspace.pixel_proxy_secret,
        upstream=upstream,
        upstream_host=urlsplit(upstream).netloc,
        site_host=site_host or PLACEHOLDER_SITE,
        cookie_domain=f".{normalize_domain(site_host or PLACEHOLDER_SITE)}",
        site_known=bool(site_host),
    )
