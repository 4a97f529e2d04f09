"""Commands run while the database is down end with one line, not a traceback (CONTRACT.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.operations.conftest import DEAD_POSTGRES_URL


@pytest.mark.parametrize("command", [["clients", "list"], ["db", "upgrade"]])
def test_a_command_says_in_one_line_that_the_database_does_not_answer(
    command: list[str], tmp_path: Path
) -> None:
    env = {**os.environ, "PASSPORT_DATABASE_URL": DEAD_POSTGRES_URL}
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-m", "passport", *command],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("passport: the database does not answer (OperationalError:")
    assert "[SQL:" not in result.stderr
