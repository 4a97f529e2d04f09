"""HTTP views of the CAPTCHA: the audio alternative and a fresh image for the script."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import abort
from flask import jsonify
from flask import request
from flask.typing import ResponseReturnValue

from passport.captcha.services import captcha_provider
from passport.security.ratelimits import captcha_audio_rate_limit
from passport.security.ratelimits import captcha_refresh_rate_limit

bp = Blueprint("captcha", __name__)


@bp.get("/captcha/audio.wav")
@captcha_audio_rate_limit
def audio() -> ResponseReturnValue:
    """The spoken challenge (it replaces the image's challenge for this browser)."""
    wav = captcha_provider().audio()
    if wav is None:
        abort(404)
    response = Response(wav, mimetype="audio/wav")
    response.headers["Cache-Control"] = "no-store"
    # Media players ask for byte ranges; the stored WAV is the same bytes every time.
    return response.make_conditional(request, accept_ranges=True, complete_length=len(wav))


@bp.post("/captcha/nuevo")
@captcha_refresh_rate_limit
def refresh() -> ResponseReturnValue:
    """A new image for the page's script (the no-script control simply reloads the page)."""
    challenge = captcha_provider().new_challenge()
    if challenge is None:
        abort(404)
    response = jsonify(image=challenge.image_data_uri)
    response.headers["Cache-Control"] = "no-store"
    return response
