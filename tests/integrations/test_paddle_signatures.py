"""Paddle webhook signatures: TrackRev accepts what Paddle's own SDK accepts, and Paddle's known answers.

The oracle is `paddle_billing.Notifications.Verifier` of paddle-python-sdk 1.16.1 (requirements-dev.txt):
`Paddle-Signature: ts=<unix>;h1=<hex>[;h1=…]`, HMAC-SHA256 keyed with the whole secret's UTF-8 bytes over
`"{ts}:{raw body}"`, any `h1` may match, 5 s either way. Each row of ROWS states the SDK's answer; TrackRev's
verifier must give the same one. DIVERGENCES are the two deliberate differences, each with both answers.
"""

import datetime as dt
import hashlib
import hmac
import time
from types import SimpleNamespace

import pytest
import time_machine
from paddle_billing.Notifications import Secret, Verifier

from integrations.processors.errors import SignatureInvalid, SignatureStale
from integrations.processors.paddle.adapter import PaddleAdapter
from integrations.processors.types import ConnectionCredentials
from tests.factories.integrations import ProcessorConnectionFactory
from tests.integrations.paddle import PAYLOADS, encode, payload, sign

SECRET = "pdl_ntfset_01jh2k0a1b2c3d4e5f6g7h8j9k_Qm2vR9tLp4Zs8Nw3Yb6Hc1Jd5Fg0Ae2U"
NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
T = int(NOW.timestamp())
BODY = encode(payload("transaction.completed"))


def h1(key: str = SECRET, *, stamp=T, body: bytes = BODY) -> str:
    return hmac.new(key.encode(), f"{stamp}:".encode() + body, hashlib.sha256).hexdigest()


GOOD, BAD = h1(), h1("pdl_ntfset_01jh2k0a1b2c3d4e5f6g7h8j9k_another")
NOT_UTF8 = BODY[:-1] + b', "x": "\xff"}'
DOTTED = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()


def row(name, accepted, header, *, secret=SECRET, body=BODY, now=NOW):
    return pytest.param(secret, body, header, now, accepted, id=name)


# Paddle's own known answers (paddle-python-sdk tests/Unit/Notification/test_Verifier.py): fixed secret, ts,
# body and the h1 Paddle computed.
SDK_SECRET = "pdl_ntfset_01hs0t3tw21j988db1pam5xg8m_GrOWLNef+vmtjJYq4mSnHNzvc8uWoJ1I"
ROTATED = "pdl_ntf_01hbpjmytsa32fhr36nqgc3kgb_WvRO0eL4Bj9rgYYIBZY6wZhG4EHy9jzh"


def vector(name: str) -> bytes:
    return (PAYLOADS / "sdk_vectors" / f"{name}.json").read_bytes().strip()


