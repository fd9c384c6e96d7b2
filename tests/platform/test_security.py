"""Issue 17 item 9: brute force on every login form is throttled (trackrev/common/throttle.py), and no secret,
token or email reaches a log record, an error page or an outbound payload it does not belong to."""

import datetime as dt
import json
import logging

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client

from attribution.models import Identity
from attribution.selectors.pixel import pixel_site_forget
from integrations import dispatch
from integrations.models import OutboundEvent
from integrations.services.outbound_webhooks import SEND_TASK
from integrations.services.webhooks import webhook_connection_forget
from tests.attribution.pixel_helpers import CHROME_UA, hit
from tests.factories.affiliates import PartnerAccountFactory, PartnerFactory, ProgramFactory
from tests.factories.integrations import POLAR_SECRET, POLAR_TOKEN
from tests.factories.workspaces import MembershipFactory, UserFactory
from tests.integrations.polar import encode, payload, sign
from trackrev.common.throttle import FAILURE_WINDOW, MAX_FAILURES, MAX_FAILURES_PER_ADDRESS, THROTTLED
from trackrev.workspaces.services import api_key_create

PASSWORD = "correct-horse-battery"  # UserFactory's
PARTNER_PASSWORD = "partner-horse-battery"  # PartnerAccountFactory's
WRONG = "Wr0ng-but-maybe-a-typo-of-the-real-one"
T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _fresh_caches():
    """The test cache and the webhook/pixel lookups live in the process: nothing leaks between tests."""
    cache.clear()
    webhook_connection_forget()
    pixel_site_forget()
    yield
    webhook_connection_forget()
    pixel_site_forget()


# --- Brute force -------------------------------------------------------------------------------------


def member_login(client, email, password, **extra):
    return client.post("/login/", {"username": email, "password": password}, **extra)


def admin_login(client, email, password, **extra):
    return client.post("/admin/login/", {"username": email, "password": password, "next": "/admin/"}, **extra)


def partner_login(client, email, password, **extra):
    return client.post("/partners/", {"email": email, "password": password}, **extra)


@pytest.fixture
def member(db):
    return MembershipFactory().user


@pytest.fixture
def partner_account(db):
    return PartnerFactory(account=PartnerAccountFactory(email="alice@partners.example")).account


LOGINS = {
    "dashboard": (member_login, "member", PASSWORD),
    "partner portal": (partner_login, "partner_account", PARTNER_PASSWORD),
}


@pytest.fixture(params=LOGINS.values(), ids=LOGINS.keys())
def login_form(request):
    """(post, account email, right password) of each login form that answers 429 when throttled."""
    post, account, password = request.param
    return post, request.getfixturevalue(account).email, password


def test_failures_for_one_email_from_one_address_are_throttled(client, login_form):
    post, email, password = login_form
    for _ in range(MAX_FAILURES):
        assert post(client, email, WRONG).status_code in (200, 400)  # the form again, with its error

    throttled = post(client, email, password)  # even the right password, from there, for now

    assert throttled.status_code == 429
    assert THROTTLED in throttled.content.decode()
    assert "_auth_user_id" not in client.session and "partner_account" not in client.session
    assert post(Client(), email, password, REMOTE_ADDR="198.51.100.9").status_code == 302  # others are not


def test_a_spray_over_many_emails_from_one_address_is_throttled(client, login_form):
    post, email, password = login_form
    for n in range(MAX_FAILURES_PER_ADDRESS):
        post(client, f"someone{n}@example.com", WRONG)

    assert post(client, email, password).status_code == 429
    assert post(Client(), email, password, REMOTE_ADDR="198.51.100.9").status_code == 302


def test_a_login_works_again_once_the_window_has_passed(client, login_form):
    post, email, password = login_form
    with time_machine.travel(T0, tick=False) as traveller:
        for _ in range(MAX_FAILURES):
            post(client, email, WRONG)
        traveller.shift(dt.timedelta(seconds=FAILURE_WINDOW - 1))
        assert post(client, email, password).status_code == 429

        traveller.shift(dt.timedelta(seconds=2))
        assert post(client, email, password).status_code == 302


