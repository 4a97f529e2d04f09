"""The console's client pages: list, create, edit, disable, delete, rotate the secret,
and approve the scopes of self-registered clients (initial access tokens: registration_tokens.py).

National admins only. Metadata goes through the one validator (``validate_metadata``), as
in the CLI and dynamic registration. Secrets and tokens are shown once, on the response to
the action that made them (every console response is ``no-store``), and never stored plain.
"""

from __future__ import annotations

import json
from typing import Any

from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice

from passport import json_input
from passport.admin.acting import admin_action
from passport.admin.acting import national_admin
from passport.admin.blueprint import bp
from passport.admin.client_forms import ClientForm
from passport.admin.client_forms import ReasonOnlyForm
from passport.admin.client_forms import ScopeDecisionForm
from passport.audit.services import Actor
from passport.oidc import client_admin
from passport.oidc.client_validation import ADMIN_SCOPES
from passport.oidc.client_validation import MIN_ACCESS_TOKEN_TTL
from passport.oidc.client_validation import MIN_REFRESH_TOKEN_TTL
from passport.oidc.client_validation import OIDC_SCOPES
from passport.oidc.client_validation import SHORT_RSA_KEY
from passport.oidc.clients import create_client
from passport.oidc.clients import get_client_row
from passport.oidc.clients import list_clients
from passport.oidc.clients import rotate_client_secret
from passport.oidc.clients import update_client
from passport.oidc.clients import validate_metadata
from passport.oidc.errors import ClientHasNoSecret
from passport.oidc.errors import InvalidClientMetadata
from passport.oidc.errors import UnknownClient
from passport.oidc.models import OAuthClient

# Refusals whose reason says more than the field's general message.
REASON_MESSAGES = {
    SHORT_RSA_KEY: _l(
        "Las claves RSA deben tener al menos 2048 bits: genere una clave nueva y pegue su parte "
        "pública."
    ),
}
# Spanish wording for each field the validator can refuse (validator field -> message).
FIELD_MESSAGES = {
    "name": _l("Escriba un nombre de 1 a 120 caracteres."),
    "description": _l("La descripción admite hasta 500 caracteres."),
    "logo_uri": _l("El logo debe ser una URL https (http solo en 127.0.0.1 o localhost)."),
    "redirect_uris": _l(
        "Revise las URI de redirección: una por línea, como máximo 20, https (http solo en "
        "127.0.0.1 o localhost), sin # ni credenciales. El código de autorización necesita "
        "al menos una."
    ),
    "post_logout_redirect_uris": _l(
        "Revise las URI tras cerrar sesión: una por línea, https, sin # ni credenciales."
    ),
    "backchannel_logout_uri": _l(
        "Revise la URI de cierre de sesión: https, sin # ni credenciales, y que no apunte a "
        "este servidor ni a una red interna."
    ),
    "token_endpoint_auth_method": _l(
        "Elija un método de autenticación de la lista (el perfil FAPI 2.0 exige private_key_jwt)."
    ),
    "grant_types": _l(
        "Revise los tipos de concesión: refresh_token requiere authorization_code, "
        "client_credentials requiere un cliente con secreto o clave, y los alcances de "
        "administración solo se dan con client_credentials."
    ),
    "scope": _l("Elija al menos un alcance de la lista."),
    "jwks": _l(
        "Pegue un JWK Set válido solo con claves públicas, o indique su URI (no ambos). "
        "private_key_jwt necesita uno de los dos."
    ),
    "jwks_uri": _l(
        "La URI del JWK Set debe ser https y no apuntar a este servidor ni a una red interna."
    ),
    "id_token_signed_response_alg": _l("Elija RS256 o ES256."),
    "access_token_format": _l("Elija opaque o jwt."),
}
FORM_FIELDS = {"scope": "scopes"}  # validator field -> form field, where they differ


def scope_choices(current: list[str] | None = None) -> list[SelectChoice]:
    """Every scope a client may be given here (plus any it already has)."""
    names = [*OIDC_SCOPES, *current_app.config["API_SCOPES"], *ADMIN_SCOPES, *(current or [])]
    return [SelectChoice(name) for name in dict.fromkeys(names)]


