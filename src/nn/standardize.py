"""Input standardisation, x' = (x - mu) / sigma per feature (row): the formula.

The statistics are the training split's (src/data/standardize.py fits them and
transforms every split); the logged model applies the same formula to the
examples it is given (src/tracking/model.py), so it takes them as the dataset does.
"""
from __future__ import annotations

import numpy as np


def standardize(X: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """``X`` (n_x, m) with each row shifted by ``mean`` and scaled by ``std`` ((n_x, 1) each)."""
    return (X - mean) / std
