"""Chapter 1's figures: memory layout and strides, broadcasting, boolean-mask indexing.

Each function draws one small labelled figure with matplotlib and returns the ``Figure``, so
a notebook cell can end with ``plt.show()`` and a test can inspect what was drawn.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from .._tensor import broadcast_shapes

_CMAP = "viridis"


def _cell_color(k: int, n: int):
    """The colour of memory offset ``k`` of ``n``: the same element has the same colour in
    every panel, so the eye can follow it from the grid to the memory strip."""
    return plt.get_cmap(_CMAP)(0.15 + 0.7 * k / max(n - 1, 1))


def _draw_grid(ax, values, colors, title, hatched=None, text_color="white"):
    """Draw a 2-D grid of cells, row 0 at the top, with row/column indices as tick labels."""
    rows, cols = values.shape
    for i in range(rows):
        for j in range(cols):
            virtual = hatched is not None and hatched[i, j]
            ax.add_patch(
                Rectangle(
                    (j, rows - 1 - i),
                    1,
                    1,
                    facecolor=colors[i][j],
                    edgecolor="black",
                    alpha=0.35 if virtual else 1.0,
                    hatch="//" if virtual else None,
                    linewidth=1,
                )
            )
            ax.text(
                j + 0.5,
                rows - 0.5 - i,
                str(values[i, j]),
                ha="center",
                va="center",
                fontsize=11,
                color="black" if virtual else text_color,
            )
    ax.set_xlim(-0.1, cols + 0.1)
    ax.set_ylim(-0.1, rows + 0.1)
    ax.set_aspect("equal")
    ax.set_xticks(np.arange(cols) + 0.5, [str(j) for j in range(cols)])
    ax.set_yticks(np.arange(rows) + 0.5, [str(i) for i in reversed(range(rows))])
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_xlabel("column j")
    ax.set_ylabel("row i")
    ax.set_title(title, fontsize=10)


def plot_memory_layout(rows: int = 2, cols: int = 3):
    """Strides: a ``(rows, cols)`` tensor next to its 1-D memory, and its transpose over the
    *same* memory read with different strides.

    Each cell shows its memory offset (``x = arange(rows * cols).view(rows, cols)``), and the
    arrows on the memory strip follow the order in which each tensor visits its elements
    row by row: one step at a time for ``x``, jumps of ``cols`` for ``x.t()``.

    >>> fig = plot_memory_layout(2, 3)
    >>> [ax.get_title() for ax in fig.axes][:2]
    ['x: shape (2, 3), stride (3, 1)', 'memory: x reads offsets 0 1 2 3 4 5']

    See chapter 1.
    """
    if rows < 1 or cols < 1:
        raise ValueError(f"rows and cols must be positive, got rows={rows}, cols={cols}")
    n = rows * cols
    x = np.arange(n).reshape(rows, cols)
    fig, axes = plt.subplots(
        2, 2, figsize=(9.5, 4), gridspec_kw={"width_ratios": [1, 1.8]}, layout="constrained"
    )
    layouts = [
        (x, f"x: shape ({rows}, {cols}), stride ({cols}, 1)", "x"),
        (x.T, f"x.t(): shape ({cols}, {rows}), stride (1, {cols})", "x.t()"),
    ]
    for (grid, title, name), (ax_grid, ax_mem) in zip(layouts, axes, strict=True):
        colors = [[_cell_color(int(v), n) for v in row] for row in grid]
        _draw_grid(ax_grid, grid, colors, title)
        order = grid.reshape(-1).tolist()  # the row-major visiting order of this tensor
        _draw_memory(ax_mem, n, order, f"memory: {name} reads offsets {' '.join(map(str, order))}")
    fig.suptitle("One block of memory, two tensors: strides decide how it is read", fontsize=11)
    return fig


def _draw_memory(ax, n: int, order: list[int], title: str) -> None:
    for k in range(n):
        ax.add_patch(
            Rectangle((k, 0), 1, 1, facecolor=_cell_color(k, n), edgecolor="black", linewidth=1)
        )
        ax.text(k + 0.5, 0.5, str(k), ha="center", va="center", fontsize=11, color="white")
    for step, (a, b) in enumerate(zip(order[:-1], order[1:], strict=True)):
        up = step % 2 == 0  # alternate above/below so the arrows do not overlap
        sign = 1 if up else -1
        height = 0.35 + 0.15 * abs(b - a)  # longer jumps arc higher
        t = np.linspace(0, 1, 40)
        xs = a + 0.5 + (b - a) * t
        ys = (1.0 if up else 0.0) + sign * height * 4 * t * (1 - t)  # a parabola in data units
        ax.plot(xs, ys, color="tab:red", linewidth=1.2)
        ax.annotate(
            "",
            xy=(xs[-1], ys[-1]),
            xytext=(xs[-4], ys[-4]),
            arrowprops={"arrowstyle": "-|>", "color": "tab:red", "mutation_scale": 10},
        )
        ax.text(
            (a + b) / 2 + 0.5,
            ys[20] + sign * 0.05,
            f"{b - a:+d}",
            ha="center",
            va="bottom" if up else "top",
            fontsize=8,
            color="tab:red",
        )
    ax.set_xlim(-0.2, n + 0.2)
    reach = 0.35 + 0.15 * (n - 1) + 0.4
    ax.set_ylim(-reach, 1 + reach)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_xlabel(f"memory, offset 0 to {n - 1} (in elements from data_ptr)")
    ax.set_title(title, fontsize=10)


def plot_broadcasting(a_shape: tuple[int, int] = (3, 1), b_shape: tuple[int, int] = (1, 4)):
    """Broadcasting two 2-D shapes, e.g. ``(3, 1) + (1, 4) -> (3, 4)``.

    ``a`` holds ``0, 10, 20, ...`` down its rows and ``b`` holds ``0, 1, 2, ...`` along its
    columns, so every cell of ``a + b`` shows where its two summands came from. The real
    elements are solid; the virtual copies that broadcasting pretends are there (no memory
    is used for them: their stride is 0) are light and hatched.

    >>> fig = plot_broadcasting((3, 1), (1, 4))
    >>> [ax.get_title() for ax in fig.axes]
    ['a: (3, 1) → (3, 4)', 'b: (1, 4) → (3, 4)', 'a + b: (3, 4)']

    See chapter 1.
    """
    a_shape, b_shape = tuple(a_shape), tuple(b_shape)
    if len(a_shape) != 2 or len(b_shape) != 2:
        raise ValueError(f"expected two 2-D shapes, got {a_shape} and {b_shape}")
    out = broadcast_shapes(a_shape, b_shape)  # RuntimeError, as torch, if they do not broadcast
    rows, cols = out
    a = np.broadcast_to((10 * np.arange(a_shape[0]))[:, None] + np.zeros(a_shape, int), out)
    b = np.broadcast_to(np.arange(b_shape[1])[None, :] + np.zeros(b_shape, int), out)
    i, j = np.indices(out)
    a_virtual = (i >= a_shape[0]) | (j >= a_shape[1])
    b_virtual = (i >= b_shape[0]) | (j >= b_shape[1])
    fig, axes = plt.subplots(1, 3, figsize=(9, 3))
    panels = [
        (a, a_virtual, "tab:blue", f"a: {a_shape} → {out}"),
        (b, b_virtual, "tab:orange", f"b: {b_shape} → {out}"),
        (a + b, np.zeros(out, bool), "tab:green", f"a + b: {out}"),
    ]
    for ax, (values, virtual, color, title) in zip(axes, panels, strict=True):
        _draw_grid(ax, values, [[color] * cols] * rows, title, hatched=virtual)
    fig.suptitle(
        "Broadcasting: size-1 dimensions are stretched (hatched: virtual copies)", fontsize=11
    )
    fig.tight_layout()
    return fig


def plot_boolean_mask(values, mask, mask_label: str = "mask"):
    """Boolean-mask indexing: ``values[mask]`` picks the elements where ``mask`` is True, in
    row-major order, and returns them as a 1-D tensor.

    ``values`` and ``mask`` are 2-D and of the same shape (numpy arrays, torch or aigc_course
    tensors, or nested lists); ``mask_label`` names the mask in the titles (e.g. ``"x > 0"``).

    >>> import numpy as np
    >>> v = np.arange(6).reshape(2, 3)
    >>> fig = plot_boolean_mask(v, v % 2 == 0)
    >>> fig.axes[2].get_title()
    'x[mask]: shape (3,)'

    See chapter 1.
    """
    values, mask = np.asarray(values), np.asarray(mask)
    if values.ndim != 2 or values.shape != mask.shape:
        raise ValueError(
            f"expected 2-D values and a mask of the same shape, got {values.shape} and {mask.shape}"
        )
    if mask.dtype != bool:
        raise ValueError(f"the mask must be boolean, got dtype {mask.dtype}")
    picked = values[mask]
    rows, cols = values.shape
    fig, axes = plt.subplots(
        1, 3, figsize=(9, 2.8), gridspec_kw={"width_ratios": [cols, cols, max(len(picked), 1)]}
    )
    keep, drop = "tab:green", "lightgray"
    colors = [[keep if m else drop for m in row] for row in mask]
    _draw_grid(axes[0], values, colors, f"x: shape {values.shape}", text_color="black")
    _draw_grid(
        axes[1],
        np.where(mask, "T", "F"),
        colors,
        f"{mask_label}: {mask.sum()} True of {mask.size}",
        text_color="black",
    )
    if len(picked):
        _draw_grid(axes[2], picked[None, :], [[keep] * len(picked)], "", text_color="black")
        axes[2].set_yticks([])
        axes[2].set_ylabel("")
        axes[2].set_xlabel("position in the result")
    else:
        axes[2].axis("off")
    axes[2].set_title(f"x[{mask_label}]: shape ({len(picked)},)", fontsize=10)
    fig.suptitle("Boolean-mask indexing keeps the True positions, read row by row", fontsize=11)
    fig.tight_layout()
    return fig
