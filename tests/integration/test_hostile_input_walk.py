"""Every Passport route, fed hostile input by three kinds of visitor, answers without a 500.

The walk reads ``app.url_map`` and the field names of every template, so routes and forms added
later are covered without touching this file. Each request fills every known field (and every
OAuth parameter) with one hostile value at once: oversized, NUL, non-UTF-8, other scripts'
digits, out-of-range numbers and dates, deep JSON, markup. A valid CSRF token rides along, so the
values reach the views and services instead of stopping at the CSRF check.
"""

from __future__ import annotations

import base64
import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from passport.accounts.models import User
from tests.factories import make_user
from tests.integration.admin.conftest import enrol_totp
from tests.integration.admin.conftest import sign_in

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "passport"
_FIELD = re.compile(r'\bname="([A-Za-z_][\w\-\[\]]*)"')
_CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
OAUTH_PARAMETERS = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "prompt",
    "max_age",
    "id_token_hint",
    "login_hint",
    "ui_locales",
    "claims_locales",
    "acr_values",
    "display",
    "claims",
    "request",
    "request_uri",
    "code_challenge",
    "code_challenge_method",
    "response_mode",
    "grant_type",
    "code",
    "code_verifier",
    "refresh_token",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
    "token",
    "token_type_hint",
    "post_logout_redirect_uri",
    "logout_token",
    "page",
    "q",
    "event",
    "from",
    "to",
    "actor",
    "subject",
    "client",
    "authz_id",
]
DEEP_JWT = (  # a JWT whose header is deeply nested JSON (id_token_hint, client_assertion...)
    base64.urlsafe_b64encode(b"[" * 3_000).decode().rstrip("=") + ".e30.c2ln"
)
HOSTILE_VALUES = (
    "A" * 20_000,
    "\x00",
    "١٢٣٤٥٦٧٨",  # Arabic-Indic digits: str.isdigit() is True
    "１２３４５６７８",  # fullwidth digits
    "99999999999999999999999",
    "9999-12-31",
    "0001-01-01",
    "<script>alert(1)</script>",
    "😀" * 50,
    "[" * 3_000,  # JSON nested deeper than the decoder's recursion limit (the claims parameter)
    DEEP_JWT,
    "",
)
PLAUSIBLE_FORM = {
    "grant_type": "authorization_code",
    "code": "x",
    "redirect_uri": "https://app.example/cb",
    "code_verifier": "v" * 43,
    "token": "x",
}
RAW_BODIES = (
    b"dni=%ff%fe&password=%c0%af&page=%ff",  # not UTF-8
    b"%%%&&&===",
)
JSON_BODIES = (
    b'{"dni": ',
    b"[" * 5_000 + b"]" * 5_000,  # deeper than the JSON decoder's recursion limit
    b'{"dni": 12345678, "email": ["a"], "given_name": {"x": 1}}',
    b"\xff\xfe",
)
AUTHORIZATION_HEADERS = (
    "Bearer " + "A" * 5_000,
    "Basic " + base64.b64encode(b"\xff\xfe:\x00").decode(),
    "Basic !!!",
    "Bearer",
    "Negotiate x",
)


def field_names() -> list[str]:
    names: set[str] = set(OAUTH_PARAMETERS)
    for template in TEMPLATES.rglob("*.html"):
        names.update(_FIELD.findall(template.read_text(encoding="utf-8")))
    names.discard("csrf_token")
    return sorted(names)


def rules(app: Flask) -> list[Rule]:
    found = [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]
    assert len(found) >= 60, "the walk found too few routes"
    return found


def paths_for(rule: Rule, user: User) -> Iterator[str]:
    """The rule's path with plausible values, then with each argument in turn out of range."""

    def value(name: str, hostile: bool) -> str:
        numeric = type(rule._converters[name]).__name__ in ("IntegerConverter", "NumberConverter")
        if hostile:
            return "99999999999999999999999" if numeric else "%ff%00" + "z" * 300
        return "1" if numeric else (user.dni if name == "dni" else "x")

    for hostile_one in (None, *sorted(rule.arguments)):
        path = rule.rule
        for name in rule.arguments:
            path = re.sub(rf"<(?:[^:<>]+:)?{name}>", value(name, name == hostile_one), path)
        yield path


def csrf_token(client: FlaskClient) -> str:
    for page in ("/ingresar", "/mi-cuenta", "/admin/usuarios"):
        found = _CSRF.search(client.get(page).get_data(as_text=True))
        if found:
            return found.group(1)
    raise AssertionError("no page gave a CSRF token")


def browser_of(app: Flask, visitor: str) -> FlaskClient:
    """A browser that is anonymous, a signed-in teacher, or an admin with the second factor."""
    client = app.test_client()
    if visitor == "teacher":
        sign_in(app, client, make_user(given_name="Rosa"), ["pwd"])
    elif visitor == "admin":
        admin = make_user(is_admin=True, given_name="Ana")
        enrol_totp(admin)
        sign_in(app, client, admin, ["pwd", "otp"])
    return client


@pytest.mark.parametrize("visitor", ["anonymous", "teacher", "admin"])
def test_no_route_answers_hostile_input_with_a_server_error(app: Flask, visitor: str) -> None:
    from passport.oidc.keys import ensure_keys

    # A ready instance: without a signing key /readyz rightly answers 503 (not a failure).
    ensure_keys()
    client = browser_of(app, visitor)
    # The walk means something only if each visitor is who it claims to be.
    expected = {"anonymous": 302, "teacher": 200, "admin": 200}[visitor]
    assert client.get("/mi-cuenta").status_code == expected
    assert (client.get("/admin/usuarios").status_code == 200) is (visitor == "admin")
    target = make_user(given_name="Zenobia")
    names = field_names()
    token = csrf_token(client)
    addresses = (f"10.{a}.{b}.{c}" for a, b, c in itertools.product(range(1, 250), repeat=3))
    failures: list[str] = []
    requests = 0

    def send(method: str, path: str, **kwargs: object) -> None:
        nonlocal requests
        requests += 1
        environ = {"REMOTE_ADDR": next(addresses)}  # a fresh address: no rate limit hides a route
        response = client.open(path, method=method, environ_base=environ, **kwargs)  # type: ignore[arg-type]
        if response.status_code >= 500:
            failures.append(f"{method} {path} {str(kwargs)[:120]} -> {response.status_code}")

    for rule in rules(app):
        methods = {"GET", "POST"} & set(rule.methods or ())
        for path, method in itertools.product(paths_for(rule, target), sorted(methods)):
            for value in HOSTILE_VALUES:
                fields = dict.fromkeys(names, value)
                if method == "GET":
                    send(method, path, query_string=fields)
                else:
                    send(method, path, data={**fields, "csrf_token": token})
            if method == "POST":
                for body in RAW_BODIES:
                    send(method, path, data=body, content_type="application/x-www-form-urlencoded")
                for body in JSON_BODIES:
                    send(method, path, data=body, content_type="application/json")
                send(method, path, data=b"x" * (1024 * 1024 + 1), content_type="text/plain")
            for header in AUTHORIZATION_HEADERS:
                # With a plausible body too, so client authentication is reached.
                send(method, path, headers={"Authorization": header})
                if method == "POST":
                    send(method, path, headers={"Authorization": header}, data=PLAUSIBLE_FORM)
    assert requests > 2_000, "the walk sent too few requests to mean anything"
    assert not failures, "\n".join(failures[:40])
