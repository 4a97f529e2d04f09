"""The real OpenID Connect dance between a real Passport and AYNI_SERVIDOR, no mocked tokens.

Both apps are served on loopback ports by threaded werkzeug servers, each on its own test
database built from its own migrations. A ``requests`` session plays the browser: it follows
the redirects, keeps the cookies of both hosts (``passport_*`` and ``ayni_*``), fills in
Passport's sign-in form (with the test-only CAPTCHA answer) and downloads the exports.
Passport delivers back-channel logout tokens to AYNI over HTTP, as in production.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests
from flask import Flask
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer

from tests.conftest import make_test_app
from tests.conftest import wipe_database
from tests.helpers import CAPTCHA
from tests.helpers import csrf_in
from tests.relying_party_demo.conftest import PASSPORT_AYNI_PROFILE
from tests.relying_party_demo.conftest import ayni_database_url  # noqa: F401 - a fixture
from tests.relying_party_demo.conftest import fapi2_registration
from tests.relying_party_demo.conftest import make_ayni_app
from tests.relying_party_demo.conftest import wipe_ayni_database
from tests.served import start_wsgi

PEOPLE = {
    "40000001": ("Rosa Elena", "Quispe Huamán", "Quipu-Sol-48"),
    "40000002": ("Juan Carlos", "Mamani Condori", "Titicaca-Azul9"),
    "40000004": ("Pedro Luis", "Huamani Soto", "Cactus-Verde5"),
}
NO_LEGAJO = "USTED NO TIENE LEGAJO CREADO O VIGENTE, SOLICITAR LA ACTUALIZACIÓN A SU DRE/UGEL"


class LateApp:
    """A WSGI callable whose app is set once the port (part of the issuer URL) is known."""

    def __init__(self) -> None:
        self.app: Flask | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        assert self.app is not None
        return self.app(environ, start_response)


def serve(host: str = "127.0.0.1") -> tuple[BaseWSGIServer, LateApp, str]:
    """A threaded server on 127.0.0.1 with a free port, named ``host`` in its URL
    ("localhost" for passkeys: browsers refuse an IP address as the WebAuthn RP id)."""
    late = LateApp()
    server = start_wsgi(late)
    return server, late, f"http://{host}:{server.server_port}"


@dataclass
class Deployment:
    """Passport and AYNI_SERVIDOR running side by side."""

    passport: Flask
    ayni: Flask
    passport_url: str
    ayni_url: str
    profile: str = PASSPORT_AYNI_PROFILE


@pytest.fixture
def deployment(
    _migrated_app: Flask,
    database_url: str,
    outbox_dir: Path,
    ayni_database_url: str,  # noqa: F811 - the imported fixture
) -> Iterator[Deployment]:
    """Start both apps, register AYNI_SERVIDOR, create the demo people and their boletas."""
    yield from deploy(database_url, outbox_dir, ayni_database_url)


@pytest.fixture
def basic_deployment(
    _migrated_app: Flask,
    database_url: str,
    outbox_dir: Path,
    ayni_database_url: str,  # noqa: F811 - the imported fixture
) -> Iterator[Deployment]:
    """As ``deployment``, with AYNI registered the plain way (client_secret_basic)."""
    yield from deploy(database_url, outbox_dir, ayni_database_url, profile="basic")


def deploy(
    database_url: str,
    outbox_dir: Path,
    ayni_database: str,
    host: str = "127.0.0.1",
    profile: str = PASSPORT_AYNI_PROFILE,
) -> Iterator[Deployment]:
    """The ``deployment`` fixture's work, with both sites named ``host`` in their URLs and
    AYNI registered with ``profile`` ("basic" or "fapi2")."""
    from flask_migrate import upgrade

    from passport.accounts.services import NewUser
    from passport.accounts.services import create_user
    from passport.caches import clear_all
    from passport.oidc.clients import create_client
    from passport.oidc.clients import validate_metadata
    from relying_party_demo.demo_data import seed_demo

    passport_server, passport_late, passport_url = serve(host)
    ayni_server, ayni_late, ayni_url = serve(host)
    passport = make_test_app(
        database_url, outbox_dir, ISSUER=passport_url, CAPTCHA_TEST_ANSWER=CAPTCHA
    )
    with passport.app_context():
        for dni, (given, family, password) in PEOPLE.items():
            create_user(
                NewUser(
                    dni,
                    f"{dni}@example.edu.pe",
                    given,
                    family,
                    password=password,
                    email_verified=True,
                ),
                send_email=False,
            )
        registration: dict[str, Any] = {
            "name": "AYNI_SERVIDOR",
            "redirect_uris": [f"{ayni_url}/auth/callback"],
            "post_logout_redirect_uris": [f"{ayni_url}/"],
            "backchannel_logout_uri": f"{ayni_url}/auth/backchannel-logout",
            "token_endpoint_auth_method": "client_secret_basic",
            "scopes": ["openid", "profile", "email", "dni", "offline_access"],
            "grant_types": ["authorization_code", "refresh_token"],
            "skip_consent": True,
        }
        profile_settings: dict[str, Any] = {}
        if profile == "fapi2":
            fapi2_metadata, profile_settings = fapi2_registration()
            registration.update(fapi2_metadata)
        client, secret = create_client(validate_metadata(registration))
        client_id = client.client_id
    ayni = make_ayni_app(
        ayni_database,
        passport_url,
        BASE_URL=ayni_url,
        CLIENT_ID=client_id,
        CLIENT_SECRET=secret,
        **profile_settings,
    )
    with ayni.app_context():
        upgrade()
        seed_demo()
    passport_late.app = passport
    ayni_late.app = ayni
    try:
        yield Deployment(passport, ayni, passport_url, ayni_url, profile)
    finally:
        ayni_server.shutdown()
        passport_server.shutdown()
        from passport.extensions import db as passport_db
        from relying_party_demo.extensions import db as ayni_db

        with ayni.app_context():
            ayni_db.session.remove()
            wipe_ayni_database(ayni_db.engine)
            ayni_db.engine.dispose()
        with passport.app_context():
            passport_db.session.remove()
            wipe_database(passport_db.engine)
        clear_all(passport)
        # Give the shared limiter back to an in-process storage for the tests that follow.
        make_test_app(database_url, outbox_dir)


FORM = re.compile(r'<form[^>]*method="post"[^>]*action="([^"]*)"', re.I)


def csrf_of(page: str) -> str:
    token = csrf_in(page)
    assert token, "no csrf_token in the page"
    return token


def sign_in(browser: requests.Session, site: Deployment, dni: str) -> requests.Response:
    """Welcome → Iniciar sesión → Passport's form → back in AYNI."""
    welcome = browser.get(f"{site.ayni_url}/")
    assert "¡Bienvenidos! A la Plataforma de Servicios para el Servidor Público" in welcome.text
    login_page = browser.get(f"{site.ayni_url}/auth/login")
    assert login_page.url.startswith(site.passport_url), login_page.url
    pushed = login_page.history[0].headers["Location"]
    if site.profile == "fapi2":  # pushed: the browser carries only the request_uri
        assert "request_uri=" in pushed
        assert "redirect_uri=" not in pushed
    else:
        assert "request_uri=" not in pushed
        assert "redirect_uri=" in pushed
    assert 'name="username"' in login_page.text
    action = FORM.search(login_page.text)
    assert action is not None
    response = browser.post(
        urljoin(login_page.url, action.group(1).replace("&amp;", "&")),
        data={
            "csrf_token": csrf_of(login_page.text),
            "username": dni,
            "password": PEOPLE[dni][2],
            "captcha": CAPTCHA,
        },
    )
    assert response.url.startswith(site.ayni_url), response.url
    return response


