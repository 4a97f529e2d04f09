"""A production WSGI server (gunicorn) for both apps, started from Python."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

from gunicorn.app.base import BaseApplication


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
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


@contextlib.contextmanager
def metrics_folder() -> Iterator[str]:
    """A fresh ``PROMETHEUS_MULTIPROC_DIR`` for this server's workers, removed at the end.

    Every worker writes its counters to files there, so a scrape answered by any worker
    reports the sum of all of them; values of an earlier run are never mixed in. It must be
    set before the first metric is created (prometheus_client picks its value class then),
    so ``passport serve`` enters this before it builds the app.
    """
    made_already = sys.modules.get("passport.operations.metrics")
    if made_already is not None and made_already.defined():
        raise RuntimeError("metrics were made before PROMETHEUS_MULTIPROC_DIR was set")
    folder = tempfile.mkdtemp(prefix="passport-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    if "prometheus_client.values" in sys.modules:  # imported, but no metric made yet
        from prometheus_client import values

        values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


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
        # Fail at start-up, not per request, when settings are unsafe or broken.
        "preload_app": False,
        "child_exit": child_exit,
    }
    GunicornApplication(app_uri, options).run()
