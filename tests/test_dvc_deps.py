"""Every DVC stage lists every project module its command runs, so a change to any of
them re-runs the stage (a folder dep covers its files; conf/ wherever the run config is
composed). The modules a command reaches are read from the source, lazy imports too."""
from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from tests.project_imports import ROOT, closure, module_file


def stages():
    from dvc.repo import Repo

    with Repo(str(ROOT)) as repo:
        return [(stage.addressing, stage.cmd, [str(dep.def_path) for dep in stage.deps]) for stage in repo.index.stages]


STAGES = stages()


def entry_module(cmd: str) -> str:
    words = shlex.split(cmd)
    assert words[:2] == ["python", "-m"], f"a stage runs `python -m MODULE ...`: {cmd}"
    return words[2]


def covered(path: Path, deps: list[str]) -> bool:
    relative = path.relative_to(ROOT)
    return any(relative == Path(dep) or Path(dep) in relative.parents for dep in deps)


@pytest.mark.parametrize("name, cmd, deps", STAGES, ids=[name for name, _, _ in STAGES])
def test_stage_lists_every_module_it_runs(name, cmd, deps):
    module = entry_module(cmd)
    entry = module_file(module)
    assert entry is not None, f"{name}: {module} is not a project module"
    reached = closure(entry)
    missing = sorted(str(path.relative_to(ROOT)) for path in reached if not covered(path, deps))
    assert not missing, f"stage {name} runs {module} but dvc.yaml does not list: {', '.join(missing)}"
    if ROOT / "src" / "config.py" in reached:  # it composes the Hydra config
        assert "conf" in deps, f"stage {name} composes conf/ but does not depend on it"


def test_every_stage_module_is_named_after_its_stage():
    """src/pipeline/<stage>.py, or the train CLI for the stages that are runs of it."""
    for name, cmd, _ in STAGES:
        stage = name.split("@")[0]
        module = entry_module(cmd)
        assert module in (f"src.pipeline.{stage}", "src.train"), (name, module)
    modules = {p.stem for p in (ROOT / "src" / "pipeline").glob("*.py")} - {"__init__", "common", "parallel", "report_studies", "tables"}
    assert modules <= {name.split("@")[0] for name, _, _ in STAGES}, "a stage module no stage runs"
