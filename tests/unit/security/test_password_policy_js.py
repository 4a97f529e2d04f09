"""The page's script applies the Python rules exactly as the server does (run under Node)."""

from __future__ import annotations

import json
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest

import passport
from passport.security.password_policy import FORBIDDEN_CHARACTERS
from passport.security.password_policy import password_rules

SCRIPT = Path(passport.__file__).parent / "static" / "js" / "password-policy.js"

SAMPLES = [
    "",
    "a",
    "Kusi8Wayra",
    "kusi8wayra",
    "KUSI8WAYRA",
    "KusiOWayra",
    "Kq7xwzp",  # 7
    "Kq7xwzpr",  # 8
    "Kq7xwzprtvbnmlk",  # 15
    "Kq7xwzprtvbnmlkj",  # 16
    "KUSI8ñWAYRA",
    "kusi8Ñwayra",
    unicodedata.normalize("NFD", "KUSI8ñWAYRA"),
    unicodedata.normalize("NFD", "Kusi8Wayraáéíóú"),  # 15 characters, 20 code points in NFD
    "KUSI8ÇWAYRA",
    "kusi8çwàyra",
    "KusiWayra٣",
    "KusiWayra３",
    "Kusi8Wayra😀abcd",
    "Kusi8Wayra😀abcde",
    "Kusi8 Wayra",
    "Kusi8\nWayra",
    "ÁÉÍÓÚÜáéíóúü123",
    *[f"Kusi8W{char}yra" for char in FORBIDDEN_CHARACTERS],
    *[f"Kusi8W{char}yra" for char in "-_@!¡¿=,;:()[]{}~^'\"`"],
]

HARNESS = """
const policy = require(process.argv[2]);
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = input.samples.map((s) => policy.evaluate(input.rules, s).map((r) => r.met));
process.stdout.write(JSON.stringify(out));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
@pytest.mark.parametrize(("min_length", "max_length"), [(8, 15), (10, 12)])
def test_script_and_server_agree_on_every_sample(
    tmp_path: Path, min_length: int, max_length: int
) -> None:
    rules = password_rules(min_length, max_length)
    payload = {
        "rules": [{"code": r.code, "pattern": r.pattern, "whole": r.whole} for r in rules],
        "samples": SAMPLES,
    }
    harness = tmp_path / "harness.js"
    harness.write_text(HARNESS, encoding="utf-8")
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [str(shutil.which("node")), str(harness), str(SCRIPT)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    from_script = json.loads(result.stdout)
    from_python = [[rule.is_met(sample) for rule in rules] for sample in SAMPLES]
    assert from_script == from_python
    # The samples do exercise both outcomes of every rule.
    for index in range(len(rules)):
        assert {row[index] for row in from_python} == {True, False}


def test_the_script_defines_no_rule_of_its_own() -> None:
    source = SCRIPT.read_text(encoding="utf-8")
    assert "data-pattern" in source
    for literal in ("a-z", "A-Z", "0-9", "{8", "15}", "+/."):
        assert literal not in source
