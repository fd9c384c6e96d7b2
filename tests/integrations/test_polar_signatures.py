"""Polar webhook signatures: TrackRev accepts exactly what Polar's own SDK accepts.

The oracle is `polar.webhooks.validate_event` of polar-sdk 1.0.2 (requirements-dev.txt). It accepts two
keys for a secret: its raw UTF-8 bytes (how Polar signs, polar.md §1.3) and the Standard Webhooks reading,
base64 after an optional `whsec_` (how a Standard Webhooks library given the same string signs). It reads
`webhook-timestamp` as a float (5 minutes either way, the floor is signed) and the signature header as a
whitespace-separated list of `v1,<strict base64>`. Each row below states the SDK's answer; TrackRev's
verifier must give the same one.
"""

import base64
import datetime as dt
import hashlib
import hmac
import time

import pytest
import time_machine
from polar.webhooks import PolarWebhookError
from polar.webhooks import validate_event as sdk_validate_event
from standardwebhooks.webhooks import Webhook

from integrations.processors.errors import SignatureInvalid
from integrations.processors.polar.adapter import PolarAdapter
from integrations.processors.types import ConnectionCredentials
from tests.factories.integrations import POLAR_SECRET, ProcessorConnectionFactory
from tests.integrations.polar import encode, payload, sign

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
T = int(NOW.timestamp())
MSG_ID = "a3d0a1b4-9f0e-4c59-8d1e-2f5b8c7a6e10"
BODY = encode(payload("order_created_purchase"))


def spec_key(secret: str) -> bytes:
    """The Standard Webhooks reading of a secret: base64 after `whsec_`."""
    rest = secret.removeprefix("whsec_")
    return base64.b64decode(rest + "=" * (-len(rest) % 4))


def v1(key: bytes, *, stamp=T, body: bytes = BODY, msg_id: str = MSG_ID) -> str:
    digest = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


GOOD = v1(POLAR_SECRET.encode())
BAD = v1(b"not the secret")


def headers(signature: str = GOOD, *, stamp=T, msg_id: str = MSG_ID) -> dict[str, str]:
    return {"webhook-id": msg_id, "webhook-timestamp": str(stamp), "webhook-signature": signature}


def row(name, accepted, *, secret=POLAR_SECRET, body=BODY, **request):
    return pytest.param(secret, body, request.get("headers") or headers(), accepted, id=name)


