"""What the studies share: composing a config like the CLI does, and their settings."""
from __future__ import annotations

from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from ..errors import InputError
from ..stages.variants import load_params

CONF_DIR = Path(__file__).resolve().parents[2] / "conf"


def config(overrides: list[str]) -> DictConfig:
    """conf/config.yaml with ``overrides``, exactly as ``python -m src.train OVERRIDES`` sees it
    (tracking off: a study's runs are many small fits, summarised in one record)."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose("config", overrides=["tracking=false", *overrides])


def settings(name: str, params_file: str | Path = "params.yaml") -> dict:
    """params.yaml ``studies.<name>``."""
    try:
        return load_params(params_file)["studies"][name]
    except (OSError, KeyError, TypeError) as error:
        raise InputError(f"params.yaml: no studies.{name} section ({error})") from None
