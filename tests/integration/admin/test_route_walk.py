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
from werkzeug.test import TestResponse

from passport.accounts.models import User
from tests.factories import make_user
from tests.integration.admin.conftest import enrol_totp
from tests.integration.admin.conftest import sign_in

_CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
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
        found = _CSRF.search(client.get(page).get_data(as_text=True))
        if found:
            return found.group(1)
    raise AssertionError("no page gave a CSRF token")


@pytest.fixture
def victim(app: Flask) -> User:
    given, family = SECRET_NAME.split()
    return make_user(given_name=given, family_name=family, email="zenobia@example.edu.pe")


def walk(
    app: Flask, client: FlaskClient, victim: User, check: Callable[[str, str, TestResponse], None]
) -> None:
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
            assert response.status_code < 500, where
            assert SECRET_NAME not in body, where
            assert victim.email not in body, where
            assert response.headers.get("Cache-Control") == "no-store", where
            check(where, urlsplit(response.headers.get("Location", "")).path, response)


def test_anonymous_is_sent_to_sign_in_everywhere(app: Flask, victim: User) -> None:
    def check(where: str, location: str, response: TestResponse) -> None:
        assert response.status_code == 302, where
        assert location == "/ingresar", where

    walk(app, app.test_client(), victim, check)


def test_a_plain_user_with_a_second_factor_is_refused_everywhere(app: Flask, victim: User) -> None:
    user = make_user()
    enrol_totp(user)
    client = app.test_client()
    sign_in(app, client, user, ["pwd", "otp"])

    def check(where: str, location: str, response: TestResponse) -> None:
        assert response.status_code == 404, where

    walk(app, client, victim, check)


def test_an_admin_without_totp_is_sent_to_enrol_everywhere(app: Flask, victim: User) -> None:
    client = app.test_client()
    sign_in(app, client, make_user(is_admin=True), ["pwd"])

    def check(where: str, location: str, response: TestResponse) -> None:
        assert response.status_code == 302, where
        assert location == "/mi-cuenta/doble-factor", where

    walk(app, client, victim, check)


def test_an_admin_without_the_second_factor_in_session_must_step_up_everywhere(
    app: Flask, victim: User, admin: User
) -> None:
    client = app.test_client()
    sign_in(app, client, admin, ["pwd"])

    def check(where: str, location: str, response: TestResponse) -> None:
        assert response.status_code == 302, where
        assert location == "/mi-cuenta/verificar", where

    walk(app, client, victim, check)


def test_the_walk_reaches_a_real_admin_page(
    app: Flask, victim: User, admin_client: FlaskClient
) -> None:
    """The walk's URLs are real: an admin with the second factor gets the victim's page."""
    rule = next(r for r in admin_rules(app) if r.endpoint == "admin.users_detail")
    response = admin_client.get(url_for_rule(rule, victim))
    assert response.status_code == 200
    assert SECRET_NAME in response.get_data(as_text=True)
