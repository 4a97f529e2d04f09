"""Names of well-known authenticator models by AAGUID (shipped, never fetched).

A small excerpt of the community list (github.com/passkeydeveloper/passkey-authenticator-aaguids);
with attestation ``none`` the AAGUID is only the authenticator's word, so it labels, never trusts.
"""

from __future__ import annotations

NAMES = {
    "ea9b8d664d011d213ce4b6b48cb575d4": "Google Password Manager",
    "adce000235bcc60a648b0b25f1f05503": "Chrome en Mac",
    "08987058cadc4b81b6e130de50dcbe96": "Windows Hello",
    "9ddd1817af5a4672a2b93e3dd95000a9": "Windows Hello",
    "6028b017b1d44c02b4b3afcdafc96bb2": "Windows Hello",
    "fbfc3007154e4ecc8c0b6e020557d7bd": "iCloud Keychain",
    "dd4ec289e01d41c9bb8970fa845d4bf2": "iCloud Keychain (Managed)",
    "531126d6e717415c93203d9aa6981239": "Dashlane",
    "bada5566a7aa401fbd96c1b9b2d1b1ee": "1Password",
    "b84e4048157144e6a5e7f7dcaa3ea3b8": "Bitwarden",
    "d548826e79b4db40a3d811116f7e8349": "Bitwarden",
    "cb69481e8ff7403993ec0a2729a154a8": "YubiKey 5",
    "ee882879721c491397753dfcce97072a": "YubiKey 5",
    "fa2b99dc9e3942578f924a30d23c4118": "YubiKey 5 NFC",
    "2fc0579f811347eab116bb5a8db9202a": "YubiKey 5 NFC",
    "53414d53554e47000000000000000000": "Samsung Pass",
}


def describe_authenticator(aaguid: str) -> str | None:
    """The model's name for ``aaguid`` (32 hex digits), or None when unknown or all zeros."""
    return NAMES.get(aaguid.replace("-", "").lower())
