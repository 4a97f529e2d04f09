"""Every Passport route, fed hostile input by three kinds of visitor, answers without a 500.

The walk reads ``app.url_map`` and the field names of every template, so routes and forms added
later are covered without touching this file. Each request fills every known field (and every
OAuth parameter) with one hostile value at once: oversized, NUL, non-UTF-8, other scripts'
digits, out-of-range numbers and dates, deep JSON, markup. A valid CSRF token rides along, so the
values reach the views and services instead of stopping at the CSRF check.

One walk per database, three visitors (anonymous, a teacher, an admin with the second factor).
On every route, path variant and method, every visitor sends every request below except the
two large values (20,000 characters, and JSON 3,000 levels deep, in every field: about 1 MB
of query string each, three quarters of the walk's time when every visitor sent them). Those
two go to every route, path variant and method once, each from another visitor, the visitors
taking turns from route to route, so each visitor sends each large value to a third of the
routes. After each route the signed-in visitors are checked and signed in again if the route
signed them out (``/salir`` does): before that check, every route after ``/salir`` was walked
by an anonymous "teacher" and "admin".
"""

from __future__ import annotations

import base64
import itertools
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from passport.accounts.models import User
from tests.factories import make_user
from tests.helpers import csrf_in
from tests.integration.admin.conftest import enrol_totp
from tests.integration.admin.conftest import sign_in

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "passport"
_FIELD = re.compile(r'\bname="([A-Za-z_][\w\-\[\]]*)"')
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
    "²",  # superscript two: str.isdigit() is True, int() refuses it
    "99999999999999999999999",
    "9999-12-31",
    "0001-01-01",
    "<script>alert(1)</script>",
    "😀" * 50,
    "[" * 3_000,  # JSON nested deeper than the decoder's recursion limit (the claims parameter)
    DEEP_JWT,
    "",
)
VISITORS = ("anonymous", "teacher", "admin")
# Costly to send in every field: every visitor would spend most of the walk on these two.
LARGE_VALUES = (HOSTILE_VALUES[0], HOSTILE_VALUES[9])
SMALL_VALUES = tuple(value for value in HOSTILE_VALUES if value not in LARGE_VALUES)
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
        token = csrf_in(client.get(page).get_data(as_text=True))
        if token:
            return token
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


def assert_is(client: FlaskClient, visitor: str) -> None:
    """The walk means something only if each visitor is who it claims to be."""
    expected = {"anonymous": 302, "teacher": 200, "admin": 200}[visitor]
    assert client.get("/mi-cuenta").status_code == expected, visitor
    assert (client.get("/admin/usuarios").status_code == 200) is (visitor == "admin"), visitor


class Visitor:
    """One visitor's browser and CSRF token, kept valid along the walk.

    Some routes rightly end the visitor's session (``/salir``, ``/end-session`` with a valid
    token) or its CSRF secret. After every route the visitor is checked, and signed in again or
    given a new token, so the routes after them are still walked by who the test claims.
    """

    def __init__(self, app: Flask, name: str) -> None:
        self.app = app
        self.name = name
        self.signed_out_by: list[str] = []
        self.begin()

    def begin(self) -> None:
        self.client = browser_of(self.app, self.name)
        assert_is(self.client, self.name)
        self.refresh_token()

    def refresh_token(self) -> None:
        self.token = csrf_token(self.client)
        self.secret = self.csrf_secret()

    def csrf_secret(self) -> object:
        """The CSRF secret in the browser's session cookie (what the token is checked against)."""
        from flask.sessions import SecureCookieSessionInterface

        interface = self.app.session_interface
        assert isinstance(interface, SecureCookieSessionInterface)
        serializer = interface.get_signing_serializer(self.app)
        cookie = self.client.get_cookie(self.app.config["SESSION_COOKIE_NAME"])
        assert serializer is not None
        return None if cookie is None else serializer.loads(cookie.value).get("csrf_token")

    def after(self, rule: Rule) -> None:
        """Still who it was, with a token its session accepts."""
        if self.name != "anonymous" and self.client.get("/mi-cuenta").status_code != 200:
            self.signed_out_by.append(rule.rule)
            self.begin()
        elif self.csrf_secret() != self.secret:
            self.refresh_token()


