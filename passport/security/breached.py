"""Common, breached and guessable passwords: an offline check (no network at run time).

Three checks, all on a folded form of the password (NFKD without accents, case-folded, so
"Contraseña1", "CONTRASENA1" and "contraseña1" are one password):

- ``common``: the password is on the list shipped in ``data/common_passwords.txt``
  (passwords seen in breaches and the usual Spanish/Peruvian choices that pass the seed's
  rules: "Peru2024", "Docente123", "Abc12345"...).
- ``common_pattern``: a guessable word (brand, institution, month, season, day, football
  club, city, common first name, keyboard run...) followed or preceded by digits, with
  "leet" swaps undone ("M1nedu2024", "2024Verano", "Julio.2023"); or a word of three letters
  or fewer with a year or a run of digits ("Ab123456", "Xy2024ab" is fine).
- ``dni_derived``: six or more consecutive digits of the DNI, in order or reversed.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Protocol

DATA_FILE = Path(__file__).resolve().parent / "data" / "common_passwords.txt"

# Minimum run of DNI digits that makes a password "DNI-derived".
DNI_RUN = 6


class Weakness(enum.StrEnum):
    """Why a password that passes the seed's rules is still refused."""

    COMMON = "common"
    PATTERN = "common_pattern"
    DNI_DERIVED = "dni_derived"


class PasswordBlocklist(Protocol):
    """A source of refused passwords (the shipped list; a larger offline corpus later)."""

    def weakness_of(
        self, password: str, *, dni: str | None = None, extra_words: Iterable[str] = ()
    ) -> Weakness | None:
        """The reason ``password`` is refused, or None."""
        ...


# Words that make "word + digits" guessable (the caller adds the configured brand name).
GUESSABLE_WORDS_FILE = Path(__file__).resolve().parent / "data" / "guessable_words.txt"

LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a"})


def fold(text: str) -> str:
    """Compare form: accents removed (NFKD), case-folded."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _letters(word: str) -> str:
    """The word with leet digits undone and every non-letter dropped."""
    return "".join(c for c in word.translate(LEET) if "a" <= c <= "z")


def is_guessable_number(digits: str) -> bool:
    """A year (1900-2099), a repeated digit or an ascending/descending run of 3+ digits."""
    if len(digits) == 4 and digits[:2] in ("19", "20"):
        return True
    if len(set(digits)) == 1:
        return True
    return len(digits) >= 3 and (digits in "01234567890" or digits in "09876543210")


_WORD_THEN_NUMBER = re.compile(r"(?P<word>.+?)[\W_]*(?P<digits>[0-9]+)")
_NUMBER_THEN_WORD = re.compile(r"(?P<digits>[0-9]+)[\W_]*(?P<word>.+)")


def is_word_and_number(folded: str, words: frozenset[str]) -> bool:
    """True for "guessable word + digits" (or digits + word), as in "Minedu2024"."""
    stripped = re.sub(r"^[\W_]+|[\W_]+$", "", folded)
    for pattern in (_WORD_THEN_NUMBER, _NUMBER_THEN_WORD):
        match = pattern.fullmatch(stripped)
        if match is None:
            continue
        word = _letters(match["word"])
        if len(word) != len(re.sub(r"[\W_]", "", match["word"])):
            continue  # the "word" holds digits that are not leet swaps: not a plain pattern
        if word in words:
            return True
        if len(word) <= 3 and is_guessable_number(match["digits"]):
            return True
    return False


def is_dni_derived(folded: str, dni: str) -> bool:
    """True when DNI_RUN or more consecutive digits of the DNI (or of it reversed) appear."""
    if len(dni) < DNI_RUN:
        return False
    reversed_dni = dni[::-1]
    for run in re.findall(rf"[0-9]{{{DNI_RUN},}}", folded):
        for start in range(len(run) - DNI_RUN + 1):
            window = run[start : start + DNI_RUN]
            if window in dni or window in reversed_dni:
                return True
    return False


def _data_lines(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


@lru_cache(maxsize=1)
def guessable_words() -> frozenset[str]:
    """The shipped guessable words, folded, one or more per line."""
    lines = _data_lines(GUESSABLE_WORDS_FILE)
    return frozenset(fold(word) for line in lines for word in line.split())


@lru_cache(maxsize=1)
def shipped_passwords() -> frozenset[str]:
    """The shipped list, folded (comments start with ``#``)."""
    return frozenset(fold(line) for line in _data_lines(DATA_FILE))


class ShippedBlocklist:
    """The list in ``data/common_passwords.txt`` plus the pattern and DNI rules."""

    def weakness_of(
        self, password: str, *, dni: str | None = None, extra_words: Iterable[str] = ()
    ) -> Weakness | None:
        """The reason ``password`` is refused, or None."""
        folded = fold(password)
        if folded in shipped_passwords():
            return Weakness.COMMON
        if dni and is_dni_derived(folded, dni):
            return Weakness.DNI_DERIVED
        words = guessable_words() | {_letters(fold(word)) for word in extra_words}
        if is_word_and_number(folded, words):
            return Weakness.PATTERN
        return None


DEFAULT_BLOCKLIST = ShippedBlocklist()


def weakness_of(
    password: str, *, dni: str | None = None, extra_words: Iterable[str] = ()
) -> Weakness | None:
    """The reason the default blocklist refuses ``password``, or None."""
    return DEFAULT_BLOCKLIST.weakness_of(password, dni=dni, extra_words=extra_words)