def at(stamp: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(stamp + 1, tz=dt.UTC)


KNOWN_ANSWERS = [
    row(
        "SDK vector: standard payload",
        True,
        "ts=1710498758;h1=558bf93944dbeb4790c7a8af6cb2ea435c8ca9c8396aafc1a4e37424ac132744",
        secret=SDK_SECRET,
        body=vector("standard_payload"),
        now=at(1710498758),
    ),
    row(
        "SDK vector: special characters",
        True,
        "ts=1710498288;h1=38219b3ba1578184e625c29d201a27cd25bd69e2ec9c3ab87dcb90d87ff73a41",
        secret=SDK_SECRET,
        body=vector("special_chars_payload"),
        now=at(1710498288),
    ),
    row(
        "SDK vector: the rotated secret's h1 after a dummy one",
        True,
        "ts=1696195954;h1=dummy;h1=d96299976a6eb066f484d7fde011ac56fc32b38fc9940bc419d6e537fdc6ef02",
        secret=ROTATED,
        body=b"hello-world",
        now=at(1696195954),
    ),
    row(
        "SDK vector with another secret",
        False,
        "ts=1710498758;h1=558bf93944dbeb4790c7a8af6cb2ea435c8ca9c8396aafc1a4e37424ac132744",
        body=vector("standard_payload"),
        now=at(1710498758),
    ),
]

ROWS = [
    row("good", True, f"ts={T};h1={GOOD}"),
    row("signed by the test helper", True, sign(BODY, SECRET, at=NOW)["paddle-signature"]),
    row("rotation: a bad h1, then the good one", True, f"ts={T};h1={BAD};h1={GOOD}"),
    row("rotation: the good h1, then a bad one", True, f"ts={T};h1={GOOD};h1={BAD}"),
    row("only bad h1", False, f"ts={T};h1={BAD}"),
    row("upper-case hex", False, f"ts={T};h1={GOOD.upper()}"),
    row("empty h1", False, f"ts={T};h1="),
    row("no h1", False, f"ts={T}"),
    row("no ts", False, f"h1={GOOD}"),
    row("empty ts", False, f"ts=;h1={GOOD}"),
    row("fractional ts", False, f"ts={T}.5;h1={h1(stamp=f'{T}.5')}"),
    row("ts with a plus sign, its number signed", True, f"ts=+{T};h1={GOOD}"),
    row("the last of two ts", True, f"ts={T - 900};ts={T};h1={GOOD}"),
    row("a value with an equals sign", False, f"ts={T};h1={GOOD}=x"),
    row("spaces after the separator", False, f"ts={T}; h1={GOOD}"),
    row(
        "signed with a dot, not a colon",
        False,
        f"ts={T};h1={DOTTED}",
    ),
    row(
        "secret without its pdl_ntfset_ prefix as the key", False, f"ts={T};h1={h1(SECRET.removeprefix('pdl_ntfset_'))}"
    ),
    row("5 s old", True, f"ts={T - 5};h1={h1(stamp=T - 5)}"),
    row("6 s old", False, f"ts={T - 6};h1={h1(stamp=T - 6)}"),
    row("5 s ahead", True, f"ts={T + 5};h1={h1(stamp=T + 5)}"),
    row("6 s ahead", False, f"ts={T + 6};h1={h1(stamp=T + 6)}"),
    row("tampered body", False, f"ts={T};h1={GOOD}", body=BODY.replace(b"4900", b"1")),
    row("body with a trailing newline", False, f"ts={T};h1={GOOD}", body=BODY + b"\n"),
    row(
        "signed body that is not UTF-8",
        False,
        f"ts={T};h1={h1(body=NOT_UTF8)}",
        body=NOT_UTF8,
    ),
]

# (name, header, secret, the SDK's answer, TrackRev's answer)
DIVERGENCES = [
    # The SDK refuses a header with any key besides ts and h1: one Paddle adds must not turn deliveries away.
    pytest.param(f"ts={T};h1={GOOD};h2=0f0f", SECRET, False, True, id="an unknown key beside a good h1"),
    # An empty key signs nothing: a connection without a secret verifies nothing.
    pytest.param(f"ts={T};h1={h1('')}", "", True, False, id="no secret, signed with the empty key"),
]


def sdk_accepts(secret: str, body: bytes, header: str) -> bool:
    request = SimpleNamespace(headers={"Paddle-Signature": header}, body=body)
    try:
        return Verifier().verify(request, Secret(secret)) is True
    except (ValueError, ConnectionRefusedError):  # how it refuses a header it cannot parse, or a body
        return False


def trackrev_accepts(secret: str, body: bytes, header: str) -> bool:
    creds = ConnectionCredentials(api_token="t", webhook_secret=secret, api_base_url="", options={})
    try:
        PaddleAdapter(creds).verify_signature(body=body, headers={"paddle-signature": header})
    except SignatureInvalid:
        return False
    return True


@pytest.mark.parametrize(("secret", "body", "header", "now", "accepted"), KNOWN_ANSWERS + ROWS)
def test_trackrev_and_paddles_sdk_give_the_same_answer(secret, body, header, now, accepted):
    with time_machine.travel(now, tick=False):
        assert (sdk_accepts(secret, body, header), trackrev_accepts(secret, body, header)) == (accepted, accepted)


@pytest.mark.parametrize(("header", "secret", "sdk", "trackrev"), DIVERGENCES)
def test_where_trackrev_departs_from_the_sdk_on_purpose(header, secret, sdk, trackrev):
    with time_machine.travel(NOW, tick=False):
        assert (sdk_accepts(secret, BODY, header), trackrev_accepts(secret, BODY, header)) == (sdk, trackrev)


def test_a_signature_older_than_5_s_is_stale():
    creds = ConnectionCredentials(api_token="t", webhook_secret=SECRET, api_base_url="", options={})
    adapter = PaddleAdapter(creds, clock=lambda: NOW)
    with pytest.raises(SignatureStale):
        adapter.verify_signature(body=BODY, headers={"paddle-signature": f"ts={T - 6};h1={h1(stamp=T - 6)}"})
    adapter.verify_signature(body=BODY, headers={"paddle-signature": f"ts={T - 5};h1={h1(stamp=T - 5)}"})


# --- through the webhook endpoint: checked at receipt ------------------------------------------------


@pytest.mark.django_db(transaction=True, databases="__all__")
@pytest.mark.parametrize(("age", "status"), [(0, 202), (7, 401)], ids=["fresh", "7 s old"])
def test_the_webhook_endpoint_checks_the_5_s_window_at_receipt(client, age, status):
    connection = ProcessorConnectionFactory(
        processor="paddle", webhook_secret=SECRET, api_base_url="https://api.paddle.com"
    )
    signed = sign(BODY, SECRET, at=dt.datetime.fromtimestamp(time.time() - age, tz=dt.UTC))
    response = client.generic(
        "POST",
        f"/webhooks/paddle/{connection.workspace.public_id}",
        BODY,
        content_type="application/json",
        headers={"Paddle-Signature": signed["paddle-signature"]},
    )
    assert response.status_code == status
