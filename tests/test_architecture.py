"""The architecture README.md describes: which part may import which, no import
circles, and a network core that imports nothing but numpy (and numba for its
compiled kernel). Read from the source: lazy imports inside functions count."""
from __future__ import annotations

import pytest

from tests.project_imports import ROOT, closure, imports, module_name, project_imports, source_files

# module prefix -> part (the longest matching prefix wins)
PARTS = {
    "src.nn": "core",
    "src.data": "data",
    "src": "base",  # src/__init__.py: the project root
    "src.errors": "base",
    "src.io": "base",
    "src.randomness": "base",
    "src.diagnosis": "base",
    "src.aggregate": "base",
    "src.forked": "base",
    "src.heavy_imports": "base",
    "src.config": "config",
    "src.recipe": "recipe",
    "src.plots": "outputs",
    "src.artifacts": "outputs",
    "src.figures": "outputs",
    "src.tracking": "tracking",
    "src.tracking.model": "served",  # the MLflow model: MLflow loads this file alone
    "src.tracking.relog": "cli",
    "src.workers": "entry",
    "src.cli": "entry",
    "src.launcher": "entry",
    "hydra_plugins": "entry",
    "src.train": "cli",
    "src.gradcheck": "cli",
    "src.compare": "cli",
    "src.search": "cli",
    "src.pipeline": "pipeline",
}
# part -> the parts it may import (its own included); nothing imports upwards
MAY_IMPORT = {
    "core": {"core"},
    "base": {"base"},
    "data": {"data", "core", "base"},  # the core's input standardisation formula
    "config": {"config", "core", "data", "base"},
    "recipe": {"recipe", "config", "core", "data", "base"},
    "outputs": {"outputs", "core", "base"},
    "tracking": {"tracking", "outputs", "base"},
    "served": {"core"},
    "entry": {"entry", "core", "base"},
    "cli": {"cli", "entry", "tracking", "outputs", "recipe", "config", "core", "data", "base"},
    "pipeline": {"pipeline", "cli", "entry", "tracking", "outputs", "recipe", "config", "core", "data", "base"},
}
# part -> third-party packages it must not import
FORBIDDEN = {
    "core": {"hydra", "omegaconf", "mlflow", "matplotlib", "sklearn", "scipy", "pandas", "yaml", "threadpoolctl"},
    "data": {"hydra", "omegaconf", "mlflow", "matplotlib"},
    "base": {"hydra", "omegaconf", "mlflow", "matplotlib"},
    "config": {"mlflow", "matplotlib"},
    "recipe": {"mlflow", "matplotlib", "hydra"},
    "outputs": {"mlflow", "hydra"},
    "tracking": {"matplotlib", "sklearn"},
    "served": {"hydra", "omegaconf", "matplotlib", "sklearn", "pandas"},
}


def part(module: str) -> str:
    matches = [prefix for prefix in PARTS if module == prefix or module.startswith(prefix + ".")]
    return PARTS[max(matches, key=len)]


MODULES = {module_name(path): path for path in source_files()}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_each_module_imports_only_from_the_parts_below_it(module):
    mine = part(module)
    wrong = sorted(
        f"{module_name(path)} ({part(module_name(path))})"
        for path in project_imports(MODULES[module], parents=False)
        if part(module_name(path)) not in MAY_IMPORT[mine]
    )
    assert not wrong, f"{module} ({mine}) imports {', '.join(wrong)}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_forbidden_library_in_a_part(module):
    banned = FORBIDDEN.get(part(module), set())
    used = sorted({name.split(".")[0] for name in imports(MODULES[module])} & banned)
    assert not used, f"{module} ({part(module)}) imports {', '.join(used)}"


def test_the_network_core_imports_numpy_and_itself_only():
    for module, path in MODULES.items():
        if part(module) == "core":
            outside = {name.split(".")[0] for name in imports(path)} - {"__future__", "numpy", "numba", "math", "dataclasses", "typing", "src"}
            assert not outside, (module, outside)
            assert all(part(module_name(p)) == "core" for p in project_imports(path, parents=False)), module


def test_no_import_circles():
    graph = {path: project_imports(path) for path in MODULES.values()}
    for path in graph:
        # a circle through `path`: something it reaches reaches it back
        back = [other for other in graph[path] if path in closure(other)]
        assert not back, f"{path.relative_to(ROOT)} <-> {[str(p.relative_to(ROOT)) for p in back]}"


def test_every_module_has_a_part_and_the_table_is_closed():
    assert set(MAY_IMPORT) == set(PARTS.values())
    for module in MODULES:
        assert part(module) in MAY_IMPORT
