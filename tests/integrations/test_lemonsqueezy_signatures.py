"""Lemon Squeezy webhook signatures: `X-Signature` is the hex HMAC-SHA256 of the raw body, keyed with the
signing secret the user typed (docs.lemonsqueezy.com/help/webhooks/signing-requests; the official Laravel
package's VerifyWebhookSignature: `hash_equals(hash_hmac('sha256', $payload, $secret), $signature)`).
No time is signed; the delivery id is the body's hash, so a retry (the same body) dedups in the inbox.

Neither Lemon Squeezy's docs nor its Laravel package's tests publish a (secret, body, signature) triple:
the known answers here are RFC 4231's HMAC-SHA256 test case 2, which `hash_hmac('sha256', …)` and Node's
`createHmac('sha256', secret).update(body).digest('hex')` (the docs' examples) give alike, and one computed
outside Python with `openssl dgst -sha256 -hmac` (Node's `createHmac` gives the same).
"""

import json

import pytest

from integrations.processors.errors import PayloadInvalid, SignatureInvalid
from integrations.processors.lemonsqueezy import adapter as adapter_module
from integrations.processors.lemonsqueezy.adapter import LemonSqueezyAdapter
from integrations.processors.signing import constant_time_equal, sha256_hex
from integrations.processors.types import ConnectionCredentials
from tests.integrations.lemonsqueezy import encode, payload, sign

SECRET = "ls-signing-secret-7Qm2vR9t"
# RFC 4231 §4.3 (test case 2): key "Jefe".
RFC4231_BODY = b"what do ya want for nothing?"
RFC4231_SIGNATURE = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
# `printf '%s' '{"meta":{"event_name":"order_created"},"data":{"type":"orders","id":"1"}}' |
#  openssl dgst -sha256 -hmac 'ls-signing-secret-7Qm2vR9t'`
OPENSSL_BODY = b'{"meta":{"event_name":"order_created"},"data":{"type":"orders","id":"1"}}'
OPENSSL_SIGNATURE = "2f46e62512b66414ceaecc93a37cc87048cb9f838b9e917bf78161b7a814e1cc"


def adapter(secret: str = SECRET) -> LemonSqueezyAdapter:
    return LemonSqueezyAdapter(ConnectionCredentials(api_token="", webhook_secret=secret, api_base_url="", options={}))


@pytest.mark.parametrize(
    ("secret", "body", "signature"),
    [
        pytest.param("Jefe", RFC4231_BODY, RFC4231_SIGNATURE, id="RFC 4231 case 2"),
        pytest.param(SECRET, OPENSSL_BODY, OPENSSL_SIGNATURE, id="openssl"),
    ],
)
def test_known_answers_verify(secret, body, signature):
    adapter(secret).verify_signature(body=body, headers={"x-signature": signature})
    adapter(secret).verify_signature(body=body, headers={"x-signature": signature.upper()})  # hex, any case
    with pytest.raises(SignatureInvalid):
        adapter(secret + "x").verify_signature(body=body, headers={"x-signature": signature})


BODY = encode(payload("order_created"))


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no header"),
        pytest.param({"x-signature": ""}, id="empty"),
        pytest.param({"x-signature": "not hex at all"}, id="not hex"),
        pytest.param({"x-signature": sign(BODY, SECRET)["x-signature"][:-2]}, id="truncated"),
        pytest.param({"x-signature": "sha256=" + sign(BODY, SECRET)["x-signature"]}, id="prefixed"),
        pytest.param({"x-signature": sign(BODY + b" ", SECRET)["x-signature"]}, id="another body"),
    ],
)
def test_anything_but_the_bodys_hex_hmac_is_rejected(headers):
    with pytest.raises(SignatureInvalid):
        adapter().verify_signature(body=BODY, headers=headers)


def test_no_secret_verifies_nothing():
    with pytest.raises(SignatureInvalid):
        adapter("").verify_signature(body=BODY, headers=sign(BODY, ""))


def test_the_comparison_is_the_shared_constant_time_one(monkeypatch):
    calls = []

    def recorded(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return constant_time_equal(a, b)

    monkeypatch.setattr(adapter_module, "constant_time_equal", recorded)
    adapter().verify_signature(body=BODY, headers=sign(BODY, SECRET))
    assert len(calls) == 1


def test_the_delivery_id_is_the_bodys_hash():
    headers = sign(BODY, SECRET)
    assert adapter().delivery_id(body=BODY, headers=headers, payload=json.loads(BODY)) == sha256_hex(BODY)
    other = encode(payload("order_refunded"))
    assert adapter().delivery_id(body=other, headers=sign(other, SECRET), payload=json.loads(other)) != sha256_hex(BODY)


def test_an_event_name_header_that_disagrees_with_the_signed_body_is_unreadable():
    parsed = adapter().parse_event(body=BODY, headers=sign(BODY, SECRET))
    assert parsed.event_type == "order_created"
    assert adapter().parse_event(body=BODY, headers={}).event_type == "order_created"  # the body decides
    with pytest.raises(PayloadInvalid):
        adapter().parse_event(body=BODY, headers={**sign(BODY, SECRET), "x-event-name": "order_refunded"})
