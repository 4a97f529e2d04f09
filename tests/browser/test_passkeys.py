"""Passkeys in Debian's headless Chromium with its virtual authenticator (DevTools WebAuthn).

A teacher opens her "Generar tu contraseña" mail → sets a password → signs in → adds a passkey
in Mi cuenta → signs out → enters AYNI_SERVIDOR with the passkey only (no password, no
CAPTCHA) → removes the passkey, after which the browser's stale passkey gets the Spanish
message. An admin without TOTP uses a passkey as the console's second factor. Both sites are
served as ``http://localhost:PORT``: browsers refuse an IP address as the RP id. Each screen
is saved in ``test-artifacts/browser/passkeys/`` (1280 and 320 px) and checked with axe-core.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.browser.test_ayni_journey import ROOT
from tests.browser.test_ayni_journey import Screens
from tests.browser.test_ayni_journey import browser  # noqa: F401 - a fixture
from tests.conftest import Outbox
from tests.helpers import CAPTCHA
from tests.integration.test_ayni_with_passport import Deployment
from tests.integration.test_ayni_with_passport import deploy
from tests.relying_party_demo.conftest import ayni_database_url  # noqa: F401 - a fixture

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts" / "browser" / "passkeys"
TEACHER, TEACHER_PASSWORD = "40000003", "Pachamama-Ayni7"
ADMIN, ADMIN_PASSWORD = "40900001", "Consola-Segura8"


@pytest.fixture
def site(
    _migrated_app: Flask,
    database_url: str,
    outbox_dir: Path,
    ayni_database_url: str,  # noqa: F811 - the imported fixture
) -> Iterator[Deployment]:
    yield from deploy(database_url, outbox_dir, ayni_database_url, host="localhost")


class Phone:
    """Chromium's virtual platform authenticator (resident keys, user verification)."""

    def __init__(self, context: Any, page: Any) -> None:
        self.cdp = context.new_cdp_session(page)
        self.cdp.send("WebAuthn.enable", {"enableUI": False})
        self.id = virtual_authenticator(self.cdp)

    def present(self, enabled: bool) -> None:
        """Whether the person touches the sensor at once (False: requests wait)."""
        self.cdp.send(
            "WebAuthn.setAutomaticPresenceSimulation",
            {"authenticatorId": self.id, "enabled": enabled},
        )


def use_passkey_button(page: Any, phone: Phone) -> None:
    """Press "Ingresar con llave de acceso" on a sign-in page loaded while ``phone`` waited.

    The virtual authenticator may answer the page's conditional request (the passkey offered
    in the DNI field) as soon as presence is back; either way, the passkey alone signs in.
    """
    from playwright.sync_api import Error

    phone.present(True)
    # Suppressed: the conditional request may answer first and move the page on.
    with contextlib.suppress(Error):
        page.locator("#passkey-login").click(timeout=5000)


def virtual_authenticator(cdp: Any) -> str:
    result = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return str(result["authenticatorId"])


def password_sign_in(page: Any, url: str, dni: str, password: str, next_path: str) -> None:
    page.goto(f"{url}/ingresar?next={next_path}")
    page.fill('input[name="username"]', dni)
    page.fill('input[name="password"]', password)
    page.fill('input[name="captcha"]', CAPTCHA)
    page.locator('form[method="post"] button[type="submit"]').first.click()
    page.wait_for_url(f"{url}{next_path}")


def add_passkey(page: Any, screens: Screens, name: str) -> None:
    from playwright.sync_api import expect

    expect(page.get_by_role("heading", level=1)).to_have_text("Llaves de acceso")
    expect(page.get_by_text("Todavía no tiene llaves de acceso.")).to_be_visible()
    screens.capture("llaves_de_acceso")
    page.locator('input[name="passkey_name"]').last.fill(name)
    page.locator("#passkey-register").click()
    expect(page.get_by_role("status")).to_have_text(f"Se agregó la llave de acceso «{name}».")
    expect(page.locator(".passkey-list li strong")).to_have_text([name])
    screens.capture("llave_agregada")


