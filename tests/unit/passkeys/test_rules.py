"""The small rules of passkeys: the counter, the authenticator names, amr/acr and acr requests."""

from __future__ import annotations

import pytest

from passport.mfa.assurance import ACR_MFA
from passport.mfa.assurance import ACR_ONE_FACTOR
from passport.mfa.assurance import ACR_PHISHING_RESISTANT
from passport.mfa.assurance import acr_for
from passport.mfa.assurance import has_second_factor
from passport.mfa.assurance import with_passkey
from passport.mfa.assurance import without_second_factor
from passport.oidc.acr import AcrRequest
from passport.passkeys.authenticators import describe_authenticator
from passport.passkeys.services import clean_name
from passport.passkeys.services import counter_regressed


@pytest.mark.parametrize(
    ("stored", "received", "regressed"),
    [(0, 0, False), (0, 1, False), (4, 5, False), (5, 5, True), (5, 3, True), (5, 0, True)],
)
def test_counter_regression_spares_only_authenticators_without_counters(
    stored: int, received: int, regressed: bool
) -> None:
    assert counter_regressed(stored, received) is regressed


def test_known_and_unknown_aaguids() -> None:
    assert describe_authenticator("fbfc3007-154e-4ecc-8c0b-6e020557d7bd") == "iCloud Keychain"
    assert describe_authenticator("0" * 32) is None


def test_names_are_one_trimmed_line() -> None:
    assert clean_name("  Mi\n celular  ") == "Mi celular"
    assert len(clean_name("x" * 200)) == 64
    assert clean_name(None) == ""


def test_amr_and_acr_of_each_way_in() -> None:
    assert acr_for(["pwd"]) == ACR_ONE_FACTOR
    assert acr_for(["pwd", "otp"]) == ACR_MFA
    assert acr_for(with_passkey([])) == ACR_PHISHING_RESISTANT
    assert with_passkey(["pwd"]) == ["pwd", "swk", "user", "mfa"]
    assert has_second_factor(["swk", "user", "mfa"])
    assert not has_second_factor(["pwd"])
    assert without_second_factor(["pwd", "otp", "swk", "user", "mfa"]) == ["pwd"]


def test_phishing_resistant_requests() -> None:
    alone = AcrRequest((ACR_PHISHING_RESISTANT,), False)
    assert alone.prefers_phishing_resistant
    assert alone.insists_on_phishing_resistant
    preference = AcrRequest((ACR_PHISHING_RESISTANT, ACR_MFA), True)
    assert preference.prefers_second_factor
    assert not preference.insists_on_phishing_resistant
    assert not AcrRequest((ACR_MFA, ACR_PHISHING_RESISTANT), False).prefers_phishing_resistant
    assert AcrRequest(("urn:other", ACR_PHISHING_RESISTANT), False).insists_on_phishing_resistant
