"""HTTP views of the accounts capability."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("accounts", __name__)
