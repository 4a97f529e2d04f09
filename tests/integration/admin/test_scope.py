"""A UGEL admin sees and changes only the users of its UGEL, through every console URL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from passport.accounts.models import User
from passport.accounts.models import UserStatus
from passport.extensions import db
from tests.factories import make_user
from tests.helpers import csrf_token
from tests.integration.admin.conftest import sign_in

DRE = "DRE Lima Metropolitana"
MINE = "UGEL 01 San Juan de Miraflores"
OTHER = "UGEL 02 Rímac"


@pytest.fixture
def ugel_client(app: Flask, make_admin: Callable[..., User]) -> FlaskClient:
    admin = make_admin(admin_dre=DRE, admin_ugel=MINE, given_name="Elsa", family_name="Ríos")
    client = app.test_client()
    sign_in(app, client, admin, ["pwd", "otp"])
    return client


@pytest.fixture
def mine(app: Flask) -> User:
    return make_user(dre=DRE, ugel=MINE, given_name="Rosa", family_name="Quispe")


@pytest.fixture
def other(app: Flask) -> User:
    return make_user(dre=DRE, ugel=OTHER, given_name="Rosa", family_name="Mamani", failed_logins=4)


def test_the_list_shows_only_the_admins_ugel(
    ugel_client: FlaskClient, mine: User, other: User
) -> None:
    page = ugel_client.get("/admin/usuarios?q=rosa").get_data(as_text=True)
    assert mine.dni in page
    assert other.dni not in page
    by_dni = ugel_client.get(f"/admin/usuarios?q={other.dni}").get_data(as_text=True)
    assert f"/admin/usuarios/{other.dni}" not in by_dni
    assert "No se encontraron usuarios" in by_dni
    home = ugel_client.get("/admin/").get_data(as_text=True)
    assert "Ámbito: UGEL " + MINE in home
    assert "activos: 1 ·" in home  # only "mine" (and not the admin, whose UGEL is unset)


def test_a_ugel_admin_is_not_offered_the_ministry_sections(ugel_client: FlaskClient) -> None:
    home = ugel_client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/usuarios"' in home
    for path in ("/admin/aplicaciones", "/admin/claves", "/admin/auditoria"):
        assert f'href="{path}"' not in home
        assert ugel_client.get(path).status_code == 403


@pytest.mark.parametrize(
    "suffix",
    ["", "/editar"],
)
def test_pages_of_a_user_of_another_ugel_are_not_found(
    ugel_client: FlaskClient, other: User, suffix: str
) -> None:
    assert ugel_client.get(f"/admin/usuarios/{other.dni}{suffix}").status_code == 404


@pytest.mark.parametrize(
    "action",
    [
        "deshabilitar",
        "habilitar",
        "desbloquear",
        "reenviar-activacion",
        "restablecer",
        "editar",
        "sesiones/1/cerrar",
        "aplicaciones/abc/revocar",
    ],
)
def test_actions_on_a_user_of_another_ugel_are_not_found_and_change_nothing(
    ugel_client: FlaskClient, other: User, action: str
) -> None:
    token = csrf_token(ugel_client, "/admin/usuarios")
    response = ugel_client.post(
        f"/admin/usuarios/{other.dni}/{action}",
        data={
            "csrf_token": token,
            "reason": "Ticket 9",
            "given_name": "X",
            "family_name": "Y",
            "email": "x@example.edu.pe",
        },
    )
    assert response.status_code == 404
    db.session.refresh(other)
    assert (other.status, other.failed_logins, other.given_name) == (
        UserStatus.ACTIVE,
        4,
        "Rosa",
    )


def test_a_ugel_admin_must_give_a_reason_even_to_unlock(
    ugel_client: FlaskClient, mine: User
) -> None:
    mine.failed_logins = 2
    db.session.commit()
    page = f"/admin/usuarios/{mine.dni}"
    ugel_client.post(f"{page}/desbloquear", data={"csrf_token": csrf_token(ugel_client, page)})
    assert "Indique el motivo" in ugel_client.get(page).get_data(as_text=True)
    db.session.refresh(mine)
    assert mine.failed_logins == 2
    ugel_client.post(
        f"{page}/desbloquear",
        data={"csrf_token": csrf_token(ugel_client, page), "reason": "Llamada 551"},
    )
    db.session.refresh(mine)
    assert mine.failed_logins == 0


def test_a_ugel_admin_cannot_create_a_user_in_another_ugel(ugel_client: FlaskClient) -> None:
    response = ugel_client.post(
        "/admin/usuarios/nuevo",
        data={
            "csrf_token": csrf_token(ugel_client, "/admin/usuarios/nuevo"),
            "dni": "47474747",
            "given_name": "Ana",
            "family_name": "Rojas",
            "email": "ana@example.edu.pe",
            "ugel": OTHER,
            "reason": "Alta",
        },
    )
    assert response.status_code == 200
    assert "Su ámbito de administración no le permite" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(User).where(User.dni == "47474747")) is None
