"""AYNI's own key pair (FAPI 2.0 profile): `ayni keys`, where the key comes from, what the
settings refuse; and the DPoP helpers' edges."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from joserfc.jwk import ECKey
from joserfc.jwk import RSAKey

from minedu_sso.settings.ayni import ConfigError
from tests.relying_party_demo.conftest import make_ayni_app


def run_keys(*args: str, key_file: Path, private_jwk: str | None = None) -> tuple[int, str, str]:
    from relying_party_demo.cli import cli

    runner = CliRunner()
    env = {"AYNI_PRIVATE_KEY_FILE": str(key_file), "AYNI_PRIVATE_JWK": private_jwk}
    result = runner.invoke(cli, ["keys", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_keys_generate_writes_a_private_file_and_prints_the_public_set(tmp_path: Path) -> None:
    key_file = tmp_path / "secret" / "ayni.json"
    code, out, _ = run_keys("generate", "--json", key_file=key_file)
    assert code == 0
    printed = json.loads(out)  # one JSON object
    assert printed["file"] == str(key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    private = json.loads(key_file.read_text())
    assert private["d"]
    key = ECKey.import_key(private)
    assert printed["kid"] == key.thumbprint() == private["kid"]
    (jwk,) = printed["jwks"]["keys"]
    assert "d" not in jwk
    assert (jwk["crv"], jwk["alg"], jwk["use"], jwk["kid"]) == ("P-256", "ES256", "sig", key.kid)

    code, out, _ = run_keys("public", key_file=key_file)
    assert code == 0
    assert json.loads(out) == printed["jwks"]


def test_keys_generate_keeps_an_existing_key_unless_forced(tmp_path: Path) -> None:
    key_file = tmp_path / "ayni.json"
    run_keys("generate", key_file=key_file)
    first = key_file.read_text()
    code, out, err = run_keys("generate", key_file=key_file)
    assert code == 1
    assert out == ""
    assert err.strip().endswith("--force replaces it (then re-register the key)")
    assert len(err.strip().splitlines()) == 1
    assert key_file.read_text() == first
    code, _, _ = run_keys("generate", "--force", key_file=key_file)
    assert code == 0
    assert key_file.read_text() != first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert [path.name for path in tmp_path.iterdir()] == ["ayni.json"]


def test_keys_commands_refuse_what_they_cannot_do(tmp_path: Path) -> None:
    code, _, err = run_keys("public", key_file=tmp_path / "absent.json")
    assert code == 1
    assert "run `ayni keys generate`" in err
    from relying_party_demo.auth.client_key import generate_key

    jwk = json.dumps(generate_key().as_dict(private=True))
    code, _, err = run_keys("generate", key_file=tmp_path / "k.json", private_jwk=jwk)
    assert code == 1
    assert "AYNI_PRIVATE_JWK is set" in err
    assert not (tmp_path / "k.json").exists()
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, _, err = run_keys("public", key_file=bad)
    assert code == 1
    assert "is not a private EC P-256 JWK" in err


@pytest.mark.parametrize(
    "value",
    [
        "{not json",
        "[]",
        json.dumps(ECKey.generate_key("P-256", private=True).as_dict(private=False)),
        json.dumps(ECKey.generate_key("P-384", private=True).as_dict(private=True)),
        json.dumps(RSAKey.generate_key(2048, private=True).as_dict(private=True)),
        json.dumps({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "d": "AA"}),
    ],
    ids=["malformed", "not-an-object", "public-only", "p-384", "rsa", "broken-ec"],
)
def test_a_key_that_is_not_a_private_p256_jwk_stops_the_app(
    value: str, ayni_database_url: str
) -> None:
    with pytest.raises(ConfigError, match="AYNI_PRIVATE_JWK is not a private EC P-256 JWK"):
        make_ayni_app(
            ayni_database_url, "http://127.0.0.1:9", CLIENT_PROFILE="fapi2", PRIVATE_JWK=value
        )


def test_an_unknown_profile_stops_the_app(ayni_database_url: str) -> None:
    with pytest.raises(ConfigError, match="AYNI_CLIENT_PROFILE must be one of basic, fapi2"):
        make_ayni_app(ayni_database_url, "http://127.0.0.1:9", CLIENT_PROFILE="fapi1")


def test_production_refuses_fapi2_without_a_key_or_with_a_readable_key_file(
    tmp_path: Path, ayni_database_url: str
) -> None:
    from minedu_sso.settings.ayni import AyniProductionConfig
    from relying_party_demo import create_app
    from relying_party_demo.auth.client_key import generate_key
    from relying_party_demo.auth.client_key import write_key

    settings = {
        "SQLALCHEMY_DATABASE_URI": ayni_database_url,
        "SECRET_KEY": "a-production-secret-" + "y" * 32,
        "ISSUER": "https://passport.example.gob.pe",
        "BASE_URL": "https://ayni.example.gob.pe",
        "CLIENT_ID": "ayni",
        "CLIENT_PROFILE": "fapi2",
        "PRIVATE_KEY_FILE": str(tmp_path / "ayni.json"),
    }
    with pytest.raises(ConfigError, match="no private key"):
        create_app(AyniProductionConfig, overrides=settings)
    write_key(tmp_path / "ayni.json", generate_key(), replace=False)
    app = create_app(AyniProductionConfig, overrides=settings)  # 0600: accepted
    assert app.extensions["ayni.client_key"] is not None
    (tmp_path / "ayni.json").chmod(0o640)
    with pytest.raises(ConfigError, match="readable by others"):
        create_app(AyniProductionConfig, overrides=settings)


def test_development_warns_that_sign_in_is_off_without_a_key(
    tmp_path: Path, ayni_database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    from minedu_sso.settings.ayni import AyniConfig
    from relying_party_demo import create_app

    with caplog.at_level(logging.WARNING, logger="relying_party_demo"):
        app = create_app(
            AyniConfig,
            overrides={
                "SQLALCHEMY_DATABASE_URI": ayni_database_url,
                "CLIENT_ID": "ayni",
                "CLIENT_PROFILE": "fapi2",
                "PRIVATE_KEY_FILE": str(tmp_path / "absent.json"),
            },
        )
    assert app.extensions["ayni.client_key"] is None
    assert "run `ayni keys generate`) (sign-in is off)" in caplog.text


def test_dpop_helpers() -> None:
    from relying_party_demo.auth.dpop import NonceCache
    from relying_party_demo.auth.dpop import target_uri

    assert target_uri("https://p.example/token?x=1#frag") == "https://p.example/token"
    cache = NonceCache()
    assert cache.get("https://p.example/token") is None
    assert cache.remember("https://p.example/token?a=b", "n-1") is True
    assert cache.get("https://p.example/token") == "n-1"
    assert cache.remember("https://p.example/token", "n-1") is False  # not new: no retry
    assert cache.get("https://p.example/userinfo") == "n-1"  # the host's latest, as a guess
    assert cache.get("https://other.example/token") is None
    assert cache.remember("https://p.example/userinfo", "n-2") is True
    assert cache.get("https://p.example/token") == "n-1"  # its own first
    for hostile in (None, "", "x" * 513, "line\nbreak"):
        assert cache.remember("https://p.example/token", hostile) is False
    assert cache.get("https://p.example/token") == "n-1"
