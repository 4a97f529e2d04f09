"""``passport serve`` (gunicorn) logs JSON lines with route patterns: no link token, no query.

Before, gunicorn's access log printed ``GET /verificacion/<the link token>`` and the whole
``/authorize`` query string for every request; and every instance on a host announced one
control socket in the home folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from flask import Flask

from tests.integration.oidc.conftest import RP
from tests.integration.oidc.conftest import pkce_pair
from tests.integration.oidc.conftest import register_client
from tests.served import free_port
from tests.served import serve

LINK_TOKEN = "Zq3-link-token-that-must-not-be-logged_0123456789abcdef"
STATE = "state-that-must-not-be-logged-4821"


@pytest.fixture
def rp(app: Flask) -> RP:
    from passport.caches import clear_all

    clear_all(app)
    return register_client(skip_consent=True)


def test_passport_serve_writes_json_lines_without_tokens_or_queries(
    app: Flask, rp: RP, database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    verifier, challenge = pkce_pair()
    environment = {
        "PASSPORT_ENV": "development",
        "PASSPORT_DATABASE_URL": database_url,
        "PASSPORT_ISSUER": f"http://127.0.0.1:{port}",
        "PASSPORT_SECRET_KEY": "serve-test-secret-" + "y" * 32,
        "PASSPORT_MAIL_OUTBOX": str(tmp_path / "outbox"),
        "PASSPORT_TRUSTED_PROXY_COUNT": "1",
    }
    with serve("passport", environment, tmp_path, port) as served:
        link = requests.get(f"{served.url}/verificacion/{LINK_TOKEN}", timeout=10)
        authorize = requests.get(
            f"{served.url}/authorize",
            params={
                "response_type": "code",
                "client_id": rp.client_id,
                "redirect_uri": rp.redirect_uri,
                "scope": "openid",
                "state": STATE,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            },
            headers={"X-Request-Id": "proxy-req.42"},
            allow_redirects=False,
            timeout=10,
        )
        pending = authorize.headers["Location"].split("authz=", 1)[1]
        requests.get(f"{served.url}/ingresar?authz={pending}", timeout=10)
    assert link.status_code < 500
    assert authorize.status_code == 302
    text = served.text()
    for secret in (LINK_TOKEN, STATE, challenge, verifier, pending):
        assert secret not in text
    lines = served.lines()
    access = [line for line in lines if line["logger"] == "passport.access"]
    link_line = next(line for line in access if line["route"] == "/verificacion/<token>")
    assert link_line["request_id"] == link.headers["X-Request-Id"]
    assert link_line["status"] == link.status_code
    assert link_line["method"] == "GET"
    authorize_line = next(line for line in access if line["route"] == "/authorize")
    # Behind one trusted proxy, the proxy's request id is kept and answered.
    assert authorize_line["request_id"] == "proxy-req.42" == authorize.headers["X-Request-Id"]
    assert authorize_line["client_id"] == rp.client_id
    assert authorize_line["status"] == 302
    assert any(line["route"] == "/ingresar" for line in access)
    # gunicorn's own lines are JSON too, and no control socket is shared in the home folder.
    assert any(line["logger"].startswith("gunicorn") for line in lines)
    assert not (tmp_path / ".gunicorn").exists()


def test_two_instances_run_side_by_side(app: Flask, database_url: str, tmp_path: Path) -> None:
    environment = {
        "PASSPORT_ENV": "development",
        "PASSPORT_DATABASE_URL": database_url,
        "PASSPORT_SECRET_KEY": "serve-test-secret-" + "y" * 32,
        "PASSPORT_MAIL_OUTBOX": str(tmp_path / "outbox"),
    }
    with (
        serve("passport", environment, tmp_path) as first,
        serve("passport", environment, tmp_path) as second,
    ):
        assert requests.get(first.url + "/ingresar", timeout=10).status_code == 200
        assert requests.get(second.url + "/ingresar", timeout=10).status_code == 200
    for served in (first, second):
        assert "control socket" not in served.text().lower()
        assert served.lines()
    assert not (tmp_path / ".gunicorn").exists()
