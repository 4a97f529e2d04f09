"""minedu_sso/logs.py: request ids, the access line, the JSON formatter, the gunicorn logger."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest
from flask import Flask

from minedu_sso.logs import JsonFormatter
from minedu_sso.logs import bound_request_id
from minedu_sso.logs import carrying_request_id
from minedu_sso.logs import choose_request_id
from minedu_sso.logs import current_request_id
from minedu_sso.logs import install_request_log
from minedu_sso.logs import note

ACCESS = "tests.access"


def tiny_app(*, trust_incoming: bool) -> Flask:
    app = Flask(__name__)

    @app.get("/verificacion/<token>")
    def verify(token: str) -> str:
        note(sub="sub-1", client_id="client-1")
        return current_request_id() or ""

    install_request_log(app, trust_incoming=trust_incoming, logger_name=ACCESS)
    return app


@pytest.mark.parametrize(
    ("incoming", "trusted", "kept"),
    [
        ("proxy-id.42_A", True, True),
        ("proxy-id.42_A", False, False),  # no trusted proxy: a client's header is ignored
        ("a" * 64, True, True),
        ("a" * 65, True, False),
        ("bad id", True, False),
        ('x"\n{"level":"CRITICAL"}', True, False),  # log injection
        ("", True, False),
        (None, True, False),
    ],
)
def test_a_proxys_request_id_is_kept_only_when_trusted_and_safe(
    incoming: str | None, trusted: bool, kept: bool
) -> None:
    chosen = choose_request_id(incoming, trust_incoming=trusted)
    if kept:
        assert chosen == incoming
    else:
        assert chosen != incoming
        assert len(chosen) == 32
        int(chosen, 16)


def test_each_request_logs_one_line_with_the_route_and_answers_its_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = tiny_app(trust_incoming=True)
    caplog.set_level(logging.INFO, logger=ACCESS)
    response = app.test_client().get(
        "/verificacion/the-link-token?code=the-code", headers={"X-Request-Id": "from-proxy"}
    )
    assert response.headers["X-Request-Id"] == "from-proxy"
    assert response.get_data(as_text=True) == "from-proxy"  # bound while the view ran
    [record] = [r for r in caplog.records if r.name == ACCESS]
    line = record.access  # type: ignore[attr-defined]
    assert line["route"] == "/verificacion/<token>"
    assert line["endpoint"] == "verify"
    assert line["status"] == 200
    assert line["method"] == "GET"
    assert line["sub"] == "sub-1"
    assert line["client_id"] == "client-1"
    assert line["request_id"] == "from-proxy"
    assert "the-link-token" not in record.getMessage()
    assert "the-code" not in repr(line)
    assert current_request_id() is None  # unbound once the request is over


def test_an_unknown_path_is_logged_without_its_path(caplog: pytest.LogCaptureFixture) -> None:
    app = tiny_app(trust_incoming=False)
    caplog.set_level(logging.INFO, logger=ACCESS)
    response = app.test_client().get("/nothing/secret-token-here")
    assert response.status_code == 404
    assert response.headers["X-Request-Id"]
    [record] = [r for r in caplog.records if r.name == ACCESS]
    assert record.access["route"] is None  # type: ignore[attr-defined]
    assert "secret-token-here" not in record.getMessage()


def test_the_access_line_is_skipped_when_its_logger_is_off(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = tiny_app(trust_incoming=False)
    caplog.set_level(logging.WARNING, logger=ACCESS)
    assert app.test_client().get("/verificacion/x").status_code == 200
    assert not [r for r in caplog.records if r.name == ACCESS]


def test_queued_work_runs_under_the_id_of_the_request_that_queued_it() -> None:
    with bound_request_id("req-1"):
        later = carrying_request_id(current_request_id)
        with bound_request_id(None):  # no id stored: the current one stays
            assert current_request_id() == "req-1"
    assert current_request_id() is None
    assert later() == "req-1"
    assert current_request_id() is None


def test_the_formatter_writes_one_json_object_per_record() -> None:
    formatter = JsonFormatter()
    logger = logging.getLogger("tests.json")
    try:
        raise ValueError("boom")
    except ValueError:
        record = logger.makeRecord(
            "tests.json", logging.ERROR, __file__, 1, "failed for %s", ("x",), sys.exc_info()
        )
    with bound_request_id("req-9"):
        text = formatter.format(record)
    assert "\n" not in text  # one line, the traceback escaped
    line = json.loads(text)
    assert line["message"] == "failed for x"
    assert line["level"] == "ERROR"
    assert line["logger"] == "tests.json"
    assert line["request_id"] == "req-9"
    assert line["time"].endswith("Z")
    assert "ValueError: boom" in line["exc"]


@pytest.fixture
def root_logging() -> Iterator[None]:
    """The gunicorn logger configures the root logger: put it back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("root_logging")
def test_gunicorn_lines_are_json_and_drop_raw_uris() -> None:
    from gunicorn.config import Config

    from minedu_sso.serving import JsonLogger
    from minedu_sso.serving import gunicorn_options

    config = Config()
    for key, value in gunicorn_options(host="127.0.0.1", port=1, workers=1, threads=1).items():
        config.set(key, value)
    assert config.control_socket_disable is True
    assert config.accesslog is None
    logger = JsonLogger(config)
    stream = io.StringIO()
    for handler in logger.error_log.handlers:
        handler.setStream(stream)
    try:
        raise RuntimeError("app failed")
    except RuntimeError:
        logger.exception("Error handling request %s", "/verificacion/tok-123?code=c0de")
    logger.warning(
        "Invalid request from ip=10.0.0.1: Invalid HTTP request line: 'GET /verificacion/tok-456'"
    )
    logger.access(None, None, {}, None)  # the app writes the access line
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["message"] for line in lines] == [
        "Error handling request",
        "Invalid request from ip=10.0.0.1: Invalid HTTP request line",
    ]
    assert "tok-123" not in stream.getvalue()
    assert "tok-456" not in stream.getvalue()
