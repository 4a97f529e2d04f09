"""Forms of the accounts pages (CSRF through Flask-WTF; the CAPTCHA input is the widget's)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms import StringField
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import ValidationError

from passport.accounts.validation import is_valid_dni
from passport.captcha.providers import ANSWER_FIELD_LIMIT
from passport.security.forms import LimitedForm

# Far above the policy's maximum: the policy says "at most 15"; this only bounds the work.
PASSWORD_FIELD_MAX_LENGTH = 256


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def dni_format(form: FlaskForm, field: StringField) -> None:
    """Eight digits, in Spanish."""
    if not is_valid_dni(field.data or ""):
        raise ValidationError(_l("El DNI debe tener exactamente 8 dígitos (solo números)."))


class DniRequestForm(LimitedForm):
    """DNI for "Generar contraseña" and "¿Olvidaste la contraseña?" (CAPTCHA beside it)."""

    outside_fields = ANSWER_FIELD_LIMIT

    dni = StringField(
        _l("Usuario (DNI)"),
        filters=[_strip],
        validators=[
            InputRequired(message=_l("Ingrese su DNI.")),
            Length(max=8, message=_l("El DNI debe tener exactamente 8 dígitos (solo números).")),
            dni_format,
        ],
    )


class SetPasswordForm(LimitedForm):
    """Contraseña and Confirmar contraseña of "Verificación de usuario"."""

    password = PasswordField(
        _l("Contraseña:"),
        validators=[
            InputRequired(message=_l("Ingrese la contraseña.")),
            Length(max=PASSWORD_FIELD_MAX_LENGTH, message=_l("La contraseña es demasiado larga.")),
        ],
    )
    password_confirmation = PasswordField(
        _l("Confirmar contraseña:"),
        validators=[
            InputRequired(message=_l("Vuelva a escribir la contraseña para confirmarla.")),
            Length(max=PASSWORD_FIELD_MAX_LENGTH, message=_l("La contraseña es demasiado larga.")),
        ],
    )
