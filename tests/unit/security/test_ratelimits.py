"""Trusted networks and the limits chosen for an address (no HTTP needed)."""

from __future__ import annotations

import pytest
from flask import Flask

from minedu_sso.settings import ConfigError
from passport.security.network import is_in_networks
from passport.security.network import parse_networks
from passport.security.ratelimits import _account_limit
from passport.security.ratelimits import _authorize_limit
from passport.security.ratelimits import _login_limit


def test_cidr_ranges_and_single_hosts_are_parsed() -> None:
    networks = parse_networks(["10.20.0.0/16", "192.0.2.7", "2001:db8::/32"])
    assert is_in_networks("10.20.255.1", networks)
    assert is_in_networks("192.0.2.7", networks)
    assert not is_in_networks("192.0.2.8", networks)
    assert is_in_networks("2001:db8::1", networks)
    assert not is_in_networks("10.21.0.1", networks)


def test_garbage_addresses_are_not_trusted() -> None:
    networks = parse_networks(["10.0.0.0/8"])
    assert not is_in_networks("unknown", networks)
    assert not is_in_networks(None, networks)
    assert not is_in_networks("", networks)


def test_a_malformed_network_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="TRUSTED_NETWORKS"):
        parse_networks(["10.0.0.0/33"])


def test_the_limit_depends_on_the_address(app: Flask) -> None:
    app.extensions["passport.trusted_networks"] = parse_networks(["10.20.0.0/16"])
    try:
        with app.test_request_context("/", environ_base={"REMOTE_ADDR": "10.20.1.1"}):
            assert _login_limit() == app.config["TRUSTED_RATE_LIMIT"]
            assert _account_limit() == app.config["TRUSTED_RATE_LIMIT"]
            assert _authorize_limit() == app.config["TRUSTED_RATE_LIMIT"]
        with app.test_request_context("/", environ_base={"REMOTE_ADDR": "198.51.100.1"}):
            assert _login_limit() == app.config["LOGIN_RATE_LIMIT"]
            assert _account_limit() == app.config["ACCOUNT_RATE_LIMIT"]
            assert _authorize_limit() == app.config["AUTHORIZE_RATE_LIMIT"]
    finally:
        app.extensions["passport.trusted_networks"] = ()
