"""`passport maintenance purge`: every dead row goes, every live one stays, the chain holds."""

from __future__ import annotations

import json
import secrets
import threading
from datetime import datetime
from datetime import timedelta
from typing import Any
from unittest.mock import patch

import pytest
from flask import Flask
from sqlalchemy import Table
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update

from passport.accounts.models import OutgoingMail
from passport.accounts.models import User
from passport.audit.chain import verify_chain
from passport.audit.models import AuditArchiveSegment
from passport.audit.models import AuditEvent
from passport.audit.services import record_event
from passport.captcha.models import CaptchaChallenge
from passport.cli import cli
from passport.cli import register_groups
from passport.database import utcnow
from passport.extensions import db
from passport.login.models import SSOSession
from passport.maintenance import purge as purge_module
from passport.maintenance.purge import KINDS
from passport.maintenance.purge import purge
from passport.mfa.models import EnrolmentLink
from passport.mfa.models import SecondFactorChallenge
from passport.oidc.models import AuthorizationCode
from passport.oidc.models import BackchannelDelivery
from passport.oidc.models import ClientAssertionJti
from passport.oidc.models import DPoPProofJti
from passport.oidc.models import InitialAccessToken
from passport.oidc.models import OAuthToken
from passport.oidc.models import PendingAuthorization
from passport.oidc.models import PushedAuthorization
from tests.factories import make_user
from tests.integration.oidc.conftest import full_flow
from tests.integration.oidc.conftest import refresh
from tests.integration.oidc.conftest import register_client

DAY = timedelta(days=1)
ALL_KINDS = {*KINDS, "audit_events"}


def _hash() -> str:
    return secrets.token_hex(32)


def _code(client_pk: int, user_id: int, expires_at: datetime) -> AuthorizationCode:
    return AuthorizationCode(
        code_hash=_hash(),
        client_pk=client_pk,
        user_id=user_id,
        redirect_uri="https://rp.example.test/cb",
        scope="openid",
        auth_time=expires_at,
        expires_at=expires_at,
    )


def _token(
    client_pk: int, user_id: int, family: str, access: datetime, refresh_at: datetime | None
) -> OAuthToken:
    return OAuthToken(
        client_pk=client_pk,
        user_id=user_id,
        access_token_hash=_hash(),
        refresh_token_hash=_hash() if refresh_at else None,
        scope="openid",
        family_id=family,
        access_expires_at=access,
        refresh_expires_at=refresh_at,
    )


def _session(user_id: int, now: datetime, **fields: Any) -> SSOSession:
    values: dict[str, Any] = {"expires_at": now + DAY, "last_seen_at": now}
    values.update(fields)
    return SSOSession(token_hash=_hash(), user_id=user_id, **values)


def _mail(user_id: int | None, status: str, at: datetime, kind: str = "activation") -> OutgoingMail:
    dni = None if user_id else "12345678"
    return OutgoingMail(user_id=user_id, dni=dni, kind=kind, status=status, next_attempt_at=at)


def _key(row: Any) -> tuple[type, Any]:
    from sqlalchemy import inspect

    return type(row), inspect(row).identity[0]


