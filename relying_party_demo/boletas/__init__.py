"""Mi boleta: the person's pay slips."""

from __future__ import annotations

from flask import Flask

from relying_party_demo.boletas.money import format_soles
from relying_party_demo.boletas.periods import period_label
from relying_party_demo.boletas.views import bp


def init_app(app: Flask) -> None:
    """Register the blueprint and the template filters."""
    app.register_blueprint(bp)
    app.add_template_filter(format_soles, "soles")
    app.add_template_global(period_label, "period_label")
