"""The whole journey of a new teacher: account, mail, link, password, sign-in, SSO session."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from passport.accounts.models import UserStatus
from passport.accounts.services import NewUser
from passport.accounts.services import create_user
from passport.extensions import db
from passport.login.models import SSOSession
from tests.conftest import Outbox
from tests.helpers import sign_in
from tests.integration.accounts.conftest import link_path
from tests.integration.accounts.conftest import request_link
from tests.integration.accounts.conftest import set_password
from tests.integration.accounts.conftest import verification_links


def test_a_new_teacher_creates_a_password_and_signs_in(
    app: Flask, client: FlaskClient, outbox: Outbox
) -> None:
    user = create_user(NewUser("41234567", "rosa@example.edu.pe", "Rosa Elena", "Quispe Huamán"))
    # Pending: no password yet, so the login refuses whatever is typed.
    assert sign_in(client, "41234567", "Kusi8Wayra").status_code != 302

    [link] = verification_links(outbox.links_in_last())
    page = client.get(link_path(link))
    assert "Verificación de usuario" in page.get_data(as_text=True)
    assert set_password(client, link, "Kusi8Wayra").status_code == 303
    db.session.refresh(user)
    assert user.status is UserStatus.ACTIVE

    response = sign_in(client, "41234567", "Kusi8Wayra")
    assert response.status_code == 302
    session = db.session.scalars(select(SSOSession).where(SSOSession.user_id == user.id)).one()
    assert session.ended_at is None
    assert session.amr == ["pwd"]
    assert client.get("/ingresar").status_code == 302  # already signed in: the welcome page

    # "¿Olvidaste la contraseña?" from the signed-in browser: resetting ends the session.
    assert request_link(client, "/olvide-contrasena", "41234567").status_code == 200
    [reset_link] = verification_links(outbox.links_in_last())
    assert set_password(client, reset_link, "Nueva8Clave").status_code == 303
    db.session.refresh(session)
    assert session.ended_at is not None
    assert sign_in(client, "41234567", "Kusi8Wayra").status_code != 302
    assert sign_in(client, "41234567", "Nueva8Clave").status_code == 302
