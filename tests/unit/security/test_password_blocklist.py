"""The shipped list of common and breached passwords, and the guessable patterns."""

from __future__ import annotations

import pytest

from passport.security.breached import DATA_FILE
from passport.security.breached import Weakness
from passport.security.breached import fold
from passport.security.breached import shipped_passwords
from passport.security.breached import weakness_of
from passport.security.password_policy import password_rules


@pytest.mark.parametrize(
    "password",
    ["Peru2024", "Minedu2024", "Docente123", "Contraseña1", "Abc12345", "Qwerty123", "Passw0rd"],
)
def test_well_known_passwords_are_common(password: str) -> None:
    assert weakness_of(password) is Weakness.COMMON


def test_the_list_ignores_case_and_accents() -> None:
    assert weakness_of("CONTRASENA1") is Weakness.COMMON
    assert weakness_of("contraseña1") is Weakness.COMMON
    assert fold("Otoño") == "otono"


def test_every_listed_password_would_otherwise_pass_the_seeds_rules() -> None:
    rules = password_rules()
    lines = DATA_FILE.read_text(encoding="utf-8").splitlines()
    listed = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert len(listed) > 200
    failing = [p for p in listed if not all(rule.is_met(p) for rule in rules)]
    assert failing == []
    assert len(shipped_passwords()) == len({fold(p) for p in listed})


@pytest.mark.parametrize(
    "password",
    [
        "Minedu2031",  # brand + any year, not listed
        "M1nedu2031",  # leet swaps undone
        "Ugel.2030",  # separator between word and year
        "2030Verano",  # year first
        "Setiembre1999",  # month
        "Primavera77",  # season
        "Alianza2031!",  # club, trailing symbol
        "Rosa19871",  # common first name
        "Ab123456",  # short word + digit run
        "Xy2030",  # short word + year (too short anyway, still a pattern)
    ],
)
def test_word_plus_number_patterns_are_guessable(password: str) -> None:
    assert weakness_of(password) is Weakness.PATTERN


@pytest.mark.parametrize(
    "password", ["Kusi8Wayra", "Xy2030ab", "Qpz83920Lm", "Clave2024ok", "Tq7-Rmw4Zp"]
)
def test_unpatterned_passwords_pass(password: str) -> None:
    assert weakness_of(password) is None


def test_six_consecutive_dni_digits_make_a_password_dni_derived() -> None:
    assert weakness_of("Kq345678x", dni="12345678") is Weakness.DNI_DERIVED
    assert weakness_of("Kq876543x", dni="12345678") is Weakness.DNI_DERIVED  # reversed


def test_five_dni_digits_are_not_enough_to_be_dni_derived() -> None:
    assert weakness_of("Kq45678xW", dni="12345678") is None


def test_dni_digits_are_checked_only_when_the_dni_is_known() -> None:
    assert weakness_of("Kq345678x") is None
