"""Mi cuenta and the second factor in Debian's headless Chromium, against a real Passport.

A teacher signs in (test-only CAPTCHA) and lands on Mi cuenta → enrols TOTP with the
manual-entry secret → sees her recovery codes → signs out and in again: the second step
refuses a wrong code (announced) and takes the right one → changes her password while the
live checklist turns ✘ into ✔. Apart, her Mi cuenta lists the claims an app was allowed
one by one and a refused passkey. Each screen is saved in ``test-artifacts/browser/account/``
(1280 px and 320 px) and checked with axe-core (WCAG 2.1 A/AA) under the strict CSP.
"""

from __future__ import annotations

import time
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

ARTIFACTS = ROOT / "test-artifacts" / "browser" / "account"
TEACHER_DNI, PASSWORD, NEW_PASSWORD = "40800001", "Maestra-Puno42", "Lago-Titicaca9"


@pytest.fixture
def passport_url(_migrated_app: Flask, database_url: str, outbox_dir: Path) -> Iterator[str]:
    """A served Passport with one active teacher, without a second factor yet."""
    from passport.accounts.services import NewUser
    from passport.accounts.services import create_user
    from passport.extensions import db

    server, late, url = serve()
    app = make_test_app(database_url, outbox_dir, ISSUER=url, CAPTCHA_TEST_ANSWER=CAPTCHA)
    with app.app_context():
        create_user(
            NewUser(
                TEACHER_DNI, "lucia@example.edu.pe", "Lucía", "Mamani Condori", password=PASSWORD
            ),
            send_email=False,
        )
    late.app = app
    try:
        yield url
    finally:
        server.shutdown()
        with app.app_context():
            db.session.remove()
            wipe_database(db.engine)


def sign_in(page: Any, url: str) -> None:
    page.goto(f"{url}/ingresar?next=/mi-cuenta")
    page.fill('input[name="username"]', TEACHER_DNI)
    page.fill('input[name="password"]', PASSWORD)
    page.fill('input[name="captcha"]', CAPTCHA)
    page.locator('form[method="post"] button[type="submit"]').first.click()


def open_mi_cuenta(chromium: Any, url: str, width: int, prefix: str) -> tuple[Any, Any, Screens]:
    """A new browser context of ``width`` px, signed in as the teacher, on Mi cuenta."""
    context = chromium.new_context(viewport={"width": width, "height": 900}, locale="es-PE")
    page = context.new_page()
    screens = Screens(page, prefix, folder=ARTIFACTS)
    sign_in(page, url)
    page.wait_for_url(f"{url}/mi-cuenta")
    return context, page, screens


def wrong_code(totp: pyotp.TOTP) -> str:
    """Six digits that no step the server might accept now (or soon) produces."""
    now = time.time()
    near = {totp.at(now + 30 * offset) for offset in range(-2, 4)}
    return next(code for code in (f"{digit}" * 6 for digit in range(10)) if code not in near)


