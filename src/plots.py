"""Figures: cost curve and decision boundary (matplotlib, Agg backend, atomic PNG)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .io import atomic_path  # noqa: E402
from .nn.model import predict  # noqa: E402


def _save(fig, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        # No timestamp in the PNG metadata, so reruns produce identical bytes.
        fig.savefig(tmp, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)


def cost_curve(steps, costs, path: str | Path, title: str = "") -> None:
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(steps, costs)
    ax.set_xlabel("iteration")
    ax.set_ylabel("cost")
    ax.set_title(title)
    fig.tight_layout()
    _save(fig, path)


def decision_boundary(params, X: np.ndarray, Y: np.ndarray, path: str | Path, title: str = "") -> None:
    """Predicted class over a grid around the data (2D inputs only), data on top."""
    x_min, x_max = X[0].min() - 0.5, X[0].max() + 0.5
    y_min, y_max = X[1].min() - 0.5, X[1].max() + 0.5
    xx, yy = np.meshgrid(np.linspace(x_min, x_max, 300), np.linspace(y_min, y_max, 300))
    grid = np.vstack([xx.ravel(), yy.ravel()])
    zz = predict(grid, params).reshape(xx.shape)
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.contourf(xx, yy, zz, cmap=plt.cm.Spectral, alpha=0.8)
    ax.scatter(X[0], X[1], c=Y.ravel(), cmap=plt.cm.Spectral, s=12, edgecolors="k", linewidths=0.3)
    ax.set_title(title)
    fig.tight_layout()
    _save(fig, path)
