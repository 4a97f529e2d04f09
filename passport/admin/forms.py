"""Forms of the console's user pages (CSRF through Flask-WTF; rules live in the services)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import StringField
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import Optional

from passport.accounts.forms import dni_format
from passport.security.forms import LimitedForm


def _strip(value: Any) -> Any:
    return " ".join(value.split()) if isinstance(value, str) else value


class ReasonForm(LimitedForm):
    """An action on a person: only the reason (required or not is the service's call)."""

    reason = StringField(_l("Motivo"), filters=[_strip], validators=[Length(max=500)])


class EditUserForm(ReasonForm):
    """Names, e-mail and phone of a user."""

    given_name = StringField(
        _l("Nombres"),
        filters=[_strip],
        validators=[InputRequired(message=_l("Ingrese los nombres.")), Length(max=100)],
    )
    family_name = StringField(
        _l("Apellidos"),
        filters=[_strip],
        validators=[InputRequired(message=_l("Ingrese los apellidos.")), Length(max=100)],
    )
    email = StringField(
        _l("Correo electrónico"),
        filters=[_strip],
        validators=[InputRequired(message=_l("Ingrese el correo electrónico.")), Length(max=254)],
    )
    phone = StringField(
        _l("Teléfono (opcional)"), filters=[_strip], validators=[Optional(), Length(max=30)]
    )


class CreateUserForm(EditUserForm):
    """A new user: the edit fields plus DNI and territory."""

    dni = StringField(
        _l("DNI"),
        filters=[_strip],
        validators=[InputRequired(message=_l("Ingrese el DNI.")), Length(max=8), dni_format],
    )
    dre = StringField(_l("DRE (opcional)"), filters=[_strip], validators=[Length(max=120)])
    ugel = StringField(_l("UGEL (opcional)"), filters=[_strip], validators=[Length(max=120)])


class ImportForm(ReasonForm):
    """The CSV file of a bulk import."""

    file = FileField(_l("Archivo CSV"))
