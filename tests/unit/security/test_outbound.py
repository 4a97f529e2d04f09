"""The outbound-request policy: resolved-address checks, pinning, deadline, size cap, redirects."""

from __future__ import annotations

import ipaddress
import socket
import time

import pytest

from passport.security.outbound import OutboundError
from passport.security.outbound import OutboundPolicy
from passport.security.outbound import check_url
from passport.security.outbound import send
from tests.served import Answer
from tests.served import self_signed_certificate

PRODUCTION = OutboundPolicy(check_addresses=True, require_https=True)
# Production with loopback allowed on purpose (PASSPORT_OUTBOUND_ALLOW=127.0.0.0/8), so the
# local test servers below are reachable while every other rule applies.
PRODUCTION_LOOPBACK_ALLOWED = OutboundPolicy(
    check_addresses=True, require_https=True, allowed=(ipaddress.ip_network("127.0.0.0/8"),)
)
HOSTILE_HOSTS = [
    "127.1",
    "0x7f000001",
    "2130706433",
    "[::ffff:127.0.0.1]",
    "0.0.0.0",  # noqa: S104 - a destination here, not a bind address
    "localhost.",
    "169.254.169.254",
    "10.0.0.5",
    "[::1]",
    "[::]",
    "[2002:7f00:1::]",  # 6to4 wrapping 127.0.0.1
    "[64:ff9b::a00:5]",  # NAT64 wrapping 10.0.0.5
    "[fe80::1]",
    "224.0.0.1",
    "[ff02::1]",
    "100.64.0.1",
    "192.168.1.1",
    "172.16.0.1",
]


def ok(body: bytes = b'{"keys": []}') -> Answer:
    return Answer(body)


