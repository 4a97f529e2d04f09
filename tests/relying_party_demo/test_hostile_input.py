"""Every AYNI_SERVIDOR route, fed hostile input, answers without a 500 (signed in or not).

The same values as Passport's route walk (tests/integration/test_hostile_input_walk.py): each
request fills every parameter the app reads with one hostile value; ids in paths are out of
range; the back-channel logout endpoint gets broken and deeply nested logout tokens.
"""

from __future__ import annotations

import itertools
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.integration.test_hostile_input_walk import HOSTILE_VALUES
from tests.integration.test_hostile_input_walk import RAW_BODIES
from tests.relying_party_demo.conftest import SignIn

PARAMETERS = [
    "anio",
    "mes",
    "pagina",
    "page",
    "code",
    "state",
    "error",
    "error_description",
    "iss",
    "session_state",
    "logout_token",
    "csrf_token",
]
DEMO_DNI = "40000001"  # has legajo and boletas in the demo data


def paths(app: Flask) -> list[str]:
    found: list[str] = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for value in ("1", "99999999999999999999999"):
            found.append(re.sub(r"<(?:[^:<>]+:)?[a-z_]+>", value, rule.rule))
    assert len(found) >= 20, "the walk found too few routes"
    return sorted(set(found))


@pytest.mark.parametrize("signed_in", [False, True])
def test_no_route_answers_hostile_input_with_a_server_error(
    ayni_app: Flask,
    ayni_client: FlaskClient,
    seeded: dict[str, int],
    sign_in: SignIn,
    signed_in: bool,
) -> None:
    if signed_in:
        sign_in(DEMO_DNI)
    failures: list[str] = []
    sent = 0
    for path, value in itertools.product(paths(ayni_app), HOSTILE_VALUES):
        fields = dict.fromkeys(PARAMETERS, value)
        for method, kwargs in (
            ("GET", {"query_string": fields}),
            ("POST", {"data": fields}),
        ):
            sent += 1
            response = ayni_client.open(path, method=method, **kwargs)
            if response.status_code >= 500:
                failures.append(f"{method} {path} {value[:40]!r} -> {response.status_code}")
    for path, body in itertools.product(paths(ayni_app), RAW_BODIES):
        sent += 1
        response = ayni_client.post(
            path, data=body, content_type="application/x-www-form-urlencoded"
        )
        if response.status_code >= 500:
            failures.append(f"POST {path} {body!r} -> {response.status_code}")
    assert sent > 300
    assert not failures, "\n".join(failures[:30])
