"""The console's initial access tokens for dynamic client registration (RFC 7591 §3):
create (the token is shown once, on the response), list with use count and state, revoke.

National admins only; the same services as ``passport clients initial-token``.
"""

from __future__ import annotations

from typing import Any

from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from passport.admin.acting import admin_action
from passport.admin.acting import national_admin
from passport.admin.blueprint import bp
from passport.admin.client_forms import InitialTokenForm
from passport.admin.client_forms import ReasonOnlyForm
from passport.database import MAX_ID
from passport.oidc import client_admin
from passport.oidc.registration import create_initial_access_token


@bp.route("/aplicaciones/tokens-de-registro", methods=["GET", "POST"])
def clients_tokens() -> ResponseReturnValue:
    """Initial access tokens for dynamic registration: list and create (shown once)."""
    national_admin()
    form = InitialTokenForm()
    token = expires_at = None
    if form.validate_on_submit():
        token, expires_at = create_client_token(form)
        form = InitialTokenForm(formdata=None)
    return render_template(
        "passport/admin/clients/tokens.html",
        form=form,
        tokens=client_admin.list_initial_tokens(),
        new_token=token,
        new_expires_at=expires_at,
    )


def create_client_token(form: InitialTokenForm) -> tuple[str, Any]:
    """Create the token the form describes (the same service as the CLI)."""
    return create_initial_access_token(
        form.expires_in_hours.data * 3600,
        form.max_uses.data,
        label=form.label.data,
        action=admin_action(form.reason.data),
    )


@bp.post(f"/aplicaciones/tokens-de-registro/<int(max={MAX_ID}):token_id>/revocar")
def clients_tokens_revoke(token_id: int) -> ResponseReturnValue:
    """Withdraw an initial access token."""
    national_admin()
    form = ReasonOnlyForm()
    if not form.validate_on_submit() or not form.reason.data:
        flash(_("Indique el motivo de esta acción; queda registrado en la auditoría."), "error")
    else:
        try:
            client_admin.revoke_initial_token(token_id, action=admin_action(form.reason.data))
        except client_admin.UnknownInitialToken:
            abort(404)
        flash(_("El token de registro quedó revocado."), "success")
    return redirect(url_for("admin.clients_tokens"))