def seed_every_kind(now: datetime) -> dict[str, list[Any]]:
    """One or more dead rows and one or more live rows of every kind; the live rows."""
    user = make_user()
    rp = register_client()
    from passport.oidc.models import OAuthClient

    client_pk = db.session.scalar(
        select(OAuthClient.id).where(OAuthClient.client_id == rp.client_id)
    )
    assert client_pk is not None
    old = now - 2 * DAY
    dead: list[Any] = [
        _code(client_pk, user.id, old),
        # A whole family past its life: both rows go.
        _token(client_pk, user.id, "deadfamily", old, old),
        _token(client_pk, user.id, "deadfamily", old, None),
        _session(user.id, now, expires_at=old),
        _session(user.id, now, ended_at=old),
        CaptchaChallenge(id=secrets.token_urlsafe(16), answer_hash=_hash(), expires_at=now - DAY),
        SecondFactorChallenge(token_hash=_hash(), user_id=user.id, expires_at=now - DAY),
        EnrolmentLink(token_hash=_hash(), user_id=user.id, expires_at=now - DAY),
        PendingAuthorization(authz_id=_hash(), client_pk=client_pk, params={}, expires_at=old),
        PushedAuthorization(
            request_uri_hash=_hash(), client_pk=client_pk, params={}, expires_at=old
        ),
        ClientAssertionJti(client_id=rp.client_id, jti=_hash(), expires_at=now - DAY),
        DPoPProofJti(jti_hash=_hash(), expires_at=now - DAY),
        BackchannelDelivery(
            client_pk=client_pk,
            uri="https://rp.example.test/bc",
            next_attempt_at=old,
            delivered_at=old,
        ),
        BackchannelDelivery(
            client_pk=client_pk,
            uri="https://rp.example.test/bc",
            next_attempt_at=old,
            gave_up_at=old,
        ),
        InitialAccessToken(token_hash=_hash(), expires_at=old),
        _mail(user.id, "sent", now - 40 * DAY),
        _mail(None, "cancelled", old, kind="self_service"),
    ]
    live: list[Any] = [
        _code(client_pk, user.id, now - timedelta(hours=1)),  # within the reuse window
        _token(client_pk, user.id, "livefamily", now + DAY, now + DAY),
        # Expired itself, but its family still lives: kept for reuse detection.
        _token(client_pk, user.id, "mixedfamily", old, old),
        _token(client_pk, user.id, "mixedfamily", now + DAY, now + DAY),
        _token(client_pk, user.id, "justexpired", now - timedelta(hours=1), None),
        _session(user.id, now),
        # Idle but not at its absolute end: its refresh tokens still rely on it.
        _session(user.id, now, last_seen_at=now - 2 * DAY),
        CaptchaChallenge(id=secrets.token_urlsafe(16), answer_hash=_hash(), expires_at=now + DAY),
        SecondFactorChallenge(token_hash=_hash(), user_id=user.id, expires_at=now + DAY),
        EnrolmentLink(token_hash=_hash(), user_id=user.id, expires_at=now + DAY),
        PendingAuthorization(
            authz_id=_hash(), client_pk=client_pk, params={}, expires_at=now + DAY
        ),
        PushedAuthorization(
            request_uri_hash=_hash(), client_pk=client_pk, params={}, expires_at=now + DAY
        ),
        ClientAssertionJti(client_id=rp.client_id, jti=_hash(), expires_at=now),
        DPoPProofJti(jti_hash=_hash(), expires_at=now),
        BackchannelDelivery(
            client_pk=client_pk, uri="https://rp.example.test/bc", next_attempt_at=old
        ),
        BackchannelDelivery(
            client_pk=client_pk,
            uri="https://rp.example.test/bc",
            next_attempt_at=now,
            delivered_at=now,
        ),
        InitialAccessToken(token_hash=_hash(), expires_at=now + DAY),
        InitialAccessToken(token_hash=_hash(), expires_at=None),
        _mail(user.id, "sent", now - 2 * DAY),
        _mail(user.id, "pending", now - 40 * DAY),
        _mail(None, "pending", old, kind="self_service"),
    ]
    db.session.add_all(dead + live)
    db.session.commit()
    # Console activity of a dead session goes with it; of a live one, stays.
    from passport.admin.models import AdminActivity

    dead.append(AdminActivity(sso_session_id=dead[3].id, last_seen_at=now))
    live.append(AdminActivity(sso_session_id=live[5].id, last_seen_at=now))
    db.session.add_all(dead[-1:] + live[-1:])
    db.session.commit()
    return {
        "dead": [_key(row) for row in dead],
        "live": [_key(row) for row in live],
    }


