"""Typed parsing of settings from environment variables, shared by Passport and AYNI."""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Any


class ConfigError(Exception):
    """A setting is missing, malformed or unsafe for the chosen environment."""


TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


def parse_value(name: str, raw: str, annotation: Any) -> Any:
    """Parse ``raw`` as the annotated type (str, int, bool, tuple[str, ...], or X | None)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if raw.strip() == "":
            return None
        return parse_value(name, raw, args[0])
    if annotation is bool:
        word = raw.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ConfigError(f"{name} must be true or false, not {raw!r}")
    if annotation is int:
        try:
            return int(raw.strip())
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if origin is tuple:
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw


def settings_from_env(
    base: type,
    hints: Mapping[str, Any],
    environ: Mapping[str, str],
    prefix: str,
    aliases: Mapping[str, str],
) -> dict[str, Any]:
    """Collect the upper-case attributes of ``base``, each overridden by its variable."""
    settings: dict[str, Any] = {}
    for key in dir(base):
        if not key.isupper():
            continue
        value = getattr(base, key)
        variable = aliases.get(key, prefix + key)
        if variable in environ:
            value = parse_value(variable, environ[variable], hints.get(key, str))
        settings[key] = value
    return settings


def environment_name(environ: Mapping[str, str], variable: str, choices: Mapping[str, Any]) -> str:
    """The environment ``variable`` names (default ``development``), one of ``choices``.

    ``testing`` is refused by name: its settings (a known secret key, a fixed or switched-off
    CAPTCHA, fixed client credentials) exist only for the test suite, which builds its apps
    from its own settings class, never from this variable.
    """
    name = environ.get(variable, "development").strip().lower()
    if name == "testing":
        raise ConfigError(
            f"{variable}=testing is only for the test suite (its secret key and test settings "
            "are public); use development or production"
        )
    if name not in choices:
        raise ConfigError(f"{variable} must be one of {', '.join(choices)}, not {name!r}")
    return name