def lines(text: str | None) -> list[str]:
    """The non-blank lines of a text box."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def raw_metadata(form: ClientForm, auth_method: str) -> dict[str, Any]:
    """The form as the validator's input; ValueError for JSON that does not parse."""
    jwks = None
    if (form.jwks.data or "").strip():
        try:
            jwks = json_input.loads(form.jwks.data)
        except ValueError:
            raise InvalidClientMetadata("jwks", "is not JSON") from None
    return {
        "name": form.name.data,
        "description": form.description.data,
        "logo_uri": form.logo_uri.data or None,
        "redirect_uris": lines(form.redirect_uris.data),
        "post_logout_redirect_uris": lines(form.post_logout_redirect_uris.data),
        "backchannel_logout_uri": form.backchannel_logout_uri.data or None,
        "token_endpoint_auth_method": auth_method,
        "grant_types": list(form.grant_types.data or []),
        "scopes": list(form.scopes.data or []),
        "skip_consent": bool(form.skip_consent.data),
        "is_resource_server": bool(form.is_resource_server.data),
        "require_pushed_authorization_requests": bool(
            form.require_pushed_authorization_requests.data
        ),
        "fapi2_profile": bool(form.fapi2_profile.data),
        "dpop_bound_access_tokens": bool(form.dpop_bound_access_tokens.data),
        "jwks": jwks,
        "jwks_uri": form.jwks_uri.data or None,
        "id_token_signed_response_alg": form.id_token_signed_response_alg.data,
        "access_token_format": form.access_token_format.data,
        "access_token_ttl_seconds": form.access_token_ttl_seconds.data,
        "refresh_token_ttl_seconds": form.refresh_token_ttl_seconds.data,
    }


def attach_error(form: ClientForm, error: InvalidClientMetadata) -> None:
    """Put the validator's refusal on the form field it concerns, in Spanish."""
    field = getattr(form, FORM_FIELDS.get(error.field, error.field), None)
    if error.field.endswith("_ttl_seconds"):
        config = current_app.config
        minimum, maximum = (
            (MIN_ACCESS_TOKEN_TTL, config["ACCESS_TOKEN_TTL_SECONDS"])
            if error.field.startswith("access")
            else (MIN_REFRESH_TOKEN_TTL, config["OFFLINE_REFRESH_TOKEN_TTL_SECONDS"])
        )
        message = _(
            "Indique entre %(min)s y %(max)s segundos, o déjelo vacío para usar el valor general.",
            min=minimum,
            max=maximum,
        )
    elif error.reason in REASON_MESSAGES:
        message = str(REASON_MESSAGES[error.reason])
    else:
        message = str(FIELD_MESSAGES.get(error.field, _("Revise este dato.")))
    if field is not None:
        field.errors = [*field.errors, message]


def fill_form(form: ClientForm, row: OAuthClient) -> None:
    """The form showing a client's current metadata."""
    form.name.data = row.name
    form.description.data = row.description or ""
    form.logo_uri.data = row.logo_uri or ""
    form.redirect_uris.data = "\n".join(row.redirect_uris or [])
    form.post_logout_redirect_uris.data = "\n".join(row.post_logout_redirect_uris or [])
    form.backchannel_logout_uri.data = row.backchannel_logout_uri or ""
    form.token_endpoint_auth_method.data = row.token_endpoint_auth_method
    form.grant_types.data = list(row.grant_types or [])
    form.scopes.data = list(row.scopes or [])
    form.skip_consent.data = row.skip_consent
    form.is_resource_server.data = row.is_resource_server
    form.require_pushed_authorization_requests.data = row.require_pushed_authorization_requests
    form.fapi2_profile.data = row.fapi2_profile
    form.dpop_bound_access_tokens.data = row.dpop_bound_access_tokens
    form.access_token_ttl_seconds.data = row.access_token_ttl_seconds
    form.refresh_token_ttl_seconds.data = row.refresh_token_ttl_seconds
    form.id_token_signed_response_alg.data = row.id_token_signed_response_alg
    form.access_token_format.data = row.access_token_format
    form.jwks_uri.data = row.jwks_uri or ""
    form.jwks.data = json.dumps(row.jwks, indent=2) if row.jwks else ""


def _load(client_id: str) -> OAuthClient:
    try:
        return get_client_row(client_id[:64])
    except UnknownClient:
        abort(404)


@bp.get("/aplicaciones")
def clients() -> ResponseReturnValue:
    """Every client, with those waiting for a scope approval first."""
    national_admin()
    rows = list_clients()
    waiting = [row for row in rows if row.pending_scopes]
    return render_template("passport/admin/clients/list.html", rows=rows, waiting=waiting)


@bp.route("/aplicaciones/nueva", methods=["GET", "POST"])
def clients_create() -> ResponseReturnValue:
    """Register a client; its secret is shown on the response, once."""
    national_admin()
    form = ClientForm()
    form.scopes.choices = scope_choices()
    if form.validate_on_submit():
        try:
            metadata = validate_metadata(raw_metadata(form, form.token_endpoint_auth_method.data))
        except InvalidClientMetadata as error:
            attach_error(form, error)
        else:
            row, secret = create_client(metadata, action=admin_action(form.reason.data))
            return render_template(
                "passport/admin/clients/secret.html", row=row, secret=secret, created=True
            )
    return render_template("passport/admin/clients/form.html", form=form, row=None)


@bp.get("/aplicaciones/<client_id>")
def clients_detail(client_id: str) -> ResponseReturnValue:
    """A client's metadata, pending scopes and actions."""
    national_admin()
    row = _load(client_id)
    scope_form = ScopeDecisionForm()
    scope_form.scopes.choices = [SelectChoice(s) for s in row.pending_scopes or []]
    return render_template("passport/admin/clients/detail.html", row=row, scope_form=scope_form)


