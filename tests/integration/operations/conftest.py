"""Helpers for the operations tests: extra apps, metric values, free ports, private servers."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import make_test_app
from tests.helpers import CAPTCHA

# A TCP port nothing listens on (reserved, never bound): "the database is unreachable".
DEAD_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:9/passport"
PG_BIN = Path("/usr/lib/postgresql/15/bin")


@pytest.fixture
def make_app(app: Flask, database_url: str, outbox_dir: Path) -> Iterator[Any]:
    """Build extra apps (on the test database unless told); the limiter is re-bound after.

    Depends on ``app``, so the rows these apps write are wiped after the test.
    """
    built: list[Flask] = []

    def build(url: str | None = None, **overrides: Any) -> Flask:
        made = make_test_app(
            url or database_url, outbox_dir, CAPTCHA_TEST_ANSWER=CAPTCHA, **overrides
        )
        built.append(made)
        return made

    yield build
    if built:
        # Flask-Limiter keeps one storage per limiter object: give it back an in-process one.
        make_test_app(database_url, outbox_dir)


def metric_value(text: str, name: str, **labels: str) -> float:
    """The sum of the samples called ``name`` whose labels include ``labels`` (0 if none)."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def scrape(client: Any) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200
    return str(response.get_data(as_text=True))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            probe.settimeout(0.2)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on port {port} after {seconds} s")


class PrivateRedis:
    """A redis-server of the test's own on a free loopback port (no persistence)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, 10)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own (initdb/pg_ctl) on a free loopback port.

    PostgreSQL refuses to run as root: as root, the cluster belongs to ``postgres`` and the
    commands run through ``runuser``.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> None:
        command = [str(PG_BIN / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=timeout)  # noqa: S603

    def init(self) -> None:
        if not (PG_BIN / "initdb").exists():
            pytest.skip("PostgreSQL 15 binaries are not installed")
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.folder / "log"),
            "-w",
            "-t",
            "30",
            "start",
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop")


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    # Not tmp_path: pytest's folders are private to root, and the cluster belongs to postgres.
    folder = Path(tempfile.mkdtemp(prefix="passport-test-pg-"))
    server = PrivatePostgres(folder)
    try:
        server.init()
        server.start()
        yield server
    finally:
        with contextlib.suppress(subprocess.SubprocessError):
            server.stop()  # already stopped by the test, or never started
        shutil.rmtree(folder, ignore_errors=True)


class PrivateSmtp:
    """An SMTP server of the test's own (tests/integration/operations/smtp_sink.py)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [
                sys.executable,
                "-m",
                "tests.integration.operations.smtp_sink",
                str(self.port),
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, 20)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def refuse(self, refusing: bool) -> None:
        """Answer every recipient 451 (or accept again)."""
        flag = self.folder / "refuse"
        if refusing:
            flag.touch()
        else:
            flag.unlink(missing_ok=True)

    def messages(self) -> list[Any]:
        from email import policy
        from email.parser import BytesParser

        parser = BytesParser(policy=policy.default)
        return [parser.parsebytes(path.read_bytes()) for path in sorted(self.folder.glob("*.eml"))]


@pytest.fixture
def private_smtp(tmp_path: Path) -> Iterator[PrivateSmtp]:
    """Not started: the test starts it when the mail server should come back."""
    server = PrivateSmtp(tmp_path)
    try:
        yield server
    finally:
        server.stop()
