"""Text a spreadsheet shows rather than runs (OWASP "CSV injection"), for every AYNI export.

A cell whose text starts with ``= + - @`` or a control character is run as a formula by
Excel and LibreOffice (``=HYPERLINK(...)`` from an imported boleta field, say): such text is
prefixed with a single quote. AYNI is a relying party deployed apart from Passport and imports
nothing from it, so it keeps its own copy of the rule Passport's audit export applies
(``passport.audit.queries.safe_cell``); keep the two in step.
"""

from __future__ import annotations

import re
import unicodedata

FORMULA_PREFIXES = ("=", "+", "-", "@")
# Control characters XML 1.0 (and so .xlsx) cannot hold at all; openpyxl refuses them.
XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def starts_like_a_formula(text: str) -> bool:
    """Whether a spreadsheet could run ``text`` (a formula sign or a control character first)."""
    return bool(text) and (
        text.startswith(FORMULA_PREFIXES) or unicodedata.category(text[0]) == "Cc"
    )


def neutralise(text: str) -> str:
    """``text`` as a spreadsheet must show it: quoted when it could run, and with the control
    characters an .xlsx cannot store replaced by U+FFFD (openpyxl would refuse the file)."""
    quoted = "'" + text if starts_like_a_formula(text) else text
    return XML_ILLEGAL.sub("\ufffd", quoted)
