"""current_session_facts (the /authorize lookup) follows is_live exactly, as current_sso_session."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from passport.accounts.models import UserStatus
from passport.database import utcnow
from passport.extensions import db
from passport.login.models import SSOSession
from passport.login.sessions import current_session_facts
from passport.login.sessions import current_sso_session
from tests.factories import DEFAULT_PASSWORD
from tests.factories import make_user
from tests.helpers import sign_in


def cookie_header(app: Flask, client: FlaskClient) -> dict[str, str]:
    cookie = client.get_cookie(app.config["SSO_COOKIE_NAME"])
    assert cookie is not None
    return {"Cookie": f"{cookie.key}={cookie.value}"}


def test_the_facts_of_a_live_session(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    sign_in(client, user.dni, DEFAULT_PASSWORD)
    row = db.session.scalars(select(SSOSession)).one()
    with app.test_request_context("/", headers=cookie_header(app, client)):
        facts = current_session_facts()
    assert facts is not None
    assert (facts.id, facts.sid, facts.user_id, facts.user_sub) == (
        row.id,
        row.sid,
        user.id,
        user.sub,
    )
    assert (facts.auth_time, facts.amr, facts.acr) == (row.auth_time, row.amr, row.acr)


@pytest.mark.parametrize("ending", ["ended", "disabled", "idle", "expired"])
def test_no_facts_when_the_session_is_over(app: Flask, client: FlaskClient, ending: str) -> None:
    user = make_user()
    sign_in(client, user.dni, DEFAULT_PASSWORD)
    row = db.session.scalars(select(SSOSession)).one()
    now = utcnow()
    if ending == "ended":
        row.ended_at = now
    elif ending == "disabled":
        user.status = UserStatus.DISABLED
    elif ending == "expired":
        row.expires_at = now - timedelta(seconds=1)
    db.session.commit()
    later = timedelta(minutes=app.config["SSO_IDLE_TIMEOUT_MINUTES"], seconds=1)
    headers = cookie_header(app, client)
    moment = now + (later if ending == "idle" else timedelta())
    with time_machine.travel(moment, tick=False), app.test_request_context("/", headers=headers):
        assert current_sso_session() is None
        assert current_session_facts() is None


def test_no_facts_without_a_valid_cookie(app: Flask) -> None:
    with app.test_request_context("/", headers={"Cookie": "passport_sso=forged.value"}):
        assert current_session_facts() is None
    with app.test_request_context("/"):
        assert current_session_facts() is None
