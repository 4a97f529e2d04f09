"""The console's signing-key page: list with state and dates, rotate, prune.

The same functions as ``passport keys ...`` (passport/oidc/keys.py); the console adds who
acted and why to the audit log. National admins only.
"""

from __future__ import annotations

from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from passport.admin.acting import admin_action
from passport.admin.acting import national_admin
from passport.admin.blueprint import bp
from passport.admin.client_forms import KeyRotationForm
from passport.admin.client_forms import ReasonOnlyForm
from passport.oidc.keys import describe_keys
from passport.oidc.keys import prune_keys
from passport.oidc.keys import rotate_keys


@bp.get("/claves")
def keys() -> ResponseReturnValue:
    """Every signing key: kid, algorithm, state (next, active, retired) and dates."""
    national_admin()
    return render_template(
        "passport/admin/keys.html", keys=describe_keys(), rotate_form=KeyRotationForm()
    )


@bp.post("/claves/rotar")
def keys_rotate() -> ResponseReturnValue:
    """Publish new keys now; they sign after KEY_ROTATION_DELAY_SECONDS."""
    national_admin()
    form = KeyRotationForm()
    if not form.validate_on_submit() or not form.reason.data:
        flash(_("Indique el motivo de esta acción; queda registrado en la auditoría."), "error")
        return redirect(url_for("admin.keys"))
    created = rotate_keys(form.alg.data or None, action=admin_action(form.reason.data))
    flash(
        _(
            "Se publicaron %(n)s clave(s) nueva(s); firmarán cuando termine el plazo de aviso.",
            n=len(created),
        ),
        "success",
    )
    return redirect(url_for("admin.keys"))


@bp.post("/claves/depurar")
def keys_prune() -> ResponseReturnValue:
    """Delete retired keys no token signed by them can still need."""
    national_admin()
    form = ReasonOnlyForm()
    if not form.validate_on_submit() or not form.reason.data:
        flash(_("Indique el motivo de esta acción; queda registrado en la auditoría."), "error")
        return redirect(url_for("admin.keys"))
    removed = prune_keys(action=admin_action(form.reason.data))
    flash(_("Claves retiradas eliminadas: %(n)s.", n=removed), "success")
    return redirect(url_for("admin.keys"))
