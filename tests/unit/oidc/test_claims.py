"""Scope-to-claim release rules and the claims request parameter."""

from __future__ import annotations

import pytest

from passport.oidc.claims import allowed_claims
from passport.oidc.claims import parse_claims_parameter


def test_preferred_username_is_the_dni_so_it_needs_the_dni_scope() -> None:
    assert "preferred_username" not in allowed_claims({"openid", "profile"})
    assert "preferred_username" in allowed_claims({"openid", "profile", "dni"})
    assert "dni" not in allowed_claims({"openid", "profile", "email"})


def test_each_scope_releases_its_own_claims_only() -> None:
    assert allowed_claims({"email"}) == {"email", "email_verified"}
    assert allowed_claims({"phone"}) == {"phone_number", "phone_number_verified"}
    assert allowed_claims({"address"}) == {"address"}
    assert allowed_claims({"openid", "offline_access"}) == set()


def test_claims_parameter_is_parsed() -> None:
    parsed = parse_claims_parameter('{"userinfo": {"email": {"essential": true}}, "x": 1}')
    assert parsed == {"userinfo": {"email": {"essential": True}}}
    assert parse_claims_parameter(None) is None


@pytest.mark.parametrize(
    "raw", ["not json", "[]", '{"id_token": []}', '{"userinfo": {"email": 5}}', "{" * 5000]
)
def test_malformed_claims_parameter_is_refused(raw) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - json.JSONDecodeError is a ValueError
        parse_claims_parameter(raw)
