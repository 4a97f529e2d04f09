"""AYNI_SERVIDOR runs under the same gunicorn set-up as Passport (JSON lines, no raw access log).

The serving and logging plumbing is the distribution's neutral runtime (minedu_sso), not
Passport the service.
"""

from __future__ import annotations

from minedu_sso.serving import run_gunicorn

__all__ = ["run_gunicorn"]
