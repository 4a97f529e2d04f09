"""Ending an SSO session for relying parties: token revocation and Back-Channel Logout 1.0.

The session end hook runs inside the transaction that ends the session: it revokes the
session's non-offline tokens and queues one delivery per client with a
``backchannel_logout_uri``. Deliveries are POSTed after the commit (an after-request hook of
the same request), in parallel, through the outbound policy (passport/security/outbound.py:
no internal address in production, a total deadline, no redirect), so a logout waits at most
about one BACKCHANNEL_TIMEOUT_MS whatever the clients do. Deliveries are rows of
passport/outbox.py (claimed under a lease, so two runs never POST one token): a failure is
retried with exponential backoff on later logouts and by ``passport clients retry-logouts``
(run it from cron every minute), at most BACKCHANNEL_MAX_ATTEMPTS times. Deliveries given up
while a receiver was away are put back by ``passport clients requeue-logouts``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from flask import current_app
from flask import g
from flask import has_request_context
from sqlalchemy import ColumnElement
from sqlalchemy import select

from passport import outbox
from passport.database import utcnow
from passport.extensions import db
from passport.login.models import SSOSession
from passport.logs import current_request_id
from passport.oidc.clients import RegisteredClient
from passport.oidc.clients import find_client
from passport.oidc.issuance import issuer
from passport.oidc.keys import key_ring
from passport.oidc.models import AuthorizationCode
from passport.oidc.models import BackchannelDelivery
from passport.oidc.models import OAuthClient
from passport.oidc.models import OAuthToken
from passport.oidc.tokens import new_secret
from passport.security import outbound

log = logging.getLogger(__name__)

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
RETRY_BASE_SECONDS = 30
MAX_DELIVERIES_PER_RUN = 20
MAX_PARALLEL_POSTS = 8


def past_use(now: datetime) -> ColumnElement[bool]:
    """A settled delivery that ``maintenance purge`` deletes and a requeue skips: one settled
    more than ``outbox.SHORT_RETENTION`` ago. (A token is signed afresh at each attempt, so a
    requeued delivery never carries an expired one.)"""
    return BackchannelDelivery.next_attempt_at < now - outbox.SHORT_RETENTION


DELIVERIES = outbox.Outbox(
    BackchannelDelivery,
    max_attempts=outbox.setting("BACKCHANNEL_MAX_ATTEMPTS"),
    retry_seconds=lambda: RETRY_BASE_SECONDS,
    name="back-channel logout",
    log=log,
    past_use=past_use,
)


def build_logout_token(client: RegisteredClient, sub: str | None, sid: str | None) -> str:
    """A logout token (Back-Channel Logout 1.0 §2.4): no nonce, typ logout+jwt."""
    now = int(utcnow().timestamp())
    claims: dict[str, object] = {
        "iss": issuer(),
        "aud": client.client_id,
        "iat": now,
        "exp": now + current_app.config["LOGOUT_TOKEN_TTL_SECONDS"],
        "jti": new_secret(16),
        "events": {BACKCHANNEL_EVENT: {}},
    }
    if sub:
        claims["sub"] = sub
    if sid:
        claims["sid"] = sid
    return key_ring().sign(claims, client.id_token_signed_response_alg, typ="logout+jwt")


def queue_backchannel_logouts(session: SSOSession) -> None:
    """Queue one logout token per client of the ending session (no commit).

    Called by passport.oidc.revocation.end_session, which also withdraws the session's grants.
    """
    now = utcnow()
    client_pks = set(
        db.session.scalars(select(OAuthToken.client_pk).where(OAuthToken.sid == session.sid))
    ) | set(
        db.session.scalars(
            select(AuthorizationCode.client_pk).where(AuthorizationCode.sid == session.sid)
        )
    )
    if not client_pks:
        return
    targets = db.session.execute(
        select(OAuthClient.id, OAuthClient.backchannel_logout_uri).where(
            OAuthClient.id.in_(client_pks),
            OAuthClient.backchannel_logout_uri.is_not(None),
            OAuthClient.is_disabled.is_(False),
        )
    ).all()
    request_id = current_request_id()
    for client_pk, uri in targets:
        db.session.add(
            BackchannelDelivery(
                client_pk=client_pk,
                uri=uri,
                sub=session.user.sub,
                sid=session.sid,
                next_attempt_at=now,
                created_at=now,
                request_id=request_id,
            )
        )
    if targets and has_request_context():
        g.passport_backchannel_due = True


def post_logout_token(
    uri: str, token: str, timeout_seconds: float, policy: outbound.OutboundPolicy
) -> str | None:
    """POST one logout token (§2.5) under the outbound policy; None on success, else a reason.

    The response body is not read (the RP owes none); a redirect is a failure.
    """
    try:
        response = outbound.send(
            "POST",
            uri,
            policy=policy,
            deadline_seconds=timeout_seconds,
            form={"logout_token": token},
            headers={"Cache-Control": "no-store"},
        )
    except outbound.OutboundError as refused:
        return str(refused)
    return None if 200 <= response.status < 300 else f"HTTP {response.status}"


def _post_all(deliveries: Sequence[BackchannelDelivery]) -> list[outbox.Outcome]:
    """POST the logout tokens of claimed deliveries in parallel; one outcome each."""
    outcomes: list[outbox.Outcome] = [outbox.Failure("unknown client", final=True)] * len(
        deliveries
    )
    jobs: list[tuple[int, str, str]] = []
    for index, delivery in enumerate(deliveries):
        client_id = db.session.scalar(
            select(OAuthClient.client_id).where(OAuthClient.id == delivery.client_pk)
        )
        client = find_client(client_id)
        if client is not None:
            # Signed at each attempt: a logout token lives only LOGOUT_TOKEN_TTL_SECONDS.
            token = build_logout_token(client, delivery.sub, delivery.sid)
            jobs.append((index, delivery.uri, token))
    timeout = current_app.config["BACKCHANNEL_TIMEOUT_MS"] / 1000
    policy = outbound.current_policy()  # read here: the pool's threads have no app context
    if jobs:
        with ThreadPoolExecutor(max_workers=min(len(jobs), MAX_PARALLEL_POSTS)) as pool:
            errors = list(
                pool.map(lambda job: post_logout_token(job[1], job[2], timeout, policy), jobs)
            )
        for (index, _uri, _token), error in zip(jobs, errors, strict=True):
            outcomes[index] = None if error is None else outbox.Failure(error)
    return outcomes


def deliver_due_logouts(limit: int = MAX_DELIVERIES_PER_RUN) -> tuple[int, int]:
    """Attempt every delivery that is due, in parallel; return (delivered, failed); commits.

    The POSTs run concurrently, so one run lasts about one BACKCHANNEL_TIMEOUT_MS however
    many relying parties are slow or down.
    """
    run = DELIVERIES.run(_post_all, limit=limit, batch=limit)
    return run.sent, run.retried + run.failed


def deliver_after_request(response: object) -> object:
    """After-request hook: send the logout tokens queued by this request's session end."""
    if g.pop("passport_backchannel_due", False):
        try:
            key_ring()
            deliver_due_logouts()
        except Exception:  # a relying party's failure must never break the logout page
            db.session.rollback()
            log.exception("back-channel logout delivery failed")
    return response
