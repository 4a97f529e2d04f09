"""Legajo: the escalafón file of a servidor, shown read-only."""

from __future__ import annotations

from flask import Flask

from relying_party_demo.legajo.views import bp


def init_app(app: Flask) -> None:
    """Register the blueprint."""
    app.register_blueprint(bp)
