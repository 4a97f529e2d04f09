"""What an authorization request asks of the authentication context (``acr``).

OIDC Core §3.1.2.1: ``acr_values`` is a voluntary request, in order of preference; the ID
token's ``acr`` states what was achieved. §5.5.1.1: ``claims`` may mark ``acr`` essential with
``value``/``values``; an essential request that cannot be met is a failed authentication.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from passport.mfa.assurance import ACR_MFA
from passport.mfa.assurance import ACR_PHISHING_RESISTANT
from passport.mfa.assurance import ACR_VALUES


@dataclass(frozen=True)
class AcrRequest:
    """The context classes the client asked for, in its order, and whether it insists."""

    values: tuple[str, ...]
    is_essential: bool

    @property
    def known(self) -> list[str]:
        """The values Passport can achieve, in the client's order."""
        return [value for value in self.values if value in ACR_VALUES]

    @property
    def prefers_second_factor(self) -> bool:
        """The first value Passport knows is a two-step one (TOTP or a passkey)."""
        return bool(self.known) and self.known[0] in (ACR_MFA, ACR_PHISHING_RESISTANT)

    @property
    def prefers_phishing_resistant(self) -> bool:
        """The first value Passport knows is the passkey one."""
        return bool(self.known) and self.known[0] == ACR_PHISHING_RESISTANT

    @property
    def insists_on_phishing_resistant(self) -> bool:
        """The passkey value is the only one Passport knows in the request (voluntary or
        essential): Passport then refuses password-only and TOTP sessions for this request.
        A weaker value listed after it makes it a preference instead."""
        return self.prefers_phishing_resistant and len(self.known) == 1

    def accepts(self, achieved: str | None) -> bool:
        """Whether ``achieved`` meets an essential request."""
        return achieved in self.values


def _claim_values(request: Any) -> tuple[tuple[str, ...], bool]:
    """``value``/``values`` and ``essential`` of a claims-parameter entry for ``acr``."""
    if not isinstance(request, dict):
        return (), False
    values: list[str] = []
    if isinstance(request.get("value"), str):
        values.append(request["value"])
    if isinstance(request.get("values"), list):
        values.extend(value for value in request["values"] if isinstance(value, str))
    return tuple(values), request.get("essential") is True


def acr_request(raw: dict[str, str], claims: dict[str, Any] | None) -> AcrRequest | None:
    """The acr requirement of a request, or None when it states none."""
    id_token = (claims or {}).get("id_token")
    claim_values, is_essential = _claim_values(
        id_token.get("acr") if isinstance(id_token, dict) else None
    )
    if claim_values:
        # §5.5.1.1: the claims parameter is the more specific request; it wins.
        return AcrRequest(claim_values, is_essential)
    voluntary = tuple((raw.get("acr_values") or "").split())
    return AcrRequest(voluntary, False) if voluntary else None
