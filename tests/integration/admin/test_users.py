"""The console's user pages: search, a person's page, create, edit and each action."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from passport.accounts.models import User
from passport.accounts.models import UserStatus
from passport.audit.models import AuditEvent
from passport.extensions import db
from tests.factories import make_user
from tests.helpers import csrf_token
from tests.integration.admin.conftest import sign_in

UGEL_01 = "UGEL 01 San Juan de Miraflores"
UGEL_02 = "UGEL 02 Rímac"
NEW = "/admin/usuarios/nuevo"


@pytest.fixture
def teacher(app: Flask) -> User:
    return make_user(given_name="Rosa", family_name="Quispe", ugel=UGEL_01, failed_logins=3)


def post(client: FlaskClient, path: str, page: str, **data: Any) -> Any:
    """POST ``data`` to ``path`` with the CSRF token of ``page``."""
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def test_search_finds_by_name_and_links_to_the_person(
    admin_client: FlaskClient, teacher: User
) -> None:
    response = admin_client.get("/admin/usuarios?q=quispe")
    assert response.status_code == 200
    assert f'href="/admin/usuarios/{teacher.dni}"' in text(response)
    assert "No se encontraron usuarios" in text(admin_client.get("/admin/usuarios?q=nadie"))


def test_search_survives_hostile_input(admin_client: FlaskClient) -> None:
    for query in ("%", "'; drop table users; --", "x" * 5000, "<script>", "?page=abc"):
        assert admin_client.get("/admin/usuarios", query_string={"q": query}).status_code == 200
    assert admin_client.get("/admin/usuarios?page=abc").status_code == 200
    assert admin_client.get("/admin/usuarios?page=-4").status_code == 200
    assert admin_client.get("/admin/usuarios?page=99999999").status_code == 200
    # Beyond every database's integer: was an overflow error (500) from the OFFSET.
    assert admin_client.get("/admin/usuarios?page=99999999999999999999999").status_code == 200


def test_the_person_page_shows_state_sessions_and_events(
    app: Flask, admin_client: FlaskClient, teacher: User
) -> None:
    sign_in(app, app.test_client(), teacher, ["pwd"])
    page = text(admin_client.get(f"/admin/usuarios/{teacher.dni}"))
    for expected in (
        "Rosa Quispe",
        teacher.email,
        "Activo",
        "Intentos fallidos",
        "Sesiones activas",
    ):
        assert expected in page
    assert "Cerrar sesión" in page
    assert "Desbloquear" in page
    assert f'href="/admin/auditoria?subject={teacher.dni}"' in page


def test_an_unknown_dni_is_404(admin_client: FlaskClient) -> None:
    assert admin_client.get("/admin/usuarios/99999999").status_code == 404
    assert admin_client.get("/admin/usuarios/not-a-dni").status_code == 404


def test_create_sends_the_activation_mail(admin_client: FlaskClient, outbox: Any) -> None:
    response = post(
        admin_client,
        "/admin/usuarios/nuevo",
        "/admin/usuarios/nuevo",
        dni="45612378",
        given_name="Luis Alberto",
        family_name="Paredes Soto",
        email="luis@example.edu.pe",
        phone="",
        dre="",
        ugel=UGEL_02,
        reason="",
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/usuarios/45612378")
    user = db.session.scalar(select(User).where(User.dni == "45612378"))
    assert user is not None
    assert (user.status, user.ugel) == (UserStatus.PENDING, UGEL_02)
    assert "Generar tu contraseña" in str(outbox.last()["Subject"])


def test_create_with_bad_data_shows_spanish_errors_and_writes_nothing(
    admin_client: FlaskClient, teacher: User
) -> None:
    response = post(
        admin_client,
        "/admin/usuarios/nuevo",
        "/admin/usuarios/nuevo",
        dni="1234",
        given_name="",
        family_name="X",
        email="no-es-correo",
        phone="987",
    )
    assert response.status_code == 200
    page = text(response)
    assert "El DNI debe tener exactamente 8 dígitos" in page
    assert 'aria-invalid="true"' in page
    person = {"given_name": "Otra", "family_name": "Persona", "email": "otra@example.edu.pe"}
    bad_phone = post(admin_client, NEW, NEW, dni=teacher.dni, phone="987", **person)
    assert "Escriba el teléfono en forma internacional" in text(bad_phone)
    duplicate = post(admin_client, NEW, NEW, dni=teacher.dni, **person)
    assert "Ya existe un usuario con ese DNI" in text(duplicate)


def test_edit_makes_a_new_email_unverified(admin_client: FlaskClient, teacher: User) -> None:
    teacher.email_verified = True
    db.session.commit()
    path = f"/admin/usuarios/{teacher.dni}/editar"
    assert 'value="Rosa"' in text(admin_client.get(path))
    response = post(
        admin_client,
        path,
        path,
        given_name="Rosa",
        family_name="Quispe",
        email="rosa.nueva@example.edu.pe",
        phone="",
        reason="Ticket 12",
    )
    assert response.status_code == 302
    db.session.refresh(teacher)
    assert (teacher.email, teacher.email_verified) == ("rosa.nueva@example.edu.pe", False)
    follow = admin_client.get(response.headers["Location"])
    assert "El nuevo correo queda sin verificar" in text(follow)


def test_disable_needs_a_reason_then_ends_the_persons_sessions(
    app: Flask, admin_client: FlaskClient, teacher: User
) -> None:
    browser = app.test_client()
    sign_in(app, browser, teacher, ["pwd"])
    page = f"/admin/usuarios/{teacher.dni}"
    refused = post(admin_client, f"{page}/deshabilitar", page, reason=" ")
    assert refused.status_code == 302
    assert "Indique el motivo" in text(admin_client.get(page))
    db.session.refresh(teacher)
    assert teacher.status is UserStatus.ACTIVE

    done = post(admin_client, f"{page}/deshabilitar", page, reason="Cese laboral")
    assert done.status_code == 302
    db.session.refresh(teacher)
    assert teacher.status is UserStatus.DISABLED
    assert "Cuenta deshabilitada" in text(admin_client.get(page))
    # The person's browser is signed out at once.
    assert "Sesión iniciada" not in text(browser.get("/"))
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "user.disabled"))
    assert event is not None
    assert event.details is not None
    assert event.details["reason"] == "Cese laboral"


def test_enable_unlock_resend_and_reset(
    admin_client: FlaskClient, teacher: User, outbox: Any
) -> None:
    page = f"/admin/usuarios/{teacher.dni}"
    post(admin_client, f"{page}/desbloquear", page)
    db.session.refresh(teacher)
    assert teacher.failed_logins == 0
    post(admin_client, f"{page}/deshabilitar", page, reason="x")
    post(admin_client, f"{page}/habilitar", page)
    db.session.refresh(teacher)
    assert teacher.status is UserStatus.ACTIVE
    post(admin_client, f"{page}/restablecer", page, reason="Sospecha de robo")
    db.session.refresh(teacher)
    assert teacher.password_hash is None
    assert "Restablecer" in str(outbox.last()["Subject"])
    # The activation mail is only for pending accounts.
    post(admin_client, f"{page}/reenviar-activacion", page)
    assert "no corresponde al estado actual" in text(admin_client.get(page))
    pending = make_user(password=None)
    other = f"/admin/usuarios/{pending.dni}"
    post(admin_client, f"{other}/reenviar-activacion", other)
    assert "Generar tu contraseña" in str(outbox.last()["Subject"])


def test_ending_a_session_from_the_person_page(
    app: Flask, admin_client: FlaskClient, teacher: User
) -> None:
    from passport.login.models import SSOSession

    session_id = sign_in(app, app.test_client(), teacher, ["pwd"])
    page = f"/admin/usuarios/{teacher.dni}"
    post(admin_client, f"{page}/sesiones/{session_id}/cerrar", page)
    assert "Sesión cerrada" in text(admin_client.get(page))
    assert db.session.get(SSOSession, session_id).ended_at is not None  # type: ignore[union-attr]


def test_an_action_without_a_csrf_token_is_refused(
    admin_client: FlaskClient, teacher: User
) -> None:
    response = admin_client.post(
        f"/admin/usuarios/{teacher.dni}/deshabilitar", data={"reason": "x"}
    )
    assert response.status_code == 400
    db.session.refresh(teacher)
    assert teacher.status is UserStatus.ACTIVE


def test_a_long_reason_is_refused_in_spanish(admin_client: FlaskClient, teacher: User) -> None:
    # Longer than the input's maxlength (500): the short 400 page, the reason not repeated.
    page = f"/admin/usuarios/{teacher.dni}"
    response = post(admin_client, f"{page}/deshabilitar", page, reason="x" * 501)
    assert response.status_code == 400
    assert "Los datos enviados son demasiado largos" in text(response)
    assert "x" * 501 not in text(response)
    db.session.refresh(teacher)
    assert teacher.status is UserStatus.ACTIVE


def test_an_app_is_shown_in_words_and_can_be_revoked(
    admin_client: FlaskClient, teacher: User
) -> None:
    from passport.oidc.models import Consent
    from passport.oidc.models import OAuthClient
    from tests.integration.oidc.conftest import register_client

    rp = register_client(name="SIAGIE")
    client_pk = db.session.scalar(
        select(OAuthClient.id).where(OAuthClient.client_id == rp.client_id)
    )
    db.session.add(Consent(user_id=teacher.id, client_pk=client_pk, scopes=["openid", "email"]))
    db.session.commit()
    page = f"/admin/usuarios/{teacher.dni}"
    body = text(admin_client.get(page))
    assert "SIAGIE" in body
    assert "Su correo electrónico" in body
    post(admin_client, f"{page}/aplicaciones/{rp.client_id}/revocar", page, reason="Pedido")
    assert "Acceso de la aplicación revocado" in text(admin_client.get(page))
    assert db.session.scalar(select(Consent).where(Consent.user_id == teacher.id)) is None


def test_an_app_that_skips_consent_is_listed_from_its_tokens_and_can_be_revoked(
    app: Flask, admin_client: FlaskClient, teacher: User
) -> None:
    """Issue 9, item 11: the person page lists live grants, not only consent rows."""
    from passport.oidc.models import Consent
    from passport.oidc.models import OAuthToken
    from tests.integration.oidc.conftest import code_flow
    from tests.integration.oidc.conftest import refresh
    from tests.integration.oidc.conftest import register_client
    from tests.integration.oidc.conftest import sign_in as browser_sign_in

    rp = register_client(name="SIAGIE", skip_consent=True)
    browser = app.test_client()
    browser_sign_in(app, browser, teacher)
    tokens = code_flow(browser, rp, "openid email offline_access")
    assert db.session.scalar(select(Consent.id)) is None
    page = f"/admin/usuarios/{teacher.dni}"
    body = text(admin_client.get(page))
    assert "SIAGIE" in body
    assert "Su correo electrónico" in body
    post(admin_client, f"{page}/aplicaciones/{rp.client_id}/revocar", page, reason="Pedido")
    body = text(admin_client.get(page))
    assert "Acceso de la aplicación revocado" in body
    assert "No ha autorizado aplicaciones." in body
    assert refresh(browser, rp, tokens["refresh_token"]).get_json()["error"] == "invalid_grant"
    db.session.expire_all()
    assert all(row.revoked_at is not None for row in db.session.scalars(select(OAuthToken)))
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.event == "consent.revoked")
    ).one()
    assert event.client_id == rp.client_id
    assert event.details["tokens_revoked"] == 1
