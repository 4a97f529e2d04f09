"""Forms of the console's client, key and audit pages (shape only: the one validator in
passport/oidc/client_validation.py decides what a client may be)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField
from wtforms import IntegerField
from wtforms import SelectField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms import widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import NumberRange

from passport.oidc.client_validation import ACCESS_TOKEN_FORMATS
from passport.oidc.client_validation import AUTH_METHODS
from passport.oidc.client_validation import GRANT_TYPES
from passport.oidc.client_validation import ID_TOKEN_ALGS
from passport.security.forms import LimitedForm

AUTH_METHOD_LABELS = {
    "client_secret_basic": _l("Secreto en la cabecera (client_secret_basic)"),
    "client_secret_post": _l("Secreto en el cuerpo (client_secret_post)"),
    "private_key_jwt": _l("Clave privada del cliente (private_key_jwt)"),
    "none": _l("Cliente público, sin secreto (none, con PKCE)"),
}
GRANT_TYPE_LABELS = {
    "authorization_code": _l("Código de autorización (authorization_code)"),
    "refresh_token": _l("Token de actualización (refresh_token)"),
    "client_credentials": _l("Credenciales del cliente, sin persona (client_credentials)"),
}
REASON_MAX = 500


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _one_char_line_breaks(value: Any) -> Any:
    """A text area sends CR LF; its maxlength (and so our Length) counts a line break once."""
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


def access_token_format_field() -> SelectField:
    """The access token format choice of a client and of a resource (same labels, default)."""
    return SelectField(
        _l("Formato del token de acceso"),
        choices=[SelectChoice(f) for f in ACCESS_TOKEN_FORMATS],
        default="opaque",
    )


class CheckboxesField(SelectMultipleField):  # type: ignore[misc]
    """A list of checkboxes (no JavaScript, usable on a phone)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ClientForm(LimitedForm):
    """Every field an administrator sets on a client."""

    name = StringField(
        _l("Nombre"),
        filters=[_strip],
        validators=[InputRequired(message=_l("Escriba el nombre.")), Length(max=120)],
    )
    description = TextAreaField(
        _l("Descripción (opcional)"),
        filters=[_one_char_line_breaks, _strip],
        validators=[Length(max=500)],
    )
    logo_uri = StringField(
        _l("URL del logo (opcional)"), filters=[_strip], validators=[Length(max=2000)]
    )
    redirect_uris = TextAreaField(
        _l("URI de redirección (una por línea)"),
        filters=[_one_char_line_breaks],
        validators=[Length(max=41000)],
    )
    post_logout_redirect_uris = TextAreaField(
        _l("URI tras cerrar sesión (una por línea, opcional)"),
        filters=[_one_char_line_breaks],
        validators=[Length(max=41000)],
    )
    backchannel_logout_uri = StringField(
        _l("URI de cierre de sesión por canal trasero (opcional)"),
        filters=[_strip],
        validators=[Length(max=2000)],
    )
    token_endpoint_auth_method = SelectField(
        _l("Autenticación del cliente"),
        choices=[SelectChoice(m, AUTH_METHOD_LABELS[m]) for m in AUTH_METHODS],
        default="client_secret_basic",
    )
    grant_types = CheckboxesField(
        _l("Tipos de concesión"),
        choices=[SelectChoice(g, GRANT_TYPE_LABELS[g]) for g in GRANT_TYPES],
        default=["authorization_code", "refresh_token"],
        validators=[DataRequired(message=_l("Elija al menos un tipo de concesión."))],
    )
    scopes = CheckboxesField(
        _l("Alcances permitidos"),
        default=["openid", "profile"],
        validators=[DataRequired(message=_l("Elija al menos un alcance de la lista."))],
    )
    skip_consent = BooleanField(_l("Aplicación del Ministerio: no pedir consentimiento"))
    is_resource_server = BooleanField(
        _l("Servidor de recursos: puede consultar tokens de otras aplicaciones")
    )
    dpop_bound_access_tokens = BooleanField(
        _l("Exigir DPoP: los tokens quedan ligados a la llave de la aplicación")
    )
    require_pushed_authorization_requests = BooleanField(
        _l("Exigir solicitudes de autorización enviadas por canal trasero (PAR)")
    )
    fapi2_profile = BooleanField(
        _l("Perfil FAPI 2.0: datos sensibles (exige private_key_jwt, PAR y PKCE S256)")
    )
    # Text, not IntegerField: the validator parses them and words the refusal.
    access_token_ttl_seconds = StringField(
        _l("Vida del token de acceso, en segundos (opcional)"),
        filters=[_strip],
        validators=[Length(max=12)],
    )
    refresh_token_ttl_seconds = StringField(
        _l("Vida del token de actualización, en segundos (opcional)"),
        filters=[_strip],
        validators=[Length(max=12)],
    )
    id_token_signed_response_alg = SelectField(
        _l("Algoritmo del token de identidad"),
        choices=[SelectChoice(a) for a in ID_TOKEN_ALGS],
        default="RS256",
    )
    access_token_format = access_token_format_field()
    jwks_uri = StringField(
        _l("URI del JWK Set del cliente (private_key_jwt, opcional)"),
        filters=[_strip],
        validators=[Length(max=2000)],
    )
    jwks = TextAreaField(
        _l("JWK Set público del cliente, en JSON (private_key_jwt, opcional)"),
        filters=[_one_char_line_breaks],
        validators=[Length(max=64000)],
    )
    reason = StringField(_l("Motivo"), filters=[_strip], validators=[Length(max=REASON_MAX)])


