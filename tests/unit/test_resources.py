"""Templates and migrations are found as package resources, as in an installed wheel.

scripts/check_wheel.sh proves the wheel itself; this checks the same names in the checkout.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from minedu_sso.resources import resource_dir
from minedu_sso.settings import TestingConfig
from minedu_sso.settings.ayni import AyniTestingConfig
from passport import create_app as create_passport
from relying_party_demo import create_app as create_ayni


@pytest.mark.parametrize(
    ("package", "inside"),
    [
        ("passport.templates", "passport/login/sign_in.html"),
        ("passport.migrations", "alembic.ini"),
        ("passport.migrations", "versions/0001_create_users_and_audit_log.py"),
        ("relying_party_demo.templates", "relying_party_demo/base.html"),
        ("relying_party_demo.migrations", "env.py"),
    ],
)
def test_resource_folders_hold_what_the_apps_read(package: str, inside: str) -> None:
    assert (Path(resource_dir(package)) / inside).is_file()


def test_both_apps_read_templates_and_migrations_from_their_packages(tmp_path: Path) -> None:
    database = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"}
    passport = create_passport(TestingConfig, overrides=database)
    ayni = create_ayni(AyniTestingConfig, overrides=database)
    assert passport.template_folder == resource_dir("passport.templates")
    assert passport.extensions["migrate"].directory == resource_dir("passport.migrations")
    assert ayni.template_folder == resource_dir("relying_party_demo.templates")
    assert ayni.extensions["migrate"].directory == resource_dir("relying_party_demo.migrations")


def test_a_module_is_not_a_resource_folder() -> None:
    with pytest.raises((RuntimeError, TypeError)):
        resource_dir("minedu_sso.logs")