@pytest.mark.parametrize("width", [1280, 320])
def test_a_teacher_turns_on_two_step_verification_and_changes_her_password(
    browser: Any,  # noqa: F811 - the imported fixture
    passport_url: str,
    width: int,
) -> None:
    from playwright.sync_api import expect

    url = passport_url
    context, page, screens = open_mi_cuenta(browser, url, width, f"{width}px")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mi cuenta")
    expect(page.get_by_text("Lucía Mamani Condori — DNI 40800001")).to_be_visible()
    if width < 640:
        # The phone layout hides the table headers: each value says which column it is.
        started = page.locator("#sessions-title ~ table td").nth(2)
        label = started.evaluate("td => getComputedStyle(td, '::before').content")
        assert label == '"Inicio: "'
    screens.capture("mi_cuenta")

    page.get_by_role("link", name="Activar la verificación en dos pasos").click()
    page.wait_for_url(f"{url}/mi-cuenta/doble-factor")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Activar la verificación en dos pasos"
    )
    expect(page.locator(".qr-code svg")).to_be_visible()
    screens.capture("doble_factor_activar")
    totp = pyotp.TOTP(page.locator(".secret code").inner_text().replace(" ", ""))
    page.get_by_label("Código de verificación").fill(totp.now())
    password = page.get_by_label("Contraseña actual")
    password.fill(PASSWORD)
    password.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sus códigos de recuperación")
    expect(page.get_by_role("status")).to_have_text("La verificación en dos pasos quedó activada.")
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    screens.capture("codigos_de_recuperacion")
    page.get_by_role("link", name="Ya los guardé, continuar").click()
    page.wait_for_url(f"{url}/mi-cuenta")
    expect(page.locator("#mfa-title + p .tag")).to_have_text("Activada")

    page.get_by_role("link", name="Volver al inicio").click()
    page.get_by_role("button", name="Cerrar sesión").click()
    expect(page.get_by_role("link", name="Iniciar sesión")).to_be_visible()
    sign_in(page, url)
    page.wait_for_url(f"{url}/ingresar/verificacion")
    expect(page.get_by_role("heading", level=1)).to_have_text("Verificación en dos pasos")
    code = page.get_by_label("Código de verificación")
    expect(code).not_to_have_attribute("aria-invalid", "true")
    screens.capture("segundo_paso")

    code.fill(wrong_code(totp))
    code.press("Enter")
    alert = page.get_by_role("alert")
    expect(alert).to_have_text(
        "El código no es correcto. Escriba el código que muestra ahora su aplicación, "
        "o uno de sus códigos de recuperación."
    )
    expect(alert).to_have_id("form-error")
    expect(code).to_have_attribute("aria-invalid", "true")
    expect(code).to_have_attribute("aria-describedby", "code-help form-error")
    screens.capture("segundo_paso_error")
    # The enrolment's step is spent (a code is good once): the next step's code is still
    # inside the accepted window.
    code.fill(totp.at(time.time() + 30))
    code.press("Enter")
    page.wait_for_url(f"{url}/mi-cuenta")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mi cuenta")

    page.get_by_label("Contraseña actual").fill(PASSWORD)
    new_password = page.get_by_label("Nueva contraseña")
    checklist = page.locator("[data-password-checklist]")

    def icon(rule: str) -> Any:
        return checklist.locator(f'li[data-rule="{rule}"] [data-rule-icon]')

    for rule in ("lowercase", "uppercase", "digit", "min_length"):
        expect(icon(rule)).to_have_text("✘")
    new_password.press_sequentially("L")
    expect(icon("uppercase")).to_have_text("✔")
    expect(icon("lowercase")).to_have_text("✘")
    new_password.press_sequentially("ago")
    expect(icon("lowercase")).to_have_text("✔")
    expect(checklist.locator('li[data-rule="lowercase"] [data-rule-state]')).to_have_text("Cumple:")
    new_password.press_sequentially("-Titicaca")
    expect(icon("min_length")).to_have_text("✔")
    expect(icon("digit")).to_have_text("✘")
    new_password.press_sequentially("9")
    expect(checklist.locator("[data-rule-icon]")).to_have_text(["✔"] * 6)
    page.get_by_label("Confirmar contraseña").press_sequentially(NEW_PASSWORD)
    expect(page.locator("#password-status")).to_have_text(
        "La contraseña cumple todos los requerimientos: ya puede grabarla."
    )
    expect(page.get_by_role("button", name="Cambiar contraseña")).to_have_attribute(
        "aria-disabled", "false"
    )
    screens.capture("contrasena_lista")
    page.get_by_role("button", name="Cambiar contraseña").click()
    page.wait_for_url(f"{url}/mi-cuenta")
    expect(page.get_by_role("status")).to_contain_text("Su contraseña fue cambiada.")
    screens.capture("contrasena_cambiada")
    assert screens.csp_violations == []
    context.close()


@pytest.fixture
def teacher_with_history(passport_url: str, database_url: str, outbox_dir: Path) -> str:
    """The teacher has allowed an app two claims one by one (OIDC Core §5.5), and a passkey
    of hers was refused (the ceremonies themselves: tests/integration/passkeys)."""
    from sqlalchemy import select

    from passport.accounts.models import User
    from passport.audit.services import record_event
    from passport.extensions import db
    from passport.oidc.clients import create_client
    from passport.oidc.clients import validate_metadata
    from passport.oidc.models import Consent

    app = make_test_app(database_url, outbox_dir, ISSUER=passport_url)
    with app.app_context():
        teacher = db.session.scalars(select(User).where(User.dni == TEACHER_DNI)).one()
        client, _secret = create_client(
            validate_metadata(
                {
                    "name": "Escalafón",
                    "redirect_uris": ["https://escalafon.example.gob.pe/callback"],
                    "token_endpoint_auth_method": "client_secret_basic",
                    "scopes": ["openid", "profile", "email", "phone"],
                    "grant_types": ["authorization_code"],
                }
            )
        )
        db.session.add(
            Consent(
                user_id=teacher.id,
                client_pk=client.id,
                scopes=["openid"],
                claims=["email", "phone_number"],
            )
        )
        record_event(
            "passkey.failed",
            outcome="failure",
            subject_user_id=teacher.id,
            subject_dni=teacher.dni,
            ip_address="203.0.113.7",
            details={"reason": "signature"},
        )
        db.session.commit()
        db.session.remove()
    return passport_url


@pytest.mark.parametrize("width", [1280, 320])
def test_mi_cuenta_lists_the_claims_allowed_one_by_one_and_a_refused_passkey(
    browser: Any,  # noqa: F811 - the imported fixture
    teacher_with_history: str,
    width: int,
) -> None:
    from playwright.sync_api import expect

    url = teacher_with_history
    context, page, screens = open_mi_cuenta(browser, url, width, f"{width}px_historial")
    # The list is named by the sentence before it, as a screen reader announces it.
    claims = page.get_by_role("list", name="Además, estos datos que permitió uno por uno:")
    expect(claims.get_by_role("listitem")).to_have_text(
        ["Su correo electrónico", "Su número de teléfono"]
    )
    expect(page.get_by_role("button", name="Revocar acceso de Escalafón")).to_be_visible()
    expect(page.locator("#activity-title ~ table")).to_contain_text(
        "Intento fallido con llave de acceso"
    )
    screens.capture("mi_cuenta_aplicaciones_y_actividad")
    assert screens.csp_violations == []
    context.close()