class ReasonOnlyForm(LimitedForm):
    """A confirmed action: just the reason (required by the view when it must be)."""

    reason = StringField(_l("Motivo"), filters=[_strip], validators=[Length(max=REASON_MAX)])


class ScopeDecisionForm(ReasonOnlyForm):
    """Approve or reject scopes a self-registered client asked for."""

    scopes = CheckboxesField(_l("Alcances solicitados"))
    decision = SelectField(choices=[SelectChoice("approve"), SelectChoice("reject")])


class InitialTokenForm(ReasonOnlyForm):
    """A new initial access token for dynamic registration."""

    label = StringField(
        _l("Para qué o para quién (opcional)"), filters=[_strip], validators=[Length(max=120)]
    )
    expires_in_hours = IntegerField(
        _l("Vence en (horas)"),
        default=24,
        validators=[
            InputRequired(message=_l("Indique en cuántas horas vence.")),
            NumberRange(min=1, max=24 * 90, message=_l("Entre 1 hora y 90 días.")),
        ],
    )
    max_uses = IntegerField(
        _l("Usos permitidos"),
        default=1,
        validators=[
            InputRequired(message=_l("Indique cuántas veces puede usarse.")),
            NumberRange(min=1, max=1000, message=_l("Entre 1 y 1000 usos.")),
        ],
    )


class KeyRotationForm(ReasonOnlyForm):
    """Rotate the signing keys (one algorithm or all)."""

    alg = SelectField(
        _l("Algoritmo"),
        choices=[SelectChoice("", _l("Todos")), *(SelectChoice(a) for a in ID_TOKEN_ALGS)],
    )


class ResourceForm(LimitedForm):
    """A resource (RFC 8707 API): identifier, accepted scopes, token format, its server."""

    identifier = StringField(
        _l("Identificador (URI absoluta)"),
        filters=[_strip],
        validators=[InputRequired(message=_l("Escriba el identificador.")), Length(max=512)],
    )
    name = StringField(_l("Nombre (opcional)"), filters=[_strip], validators=[Length(max=120)])
    scopes = CheckboxesField(
        _l("Alcances que acepta"),
        validators=[DataRequired(message=_l("Elija al menos un alcance de la lista."))],
    )
    access_token_format = access_token_format_field()
    client_id = StringField(
        _l("Servidor de recursos que consulta sus tokens (client_id, opcional)"),
        filters=[_strip],
        validators=[Length(max=64)],
    )
    reason = StringField(_l("Motivo"), filters=[_strip], validators=[Length(max=REASON_MAX)])
