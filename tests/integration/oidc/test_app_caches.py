"""The OIDC caches belong to the app and are emptied by passport.caches.clear_all."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import update

from passport.caches import clear_all
from passport.extensions import db
from passport.oidc.clients import find_client
from passport.oidc.keys import key_ring
from passport.oidc.models import OAuthClient
from tests.integration.oidc.conftest import register_client


def test_clear_all_forgets_a_cached_client_and_the_key_ring(app: Flask) -> None:
    rp = register_client()
    assert find_client(rp.client_id) is not None
    ring = key_ring()
    # Changed behind the cache's back (another process, a SQL console): still cached here.
    db.session.execute(
        update(OAuthClient).where(OAuthClient.client_id == rp.client_id).values(is_disabled=True)
    )
    db.session.commit()
    assert find_client(rp.client_id) is not None
    assert key_ring() is ring
    clear_all(app)
    assert find_client(rp.client_id) is None
    assert key_ring() is not ring
