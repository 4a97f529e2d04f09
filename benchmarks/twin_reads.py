"""CPU per read of each Core twin against the ORM read it replaces (µs, SQLite, fresh session).

    .venv/bin/python benchmarks/twin_reads.py

The module docstrings of passport/oidc/claims.py, passport/login/sessions.py and
passport/oidc/clients.py quote these numbers; oidc_profile.py gives the per-request totals.
"""

from __future__ import annotations

import json
import logging
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from oidc_profile import prepare

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
READS = 3000


def per_read(read: Callable[[], Any], session: Any) -> float:
    """CPU microseconds per call, the session emptied after each as after a request."""
    for _ in range(200):
        read()
        session.remove()
    start = time.process_time()
    for _ in range(READS):
        read()
        session.remove()
    return round((time.process_time() - start) / READS * 1e6, 1)


def main() -> None:
    from flask_migrate import upgrade
    from sqlalchemy import select

    from config import DevelopmentConfig
    from passport import create_app
    from passport.accounts.models import User
    from passport.extensions import db
    from passport.login import sessions
    from passport.login.models import SSOSession
    from passport.oidc.claims import load_subject
    from passport.oidc.clients import CLIENT_BY_ID
    from passport.oidc.clients import RegisteredClient
    from passport.oidc.models import OAuthClient

    folder = Path(tempfile.mkdtemp(prefix="passport-twins-"))
    app = create_app(
        DevelopmentConfig,
        overrides={
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'p.db'}",
            "SECRET_KEY": secrets.token_urlsafe(32),
            "CAPTCHA_ENABLED": False,
            "MAIL_OUTBOX": str(folder / "outbox"),
        },
    )
    logging.disable(logging.WARNING)
    with app.app_context():
        upgrade()
        client_id, _, _ = prepare(app)
        user_id: int = db.session.execute(select(User.id)).scalar_one()
        token_hash = db.session.scalar(select(SSOSession.token_hash))
        s = db.session
        pairs = {
            "Subject": (
                lambda: load_subject(user_id),
                lambda: s.get(User, user_id),
            ),
            "SessionFacts": (
                lambda: s.execute(
                    sessions._FACTS_BY_TOKEN_HASH, {"token_hash": token_hash}
                ).first(),
                lambda: s.execute(
                    select(SSOSession, User.sub, User.status)
                    .join(User, User.id == SSOSession.user_id)
                    .where(SSOSession.token_hash == token_hash)
                ).first(),
            ),
            "RegisteredClient": (
                lambda: RegisteredClient.from_row(
                    s.execute(CLIENT_BY_ID, {"client_id": client_id}).one()._mapping
                ),
                lambda: s.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id)),
            ),
        }
        for name, (core, orm) in pairs.items():
            line = {"twin": name, "core_us": per_read(core, s), "orm_us": per_read(orm, s)}
            print(json.dumps(line))


if __name__ == "__main__":
    main()
