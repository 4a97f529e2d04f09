"""Password links: signed, expiring, single-use, superseded by newer ones."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from passport.accounts.errors import InvalidLinkError
from passport.accounts.errors import LinkFailure
from passport.accounts.links import LinkPurpose
from passport.accounts.links import resolve_link
from passport.accounts.models import UserStatus
from passport.accounts.services import send_activation_mail
from passport.accounts.services import send_reset_mail
from passport.database import utcnow
from passport.extensions import db
from tests.conftest import Outbox
from tests.factories import make_user
from tests.integration.accounts.conftest import link_path
from tests.integration.accounts.conftest import set_password
from tests.integration.accounts.conftest import verification_links


def token_of(outbox: Outbox) -> str:
    [link] = verification_links(outbox.links_in_last())
    return link_path(link).rsplit("/", 1)[1]


def failure_of(token: str) -> LinkFailure:
    with pytest.raises(InvalidLinkError) as caught:
        resolve_link(token)
    return caught.value.failure


def test_an_activation_link_lives_24_hours(app: Flask, outbox: Outbox) -> None:
    start = utcnow()
    with time_machine.travel(start, tick=False):
        user = make_user(password=None)
        send_activation_mail(user)
        token = token_of(outbox)
    with time_machine.travel(start + timedelta(hours=23, minutes=59), tick=False):
        assert resolve_link(token) == (user, LinkPurpose.ACTIVATION)
    with time_machine.travel(start + timedelta(hours=24, seconds=1), tick=False):
        assert failure_of(token) is LinkFailure.EXPIRED


def test_a_reset_link_lives_reset_link_ttl_minutes(app: Flask, outbox: Outbox) -> None:
    assert app.config["RESET_LINK_TTL_MINUTES"] == 60
    start = utcnow()
    with time_machine.travel(start, tick=False):
        user = make_user()
        send_reset_mail(user)
        token = token_of(outbox)
        assert "en un plazo no mayor de 1 hora" in Outbox.text_of(outbox.last())
    with time_machine.travel(start + timedelta(minutes=59), tick=False):
        assert resolve_link(token) == (user, LinkPurpose.RESET)
    with time_machine.travel(start + timedelta(minutes=60, seconds=1), tick=False):
        assert failure_of(token) is LinkFailure.EXPIRED


def test_an_expired_link_shows_the_spanish_page_with_status_410(
    app: Flask, client: FlaskClient, outbox: Outbox
) -> None:
    start = utcnow()
    with time_machine.travel(start, tick=False):
        user = make_user(password=None)
        send_activation_mail(user)
        token = token_of(outbox)
    with time_machine.travel(start + timedelta(hours=25), tick=False):
        response = client.get(f"/verificacion/{token}")
    assert response.status_code == 410
    html = response.get_data(as_text=True)
    assert "Este enlace venció." in html
    assert "mesadeayuda@minedu.gob.pe" in html
    assert 'href="/generar-contrasena"' in html


def test_a_newer_link_supersedes_the_older_one(app: Flask, outbox: Outbox) -> None:
    user = make_user(password=None)
    send_activation_mail(user)
    first = token_of(outbox)
    send_activation_mail(user)
    second = token_of(outbox)
    assert first != second
    assert failure_of(first) is LinkFailure.USED
    assert resolve_link(second)[0] == user


def test_a_link_dies_once_the_password_is_set(
    app: Flask, client: FlaskClient, outbox: Outbox
) -> None:
    user = make_user(password=None)
    send_activation_mail(user)
    token = token_of(outbox)
    response = set_password(client, f"http://x/verificacion/{token}", "Kusi8Wayra")
    assert response.status_code == 303
    assert failure_of(token) is LinkFailure.USED


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature
        lambda t: "WzEsOTld" + t[t.index(".") :],  # payload swapped for [1,99]
        lambda t: t[: t.rindex(".")],  # signature removed
        lambda t: "not-a-token",
        lambda t: "x" * 500,  # too long
    ],
)
def test_a_tampered_link_is_refused_with_status_400_and_changes_nothing(
    app: Flask, client: FlaskClient, outbox: Outbox, mangle
) -> None:
    user = make_user(password=None)
    send_activation_mail(user)
    tampered = mangle(token_of(outbox))
    assert failure_of(tampered) is LinkFailure.MALFORMED
    response = client.get(f"/verificacion/{tampered}")
    assert response.status_code == 400
    assert "Este enlace está incompleto o fue modificado." in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.status is UserStatus.PENDING


def test_a_link_signed_with_another_secret_is_refused(app: Flask, outbox: Outbox) -> None:
    user = make_user(password=None)
    send_activation_mail(user)
    token = token_of(outbox)
    secret = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = "another-secret-" + "y" * 32
    try:
        assert failure_of(token) is LinkFailure.MALFORMED
    finally:
        app.config["SECRET_KEY"] = secret


def test_an_activation_link_is_not_a_reset_link(app: Flask, outbox: Outbox) -> None:
    # Same user and generation, other salt: the purposes cannot be swapped.
    from itsdangerous import URLSafeTimedSerializer

    user = make_user(password=None)
    send_activation_mail(user)
    forged = URLSafeTimedSerializer(
        app.config["SECRET_KEY"], salt="passport.accounts.password-link.other"
    ).dumps([user.id, user.link_generation])
    assert failure_of(forged) is LinkFailure.MALFORMED


def test_an_activation_link_dies_when_the_account_is_no_longer_pending(
    app: Flask, outbox: Outbox
) -> None:
    user = make_user(password=None)
    send_activation_mail(user)
    token = token_of(outbox)
    user.status = UserStatus.DISABLED
    db.session.commit()
    assert failure_of(token) is LinkFailure.USED


def test_a_reset_through_a_link_revokes_every_refresh_token_offline_ones_too(
    app: Flask, client: FlaskClient, outbox: Outbox
) -> None:
    """Issue 9, item 11: whoever knew the old password keeps no app access after a reset."""
    from tests.integration.oidc.conftest import code_flow
    from tests.integration.oidc.conftest import refresh
    from tests.integration.oidc.conftest import register_client
    from tests.integration.oidc.conftest import sign_in

    rp = register_client(skip_consent=True)
    user = make_user()
    browser = app.test_client()
    sign_in(app, browser, user)
    offline = code_flow(browser, rp, "openid offline_access")
    online = code_flow(browser, rp, "openid")
    send_reset_mail(user)
    response = set_password(client, f"http://x/verificacion/{token_of(outbox)}", "Kusi8Wayra")
    assert response.status_code == 303
    for tokens in (offline, online):
        assert refresh(browser, rp, tokens["refresh_token"]).get_json()["error"] == "invalid_grant"
    userinfo = browser.get(
        "/userinfo", headers={"Authorization": f"Bearer {offline['access_token']}"}
    )
    assert userinfo.status_code == 401
