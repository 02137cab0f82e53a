"""Figures: cost curve and decision boundary (matplotlib, Agg backend, atomic PNG)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .io import atomic_path  # noqa: E402
from .nn.model import num_classes, predict  # noqa: E402


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
    """Predicted class over a grid around the data (2D inputs only), data on top.
    With K > 2 classes (softmax) each region is the argmax class, one colour per class."""
    x_min, x_max = X[0].min() - 0.5, X[0].max() + 0.5
    y_min, y_max = X[1].min() - 0.5, X[1].max() + 0.5
    xx, yy = np.meshgrid(np.linspace(x_min, x_max, 300), np.linspace(y_min, y_max, 300))
    grid = np.vstack([xx.ravel(), yy.ravel()])
    zz = predict(grid, params).reshape(xx.shape)
    K = max(num_classes(params), int(Y.max(initial=0)) + 1)
    fig, ax = plt.subplots(figsize=(5, 4))
    if K == 2:
        ax.contourf(xx, yy, zz, cmap=plt.cm.Spectral, alpha=0.8)
        ax.scatter(X[0], X[1], c=Y.ravel(), cmap=plt.cm.Spectral, s=12, edgecolors="k", linewidths=0.3)
    else:
        # One contour band per class id (levels halfway between ids), points coloured on the same scale.
        ax.contourf(xx, yy, zz, levels=np.arange(K + 1) - 0.5, cmap=plt.cm.Spectral, alpha=0.8)
        ax.scatter(X[0], X[1], c=Y.ravel(), cmap=plt.cm.Spectral, vmin=-0.5, vmax=K - 0.5, s=12, edgecolors="k", linewidths=0.3)
    ax.set_title(title)
    fig.tight_layout()
    _save(fig, path)


def gradient_norms(norms: dict, path: str | Path, title: str = "Gradient norm per layer at initialisation") -> None:
    """One line per init scheme: ||dW_l|| against layer l, log scale (src/deep_demo.py).

    All-zero gradients (``zeros`` init) cannot sit on a log axis; they are named in the legend.
    """
    fig, ax = plt.subplots(figsize=(6, 4))
    for init, values in norms.items():
        values = np.asarray(values, dtype=float)
        layers = np.arange(1, len(values) + 1)
        positive = values > 0
        if positive.any():
            ax.plot(layers[positive], values[positive], marker="o", markersize=3, label=init)
        else:
            ax.plot([], [], label=f"{init} (all zero)")
    ax.set_yscale("log")
    ax.set_xlabel("layer l")
    ax.set_ylabel("||dW[l]||")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    _save(fig, path)


def confusion_matrix(counts: np.ndarray, path: str | Path, title: str = "") -> None:
    """Heat map of a (K, K) confusion matrix: rows true class, columns predicted, counts written in."""
    counts = np.asarray(counts)
    K = counts.shape[0]
    fig, ax = plt.subplots(figsize=(1.0 + 0.45 * K, 0.8 + 0.45 * K))
    ax.imshow(counts, cmap=plt.cm.Blues)
    for i in range(K):
        for j in range(K):
            if counts[i, j]:
                dark = counts[i, j] > counts.max() / 2
                ax.text(j, i, str(int(counts[i, j])), ha="center", va="center", fontsize=8, color="white" if dark else "black")
    ax.set_xticks(range(K))
    ax.set_yticks(range(K))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    fig.tight_layout()
    _save(fig, path)


def curves(series: dict[str, list[float]], path: str | Path, target: float | None = None, title: str = "",
           xlabel: str = "epoch", ylabel: str = "cost", logx: bool = False) -> None:
    """One line per named series (value per epoch, from epoch 1), an optional dashed target level."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, values in series.items():
        ax.plot(np.arange(1, len(values) + 1), values, label=label)
    if target is not None:
        ax.axhline(target, color="k", linestyle="--", linewidth=0.8, label=f"target {target:.4f}")
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, path)


def rate_outcomes(rates, series: dict[str, list[float]], path: str | Path, title: str = "", ylabel: str = "train accuracy") -> None:
    """A value against the learning rate (log axis, ticks at the rates), one line per series;
    NaN (diverged) is drawn as an x on the floor. Markers and dashes differ, so equal lines stay visible."""
    fig, ax = plt.subplots(figsize=(6, 4))
    styles = [dict(marker="s", markersize=9, linestyle="--", fillstyle="none"), dict(marker="o", markersize=5, linestyle="-")]
    rates = np.asarray(rates, dtype=float)
    for (label, values), style in zip(series.items(), styles * len(series)):
        values = np.asarray(values, dtype=float)
        line, = ax.plot(rates, values, label=label, **style)
        diverged = np.isnan(values)
        if diverged.any():
            ax.plot(rates[diverged], np.zeros(diverged.sum()), "x", color=line.get_color(), markersize=10,
                    label=f"{label}: diverged")
    ax.set_xscale("log")
    ax.set_xticks(rates)
    ax.set_xticklabels([f"{r:g}" for r in rates])
    ax.minorticks_off()
    ax.set_xlabel("learning rate")
    ax.set_ylabel(ylabel)
    ax.set_ylim(-0.05, 1.05)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, path)