def ayni_session_row(site: Deployment, browser: requests.Session) -> Any:
    from relying_party_demo.auth.services import find_session
    from relying_party_demo.extensions import db

    with site.ayni.app_context():
        record = find_session(browser.cookies.get("ayni_session", domain="127.0.0.1") or "")
        if record is not None:
            db.session.expunge(record)
        return record


def boleta_ids(site: Deployment, dni: str, anio: int, mes: int) -> list[int]:
    from relying_party_demo.boletas.models import Boleta
    from relying_party_demo.extensions import db

    with site.ayni.app_context():
        return list(db.session.scalars(select(Boleta.id).filter_by(dni=dni, anio=anio, mes=mes)))


def test_a_teacher_signs_in_reads_her_boletas_exports_them_and_logs_out(
    deployment: Deployment,
) -> None:
    site = deployment
    browser = requests.Session()
    inicio = sign_in(browser, site, "40000001")
    assert inicio.url == f"{site.ayni_url}/inicio"
    assert "OPCIONES DE LEGAJO" in inicio.text
    assert "DNI 40000001" in inicio.text
    record = ayni_session_row(site, browser)
    assert record.dni == "40000001"
    assert record.sid  # Passport's session id, for back-channel logout
    with site.ayni.app_context():  # the tokens are sealed with the app's secret
        id_token = record.id_token
        assert id_token is not None
        assert id_token.count(".") == 2
        assert record.refresh_token
    assert id_token.split(".")[1] not in (record.sealed_id_token or "")
    assert "ayni_session" in browser.cookies
    assert "passport_sso" in browser.cookies

    # Mi boleta, filtered through the URL.
    listing = browser.get(f"{site.ayni_url}/boletas", params={"anio": "2025", "mes": "12"})
    assert listing.status_code == 200
    assert "DICIEMBRE 2025" in listing.text
    assert "S/ 4,220.77" in listing.text
    assert "S/ 3,218.99" in listing.text
    bad = browser.get(f"{site.ayni_url}/boletas", params={"anio": "abc"})
    assert bad.status_code == 400
    assert "Seleccione un año válido" in bad.text

    # Cargar boleta, and someone else's boleta is 404.
    (mine,) = boleta_ids(site, "40000001", 2025, 12)
    detail = browser.get(f"{site.ayni_url}/boletas/{mine}")
    assert "QUISPE HUAMAN, ROSA ELENA" in detail.text
    assert "S/ 1,001.78" in detail.text
    (juans,) = boleta_ids(site, "40000002", 2025, 12)
    assert browser.get(f"{site.ayni_url}/boletas/{juans}").status_code == 404
    assert browser.get(f"{site.ayni_url}/boletas/{juans}.pdf").status_code == 404

    # Both exports and the boleta's PDF, opened with the libraries a person's tools use.
    xlsx = browser.get(f"{site.ayni_url}/boletas/export.xlsx", params={"anio": "2025", "mes": "12"})
    assert "boletas_40000001_2025-12.xlsx" in xlsx.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [Decimal(str(cell.value)) for cell in sheet[5][6:9]] == [
        Decimal("4220.77"),
        Decimal("1001.78"),
        Decimal("3218.99"),
    ]
    pdf = browser.get(f"{site.ayni_url}/boletas/export.pdf", params={"anio": "2025", "mes": "12"})
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "S/ 4,220.77" in text
    assert "S/ 3,218.99" in text
    slip = PdfReader(io.BytesIO(browser.get(f"{site.ayni_url}/boletas/{mine}.pdf").content))
    assert len(slip.pages) == 1
    assert "S/ 3,218.99" in slip.pages[0].extract_text()

    # An expired access token is refreshed at Passport (a real refresh_token grant).
    from relying_party_demo.auth.models import LocalSession
    from relying_party_demo.database import utcnow
    from relying_party_demo.extensions import db

    with site.ayni.app_context():
        row = db.session.get(LocalSession, record.id)
        row.access_token_expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    assert browser.get(f"{site.ayni_url}/inicio").status_code == 200
    refreshed = ayni_session_row(site, browser)
    assert refreshed.access_token_expires_at > utcnow()

    # RP-initiated logout: id_token_hint + registered post_logout_redirect_uri → welcome.
    inicio = browser.get(f"{site.ayni_url}/inicio")
    out = browser.post(f"{site.ayni_url}/auth/logout", data={"csrf_token": csrf_of(inicio.text)})
    assert out.url.startswith(f"{site.ayni_url}/"), out.url
    assert "¡Bienvenidos!" in out.text
    assert browser.get(f"{site.ayni_url}/inicio", allow_redirects=False).headers["Location"] == "/"
    # The SSO session at Passport ended too: signing in again asks for the password.
    again = browser.get(f"{site.ayni_url}/auth/login")
    assert again.url.startswith(site.passport_url)
    assert 'name="password"' in again.text


