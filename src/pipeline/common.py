"""What the pipeline's stages share: params.yaml and the train matrix.

dvc.yaml crosses ``datasets`` x ``train.inits`` x lambd in {0, train.lambd} x
keep_prob in {1, train.keep_prob} and writes each run to
``models/<dataset>/<init>-l2_<lambd>-kp_<keep_prob>``; numbers are spelled as
DVC spells them (``str`` of the YAML value: 0.0, 0.7, 1.0, 0.86). ``variants``
mirrors that matrix for the stages that read its outputs; reading the list from
params.yaml, rather than globbing models/, keeps runs of an earlier params.yaml
that are still lying in the workspace out of the report.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import InputError

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
        for init in train["inits"]
        for lambd in (BASELINE_LAMBD, train["lambd"])
        for keep_prob in (BASELINE_KEEP_PROB, train["keep_prob"])
    ]


def settings(name: str, params_file: str | Path = "params.yaml") -> dict:
    """params.yaml ``studies.<name>``."""
    try:
        return load_params(params_file)["studies"][name]
    except (OSError, KeyError, TypeError) as error:
        raise InputError(f"params.yaml: no studies.{name} section ({error})") from None
