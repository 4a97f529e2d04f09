"""The admin console's user pages in Debian's headless Chromium, against a real Passport.

/admin → sign-in (test-only CAPTCHA) → second step with a TOTP code → console → Usuarios →
search → a person's page → the disable confirmation → import (errors, preview, result).
Each screen is saved in ``test-artifacts/browser/admin/`` (1280 px and 320 px) and checked
with axe-core (WCAG 2.1 A/AA) under the strict CSP.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask

from tests.browser.test_ayni_journey import ROOT
from tests.browser.test_ayni_journey import Screens
from tests.browser.test_ayni_journey import browser  # noqa: F401 - a fixture
from tests.conftest import make_test_app
from tests.conftest import wipe_database
from tests.helpers import CAPTCHA
from tests.integration.test_ayni_with_passport import serve

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts" / "browser" / "admin"
ADMIN_DNI, ADMIN_PASSWORD = "40700001", "Consola-Segura7"
TEACHER_DNI = "40700002"
GOOD_CSV = b"dni,email,given_name,family_name\n40700010,eva@example.edu.pe,Eva,Soto\n"
BAD_CSV = b"dni,email,given_name,family_name\n4070,eva@example.edu.pe,Eva,Soto\n"


@pytest.fixture
def console(_migrated_app: Flask, database_url: str, outbox_dir: Path) -> Iterator[tuple[str, str]]:
    """A served Passport with a national admin (TOTP on) and one teacher; (url, secret)."""
    from passport.accounts.services import NewUser
    from passport.accounts.services import create_user
    from passport.database import utcnow
    from passport.extensions import db
    from passport.mfa.models import TOTPCredential
    from passport.mfa.totp import encrypt_secret

    server, late, url = serve()
    app = make_test_app(database_url, outbox_dir, ISSUER=url, CAPTCHA_TEST_ANSWER=CAPTCHA)
    secret = pyotp.random_base32()
    with app.app_context():
        admin = create_user(
            NewUser(
                ADMIN_DNI,
                "admin@example.edu.pe",
                "Ana María",
                "Torres Ríos",
                password=ADMIN_PASSWORD,
                is_admin=True,
                email_verified=True,
            ),
            send_email=False,
        )
        db.session.add(
            TOTPCredential(
                user_id=admin.id, secret_encrypted=encrypt_secret(secret), confirmed_at=utcnow()
            )
        )
        db.session.commit()
        create_user(
            NewUser(
                TEACHER_DNI,
                "rosa@example.edu.pe",
                "Rosa Elena",
                "Quispe Huamán",
                ugel="UGEL 01 San Juan de Miraflores",
            ),
            send_email=False,
        )
    late.app = app
    try:
        yield url, secret
    finally:
        server.shutdown()
        with app.app_context():
            db.session.remove()
            wipe_database(db.engine)


@pytest.mark.parametrize("width", [1280, 320])
def test_an_admin_signs_in_with_totp_and_manages_a_user(
    browser: Any,  # noqa: F811 - the imported fixture
    console: tuple[str, str],
    width: int,
) -> None:
    url, secret = console
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="es-PE")
    page = context.new_page()
    screens = Screens(page, f"{width}px", folder=ARTIFACTS)

    page.goto(f"{url}/admin/")
    page.wait_for_url(f"{url}/ingresar?**")
    page.fill('input[name="username"]', ADMIN_DNI)
    page.fill('input[name="password"]', ADMIN_PASSWORD)
    page.fill('input[name="captcha"]', CAPTCHA)
    page.locator('form[method="post"] button[type="submit"]').first.click()
    page.wait_for_selector('input[name="code"]')
    page.fill('input[name="code"]', pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Verificar").click()
    page.wait_for_url(f"{url}/admin/")
    assert page.get_by_role("heading", level=1).inner_text() == "Administración de Passport"
    screens.capture("inicio")

    page.get_by_role("navigation", name="Administración").get_by_role(
        "link", name="Usuarios"
    ).click()
    page.wait_for_url(f"{url}/admin/usuarios")
    page.fill("#q", "quispe")
    page.get_by_role("button", name="Buscar").click()
    page.wait_for_url(f"{url}/admin/usuarios?q=quispe")
    screens.capture("usuarios_busqueda")

    page.get_by_role("link", name=TEACHER_DNI).click()
    page.wait_for_url(f"{url}/admin/usuarios/{TEACHER_DNI}")
    assert "Rosa Elena Quispe Huamán" in page.get_by_role("heading", level=1).inner_text()
    screens.capture("usuario")

    page.locator("#disable > summary").click()
    assert page.locator("#disable form").is_visible()
    screens.capture("usuario_confirmar_deshabilitar")
    page.locator("#disable input[name=reason]").fill("Cese por resolución 15")
    page.locator("#disable button[type=submit]").click()
    page.wait_for_url(f"{url}/admin/usuarios/{TEACHER_DNI}")
    assert page.get_by_role("status").first.inner_text().startswith("Cuenta deshabilitada")
    screens.capture("usuario_deshabilitado")

    page.goto(f"{url}/admin/usuarios/importar")
    screens.capture("importar")
    page.set_input_files(
        "#file",
        files=[{"name": "docentes.csv", "mimeType": "text/csv", "buffer": BAD_CSV}],
    )
    page.get_by_role("button", name="Revisar archivo").click()
    assert page.get_by_role("alert").first.inner_text().startswith("El archivo tiene 1 error")
    screens.capture("importar_errores")
    page.set_input_files(
        "#file",
        files=[{"name": "docentes.csv", "mimeType": "text/csv", "buffer": GOOD_CSV}],
    )
    page.get_by_role("button", name="Revisar archivo").click()
    screens.capture("importar_vista_previa")
    page.get_by_role("button", name="Confirmar e importar").click()
    page.wait_for_url(f"{url}/admin/usuarios/importar/*")
    assert page.get_by_role("heading", level=1).inner_text() == "Importación realizada"
    screens.capture("importar_resultado")
    page.goto(f"{url}/admin/usuarios/nuevo")
    screens.capture("crear")
    assert screens.csp_violations == []
    context.close()
