"""The project's own import graph, read from the source (no module is imported).

Every ``import``/``from ... import`` statement counts, wherever it is (inside a
function too: a lazy import is still a dependency), resolved to the project's
files under ``src/`` and ``hydra_plugins/``. Used by the architecture and DVC
dependency tests.
"""
from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("src", "hydra_plugins")


def module_file(module: str) -> Path | None:
    """src.nn.fit -> src/nn/fit.py (or the package's __init__.py); None outside the project."""
    if module.split(".")[0] not in PACKAGES:
        return None
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def imports(path: Path) -> frozenset[str]:
    """Every module name ``path`` imports (absolute; relative imports resolved)."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            found.add(prefix)
            # `from . import plots` imports a module; `from .x import name` may too
            found.update(f"{prefix}.{alias.name}" for alias in node.names)
    return frozenset(found)


def project_imports(path: Path, parents: bool = True) -> set[Path]:
    """The project files ``path`` imports directly; with ``parents``, also the packages'
    __init__.py that Python runs on the way (importing a.b.c runs a/ and a/b/ first)."""
    files = set()
    for name in imports(path):
        parts = name.split(".")
        if parents:
            candidates = [module_file(".".join(parts[:i])) for i in range(1, len(parts) + 1)]
        else:  # the module itself; for `from m import attribute`, m
            candidates = [module_file(name) or module_file(".".join(parts[:-1]))]
        files.update(file for file in candidates if file is not None and file != path)
    return files


def closure(path: Path) -> set[Path]:
    """``path`` and every project file it reaches, directly or not."""
    seen, todo = set(), [path]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo.extend(project_imports(current) - seen)
    return seen


def source_files() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))
