"""Issue 9, items 1 and 8: one write rule for every path, and no DNI enumeration by scope.

A scoped admin must not change an admin account through the CSV import (then take it over by
"¿Olvidaste la contraseña?"), must not move people out of its territory (a UGEL-only admin
changing a DRE), and must get the same answer for a DNI that exists outside its territory
as for a new one (the row is held for a national admin).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import select

from passport.accounts import territory
from passport.accounts.cli import users_group
from passport.accounts.errors import InvalidImportError
from passport.accounts.importing import import_users
from passport.accounts.models import HeldUserRequest
from passport.accounts.models import User
from passport.accounts.territory import Refusal
from passport.accounts.territory import change_refusal
from passport.audit.services import Actor
from passport.extensions import db
from passport.mfa.models import TOTPCredential
from tests.factories import make_user
from tests.helpers import csrf_token
from tests.integration.admin.conftest import confirm_import as confirm
from tests.integration.admin.conftest import sign_in
from tests.integration.api.conftest import bearer
from tests.integration.api.conftest import issue_token
from tests.integration.api.conftest import register_api_client
from tests.integration.oidc.conftest import _fresh_caches  # noqa: F401 - autouse fixture

DRE = "DRE Cusco"
OTHER_DRE = "DRE Puno"
UGEL = "UGEL Cusco"
OTHER_UGEL = "UGEL Urubamba"
IMPORT = "/admin/usuarios/importar"
HEADER = "dni,email,given_name,family_name,dre,ugel\n"


def upload(client: FlaskClient, content: str, reason: str = "Padrón 2026") -> Any:
    return client.post(
        IMPORT,
        data={
            "csrf_token": csrf_token(client, IMPORT),
            "reason": reason,
            "file": (io.BytesIO(content.encode()), "docentes.csv"),
        },
        content_type="multipart/form-data",
    )


def console(app: Flask, admin: User) -> FlaskClient:
    client = app.test_client()
    sign_in(app, client, admin, ["pwd", "otp"])
    return client


def reload(user: User) -> User:
    db.session.expire_all()
    found = db.session.get(User, user.id)
    assert found is not None
    return found


@pytest.fixture
def dre_admin(make_admin: Callable[..., User]) -> User:
    return make_admin(admin_dre=DRE, given_name="Elsa", family_name="Ríos")


@pytest.fixture
def colleague(make_admin: Callable[..., User]) -> User:
    """Another admin whose own account lives in the DRE (so the DRE admin can see it)."""
    return make_admin(
        dre=DRE, ugel=UGEL, admin_dre=DRE, admin_ugel=UGEL, email_verified=True, email="c@x.pe"
    )


# --- Item 1: the import is no back door to an admin account ---------------------------------


def test_a_dre_admin_cannot_change_an_admin_email_through_the_import(
    app: Flask, dre_admin: User, colleague: User
) -> None:
    client = console(app, dre_admin)
    row = f"{colleague.dni},atacante@example.pe,{colleague.given_name},{colleague.family_name},"
    response = upload(client, HEADER + row + f"{DRE},{UGEL}\n")
    page = response.get_data(as_text=True)
    assert "solo un administrador nacional puede cambiarla" in page
    assert 'action="/admin/usuarios/importar/' not in page  # no confirmation offered
    with pytest.raises(InvalidImportError) as refused:
        import_users((HEADER + row + f"{DRE},{UGEL}\n").encode(), actor=Actor(user_id=dre_admin.id))
    assert refused.value.errors[0].reason == Refusal.ADMIN_ACCOUNT.value
    kept = reload(colleague)
    assert (kept.email, kept.email_verified) == ("c@x.pe", True)


def test_an_admin_with_totp_keeps_address_and_factor(
    app: Flask, dre_admin: User, colleague: User
) -> None:
    """The variant that locked a TOTP-holding admin out: nothing of the account changes."""
    client = console(app, dre_admin)
    row = f"{colleague.dni},otro@example.pe,Nuevo,Nombre,{DRE},{UGEL}\n"
    assert "solo un administrador nacional" in upload(client, HEADER + row).get_data(as_text=True)
    kept = reload(colleague)
    assert (kept.email, kept.given_name, kept.email_verified) == ("c@x.pe", "Rosa Elena", True)
    credential = db.session.scalar(
        select(TOTPCredential).where(TOTPCredential.user_id == colleague.id)
    )
    assert credential is not None
    assert credential.confirmed_at is not None


def test_an_unchanged_admin_row_is_not_an_error(
    app: Flask, dre_admin: User, colleague: User
) -> None:
    row = f"{colleague.dni},c@x.pe,{colleague.given_name},{colleague.family_name},{DRE},{UGEL}\n"
    report = import_users((HEADER + row).encode(), actor=Actor(user_id=dre_admin.id), dry_run=True)
    assert report.unchanged == [colleague.dni]


def test_a_ugel_only_admin_cannot_move_a_person_to_another_dre(
    app: Flask, make_admin: Callable[..., User]
) -> None:
    ugel_admin = make_admin(admin_ugel=UGEL)
    person = make_user(dre=DRE, ugel=UGEL)
    row = f"{person.dni},{person.email},{person.given_name},{person.family_name},"
    moved = HEADER + row + f"{OTHER_DRE},{UGEL}\n"
    text = upload(console(app, ugel_admin), moved).get_data(as_text=True)
    assert "no pertenece a su ámbito" in text
    with pytest.raises(InvalidImportError):
        import_users(moved.encode(), actor=Actor(user_id=ugel_admin.id))
    assert reload(person).dre == DRE
    # The same row keeping the DRE is fine; a DRE admin may move people between its UGELs.
    same = HEADER + row + f"{DRE},{UGEL}\n"
    assert import_users(same.encode(), actor=Actor(user_id=ugel_admin.id)).unchanged == [person.dni]
    dre_admin = make_admin(admin_dre=DRE)
    assert change_refusal(dre_admin, person, {"ugel": OTHER_UGEL}) is None
    assert change_refusal(dre_admin, person, {"dre": OTHER_DRE}) is Refusal.TERRITORY
    assert change_refusal(ugel_admin, person, {"ugel": OTHER_UGEL}) is Refusal.TERRITORY


def test_national_admins_and_the_system_may_change_admin_accounts(
    app: Flask, make_admin: Callable[..., User], colleague: User
) -> None:
    national = make_admin()
    assert change_refusal(national, colleague, {"email": "n@x.pe"}) is None
    assert change_refusal(None, colleague, {"email": "n@x.pe"}) is None
    assert change_refusal(colleague, None, {"is_admin": True}) is Refusal.NATIONAL_ONLY
    assert change_refusal(national, national, action="disable") is Refusal.OWN_ACCOUNT


def test_console_import_api_and_cli_all_ask_the_same_rule(
    app: Flask, monkeypatch: pytest.MonkeyPatch, make_admin: Callable[..., User]
) -> None:
    """Every write path consults ``territory.change_refusal``: refusing there refuses all."""
    national = make_admin()
    person = make_user(email_verified=True)
    asked: list[str] = []

    def refuse_everything(actor: Any, user: Any, changes: Any = None, **kw: Any) -> Refusal:
        asked.append(kw.get("action", "edit"))
        return Refusal.ADMIN_ACCOUNT

    monkeypatch.setattr(territory, "change_refusal", refuse_everything)
    client = console(app, national)
    edit = f"/admin/usuarios/{person.dni}/editar"
    form = {"given_name": "Otro", "family_name": "Nombre", "email": person.email, "reason": "x"}
    response = client.post(edit, data={"csrf_token": csrf_token(client, edit), **form})
    assert "no le permite esta acción" in response.get_data(as_text=True)
    row = f"{person.dni},{person.email},Otro,Nombre,,\n"
    assert "solo un administrador nacional" in upload(client, HEADER + row).get_data(as_text=True)
    token = issue_token(app.test_client(), register_api_client())
    api = app.test_client().post(f"/api/v1/users/{person.dni}/disable", headers=bearer(token))
    assert api.status_code >= 400
    cli = app.test_cli_runner().invoke(users_group, ["disable", person.dni])
    assert cli.exit_code != 0
    assert reload(person).given_name == "Rosa Elena"
    assert reload(person).status.value == "active"
    assert asked.count("edit") >= 2
    assert asked.count("disable") == 2


# --- Item 8: a DNI outside the territory answers like a new one ------------------------------


def _create(client: FlaskClient, dni: str) -> Any:
    path = "/admin/usuarios/nuevo"
    data = {
        "dni": dni,
        "given_name": "Luis",
        "family_name": "Paredes",
        "email": "luis@example.edu.pe",
        "phone": "",
        "dre": "",
        "ugel": "",
        "reason": "Contrato 2026",
    }
    return client.post(path, data={"csrf_token": csrf_token(client, path), **data})


def test_create_answers_alike_for_a_new_dni_and_one_outside_the_territory(
    app: Flask, dre_admin: User
) -> None:
    elsewhere = make_user(dre=OTHER_DRE, ugel="UGEL Puno", email="p@x.pe")
    client = console(app, dre_admin)
    new = _create(client, "47000001")
    new_page = client.get(new.headers["Location"]).get_data(as_text=True)
    held = _create(client, elsewhere.dni)
    held_page = client.get(held.headers["Location"]).get_data(as_text=True)

    assert (new.status_code, new.headers["Location"]) == (
        held.status_code,
        held.headers["Location"],
    )
    flash = re.compile(r'<p class="notice[^"]*"[^>]*>(.*?)</p>', re.S)
    assert flash.findall(new_page)[:1] == flash.findall(held_page)[:1] != []
    assert "Ya existe" not in held_page
    # Nothing of the person changed; a national admin has the request.
    assert reload(elsewhere).email == "p@x.pe"
    [request] = db.session.scalars(select(HeldUserRequest)).all()
    assert (request.dni, request.source, request.actor_user_id) == (
        elsewhere.dni,
        "create",
        dre_admin.id,
    )


def test_import_preview_answers_alike_and_the_row_waits_for_a_national_admin(
    app: Flask, dre_admin: User, make_admin: Callable[..., User], outbox: Any
) -> None:
    elsewhere = make_user(dre=OTHER_DRE, ugel="UGEL Puno", email="p@x.pe")
    client = console(app, dre_admin)

    def preview(dni: str) -> str:
        page = upload(client, HEADER + f"{dni},n@example.pe,Ana,Rojas,{DRE},{UGEL}\n")
        text = page.get_data(as_text=True).replace(dni, "DNI")
        # CSRF tokens carry a timestamp (they differ across a second boundary); the import's
        # token is random: neither is part of what the admin learns.
        text = re.sub(r'name="csrf_token"([^>]*)value="[^"]*"', "", text)
        return re.sub(r"importar/[^/\"]+", "", text)

    assert preview("47000002") == preview(elsewhere.dni)
    assert "no pertenece a su ámbito" not in preview(elsewhere.dni)

    result = confirm(client, upload(client, HEADER + f"{elsewhere.dni},n@x.pe,Ana,Rojas,{DRE},\n"))
    assert result.status_code == 302
    page = client.get(result.headers["Location"]).get_data(as_text=True)
    assert re.search(r"Usuarios nuevos</dt><dd>1<", page)
    assert reload(elsewhere).email == "p@x.pe"
    assert db.session.scalar(select(func.count()).select_from(HeldUserRequest)) == 1

    # A national admin sees it and applies it; a scoped admin is refused the queue.
    assert client.get("/admin/revision").status_code == 403
    national = console(app, make_admin())
    queue = national.get("/admin/revision").get_data(as_text=True)
    assert elsewhere.dni in queue
    assert "n@x.pe" in queue
    action = re.search(r'action="(/admin/revision/\d+/aplicar)"', queue)
    assert action
    national.post(action.group(1), data={"csrf_token": csrf_token(national, "/admin/revision")})
    moved = reload(elsewhere)
    assert (moved.dre, moved.email, moved.email_verified) == (DRE, "n@x.pe", False)
    assert "No hay solicitudes pendientes" in national.get("/admin/revision").get_data(as_text=True)


def test_a_scoped_admin_still_hears_ya_existe_inside_its_territory(
    app: Flask, dre_admin: User
) -> None:
    mine = make_user(dre=DRE, ugel=UGEL)
    response = _create(console(app, dre_admin), mine.dni)
    assert "Ya existe un usuario con ese DNI" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(HeldUserRequest)) == 0
