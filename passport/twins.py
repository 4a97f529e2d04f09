"""Core twins of ORM models: frozen dataclasses read with one Core statement on hot paths.

A twin names the columns it needs by its field names; ``columns`` takes them from the ORM
table, so a renamed or dropped column fails at import and tests/unit/test_twin_models.py
fails when a twin's field type drifts from the column's. Rules (``is_active``, ``name``,
``is_public``) are the ORM model's own functions, called by both.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy import Table


def columns(twin: Any, table: Table, **renamed: ColumnElement[Any]) -> list[ColumnElement[Any]]:
    """The columns of ``table`` named by the twin's fields, in field order.

    ``renamed``: a field read from another column (labelled with the field's name).
    """
    return [
        renamed[name].label(name) if name in renamed else table.c[name]
        for name in twin.__dataclass_fields__
    ]
