"""Every event the code records has a name for the console."""

from __future__ import annotations

import ast
from pathlib import Path

import passport
from passport.audit.labels import EVENT_LABELS

PACKAGE = Path(passport.__file__).parent


def _strings(node: ast.expr) -> list[str]:
    """String constants an event argument can take (``"a" if x else "b"`` gives both)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    return []


def recorded_events() -> dict[str, str]:
    """Event codes passed to record_event, Actor().record, _audit and friends, with a file."""
    found: dict[str, str] = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if "record" not in name and "audit" not in name:
                continue
            arguments = [*node.args[:1], *(k.value for k in node.keywords if k.arg == "event")]
            for argument in arguments:
                for code in _strings(argument):
                    found.setdefault(code, str(path.relative_to(PACKAGE)))
    return found


def test_every_recorded_event_has_a_label() -> None:
    events = recorded_events()
    # The scan must see the log's everyday events, or it proves nothing.
    assert {"login_failed", "user.disabled", "client.created", "password.set"} <= events.keys()
    missing = {code: where for code, where in events.items() if code not in EVENT_LABELS}
    assert not missing, f"give these audit events a label in passport/audit/labels.py: {missing}"


def test_no_label_without_an_event() -> None:
    stale = EVENT_LABELS.keys() - recorded_events().keys()
    assert not stale, f"labels for events nothing records: {sorted(stale)}"
