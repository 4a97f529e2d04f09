"""Domain errors of Mi boleta and of the payroll import."""

from __future__ import annotations

from dataclasses import dataclass

from relying_party_demo.errors import AyniError


class InvalidFilter(AyniError):  # noqa: N818 - named after what happened (STYLE.md §6)
    """A query value of the Mi boleta filter is malformed (``field`` names it)."""

    def __init__(self, field: str) -> None:
        super().__init__(f"invalid {field}")
        self.field = field


@dataclass(frozen=True)
class RowProblem:
    """One bad row of an import file: where and why (Spanish, shown to the operator)."""

    line: int
    reason: str
    where: str = "línea"


class ImportRejected(AyniError):  # noqa: N818 - named after what happened (STYLE.md §6)
    """The file has bad rows; nothing was written."""

    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__(f"{len(problems)} bad row(s)")
        self.problems = problems


class InconsistentTotals(AyniError):  # noqa: N818 - named after what happened (STYLE.md §6)
    """A boleta's totals do not add up to its lines."""
