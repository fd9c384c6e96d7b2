"""Tenant isolation, generated from the URL conf (architecture.md, load-bearing decision 1).

Every URL pattern is found by walking the resolver. Those under /api/v1/, /app/ and /partners/ are asked for,
as workspace B (its API key, its owner logged in, a partner of its program logged into the portal), with
workspace A's objects in their parameters, by every method their view defines: each answer must be a 404
(or 405) and workspace A's rows must be exactly as before. Patterns naming no object (lists, forms) must not
show any of A's identifiers. Any other pattern must be listed in OUT_OF_SCOPE with its reason, and a
parameter nobody mapped fails the test, so a new URL cannot escape the matrix unnoticed."""

from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.cache import cache
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import get_converters
from rest_framework.test import APIClient

from affiliates.models import Link, PayoutSettings
from affiliates.portal_access import ACCOUNT_KEY
from attribution.credit_models import MODELS
from attribution.models import ChannelRule, DailyRollup
from attribution.selectors.reports import served_version, workspace_today
from integrations.models import Delivery, DeliveryAttempt, SyncRun, WebhookEndpoint
from integrations.outbound_views import EndpointActionView
from integrations.processors.registry import ADAPTERS
from integrations.services.outbound_webhooks import endpoint_test_send
from tests.factories.affiliates import (
    CommissionFactory,
    DiscountCodeFactory,
    PartnerAccountFactory,
    PartnerFactory,
    PayoutFactory,
    ProgramFactory,
)
from tests.factories.engine import ConnectionFactory, OrderFactory, SubscriptionFactory
from tests.factories.workspaces import MembershipFactory, UserFactory, WorkspaceFactory
from trackrev.workspaces.models import User, Workspace
from trackrev.workspaces.services import api_key_create

pytestmark = pytest.mark.django_db

GROUPS = {"/api/v1/": "api", "/app/": "dashboard", "/partners/": "portal"}

# Patterns outside the matrix, by path prefix, each with why.
OUT_OF_SCOPE = {
    "/admin/": "the staff back office: is_staff only (tests/platform/test_back_office.py)",
    "/api/": "any other path under /api/ answers the API's 404 (api_not_found)",
    "/webhooks/": "processors' deliveries: the workspace is the URL's, proven by the signature (integrations)",
    "/p.js": "the public pixel script, the same for everyone",
    "/collect": "public pixel hits, keyed by the site's public id, no session",
    "/r/": "public partner links: a code names a partner by design, no session",
    "/partners/apply/": "a program's public application page, open by design when applications are",
    "/partners/set-password/": "a signed one-account token link, no workspace object (tests/affiliates/test_portal.py)",
    "/billing/": "TrackRev's own Stripe billing webhook, signed by Stripe",
    "/healthz": "liveness, no data",
    "/favicon.ico": "a redirect to a static file",
    "/login/": "member sign-in, before any workspace",
    "/logout/": "ends the member's session",
    "/signup/": "creates a new user and workspace",
    "/password-reset/": "Django's reset form, answers the same for any email",
    "/reset/": "Django's signed reset links and their end page",
}

# Parameters naming an object, per (name, converter): A's object's value.
OBJECT_VALUES = {
    ("connection_id", "int"): lambda a: a.connection.pk,
    ("endpoint_id", "str"): lambda a: a.endpoint.public_id,
    ("delivery_id", "int"): lambda a: a.delivery.pk,
    ("order_id", "int"): lambda a: a.order.pk,
    ("program_id", "str"): lambda a: a.program.public_id,
    ("program_id", "int"): lambda a: a.program.pk,
    ("partner_id", "str"): lambda a: a.partner.public_id,
    ("partner_id", "int"): lambda a: a.partner.pk,
    ("commission_id", "int"): lambda a: a.commission.pk,
    ("payout_id", "int"): lambda a: a.payout.pk,
    ("batch_id", "int"): lambda a: a.batch.pk,
}
# `pk` names a different model on each page.
PK_VALUES = {
    "workspaces:member_role": lambda a: a.membership.pk,
    "workspaces:api_key_revoke": lambda a: a.api_key.pk,
    "channels:rule_delete": lambda a: a.channel_rule.pk,
    "affiliates_portal:statement": lambda a: a.payout.pk,
}
# Parameters that name no object but a choice inside the asker's own workspace: every value is tried.
CHOICE_VALUES = {
    "processor": list(ADAPTERS),
    "action": [*EndpointActionView.DONE, "rotate"],
}

