"""The password policy: the single definition the server enforces and the page's checklist shows.

The seed's six rules ("Verificación de usuario") are :class:`PasswordRule` objects. Each holds
a regular expression written in the common subset of Python's ``re`` and JavaScript's
``RegExp`` with the ``u`` flag (literal character classes, ``[\\s\\S]`` and counted
repetition only), so the page's script (``passport/static/js/password-policy.js``) applies the
very same patterns, which the template hands it in ``data-pattern`` attributes. Both sides
first normalise the password to Unicode NFC and count code points, not UTF-16 units.

Letters and case (decision): the letters of a Spanish keyboard count. ``ñ`` and the accented
vowels ``á é í ó ú ü`` count as lowercase letters, ``Ñ Á É Í Ó Ú Ü`` as uppercase ones, as a
teacher in Peru expects ("contraseña" has only lowercase letters). Other non-ASCII characters
(``ç``, ``à``, ``ß``, emoji...) are allowed but count as no letter of either case, and only
``0``-``9`` count as digits (not Arabic-Indic or full-width digits). The password is hashed
in NFC (:mod:`passport.security.passwords`), so either keyboard encoding of "ñ" signs in.

Beyond the seed, :func:`check_password` adds the server-only rules: the confirmation must
match, the password must not contain the DNI, and it must not be a common or breached password
(:mod:`passport.security.breached`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from flask_babel import lazy_gettext as _l

from passport.security.breached import Weakness
from passport.security.breached import weakness_of

LOWERCASE_LETTERS = "a-zñáéíóúü"
UPPERCASE_LETTERS = "A-ZÑÁÉÍÓÚÜ"
DIGITS = "0-9"
# The seed's list, in its order: + / . * ? \ $ & % | < > #
FORBIDDEN_CHARACTERS = "+/.*?\\$&%|<>#"

DEFAULT_MIN_LENGTH = 8
DEFAULT_MAX_LENGTH = 15


@dataclass(frozen=True)
class PasswordRule:
    """One checklist line: a pattern the password must match, and what to tell the person."""

    code: str
    # Python ``re`` and JavaScript ``RegExp(..., "u")`` read it alike (see the module doc).
    pattern: str
    # True: the whole password must match the pattern; False: some part of it must.
    whole: bool
    label: str  # the checklist text of the seed (lazy, translated when rendered)
    error: str  # the server's message when the rule fails (lazy as well)

    def is_met(self, password: str) -> bool:
        """True when ``password`` (normalised to NFC) satisfies the rule."""
        compiled = _compiled(self.pattern)
        normalized = normalize(password)
        if self.whole:
            return compiled.fullmatch(normalized) is not None
        return compiled.search(normalized) is not None


@lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def normalize(password: str) -> str:
    """NFC, as the page's script does (``value.normalize("NFC")``)."""
    return unicodedata.normalize("NFC", password)


def forbidden_class() -> str:
    """A regex character class body listing the forbidden characters (backslash escaped)."""
    return FORBIDDEN_CHARACTERS.replace("\\", "\\\\")


def password_rules(
    min_length: int = DEFAULT_MIN_LENGTH, max_length: int = DEFAULT_MAX_LENGTH
) -> tuple[PasswordRule, ...]:
    """The seed's rules, in the seed's order, for the given length limits."""
    if not 1 <= min_length <= max_length:
        raise ValueError("password length limits must satisfy 1 <= min <= max")
    return (
        PasswordRule(
            code="lowercase",
            pattern=f"[{LOWERCASE_LETTERS}]",
            whole=False,
            label=_l("Al menos debería tener una letra en minúscula"),
            error=_l("La contraseña debe tener al menos una letra en minúscula."),
        ),
        PasswordRule(
            code="uppercase",
            pattern=f"[{UPPERCASE_LETTERS}]",
            whole=False,
            label=_l("Al menos debería tener una letra en mayúscula"),
            error=_l("La contraseña debe tener al menos una letra en mayúscula."),
        ),
        PasswordRule(
            code="digit",
            pattern=f"[{DIGITS}]",
            whole=False,
            label=_l("Al menos debería tener un número"),
            error=_l("La contraseña debe tener al menos un número."),
        ),
        PasswordRule(
            code="min_length",
            pattern=f"[\\s\\S]{{{min_length},}}",
            whole=True,
            label=_l("Debería tener %(count)s caracteres como mínimo", count=min_length),
            error=_l(
                "La contraseña debe tener %(count)s caracteres como mínimo.", count=min_length
            ),
        ),
        PasswordRule(
            code="max_length",
            pattern=f"[\\s\\S]{{0,{max_length}}}",
            whole=True,
            label=_l("Debería tener %(count)s caracteres como máximo", count=max_length),
            error=_l(
                "La contraseña debe tener %(count)s caracteres como máximo.", count=max_length
            ),
        ),
        PasswordRule(
            code="forbidden_characters",
            pattern=f"[^{forbidden_class()}]*",
            whole=True,
            label=_l(
                "No debería tener los siguientes caracteres %(chars)s", chars=FORBIDDEN_CHARACTERS
            ),
            error=_l(
                "La contraseña no debe tener ninguno de estos caracteres: %(chars)s",
                chars=" ".join(FORBIDDEN_CHARACTERS),
            ),
        ),
    )


