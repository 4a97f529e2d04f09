"""The demo launcher behind ``make demo``: set up both apps and run them until Ctrl-C.

Idempotent: run it again and it reuses the database, the demo users and the AYNI_SERVIDOR
client it created before (the client secret is kept in ``instance/ayni-client.json``, since
Passport shows a secret only once; with ``AYNI_CLIENT_PROFILE = "fapi2"`` AYNI's private key is
in ``instance/ayni-private-jwk.json`` and Passport holds its public half).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
INSTANCE = ROOT / "instance"
CLIENT_FILE = INSTANCE / "ayni-client.json"
# AYNI_SERVIDOR's own key pair (fapi2): written 0600 by `ayni keys generate`.
KEY_FILE = INSTANCE / "ayni-private-jwk.json"
# How AYNI_SERVIDOR signs in: "basic" (client_secret_basic) or "fapi2" (FAPI 2.0: its own key
# for private_key_jwt and DPoP, pushed authorization requests), which needs Passport's PAR
# and DPoP (issue 14).
AYNI_CLIENT_PROFILE = "fapi2"

# localhost, not 127.0.0.1: browsers refuse an IP address as a passkey's relying party, and
# localhost is a secure context. Passport still listens on 127.0.0.1 only.
PASSPORT_URL = "http://localhost:5000"
AYNI_URL = "http://127.0.0.1:5001"

# The demo people. Their legajos and boletas come from `ayni seed-demo` (same DNIs).
DEMO_USERS = [
    ("40000001", "Rosa Elena", "Quispe Huamán", "rosa.quispe@example.edu.pe", "Quipu-Sol-48"),
    ("40000002", "Juan Carlos", "Mamani Condori", "juan.mamani@example.edu.pe", "Titicaca-Azul9"),
    ("40000003", "María Isabel", "Flores Ramos", "maria.flores@example.edu.pe", "Mistura_Lima7"),
    ("40000004", "Pedro Luis", "Huamani Soto", "pedro.huamani@example.edu.pe", "Cactus-Verde5"),
]
# A national administrator of the console (/admin). Granting admin rights mails a one-time
# link to enrol the second factor (TOTP); in the demo it lands in instance/outbox/.
DEMO_ADMIN = (
    "40000009",
    "Carmen Rosa",
    "Salazar Ríos",
    "carmen.salazar@example.gob.pe",
    "Chaski-Kuna7",
)


def run(command: list[str], env: dict[str, str], check: bool = True) -> str:
    """Run one CLI command of ours and return its standard output."""
    result = subprocess.run(  # noqa: S603 - our own console scripts, fixed arguments
        command, env=env, capture_output=True, text=True, check=False
    )
    if check and result.returncode != 0:
        sys.exit(f"demo: {' '.join(command[:3])} failed: {result.stderr.strip()}")
    return result.stdout


def ensure_users(env: dict[str, str]) -> None:
    """Create the demo users (active, with the README's passwords) unless they exist."""
    for dni, given, family, email, password in [*DEMO_USERS, DEMO_ADMIN]:
        extra = ["--admin"] if dni == DEMO_ADMIN[0] else []
        result = subprocess.run(  # noqa: S603
            [str(BIN / "passport"), "users", "create", "--dni", dni, "--email", email,
             "--given-name", given, "--family-name", family, "--password", password,
             "--email-verified", "--no-email", "--json", *extra],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if result.returncode == 0:
            print(f"  usuario {dni} creado")
        elif "exist" in result.stderr.lower() or "registrad" in result.stderr.lower():
            print(f"  usuario {dni} ya existía")
        else:
            sys.exit(f"demo: could not create user {dni}: {result.stderr.strip()}")


def ensure_ayni_client(env: dict[str, str]) -> dict[str, str | None]:
    """Register AYNI_SERVIDOR with Passport once; reuse the saved credentials afterwards
    (unless the profile changed or, for fapi2, the key pair is new)."""
    new_key = AYNI_CLIENT_PROFILE == "fapi2" and not KEY_FILE.exists()
    if new_key:
        run([str(BIN / "ayni"), "keys", "generate"], env)
    if CLIENT_FILE.exists() and not new_key:
        saved = json.loads(CLIENT_FILE.read_text())
        shown = subprocess.run(  # noqa: S603
            [str(BIN / "passport"), "clients", "show", saved["client_id"], "--json"],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if shown.returncode == 0 and saved.get("profile", "basic") == AYNI_CLIENT_PROFILE:
            return dict(saved)
    if AYNI_CLIENT_PROFILE == "fapi2":
        # The public key by value: Passport needs no jwks_uri to fetch from a loopback port.
        jwks = run([str(BIN / "ayni"), "keys", "public"], env).strip()
        authentication = ["--auth-method", "private_key_jwt", "--jwks-json", jwks, "--fapi2",
                          "--require-pushed-authorization-requests",
                          "--dpop-bound-access-tokens"]  # fmt: skip
    else:
        authentication = ["--auth-method", "client_secret_basic"]
    output = run(
        [str(BIN / "passport"), "clients", "create", "--name", "AYNI_SERVIDOR",
         "--redirect-uri", f"{AYNI_URL}/auth/callback",
         "--post-logout-redirect-uri", f"{AYNI_URL}/",
         "--backchannel-logout-uri", f"{AYNI_URL}/auth/backchannel-logout",
         *authentication,
         "--scope", "openid profile email dni offline_access",
         "--grant-type", "authorization_code", "--grant-type", "refresh_token",
         "--skip-consent", "--json"],
        env,
    )  # fmt: skip
    created = json.loads(output)
    saved = {
        "client_id": created["client_id"],
        "client_secret": created["client_secret"],  # null for private_key_jwt
        "profile": AYNI_CLIENT_PROFILE,
    }
    CLIENT_FILE.write_text(json.dumps(saved))
    CLIENT_FILE.chmod(0o600)
    return saved


def main() -> None:
    """Set up, then serve Passport on :5000 and AYNI_SERVIDOR on :5001 until interrupted."""
    INSTANCE.mkdir(exist_ok=True)
    env = dict(os.environ)
    env.setdefault("PASSPORT_ISSUER", PASSPORT_URL)
    env.setdefault("AYNI_PRIVATE_KEY_FILE", str(KEY_FILE))
    print("Passport: base de datos")
    run([str(BIN / "passport"), "db", "upgrade"], env)
    print("Passport: usuarios de demostración")
    ensure_users(env)
    print("Passport: cliente AYNI_SERVIDOR")
    client = ensure_ayni_client(env)
    env.update(
        {
            "AYNI_ISSUER": env["PASSPORT_ISSUER"],
            "AYNI_CLIENT_PROFILE": AYNI_CLIENT_PROFILE,
            "AYNI_CLIENT_ID": str(client["client_id"]),
            "AYNI_CLIENT_SECRET": client["client_secret"] or "",
            "AYNI_BASE_URL": env.get("AYNI_BASE_URL", AYNI_URL),
        }
    )
    print("AYNI_SERVIDOR: base de datos, legajos y boletas")
    run([str(BIN / "ayni"), "db", "upgrade"], env)
    run([str(BIN / "ayni"), "seed-demo"], env)

    servers = [
        subprocess.Popen(  # noqa: S603
            [str(BIN / "passport"), "serve", "--host", "127.0.0.1", "--port", "5000"], env=env
        ),
        subprocess.Popen(  # noqa: S603
            [str(BIN / "ayni"), "serve", "--host", "127.0.0.1", "--port", "5001"], env=env
        ),
    ]
    print(f"\nPassport:      {PASSPORT_URL}/\nAYNI_SERVIDOR: {AYNI_URL}/")
    print("Usuarios (DNI / contraseña):")
    for dni, given, family, _email, password in DEMO_USERS:
        print(f"  {dni} / {password}  ({given} {family})")
    dni, given, family, _email, password = DEMO_ADMIN
    print(f"Administración ({PASSPORT_URL}/admin): {dni} / {password}  ({given} {family})")
    print("  El enlace para activar su segundo factor está en instance/outbox/.")
    print("Correo de prueba en instance/outbox/. Ctrl-C para detener.\n")
    try:
        while all(server.poll() is None for server in servers):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for server in servers:
            if server.poll() is None:
                server.send_signal(signal.SIGTERM)
        for server in servers:
            server.wait(timeout=15)
    failed = [server.returncode for server in servers if server.returncode not in (0, -15)]
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
