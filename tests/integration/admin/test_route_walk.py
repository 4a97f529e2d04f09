"""Every /admin route, GET and POST, refuses whoever is not an admin with a second factor.

The walk reads ``app.url_map``, so routes added later (clients, keys, audit...) are covered
without touching this file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from passport.accounts.models import User
from tests.factories import make_user
from tests.helpers import csrf_in
from tests.integration.admin.conftest import enrol_totp
from tests.integration.admin.conftest import sign_in

SECRET_NAME = "Zenobia Victima"


def admin_rules(app: Flask) -> list[Rule]:
    rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/admin")]
    assert len(rules) >= 10, "the walk found too few admin routes"
    return rules


def url_for_rule(rule: Rule, victim: User) -> str:
    """The rule's path with plausible values: the victim's DNI, small ids, a word."""
    values: dict[str, object] = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        if type(converter).__name__ in ("IntegerConverter", "NumberConverter"):
            values[name] = 1
        elif name == "dni":
            values[name] = victim.dni
        else:
            values[name] = "x"
    path = rule.rule
    for name, value in values.items():
        path = re.sub(rf"<(?:[^:<>]+:)?{name}>", str(value), path)
    return path


def csrf_token(client: FlaskClient) -> str:
    for page in ("/", "/ingresar"):
        token = csrf_in(client.get(page).get_data(as_text=True))
        if token:
            return token
    raise AssertionError("no page gave a CSRF token")


@pytest.fixture
def victim(app: Flask) -> User:
    given, family = SECRET_NAME.split()
    return make_user(given_name=given, family_name=family, email="zenobia@example.edu.pe")


def walk(app: Flask, client: FlaskClient, victim: User, status: int, location: str) -> None:
    """GET and POST (with a valid CSRF token) every admin route; each answer is the refusal."""
    token = csrf_token(client)
    for rule in admin_rules(app):
        path = url_for_rule(rule, victim)
        for method in ("GET", "POST"):
            if method not in (rule.methods or ()):
                continue
            if method == "GET":
                response = client.get(path)
            else:
                response = client.post(path, data={"csrf_token": token, "reason": "walk"})
            body = response.get_data(as_text=True)
            where = f"{method} {rule.rule}"
            assert response.status_code == status, where
            assert urlsplit(response.headers.get("Location", "")).path == location, where
            assert SECRET_NAME not in body, where
            assert victim.email not in body, where
            assert response.headers.get("Cache-Control") == "no-store", where


def plain_user_with_totp(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    enrol_totp(user)
    sign_in(app, client, user, ["pwd", "otp"])


def admin_without_totp(app: Flask, client: FlaskClient) -> None:
    sign_in(app, client, make_user(is_admin=True), ["pwd"])


def admin_with_totp_but_password_only(app: Flask, client: FlaskClient) -> None:
    admin = make_user(is_admin=True)
    enrol_totp(admin)
    sign_in(app, client, admin, ["pwd"])


@pytest.mark.parametrize(
    ("who", "status", "location"),
    [
        (None, 302, "/ingresar"),
        (plain_user_with_totp, 404, ""),
        (admin_without_totp, 302, "/mi-cuenta/doble-factor"),
        (admin_with_totp_but_password_only, 302, "/mi-cuenta/verificar"),
    ],
    ids=["anonymous", "plain-user", "admin-without-totp", "admin-without-second-factor"],
)
def test_every_admin_route_refuses(
    app: Flask,
    victim: User,
    who: Callable[[Flask, FlaskClient], None] | None,
    status: int,
    location: str,
) -> None:
    client = app.test_client()
    if who is not None:
        who(app, client)
    walk(app, client, victim, status, location)


def test_the_walk_reaches_a_real_admin_page(
    app: Flask, victim: User, admin_client: FlaskClient
) -> None:
    """The walk's URLs are real: an admin with the second factor gets the victim's page."""
    rule = next(r for r in admin_rules(app) if r.endpoint == "admin.users_detail")
    response = admin_client.get(url_for_rule(rule, victim))
    assert response.status_code == 200
    assert SECRET_NAME in response.get_data(as_text=True)
