"""The two apps of the distribution never import each other; the shared runtime imports neither.

AYNI_SERVIDOR knows Passport only through HTTP (discovery, tokens), and Passport knows nothing
of its relying parties' code. Every import counts: module level, inside functions, relative
ones, and ``importlib.import_module``/``__import__`` with a literal name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import minedu_sso
import passport
import relying_party_demo

PACKAGES = {
    "passport": Path(passport.__file__).parent,
    "relying_party_demo": Path(relying_party_demo.__file__).parent,
    "minedu_sso": Path(minedu_sso.__file__).parent,
}
# Which top-level packages each package must never import.
FORBIDDEN = {
    "passport": {"relying_party_demo"},
    "relying_party_demo": {"passport"},
    "minedu_sso": {"passport", "relying_party_demo"},
}


def module_name(package: str, root: Path, path: Path) -> str:
    parts = [package, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """Every module name ``source`` imports, with its line (relative imports resolved)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.append((node.lineno, name))
        elif isinstance(node, ast.Call) and node.args:
            function = node.func
            called = function.attr if isinstance(function, ast.Attribute) else None
            called = function.id if isinstance(function, ast.Name) else called
            first = node.args[0]
            if called in ("import_module", "__import__") and isinstance(first, ast.Constant):
                found.append((node.lineno, str(first.value)))
    return found


def violations(package: str) -> list[str]:
    root = PACKAGES[package]
    problems = []
    for path in sorted(root.rglob("*.py")):
        module = module_name(package, root, path)
        source = path.read_text(encoding="utf-8")
        for line, name in imported_names(source, module, path.name == "__init__.py"):
            if name.split(".")[0] in FORBIDDEN[package]:
                problems.append(f"{path.relative_to(root.parent)}:{line} imports {name}")
    return problems


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_no_forbidden_package(package: str) -> None:
    assert violations(package) == []


def test_the_scan_sees_imports_inside_functions_and_relative_ones() -> None:
    source = (
        "import os\n"
        "def f():\n"
        "    from passport.logs import note\n"
        "    importlib.import_module('passport.oidc')\n"
        "from .. import views\n"
    )
    names = {name for _, name in imported_names(source, "relying_party_demo.auth.access", False)}
    assert names == {"os", "passport.logs", "passport.oidc", "relying_party_demo"}
