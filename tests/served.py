"""Run a real ``passport serve`` / ``ayni serve`` (gunicorn) on a free loopback port."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
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


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines of a systemd EnvironmentFile (comments and blanks skipped)."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


@dataclass
class Served:
    """A running server: its URL and, once stopped, everything it wrote."""

    url: str
    output: Path
    process: subprocess.Popen[bytes]  # the gunicorn arbiter

    def workers(self) -> set[int]:
        """The process ids of the arbiter's workers now."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text(encoding="ascii")
        return {int(child) for child in children.split()}

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
    module: str,
    environment: dict[str, str],
    folder: Path,
    port: int | None = None,
    options: tuple[str, ...] = ("--workers", "1", "--threads", "2"),
) -> Iterator[Served]:
    """Start ``python -m <module> serve`` with ``environment``; stop it (SIGTERM) on exit.

    Killed (SIGKILL) if it has not stopped 20 s after the SIGTERM; a test may stop it first.
    """
    port = port or free_port()
    output = folder / f"{module}-{port}.log"
    env = {**os.environ, **environment, "HOME": str(folder)}
    env.pop("XDG_RUNTIME_DIR", None)
    command = [sys.executable, "-m", module, "serve", "--host", "127.0.0.1", "--port", str(port)]
    with output.open("wb") as sink:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [*command, *options],
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
            yield Served(url, output, process)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def self_signed_certificate(folder: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A throw-away certificate (and key) for the address ``host``, valid one day."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate_path, key_path = folder / "tls.crt", folder / "tls.key"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certificate_path, key_path


def render_template(template: Path, values: dict[str, str]) -> str:
    """Fill the ``${NAME}`` placeholders named in ``values`` (as ``envsubst 'NAMES'`` does).

    nginx's own ``$variables`` are left alone; a placeholder left unfilled fails.
    """
    text = template.read_text(encoding="utf-8")
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)
    leftover = [line for line in text.splitlines() if "${" in line and not line.startswith("#")]
    assert not leftover, f"unfilled placeholders: {leftover}"
    return text


@dataclass
class Proxy:
    """A running nginx: its https and http URLs and its JSON access log."""

    url: str
    http_url: str
    access_log: Path
    error_log: Path

    def entries(self) -> list[dict[str, Any]]:
        return [
            json.loads(line)
            for line in self.access_log.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]

    def upstream_of(self, request_id: str) -> str:
        """The ``host:port`` of the instance that answered the request with this id."""
        deadline = time.monotonic() + 5
        while True:
            for entry in self.entries():
                if entry["request_id"] == request_id:
                    return str(entry["upstream_addr"])
            assert time.monotonic() < deadline, f"request {request_id} is not in the access log"
            time.sleep(0.05)


@contextlib.contextmanager
def nginx(site: str, folder: Path, https_port: int, http_port: int) -> Iterator[Proxy]:
    """Run Debian's nginx unprivileged: ``site`` (a rendered server config) under a main
    configuration whose pid file, temporary paths and logs all live in ``folder``."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        raise AssertionError("nginx is not installed (.ci/run installs Debian's package)")
    for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / name).mkdir(exist_ok=True)
    (folder / "site.conf").write_text(site, encoding="utf-8")
    error_log = folder / "error.log"
    # As root, nginx would hand its workers to "nobody", who cannot read this private folder.
    user = "user root;\n" if os.geteuid() == 0 else ""
    (folder / "nginx.conf").write_text(
        f"{user}worker_processes 1;\n"
        f"pid {folder / 'nginx.pid'};\n"
        f"error_log {error_log} notice;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        f"  client_body_temp_path {folder / 'client_body'};\n"
        f"  proxy_temp_path {folder / 'proxy'};\n"
        f"  fastcgi_temp_path {folder / 'fastcgi'};\n"
        f"  uwsgi_temp_path {folder / 'uwsgi'};\n"
        f"  scgi_temp_path {folder / 'scgi'};\n"
        "  access_log off;\n"
        f"  include {folder / 'site.conf'};\n"
        "}\n",
        encoding="utf-8",
    )
    command = [binary, "-p", str(folder), "-c", str(folder / "nginx.conf")]
    checked = subprocess.run(  # noqa: S603 - our own configuration
        [*command, "-t"], capture_output=True, timeout=30, check=False
    )
    assert checked.returncode == 0, checked.stderr.decode(errors="replace")
    process = subprocess.Popen(  # noqa: S603 - our own configuration
        [*command, "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=(folder / "stderr.log").open("wb"),
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, error_log.read_text(errors="replace")
            with socket.socket() as probe:
                probe.settimeout(0.2)
                if probe.connect_ex(("127.0.0.1", https_port)) == 0:
                    break
            assert time.monotonic() < deadline, "nginx did not start"
            time.sleep(0.1)
        yield Proxy(
            f"https://127.0.0.1:{https_port}",
            f"http://127.0.0.1:{http_port}",
            folder / "access.log",
            error_log,
        )
    finally:
        process.send_signal(signal.SIGQUIT)  # nginx's graceful shutdown
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
