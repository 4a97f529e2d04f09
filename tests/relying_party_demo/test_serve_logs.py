"""``ayni serve`` logs JSON lines with route patterns: the callback's code and state stay out.

Before, gunicorn's access log printed ``GET /auth/callback?code=...&state=...``: an
authorization code (redeemable for about a minute) in the log of every sign-in.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from flask import Flask

from tests.relying_party_demo.conftest import CLIENT_ID
from tests.relying_party_demo.conftest import StandInIssuer
from tests.served import free_port
from tests.served import serve

CODE = "code-that-must-not-be-logged-9f8e7d6c5b4a"
STATE = "state-that-must-not-be-logged-1a2b3c"


def test_ayni_serve_writes_json_lines_without_the_callback_query(
    ayni_app: Flask, ayni_database_url: str, stand_in_issuer: StandInIssuer, tmp_path: Path
) -> None:
    port = free_port()
    environment = {
        "AYNI_ENV": "development",
        "AYNI_DATABASE_URL": ayni_database_url,
        "AYNI_ISSUER": stand_in_issuer.url,
        "AYNI_CLIENT_ID": CLIENT_ID,
        "AYNI_CLIENT_SECRET": "client-secret-that-must-not-be-logged",
        "AYNI_BASE_URL": f"http://127.0.0.1:{port}",
        "AYNI_SECRET_KEY": "ayni-serve-test-secret-" + "z" * 32,
    }
    with serve("relying_party_demo", environment, tmp_path, port) as served:
        callback = requests.get(
            f"{served.url}/auth/callback",
            params={"code": CODE, "state": STATE, "iss": stand_in_issuer.url},
            headers={"X-Request-Id": "forged-by-the-client"},  # no trusted proxy: ignored
            allow_redirects=False,
            timeout=10,
        )
    assert callback.status_code < 500
    text = served.text()
    for secret in (CODE, STATE, environment["AYNI_CLIENT_SECRET"]):
        assert secret not in text
    access = [line for line in served.lines() if line["logger"] == "relying_party_demo.access"]
    line = next(line for line in access if line["route"] == "/auth/callback")
    assert line["status"] == callback.status_code
    assert line["request_id"] == callback.headers["X-Request-Id"] != "forged-by-the-client"
    assert not (tmp_path / ".gunicorn").exists()


def test_a_database_error_does_not_quote_its_parameters(ayni_app: Flask) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from relying_party_demo.extensions import db

    with pytest.raises(DBAPIError) as failure:
        db.session.execute(
            text("SELECT * FROM no_such_table WHERE dni = :dni"), {"dni": "40000001"}
        )
    db.session.rollback()
    assert "40000001" not in str(failure.value)
