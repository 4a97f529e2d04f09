"""The CSV import alone, in process, on any database: preview, import, the same file again.

    .venv/bin/python benchmarks/import_timing.py [--rows 50000] [--database-url URL]

Default database: a fresh SQLite file in a temporary folder (a PostgreSQL URL must name an
empty database of your own; it is migrated, not dropped). The file is the one
benchmarks/scale.py uploads (accented names, one DRE/UGEL). ``import_users`` is called as the
console calls it (the confirmation queues the activation mails; none is sent), then ``passport
audit verify``'s walk checks the chain. One JSON line per step.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    from flask_migrate import upgrade

    from config import DevelopmentConfig
    from passport import create_app
    from passport.accounts.importing import import_users
    from passport.audit.chain import verify_chain
    from passport.extensions import db

    folder = Path(tempfile.mkdtemp(prefix="passport-import-"))
    url = args.database_url or f"sqlite:///{folder / 'import.db'}"
    app = create_app(
        DevelopmentConfig,
        overrides={
            "SQLALCHEMY_DATABASE_URI": url,
            "CAPTCHA_ENABLED": False,
            "MAIL_OUTBOX": str(folder / "outbox"),
        },
    )
    logging.disable(logging.WARNING)
    lines = ["dni,email,given_name,family_name,dre,ugel"] + [
        f"{70_000_000 + n},import{n}@minedu.edu.pe,José Ángel,Ñaupari Núñez,DRE PUNO,UGEL SAN ROMÁN"
        for n in range(args.rows)
    ]
    content = ("\n".join(lines) + "\n").encode()
    with app.app_context():
        upgrade()
        steps = (
            ("preview", {"dry_run": True}),
            ("import", {"mail_batch": "benchmark"}),
            ("again", {"mail_batch": "benchmark-again"}),
        )
        for step, options in steps:
            started = time.perf_counter()
            report = import_users(content, **options)  # type: ignore[arg-type]
            seconds = time.perf_counter() - started
            print(json.dumps({"step": step, "seconds": round(seconds, 2), **_counts(report)}))
        chain = verify_chain(db.session())
        print(json.dumps({"audit_chain_ok": chain.ok, "checked": chain.checked}))


def _counts(report: object) -> dict[str, int]:
    return {name: len(getattr(report, name)) for name in ("created", "updated", "unchanged")}


if __name__ == "__main__":
    main()
