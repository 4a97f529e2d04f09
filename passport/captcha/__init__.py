"""The CAPTCHA capability: image and audio challenges bound to the browser session."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Pick the provider, expose the page helper to templates, register the blueprint."""
    from passport.captcha.providers import build_provider
    from passport.captcha.services import new_captcha_challenge
    from passport.captcha.views import bp

    app.extensions["passport.captcha"] = build_provider(app.config)
    app.jinja_env.globals["captcha_challenge"] = new_captcha_challenge
    app.register_blueprint(bp)