def test_the_basic_profile_still_signs_in_with_a_client_secret(
    basic_deployment: Deployment,
) -> None:
    """AYNI_CLIENT_PROFILE=basic: client_secret_basic, a front-channel authorization request,
    Bearer tokens; the boletas are read and the access token refreshed as in fapi2."""
    from relying_party_demo.auth.models import LocalSession
    from relying_party_demo.database import utcnow
    from relying_party_demo.extensions import db

    site = basic_deployment
    browser = requests.Session()
    inicio = sign_in(browser, site, "40000001")
    assert inicio.url == f"{site.ayni_url}/inicio"
    listing = browser.get(f"{site.ayni_url}/boletas", params={"anio": "2025", "mes": "12"})
    assert "S/ 4,220.77" in listing.text
    record = ayni_session_row(site, browser)
    with site.ayni.app_context():
        assert record.refresh_token
        row = db.session.get(LocalSession, record.id)
        row.access_token_expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    assert browser.get(f"{site.ayni_url}/inicio").status_code == 200
    assert ayni_session_row(site, browser).access_token_expires_at > utcnow()


def test_a_person_without_legajo_sees_only_the_message(deployment: Deployment) -> None:
    browser = requests.Session()
    landing = sign_in(browser, deployment, "40000004")
    assert landing.url == f"{deployment.ayni_url}/sin-legajo"
    assert NO_LEGAJO in landing.text
    assert "Mi boleta" not in landing.text
    assert browser.get(f"{deployment.ayni_url}/boletas").url.endswith("/sin-legajo")
    # Aceptar signs out (RP-initiated logout) and lands on the welcome page.
    out = browser.post(
        f"{deployment.ayni_url}/auth/logout", data={"csrf_token": csrf_of(landing.text)}
    )
    assert "¡Bienvenidos!" in out.text


def test_logging_out_at_passport_ends_the_ayni_session_through_the_back_channel(
    deployment: Deployment,
) -> None:
    site = deployment
    rosa = requests.Session()
    juan = requests.Session()
    sign_in(rosa, site, "40000001")
    sign_in(juan, site, "40000002")
    assert ayni_session_row(site, rosa) is not None
    # Rosa logs out in Passport itself (another ministry app, or Passport's own page).
    confirm = rosa.get(f"{site.passport_url}/end-session")
    assert 'name="logout" value="yes"' in confirm.text
    rosa.post(
        f"{site.passport_url}/end-session",
        data={"csrf_token": csrf_of(confirm.text), "logout": "yes"},
    )
    # Passport POSTed a logout token to AYNI, which ended her local session.
    assert ayni_session_row(site, rosa) is None
    assert rosa.get(f"{site.ayni_url}/boletas", allow_redirects=False).headers["Location"] == "/"
    # Juan's session is untouched.
    assert juan.get(f"{site.ayni_url}/boletas").status_code == 200
    assert ayni_session_row(site, juan) is not None
