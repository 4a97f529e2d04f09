"""Exports: Excel and PDF of the filtered boletas, PDF of one boleta."""

from __future__ import annotations

from flask import Flask

from relying_party_demo.exports.views import bp


def init_app(app: Flask) -> None:
    """Register the blueprint."""
    app.register_blueprint(bp)