def test_a_success_clears_its_failures_but_not_a_spray_from_the_same_address(client, login_form):
    post, email, password = login_form
    for _ in range(MAX_FAILURES - 1):
        post(client, email, WRONG)
    assert post(client, email, password).status_code == 302
    for _ in range(MAX_FAILURES - 1):
        post(Client(), email, WRONG)
    assert post(Client(), email, password).status_code == 302  # the count had started again

    for n in range(MAX_FAILURES_PER_ADDRESS):
        post(Client(), f"someone{n}@example.com", WRONG)
        if n % MAX_FAILURES == 0:
            post(Client(), email, password)  # the attacker's own account, in between
    assert post(Client(), "someone@example.com", WRONG).status_code == 429


def test_the_admin_login_counts_with_the_dashboards(client, member):
    """The same accounts: the back office's form is no way around the dashboard's throttle."""
    member.is_staff = True
    member.save()
    for n in range(MAX_FAILURES):
        (member_login if n % 2 else admin_login)(client, member.email, WRONG)

    refused = admin_login(client, member.email, PASSWORD)

    assert THROTTLED in refused.content.decode() and "_auth_user_id" not in client.session
    assert member_login(client, member.email, PASSWORD).status_code == 429


# --- No secret where it does not belong --------------------------------------------------------------


def leaked(text: str, secrets: dict[str, str]) -> list[str]:
    lowered = text.lower()
    return [name for name, secret in secrets.items() if secret.lower() in lowered]


def record_text(record: logging.LogRecord) -> str:
    """Everything a handler could write of the record: the message, its args and any traceback."""
    return logging.Formatter("%(name)s %(message)s").format(record) + repr(record.args)


def deliver_all(broker, settings):
    """What the flows left with the broker, run as a worker would. Outbound sends run with DEBUG on, as
    `local_outbound` allows http to 127.0.0.1 only then (Django's SQL log is on too: it must stay clean)."""
    assert dispatch._batcher.drain(timeout=5), "the dispatch thread did not publish"
    while broker.sent:
        settings.DEBUG = broker.sent[0][0] == SEND_TASK
        broker.run(1)
    settings.DEBUG = False


