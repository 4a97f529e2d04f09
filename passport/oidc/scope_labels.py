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


def describe_scopes(scopes: list[str]) -> list[str]:
    """The words for each scope, in order (an unknown scope is shown as its name)."""
    return [str(SCOPE_DESCRIPTIONS.get(scope, scope)) for scope in scopes]
