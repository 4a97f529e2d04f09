"""Every HTTP request Passport itself makes to a client's URL (jwks_uri, back-channel logout).

One policy, used both when a client registers a URL and when Passport connects to it:

* In production (``PASSPORT_ENV=production``) the host is resolved and refused when any of its
  addresses is loopback, private, link-local, unspecified, multicast, reserved or shared
  (100.64/10), or an IPv4-mapped, 6to4 or NAT64 form of one. The check runs on the resolved
  addresses (``ipaddress``), never on the host string, so ``127.1``, ``0x7f000001``,
  ``localhost.`` or a public name that resolves to ``10.0.0.5`` are all caught. The request
  then connects to the address that was checked (TLS still verifies the original host name),
  so a second DNS answer cannot swap it for an internal one.
* ``PASSPORT_OUTBOUND_ALLOW`` (CIDRs) lets an operator reach internal receivers on purpose. A
  loopback deployment (an ``http://127.0.0.1``/``localhost`` issuer, CONTRACT.md) may call its
  clients on loopback without that setting. Plain http is accepted only to such receivers.
* Development and testing resolve nothing (loopback-friendly); everything below still applies.

Every request has a total deadline (name resolution, connect, TLS, headers and body together;
a watchdog shuts the socket down when it passes), a body size cap, and follows no redirect.
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import socket
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from urllib.parse import urlsplit

from flask import Flask
from flask import current_app
from urllib3.connection import HTTPConnection
from urllib3.connection import HTTPSConnection
from urllib3.exceptions import HTTPError as Urllib3Error

from passport.security.network import Network
from passport.security.network import is_loopback_http
from passport.security.network import parse_networks


def init_outbound(app: Flask) -> None:
    """Parse PASSPORT_OUTBOUND_ALLOW once (a bad value stops the start)."""
    app.extensions["passport.outbound_allow"] = parse_networks(
        app.config["OUTBOUND_ALLOW"], setting="OUTBOUND_ALLOW"
    )


Address = ipaddress.IPv4Address | ipaddress.IPv6Address

LOOPBACK_NETWORKS: tuple[Network, ...] = (
    ipaddress.ip_network("127.0.0.0/8"),
    ipaddress.ip_network("::1/128"),
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")
RESOLVE_TIMEOUT_SECONDS = 5.0  # at registration; a request's own deadline bounds it otherwise
_resolver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="passport-dns")


class OutboundError(Exception):
    """A URL or a response Passport will not use; ``str()`` is a short reason safe to log."""


@dataclass(frozen=True)
class OutboundPolicy:
    """Where Passport may send requests (see the module docstring)."""

    check_addresses: bool = False
    require_https: bool = False  # except to ``allowed`` addresses
    allowed: tuple[Network, ...] = ()


def current_policy() -> OutboundPolicy:
    """The policy of the running app (read it in the request, pass it to worker threads)."""
    config = current_app.config
    if config["ENV"] != "production":
        return OutboundPolicy()
    allowed: tuple[Network, ...] = current_app.extensions["passport.outbound_allow"]
    if is_loopback_http(config["ISSUER"]):
        allowed += LOOPBACK_NETWORKS
    return OutboundPolicy(check_addresses=True, require_https=True, allowed=allowed)


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address carried by an IPv4-mapped, 6to4 or NAT64 IPv6 address."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_internal(address: Address) -> bool:
    """Not a public unicast address (or a public-looking wrapper of an internal one)."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None and is_internal(inner):
            return True
    return (
        not address.is_global
        or address.is_multicast
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_unspecified
        or address.is_reserved
    )


def is_allowed(address: Address, networks: Iterable[Network]) -> bool:
    """The address (or the IPv4 address it wraps) lies in one of ``networks``."""
    candidates: list[Address] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            candidates.append(inner)
    return any(
        ip.version == network.version and ip in network for ip in candidates for network in networks
    )


def resolve(host: str, port: int, timeout: float = RESOLVE_TIMEOUT_SECONDS) -> list[Address]:
    """Every address ``host`` resolves to (a literal resolves to itself), in resolver order.

    getaddrinfo has no timeout and a client's DNS server may answer slowly on purpose: the
    lookup runs on a small pool and is given up after ``timeout`` (the pool bounds the
    lookups still running).
    """
    lookup = _resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = lookup.result(timeout=max(timeout, 0.0))
    except FutureTimeout:
        lookup.cancel()
        raise OutboundError("deadline exceeded") from None
    except (OSError, UnicodeError):
        raise OutboundError("host does not resolve") from None
    addresses: list[Address] = []
    for info in infos:
        try:
            address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        except ValueError:
            continue
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise OutboundError("host does not resolve")
    return addresses


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect and what to send."""

    scheme: str
    host: str  # as written in the URL (SNI, certificate check, Host header)
    port: int
    path: str  # path and query
    addresses: tuple[str, ...]  # the checked addresses to connect to, in order

    @property
    def host_header(self) -> str:
        name = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return name if self.port == default else f"{name}:{self.port}"


def check_url(url: str, policy: OutboundPolicy, timeout: float = RESOLVE_TIMEOUT_SECONDS) -> Target:
    """The one URL rule for outbound requests (registration and connect time); or refuse."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise OutboundError("not a valid URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise OutboundError("not an absolute http(s) URL")
    if parts.username or parts.password:
        raise OutboundError("must not contain credentials")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not policy.check_addresses:
        return Target(parts.scheme, host, port, path, (host,))
    addresses = resolve(host, port, timeout)
    for address in addresses:
        chosen = is_allowed(address, policy.allowed)
        if is_internal(address) and not chosen:
            raise OutboundError("resolves to an internal address")
        # Plain http only to a receiver the operator chose (or loopback, CONTRACT.md).
        if policy.require_https and parts.scheme != "https" and not chosen:
            raise OutboundError("must use https")
    return Target(parts.scheme, host, port, path, tuple(str(a) for a in addresses))


