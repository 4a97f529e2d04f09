"""Authentication context classes (the OIDC ``acr`` values) Passport can achieve.

Passport-specific URNs, because no registered value means "password" versus "password plus
an authenticator app" in this deployment (RFC 8176 names the methods, ``amr``, not levels).
``urn:passport:acr:phishing-resistant`` is a passkey (WebAuthn): bound to Passport's origin,
it cannot be relayed by a look-alike page, unlike a password or a TOTP code.
"""

from __future__ import annotations

from collections.abc import Iterable

ACR_ONE_FACTOR = "urn:passport:acr:pwd"
ACR_MFA = "urn:passport:acr:mfa"
ACR_PHISHING_RESISTANT = "urn:passport:acr:phishing-resistant"
#: Weakest first (discovery's ``acr_values_supported``).
ACR_VALUES = (ACR_ONE_FACTOR, ACR_MFA, ACR_PHISHING_RESISTANT)
SECOND_FACTOR_METHOD = "otp"  # RFC 8176 §2
#: RFC 8176 §2 for a passkey: "swk" (a key's proof of possession; without attestation we
#: cannot claim "hwk"), "user" (the authenticator tested presence and verified the person)
#: and "mfa" (the key plus the phone's screen lock: two factors in one gesture).
PASSKEY_METHOD = "swk"
PASSKEY_AMR = (PASSKEY_METHOD, "user", "mfa")
#: The methods that count as the second factor of a session.
SECOND_FACTOR_METHODS = frozenset({SECOND_FACTOR_METHOD, PASSKEY_METHOD})


def acr_for(amr: Iterable[str]) -> str:
    """The context class a session with these methods has reached."""
    methods = set(amr)
    if PASSKEY_METHOD in methods:
        return ACR_PHISHING_RESISTANT
    return ACR_MFA if SECOND_FACTOR_METHOD in methods else ACR_ONE_FACTOR


def has_second_factor(amr: Iterable[str] | None) -> bool:
    """Whether these methods include a second factor (TOTP or a passkey)."""
    return bool(SECOND_FACTOR_METHODS & set(amr or ()))


def without_second_factor(amr: Iterable[str] | None) -> list[str]:
    """The methods left when the second factor no longer counts (admin idle timeout)."""
    dropped = SECOND_FACTOR_METHODS | set(PASSKEY_AMR)
    return [method for method in amr or () if method not in dropped]


def with_passkey(amr: Iterable[str] | None) -> list[str]:
    """The methods after a passkey was proven in the session."""
    methods = list(amr or ())
    return methods + [method for method in PASSKEY_AMR if method not in methods]
