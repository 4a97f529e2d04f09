"""Plain Spanish words for each scope: the consent page and Mi cuenta show these."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# The person decides (and later reviews) from this text, so it names data, not protocols.
SCOPE_DESCRIPTIONS = {
    "openid": _l("Saber que es usted (con un identificador que no revela su DNI)"),
    "profile": _l("Sus nombres y apellidos"),
    "email": _l("Su correo electrónico"),
    "phone": _l("Su número de teléfono"),
    "address": _l("Su dirección"),
    "dni": _l("Su número de DNI"),
    "offline_access": _l("Seguir accediendo a estos datos cuando cierre la sesión"),
    "boletas:read": _l("Ver sus boletas de pago"),
    "legajos:read": _l("Ver su legajo"),
}


# Claims an app may ask for one by one with the `claims` parameter (OIDC Core §5.5).
CLAIM_DESCRIPTIONS = {
    "name": _l("Su nombre completo"),
    "given_name": _l("Sus nombres"),
    "family_name": _l("Sus apellidos"),
    "preferred_username": _l("Su número de DNI, como nombre de usuario"),
    "locale": _l("Su idioma"),
    "updated_at": _l("La fecha en que se actualizaron sus datos"),
    "email": _l("Su correo electrónico"),
    "email_verified": _l("Si su correo electrónico está verificado"),
    "phone_number": _l("Su número de teléfono"),
    "phone_number_verified": _l("Si su número de teléfono está verificado"),
    "address": _l("Su dirección"),
    "dni": _l("Su número de DNI"),
}


def describe_claims(claims: list[str]) -> list[str]:
    """The words for each claim, in order (an unknown claim is shown as its name)."""
    return [str(CLAIM_DESCRIPTIONS.get(claim, claim)) for claim in claims]


def describe_scopes(scopes: list[str]) -> list[str]:
    """The words for each scope, in order (an unknown scope is shown as its name)."""
    return [str(SCOPE_DESCRIPTIONS.get(scope, scope)) for scope in scopes]