# A body that would change the object if the lookup let it through (otherwise empty).
BODIES = {
    "api:affiliate_program": {"name": "Taken over"},
    "affiliates:partner_status": {"status": "suspended"},
    "affiliates:discount_code_add": {"code": "takenover"},
    "affiliates:commission_review": {"review": "rejected"},
    "affiliates:program": {"name": "Taken", "email": "taken@b.example"},
    "affiliates:program_edit": {"name": "Taken over"},
    "workspaces:member_role": {"role": "viewer"},
}
# Patterns without object parameters that name one of A's objects in the body or query: a 404 too.
NAMED_IN_BODY = {
    ("workspaces:switch", "post"): lambda a: {"workspace": a.workspace.public_id},
    ("affiliates_portal:switch", "post"): lambda a: {"partner": a.partner.public_id},
    ("api:affiliate_partners", "post"): lambda a: {
        "program": a.program.public_id,
        "email": "taken@b.example",
        "name": "Taken",
    },
}
# Lists filtered by one of A's objects: still none of A's rows.
QUERIES = {
    "api:affiliate_partners": lambda a: {"program": a.program.public_id},
    "api:affiliate_commissions": lambda a: {"partner": a.partner.public_id},
    "affiliates:commissions": lambda a: {"program": a.program.pk, "partner": a.partner.pk},
}

ALLOWED_FOR_OBJECTS = {404, 405}
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Route:
    path: str  # "/app/orders/<int:order_id>/"
    name: str  # "dashboard:order"
    converters: dict  # kwarg -> converter name
    methods: tuple

    def classify(self) -> tuple[str | None, str | None]:
        """(group, reason it is out of scope): the longest prefix that matches decides."""
        prefixes = [(p, (g, None)) for p, g in GROUPS.items()] + [(p, (None, r)) for p, r in OUT_OF_SCOPE.items()]
        matching = [(len(prefix), verdict) for prefix, verdict in prefixes if self.path.startswith(prefix)]
        return max(matching, key=lambda m: m[0])[1] if matching else (None, None)


CONVERTER_NAMES = {type(converter): name for name, converter in get_converters().items()}  # IntConverter: "int"


def _methods(callback) -> tuple:
    view = getattr(callback, "view_class", None)
    if view is None:  # a function view: whatever it answers
        return ("get", "post")
    return tuple(m for m in METHODS if m in view.http_method_names and hasattr(view, m))


def routes(resolver=None, prefix: str = "/", namespace: str = "", converters=None) -> list[Route]:
    """Every URL pattern of the URL conf, through its includes."""
    resolver = resolver or get_resolver()
    found = []
    for entry in resolver.url_patterns:
        path = prefix + str(entry.pattern).lstrip("^").rstrip("$")
        kinds = {**(converters or {}), **{k: CONVERTER_NAMES[type(v)] for k, v in entry.pattern.converters.items()}}
        if isinstance(entry, URLResolver):
            inner = ":".join(filter(None, [namespace, entry.namespace]))
            found += routes(entry, path, inner, kinds)
        elif isinstance(entry, URLPattern):
            name = ":".join(filter(None, [namespace, entry.name])) if entry.name else ""
            found.append(Route(path, name, kinds, _methods(entry.callback)))
    return found


# --- The two workspaces --------------------------------------------------------------------------------

PASSWORD = "partner-horse-battery"  # PartnerAccountFactory's
MARK = "zqxalpha"  # in every name, address and code of A's objects, so a list that shows one is caught