ROWS = [
    # Keys.
    row("raw secret, as Polar signs", True),
    row("signed the Polar way by the test helper", True, headers=sign(BODY, POLAR_SECRET, msg_id=MSG_ID, at=NOW)),
    row("whsec_ secret read the Standard Webhooks way", True, headers=headers(v1(spec_key(POLAR_SECRET)))),
    row(
        "a Standard Webhooks library given the whsec_ secret",
        True,
        headers=headers(Webhook(POLAR_SECRET).sign(MSG_ID, NOW, BODY.decode())),
    ),
    row("base64 of the secret as the key", False, headers=headers(v1(base64.b64encode(POLAR_SECRET.encode())))),
    row("another secret", False, headers=headers(BAD)),
    row("older polar_whs_ secret, raw", True, secret="polar_whs_Xy12", headers=headers(v1(b"polar_whs_Xy12"))),
    row("merchant secret, raw", True, secret="mysecretvalue123", headers=headers(v1(b"mysecretvalue123"))),
    row(
        "merchant secret of base64 characters, decoded although it has no whsec_",
        True,
        secret="mysecretvalue123",
        headers=headers(v1(base64.b64decode("mysecretvalue123"))),
    ),
    row(
        "secret whose rest is no base64 length: only the raw key",
        False,
        secret="whsec_abcde",
        headers=headers(v1(base64.b64decode("abcd"))),
    ),
    row("secret whose rest is no base64 length, raw", True, secret="whsec_abcde", headers=headers(v1(b"whsec_abcde"))),
    row("bare whsec_ secret, raw", True, secret="whsec_", headers=headers(v1(b"whsec_"))),
    row("empty secret", False, secret="", headers=headers(v1(b""))),
    # webhook-timestamp.
    row("fractional timestamp, floor signed", True, headers=headers(stamp=f"{T}.5")),
    row(
        "fractional timestamp signed as sent",
        False,
        headers=headers(v1(POLAR_SECRET.encode(), stamp=f"{T}.5"), stamp=f"{T}.5"),
    ),
    row("timestamp with an exponent", True, headers=headers(stamp=f"{T}e0")),
    row("timestamp with underscores", True, headers=headers(stamp=f"{T:_}")),
    row("timestamp with a plus sign", True, headers=headers(stamp=f"+{T}")),
    row("timestamp with surrounding spaces", True, headers=headers(stamp=f" {T} ")),
    row("hexadecimal timestamp", False, headers=headers(stamp=hex(T))),
    row("nan timestamp", False, headers=headers(stamp="nan")),
    row("infinite timestamp", False, headers=headers(stamp="inf")),
    row("timestamp not a number", False, headers=headers(stamp="yesterday")),
    row("5 minutes old", True, headers=headers(v1(POLAR_SECRET.encode(), stamp=T - 300), stamp=T - 300)),
    row(
        "5 minutes and half a second old",
        False,
        headers=headers(v1(POLAR_SECRET.encode(), stamp=T - 301), stamp=f"{T - 301}.5"),
    ),
    row("5 minutes and a second old", False, headers=headers(v1(POLAR_SECRET.encode(), stamp=T - 301), stamp=T - 301)),
    row("5 minutes ahead", True, headers=headers(v1(POLAR_SECRET.encode(), stamp=T + 300), stamp=T + 300)),
    row(
        "5 minutes and half a second ahead",
        False,
        headers=headers(v1(POLAR_SECRET.encode(), stamp=T + 300), stamp=f"{T + 300}.5"),
    ),
    row(
        "5 minutes and a second ahead", False, headers=headers(v1(POLAR_SECRET.encode(), stamp=T + 301), stamp=T + 301)
    ),
    # webhook-signature.
    row("good after a bad one", True, headers=headers(f"{BAD} {GOOD}")),
    row("good before a bad one", True, headers=headers(f"{GOOD} {BAD}")),
    row("separated by a tab and padded with spaces", True, headers=headers(f"  {BAD}\t{GOOD}  ")),
    row("good beside garbage", True, headers=headers(f"garbage,, {GOOD} v1")),
    row("only bad ones", False, headers=headers(f"{BAD} {v1(b'x')}")),
    row("version v2", False, headers=headers(GOOD.replace("v1,", "v2,"))),
    row("version V1", False, headers=headers(GOOD.replace("v1,", "V1,"))),
    row("no comma", False, headers=headers(GOOD.replace("v1,", "v1"))),
    row("no version", False, headers=headers(GOOD.removeprefix("v1"))),
    row("a trailing field", False, headers=headers(f"{GOOD},x")),
    row("unpadded base64", False, headers=headers(GOOD.rstrip("="))),
    row("extra padding", False, headers=headers(f"{GOOD}=")),
    row("empty signature", False, headers=headers("v1,")),
    # Headers and body.
    row("no webhook-id", False, headers={k: v for k, v in headers().items() if k != "webhook-id"}),
    row("no webhook-timestamp", False, headers={k: v for k, v in headers().items() if k != "webhook-timestamp"}),
    row("no webhook-signature", False, headers={k: v for k, v in headers().items() if k != "webhook-signature"}),
    row("empty webhook-id", False, headers=headers(v1(POLAR_SECRET.encode(), msg_id=""), msg_id="")),
    row("another webhook-id", False, headers=headers(msg_id="b3d0a1b4")),
    row("tampered body", False, body=BODY.replace(b"4410", b"1")),
    row("body with a trailing newline", False, body=BODY + b"\n"),
    row(
        "signed body that is not UTF-8",
        False,
        body=BODY[:-1] + b', "x": "\xff"}',
        headers=headers(v1(POLAR_SECRET.encode(), body=BODY[:-1] + b', "x": "\xff"}')),
    ),
]


def sdk_accepts(secret: str, body: bytes, request_headers: dict) -> bool:
    try:
        sdk_validate_event(body, dict(request_headers), secret, frozenset({"order.created"}), lambda data: data)
    except PolarWebhookError:
        return False
    return True


def trackrev_accepts(secret: str, body: bytes, request_headers: dict) -> bool:
    creds = ConnectionCredentials(api_token="t", webhook_secret=secret, api_base_url="", options={})
    try:
        PolarAdapter(creds).verify_signature(body=body, headers=request_headers)
    except SignatureInvalid:
        return False
    return True


@pytest.mark.parametrize(("secret", "body", "request_headers", "accepted"), ROWS)
def test_trackrev_and_polars_sdk_give_the_same_answer(secret, body, request_headers, accepted):
    with time_machine.travel(NOW, tick=False):
        assert (sdk_accepts(secret, body, request_headers), trackrev_accepts(secret, body, request_headers)) == (
            accepted,
            accepted,
        )


# --- through the webhook endpoint ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True, databases="__all__")
@pytest.mark.parametrize(
    ("signed", "status"),
    [
        pytest.param(
            lambda now: headers(v1(spec_key(POLAR_SECRET), stamp=now), stamp=now), 202, id="whsec_ read the spec way"
        ),
        pytest.param(
            lambda now: headers(v1(POLAR_SECRET.encode(), stamp=now), stamp=f"{now}.25"), 202, id="fractional"
        ),
        pytest.param(
            lambda now: headers(v1(POLAR_SECRET.encode(), stamp=now).replace("v1,", "v2,"), stamp=now), 401, id="v2"
        ),
    ],
)
def test_the_webhook_endpoint_answers_as_the_sdk_decides(client, signed, status):
    connection = ProcessorConnectionFactory()
    response = client.generic(
        "POST",
        f"/webhooks/polar/{connection.workspace.public_id}",
        BODY,
        content_type="application/json",
        headers=signed(int(time.time())),
    )
    assert response.status_code == status
