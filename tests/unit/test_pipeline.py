"""passport/pipeline.py: the cookie session and the hook cache behave as Flask's own."""

from __future__ import annotations

from flask import Flask
from flask import session

from passport.pipeline import CookieSessionInterface
from passport.pipeline import PassportFlask


def session_app(secret: str | None = "first-secret-" + "x" * 32) -> Flask:
    app = PassportFlask(__name__)
    app.secret_key = secret
    app.session_interface = CookieSessionInterface()

    @app.get("/set")
    def set_value() -> str:
        session["who"] = "rosa"
        return "set"

    @app.get("/get")
    def get_value() -> str:
        return str(session.get("who", "nobody"))

    return app


def test_no_cookie_gives_an_empty_session_and_sets_no_cookie() -> None:
    client = session_app().test_client()
    answer = client.get("/get")
    assert answer.get_data(as_text=True) == "nobody"
    assert "Set-Cookie" not in answer.headers


def test_a_signed_cookie_is_read_back_and_a_tampered_one_is_not() -> None:
    app = session_app()
    client = app.test_client()
    assert "Set-Cookie" in client.get("/set").headers
    assert client.get("/get").get_data(as_text=True) == "rosa"
    cookie = client.get_cookie("session")
    assert cookie is not None
    client.set_cookie("session", cookie.value[:-2] + "xx")
    assert client.get("/get").get_data(as_text=True) == "nobody"


def test_a_new_secret_key_is_used_and_the_old_one_still_reads_as_a_fallback() -> None:
    app = session_app()
    client = app.test_client()
    client.get("/set")
    old = app.secret_key
    app.secret_key = "second-secret-" + "y" * 32
    assert client.get("/get").get_data(as_text=True) == "nobody"  # not signed with the new key
    app.config["SECRET_KEY_FALLBACKS"] = [old]
    assert client.get("/get").get_data(as_text=True) == "rosa"


def test_without_a_secret_key_the_session_is_flask_null_session() -> None:
    app = session_app(secret=None)
    with app.test_request_context("/get"):
        assert app.session_interface.open_session(app, app.request_class({})) is None


def test_hooks_are_asked_once_and_still_run_on_every_request() -> None:
    app = session_app()
    calls: list[str] = []

    @app.before_request
    def count() -> None:
        calls.append("before")

    client = app.test_client()
    client.get("/get")
    client.get("/get")
    assert calls == ["before", "before"]
    assert count in app._sync_callables
