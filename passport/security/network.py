"""Who is calling: the client IP behind trusted proxies, and the trusted networks.

``X-Forwarded-For`` is honoured for exactly ``TRUSTED_PROXY_COUNT`` hops (werkzeug's
ProxyFix takes the n-th address from the right), so a client cannot choose its own address
by sending the header itself. ``TRUSTED_NETWORKS`` lists CIDR ranges (UGEL or school egress
addresses) that get ``TRUSTED_RATE_LIMIT`` instead of the default per-IP limits.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import Flask
from flask import current_app
from flask import has_request_context
from flask import request
from werkzeug.middleware.proxy_fix import ProxyFix

from minedu_sso.settings import ConfigError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(
    values: Iterable[str], *, setting: str = "TRUSTED_NETWORKS"
) -> tuple[Network, ...]:
    """Parse CIDR strings (``10.1.0.0/16``, ``2001:db8::/32``, a bare address = one host)."""
    networks: list[Network] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ConfigError(f"{setting}: {value!r} is not a network") from None
    return tuple(networks)


def is_in_networks(address: str | None, networks: Iterable[Network]) -> bool:
    """True when ``address`` (an IP string) lies in one of ``networks``."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip.version == network.version and ip in network for network in networks)


def client_ip() -> str:
    """The caller's IP address (after ProxyFix); ``"unknown"`` outside a request."""
    if not has_request_context():
        return "unknown"
    return request.remote_addr or "unknown"


def is_trusted_client() -> bool:
    """True when the caller's address is in ``TRUSTED_NETWORKS``."""
    networks = current_app.extensions.get("passport.trusted_networks", ())
    return bool(networks) and is_in_networks(client_ip(), networks)


def init_network(app: Flask) -> None:
    """Parse the trusted networks once and trust ``TRUSTED_PROXY_COUNT`` proxy hops."""
    app.extensions["passport.trusted_networks"] = parse_networks(app.config["TRUSTED_NETWORKS"])
    hops = int(app.config["TRUSTED_PROXY_COUNT"])
    if hops < 0:
        raise ConfigError("TRUSTED_PROXY_COUNT must be 0 or more")
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0, x_prefix=0
        )


def is_loopback_http(url: str) -> bool:
    """True for http://127.0.0.1:PORT, http://[::1]:PORT or http://localhost:PORT (RFC 8252)."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False
