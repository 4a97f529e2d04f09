"""Forms of the second factor (CSRF by Flask-WTF; every field length-limited)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField
from wtforms import StringField
from wtforms.validators import InputRequired
from wtforms.validators import Length

from passport.security.forms import LimitedForm
from passport.security.passwords import MAX_PASSWORD_LENGTH

# Room for a recovery code typed with spaces; anything longer is not a code.
MAX_CODE_LENGTH = 32


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def code_field(label: str | None = None) -> StringField:
    """A 6-digit TOTP code or a recovery code."""
    return StringField(
        label or _l("Código de verificación"),
        validators=[
            InputRequired(message=_l("Ingrese el código de su aplicación de autenticación.")),
            Length(max=MAX_CODE_LENGTH, message=_l("El código es demasiado largo.")),
        ],
        filters=[_strip],
    )


class CodeForm(LimitedForm):
    """One code: the sign-in's second step, step-up, enrolment, new recovery codes."""

    code = code_field()


def current_password_field() -> PasswordField:
    """The account's current password, asked before a sensitive change."""
    return PasswordField(
        _l("Contraseña actual"),
        validators=[
            InputRequired(message=_l("Ingrese su contraseña actual.")),
            Length(max=MAX_PASSWORD_LENGTH, message=_l("La contraseña es demasiado larga.")),
        ],
    )


class PasswordAndCodeForm(LimitedForm):
    """Turning TOTP on or off: the current password and a code."""

    password = current_password_field()
    code = code_field()
