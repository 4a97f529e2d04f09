"""Servers for the tests, each on a free loopback port and always stopped.

A real ``passport serve`` / ``ayni serve`` (gunicorn) and nginx in front (``serve``,
``nginx``); an app in this process on a threaded werkzeug server (``start_wsgi``); a
throwaway HTTP server of canned answers for the outbound-fetch tests (``CannedServer``:
jwks_uri, back-channel logout receivers, slow or hostile servers).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import requests
from werkzeug.serving import BaseWSGIServer
from werkzeug.serving import make_server

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


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
    """A throw-away certificate (and key) for ``host``, an address or a name, valid one day."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    alternative_name: x509.GeneralName
    try:
        alternative_name = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        alternative_name = x509.DNSName(host)
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
        .add_extension(x509.SubjectAlternativeName([alternative_name]), critical=False)
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


# --- Canned answers: a throwaway HTTP server for the outbound-fetch tests -------------------


@dataclass
class Answer:
    """What a canned server answers (HTTP/1.0: the connection closes after the answer).

    Content-Length is the body's unless ``headers`` gives one (a malformed one, say) or
    ``length`` is False. ``delay`` waits before answering; ``drip`` sends the body one byte
    every ``drip`` seconds; ``raw`` is sent as it is (dripped too) instead of a status line,
    headers and body. A test may change an answer's fields while it is served.
    """

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    length: bool = True
    delay: float = 0.0
    drip: float = 0.0
    raw: bytes | None = None

    @classmethod
    def json(cls, value: Any, status: int = 200) -> Answer:
        return cls(json.dumps(value).encode(), status, {"Content-Type": "application/json"})

    def send(self, handler: BaseHTTPRequestHandler) -> None:
        time.sleep(self.delay)
        if self.raw is not None:
            self._write(handler, self.raw)
            return
        handler.send_response(self.status)
        headers = dict(self.headers)
        if self.length and "content-length" not in {name.lower() for name in headers}:
            headers["Content-Length"] = str(len(self.body))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        self._write(handler, self.body)

    def _write(self, handler: BaseHTTPRequestHandler, data: bytes) -> None:
        if not self.drip:
            handler.wfile.write(data)
            return
        for byte in data:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(self.drip)


@dataclass(frozen=True)
class Received:
    """One request a canned server received."""

    method: str
    path: str  # with its query
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())


class CannedServer:
    """An HTTP server on 127.0.0.1 answering GET and POST with canned answers.

    ``routes`` maps a path (without its query) to its answer; any other path gets ``answer``
    (404 without one). Every request is recorded in ``requests`` on arrival, before the
    answer's delay. Serving starts on ``start()`` or entering the ``with``; a given ``port``
    is bound only then (a receiver that "comes back"), otherwise a free one is bound at once.
    ``close()`` (or leaving the ``with``) always shuts it down; the client hanging up early
    (a deadline) is no error.
    """

    def __init__(
        self,
        answer: Answer | None = None,
        routes: Mapping[str, Answer] | None = None,
        *,
        port: int = 0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.answer = answer or Answer(b"not found", 404)
        self.routes = dict(routes or {})
        self.requests: list[Received] = []
        self.port = port
        self._tls = tls
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        if not port:
            self._bind()

    @property
    def url(self) -> str:
        scheme = "https" if self._tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def form_values(self, name: str) -> list[str]:
        """Every value of the form field ``name`` in the bodies received, in order."""
        return [value for request in self.requests for value in request.form().get(name, [])]

    def _bind(self) -> ThreadingHTTPServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server._answer(self)

            def do_POST(self) -> None:
                server._answer(self)

            def log_message(self, *args: Any) -> None:
                return None

        httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        if self._tls is not None:
            httpd.socket = self._tls.wrap_socket(httpd.socket, server_side=True)
        self.port = int(httpd.server_address[1])
        self._httpd = httpd
        return httpd

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        size = int(handler.headers.get("Content-Length") or 0)
        received = Received(
            handler.command, handler.path, dict(handler.headers.items()), handler.rfile.read(size)
        )
        with self._lock:
            self.requests.append(received)
        answer = self.routes.get(urlsplit(handler.path).path, self.answer)
        with contextlib.suppress(OSError):  # the client hung up (its deadline)
            answer.send(handler)

    def start(self) -> CannedServer:
        httpd = self._httpd or self._bind()
        if self._thread is None:
            self._thread = threading.Thread(target=httpd.serve_forever, daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        if self._httpd is not None:
            if self._thread is not None:
                self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = self._thread = None

    def __enter__(self) -> CannedServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def start_wsgi(app: WSGIApplication) -> BaseWSGIServer:
    """Serve ``app`` (a Passport or AYNI of this process, a stand-in) on 127.0.0.1 at a free
    port, threaded, from a daemon thread; the caller stops it with ``shutdown()``."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
