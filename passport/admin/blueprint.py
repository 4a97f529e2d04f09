"""The admin console's Blueprint: every view module of ``passport.admin`` decorates this one.

Kept in its own module so view modules (users, clients, keys, audit...) can import it without
importing each other; ``passport.admin.init_app`` imports them all and registers it once.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
