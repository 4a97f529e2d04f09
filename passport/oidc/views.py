"""HTTP views of the oidc capability."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("oidc", __name__)
