"""Random identifiers that people type into command lines."""

from __future__ import annotations

import re

from passport.oidc.tokens import new_identifier


def test_identifiers_are_letters_and_digits_only() -> None:
    # token_urlsafe may begin with "-" (a CLI option) one time in 64; 2,000 draws would
    # almost surely have shown one.
    values = {new_identifier() for _ in range(2000)}
    assert len(values) == 2000
    assert all(re.fullmatch(r"[A-Za-z0-9]{24}", value) for value in values)


def test_identifier_length_is_chosen_by_the_caller() -> None:
    assert len(new_identifier(16)) == 16