@pytest.mark.parametrize("width", [1280, 320])
def test_a_teacher_goes_from_her_mail_to_ayni_with_a_passkey_and_removes_it(
    browser: Any,  # noqa: F811 - the imported fixture
    site: Deployment,
    outbox_dir: Path,
    width: int,
) -> None:
    from playwright.sync_api import expect

    from passport.accounts.services import NewUser
    from passport.accounts.services import create_user

    with site.passport.app_context():
        create_user(NewUser(TEACHER, "maria@example.edu.pe", "María", "Flores Apaza"))
    link = next(url for url in Outbox(outbox_dir).links_in_last() if "/verificacion/" in url)
    assert link.startswith(site.passport_url)

    context = browser.new_context(viewport={"width": width, "height": 900}, locale="es-PE")
    page = context.new_page()
    phone = Phone(context, page)
    screens = Screens(page, f"{width}px", folder=ARTIFACTS)

    page.goto(link)  # "Generar tu contraseña"
    page.fill("#password", TEACHER_PASSWORD)
    page.fill("#password_confirmation", TEACHER_PASSWORD)
    page.locator("button[data-password-submit]").click()
    expect(page.get_by_role("link", name="Iniciar sesión")).to_be_visible()
    password_sign_in(page, site.passport_url, TEACHER, TEACHER_PASSWORD, "/mi-cuenta")
    expect(page.get_by_role("link", name="Llaves de acceso")).to_be_visible()
    expect(page.get_by_role("button", name="Cerrar sesión")).to_be_visible()
    page.get_by_role("link", name="Llaves de acceso").click()
    page.wait_for_url(f"{site.passport_url}/mi-cuenta/llaves-de-acceso")
    add_passkey(page, screens, "Mi celular")
    page.get_by_role("button", name="Cerrar sesión").click()
    page.wait_for_url(f"{site.passport_url}/")

    # AYNI_SERVIDOR → Passport's sign-in page → the passkey only.
    page.goto(f"{site.ayni_url}/")
    phone.present(False)
    page.get_by_role("link", name="Iniciar sesión").click()
    page.wait_for_url(f"{site.passport_url}/ingresar?**")
    expect(page.locator('input[name="username"]')).to_have_attribute(
        "autocomplete", "username webauthn"
    )
    screens.capture("ingresar_con_llave")
    use_passkey_button(page, phone)
    page.wait_for_url(f"{site.ayni_url}/**")
    assert page.url == f"{site.ayni_url}/inicio"
    expect(page.get_by_role("heading", name="OPCIONES DE LEGAJO")).to_be_visible()
    screens.capture("ayni_con_llave", check_accessibility=False)  # AYNI's pages: its own tests

    # Back in Mi cuenta (the passkey's session): the last use shows, then "Quitar".
    page.goto(f"{site.passport_url}/mi-cuenta/llaves-de-acceso")
    expect(page.locator(".passkey-list li .hint")).not_to_contain_text("Todavía no se usó")
    page.get_by_role("button", name="Quitar la llave de acceso Mi celular").click()
    expect(page.get_by_role("status")).to_have_text(
        "Se quitó la llave de acceso «Mi celular». Puede seguir ingresando con su contraseña."
    )
    screens.capture("llave_quitada")

    # The phone still offers the removed passkey: Passport says so in Spanish.
    page.get_by_role("button", name="Cerrar sesión").click()
    page.wait_for_url(f"{site.passport_url}/")
    phone.present(False)
    page.goto(f"{site.passport_url}/ingresar")
    use_passkey_button(page, phone)
    expect(page.locator("#passkey-status")).to_contain_text("ya no está registrada")
    screens.capture("llave_quitada_ingreso")
    assert screens.csp_violations == []
    context.close()


@pytest.mark.parametrize("width", [1280, 320])
def test_an_admin_uses_a_passkey_as_the_console_second_factor(
    browser: Any,  # noqa: F811 - the imported fixture
    site: Deployment,
    width: int,
) -> None:
    from playwright.sync_api import expect

    from passport.accounts.services import NewUser
    from passport.accounts.services import create_user

    with site.passport.app_context():
        create_user(
            NewUser(
                ADMIN,
                "admin@example.gob.pe",
                "Ana",
                "Torres Ríos",
                password=ADMIN_PASSWORD,
                is_admin=True,
                email_verified=True,
            ),
            send_email=False,
        )
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="es-PE")
    page = context.new_page()
    Phone(context, page)
    screens = Screens(page, f"{width}px_admin", folder=ARTIFACTS)

    password_sign_in(page, site.passport_url, ADMIN, ADMIN_PASSWORD, "/mi-cuenta/llaves-de-acceso")
    add_passkey(page, screens, "Llave de la oficina")
    page.goto(f"{site.passport_url}/admin/")
    page.wait_for_url(f"{site.passport_url}/mi-cuenta/llaves-de-acceso/verificar?**")
    expect(page.get_by_role("heading", level=1)).to_have_text("Verifique que es usted")
    screens.capture("verificar_con_llave")
    page.get_by_role("button", name="Verificar con mi llave de acceso").click()
    page.wait_for_url(f"{site.passport_url}/admin/")
    screens.capture("consola", check_accessibility=False)  # the console's own tests check it
    assert screens.csp_violations == []
    context.close()
