"""RFC 9449 §4.3: ``htu`` is compared after syntax- and scheme-based normalisation."""

from __future__ import annotations

import pytest

from passport.oidc.dpop import normalized_uri


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("https://sso.minedu.gob.pe/token", "https://sso.minedu.gob.pe/token"),
        ("HTTPS://SSO.Minedu.gob.pe/token", "https://sso.minedu.gob.pe/token"),
        ("https://sso.minedu.gob.pe:443/token", "https://sso.minedu.gob.pe/token"),
        ("http://127.0.0.1:80/token", "http://127.0.0.1/token"),
        ("http://127.0.0.1:5000/token?x=1#frag", "http://127.0.0.1:5000/token"),
        ("https://sso.minedu.gob.pe", "https://sso.minedu.gob.pe/"),
        ("http://[::1]:5000/userinfo", "http://[::1]:5000/userinfo"),
        ("https://sso.minedu.gob.pe/passport/token", "https://sso.minedu.gob.pe/passport/token"),
    ],
)
def test_equivalent_spellings_normalise_alike(uri: str, expected: str) -> None:
    assert normalized_uri(uri) == expected


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("https://sso.minedu.gob.pe/token", "http://sso.minedu.gob.pe/token"),
        ("https://sso.minedu.gob.pe/token", "https://sso.minedu.gob.pe:8443/token"),
        ("https://sso.minedu.gob.pe/token", "https://sso.minedu.gob.pe/Token"),
        ("https://sso.minedu.gob.pe/token", "https://evil.example/token"),
        ("https://sso.minedu.gob.pe/token", "https://sso.minedu.gob.pe/token/"),
    ],
)
def test_different_targets_stay_different(one: str, other: str) -> None:
    assert normalized_uri(one) != normalized_uri(other)


@pytest.mark.parametrize(
    "uri",
    [
        "",
        "/token",
        "ftp://sso.minedu.gob.pe/token",
        "https:///token",
        "http://[::1/x",
        "http://127.0.0.1:99999/token",
        "javascript:alert(1)",
    ],
)
def test_what_is_not_an_http_url_is_none(uri: str) -> None:
    assert normalized_uri(uri) is None
