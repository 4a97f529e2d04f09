"""Authentication context classes (the OIDC ``acr`` values) Passport can achieve.

Passport-specific URNs, because no registered value means "password" versus "password plus
an authenticator app" in this deployment (RFC 8176 names the methods, ``amr``, not levels).
"""

from __future__ import annotations

from collections.abc import Iterable

ACR_ONE_FACTOR = "urn:passport:acr:pwd"
ACR_MFA = "urn:passport:acr:mfa"
#: Weakest first (discovery's ``acr_values_supported``).
ACR_VALUES = (ACR_ONE_FACTOR, ACR_MFA)
SECOND_FACTOR_METHOD = "otp"  # RFC 8176 §2


def acr_for(amr: Iterable[str]) -> str:
    """The context class a session with these methods has reached."""
    return ACR_MFA if SECOND_FACTOR_METHOD in set(amr) else ACR_ONE_FACTOR
