"""What the pipeline's stages share: params.yaml, the train matrix, the studies' settings.

dvc.yaml's ``train`` stage sweeps, per dataset of ``datasets``, ``train.inits`` x
lambd in {0.0, train.lambd} x keep_prob in {1.0, train.keep_prob} and writes each run
to ``models/<dataset>/<init>-l2_<lambd>-kp_<keep_prob>``, the numbers as Hydra
prints the floats (0.0, 0.7, 1.0, 0.86). ``variants`` mirrors that matrix for the
stages that read its outputs; reading it from params.yaml, rather than globbing
models/, keeps runs of an earlier params.yaml that still lie in the workspace out
of the report.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from .. import PROJECT_ROOT
from ..errors import InputError

STUDIES = PROJECT_ROOT / "conf" / "studies.yaml"

BASELINE_LAMBD = 0.0  # the matrix's "off" values, as written in dvc.yaml
BASELINE_KEEP_PROB = 1.0


@dataclass(frozen=True)
class Variant:
    dataset: str
    init: str
    lambd: float
    keep_prob: float

    @property
    def name(self) -> str:
        return f"{self.init}-l2_{self.lambd}-kp_{self.keep_prob}"

    @property
    def regularisation(self) -> str:
        l2, dropout = self.lambd != 0, self.keep_prob != 1
        return {(False, False): "baseline", (True, False): "L2", (False, True): "dropout", (True, True): "L2+dropout"}[(l2, dropout)]

    def directory(self, models: str | Path = "models") -> Path:
        return Path(models) / self.dataset / self.name


def load_params(path: str | Path = "params.yaml") -> dict:
    with open(path) as f:
        return yaml.safe_load(f)


def variants(params: dict, dataset: str | None = None) -> list[Variant]:
    """Every (dataset, init, lambd, keep_prob) of the matrix, in dvc.yaml's order."""
    train = params["train"]
    datasets = [dataset] if dataset is not None else params["datasets"]
    return [
        Variant(ds, init, lambd, keep_prob)
        for ds in datasets
        for init in str(train["inits"]).split(",")  # a Hydra sweep list
        for lambd in (BASELINE_LAMBD, train["lambd"])
        for keep_prob in (BASELINE_KEEP_PROB, train["keep_prob"])
    ]


def settings(name: str, path: str | Path = STUDIES) -> dict:
    """A study's settings: conf/studies.yaml ``<name>``."""
    try:
        return yaml.safe_load(Path(path).read_text())[name]
    except (OSError, KeyError, TypeError) as error:
        raise InputError(f"{path}: no {name} section ({error})") from None


def group_options(group: str) -> list[str]:
    """The options of a conf/ group, in the order a Hydra ``glob(*)`` sweep runs them."""
    return sorted(path.stem for path in (PROJECT_ROOT / "conf" / group).glob("*.yaml"))