def test_every_dead_kind_goes_and_every_live_row_stays(app: Flask) -> None:
    now = utcnow()
    rows = seed_every_kind(now)
    counts = purge(now=now)
    assert counts == {
        "authorization_codes": 1,
        "tokens": 2,
        "admin_activity": 1,
        "sso_sessions": 2,
        "captcha_challenges": 1,
        "second_factor_challenges": 1,
        "totp_enrolment_links": 1,
        "pending_authorizations": 1,
        "pushed_authorizations": 1,
        "client_assertion_jtis": 1,
        "dpop_proof_jtis": 1,
        "backchannel_deliveries": 2,
        "initial_access_tokens": 1,
        "outgoing_mails": 2,
        "audit_events": 0,
    }
    db.session.expire_all()
    for model, row_id in rows["dead"]:
        assert db.session.get(model, row_id) is None, model
    for model, row_id in rows["live"]:
        assert db.session.get(model, row_id) is not None, model
    assert set(purge(now=now).values()) == {0}  # nothing left to do


def test_small_batches_still_delete_everything(app: Flask) -> None:
    now = utcnow()
    db.session.add_all(
        CaptchaChallenge(id=f"c{index}", answer_hash=_hash(), expires_at=now - DAY)
        for index in range(7)
    )
    db.session.commit()
    assert purge(now=now, batch_size=2)["captcha_challenges"] == 7
    assert db.session.scalar(select(func.count()).select_from(CaptchaChallenge)) == 0


@pytest.fixture
def run(app: Flask) -> Any:
    register_groups()
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(cli, list(args))


def test_json_prints_one_object_of_counts_per_kind(app: Flask, run: Any) -> None:
    seed_every_kind(utcnow())
    result = run("maintenance", "purge", "--json")
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)
    assert set(counts) == ALL_KINDS
    assert all(isinstance(value, int) for value in counts.values())
    assert counts["tokens"] == 2
    # The older command is the same path, with the same answer.
    again = json.loads(run("clients", "prune-expired", "--json").output)
    assert again == dict.fromkeys(ALL_KINDS, 0)
    text = run("maintenance", "purge")
    assert text.exit_code == 0
    assert "tokens: 0" in text.output.splitlines()


def _events(count: int, at: datetime) -> list[int]:
    rows = [
        record_event("test.event", subject_dni=f"{n:08d}", details={"n": n}) for n in range(count)
    ]
    for row in rows:
        row.occurred_at = at
    db.session.commit()
    return [row.id for row in rows]


