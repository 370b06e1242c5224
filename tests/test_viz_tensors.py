"""Chapter 1's figures draw without crashing, and what they show agrees with torch."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from aigc_course.viz import plot_boolean_mask, plot_broadcasting, plot_memory_layout


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


@pytest.mark.parametrize("rows,cols", [(2, 3), (3, 4), (1, 5)])
def test_memory_layout_shows_torchs_strides(rows, cols):
    fig = plot_memory_layout(rows, cols)
    assert isinstance(fig, matplotlib.figure.Figure)
    grid_x, mem_x, grid_t, mem_t = fig.axes
    x = torch.arange(rows * cols).view(rows, cols)
    assert f"stride {x.stride()}".replace(" ", "") in grid_x.get_title().replace(" ", "")
    assert f"stride {x.t().stride()}".replace(" ", "") in grid_t.get_title().replace(" ", "")
    # the memory strips list the offsets in the order each tensor reads them
    assert mem_x.get_title().endswith(" ".join(map(str, x.reshape(-1).tolist())))
    assert mem_t.get_title().endswith(" ".join(map(str, x.t().reshape(-1).tolist())))
    # every step label is the difference between consecutive offsets
    steps = np.diff(x.t().reshape(-1).numpy())
    labels = [t for t in texts(mem_t) if t.startswith(("+", "-"))]
    assert labels == [f"{s:+d}" for s in steps]
    for ax in (grid_x, grid_t, mem_x, mem_t):
        assert ax.get_xlabel() and ax.get_title()


def test_memory_layout_refuses_empty_shapes():
    with pytest.raises(ValueError, match="rows=0"):
        plot_memory_layout(0, 3)


@pytest.mark.parametrize("a,b", [((3, 1), (1, 4)), ((1, 4), (3, 1)), ((3, 4), (1, 4))])
def test_broadcasting_figure_shows_torchs_sum(a, b):
    fig = plot_broadcasting(a, b)
    ax_a, ax_b, ax_sum = fig.axes
    out = tuple(torch.broadcast_shapes(a, b))
    ta = (10 * torch.arange(a[0])).view(-1, 1).expand(a)
    tb = torch.arange(b[1]).view(1, -1).expand(b)
    assert texts(ax_sum) == [str(v) for v in (ta + tb).reshape(-1).tolist()]
    assert ax_sum.get_title() == f"a + b: {out}"
    # the hatched cells are the virtual copies: as many as the broadcast adds
    hatched = [p for p in ax_a.patches if p.get_hatch()]
    assert len(hatched) == np.prod(out) - np.prod(a)
    assert len([p for p in ax_b.patches if p.get_hatch()]) == np.prod(out) - np.prod(b)


def test_broadcasting_figure_refuses_shapes_torch_refuses():
    with pytest.raises(RuntimeError):
        torch.broadcast_shapes((3, 2), (1, 4))
    with pytest.raises(RuntimeError, match=r"size of tensor a \(2\).*tensor b \(4\)"):
        plot_broadcasting((3, 2), (1, 4))
    with pytest.raises(ValueError, match="two 2-D shapes"):
        plot_broadcasting((3,), (1, 4))


def test_boolean_mask_figure_shows_torchs_selection():
    x = torch.tensor([[3, -1, 4], [1, -5, 9]])
    fig = plot_boolean_mask(x, x > 0, mask_label="x > 0")
    ax_x, ax_mask, ax_out = fig.axes
    assert texts(ax_out) == [str(v) for v in x[x > 0].tolist()]
    assert ax_out.get_title() == f"x[x > 0]: shape ({len(x[x > 0])},)"
    assert texts(ax_mask).count("T") == int((x > 0).sum())


def test_boolean_mask_figure_with_nothing_selected_and_bad_input():
    fig = plot_boolean_mask(np.ones((2, 2)), np.zeros((2, 2), dtype=bool))
    assert fig.axes[2].get_title() == "x[mask]: shape (0,)"
    with pytest.raises(ValueError, match="same shape"):
        plot_boolean_mask(np.ones((2, 2)), np.ones((2, 3), dtype=bool))
    with pytest.raises(ValueError, match="must be boolean"):
        plot_boolean_mask(np.ones((2, 2)), np.ones((2, 2)))
