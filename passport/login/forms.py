"""Forms of the login capability (CSRF by Flask-WTF; every field length-limited)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField
from wtforms import StringField
from wtforms.validators import InputRequired
from wtforms.validators import Length

from passport.captcha.providers import ANSWER_FIELD_LIMIT
from passport.security.forms import LimitedForm
from passport.security.passwords import MAX_PASSWORD_LENGTH


class SignInForm(LimitedForm):
    """DNI and password; the CAPTCHA is read and checked separately (its own widget)."""

    outside_fields = ANSWER_FIELD_LIMIT

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


class LogoutForm(LimitedForm):
    """Only the CSRF token: signing out is a POST."""
