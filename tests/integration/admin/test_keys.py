"""The console's signing-key page: list with states, rotate and prune, each audited."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from flask.testing import FlaskClient
from sqlalchemy import select

from passport.accounts.models import User
from passport.audit.models import AuditEvent
from passport.database import utcnow
from passport.extensions import db
from passport.oidc.keys import ensure_keys
from passport.oidc.keys import rotate_keys
from passport.oidc.models import SigningKey
from tests.helpers import csrf_token

PAGE = "/admin/claves"


def test_the_page_lists_each_key_with_its_state(admin_client: FlaskClient) -> None:
    created = ensure_keys()
    page = admin_client.get(PAGE).get_data(as_text=True)
    for key in created:
        assert key.kid in page
    assert "Activa" in page
    assert "ES256" in page
    assert "private" not in page.lower()


def test_rotation_needs_a_reason_then_publishes_next_keys(
    admin_client: FlaskClient, admin: User
) -> None:
    ensure_keys()
    token = csrf_token(admin_client, PAGE)
    refused = admin_client.post(f"{PAGE}/rotar", data={"csrf_token": token, "alg": ""})
    assert refused.status_code == 302
    assert db.session.scalar(select(SigningKey).where(SigningKey.state == "next")) is None
    response = admin_client.post(
        f"{PAGE}/rotar", data={"csrf_token": token, "alg": "RS256", "reason": "Rotación anual"}
    )
    assert response.status_code == 302
    upcoming = db.session.scalars(select(SigningKey).where(SigningKey.state == "next")).all()
    assert [key.alg for key in upcoming] == ["RS256"]
    assert "Siguiente" in admin_client.get(PAGE).get_data(as_text=True)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "signing_keys.rotated"))
    assert event is not None
    assert event.actor_user_id == admin.id
    assert event.details["reason"] == "Rotación anual"
    assert event.details["kids"] == [upcoming[0].kid]
    bad = admin_client.post(
        f"{PAGE}/rotar", data={"csrf_token": token, "alg": "HS256", "reason": "x"}
    )
    assert bad.status_code == 302
    assert len(db.session.scalars(select(SigningKey)).all()) == 3


def test_prune_removes_keys_no_token_needs(admin_client: FlaskClient, admin: User) -> None:
    with time_machine.travel(utcnow() - timedelta(days=30)):
        ensure_keys()
        rotate_keys("ES256", delay_seconds=0)  # the first ES256 key retired a month ago
    token = csrf_token(admin_client, PAGE)
    admin_client.post(f"{PAGE}/depurar", data={"csrf_token": token})
    assert len(db.session.scalars(select(SigningKey)).all()) == 3  # no reason, nothing done
    admin_client.post(f"{PAGE}/depurar", data={"csrf_token": token, "reason": "Limpieza"})
    algs = sorted(db.session.scalars(select(SigningKey.alg)).all())
    assert algs == ["ES256", "RS256"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "signing_keys.pruned"))
    assert event is not None
    assert event.details == {"removed": 1, "reason": "Limpieza"}
    assert event.actor_user_id == admin.id
