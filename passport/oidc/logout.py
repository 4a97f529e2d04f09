"""RP-Initiated Logout 1.0: validating end_session requests.

Not Authlib's EndSessionEndpoint: it ends the session even when post_logout_redirect_uri is
unregistered or client_id unknown (Passport shows an error page instead, §3 and §4), and it
refuses a client_id that disagrees with the hint's aud where Passport ignores the hint and asks
the person to confirm (§2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import MultiDict

from passport.login.models import SSOSession
from passport.oidc.authorization import parse_ui_locales
from passport.oidc.authorization import verify_id_token_hint
from passport.oidc.clients import RegisteredClient
from passport.oidc.clients import find_client

MAX_PARAMETER_LENGTH = 4000


class LogoutRequestError(Exception):
    """The request cannot be honoured (unregistered redirect, mismatched client)."""


@dataclass
class LogoutRequest:
    """A validated logout request."""

    client: RegisteredClient | None
    hint: dict[str, Any] | None
    post_logout_redirect_uri: str | None
    state: str | None
    ui_locales: list[str]

    def can_skip_confirmation(self, session: SSOSession) -> bool:
        """A valid hint for this very session's user lets the RP log out without asking (§2)."""
        return (
            self.hint is not None
            and self.client is not None
            and self.hint.get("sub") == session.user.sub
        )


def parse_logout_request(params: MultiDict[str, str]) -> LogoutRequest:
    """Check the hint, the client and the post-logout URI (§2, §3)."""
    values = {
        name: params.get(name)
        for name in (
            "id_token_hint",
            "client_id",
            "post_logout_redirect_uri",
            "state",
            "ui_locales",
        )
    }
    if any(value is not None and len(value) > MAX_PARAMETER_LENGTH for value in values.values()):
        raise LogoutRequestError("parameter too long")
    hint = verify_id_token_hint(values["id_token_hint"]) if values["id_token_hint"] else None
    client = None
    if values["client_id"]:
        client = find_client(values["client_id"])
        if client is None:
            raise LogoutRequestError("unknown client")
    if hint is not None:
        audience = hint.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if client is None and len(audiences) == 1 and isinstance(audiences[0], str):
            client = find_client(audiences[0])
        if client is None or client.client_id not in audiences:
            # §2: a client_id that disagrees with the hint's audience is refused.
            hint = None
            if values["client_id"] is None:
                client = None
    uri = values["post_logout_redirect_uri"]
    # §3: only a URI registered for the identified client; otherwise never redirect.
    if uri is not None and (client is None or uri not in client.post_logout_redirect_uris):
        raise LogoutRequestError("post_logout_redirect_uri not registered")
    return LogoutRequest(
        client=client,
        hint=hint,
        post_logout_redirect_uri=uri,
        state=values["state"],
        ui_locales=parse_ui_locales(values["ui_locales"]),
    )
