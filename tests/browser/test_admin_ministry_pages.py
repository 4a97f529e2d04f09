"""The console's ministry pages in headless Chromium: applications, keys, resources, audit log.

A national admin registers an application (its secret shown once), opens a self-registered
one waiting for scope approval, approves a scope, issues an initial access token, then
looks at the signing keys, registers a resource (RFC 8707) and filters the audit log. Each
screen is saved in ``test-artifacts/browser/admin/`` (1280 px and 320 px) and checked with
axe-core (WCAG 2.1 A/AA) under the strict CSP.
"""

from __future__ import annotations

from typing import Any

import pyotp
import pytest

from tests.browser.test_admin_console import ADMIN_DNI
from tests.browser.test_admin_console import ADMIN_PASSWORD
from tests.browser.test_admin_console import ARTIFACTS
from tests.browser.test_admin_console import console  # noqa: F401 - a fixture
from tests.browser.test_ayni_journey import Screens
from tests.browser.test_ayni_journey import browser  # noqa: F401 - a fixture
from tests.helpers import CAPTCHA

pytestmark = pytest.mark.browser


def register_dynamic_client() -> str:
    """A client that registered itself asking for more than the baseline; its client_id."""
    from passport.oidc.registration import create_initial_access_token
    from passport.oidc.registration import register_client

    token = create_initial_access_token(600, 1)[0]
    body = {
        "client_name": "Escalafón",
        "redirect_uris": ["https://escalafon.minedu.gob.pe/cb"],
        "scope": "openid profile email dni",
    }
    return str(register_client(token, body)["client_id"])


@pytest.mark.parametrize("width", [1280, 320])
def test_a_national_admin_manages_applications_keys_and_the_audit_log(
    browser: Any,  # noqa: F811 - the imported fixture
    console: tuple[str, str],  # noqa: F811 - the imported fixture
    width: int,
    _migrated_app: Any,  # noqa: PT019 - its app context registers the pending client
) -> None:
    url, secret = console
    with _migrated_app.app_context():
        pending_id = register_dynamic_client()
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="es-PE")
    page = context.new_page()
    screens = Screens(page, f"{width}px_ministerio", folder=ARTIFACTS)

    page.goto(f"{url}/admin/aplicaciones")
    page.wait_for_url(f"{url}/ingresar?**")
    page.fill('input[name="username"]', ADMIN_DNI)
    page.fill('input[name="password"]', ADMIN_PASSWORD)
    page.fill('input[name="captcha"]', CAPTCHA)
    page.locator('form[method="post"] button[type="submit"]').first.click()
    page.wait_for_selector('input[name="code"]')
    page.fill('input[name="code"]', pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Verificar").click()
    page.wait_for_url(f"{url}/admin/aplicaciones")
    assert "espera la aprobación de alcances" in page.content()
    screens.capture("aplicaciones")

    page.get_by_role("link", name="Registrar aplicación").click()
    page.wait_for_url(f"{url}/admin/aplicaciones/nueva")
    page.fill("#name", "Mi boleta")
    page.fill("#redirect_uris", "https://boleta.minedu.gob.pe/callback")
    page.fill("#redirect_uris", "http://boleta.minedu.gob.pe/callback")
    page.get_by_role("button", name="Registrar").click()
    # The click posts the form: wait for the answer page, not the one being left.
    page.locator("#redirect_uris-error").wait_for(state="visible")
    assert page.locator("#redirect_uris-error").is_visible()
    screens.capture("aplicacion_error")
    page.fill("#redirect_uris", "https://boleta.minedu.gob.pe/callback")
    page.get_by_role("button", name="Registrar").click()
    page.locator("#client-secret").wait_for(state="visible")
    assert page.locator("#client-secret").is_visible()
    screens.capture("aplicacion_secreto")

    page.goto(f"{url}/admin/aplicaciones/{pending_id}")
    page.locator('input[name="scopes"][value="email"]').check()
    page.fill("#scope-reason", "Convenio 12-2026")
    screens.capture("aplicacion_por_aprobar")
    page.get_by_role("button", name="Aprobar los marcados").click()
    page.wait_for_url(f"{url}/admin/aplicaciones/{pending_id}")
    assert page.get_by_role("status").first.inner_text() == "Alcances aprobados: email."
    page.locator("#delete > summary").click()
    screens.capture("aplicacion_confirmar_eliminar")

    page.goto(f"{url}/admin/aplicaciones/tokens-de-registro")
    page.fill("#label", "Sistema de escalafón")
    page.get_by_role("button", name="Crear token").click()
    page.wait_for_load_state()
    assert page.locator("#initial-token").is_visible(), page.content()[-3000:]
    screens.capture("tokens_de_registro")

    page.goto(f"{url}/admin/claves")
    page.locator("#rotate > summary").click()
    screens.capture("claves")

    page.goto(f"{url}/admin/recursos")
    screens.capture("recursos_vacio")
    page.get_by_role("link", name="Registrar recurso").click()
    page.wait_for_url(f"{url}/admin/recursos/nuevo")
    page.fill("#identifier", "http://api.minedu.gob.pe/boletas/")
    page.locator('input[name="scopes"][value="boletas:read"]').check()
    page.get_by_role("button", name="Registrar").click()
    page.locator("#identifier-error").wait_for(state="visible")
    screens.capture("recurso_error")
    page.fill("#identifier", "https://api.minedu.gob.pe/boletas/")
    page.get_by_role("button", name="Registrar").click()
    page.wait_for_url(f"{url}/admin/recursos")
    assert "https://api.minedu.gob.pe/boletas/" in page.content()
    screens.capture("recursos")
    page.get_by_role("link", name="https://api.minedu.gob.pe/boletas/").click()
    page.locator("#disable > summary").click()
    screens.capture("recurso_editar")

    page.goto(f"{url}/admin/auditoria?event=client.scopes_approved")
    assert "Convenio 12-2026" in page.content()
    page.locator("#export > summary").click()
    screens.capture("auditoria")
    assert screens.csp_violations == []
    context.close()
