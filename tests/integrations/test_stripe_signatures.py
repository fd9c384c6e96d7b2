"""Stripe webhook signatures: TrackRev's verifier against stripe-python's own (`WebhookSignature.verify_header`,
stripe 15.3.1 in requirements-dev.txt), row by row, and against a known answer.

Each row states both answers. They agree everywhere except where TrackRev refuses what Stripe never sends:
a timestamp that is not plain decimal digits, a signature made more than 300 s in the future (the SDK checks
only the past), and an empty secret (a connection without one accepts nothing).
"""

import datetime as dt
import time

import pytest
import time_machine
from stripe import WebhookSignature
from stripe._error import SignatureVerificationError

from integrations.processors.errors import SignatureInvalid, SignatureStale
from integrations.processors.stripe.adapter import StripeAdapter
from integrations.processors.stripe.signature import signature_hex
from integrations.processors.types import ConnectionCredentials
from tests.factories.integrations import ProcessorConnectionFactory
from tests.integrations.stripe import SECRET, encode, payload, sign

NOW = dt.datetime(2026, 9, 3, 14, 22, 6, tzinfo=dt.UTC)
T = int(NOW.timestamp())
BODY = encode(payload("invoice.paid"))

# stripe-python's tests/test_webhook.py: its payload and secret, at the fixed time its
# `test_timestamp_off_but_no_tolerance` uses. The signature was computed once with `openssl dgst -sha256 -hmac`
# and agrees with stripe-python's `_compute_signature`; it is frozen here as the known answer.
SDK_TEST_PAYLOAD = b"""{
  "id": "evt_test_webhook",
  "object": "event",
  "data": { "object": { "id": "rdr_123", "object": "terminal.reader" } }
}"""
SDK_TEST_SECRET = "whsec_test_secret"
SDK_TEST_TIMESTAMP = 12345
SDK_TEST_SIGNATURE = "07b1ede164afb7b5de91267ffa656f568c65d6e0783ce0ac55ee094643578eda"


def v1(secret: str = SECRET, *, stamp: int = T, body: bytes = BODY) -> str:
    return signature_hex(secret, stamp, body)


GOOD = v1()
BAD = v1("whsec_another")
NOT_UTF8 = BODY[:-1] + b', "x": "\xff"}'


def header(value: str) -> dict[str, str]:
    return {"stripe-signature": value}


def row(name, sdk, trackrev, *, secret=SECRET, body=BODY, value=f"t={T},v1={GOOD}"):
    return pytest.param(secret, body, header(value), (sdk, trackrev), id=name)


ROWS = [
    # Keys: the whole whsec_ string, as UTF-8.
    row("good", True, True),
    row("another secret", False, False, value=f"t={T},v1={BAD}"),
    row("keyed without the whsec_ prefix", False, False, value=f"t={T},v1={v1(SECRET.removeprefix('whsec_'))}"),
    row("empty secret, signed with it", True, False, secret="", value=f"t={T},v1={v1('')}"),
    # Signatures: any v1 may match, other schemes are ignored.
    row("good after a bad one (a rolled secret)", True, True, value=f"t={T},v1={BAD},v1={GOOD}"),
    row("good before a bad one", True, True, value=f"t={T},v1={GOOD},v1={BAD}"),
    row("good v0 only", False, False, value=f"t={T},v0={GOOD}"),
    row("good v1 beside a v0", True, True, value=f"t={T},v0={BAD},v1={GOOD}"),
    row("upper-case hex", False, False, value=f"t={T},v1={GOOD.upper()}"),
    row("truncated signature", False, False, value=f"t={T},v1={GOOD[:-2]}"),
    row("space after the comma", False, False, value=f"t={T}, v1={GOOD}"),
    row("a third field after the signature", True, True, value=f"t={T},v1={GOOD}=x"),
    row("no signature", False, False, value=f"t={T}"),
    row("empty header", False, False, value=""),
    # Timestamps.
    row("no timestamp", False, False, value=f"v1={GOOD}"),
    row("timestamp not a number", False, False, value=f"t=yesterday,v1={GOOD}"),
    row("the first of two timestamps counts", True, True, value=f"t={T},t=1,v1={GOOD}"),
    row("timestamp with a plus sign", True, False, value=f"t=+{T},v1={GOOD}"),
    row("timestamp with a leading space", True, False, value=f"t= {T},v1={GOOD}"),
    row("300 s old", True, True, value=f"t={T - 300},v1={v1(stamp=T - 300)}"),
    row("301 s old", False, False, value=f"t={T - 301},v1={v1(stamp=T - 301)}"),
    row("300 s ahead", True, True, value=f"t={T + 300},v1={v1(stamp=T + 300)}"),
    row("301 s ahead", True, False, value=f"t={T + 301},v1={v1(stamp=T + 301)}"),
    row("signed at another time", False, False, value=f"t={T},v1={v1(stamp=T - 1)}"),
    # Body.
    row("tampered body", False, False, body=BODY.replace(b"4900", b"1")),
    row("body with a trailing newline", False, False, body=BODY + b"\n"),
    row("body re-serialized", False, False, body=encode(payload("invoice.paid")).replace(b"\n", b"")),
    row(
        "signed body that is not UTF-8",
        False,
        False,
        body=NOT_UTF8,
        value=f"t={T},v1={v1(body=NOT_UTF8)}",
    ),
]


