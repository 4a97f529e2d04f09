"""AYNI_SERVIDOR in Debian's headless Chromium, against a real Passport.

welcome → Passport's sign-in (test-only CAPTCHA answer) → Inicio → Mi boleta → filter →
Cargar boleta → both exports downloaded and opened → logout. Every screen is saved as a PNG in
``test-artifacts/browser/ayni/`` (desktop 1280 px and phone 320 px) and checked with axe-core
(WCAG 2.1 A/AA); the strict CSP stays on, and any CSP violation fails the test.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.helpers import CAPTCHA
from tests.integration.test_ayni_with_passport import PEOPLE
from tests.integration.test_ayni_with_passport import Deployment
from tests.integration.test_ayni_with_passport import deployment  # noqa: F401 - a fixture
from tests.relying_party_demo.conftest import ayni_database_url  # noqa: F401 - a fixture

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser" / "ayni"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def chromium_path() -> str | None:
    """Debian's Chromium (installed by .ci/run), never a downloaded browser."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    if executable is None:
        if os.environ.get("PASSPORT_REQUIRE_BROWSER"):
            pytest.fail("Chromium is required (PASSPORT_REQUIRE_BROWSER) but not installed")
        pytest.skip("Chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


class Screens:
    """Screenshots plus axe-core and CSP checks of each screen."""

    def __init__(self, page: Any, prefix: str, folder: Path = ARTIFACTS) -> None:
        self.page = page
        self.prefix = prefix
        self.folder = folder
        self.count = 0
        self.csp_violations: list[str] = []
        page.on(
            "console",
            lambda message: (
                self.csp_violations.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )
        folder.mkdir(parents=True, exist_ok=True)

    def capture(self, name: str, *, check_accessibility: bool = True) -> None:
        self.count += 1
        path = self.folder / f"{self.prefix}_{self.count:02d}_{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        if check_accessibility and AXE.exists():
            # Evaluated through the DevTools protocol, so the page's CSP stays untouched.
            self.page.evaluate(AXE.read_text())
            violations = self.page.evaluate(
                "axe.run({runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']})"
                ".then(r => r.violations.map(v => v.id + ': ' + v.nodes[0].target.join(' ')))"
            )
            assert violations == [], f"{name}: {violations}"


def sign_in_through_passport(page: Any, site: Deployment, screens: Screens, dni: str) -> None:
    page.goto(f"{site.ayni_url}/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("¡Bienvenidos!")
    screens.capture("bienvenida")
    page.get_by_role("link", name="Iniciar sesión").click()
    page.wait_for_url(f"{site.passport_url}/**")
    # Passport's own page is Passport's to check; AYNI only needs its form to work.
    screens.capture("passport_ingresar", check_accessibility=False)
    page.fill('input[name="username"]', dni)
    page.fill('input[name="password"]', PEOPLE[dni][2])
    page.fill('input[name="captcha"]', CAPTCHA)
    page.locator('form[method="post"] button[type="submit"]').first.click()
    page.wait_for_url(f"{site.ayni_url}/**")


def download(page: Any, link_name: str) -> tuple[str, bytes]:
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).click()
    file = info.value
    return file.suggested_filename, Path(file.path()).read_bytes()


@pytest.mark.parametrize("width", [1280, 320])
def test_a_teacher_goes_from_welcome_to_her_boletas_and_back_out(
    browser: Any,
    deployment: Deployment,  # noqa: F811 - the imported fixture
    width: int,
) -> None:
    site = deployment
    context = browser.new_context(
        viewport={"width": width, "height": 900}, accept_downloads=True, locale="es-PE"
    )
    page = context.new_page()
    screens = Screens(page, f"{width}px")
    sign_in_through_passport(page, site, screens, "40000001")
    assert page.url == f"{site.ayni_url}/inicio"
    assert page.get_by_role("heading", name="OPCIONES DE LEGAJO").is_visible()
    screens.capture("inicio")

    page.get_by_role("link", name="Ingresar").first.click()
    page.wait_for_url(f"{site.ayni_url}/boletas")
    screens.capture("mi_boleta")

    page.select_option("#anio", "2025")
    page.select_option("#mes", "12")
    page.get_by_role("button", name="Buscar").click()
    page.wait_for_url(f"{site.ayni_url}/boletas?anio=2025&mes=12")
    results = page.locator("table tbody tr")
    assert results.count() == 1
    assert "S/ 4,220.77" in results.first.inner_text()
    screens.capture("mi_boleta_filtrada")

    name, content = download(page, "Exportar en Excel")
    assert name == "boletas_40000001_2025-12.xlsx"
    sheet = load_workbook(io.BytesIO(content)).active
    assert Decimal(str(sheet["I5"].value)) == Decimal("3218.99")
    name, content = download(page, "Exportar en Pdf")
    assert name == "boletas_40000001_2025-12.pdf"
    assert "S/ 3,218.99" in PdfReader(io.BytesIO(content)).pages[0].extract_text()

    page.get_by_role("link", name="Cargar boleta de DICIEMBRE 2025, Ley Nro 29944").click()
    page.wait_for_url(f"{site.ayni_url}/boletas/*")
    assert "S/ 3,218.99" in page.locator(".totals").inner_text()
    screens.capture("boleta")
    name, content = download(page, "Descargar PDF")
    assert name.startswith("boleta_40000001_2025-12_")
    assert len(PdfReader(io.BytesIO(content)).pages) == 1

    page.get_by_role("link", name="Mi legajo").click()
    screens.capture("mi_legajo")

    page.get_by_role("button", name="Cerrar sesión").click()
    page.wait_for_url(f"{site.ayni_url}/**")
    assert page.get_by_role("heading", level=1).inner_text().startswith("¡Bienvenidos!")
    screens.capture("sesion_cerrada")
    assert screens.csp_violations == []
    context.close()


def test_a_person_without_legajo_sees_the_message_and_aceptar_signs_out(
    browser: Any,
    deployment: Deployment,  # noqa: F811 - the imported fixture
) -> None:
    site = deployment
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="es-PE")
    page = context.new_page()
    screens = Screens(page, "sin_legajo")
    sign_in_through_passport(page, site, screens, "40000004")
    assert page.url == f"{site.ayni_url}/sin-legajo"
    screens.capture("mensaje")
    page.get_by_role("button", name="Aceptar").click()
    page.wait_for_url(f"{site.ayni_url}/**")
    assert page.get_by_role("heading", level=1).inner_text().startswith("¡Bienvenidos!")
    assert screens.csp_violations == []
    context.close()