def workspace_a():
    """Workspace A with one object of every kind a URL parameter can name."""
    workspace = WorkspaceFactory(name=f"Alpha {MARK}", plan="pro")
    a = SimpleNamespace(workspace=workspace)
    a.membership = MembershipFactory(workspace=workspace, user=UserFactory(email=f"owner@{MARK}.example"))
    a.api_key = api_key_create(workspace=workspace, name=f"{MARK} key").api_key
    connections = [
        ConnectionFactory(workspace=workspace, processor=p, api_base_url=f"https://{p}.{MARK}.example")
        for p in ADAPTERS
    ]
    a.connection = connections[0]
    a.sync_run = SyncRun.objects.create(workspace=workspace, connection=a.connection, progress=MARK)
    a.subscription = SubscriptionFactory(
        workspace=workspace, processor=a.connection.processor, external_id=f"sub_{MARK}"
    )
    a.order = OrderFactory(
        workspace=workspace,
        processor=a.connection.processor,
        external_id=f"ord_{MARK}",
        subscription=a.subscription,
    )
    # Today's credited revenue under every model, on a channel named after A: a report that reads past
    # the workspace shows the channel.
    for model in MODELS:
        DailyRollup.objects.create(
            workspace=workspace,
            version=served_version(workspace),
            model=model,
            day=workspace_today(workspace),
            processor=a.connection.processor,
            currency="USD",
            channel=f"Channel {MARK}",
            channel_group="Referral",
            campaign=MARK,
            revenue_usd_minor=4900,
            revenue_minor=4900,
            conversions=1_000_000,
        )
    a.channel_rule = ChannelRule.objects.create(
        workspace=workspace, field="source", value=MARK, channel=f"Channel {MARK}", channel_group="Referral"
    )
    a.endpoint = WebhookEndpoint.objects.create(
        workspace=workspace, url=f"https://hooks.{MARK}.example/in", events=["sale.created"], secret="whsec_a"
    )
    a.delivery = endpoint_test_send(endpoint=a.endpoint).deliveries.get()
    a.program = ProgramFactory(workspace=workspace, name=f"Program {MARK}")
    account = PartnerAccountFactory(email=f"partner@{MARK}.example", name=f"Partner {MARK}")
    a.partner = PartnerFactory(program=a.program, account=account, code=f"{MARK}-code")
    a.link = Link.objects.create(
        workspace=workspace, partner=a.partner, slug=f"{MARK}-link", url="https://shop.example.com/a"
    )
    a.discount_code = DiscountCodeFactory(partner=a.partner, code=f"{MARK}save")
    a.commission = CommissionFactory(partner=a.partner, order=a.order)
    a.payout = PayoutFactory(partner=a.partner)
    a.batch = a.payout.batch
    a.payout_settings = PayoutSettings.objects.create(workspace=workspace, paypal_client_id=f"{MARK}-client")
    return a


def fingerprints(a) -> dict[str, str]:
    """What would give one of A's objects away in a page or a JSON body."""
    return {
        "a name, address or code of A's": MARK,
        "A's workspace id": a.workspace.public_id,
        "A's program id": a.program.public_id,
        "A's partner id": a.partner.public_id,
        "A's endpoint id": a.endpoint.public_id,
        "A's event id": a.delivery.event.public_id,
        "A's API key": a.api_key.prefix,
    }


def state_of(workspace: Workspace) -> dict:
    """Every row of the workspace, as stored: the matrix proves that nothing asked as B changed them."""
    state = {"workspace": list(Workspace.objects.filter(pk=workspace.pk).values())}
    for model in apps.get_models():
        if any(field.name == "workspace" for field in model._meta.concrete_fields):
            rows = model.objects.filter(workspace=workspace).order_by("pk").values()
            state[model._meta.label] = list(rows)
    state["deliveries"] = list(Delivery.objects.filter(endpoint__workspace=workspace).order_by("pk").values())
    state["attempts"] = list(DeliveryAttempt.objects.filter(delivery__endpoint__workspace=workspace).values())
    state["users"] = list(User.objects.filter(memberships__workspace=workspace).order_by("pk").values())
    return state


def _changed(before: dict, after: dict) -> list[str]:
    return [label for label in before if before[label] != after[label]]