def sdk_accepts(secret: str, body: bytes, headers: dict) -> bool:
    try:
        WebhookSignature.verify_header(body.decode(), headers["stripe-signature"], secret, tolerance=300)
    except (SignatureVerificationError, UnicodeDecodeError):
        return False
    return True


def adapter(secret: str, now: dt.datetime = NOW) -> StripeAdapter:
    creds = ConnectionCredentials(api_token="t", webhook_secret=secret, api_base_url="", options={})
    return StripeAdapter(creds, clock=lambda: now)


def trackrev_accepts(secret: str, body: bytes, headers: dict) -> bool:
    try:
        adapter(secret).verify_signature(body=body, headers=headers)
    except SignatureInvalid:
        return False
    return True


@pytest.mark.parametrize(("secret", "body", "headers", "answers"), ROWS)
def test_trackrev_and_stripe_python_give_the_stated_answers(secret, body, headers, answers):
    with time_machine.travel(NOW, tick=False):
        assert (sdk_accepts(secret, body, headers), trackrev_accepts(secret, body, headers)) == answers


def test_stripe_pythons_test_vector_verifies_with_its_known_signature():
    at = dt.datetime.fromtimestamp(SDK_TEST_TIMESTAMP, tz=dt.UTC)
    value = f"t={SDK_TEST_TIMESTAMP},v1={SDK_TEST_SIGNATURE}"

    assert signature_hex(SDK_TEST_SECRET, SDK_TEST_TIMESTAMP, SDK_TEST_PAYLOAD) == SDK_TEST_SIGNATURE
    adapter(SDK_TEST_SECRET, at).verify_signature(body=SDK_TEST_PAYLOAD, headers=header(value))
    assert WebhookSignature.verify_header(SDK_TEST_PAYLOAD.decode(), value, SDK_TEST_SECRET)  # no tolerance


def test_a_good_signature_too_old_is_stale_not_merely_invalid():
    with pytest.raises(SignatureStale):
        adapter(SECRET).verify_signature(body=BODY, headers=header(f"t={T - 301},v1={v1(stamp=T - 301)}"))


def test_the_test_helper_signs_as_stripe_does():
    assert sign(BODY, SECRET, at=NOW)["stripe-signature"] == f"t={T},v1={GOOD}"


# --- through the webhook endpoint ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True, databases="__all__")
@pytest.mark.parametrize(
    ("signed", "status"),
    [
        pytest.param(lambda now: sign(BODY, SECRET, at=now), 202, id="signed as Stripe signs"),
        pytest.param(lambda now: header(f"t={int(now.timestamp())},v0={v1(stamp=int(now.timestamp()))}"), 401, id="v0"),
        pytest.param(lambda now: sign(BODY, SECRET, at=now - dt.timedelta(seconds=400)), 401, id="stale"),
    ],
)
def test_the_webhook_endpoint_answers_as_the_verifier_decides(client, signed, status):
    connection = ProcessorConnectionFactory(processor="stripe", webhook_secret=SECRET)
    response = client.generic(
        "POST",
        f"/webhooks/stripe/{connection.workspace.public_id}",
        BODY,
        content_type="application/json",
        headers=signed(dt.datetime.fromtimestamp(int(time.time()), tz=dt.UTC)),
    )
    assert response.status_code == status
