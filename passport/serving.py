"""``passport serve``: the shared gunicorn set-up (minedu_sso/serving.py) plus Passport's metrics.

Each worker writes its Prometheus counters to a folder made fresh for this server, so a scrape
answered by any worker reports the sum of all of them (passport/operations/metrics.py).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator

from minedu_sso.serving import run_gunicorn

__all__ = ["metrics_folder", "run_gunicorn", "share_hashing_cpus"]

HASH_CONCURRENCY_VARIABLE = "PASSPORT_PASSWORD_HASH_CONCURRENCY"


def share_hashing_cpus(workers: int) -> None:
    """Split the CPUs among the workers' password hashes, unless the operator chose a number.

    Each worker bounds its own concurrent hashes (passport/security/passwords.py); with the
    default (its CPUs) every one of ``workers`` processes would run that many at once.
    """
    from passport.security.passwords import available_cpus

    if not os.environ.get(HASH_CONCURRENCY_VARIABLE):
        os.environ[HASH_CONCURRENCY_VARIABLE] = str(max(1, available_cpus() // workers))


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
