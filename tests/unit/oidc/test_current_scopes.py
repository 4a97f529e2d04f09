"""The one rule bounding a grant by the client's registration now (issue 9, item 6)."""

from __future__ import annotations

from passport.oidc.revocation import current_scopes


def test_only_scopes_the_client_still_has_survive_in_granted_order() -> None:
    granted = ["openid", "email", "profile", "email", "offline_access"]
    assert current_scopes(granted, ("profile", "openid", "dni")) == ["openid", "profile"]


def test_nothing_survives_a_client_with_no_scopes() -> None:
    assert current_scopes(["openid", "email"], ()) == []
