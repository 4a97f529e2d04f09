"""migrations/ayni builds exactly the schema the models describe; the ayni command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from relying_party_demo.cli import db_upgrade
from relying_party_demo.cli import seed_demo_command
from relying_party_demo.database import Base
from relying_party_demo.extensions import db

VERSION_TABLE = "ayni_alembic_version"


def test_models_and_migrations_agree(ayni_app: Flask) -> None:
    import relying_party_demo.models  # noqa: F401  (every table on the metadata)

    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "version_table": VERSION_TABLE}
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_db_upgrade_is_idempotent_and_keeps_its_own_version_table(ayni_app: Flask) -> None:
    runner = ayni_app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(db_upgrade)
        assert result.exit_code == 0, result.output
        assert "database is up to date" in result.output
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        assert context.get_current_heads() == ("0002",)


def test_seed_demo_command_prints_one_json_object_and_is_idempotent(ayni_app: Flask) -> None:
    runner = ayni_app.test_cli_runner()
    first = json.loads(runner.invoke(seed_demo_command, ["--json"]).output)
    second = json.loads(runner.invoke(seed_demo_command, ["--json"]).output)
    assert first["dnis"] == ["40000001", "40000002", "40000003", "40000004"]
    assert first["legajos_created"] == 3
    assert second["boletas_unchanged"] == first["boletas_created"]
    assert "boletas_created" not in second


def test_seed_demo_takes_chosen_dnis_and_refuses_malformed_ones(ayni_app: Flask) -> None:
    runner = ayni_app.test_cli_runner()
    result = runner.invoke(seed_demo_command, ["--dni", "40000002", "--json"])
    assert json.loads(result.output)["legajos_created"] == 1
    bad = runner.invoke(seed_demo_command, ["--dni", "4000000"])
    assert bad.exit_code == 2
    assert "8-digit DNI" in bad.output


def test_unsafe_production_settings_stop_the_command_in_one_line(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AYNI_") and key != "PYTHONPATH"
    }
    env.update(
        AYNI_ENV="production",
        AYNI_DATABASE_URL=f"sqlite:///{tmp_path / 'ayni.db'}",
        AYNI_BASE_URL="https://ayni.example.gob.pe",
        PYTHONPATH=str(root),
    )
    result = subprocess.run(
        [sys.executable, "-m", "relying_party_demo", "db", "upgrade"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("ayni: refusing to start in production")
    assert "AYNI_SECRET_KEY" in lines[0]
    assert "AYNI_CLIENT_ID" in lines[0]


def test_production_refuses_a_plain_http_issuer(ayni_database_url: str) -> None:
    from minedu_sso.settings.ayni import AyniProductionConfig
    from minedu_sso.settings.ayni import ConfigError
    from relying_party_demo import create_app

    settings = {
        "SQLALCHEMY_DATABASE_URI": ayni_database_url,
        "SECRET_KEY": "a-real-secret-" + "y" * 32,
        "CLIENT_ID": "ayni",
        "CLIENT_SECRET": "secret",
        "BASE_URL": "https://ayni.example.gob.pe",
    }
    with pytest.raises(ConfigError, match="AYNI_ISSUER uses http://"):
        create_app(AyniProductionConfig, {**settings, "ISSUER": "http://passport.example.gob.pe"})
    app = create_app(AyniProductionConfig, {**settings, "ISSUER": "https://passport.gob.pe"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