def requests_for(path: str, method: str, names: list[str], token: str) -> Iterator[dict[str, Any]]:
    """The hostile requests every visitor sends to ``method path`` (``client.open`` arguments)."""
    for value in SMALL_VALUES:
        yield fill(method, names, value, token)
    if method == "POST":
        for body in RAW_BODIES:
            yield {"data": body, "content_type": "application/x-www-form-urlencoded"}
        for body in JSON_BODIES:
            yield {"data": body, "content_type": "application/json"}
        yield {"data": b"x" * (1024 * 1024 + 1), "content_type": "text/plain"}
    for header in AUTHORIZATION_HEADERS:
        # With a plausible body too, so client authentication is reached.
        yield {"headers": {"Authorization": header}}
        if method == "POST":
            yield {"headers": {"Authorization": header}, "data": PLAUSIBLE_FORM}


def fill(method: str, names: list[str], value: str, token: str) -> dict[str, Any]:
    """Every field set to ``value``: the query of a GET, the form (and CSRF token) of a POST."""
    fields = dict.fromkeys(names, value)
    if method == "GET":
        return {"query_string": fields}
    return {"data": {**fields, "csrf_token": token}}


def test_no_route_answers_hostile_input_with_a_server_error(app: Flask) -> None:
    from passport.oidc.keys import ensure_keys

    # A ready instance: without a signing key /readyz rightly answers 503 (not a failure).
    ensure_keys()
    visitors = {name: Visitor(app, name) for name in VISITORS}
    target = make_user(given_name="Zenobia")
    names = field_names()
    addresses = (f"10.{a}.{b}.{c}" for a, b, c in itertools.product(range(1, 250), repeat=3))
    failures: list[str] = []
    sent: Counter[tuple[str, str, str]] = Counter()
    large_sent: Counter[tuple[int, str]] = Counter()
    turn = itertools.count()

    def send(visitor: str, rule: Rule, method: str, path: str, request: dict[str, Any]) -> None:
        sent[rule.rule, method, visitor] += 1
        environ = {"REMOTE_ADDR": next(addresses)}  # a fresh address: no rate limit hides a route
        response = visitors[visitor].client.open(
            path, method=method, environ_base=environ, **request
        )
        if response.status_code >= 500:
            failures.append(
                f"{visitor}: {method} {path} {str(request)[:120]} -> {response.status_code}"
            )

    for rule in rules(app):
        methods = {"GET", "POST"} & set(rule.methods or ())
        for path, method in itertools.product(paths_for(rule, target), sorted(methods)):
            for visitor in VISITORS:
                for request in requests_for(path, method, names, visitors[visitor].token):
                    send(visitor, rule, method, path, request)
            first = next(turn)
            for number, value in enumerate(LARGE_VALUES):
                visitor = VISITORS[(first + number) % len(VISITORS)]
                token = visitors[visitor].token
                send(visitor, rule, method, path, fill(method, names, value, token))
                large_sent[number, visitor] += 1
        for visitor in visitors.values():
            visitor.after(rule)
    assert not failures, "\n".join(failures[:40])
    # Every route, method and visitor: the 10 small values and 5 Authorization headers, and
    # for a POST the 2 raw bodies, 4 JSON bodies, the 1 MB body and 5 headers with a form.
    for rule in rules(app):
        for method in {"GET", "POST"} & set(rule.methods or ()):
            for visitor in VISITORS:
                least = 15 if method == "GET" else 27
                assert sent[rule.rule, method, visitor] >= least, (rule.rule, method, visitor)
    # Each large value from each visitor, on a third of the route variants each.
    variants = next(turn)
    for number in range(len(LARGE_VALUES)):
        for visitor in VISITORS:
            assert large_sent[number, visitor] >= variants // len(VISITORS), (number, visitor)
