"""Shared fixtures: a real database built from the migrations, the app, a client, the outbox.

``TEST_DATABASE_URL`` picks the backend. Unset: a SQLite file in a temporary folder. A
``postgresql+psycopg://`` URL: a fresh database named ``passport_test_<random>`` is created on
that server for this run and dropped at the end, so parallel runs never share rows.

Signing in, CSRF tokens and the known CAPTCHA answer: ``tests/helpers.py``.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Callable
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask import g
from flask import has_app_context
from flask.testing import FlaskClient
from flask_babel import refresh as refresh_locale

from minedu_sso.settings import TestingConfig
from tests.served import CannedServer


def pytest_report_header(config: pytest.Config) -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    return f"database backend: {sa.make_url(url).get_backend_name() if url else 'sqlite'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of this run's own, empty."""
    base = os.environ.get("TEST_DATABASE_URL", "")
    if not base or base.startswith("sqlite"):
        folder = tmp_path_factory.mktemp("db")
        yield f"sqlite:///{folder / 'passport.db'}"
        return
    with fresh_postgres_database(base, "passport_test") as url:
        yield url


@contextlib.contextmanager
def fresh_postgres_database(base: str, prefix: str) -> Iterator[str]:
    """A new database ``<prefix>_<random>`` on the PostgreSQL server of ``base``, dropped after
    (its connections ended first), so parallel runs never share rows."""
    url = sa.make_url(base)
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture
def canned() -> Iterator[Callable[..., CannedServer]]:
    """Start canned-answer servers (``CannedServer``'s arguments); all stop after the test."""
    with contextlib.ExitStack() as servers:

        def start(*args: Any, **kwargs: Any) -> CannedServer:
            return servers.enter_context(CannedServer(*args, **kwargs))

        yield start


@pytest.fixture(scope="session")
def outbox_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("outbox")


class FreshRequestClient(FlaskClient):
    """A test client whose every request starts with a clean ``g``, as in production.

    The ``app`` fixture keeps one app context open for the whole test, and a request made
    inside it reuses that context's ``g``: a language (Flask-Babel) or a CSRF token
    (Flask-WTF) cached there by one request would leak into the next. In production every
    request has its own app context, so this belongs to the tests, not to the app.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            g.pop("ui_locale", None)
            g.pop("csrf_token", None)
            refresh_locale()
        return super().open(*args, **kwargs)


def make_test_app(database_url: str, outbox_dir: Path, **overrides: Any) -> Flask:
    """Build a Passport app for tests (CAPTCHA on unless a test turns it off)."""
    from passport import create_app

    settings: dict[str, Any] = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MAIL_OUTBOX": str(outbox_dir),
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "SERVER_NAME": None,
    }
    settings.update(overrides)
    app = create_app(TestingConfig, overrides=settings)
    app.test_client_class = FreshRequestClient
    return app


@pytest.fixture(scope="session")
def _migrated_app(database_url: str, outbox_dir: Path) -> Flask:
    """The app, once per run, with the schema built by the migrations (not create_all)."""
    from flask_migrate import upgrade

    app = make_test_app(database_url, outbox_dir)
    with app.app_context():
        upgrade()
    return app


@pytest.fixture
def app(_migrated_app: Flask, outbox_dir: Path) -> Iterator[Flask]:
    """The app inside an app context; every row is deleted after the test."""
    from passport.caches import clear_all
    from passport.extensions import db

    with _migrated_app.app_context():
        yield _migrated_app
        db.session.remove()
        wipe_database(db.engine)
        clear_all(_migrated_app)  # the rows went behind the app caches' back
    reset_rate_limits(_migrated_app)
    for message in outbox_dir.glob("*.eml"):
        message.unlink()


def wipe_database(engine: sa.Engine) -> None:
    """Delete every row of every table, children first (keeps the migrated schema)."""
    from passport.database import Base

    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


def reset_rate_limits(app: Flask) -> None:
    """Forget per-IP counters between tests (the in-process storage lives in the app)."""
    from passport.extensions import limiter

    # A storage without reset support has nothing to forget.
    with contextlib.suppress(Exception):
        limiter.reset()


@pytest.fixture
def known_captcha(app: Flask) -> Iterator[str]:
    """Every CAPTCHA challenge of the shared app reads ``tests.helpers.CAPTCHA`` in the test."""
    from tests.helpers import use_captcha_answer

    with use_captcha_answer(app) as answer:
        yield answer


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def db_session(app: Flask) -> Any:
    from passport.extensions import db

    return db.session


class Outbox:
    """The mails the outbox backend wrote during a test, parsed."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def messages(self) -> list[EmailMessage]:
        parser = BytesParser(policy=policy.default)
        files = sorted(self.folder.glob("*.eml"), key=lambda path: path.stat().st_mtime_ns)
        return [parser.parsebytes(path.read_bytes()) for path in files]  # type: ignore[misc]

    def last(self) -> EmailMessage:
        messages = self.messages()
        assert messages, "no mail was written to the outbox"
        return messages[-1]

    @staticmethod
    def text_of(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())

    @staticmethod
    def html_of(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("html",))
        assert part is not None
        return str(part.get_content())

    def links_in_last(self) -> list[str]:
        return re.findall(r"https?://[^\s\"'<>]+", self.text_of(self.last()))


@pytest.fixture
def outbox(app: Flask, outbox_dir: Path) -> Outbox:
    return Outbox(outbox_dir)
