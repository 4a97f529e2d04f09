"""The console's home page: where to go next, and a few counts."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from passport.accounts.administration import count_users
from passport.admin.blueprint import bp
from passport.admin.guard import current_admin


@bp.get("/")
def dashboard() -> ResponseReturnValue:
    """``/admin/``: the sections of the console."""
    admin = current_admin()
    return render_template(
        "passport/admin/dashboard.html", admin=admin, counts=count_users(actor=admin)
    )
