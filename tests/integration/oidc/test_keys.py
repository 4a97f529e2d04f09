"""Key storage, rotation and pruning."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from passport.database import utcnow
from passport.extensions import db
from passport.oidc.keys import ensure_keys
from passport.oidc.keys import invalidate_key_ring
from passport.oidc.keys import prune_keys
from passport.oidc.keys import rotate_keys
from passport.oidc.models import SigningKey
from passport.signals import database_upgraded
from tests.integration.oidc.conftest import full_flow
from tests.integration.oidc.conftest import verify_jwt


def test_private_keys_are_encrypted_at_rest(app) -> None:
    ensure_keys()
    for key in db.session.scalars(db.select(SigningKey)):
        assert "PRIVATE KEY" not in key.private_key_encrypted
        assert "d" not in key.public_jwk


def test_post_upgrade_hook_creates_the_first_keys(app) -> None:
    database_upgraded.send(app)
    algs = set(db.session.scalars(db.select(SigningKey.alg)))
    assert algs == {"RS256", "ES256"}


def test_rotated_key_is_published_before_it_signs(app, client, rp, user) -> None:
    ensure_keys()
    old_kid = verify_jwt(client, full_flow(app, client, rp, user)["id_token"]).header["kid"]
    new = rotate_keys("RS256", delay_seconds=3600)[0]
    published = {k["kid"] for k in client.get("/jwks.json").get_json()["keys"]}
    assert {old_kid, new.kid} <= published
    kid = verify_jwt(client, full_flow(app, client, rp, user)["id_token"]).header["kid"]
    assert kid == old_kid
    with time_machine.travel(utcnow() + timedelta(seconds=3601)):
        invalidate_key_ring()
        kid = verify_jwt(client, full_flow(app, client, rp, user)["id_token"]).header["kid"]
        assert kid == new.kid
        # The retired key stays published while tokens it signed may live.
        published = {k["kid"] for k in client.get("/jwks.json").get_json()["keys"]}
        assert old_kid in published
        assert prune_keys() == 0
    with time_machine.travel(utcnow() + timedelta(days=1)):
        invalidate_key_ring()
        assert prune_keys() == 1
        published = {k["kid"] for k in client.get("/jwks.json").get_json()["keys"]}
        assert old_kid not in published
        assert new.kid in published


def test_keys_commands_rotate_list_and_prune(app) -> None:
    import json

    from passport.cli import cli
    from passport.cli import register_groups

    register_groups()
    runner = app.test_cli_runner()
    ensure_keys()
    result = runner.invoke(cli, ["keys", "rotate", "--alg", "RS256", "--json"])
    assert result.exit_code == 0, result.output
    kid = json.loads(result.output)["keys"][0]["kid"]
    listed = json.loads(runner.invoke(cli, ["keys", "list", "--json"]).output)["keys"]
    assert {"kid": kid, "state": "next"}.items() <= next(
        k for k in listed if k["kid"] == kid
    ).items()
    assert runner.invoke(cli, ["keys", "prune"]).exit_code == 0


def test_keys_encrypted_under_another_key_cannot_be_used(app) -> None:
    import pytest

    from passport.oidc.errors import KeyDecryptionError
    from passport.oidc.keys import key_ring

    ensure_keys()
    invalidate_key_ring()
    previous = app.config.get("KEY_ENCRYPTION_KEY")
    app.config["KEY_ENCRYPTION_KEY"] = "a-different-key-encryption-key"
    try:
        with pytest.raises(KeyDecryptionError):
            key_ring()
    finally:
        app.config["KEY_ENCRYPTION_KEY"] = previous
        invalidate_key_ring()
    assert key_ring().signing


def test_keys_are_created_lazily_when_missing(app, client) -> None:
    assert db.session.scalar(db.select(db.func.count()).select_from(SigningKey)) == 0
    assert len(client.get("/jwks.json").get_json()["keys"]) == 2
    assert db.session.scalar(db.select(db.func.count()).select_from(SigningKey)) == 2