class _Watchdog:
    """Shuts the request's socket down at the deadline, whatever phase it is in.

    Per-operation socket timeouts do not bound a peer that sends one byte a second; shutting
    the socket down makes the blocked read return at once. The file descriptor is recorded
    when the socket is created (TLS wrapping moves it to another object) and forgotten, under
    the same lock, before that socket is closed, so the watchdog never touches a reused one.
    """

    def __init__(self, seconds: float) -> None:
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._finished = False
        self.fired = False
        self.deadline = time.monotonic() + seconds
        self._timer = threading.Timer(max(seconds, 0.0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    @property
    def expired(self) -> bool:
        """The deadline has passed (a socket timeout then is the deadline too)."""
        return self.fired or time.monotonic() >= self.deadline

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._fd = sock.fileno()
        if self.fired:
            sock.shutdown(socket.SHUT_RDWR)

    def _fire(self) -> None:
        with self._lock:
            if self._finished:
                return
            self.fired = True
            if self._fd is None:
                return
            try:
                dup = socket.socket(fileno=os.dup(self._fd))
            except OSError:
                return
            try:
                dup.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            finally:
                dup.close()

    def release(self, connection: HTTPConnection, *, finished: bool = False) -> None:
        """Forget the connection's socket, then close it (never the other way round)."""
        with self._lock:
            self._fd = None
            if finished:
                self._finished = True
                self._timer.cancel()
        connection.close()

    def stop(self) -> None:
        with self._lock:
            self._finished = True
            self._timer.cancel()


def _connection_class(https: bool, watchdog: _Watchdog) -> type[HTTPConnection]:
    base = HTTPSConnection if https else HTTPConnection

    class Watched(base):  # type: ignore[valid-type,misc]
        def _new_conn(self) -> socket.socket:
            sock: socket.socket = super()._new_conn()
            watchdog.watch(sock)
            return sock

    return Watched


@dataclass(frozen=True)
class OutboundResponse:
    """What came back: the status and, when asked for, the (capped) body."""

    status: int
    body: bytes


def send(
    method: str,
    url: str,
    *,
    policy: OutboundPolicy,
    deadline_seconds: float,
    max_bytes: int = 0,
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> OutboundResponse:
    """One request under the policy; raise OutboundError on any refusal or failure.

    The body is read only when ``max_bytes`` > 0, and refused when longer. No redirect is
    followed (a 3xx is just a status), and nothing is decompressed.
    """
    watchdog = _Watchdog(deadline_seconds)
    deadline = watchdog.deadline
    connection: HTTPConnection | None = None
    try:
        target = check_url(url, policy, timeout=deadline_seconds)
        connection = _connect(target, deadline, watchdog)
        payload = urlencode(form).encode() if form is not None else None
        request_headers = {
            "Host": target.host_header,
            "Accept-Encoding": "identity",
            "User-Agent": "Passport",
            **(headers or {}),
        }
        if payload is not None:
            request_headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(
            method,
            target.path,
            body=payload,
            headers=request_headers,
            preload_content=False,
            decode_content=False,
        )
        response = connection.getresponse()
        body = _read_body(response, max_bytes) if max_bytes > 0 else b""
        if watchdog.fired:
            raise OutboundError("deadline exceeded")
        return OutboundResponse(response.status, body)
    except (OSError, Urllib3Error, http.client.HTTPException, ValueError) as exc:
        raise OutboundError(_reason(exc, watchdog)) from None
    finally:
        if connection is not None:
            watchdog.release(connection, finished=True)
        else:
            watchdog.stop()


def _connect(target: Target, deadline: float, watchdog: _Watchdog) -> HTTPConnection:
    """Connect to the first checked address that answers before the deadline."""
    connection_class = _connection_class(target.scheme == "https", watchdog)
    error: Exception | None = None
    for address in target.addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or watchdog.fired:
            break
        options: dict[str, Any] = {"timeout": remaining}
        if target.scheme == "https":
            # The checked address is dialled; the certificate is verified for the URL's host.
            options["server_hostname"] = target.host
        connection = connection_class(address, target.port, **options)
        try:
            connection.connect()
        except (OSError, Urllib3Error, http.client.HTTPException) as exc:
            error = exc
            watchdog.release(connection)
            continue
        return connection
    raise OutboundError(_reason(error, watchdog))


def _read_body(response: Any, max_bytes: int) -> bytes:
    """The body, refused beyond ``max_bytes`` (checked as it arrives, not only at the end)."""
    length = response.headers.get("Content-Length")
    # ASCII only: str.isdigit() also accepts "²", which int() refuses (the fetch failed on it).
    if length is not None and length.isascii() and length.isdigit() and int(length) > max_bytes:
        raise OutboundError("response too large")
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read1(8192):
        size += len(chunk)
        if size > max_bytes:
            raise OutboundError("response too large")
        chunks.append(chunk)
    return b"".join(chunks)


def _reason(error: Exception | None, watchdog: _Watchdog) -> str:
    """A short, secret-free reason for a failed request."""
    if watchdog.expired:
        return "deadline exceeded"
    return type(error).__name__ if error is not None else "unreachable"
