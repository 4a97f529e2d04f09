"""A new user: the "Generar tu contraseña" mail, its link and the "Verificación de usuario" page."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select

from passport.accounts.models import User
from passport.accounts.models import UserStatus
from passport.accounts.services import NewUser
from passport.accounts.services import create_user
from passport.audit.models import AuditEvent
from passport.extensions import db
from passport.security.password_policy import configured_rules
from passport.security.passwords import verify_password
from tests.conftest import Outbox
from tests.factories import make_user
from tests.helpers import CAPTCHA
from tests.helpers import csrf_in
from tests.helpers import csrf_token
from tests.integration.accounts.conftest import link_path
from tests.integration.accounts.conftest import set_password
from tests.integration.accounts.conftest import verification_links

NEW_PASSWORD = "Kusi8Wayra"


def new_user(dni: str = "41234567") -> User:
    return create_user(NewUser(dni, "rosa.quispe@example.edu.pe", "Rosa Elena", "Quispe Huamán"))


def mailed_link(outbox: Outbox) -> str:
    links = verification_links(outbox.links_in_last())
    assert len(links) == 1
    return links[0]


def events(name: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.event == name)))


def test_a_new_user_is_pending_and_gets_the_seeds_mail(app: Flask, outbox: Outbox) -> None:
    user = new_user()
    assert user.status is UserStatus.PENDING
    assert user.password_hash is None
    message = outbox.last()
    assert message["To"] == "rosa.quispe@example.edu.pe"
    assert message["Subject"] == (
        "MINEDU - Plataforma de Servicios para el Servidor Público – Generar tu contraseña"
    )
    for text in (Outbox.text_of(message), Outbox.html_of(message)):
        assert "Generar tu contraseña" in text
        assert "Estimado(a) Rosa Elena Quispe Huamán:" in text
        assert (
            "Su cuenta de Plataforma de Servicios para el Servidor Público ha sido creada "
            "exitosamente." in text
        )
        assert "en un plazo no mayor de 24 horas" in text
        assert "podrá ingresar con su usuario" in text
        assert "41234567" in text
        assert "deberá comunicarse con la mesa de ayuda del MINEDU." in text
        assert "mesadeayuda@minedu.gob.pe" in text
        assert (
            'Asunto: "Plataforma de Servicios para el Servidor Público – Generación de '
            'contraseña"' in text
        )
        assert "Cuerpo: Datos personales, de contacto y el motivo." in text
        assert "Teléfono: 615-5800 anexo 50505" in text
        assert "Atención de lunes a viernes de 9:00 am a 5:00 pm" in text
    assert re.search(
        r'<a href="http://127\.0\.0\.1:5000/verificacion/[^"]+">generar contraseña</a>',
        Outbox.html_of(message),
    )


def test_the_mail_follows_the_brand_and_help_desk_settings(app: Flask, outbox: Outbox) -> None:
    app.config.update(
        BRAND_NAME="DRELM", HELPDESK_PHONE="01 555-0000", ACTIVATION_LINK_TTL_HOURS=48
    )
    try:
        new_user()
    finally:
        app.config.update(
            BRAND_NAME="MINEDU", HELPDESK_PHONE="615-5800 anexo 50505", ACTIVATION_LINK_TTL_HOURS=24
        )
    message = outbox.last()
    assert message["Subject"].startswith("DRELM - Plataforma de Servicios")
    text = Outbox.text_of(message)
    assert "mesa de ayuda del DRELM" in text
    assert "Teléfono: 01 555-0000" in text
    assert "en un plazo no mayor de 48 horas" in text


def test_the_link_is_absolute_under_the_issuer_whatever_the_host_header(
    app: Flask, client: FlaskClient, outbox: Outbox
) -> None:

    user = make_user(password=None)
    spoofed = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    page = client.get("/generar-contrasena", headers=spoofed).get_data(as_text=True)
    token = csrf_in(page)
    assert token
    response = client.post(
        "/generar-contrasena",
        headers=spoofed,
        data={"csrf_token": token, "dni": user.dni, "captcha": CAPTCHA},
    )
    response.close()  # the mail is sent after the response, as a server does
    assert response.status_code == 200
    message = outbox.last()
    assert mailed_link(outbox).startswith("http://127.0.0.1:5000/verificacion/")
    assert "evil.example" not in Outbox.text_of(message)
    assert "evil.example" not in Outbox.html_of(message)


def test_the_password_page_shows_the_seeds_texts_and_checklist(
    app: Flask, client: FlaskClient, outbox: Outbox
) -> None:
    new_user()
    page = client.get(link_path(mailed_link(outbox)))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Verificación de usuario" in html
    assert (
        "Para culminar el proceso de verificación, ingresar la contraseña. Esta información "
        "servirá para autenticarte en los sistemas de información del MINEDU." in html
    )
    assert "Contraseña:" in html
    assert "Confirmar contraseña:" in html
    assert "La contraseña debería cumplir con los siguientes requerimientos:" in html
    assert ">Grabar</button>" in html
    assert "El botón Grabar se habilitará" in html
    items = re.findall(
        r'<span class="rule-icon" aria-hidden="true" data-rule-icon>(.)</span>.*?'
        r"<span data-rule-label>([^<]+)</span>",
        html,
        re.S,
    )
    assert items == [
        ("✘", "Al menos debería tener una letra en minúscula"),
        ("✘", "Al menos debería tener una letra en mayúscula"),
        ("✘", "Al menos debería tener un número"),
        ("✘", "Debería tener 8 caracteres como mínimo"),
        ("✔", "Debería tener 15 caracteres como máximo"),
        ("✔", "No debería tener los siguientes caracteres +/.*?\\$&amp;%|&lt;&gt;#"),
    ]
    # Not colour alone: each state is also written out for screen readers.
    assert html.count('class="visually-hidden" data-rule-state>No cumple:') == 4
    assert 'aria-live="polite"' in html
    assert '<script src="/static/js/password-policy.js" defer></script>' in html
    assert "<script>" not in html


def test_the_page_hands_the_script_the_servers_own_patterns(
    app: Flask, client: FlaskClient, outbox: Outbox
) -> None:
    new_user()
    html = client.get(link_path(mailed_link(outbox))).get_data(as_text=True)
    patterns = re.findall(r'data-pattern="([^"]*)" data-whole="(true|false)"', html)
    assert patterns == [
        (str(escape(rule.pattern)), "true" if rule.whole else "false")
        for rule in configured_rules()
    ]


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("KUSI8WAYRA", "La contraseña debe tener al menos una letra en minúscula."),
        ("kusi8wayra", "La contraseña debe tener al menos una letra en mayúscula."),
        ("KusiOWayra", "La contraseña debe tener al menos un número."),
        ("Kusi8Wa", "La contraseña debe tener 8 caracteres como mínimo."),
        ("Kusi8Wayrapqzxcv", "La contraseña debe tener 15 caracteres como máximo."),
        ("Kusi8Way#a", "La contraseña no debe tener ninguno de estos caracteres"),
        ("Ab41234567", "La contraseña no debe contener su DNI."),
        ("Docente123", "Esta contraseña es muy común"),
        ("Minedu2031", "Esta contraseña sigue un patrón fácil de adivinar"),
        ("Kq234567xY", "La contraseña se parece a su DNI"),
    ],
)
def test_a_refused_password_shows_its_spanish_message_and_changes_nothing(
    app: Flask, client: FlaskClient, outbox: Outbox, password: str, message: str
) -> None:
    user = new_user()
    generation = user.link_generation
    link = mailed_link(outbox)
    response = set_password(client, link, password)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.status is UserStatus.PENDING
    assert user.password_hash is None
    assert user.link_generation == generation
    assert client.get(link_path(link)).status_code == 200  # the link still works


def test_a_mismatched_confirmation_is_refused(
    app: Flask, client: FlaskClient, outbox: Outbox
) -> None:
    new_user()
    response = set_password(client, mailed_link(outbox), NEW_PASSWORD, "Kusi8Wayrb")
    assert response.status_code == 400
    assert "La confirmación no coincide con la contraseña." in response.get_data(as_text=True)


def test_a_good_password_activates_the_account(
    app: Flask, client: FlaskClient, outbox: Outbox
) -> None:
    user = new_user()
    user.failed_logins = 3
    db.session.commit()
    response = set_password(client, mailed_link(outbox), NEW_PASSWORD)
    assert response.status_code == 303
    assert response.headers["Location"] == "/contrasena-grabada"
    page = client.get("/contrasena-grabada").get_data(as_text=True)
    assert "Su contraseña se grabó correctamente." in page
    assert 'href="/ingresar"' in page
    db.session.refresh(user)
    assert user.status is UserStatus.ACTIVE
    assert verify_password(user.password_hash, NEW_PASSWORD)
    assert user.password_changed_at is not None
    assert user.email_verified
    assert user.failed_logins == 0
    [event] = events("password.set")
    assert event.subject_user_id == user.id
    assert NEW_PASSWORD not in str(event.details)


def test_a_used_link_shows_the_dead_link_page_and_changes_nothing(
    app: Flask, client: FlaskClient, outbox: Outbox
) -> None:
    user = new_user()
    link = mailed_link(outbox)
    assert set_password(client, link, NEW_PASSWORD).status_code == 303
    db.session.refresh(user)
    stored = user.password_hash
    again = client.get(link_path(link))
    assert again.status_code == 410
    html = again.get_data(as_text=True)
    assert "El enlace ya no es válido" in html
    assert "Este enlace ya fue usado o fue reemplazado por uno más reciente." in html
    assert "No se realizó ningún cambio en su cuenta." in html
    assert "mesadeayuda@minedu.gob.pe" in html
    assert "615-5800 anexo 50505" in html
    # Posting to it changes nothing either.
    token = csrf_token(client, "/generar-contrasena")
    posted = client.post(
        link_path(link),
        data={"csrf_token": token, "password": "Otra8Clave", "password_confirmation": "Otra8Clave"},
    )
    assert posted.status_code == 410
    db.session.refresh(user)
    assert user.password_hash == stored
    assert [e.details for e in events("password_link.rejected")] == [{"reason": "used"}]
