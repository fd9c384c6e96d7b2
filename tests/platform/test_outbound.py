"""Requests to a URL a tenant chose (trackrev/common/outbound.py): only public addresses, checked when the
name is resolved and again at connect time, no redirects, a capped excerpt of the answer."""

import pytest

from trackrev.common.outbound import EXCERPT_BYTES, OutboundRefused, address_allowed, outbound_post, url_check

INTERNAL = [
    "127.0.0.1",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.10",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # CGNAT
    "0.0.0.0",  # noqa: S104 (an address refused, not bound)
    "224.0.0.1",
    "::1",
    "fe80::1",
    "fd00:ec2::254",  # a cloud's IPv6 metadata
    "::ffff:127.0.0.1",
]


@pytest.mark.parametrize("address", INTERNAL)
def test_internal_addresses_are_refused(address):
    assert not address_allowed(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700:4700::1111", "::ffff:93.184.216.34"])
def test_public_addresses_are_allowed(address):
    assert address_allowed(address)


def test_an_operator_may_allow_a_network_of_their_own(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["10.20.0.0/16"]
    assert address_allowed("10.20.3.4") and not address_allowed("10.21.0.1")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.example.com/", "Only https"),
        ("https://user:pw@hooks.example.com/", "no user name"),
        ("https://localhost/hook", "internal address"),
        ("https://127.0.0.1:8443/hook", "internal address"),
        ("https://nothing-here.invalid/hook", "does not resolve"),
    ],
)
def test_urls_that_may_not_be_asked(url, message):
    with pytest.raises(OutboundRefused, match=message):
        url_check(url)


def test_a_name_that_rebinds_to_an_internal_address_is_refused_at_connect_time(receiver, resolving, settings):
    settings.DEBUG = True  # the receiver speaks http; every address check still runs
    hook = receiver()
    resolving("hooks.example.com", "93.184.216.34", "127.0.0.1")  # public for the check, then loopback
    with pytest.raises(OutboundRefused, match=r"Connected to an internal address \(127\.0\.0\.1\)"):
        outbound_post(f"http://hooks.example.com:{hook.port}/", body=b"{}", headers={})
    assert hook.received == []


def test_a_delivery_reads_a_capped_excerpt_and_never_follows_a_redirect(receiver, settings, monkeypatch):
    settings.DEBUG, settings.OUTBOUND_ALLOWED_NETWORKS = True, ["127.0.0.1/32"]
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # a proxy would connect for us, unchecked: not used
    big = receiver(body=b"x" * (EXCERPT_BYTES * 5))
    answer = outbound_post(f"http://127.0.0.1:{big.port}/hook", body=b'{"a": 1}', headers={"X-Test": "1"})
    assert (answer.status, len(answer.excerpt), big.received) == (200, EXCERPT_BYTES, [b'{"a": 1}'])
    assert answer.duration_ms >= 0

    moved = receiver(status=302, headers={"Location": f"http://127.0.0.1:{big.port}/elsewhere"})
    answer = outbound_post(f"http://127.0.0.1:{moved.port}/hook", body=b"{}", headers={})
    assert answer.status == 302 and len(big.received) == 1  # the redirect was not followed