def test_audit_events_past_retention_are_archived_and_the_chain_verifies(
    app: Flask, run: Any
) -> None:
    now = utcnow()
    retention = timedelta(days=app.config["AUDIT_RETENTION_DAYS"])
    old_ids = _events(5, now - retention - DAY)
    kept_ids = _events(3, now - retention + DAY)
    assert purge(now=now, batch_size=2)["audit_events"] == 5
    remaining = set(db.session.scalars(select(AuditEvent.id)))
    assert not remaining & set(old_ids)
    assert set(kept_ids) <= remaining
    segment = db.session.scalars(select(AuditArchiveSegment)).one()
    assert (segment.first_id, segment.last_id, segment.events) == (old_ids[0], old_ids[-1], 5)
    archived = db.session.scalars(
        select(AuditEvent).where(AuditEvent.event == "audit.archived")
    ).one()
    assert archived.details["last_id"] == old_ids[-1]
    result = run("audit", "verify", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"]
    assert report["archived_through"] == old_ids[-1]
    assert report["checked"] == len(kept_ids) + 1  # and the archive's own event
    # The anchor does not hide tampering with what remains.
    db.session.execute(
        update(AuditEvent).where(AuditEvent.id == kept_ids[0]).values(outcome="failure")
    )
    db.session.commit()
    assert verify_chain(db.session()).broken_id == kept_ids[0]


def test_audit_retention_zero_keeps_everything(app: Flask) -> None:
    ids = _events(2, utcnow() - 4000 * DAY)
    app.config["AUDIT_RETENTION_DAYS"] = 0
    try:
        assert purge()["audit_events"] == 0
    finally:
        app.config["AUDIT_RETENTION_DAYS"] = 1825
    assert len(db.session.scalars(select(AuditEvent.id).where(AuditEvent.id.in_(ids))).all()) == 2


def test_purge_beside_code_flows_and_refreshes(app: Flask) -> None:
    """On PostgreSQL, a purge of many dead rows runs while a thread signs in and refreshes:
    no request fails and no live token is taken."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks and concurrent transactions: PostgreSQL")
    rp = register_client(skip_consent=True)
    user = make_user()
    from passport.oidc.models import OAuthClient

    client_pk = db.session.scalar(
        select(OAuthClient.id).where(OAuthClient.client_id == rp.client_id)
    )
    old = utcnow() - 3 * DAY
    db.session.execute(
        insert(OAuthToken),
        [
            {
                "client_pk": client_pk,
                "user_id": user.id,
                "access_token_hash": _hash(),
                "refresh_token_hash": _hash(),
                "scope": "openid",
                "family_id": f"dead{index}",
                "access_expires_at": old,
                "refresh_expires_at": old,
                "created_at": old,
            }
            for index in range(4000)
        ],
    )
    db.session.commit()
    user_id = user.id
    failures: list[Any] = []
    issued: list[str] = []
    progress = threading.Condition()
    stop = threading.Event()

    def traffic() -> None:
        with app.app_context():
            browser = app.test_client()
            person = db.session.get(User, user_id)
            try:
                tokens = full_flow(app, browser, rp, person, scope="openid offline_access")
                while not stop.is_set():
                    response = refresh(browser, rp, tokens["refresh_token"])
                    if response.status_code != 200:
                        failures.append(response.get_json())
                        return
                    tokens = response.get_json()
                    with progress:
                        issued.append(tokens["access_token"])
                        progress.notify_all()
                    tokens.update(
                        full_flow(app, browser, rp, person, scope="openid offline_access")
                    )
            except Exception as error:  # reported by the assertion below
                failures.append(repr(error))
            finally:
                with progress:
                    stop.set()
                    progress.notify_all()
                db.session.remove()

    # The overlap is made, not hoped for: in the middle of the purge (its second batch of
    # tokens deleted, not yet committed) the purge waits until the traffic thread has
    # refreshed twice more. A purge that blocked sign-ins or refreshes would never see them.
    token_batches: list[Table] = []
    during_purge: list[int] = []
    batch_statement = purge_module.batch_statement

    def counting_batches(table: Table, *args: Any) -> Any:
        if table.name == OAuthToken.__tablename__:
            token_batches.append(table)
        return batch_statement(table, *args)

    def await_traffic(session: Any) -> None:
        if len(token_batches) != 2 or during_purge:
            return
        with progress:
            target = len(issued) + 2
            progress.wait_for(lambda: len(issued) >= target or stop.is_set(), timeout=300)
            during_purge.append(len(issued) - target + 2)

    purge_session = db.session()
    worker = threading.Thread(target=traffic)
    worker.start()
    event.listen(purge_session, "before_commit", await_traffic)
    try:
        with patch.object(purge_module, "batch_statement", counting_batches):
            counts = purge(batch_size=100)
    finally:
        event.remove(purge_session, "before_commit", await_traffic)
        stop.set()
        worker.join(timeout=60)
    assert not failures
    assert counts["tokens"] == 4000
    assert during_purge, "the purge never reached its second batch of tokens"
    assert during_purge[0] >= 2, "the traffic thread made no request during the purge"
    browser = app.test_client()
    for access_token in issued[-3:]:
        response = browser.post(
            "/introspect", data={"token": access_token}, headers=rp.basic_auth()
        )
        assert response.get_json()["active"] is True
