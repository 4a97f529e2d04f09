"""The base of every Passport form: no submitted value longer than its field allows.

A value longer than its field's limit cannot come from our pages (each input carries the
same ``maxlength``), so it is refused with a short 400 page (``TooLong``)
before the form is processed and before the view does any work with it: the value is never
hashed, looked up, logged or written back into a page. A field's limit is the ``max`` of its
``Length`` validator, else ``DEFAULT_MAX_LENGTH``; values a view reads outside the form (the
CAPTCHA answer) are limited by ``outside_fields``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from typing import ClassVar

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.exceptions import BadRequest
from wtforms import Field
from wtforms.validators import Length


class TooLong(BadRequest):
    """A form value longer than its field allows (``LimitedForm``); the error pages
    (passport/errors.py) show ``page_message``."""

    description = "a submitted value is too long"
    # Short, and never the value: the page must not write the oversized input back.
    page_message = _l("Los datos enviados son demasiado largos. Vuelva a intentarlo.")


# Fields without a Length validator (choices, numbers, check boxes, the CSRF token).
DEFAULT_MAX_LENGTH = 256


def field_max_length(field: Field) -> int:
    """The longest value ``field`` accepts."""
    limits = [v.max for v in field.validators if isinstance(v, Length) and v.max >= 0]
    return min(limits, default=DEFAULT_MAX_LENGTH)


def submitted_length(value: str) -> int:
    """The length a browser's ``maxlength`` counted: a text area sends each line break as
    CR LF but counts it once."""
    return len(value) - value.count("\r\n")


class LimitedForm(FlaskForm):  # type: ignore[misc]  # flask_wtf ships no types
    """A FlaskForm that refuses an oversized submission before processing it."""

    #: Submitted names the view reads itself, with their limits (e.g. the CAPTCHA answer).
    outside_fields: ClassVar[Mapping[str, int]] = {}

    def process(self, formdata: Any = None, *args: Any, **kwargs: Any) -> None:
        submitted = self.meta.wrap_formdata(self, formdata)
        if submitted is not None:
            self.refuse_oversized(submitted)
        super().process(formdata, *args, **kwargs)

    def refuse_oversized(self, submitted: Any) -> None:
        """Raise ``TooLong`` when a value of a known name exceeds its limit.

        Names this form does not know are left alone: another form built on the same
        request (a page with several forms) judges its own.
        """
        limits = {field.name: field_max_length(field) for field in self}
        limits.update(self.outside_fields)
        for name, limit in limits.items():
            for value in submitted.getlist(name):
                if isinstance(value, str) and submitted_length(value) > limit:
                    raise TooLong()
