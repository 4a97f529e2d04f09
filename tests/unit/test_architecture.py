"""The dependency direction between Passport's packages (README, "What is inside").

Every import in ``passport/`` is read with ``ast``, at module level and inside functions
alike (TYPE_CHECKING blocks too): a package may import only packages of lower layers (plus
the few same-layer pairs named below), so no cycle can form; a cycle is checked for anyway.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import passport

ROOT = Path(passport.__file__).parent
REPO = ROOT.parent

# Top to bottom, as drawn in the README. "passport" is the package's __init__ (create_app).
LAYERS: list[tuple[str, frozenset[str]]] = [
    ("app", frozenset({"passport", "__main__", "cli", "models"})),
    ("housekeeping", frozenset({"maintenance"})),
    ("interfaces", frozenset({"admin", "api", "selfservice", "operations"})),
    ("protocol", frozenset({"oidc"})),
    ("passkeys", frozenset({"passkeys"})),
    ("sign-in", frozenset({"login"})),
    ("second factor", frozenset({"mfa"})),
    ("domain", frozenset({"accounts"})),
    ("records", frozenset({"audit", "captcha", "mail"})),
    ("web plumbing", frozenset({"errors", "pipeline", "serving"})),
    ("infrastructure", frozenset({"security", "signals", "outbox"})),
    ("base", frozenset({"extensions", "database", "logs", "json_input", "caches", "twins"})),
]
# Imports inside one layer that are allowed (importer, imported).
WITHIN_LAYER = frozenset({("extensions", "database"), ("cli", "passport"), ("__main__", "cli")})
# Names of the package root that are constants, not the app factory's imports.
ROOT_CONSTANTS = frozenset({"__version__"})
RANK = {name: index for index, (_, names) in enumerate(LAYERS) for name in names}


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path) -> Iterator[tuple[str, int]]:
    """Every module ``path`` imports, with its line (relative imports resolved)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if node.module is None or target == "passport":  # `from passport import x`
                for alias in node.names:
                    if not (target == "passport" and alias.name in ROOT_CONSTANTS):
                        yield f"{target}.{alias.name}", node.lineno
            else:
                yield target, node.lineno


def _unit(module: str) -> str | None:
    """The package (or top-level module) of ``passport`` that ``module`` belongs to."""
    parts = module.split(".")
    if parts[0] != "passport":
        return None
    if len(parts) == 1:
        return "passport"
    # `from passport import __version__` names an attribute of the package, not a module.
    is_module = (ROOT / parts[1]).is_dir() or (ROOT / f"{parts[1]}.py").is_file()
    return parts[1] if is_module else "passport"


def _edges(root: Path) -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(root.rglob("*.py")):
        source = _unit(_module_name(path))
        for target, line in _imported(path):
            unit = _unit(target)
            if source is not None and unit is not None and unit != source:
                found[(source, unit)].append(f"{path.relative_to(REPO)}:{line}")
    return found


def test_every_package_has_a_layer() -> None:
    units = {_unit(_module_name(path)) for path in ROOT.rglob("*.py")}
    assert units - RANK.keys() == set(), "place the new package in LAYERS and the README"


def test_imports_follow_the_layers() -> None:
    edges = _edges(ROOT)
    # The scan must see the everyday imports, or it proves nothing.
    assert ("oidc", "login") in edges
    assert ("admin", "accounts") in edges
    forbidden = {
        f"{source} -> {target}": where
        for (source, target), where in edges.items()
        if RANK[target] < RANK[source]
        or (RANK[target] == RANK[source] and (source, target) not in WITHIN_LAYER)
    }
    assert not forbidden, f"imports against the layers (README, What is inside): {forbidden}"


def test_no_cycle_between_packages() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for source, target in _edges(ROOT):
        graph[source].add(target)

    def reaches(start: str, goal: str) -> bool:
        seen, stack = set(), [start]
        while stack:
            node = stack.pop()
            if node == goal:
                return True
            if node not in seen:
                seen.add(node)
                stack.extend(graph.get(node, ()))
        return False

    cycles = sorted(
        f"{source} <-> {target}"
        for source, targets in graph.items()
        for target in targets
        if reaches(target, source)
    )
    assert not cycles


def test_the_readme_draws_the_same_layers() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    lines = [line for line in readme.splitlines() if line.lstrip().startswith("|")]
    for title, names in LAYERS:
        drawn = [line for line in lines if f" {title} " in line]
        assert drawn, f"README's layer picture lacks the {title!r} layer"
        shown = names & set(re.findall(r"[a-z_]+", drawn[0]))
        assert shown == set(names), f"README's {title!r} layer should list {sorted(names)}"
