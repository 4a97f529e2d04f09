"""Forms of the login capability (CSRF by Flask-WTF; every field length-limited)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms import StringField
from wtforms.validators import InputRequired
from wtforms.validators import Length

# A password longer than this is refused before hashing (Argon2 cost is per byte too).
MAX_PASSWORD_LENGTH = 128


class SignInForm(FlaskForm):  # type: ignore[misc]  # flask_wtf ships no types
    """DNI and password; the CAPTCHA is read and checked separately (its own widget)."""

    username = StringField(
        _l("Usuario"),
        validators=[
            InputRequired(message=_l("Ingrese su usuario (DNI).")),
            Length(max=8, message=_l("El usuario es su DNI de 8 dígitos.")),
        ],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
    )
    password = PasswordField(
        _l("Contraseña"),
        validators=[
            InputRequired(message=_l("Ingrese su contraseña.")),
            Length(max=MAX_PASSWORD_LENGTH, message=_l("La contraseña es demasiado larga.")),
        ],
    )


class LogoutForm(FlaskForm):  # type: ignore[misc]
    """Only the CSRF token: signing out is a POST."""
