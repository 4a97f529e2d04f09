"""Bulk import in the console: upload, preview with per-row errors, confirm, mails queued."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import select

from passport.accounts.models import OutgoingMail
from passport.accounts.models import User
from passport.admin.models import UserImport
from passport.extensions import db
from tests.factories import make_user
from tests.helpers import csrf_token
from tests.integration.admin.conftest import confirm_import as confirm
from tests.integration.admin.conftest import sign_in

IMPORT = "/admin/usuarios/importar"
GOOD = (
    "dni,email,given_name,family_name,ugel\n"
    "41000001,ana@example.edu.pe,Ana,Rojas,UGEL 01\n"
    "41000002,luis@example.edu.pe,Luis,Paredes,UGEL 01\n"
)


def upload(client: FlaskClient, content: str | bytes, reason: str = "") -> Any:
    data = content.encode() if isinstance(content, str) else content
    return client.post(
        IMPORT,
        data={
            "csrf_token": csrf_token(client, IMPORT),
            "reason": reason,
            "file": (io.BytesIO(data), "docentes.csv"),
        },
        content_type="multipart/form-data",
    )


def user_count() -> int:
    return int(db.session.scalar(select(func.count()).select_from(User)) or 0)


def test_a_good_file_is_previewed_then_imported_and_mailed(
    admin_client: FlaskClient, outbox: Any
) -> None:
    before = user_count()
    preview = upload(admin_client, GOOD)
    assert preview.status_code == 200
    page = preview.get_data(as_text=True)
    assert "Todavía no se guardó nada" in page
    assert "41000001, 41000002" in page
    assert user_count() == before

    response = confirm(admin_client, preview)
    assert response.status_code == 302
    assert user_count() == before + 2
    assert len(outbox.messages()) == 2
    result = admin_client.get(response.headers["Location"])
    text = result.get_data(as_text=True)
    assert re.search(r"Enviados</dt><dd>2</dd>", text)
    assert re.search(r"Pendientes</dt><dd>0</dd>", text)
    upload_row = db.session.scalar(select(UserImport))
    assert upload_row is not None
    assert upload_row.content is None  # the file is not kept after the import
    assert upload_row.report == {"created": 2, "updated": 0, "unchanged": 0}


def test_every_bad_row_is_listed_in_spanish_and_nothing_is_written(
    admin_client: FlaskClient,
) -> None:
    before = user_count()
    bad = GOOD + "123,no-es-correo,Ana,Rojas,UGEL 01\n41000001,x@example.edu.pe,A,B,UGEL 01\n"
    response = upload(admin_client, bad)
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "no se importó nada" in text
    assert "El DNI debe tener exactamente 8 dígitos" in text
    assert "Ingrese un correo electrónico válido" in text
    assert "El DNI se repite en el archivo" in text
    assert user_count() == before
    assert db.session.scalar(select(func.count()).select_from(UserImport)) == 0


def test_a_file_that_is_not_utf8_or_csv_gets_a_clear_message(admin_client: FlaskClient) -> None:
    latin1 = upload(admin_client, b"dni,email,given_name,family_name\n" + b"\xf1\n")
    assert "guárdelo como «CSV UTF-8»" in latin1.get_data(as_text=True)
    header = upload(admin_client, "dni,correo\n1,2\n")
    assert "Columna desconocida" in header.get_data(as_text=True)
    empty = upload(admin_client, b"")
    assert "Seleccione un archivo CSV" in empty.get_data(as_text=True)
    binary = upload(admin_client, bytes(range(256)) * 4)
    assert binary.status_code in (200, 400)


def test_a_file_over_the_size_limit_gets_a_spanish_page(
    app: Flask, admin_client: FlaskClient
) -> None:
    token = csrf_token(admin_client, IMPORT)
    app.config["IMPORT_MAX_BYTES"] = 3 * 1024 * 1024
    try:
        response = admin_client.post(
            IMPORT,
            data={"csrf_token": token, "file": (io.BytesIO(b"x" * 3_200_000), "grande.csv")},
            content_type="multipart/form-data",
        )
    finally:
        app.config["IMPORT_MAX_BYTES"] = 16 * 1024 * 1024
    assert response.status_code == 413
    text = response.get_data(as_text=True)
    assert "supera el tamaño máximo de 3.0 MB" in text  # the import's limit, not the global one
    assert '<html lang="es">' in text
    assert user_count() == 1  # the admin alone


def test_the_upload_takes_files_over_the_global_body_limit(
    app: Flask, admin_client: FlaskClient
) -> None:
    """A roster larger than MAX_CONTENT_LENGTH (1 MiB) but within IMPORT_MAX_BYTES is read."""
    rows = "".join(
        f"{43_000_000 + n},docente{n}@example.edu.pe,Rosa Elena,Quispe Huamán,UGEL 01\n"
        for n in range(25_000)
    )
    content = "dni,email,given_name,family_name,ugel\n" + rows
    assert len(content.encode()) > app.config["MAX_CONTENT_LENGTH"]
    page = admin_client.get(IMPORT).get_data(as_text=True)
    assert "como máximo 16.0 MB" in page
    response = upload(admin_client, content)
    assert response.status_code == 200
    assert "25000" in response.get_data(as_text=True).replace(".", "").replace(",", "")
    assert user_count() == 1  # a preview writes no user


def test_the_import_is_all_or_nothing_at_confirmation(
    app: Flask, make_admin: Callable[..., User]
) -> None:
    client = app.test_client()
    sign_in(app, client, make_admin(admin_ugel="UGEL 01"), ["pwd", "otp"])
    preview = upload(client, GOOD, reason="Padrón")
    # Between preview and confirmation, the second DNI becomes an admin account of the UGEL,
    # which a UGEL admin may not change.
    make_user(dni="41000002", ugel="UGEL 01", is_admin=True)
    before = user_count()

    response = confirm(client, preview)

    assert response.status_code == 200
    assert "solo un administrador nacional puede cambiarla" in response.get_data(as_text=True)
    assert user_count() == before  # not even the first, valid row
    assert db.session.scalar(select(func.count()).select_from(OutgoingMail)) == 0
    row = db.session.scalar(select(UserImport))
    assert row is not None
    assert row.confirmed_at is None


def test_a_confirmation_counts_once(admin_client: FlaskClient, outbox: Any) -> None:
    preview = upload(admin_client, GOOD)
    confirm(admin_client, preview)
    again = confirm(admin_client, preview)
    assert "ya fue confirmada o caducó" in again.get_data(as_text=True)
    assert len(outbox.messages()) == 2


def test_an_expired_preview_cannot_be_confirmed(admin_client: FlaskClient) -> None:
    preview = upload(admin_client, GOOD)
    row = db.session.scalar(select(UserImport))
    assert row is not None
    row.created_at -= timedelta(hours=2)
    db.session.commit()
    before = user_count()
    assert "caducó" in confirm(admin_client, preview).get_data(as_text=True)
    assert user_count() == before


def test_another_admin_cannot_confirm_or_see_my_import(
    app: Flask, admin_client: FlaskClient, make_admin: Callable[..., User]
) -> None:
    preview = upload(admin_client, GOOD)
    other = app.test_client()
    sign_in(app, other, make_admin(given_name="Otro"), ["pwd", "otp"])
    before = user_count()
    assert "caducó" in confirm(other, preview).get_data(as_text=True)
    assert user_count() == before
    token = db.session.scalar(select(UserImport.token))
    assert other.get(f"{IMPORT}/{token}").status_code == 404


def test_a_ugel_admin_imports_only_people_of_its_ugel(
    app: Flask, make_admin: Callable[..., User]
) -> None:
    client = app.test_client()
    sign_in(app, client, make_admin(admin_ugel="UGEL 01"), ["pwd", "otp"])
    no_reason = upload(client, GOOD)
    assert "Indique el motivo" in no_reason.get_data(as_text=True)
    mixed = GOOD + "41000003,eva@example.edu.pe,Eva,Soto,UGEL 02\n41000004,j@example.edu.pe,J,K,\n"
    response = upload(client, mixed, reason="Padrón 2026")
    text = response.get_data(as_text=True)
    assert text.count("no pertenece a su ámbito") == 2
    assert "Todavía no se guardó nada" in upload(client, GOOD, reason="Padrón").get_data(
        as_text=True
    )


def test_import_pages_refuse_a_plain_user(app: Flask) -> None:
    client = app.test_client()
    sign_in(app, client, make_user(), ["pwd", "otp"])
    assert client.get(IMPORT).status_code == 404
