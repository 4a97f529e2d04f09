"""A production WSGI server (gunicorn) for both apps, started from Python.

gunicorn's own lines go out as JSON (minedu_sso/logs.py) and its access log is off: each app
writes one access line per request with the route pattern, because gunicorn's names the raw
path and query (``/verificacion/<link token>``, ``/auth/callback?code=...``). The control
socket is off too: gunicorn's default is one path per user, which every instance on the host
would share.
"""

from __future__ import annotations

import os
import re
from typing import Any

from gunicorn import glogging
from gunicorn.app.base import BaseApplication

from minedu_sso.logs import JsonFormatter
from minedu_sso.logs import configure_json_logging

# gunicorn quotes the offending bytes of a malformed request (its request line, a header).
_QUOTED_DETAIL = re.compile(r"""[:(]?\s*b?['"].*$""", re.DOTALL)


class JsonLogger(glogging.Logger):  # type: ignore[misc]
    """gunicorn's logger, writing JSON lines and never a request's path, query or headers."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        configure_json_logging()
        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        """Nothing: the app logs the request (route pattern, request id, status, duration)."""
        return None

    def exception(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(msg, str) and msg.startswith("Error handling request"):
            msg, args = "Error handling request", ()  # its arguments are the raw URI
        self.error_log.exception(msg, *args, **kwargs)

    def warning(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(msg, str) and msg.startswith("Invalid request from ip="):
            msg = _QUOTED_DETAIL.sub("", msg)  # keep the kind of error, drop the bytes
        self.error_log.warning(msg, *args, **kwargs)


class GunicornApplication(BaseApplication):  # type: ignore[misc]
    """Gunicorn configured in code; the app is imported by each worker after the fork."""

    def __init__(self, app_uri: str, options: dict[str, Any]) -> None:
        self.app_uri = app_uri
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from gunicorn.util import import_app

        return import_app(self.app_uri)


def child_exit(server: Any, worker: Any) -> None:
    """Gunicorn hook (in the arbiter): drop the live gauges of a worker that exited."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return  # AYNI_SERVIDOR, or metrics off: nothing was written per process
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def gunicorn_options(*, host: str, port: int, workers: int, threads: int) -> dict[str, Any]:
    """The settings of every ``serve`` command (Passport's and AYNI_SERVIDOR's)."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "logger_class": JsonLogger,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
        # Several instances on one host must not fight over one control socket.
        "control_socket_disable": True,
        "timeout": 30,
        "graceful_timeout": 10,
        # Fail at start-up, not per request, when settings are unsafe or broken.
        "preload_app": False,
        "child_exit": child_exit,
    }


def run_gunicorn(app_uri: str, *, host: str, port: int, workers: int, threads: int) -> None:
    """Serve ``app_uri`` (``module:factory()``) until interrupted."""
    options = gunicorn_options(host=host, port=port, workers=workers, threads=threads)
    GunicornApplication(app_uri, options).run()
