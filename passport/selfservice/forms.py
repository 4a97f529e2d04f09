"""Forms of Mi cuenta (CSRF by Flask-WTF on each; every field length-limited)."""

from __future__ import annotations

from wtforms import HiddenField
from wtforms.validators import InputRequired
from wtforms.validators import Length

from passport.accounts.forms import SetPasswordForm
from passport.mfa.forms import current_password_field
from passport.security.forms import LimitedForm


class ChangePasswordForm(SetPasswordForm):
    """Current password, then the new one and its confirmation (as "Verificación")."""

    current_password = current_password_field()


class EndOtherSessionsForm(LimitedForm):
    """Only the CSRF token: "Cerrar todas las demás sesiones" is a POST."""


class RevokeAppForm(LimitedForm):
    """The app whose access ends."""

    client_id = HiddenField(validators=[InputRequired(), Length(max=64)])
