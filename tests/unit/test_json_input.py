"""JSON from outside: every way it can be bad is a ValueError."""

from __future__ import annotations

import pytest
from flask import Flask

from passport import json_input


def test_ordinary_json_is_parsed() -> None:
    assert json_input.loads('{"a": [1, "ñ", {"b": null}]}') == {"a": [1, "ñ", {"b": None}]}


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,  # deeper than the recursion limit
        '{"a": ',
        b"\xff\xfe\x00",
        '{"name": "Rosa\\u0000"}',
        '{"\\u0000": 1}',
        '[["x", ["\\u0000"]]]',
    ],
)
def test_bad_json_is_a_value_error(text: str | bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - any ValueError is the contract
        json_input.loads(text)


def test_the_flask_provider_follows_the_same_rule() -> None:
    provider = json_input.JSONProvider(Flask(__name__))
    assert provider.loads('{"a": 1}') == {"a": 1}
    for text in ("[" * 100_000, '"\\u0000"'):
        with pytest.raises(ValueError):  # noqa: PT011 - any ValueError is the contract
            provider.loads(text)
