"""The CAPTCHA's own URLs: audio alternative and the script's "new code"."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.factories import DEFAULT_PASSWORD
from tests.factories import make_user
from tests.helpers import CAPTCHA
from tests.helpers import csrf_token


def test_the_audio_is_served_as_wav_and_not_cached(client: FlaskClient) -> None:
    client.get("/ingresar")
    response = client.get("/captcha/audio.wav")
    assert response.status_code == 200
    assert response.mimetype == "audio/wav"
    assert response.data[:4] == b"RIFF"
    assert response.headers["Cache-Control"] == "no-store"


def test_the_audio_supports_byte_ranges_with_the_same_sound(client: FlaskClient) -> None:
    client.get("/ingresar")
    whole = client.get("/captcha/audio.wav").data
    part = client.get("/captcha/audio.wav", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206
    assert part.data == whole[:100]


def test_the_audio_code_signs_in(client: FlaskClient) -> None:
    user = make_user()
    token = csrf_token(client)
    client.get("/captcha/audio.wav")  # replaces the image's challenge; its text is K7MPX here
    response = client.post(
        "/ingresar",
        data={
            "csrf_token": token,
            "username": user.dni,
            "password": DEFAULT_PASSWORD,
            "captcha": CAPTCHA,
        },
    )
    assert response.status_code == 302


def test_a_new_image_needs_the_csrf_token(client: FlaskClient) -> None:
    client.get("/ingresar")
    assert client.post("/captcha/nuevo").status_code == 400


def test_a_new_image_comes_as_json_for_the_script(client: FlaskClient) -> None:
    token = csrf_token(client)
    response = client.post("/captcha/nuevo", headers={"X-CSRFToken": token})
    assert response.status_code == 200
    assert response.json["image"].startswith("data:image/png;base64,")


def test_the_no_script_new_code_control_reloads_the_page(client: FlaskClient) -> None:
    page = client.get("/ingresar?authz=x").get_data(as_text=True)
    link = re.search(r'<a class="captcha-new" href="([^"]+)"', page)
    assert link
    assert link.group(1) == "/ingresar?authz=x"
    assert 'src="/static/captcha.js"' in page
    assert client.get("/static/captcha.js").status_code == 200


def test_the_new_code_control_keeps_the_authorization_after_a_failed_post(
    client: FlaskClient,
) -> None:
    token = csrf_token(client, "/ingresar?authz=x")
    page = client.post(
        "/ingresar?authz=x",
        data={"csrf_token": token, "username": "87654321", "password": "x", "captcha": "no"},
    ).get_data(as_text=True)
    link = re.search(r'<a class="captcha-new" href="([^"]+)"', page)
    assert link
    assert link.group(1) == "/ingresar?authz=x"