def fake_dns(monkeypatch: pytest.MonkeyPatch, names: dict[str, str]) -> list[str]:
    """Answer ``names`` with the given address; record every name looked up."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        asked.append(host)
        if host in names:
            return real(names[host], port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


@pytest.mark.parametrize("host", HOSTILE_HOSTS)
def test_internal_addresses_are_refused_in_production_whatever_their_spelling(host) -> None:
    with pytest.raises(OutboundError):
        check_url(f"https://{host}/jwks.json", PRODUCTION)


@pytest.mark.parametrize("host", HOSTILE_HOSTS)
def test_a_public_name_resolving_to_an_internal_address_is_refused(monkeypatch, host) -> None:
    address = host.strip("[]")
    if address == "localhost.":
        address = "127.0.0.1"
    fake_dns(monkeypatch, {"jwks.rp.example": address})
    with pytest.raises(OutboundError, match=r"internal address|does not resolve"):
        check_url("https://jwks.rp.example/jwks.json", PRODUCTION)


def test_one_internal_address_among_public_ones_is_enough_to_refuse(monkeypatch) -> None:
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host == "mixed.rp.example":
            return real("93.184.216.34", port, *args, **kwargs) + real(
                "10.0.0.5", port, *args, **kwargs
            )
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(OutboundError, match="internal address"):
        check_url("https://mixed.rp.example/", PRODUCTION)


def test_public_addresses_pass_and_are_what_is_dialled(monkeypatch) -> None:
    fake_dns(monkeypatch, {"jwks.rp.example": "93.184.216.34"})
    target = check_url("https://jwks.rp.example:8443/k?x=1", PRODUCTION)
    assert target.addresses == ("93.184.216.34",)
    assert target.host_header == "jwks.rp.example:8443"
    assert target.path == "/k?x=1"


def test_the_allow_list_opens_chosen_internal_networks_only() -> None:
    policy = OutboundPolicy(
        check_addresses=True, require_https=True, allowed=(ipaddress.ip_network("10.0.0.0/24"),)
    )
    assert check_url("https://10.0.0.5/bcl", policy).addresses == ("10.0.0.5",)
    with pytest.raises(OutboundError):
        check_url("https://10.0.1.5/bcl", policy)


def test_production_requires_https_and_development_resolves_nothing(monkeypatch) -> None:
    with pytest.raises(OutboundError, match="https"):
        check_url("http://93.184.216.34/", PRODUCTION)
    with pytest.raises(OutboundError, match="https"):
        check_url("http://93.184.216.34/", PRODUCTION_LOOPBACK_ALLOWED)
    # A receiver the operator allowed may be plain http (the loopback deployment's case).
    assert check_url("http://127.0.0.1:5001/bcl", PRODUCTION_LOOPBACK_ALLOWED).addresses
    asked = fake_dns(monkeypatch, {})
    assert check_url("http://127.0.0.1:9/", OutboundPolicy()).addresses == ("127.0.0.1",)
    assert asked == []


def test_dns_answer_is_checked_at_connect_time_and_nothing_is_sent(monkeypatch, canned) -> None:
    server = canned(ok())
    # Registered while the name was public; now it answers with loopback.
    fake_dns(monkeypatch, {"jwks.rp.example": "127.0.0.1"})
    url = f"https://jwks.rp.example:{server.port}/"
    with pytest.raises(OutboundError, match="internal address"):
        send("GET", url, policy=PRODUCTION, deadline_seconds=2)
    assert server.requests == []


def test_the_checked_address_is_dialled_with_the_original_host(monkeypatch, canned) -> None:
    server = canned(ok(b"hello"))
    asked = fake_dns(monkeypatch, {"rp.example": "127.0.0.1"})
    response = send(
        "GET",
        f"http://rp.example:{server.port}/jwks.json",
        policy=PRODUCTION_LOOPBACK_ALLOWED,
        deadline_seconds=2,
        max_bytes=100,
    )
    assert (response.status, response.body) == (200, b"hello")
    assert [request.headers.get("Host") for request in server.requests] == [
        f"rp.example:{server.port}"
    ]
    # Resolved once, by the check: the connection used the checked address, not a new lookup.
    assert asked.count("rp.example") == 1


# Headers at once, then the 30 bytes of the body one a second.
DRIP_BODY = Answer(b"x" * 30, headers={"Content-Length": "30"}, drip=1)
# A status line and a header that never end, a byte every 0.2 s.
DRIP_HEADERS = Answer(raw=b"HTTP/1.1 200 OK\r\nX-Slow: " + b"y" * 30, drip=0.2)


@pytest.mark.parametrize("answer", [DRIP_BODY, DRIP_HEADERS], ids=["body", "headers"])
def test_a_server_sending_one_byte_at_a_time_is_cut_at_the_deadline(canned, answer) -> None:
    server = canned(answer)
    started = time.monotonic()
    with pytest.raises(OutboundError, match="deadline exceeded"):
        send("GET", server.url + "/", policy=OutboundPolicy(), deadline_seconds=1, max_bytes=100)
    assert time.monotonic() - started < 3  # the deadline is 1 s; the old fetch took 20 s


def test_a_body_over_the_cap_is_refused_with_or_without_content_length(canned) -> None:
    big = b"x" * 70_000
    server = canned(ok(big))
    with pytest.raises(OutboundError, match="too large"):
        send("GET", server.url, policy=OutboundPolicy(), deadline_seconds=2, max_bytes=65536)
    unannounced = canned(Answer(big, length=False))  # HTTP/1.0: the body ends at the close
    with pytest.raises(OutboundError, match="too large"):
        send("GET", unannounced.url, policy=OutboundPolicy(), deadline_seconds=2, max_bytes=65536)


@pytest.mark.parametrize("length", ["\u00b2", "\u00b9\u00b2", "7\u00b3"])
def test_a_content_length_of_non_ascii_digits_is_ignored_not_a_crash(canned, length) -> None:
    """ "²" passes str.isdigit() but int() refuses it: the header is ignored, the cap holds."""

    def odd_length(body: bytes) -> Answer:
        return Answer(body, headers={"Content-Length": length})  # HTTP/1.0, ends at the close

    small = canned(odd_length(b'{"keys": []}'))
    response = send("GET", small.url, policy=OutboundPolicy(), deadline_seconds=2, max_bytes=100)
    assert response.body == b'{"keys": []}'
    big = canned(odd_length(b"x" * 70_000))
    with pytest.raises(OutboundError, match="too large"):
        send("GET", big.url, policy=OutboundPolicy(), deadline_seconds=2, max_bytes=65536)


def test_a_redirect_is_not_followed(canned) -> None:
    redirect = Answer(status=302, headers={"Location": "/target"})
    server = canned(redirect, routes={"/target": ok()})
    response = send(
        "GET", server.url + "/start", policy=OutboundPolicy(), deadline_seconds=2, max_bytes=100
    )
    assert response.status == 302
    assert [request.path for request in server.requests] == ["/start"]


@pytest.mark.parametrize("served_name", ["rp.example", "other.example"])
def test_https_dials_the_checked_address_and_verifies_the_urls_host(
    tmp_path, monkeypatch, canned, served_name
) -> None:
    import ssl

    cert_file, key_file = map(str, self_signed_certificate(tmp_path, served_name))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server = canned(ok(b"tls"), tls=context)
    monkeypatch.setenv("SSL_CERT_FILE", cert_file)  # the default trust store, for this test
    fake_dns(monkeypatch, {"rp.example": "127.0.0.1"})
    policy = OutboundPolicy(
        check_addresses=True, require_https=True, allowed=(ipaddress.ip_network("127.0.0.1"),)
    )
    url = f"https://rp.example:{server.port}/jwks.json"
    if served_name == "rp.example":
        response = send("GET", url, policy=policy, deadline_seconds=3, max_bytes=100)
        assert (response.status, response.body) == (200, b"tls")
    else:
        with pytest.raises(OutboundError):
            send("GET", url, policy=policy, deadline_seconds=3, max_bytes=100)


def test_a_malformed_allow_list_stops_the_start(database_url, outbox_dir) -> None:
    from minedu_sso.settings import ConfigError
    from tests.conftest import make_test_app

    with pytest.raises(ConfigError, match="OUTBOUND_ALLOW"):
        make_test_app(database_url, outbox_dir, OUTBOUND_ALLOW=("10.0.0.0/33",))


def test_a_slow_dns_answer_counts_against_the_deadline(monkeypatch) -> None:
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host == "slow.rp.example":
            time.sleep(3)  # a resolver the client controls, answering late on purpose
            return real("93.184.216.34", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    started = time.monotonic()
    with pytest.raises(OutboundError, match="deadline exceeded"):
        send("GET", "https://slow.rp.example/", policy=PRODUCTION, deadline_seconds=0.5)
    assert time.monotonic() - started < 2