@pytest.mark.django_db(transaction=True, databases="__all__")  # the webhook inbox commits through its own alias
def test_no_secret_token_or_email_reaches_a_log_record_an_error_page_or_a_sale_event(
    caplog, settings, broker, receiver, local_outbound, monkeypatch
):
    caplog.set_level(logging.DEBUG)
    settings.DEBUG = False  # production, but for the outbound sends (deliver_all)
    program = ProgramFactory()
    workspace = program.workspace
    owner = MembershipFactory(workspace=workspace, user=UserFactory(email="owner@shop.example")).user
    partner = PartnerFactory(program=program, account=PartnerAccountFactory(email="alice@partners.example"))
    key = api_key_create(workspace=workspace, name="tests").raw_key
    bad_key = key[:-4] + "abcd"
    customer_email = payload("order_created_purchase")["data"]["customer"]["email"]
    paypal_secret = "EPayPalClientSecret-9f8e7d6c5b4a"
    secrets = {
        "processor token": POLAR_TOKEN,
        "webhook secret": POLAR_SECRET,
        "webhook secret's key": POLAR_SECRET.removeprefix("whsec_"),
        "API key": key,
        "wrong API key": bad_key,
        "member password": PASSWORD,
        "partner password": PARTNER_PASSWORD,
        "wrong password": WRONG,
        "PayPal secret": paypal_secret,
        "pixel proxy secret": workspace.pixel_proxy_secret,
        "customer email": customer_email,
        "member email": owner.email,
        "partner email": partner.account.email,
        "SECRET_KEY": settings.SECRET_KEY,
        "EMAIL_HASH_KEY": settings.EMAIL_HASH_KEY,
        **{f"field key {n}": k for n, k in enumerate(settings.FIELD_ENCRYPTION_KEYS)},
    }
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    answers = []  # every response of the flows: none may echo a secret it was not made to show

    # An API call with a wrong key, then a processor connected with its token and webhook secret.
    answers.append(Client(HTTP_AUTHORIZATION=f"Bearer {bad_key}").get("/api/v1/integrations/"))
    assert answers[-1].status_code == 401
    connect = {"processor": "polar", "api_token": POLAR_TOKEN, "webhook_secret": POLAR_SECRET}
    answers.append(api.post("/api/v1/integrations/", connect, content_type="application/json"))
    assert answers[-1].status_code == 201, answers[-1].content

    # An outbound endpoint (its whsec_ secret is shown once, in the creation's answer: that is where it belongs).
    hook = receiver()
    settings.DEBUG = True  # an http receiver (local_outbound)
    created = api.post("/api/v1/webhook-endpoints/", {"url": hook.url, "events": ["sale.created"]}, "application/json")
    settings.DEBUG = False
    assert created.status_code == 201, created.content
    secrets["outbound secret"] = created.json()["secret"]

    # A pixel identify of the customer's email, through the workspace's proxy, and one with a forged secret.
    identify = json.dumps(hit(workspace, k="id", e=customer_email))
    proxy = {
        "HTTP_USER_AGENT": CHROME_UA,
        "REMOTE_ADDR": "10.0.0.5",
        "HTTP_X_FORWARDED_FOR": "198.51.100.20",
        "HTTP_X_FORWARDED_HOST": "shop.example",
    }
    for secret in (workspace.pixel_proxy_secret, workspace.pixel_proxy_secret[::-1]):
        answers.append(Client().post("/collect", identify, "text/plain", HTTP_X_TRACKREV_PROXY=secret, **proxy))
        assert answers[-1].status_code == 204 and "X-TrackRev-Dropped" not in answers[-1]  # a forged secret: direct
    assert Identity.objects.count() == 1

    # The processor's webhook: a bad signature, then the real one; the worker credits it and tells the receiver.
    raw = encode(payload("order_created_purchase"))
    url = f"/webhooks/polar/{workspace.public_id}"
    for signing_secret, status in (("whsec_" + "A" * 32, 401), (POLAR_SECRET, 202)):
        answers.append(Client().post(url, raw, "application/json", headers=sign(raw, signing_secret)))
        assert answers[-1].status_code == status
    deliver_all(broker, settings)
    [(headers, sent)] = hook.requests
    assert json.loads(sent)["type"] == "sale.created"

    # A member's and a partner's logins, wrong and then right; the PayPal secret saved on its page.
    member = Client()
    answers += [member_login(member, owner.email, WRONG), member_login(member, owner.email, PASSWORD)]
    assert answers[-1].status_code == 302
    answers.append(
        member.post(
            "/app/affiliates/payouts/settings/",
            {"paypal_client_id": "client", "paypal_client_secret": paypal_secret, "paypal_mode": "sandbox"},
        )
    )
    assert answers[-1].status_code == 302
    answers.append(member.get("/app/affiliates/payouts/"))
    portal = Client()
    answers += [partner_login(portal, partner.email, WRONG), partner_login(portal, partner.email, PARTNER_PASSWORD)]
    assert answers[-1].status_code == 302

    # Error pages, the secrets in the very requests that fail: a 404, and a 500 in the middle of a login.
    carrying = {"HTTP_AUTHORIZATION": f"Bearer {key}", "HTTP_X_TRACKREV_PROXY": workspace.pixel_proxy_secret}
    answers.append(member.get("/app/no-such-page/", {"email": customer_email, "token": POLAR_TOKEN}, **carrying))
    assert answers[-1].status_code == 404

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("django.contrib.auth.backends.ModelBackend.authenticate", broken)
    crashing = Client(raise_request_exception=False)
    answers.append(member_login(crashing, owner.email, PASSWORD, **carrying))
    assert answers[-1].status_code == 500

    logged = [(record.name, record_text(record)) for record in caplog.records]
    assert any(name == "django.request" and "Internal Server Error" in text for name, text in logged)
    assert [(name, leaked(text, secrets)) for name, text in logged if leaked(text, secrets)] == []
    # A person's own email may show on their own pages (the nav, the login form typed again); nothing else.
    shown = {name: secret for name, secret in secrets.items() if name not in ("member email", "partner email")}
    pages = [(answer.request["PATH_INFO"], leaked(answer.content.decode(), shown)) for answer in answers]
    assert [(path, names) for path, names in pages if names] == []
    # What leaves for the customer's receiver: the sale, no email, no secret (the signature is an HMAC of it).
    [event] = OutboundEvent.objects.all()
    assert leaked(event.body, secrets) == [] and leaked(sent.decode() + repr(headers), secrets) == []
