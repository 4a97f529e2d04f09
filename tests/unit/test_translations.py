"""The English catalogue covers every message of Passport's pages, mails and errors."""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "passport" / "translations" / "en" / "LC_MESSAGES"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def message_id(message: str | tuple[str, ...]) -> str:
    return message if isinstance(message, str) else message[0]


def translation(string: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Singular and plural forms alike (the .mo reader gives lists, the .po reader tuples)."""
    return (string,) if isinstance(string, str) else tuple(string)


def extracted() -> set[str]:
    """What ``pybabel extract -F babel.cfg`` finds in the sources today."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True
    )
    return {message_id(message) for _file, _line, message, _comments, _context in found}


def test_every_message_in_the_sources_is_in_the_catalogue() -> None:
    messages = extracted()
    # Pages, mail bodies (.txt) and Python messages are all scanned.
    assert {"Iniciar sesión >>", "Usuario deshabilitado"} <= messages
    with open(CATALOGUE / "messages.po", "rb") as po:
        catalogue = read_po(po)
    missing = sorted(m for m in messages if m and m not in catalogue)
    assert not missing, f"run the README's translation commands; missing: {missing[:10]}"


def test_every_entry_is_translated_and_none_is_fuzzy() -> None:
    with open(CATALOGUE / "messages.po", "rb") as po:
        catalogue = read_po(po)
    pending = [m.id for m in catalogue if m.id and (m.fuzzy or not m.string)]
    assert len(catalogue) > 500
    assert not pending, pending[:10]


def test_the_compiled_catalogue_matches_the_source() -> None:
    with open(CATALOGUE / "messages.po", "rb") as po:
        source = read_po(po)
    compiled = read_mo(io.BytesIO((CATALOGUE / "messages.mo").read_bytes()))
    expected = {message_id(m.id): translation(m.string) for m in source if m.id}
    actual = {message_id(m.id): translation(m.string) for m in compiled if m.id}
    assert actual == expected, "run pybabel compile -d passport/translations"
