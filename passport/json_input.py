"""JSON from outside (request bodies, parameters, key sets, CLI options), parsed by one rule.

Two inputs pass ``json.loads`` and still break a caller that catches ValueError: nesting
deeper than the interpreter's recursion limit (``[[[[...`` a few thousand times fits in any
body limit) raises RecursionError, and a ``\\u0000`` in a string reaches PostgreSQL, which
refuses NUL in text columns. Here both are ValueErrors, and the Flask provider gives
``request.get_json`` the same rule.
"""

from __future__ import annotations

import json
from typing import Any

from flask.json.provider import DefaultJSONProvider


def _refuse_nul(document: Any) -> None:
    """ValueError when any string or key of ``document`` holds NUL (iterative: no recursion)."""
    pending = [document]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise ValueError("JSON string holds a NUL character")
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def loads(data: str | bytes, **kwargs: Any) -> Any:
    """``json.loads``; ValueError for bad, non-UTF-8, too deeply nested or NUL-bearing input."""
    try:
        document = json.loads(data, **kwargs)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    _refuse_nul(document)
    return document


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON provider with :func:`loads`' rule (``app.json = JSONProvider(app)``)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s, **kwargs)