def configured_rules() -> tuple[PasswordRule, ...]:
    """The rules with the app's PASSWORD_MIN_LENGTH / PASSWORD_MAX_LENGTH."""
    from flask import current_app

    return password_rules(
        current_app.config["PASSWORD_MIN_LENGTH"], current_app.config["PASSWORD_MAX_LENGTH"]
    )


@dataclass(frozen=True)
class PasswordProblem:
    """Why a password was refused: a stable code and the Spanish message for the person."""

    code: str
    message: str


@dataclass(frozen=True)
class ChecklistItem:
    """A rule and whether a given password meets it (what the checklist shows)."""

    rule: PasswordRule
    is_met: bool


def checklist(password: str, rules: Sequence[PasswordRule]) -> list[ChecklistItem]:
    """Evaluate every rule, in order (the page's initial state uses the empty password)."""
    return [ChecklistItem(rule, rule.is_met(password)) for rule in rules]


def contains_dni(password: str, dni: str) -> bool:
    """True when the DNI's eight digits appear in the password, in order and together."""
    return bool(dni) and dni in normalize(password)


def check_password(
    password: str,
    *,
    rules: Sequence[PasswordRule] | None = None,
    dni: str | None = None,
    confirmation: str | None = None,
    extra_words: Iterable[str] = (),
) -> list[PasswordProblem]:
    """Every problem with ``password``, one per failed rule; empty when it is acceptable.

    ``confirmation`` is checked only when given; ``extra_words`` are more words that must not
    be the base of a "word + year" password (the configured brand, for instance).
    """
    rules = password_rules() if rules is None else rules
    problems = [
        PasswordProblem(rule.code, str(rule.error)) for rule in rules if not rule.is_met(password)
    ]
    if dni and contains_dni(password, dni):
        problems.append(
            PasswordProblem("contains_dni", str(_l("La contraseña no debe contener su DNI.")))
        )
    weakness = weakness_of(password, dni=dni, extra_words=extra_words)
    # A password holding the whole DNI already got the clearer message above.
    if weakness is not None and not (
        weakness is Weakness.DNI_DERIVED and contains_dni(password, dni or "")
    ):
        problems.append(PasswordProblem(weakness.value, str(WEAKNESS_MESSAGES[weakness])))
    if confirmation is not None and confirmation != password:
        problems.append(
            PasswordProblem(
                "confirmation_mismatch",
                str(_l("La confirmación no coincide con la contraseña. Escríbala otra vez.")),
            )
        )
    return problems


WEAKNESS_MESSAGES = {
    Weakness.COMMON: _l(
        "Esta contraseña es muy común: aparece en listas de contraseñas filtradas o fáciles de "
        "adivinar. Elija otra."
    ),
    Weakness.PATTERN: _l(
        "Esta contraseña sigue un patrón fácil de adivinar (una palabra conocida, un mes, una "
        "estación o un nombre seguido de un año o de números, como «Minedu2024»). Elija otra."
    ),
    Weakness.DNI_DERIVED: _l(
        "La contraseña se parece a su DNI (contiene varios de sus dígitos seguidos, en orden o "
        "al revés). Elija otra."
    ),
}
