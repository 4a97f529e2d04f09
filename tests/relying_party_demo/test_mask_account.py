"""Masking a bank account keeps only its last four ASCII digits."""

from __future__ import annotations

import pytest

from relying_party_demo.boletas.records import mask_account


@pytest.mark.parametrize(
    ("account", "masked"),
    [
        ("CTA- 04051234567", "****4567"),
        ("123", "****"),
        # Other scripts' digits and superscripts pass str.isdigit(): they are not account digits.
        ("CTA ٠٤٠٥١٢٣٤", "****"),
        ("04²³", "****"),
        ("0405123²", "****5123"),
    ],
)
def test_only_ascii_digits_are_kept(account: str, masked: str) -> None:
    assert mask_account(account) == masked
