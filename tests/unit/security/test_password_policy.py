"""The seed's password rules, one by one, with their edges; and the server-only rules."""

from __future__ import annotations

import unicodedata

import pytest

from passport.security.password_policy import FORBIDDEN_CHARACTERS
from passport.security.password_policy import check_password
from passport.security.password_policy import checklist
from passport.security.password_policy import password_rules

GOOD = "Kusi8Wayra"  # passes every rule, is on no list


def codes(password: str, **kwargs: object) -> list[str]:
    return [problem.code for problem in check_password(password, **kwargs)]  # type: ignore[arg-type]


def met(password: str) -> dict[str, bool]:
    return {item.rule.code: item.is_met for item in checklist(password, password_rules())}


def test_a_good_password_has_no_problem() -> None:
    assert codes(GOOD) == []


def test_the_rules_are_the_seeds_six_in_the_seeds_order() -> None:
    labels = [str(rule.label) for rule in password_rules()]
    assert labels == [
        "Al menos debería tener una letra en minúscula",
        "Al menos debería tener una letra en mayúscula",
        "Al menos debería tener un número",
        "Debería tener 8 caracteres como mínimo",
        "Debería tener 15 caracteres como máximo",
        "No debería tener los siguientes caracteres +/.*?\\$&%|<>#",
    ]


def test_the_empty_password_shows_the_seeds_initial_checklist() -> None:
    assert met("") == {
        "lowercase": False,
        "uppercase": False,
        "digit": False,
        "min_length": False,
        "max_length": True,
        "forbidden_characters": True,
    }


def test_a_password_without_a_lowercase_letter_is_refused() -> None:
    assert codes("KUSI8WAYRA") == ["lowercase"]


def test_a_password_without_an_uppercase_letter_is_refused() -> None:
    assert codes("kusi8wayra") == ["uppercase"]


def test_a_password_without_a_digit_is_refused() -> None:
    assert codes("KusiOWayra") == ["digit"]


@pytest.mark.parametrize(
    ("length", "expected"), [(7, ["min_length"]), (8, []), (15, []), (16, ["max_length"])]
)
def test_length_limits_are_eight_to_fifteen_characters(length: int, expected: list[str]) -> None:
    password = ("Kq7" + "xwzprtvbnmlkjhg")[:length]
    assert len(password) == length
    assert codes(password) == expected


def test_length_limits_follow_the_settings() -> None:
    rules = password_rules(min_length=10, max_length=12)
    assert codes("Kusi8Wayr", rules=rules) == ["min_length"]
    assert codes("Kusi8Wayra", rules=rules) == []
    assert codes("Kusi8Wayrapqz", rules=rules) == ["max_length"]
    assert str(rules[3].label) == "Debería tener 10 caracteres como mínimo"


def test_impossible_length_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="min <= max"):
        password_rules(min_length=16, max_length=15)


@pytest.mark.parametrize("char", list(FORBIDDEN_CHARACTERS))
def test_each_forbidden_character_is_refused(char: str) -> None:
    assert codes(f"Kusi8W{char}yra") == ["forbidden_characters"]


def test_the_forbidden_characters_are_exactly_the_seeds() -> None:
    assert sorted(FORBIDDEN_CHARACTERS) == sorted("+/.*?\\$&%|<>#")


@pytest.mark.parametrize("char", list("-_@!¡¿=,;:()[]{}~^'\" "))
def test_other_punctuation_is_allowed(char: str) -> None:
    assert codes(f"Kusi8W{char}yra") == []


def test_enye_and_accented_vowels_count_as_lowercase_letters() -> None:
    for letter in "ñáéíóúü":
        assert codes(f"KUSI8{letter}WAYRA") == [], letter


def test_capital_enye_and_accented_vowels_count_as_uppercase_letters() -> None:
    for letter in "ÑÁÉÍÓÚÜ":
        assert codes(f"kusi8{letter}wayra") == [], letter


def test_other_non_ascii_letters_are_allowed_but_count_as_no_case() -> None:
    assert codes("KUSI8ÇWAYRA") == ["lowercase"]
    assert codes("kusi8çwàyra") == ["uppercase"]
    assert codes("Kusi8çWàyra") == []


def test_only_ascii_digits_count_as_digits() -> None:
    assert codes("KusiWayra٣") == ["digit"]  # ARABIC-INDIC DIGIT THREE
    assert codes("KusiWayra３") == ["digit"]  # FULLWIDTH DIGIT THREE


def test_a_decomposed_enye_counts_like_a_composed_one() -> None:
    decomposed = unicodedata.normalize("NFD", "KUSI8ñWAYRA")
    assert len(decomposed) == 12
    assert codes(decomposed) == []


def test_length_counts_characters_not_utf16_units() -> None:
    # 15 code points, the emoji alone being two UTF-16 units.
    assert codes("Kusi8Wayra😀abcd") == []
    assert codes("Kusi8Wayra😀abcde") == ["max_length"]


def test_every_failed_rule_gets_its_own_spanish_message() -> None:
    problems = check_password("ab.", confirmation="x")
    messages = {problem.code: problem.message for problem in problems}
    assert messages == {
        "uppercase": "La contraseña debe tener al menos una letra en mayúscula.",
        "digit": "La contraseña debe tener al menos un número.",
        "min_length": "La contraseña debe tener 8 caracteres como mínimo.",
        "forbidden_characters": (
            "La contraseña no debe tener ninguno de estos caracteres: + / . * ? \\ $ & % | < > #"
        ),
        "confirmation_mismatch": (
            "La confirmación no coincide con la contraseña. Escríbala otra vez."
        ),
    }


def test_the_confirmation_must_match() -> None:
    assert codes(GOOD, confirmation=GOOD) == []
    assert codes(GOOD, confirmation=GOOD.lower()) == ["confirmation_mismatch"]


def test_a_password_containing_the_dni_is_refused() -> None:
    assert codes("Kq40512873", dni="40512873") == ["contains_dni"]
    assert codes("Kq40512873", dni="11112222") == []


def test_a_password_containing_the_dni_gets_one_message_not_two() -> None:
    messages = [p.message for p in check_password("Xy12345678", dni="12345678")]
    assert messages == ["La contraseña no debe contener su DNI."]


def test_common_passwords_are_refused_with_a_reason() -> None:
    problems = check_password("Docente123")
    assert [p.code for p in problems] == ["common"]
    assert "muy común" in problems[0].message


def test_brand_words_of_the_settings_count_as_guessable() -> None:
    assert codes("Kallpa2024") == []
    assert codes("Kallpa2024", extra_words=["KALLPA"]) == ["common_pattern"]
