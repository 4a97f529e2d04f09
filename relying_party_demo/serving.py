"""A production WSGI server (gunicorn) for AYNI_SERVIDOR, started from Python."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication


class GunicornApplication(BaseApplication):  # type: ignore[misc]
    """Gunicorn configured in code; each worker imports the app after the fork."""

    def __init__(self, app_uri: str, options: dict[str, Any]) -> None:
        self.app_uri = app_uri
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        """Apply our options to gunicorn's settings."""
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        """Import the WSGI app."""
        from gunicorn.util import import_app

        return import_app(self.app_uri)


def run_gunicorn(app_uri: str, *, host: str, port: int, workers: int, threads: int) -> None:
    """Serve ``app_uri`` (``module:factory()``) until interrupted."""
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "accesslog": "-",
        "errorlog": "-",
        "timeout": 30,
        "graceful_timeout": 10,
        "preload_app": False,
    }
    GunicornApplication(app_uri, options).run()
