"""Chapter 3's figures: softmax overflow, weight distributions, decision regions of a small
network on a 2-D toy problem (generated here with numpy, no data set needed).

Each function draws one small labelled figure with matplotlib and returns the ``Figure``.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np


def toy_spirals(n_per_class: int = 100, classes: int = 3, noise: float = 0.2, seed: int = 0):
    """Interleaved 2-D spirals: ``X`` (N, 2) float32 and ``y`` (N,) int64 class labels.

    Not linearly separable, so a network needs its hidden layer to classify them.
    See chapter 3.
    """
    rng = np.random.default_rng(seed)
    X, y = [], []
    for c in range(classes):
        r = np.linspace(0.1, 1.0, n_per_class)
        theta = np.linspace(0, 4, n_per_class) + c * 2 * math.pi / classes
        theta = theta + rng.normal(0, noise, n_per_class)
        X.append(np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1))
        y.append(np.full(n_per_class, c))
    return np.concatenate(X).astype(np.float32), np.concatenate(y).astype(np.int64)


def plot_softmax_overflow(scales=None):
    """Naive $e^{x_i}/\\sum_j e^{x_j}$ in float32 against the max-shifted softmax, for logits
    $s\\cdot(1, 0, -1)$ as the scale $s$ grows: the naive one turns into nan once $e^{s}$
    overflows (s > 88.7), and its cross-entropy into inf even earlier. See chapter 3.
    """
    from .. import tensor

    scales = np.logspace(0, 3, 61) if scales is None else np.asarray(scales)
    base = np.array([1.0, 0.0, -1.0], dtype=np.float32)
    naive_p, stable_p, naive_ce, stable_ce = [], [], [], []
    for s in scales:
        x = (base * np.float32(s)).astype(np.float32)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            e = np.exp(x)
            p = e / e.sum()
            naive_p.append(p[0])
            naive_ce.append(-np.log(p[2]))  # the loss if the true class is the last one
        t = tensor(x)
        stable_p.append(t.softmax(0)[0].item())
        stable_ce.append(-t.log_softmax(0)[2].item())
    naive_p, naive_ce = np.array(naive_p), np.array(naive_ce)

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.4))
    ax1.plot(scales, stable_p, lw=3, alpha=0.5, label="stable (shift by max)")
    ok = np.isfinite(naive_p)
    ax1.plot(scales[ok], naive_p[ok], "k--", label="naive")
    ax1.plot(scales[~ok], np.full((~ok).sum(), 1.0), "rx", label="naive = nan")
    ax1.set(
        xscale="log",
        xlabel="logit scale s",
        ylabel="softmax probability of class 0",
        title="softmax of s·(1, 0, −1), float32",
    )
    ax1.legend(loc="lower right", fontsize=8)
    ax2.plot(scales, stable_ce, lw=3, alpha=0.5, label="log_softmax (log-sum-exp)")
    ok = np.isfinite(naive_ce)
    ax2.plot(scales[ok], naive_ce[ok], "k--", label="−log(softmax)")
    top = max(stable_ce) * 1.05
    ax2.plot(scales[~ok], np.full((~ok).sum(), top), "rx", label="naive = inf or nan")
    ax2.set(
        xscale="log",
        yscale="log",
        xlabel="logit scale s",
        ylabel="cross-entropy (class 2)",
        title="the loss: −log p₂ should be 2s",
    )
    ax2.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def plot_weight_histograms(weights: dict, bound: float | None = None):
    """Histograms of named weight arrays (Tensors or arrays), side by side on one shared
    x-axis (so the spreads can be compared at a glance), with the initialisation bound
    $\\pm 1/\\sqrt{n_{in}}$ drawn if given. See chapter 3."""
    arrays = {
        name: np.asarray(w._data if hasattr(w, "_data") else w).ravel()
        for name, w in weights.items()
    }
    lo = min(a.min() for a in arrays.values())
    hi = max(a.max() for a in arrays.values())
    bins = np.linspace(lo, hi, 61)  # the same bins in every panel
    fig, axes = plt.subplots(
        1, len(arrays), figsize=(4.2 * len(arrays), 3.2), squeeze=False, sharex=True
    )
    for ax, (name, a) in zip(axes[0], arrays.items(), strict=True):
        ax.hist(a, bins=bins, color="tab:blue", alpha=0.8)
        if bound is not None:
            for b in (-bound, bound):
                ax.axvline(b, color="tab:red", ls="--", lw=1)
        ax.set(title=name, xlabel="weight value", ylabel="count")
    fig.tight_layout()
    return fig


def plot_decision_regions(models: dict, X: np.ndarray, y: np.ndarray, resolution: int = 150):
    """Each model's predicted class over the plane (the argmax of its logits), with the data
    points on top: one panel per named model. Models are aigc_course or torch Modules.
    See chapter 3."""
    from .. import no_grad, tensor

    pad = 0.2
    xs = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, resolution)
    ys = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, resolution)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
    fig, axes = plt.subplots(1, len(models), figsize=(3.6 * len(models), 3.4), squeeze=False)
    for ax, (name, model) in zip(axes[0], models.items(), strict=True):
        with no_grad():
            logits = model(tensor(grid))
        pred = logits.argmax(1).numpy().reshape(gx.shape)
        colors = [plt.get_cmap("tab10")(c) for c in range(int(max(pred.max(), y.max())) + 1)]
        ax.contourf(
            gx, gy, pred, levels=np.arange(len(colors) + 1) - 0.5, colors=colors, alpha=0.25
        )
        ax.scatter(X[:, 0], X[:, 1], c=[colors[c] for c in y], s=8, edgecolors="none")
        ax.set(title=name, xlabel="$x_1$", ylabel="$x_2$", aspect="equal")
    fig.tight_layout()
    return fig
