"""The README documents every setting: each environment variable a deployment can set."""

from __future__ import annotations

from pathlib import Path
from typing import get_type_hints

import pytest

from minedu_sso.settings import ALIASES
from minedu_sso.settings import BaseConfig
from minedu_sso.settings.ayni import AYNI_ALIASES
from minedu_sso.settings.ayni import AyniConfig

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def environment_names(settings: type, prefix: str, aliases: dict[str, str]) -> list[str]:
    return [aliases.get(name, prefix + name) for name in get_type_hints(settings) if name.isupper()]


@pytest.mark.parametrize(
    "name",
    [
        *environment_names(BaseConfig, "PASSPORT_", ALIASES),
        *environment_names(AyniConfig, "AYNI_", AYNI_ALIASES),
    ],
)
def test_every_setting_has_a_row_in_the_readme(name: str) -> None:
    assert f"| `{name}` |" in README
