"""``passport users ...``: CONTRACT.md's commands, their JSON and their one-line failures."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import select

from passport.accounts.cli import users_group
from passport.accounts.models import User
from passport.accounts.models import UserStatus
from passport.database import utcnow
from passport.extensions import db
from passport.security.passwords import verify_password
from tests.conftest import Outbox
from tests.factories import make_user

CREATE = [
    "create",
    "--dni",
    "41234567",
    "--email",
    "rosa@example.edu.pe",
    "--given-name",
    "Rosa Elena",
    "--family-name",
    "Quispe Huamán",
]


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(users_group, list(args))


def assert_one_line_failure(result: Result, fragment: str) -> None:
    assert result.exit_code != 0
    assert result.stderr.count("\n") == 1, result.stderr
    assert fragment in result.stderr


def user(dni: str) -> User:
    db.session.expire_all()
    found = db.session.scalar(select(User).where(User.dni == dni))
    assert found is not None
    return found


def test_create_prints_dni_and_sub_as_json_and_mails_the_link(app: Flask, outbox: Outbox) -> None:
    result = run(app, *CREATE, "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    created = user("41234567")
    assert payload["dni"] == "41234567"
    assert payload["sub"] == created.sub
    assert payload["status"] == "pending"
    assert payload["activation_mail_sent"] is True
    assert outbox.last()["Subject"].endswith("Generar tu contraseña")


def test_create_with_every_option(app: Flask, outbox: Outbox) -> None:
    address = {"street_address": "Jr. Lampa 456", "locality": "Lima", "country": "PE"}
    result = run(
        app,
        *CREATE,
        "--phone",
        "+51987654321",
        "--address-json",
        json.dumps(address),
        "--email-verified",
        "--phone-verified",
        "--password",
        "Kusi8Wayra",
        "--admin",
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("created user 41234567")
    created = user("41234567")
    assert created.status is UserStatus.ACTIVE
    assert created.is_admin
    assert created.email_verified
    assert created.phone_number_verified
    assert created.address == address
    assert verify_password(created.password_hash, "Kusi8Wayra")
    # No activation mail (a password was given); the admin's enrolment link, always.
    [mail] = outbox.messages()
    assert str(mail["Subject"]).endswith("Activar la verificación en dos pasos")


def test_create_with_no_email_sends_nothing(app: Flask, outbox: Outbox) -> None:
    result = run(app, *CREATE, "--no-email", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["activation_mail_sent"] is False
    assert user("41234567").status is UserStatus.PENDING
    assert outbox.messages() == []


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--password", "Minedu2024"], "password rejected by the policy: Esta contraseña es muy"),
        (["--password", "corta"], "La contraseña debe tener al menos una letra en mayúscula."),
        (["--address-json", "{nope"], "--address-json is not valid JSON"),
        (["--address-json", "[1]"], "--address-json must be a JSON object"),
        (["--address-json", '{"calle": "x"}'], "address unknown member(s) calle"),
        (["--phone", "987"], "phone must be in international form"),
    ],
)
def test_create_failures_exit_non_zero_with_one_line(
    app: Flask, outbox: Outbox, extra: list[str], fragment: str
) -> None:
    result = run(app, *CREATE, *extra)
    assert_one_line_failure(result, fragment)
    assert result.stdout == ""
    assert db.session.scalar(select(User)) is None
    assert outbox.messages() == []


def test_create_refuses_a_malformed_dni(app: Flask) -> None:
    args = list(CREATE)
    args[2] = "1234"
    assert_one_line_failure(run(app, *args), "dni must be exactly 8 digits")


def test_create_refuses_a_duplicate_dni(app: Flask) -> None:
    make_user(dni="41234567")
    assert_one_line_failure(run(app, *CREATE), "a user with DNI 41234567 already exists")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "docentes.csv"
    path.write_text(text, encoding="utf-8")
    return path


CSV = (
    "dni,email,given_name,family_name\n"
    "41000001,a@example.pe,Ana,Quispe\n"
    "41000002,b@example.pe,Luis,Mamani\n"
)


def test_import_reports_counts_and_is_idempotent(
    app: Flask, outbox: Outbox, tmp_path: Path
) -> None:
    path = write(tmp_path, CSV)
    first = run(app, "import", str(path))
    assert first.exit_code == 0, first.stderr
    assert first.stdout.strip() == "2 created, 0 updated, 0 unchanged"
    assert len(outbox.messages()) == 2
    again = run(app, "import", str(path), "--json")
    assert again.exit_code == 0
    payload = json.loads(again.stdout)
    assert (payload["created"], payload["updated"], payload["unchanged"]) == (0, 0, 2)
    assert len(outbox.messages()) == 2


def test_import_dry_run_writes_nothing(app: Flask, outbox: Outbox, tmp_path: Path) -> None:
    result = run(app, "import", str(write(tmp_path, CSV)), "--dry-run")
    assert result.exit_code == 0
    assert result.stdout.strip() == "dry run: would be 2 created, 0 updated, 0 unchanged"
    assert db.session.scalar(select(User)) is None
    assert outbox.messages() == []


def test_import_no_email_sends_nothing(app: Flask, outbox: Outbox, tmp_path: Path) -> None:
    assert run(app, "import", str(write(tmp_path, CSV)), "--no-email").exit_code == 0
    assert outbox.messages() == []


def test_import_with_a_bad_row_lists_errors_and_fails(app: Flask, tmp_path: Path) -> None:
    path = write(tmp_path, CSV + "4100000,c@example.pe,Rosa,Q\n")
    result = run(app, "import", str(path))
    assert_one_line_failure(result, "1 error(s); nothing was written")
    assert result.stdout.strip() == "line 4, dni: must be exactly 8 digits"
    as_json = run(app, "import", str(path), "--json")
    assert as_json.exit_code != 0
    assert json.loads(as_json.stdout) == {
        "ok": False,
        "written": False,
        "errors": [{"line": 4, "field": "dni", "reason": "must be exactly 8 digits"}],
    }
    assert db.session.scalar(select(User)) is None


def test_import_of_a_missing_file_fails_in_one_line(app: Flask, tmp_path: Path) -> None:
    assert_one_line_failure(run(app, "import", str(tmp_path / "nope.csv")), "cannot read")


def test_unlock_disable_enable(app: Flask) -> None:
    target = make_user(failed_logins=5, lockouts=1, locked_until=utcnow() + timedelta(minutes=9))
    dni = target.dni
    result = run(app, "unlock", dni)
    assert (result.exit_code, result.stdout.strip()) == (0, f"user {dni} unlocked")
    assert user(dni).locked_until is None
    result = run(app, "disable", dni, "--json")
    assert json.loads(result.stdout) == {"dni": dni, "action": "disable", "changed": True}
    assert user(dni).status is UserStatus.DISABLED
    assert run(app, "disable", dni).stdout.strip() == f"user {dni} was already disabled"
    assert run(app, "enable", dni).stdout.strip() == f"user {dni} enabled"
    assert user(dni).status is UserStatus.ACTIVE


@pytest.mark.parametrize("command", ["unlock", "disable", "enable"])
def test_status_commands_fail_for_an_unknown_dni(app: Flask, command: str) -> None:
    assert_one_line_failure(run(app, command, "49999999"), "no user has DNI 49999999")
