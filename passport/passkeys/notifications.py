"""The mail telling a person the help desk removed one of their passkeys."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from passport.accounts.links import absolute_url
from passport.accounts.models import User
from passport.accounts.notifications import brand_context
from passport.accounts.notifications import send_notice


def send_removed_notice(user: User, passkey_name: str) -> None:
    """Mail the owner that a passkey was removed; commits, never raises (the removal stands)."""
    if not user.email:
        return
    brand = brand_context()
    subject = _l(
        "%(brand)s - %(platform)s – Se quitó una llave de acceso",
        brand=brand["brand"],
        platform=brand["platform"],
    )
    send_notice(
        user,
        "passkey_removed",
        subject,
        {"kind": "passkey_removed"},
        passkey_name=passkey_name,
        passkeys_url=absolute_url("passkeys.manage"),
    )
