"""Run a real ``passport serve`` / ``ayni serve`` (gunicorn) on a free loopback port."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Served:
    """A running server: its URL and, once stopped, everything it wrote."""

    url: str
    output: Path

    def text(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")

    def lines(self) -> list[dict[str, Any]]:
        """Every line written, parsed as JSON (fails on a line that is not)."""
        parsed = []
        for line in self.text().splitlines():
            if line.strip():
                try:
                    parsed.append(json.loads(line))
                except ValueError:
                    raise AssertionError(f"not a JSON log line: {line!r}") from None
        return parsed


@contextlib.contextmanager
def serve(
    module: str, environment: dict[str, str], folder: Path, port: int | None = None
) -> Iterator[Served]:
    """Start ``python -m <module> serve`` with ``environment``; stop it (SIGTERM) on exit."""
    port = port or free_port()
    output = folder / f"{module}-{port}.log"
    env = {**os.environ, **environment, "HOME": str(folder)}
    env.pop("XDG_RUNTIME_DIR", None)
    command = [sys.executable, "-m", module, "serve", "--host", "127.0.0.1", "--port", str(port)]
    with output.open("wb") as sink:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [*command, "--workers", "1", "--threads", "2"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, output.read_text(errors="replace")
                try:
                    requests.get(url + "/static/does-not-exist", timeout=1)
                    break
                except requests.ConnectionError:
                    assert time.monotonic() < deadline, "the server did not start"
                    time.sleep(0.2)
            yield Served(url, output)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
