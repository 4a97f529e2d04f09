"""Forms of the passkeys page (CSRF by Flask-WTF on each; every field length-limited)."""

from __future__ import annotations

from wtforms import StringField
from wtforms.validators import InputRequired
from wtforms.validators import Length

from passport.mfa.forms import current_password_field
from passport.security.forms import LimitedForm


class RenameForm(LimitedForm):
    """A passkey's new name."""

    passkey_name = StringField(validators=[InputRequired(), Length(max=64)])


class RemoveForm(LimitedForm):
    """Only the CSRF token: "Quitar" is a POST."""


class ConfirmPasswordForm(LimitedForm):
    """The password again, before adding a passkey to an old session."""

    current_password = current_password_field()