@pytest.fixture
def askers(client, broker):
    """Workspace B's three kinds of askers; each is logged in again before a request if a page logged it out."""
    cache.clear()  # the portal's login throttle counts in the cache
    workspace = WorkspaceFactory(name="Bravo", plan="pro")
    owner = MembershipFactory(workspace=workspace).user
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(workspace=workspace, name='b').raw_key}")
    partner = PartnerFactory(program=ProgramFactory(workspace=workspace))
    member, portal = client, type(client)()

    def as_member():
        if "_auth_user_id" not in member.session:
            member.force_login(owner)
        return member

    def as_partner():
        if ACCOUNT_KEY not in portal.session:
            answer = portal.post(reverse("affiliates_portal:login"), {"email": partner.email, "password": PASSWORD})
            assert answer.status_code == 302, "the portal login of B's partner failed"
        return portal

    return {"api": lambda: api, "dashboard": as_member, "portal": as_partner}


def _body(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode(errors="replace")


def _ask(client, method: str, url: str, data: dict, group: str):
    """API bodies as JSON, page forms as form fields, GET data as the query."""
    as_json = group == "api" and method != "get"
    return getattr(client, method)(url, data, **({"format": "json"} if as_json else {}))


def _requests(route: Route, a) -> tuple[list, list[str]]:
    """The kwargs of each request to make (every choice value crossed with A's objects), and what the maps
    do not know."""
    unknown, objects, choices = [], {}, {}
    for kwarg, converter in route.converters.items():
        if kwarg == "pk" and route.name in PK_VALUES:
            objects[kwarg] = PK_VALUES[route.name](a)
        elif (kwarg, converter) in OBJECT_VALUES:
            objects[kwarg] = OBJECT_VALUES[(kwarg, converter)](a)
        elif kwarg in CHOICE_VALUES:
            choices[kwarg] = CHOICE_VALUES[kwarg]
        else:
            where = "PK_VALUES" if kwarg == "pk" else "OBJECT_VALUES (or CHOICE_VALUES)"
            unknown.append(f"{route.path} ({route.name}): add <{converter}:{kwarg}> to {where}")
    combos = [dict(objects)]
    for kwarg, values in choices.items():
        combos = [{**combo, kwarg: value} for combo in combos for value in values]
    return combos, unknown


def _data(name: str, method: str, a, *, names_object: bool, named) -> dict:
    if names_object:
        return BODIES.get(name, {}) if method != "get" else {}
    if named:
        return named(a)
    return QUERIES[name](a) if method == "get" and name in QUERIES else {}


def test_workspace_b_never_reaches_workspace_a(askers):
    a = workspace_a()
    marks, baseline = fingerprints(a), state_of(a.workspace)
    failures, checked = [], 0

    for route in routes():
        group, reason = route.classify()
        if group is None:
            if reason is None:
                failures.append(f"{route.path} ({route.name or 'unnamed'}): classify it, or list it in OUT_OF_SCOPE")
            continue
        if not route.name:
            failures.append(f"{route.path}: name the pattern, so the matrix can build its URL")
            continue
        combos, unknown = _requests(route, a)
        failures += unknown
        if unknown:
            continue
        for kwargs in combos:
            url = reverse(route.name, kwargs=kwargs)
            names_object = any(k not in CHOICE_VALUES for k in kwargs)
            for method in route.methods:
                named = NAMED_IN_BODY.get((route.name, method))
                data = _data(route.name, method, a, names_object=names_object, named=named)
                client = askers[group]()
                with transaction.atomic():  # undone after: a request that got through spoils no other
                    response = _ask(client, method, url, data, group)
                    changed = _changed(baseline, state_of(a.workspace))
                    transaction.set_rollback(True)
                checked += 1
                where = f"{method.upper()} {url} as B's {group} asker"
                if changed:
                    failures.append(f"{where}: changed A's {', '.join(changed)}")
                if names_object or named:
                    if response.status_code not in ALLOWED_FOR_OBJECTS:
                        failures.append(f"{where}: {response.status_code}, not 404, for A's object")
                    continue
                if response.status_code >= 500:
                    failures.append(f"{where}: {response.status_code}")
                body = _body(response)
                failures += [f"{where}: shows {label}" for label, mark in marks.items() if mark in body]

    assert not failures, "Workspace isolation broken:\n" + "\n".join(failures)
    assert checked > 100  # the walk found the URL conf (a broken walk must not pass quietly)