@bp.route("/aplicaciones/<client_id>/editar", methods=["GET", "POST"])
def clients_edit(client_id: str) -> ResponseReturnValue:
    """Change a client's metadata (not its authentication method: that needs a new client)."""
    national_admin()
    row = _load(client_id)
    form = ClientForm()
    form.scopes.choices = scope_choices(list(row.scopes or []))
    form.token_endpoint_auth_method.data = row.token_endpoint_auth_method
    if form.validate_on_submit():
        try:
            raw = raw_metadata(form, row.token_endpoint_auth_method)
            # No field for it here: an edit keeps the alg the CLI or registration pinned.
            raw["request_object_signing_alg"] = row.request_object_signing_alg
            metadata = validate_metadata(raw)
        except InvalidClientMetadata as error:
            attach_error(form, error)
        else:
            update_client(row, metadata, trusted=True, action=admin_action(form.reason.data))
            flash(_("Se guardaron los cambios de la aplicación."), "success")
            return back_to(row)
    elif not form.is_submitted():
        fill_form(form, row)
    return render_template("passport/admin/clients/form.html", form=form, row=row)


def confirmed(client_id: str) -> tuple[OAuthClient, Actor | None]:
    """The client, and the admin's action when the confirmation box carries a reason.

    Without a reason the action is None and an error is flashed for the client's page.
    """
    national_admin()
    row = _load(client_id)
    form = ReasonOnlyForm()
    if form.validate_on_submit() and form.reason.data:
        return row, admin_action(form.reason.data)
    flash(_("Indique el motivo de esta acción; queda registrado en la auditoría."), "error")
    return row, None


def back_to(row: OAuthClient) -> ResponseReturnValue:
    """The client's page."""
    return redirect(url_for("admin.clients_detail", client_id=row.client_id))


@bp.post("/aplicaciones/<client_id>/rotar-secreto")
def clients_rotate(client_id: str) -> ResponseReturnValue:
    """A new secret, shown once; the old one stops working at once."""
    row, action = confirmed(client_id)
    if action is None:
        return back_to(row)
    try:
        secret = rotate_client_secret(row.client_id, action=action)
    except ClientHasNoSecret:
        flash(_("Esta aplicación no usa un secreto."), "error")
        return back_to(row)
    return render_template(
        "passport/admin/clients/secret.html", row=row, secret=secret, created=False
    )


@bp.post("/aplicaciones/<client_id>/deshabilitar")
def clients_disable(client_id: str) -> ResponseReturnValue:
    """Disable a client and revoke its tokens at once."""
    row, action = confirmed(client_id)
    if action is not None:
        client_admin.set_client_disabled(row.client_id, True, action=action)
        flash(_("La aplicación quedó deshabilitada y sus tokens revocados."), "success")
    return back_to(row)


@bp.post("/aplicaciones/<client_id>/habilitar")
def clients_enable(client_id: str) -> ResponseReturnValue:
    """Enable a disabled client again."""
    row, action = confirmed(client_id)
    if action is not None:
        client_admin.set_client_disabled(row.client_id, False, action=action)
        flash(_("La aplicación quedó habilitada."), "success")
    return back_to(row)


@bp.post("/aplicaciones/<client_id>/eliminar")
def clients_delete(client_id: str) -> ResponseReturnValue:
    """Delete a client with its tokens and consents (the audit log keeps its id)."""
    row, action = confirmed(client_id)
    if action is None:
        return back_to(row)
    name = row.name
    client_admin.remove_client(row.client_id, action=action)
    flash(_("Se eliminó la aplicación «%(name)s».", name=name), "success")
    return redirect(url_for("admin.clients"))


@bp.post("/aplicaciones/<client_id>/alcances")
def clients_scopes(client_id: str) -> ResponseReturnValue:
    """Approve or reject scopes a self-registered client asked for."""
    national_admin()
    row = _load(client_id)
    form = ScopeDecisionForm()
    form.scopes.choices = [SelectChoice(s) for s in row.pending_scopes or []]
    back = back_to(row)
    if not form.validate_on_submit() or not form.reason.data:
        flash(_("Elija los alcances e indique el motivo de su decisión."), "error")
        return back
    decide = (
        client_admin.approve_client_scopes
        if form.decision.data == "approve"
        else client_admin.reject_client_scopes
    )
    try:
        decided = decide(row.client_id, form.scopes.data, action=admin_action(form.reason.data))
    except client_admin.NothingToApprove:
        flash(_("Elija al menos uno de los alcances solicitados."), "error")
        return back
    message = (
        _("Alcances aprobados: %(scopes)s.", scopes=" ".join(decided))
        if form.decision.data == "approve"
        else _("Alcances rechazados: %(scopes)s.", scopes=" ".join(decided))
    )
    flash(message, "success")
    return back
