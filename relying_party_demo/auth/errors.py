"""Domain errors of sign-in, logout and token validation."""

from __future__ import annotations

from relying_party_demo.errors import AyniError


class SignInFailed(AyniError):  # noqa: N818 - named after what happened (STYLE.md §6)
    """The authorization response or the token exchange could not be trusted.

    ``reason`` is a short code the view maps to a Spanish message: ``access_denied``,
    ``login_required``, ``stale_state``, ``issuer_mismatch``, ``invalid_id_token``,
    ``missing_dni``, ``provider_unavailable``, ``provider_error``, ``not_configured``.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class InvalidLogoutToken(AyniError):  # noqa: N818 - named after what happened (STYLE.md §6)
    """A back-channel logout token failed validation (OIDC Back-Channel Logout 1.0 §2.6)."""


class InvalidToken(AyniError):  # noqa: N818 - named after what happened (STYLE.md §6)
    """A JWT from Passport failed signature or claim checks."""


class SessionEnded(AyniError):  # noqa: N818 - named after what happened (STYLE.md §6)
    """Passport no longer honours this session's refresh token."""
