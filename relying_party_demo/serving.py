"""AYNI_SERVIDOR runs under the same gunicorn set-up as Passport (JSON lines, no raw access log).

The serving and logging plumbing is shared code, not a dependency on Passport the service.
"""

from __future__ import annotations

from passport.serving import run_gunicorn

__all__ = ["run_gunicorn"]
