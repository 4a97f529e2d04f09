"""Checking and normalising user data (no app, no database)."""

from __future__ import annotations

import pytest

from passport.accounts.errors import InvalidUserDataError
from passport.accounts.validation import clean_address
from passport.accounts.validation import clean_email
from passport.accounts.validation import clean_name
from passport.accounts.validation import clean_phone
from passport.accounts.validation import clean_user_data
from passport.accounts.validation import is_valid_dni


@pytest.mark.parametrize("dni", ["12345678", "00000001"])
def test_eight_ascii_digits_are_a_dni(dni: str) -> None:
    assert is_valid_dni(dni)


@pytest.mark.parametrize(
    "dni", ["1234567", "123456789", "1234567a", "１２３４５６７８", "12345678\n", ""]
)
def test_anything_else_is_not_a_dni(dni: str) -> None:
    assert not is_valid_dni(dni)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("rosa@minedu.gob.pe", "rosa@minedu.gob.pe"),
        (" Rosa.Q@MINEDU.GOB.PE ", "Rosa.Q@minedu.gob.pe"),
        ("r+tag@example.edu.pe", "r+tag@example.edu.pe"),
    ],
)
def test_valid_addresses_are_kept_with_a_lowercase_domain(raw: str, clean: str) -> None:
    assert clean_email(raw) == (clean, None)


@pytest.mark.parametrize(
    "raw",
    [
        *("", "rosa", "rosa@", "@minedu.gob.pe", "rosa@minedu", "ro sa@x.pe", "a..b@x.pe"),
        *("r@x.pe\nBcc: e@x.pe", "x" * 65 + "@x.pe", "r@" + "x" * 250 + ".pe", "rosa@exämple.pe"),
    ],
)
def test_invalid_addresses_are_refused(raw: str) -> None:
    assert clean_email(raw)[1] is not None


def test_names_collapse_spaces_and_accept_spanish_letters() -> None:
    assert clean_name("  María   de los Ángeles ") == ("María de los Ángeles", None)
    assert clean_name("O'Higgins-Ñañez")[1] is None


@pytest.mark.parametrize("raw", ["", "   ", "x" * 101, "Rosa1", "Rosa<b>", "Ro\u200bsa"])
def test_bad_names_are_refused(raw: str) -> None:
    assert clean_name(raw)[1] is not None


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("+51987654321", "+51987654321"),
        ("+51 987 654 321", "+51987654321"),
        ("+51 (1) 615-5800", "+5116155800"),
        ("+1 202 555 0100", "+12025550100"),
        (None, None),
        ("  ", None),
    ],
)
def test_phones_are_normalised_to_e164(raw: str | None, clean: str | None) -> None:
    assert clean_phone(raw) == (clean, None)


@pytest.mark.parametrize(
    "raw", ["987654321", "+5198765432100", "+51 98765", "+0123456789", "+51abc"]
)
def test_bad_phones_are_refused(raw: str) -> None:
    assert clean_phone(raw)[1] is not None


def test_an_address_keeps_only_the_oidc_members() -> None:
    assert clean_address({"locality": " Lima ", "country": "PE", "region": ""}) == (
        {"locality": "Lima", "country": "PE"},
        None,
    )
    assert clean_address({}) == (None, None)
    assert clean_address({"calle": "x"})[1] is not None
    assert clean_address({"locality": 5})[1] is not None
    assert clean_address(["Lima"])[1] is not None
    assert clean_address({"locality": "x" * 256})[1] is not None


def test_clean_user_data_lists_every_problem() -> None:
    with pytest.raises(InvalidUserDataError) as caught:
        clean_user_data(dni="1", email="x", given_name="", family_name="Q", ugel="U" * 121)
    assert [(e.field, e.reason) for e in caught.value.errors] == [
        ("dni", "must be exactly 8 digits"),
        ("email", "is not a valid e-mail address"),
        ("given_name", "is required"),
        ("ugel", "is longer than 120 characters"),
    ]
