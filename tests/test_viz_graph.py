"""``aigc_course.viz.draw_graph``: the computation graph of our tensors and of torch's.

Known answers are counted by hand from the expression; torch's graph of the same expression is
the second oracle (same number of operations, same operation names, same edges).
"""

from __future__ import annotations

import math
import re
from collections import Counter

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import aigc_course as ac
from aigc_course.viz import draw_graph, trace_graph

LIBS = pytest.mark.parametrize("lib", [ac, torch], ids=["aigc_course", "torch"])


def op_names(graph) -> Counter:
    """Operation names without torch's overload number: MulBackward0 -> MulBackward."""
    return Counter(
        re.sub(r"\d+$", "", n.label.split("\n")[0]) for n in graph.nodes if n.kind == "op"
    )


def assert_no_overlap(graph):
    fig = graph.ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [n.patch.get_window_extent(renderer) for n in graph.nodes]
    for i, a in enumerate(boxes):
        for j in range(i + 1, len(boxes)):
            b = boxes[j]
            overlap = a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1
            assert not overlap, f"boxes of {graph.nodes[i].label!r} and {graph.nodes[j].label!r}"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@LIBS
def test_article_example_has_the_hand_counted_nodes_and_edges(lib):
    # z = (x + 2) * (x + 2) * 3: two Adds (one per "x + 2"), two Muls; the constants 2 and 3
    # need no gradient, so they are not nodes. Edges: x->Add, x->Add, Add->Mul, Add->Mul,
    # Mul->Mul.
    x = lib.ones(2, 2, requires_grad=True)
    z = (x + 2) * (x + 2) * 3
    g = trace_graph(z, names={"x": x})
    assert g.count("op") == 4 and g.count("leaf") == 1 and len(g.edges) == 5
    assert op_names(g) == Counter({"AddBackward": 2, "MulBackward": 2})
    (leaf,) = [n for n in g.nodes if n.kind == "leaf"]
    assert leaf.label == "x (2, 2)" and leaf.shape == (2, 2)
    assert all(n.shape == (2, 2) for n in g.nodes)


@LIBS
def test_a_value_used_twice_gives_two_edges_to_one_node(lib):
    x = lib.ones(3, requires_grad=True)
    y = x + 2
    z = y * y  # one Add node feeding both inputs of the Mul
    g = trace_graph(z)
    assert g.count("op") == 2 and len(g.edges) == 3
    add = next(n for n in g.nodes if n.label.startswith("AddBackward"))
    into_mul = [e for e in g.edges if e.src is add]
    assert [e.slot for e in into_mul] == [0, 1]


@LIBS
def test_names_by_id_or_by_name_and_shapes_of_intermediates(lib):
    x = lib.ones(2, 3, requires_grad=True)
    w = lib.ones(3, 4, requires_grad=True)
    h = x @ w
    loss = h.sum()
    for names in ({id(x): "x", id(w): "w"}, {"x": x, "w": w, "h": h}):
        g = trace_graph(loss, names=names)
        leaves = sorted(n.label for n in g.nodes if n.kind == "leaf")
        assert leaves == ["w (3, 4)", "x (2, 3)"]
        mm = next(
            n
            for n in g.nodes
            if n.label.startswith("MmBackward") or n.label.startswith("MatmulBackward")
        )
        assert mm.shape == (2, 4)
        assert mm.label.endswith("h (2, 4)" if "h" in names else "(2, 4)")
        root = next(n for n in g.nodes if n.label.startswith("SumBackward"))
        assert root.shape == ()
    no_shapes = trace_graph(loss, names={"x": x}, show_shapes=False)
    assert "x" in [n.label for n in no_shapes.nodes]


def test_bad_names_and_tensors_without_a_graph():
    x = ac.ones(2, requires_grad=True)
    with pytest.raises(TypeError, match="float"):
        trace_graph(x * 2, names={1.5: "x"})
    with pytest.raises(ValueError, match="requires_grad=False"):
        trace_graph(ac.ones(2))
    single = trace_graph(x, names={"x": x})  # a leaf alone is a graph of one node
    assert [n.label for n in single.nodes] == ["x (2,)"]


def _doubling(lib, x):
    """Double y until its norm reaches 100: the number of Mul nodes depends on the data."""
    y = x * 2
    while y.pow(2).sum().sqrt() < 100:
        y = y * 2
    return y


@pytest.mark.parametrize("scale", [0.01, 1.0, 30.0])
def test_data_dependent_loop_builds_a_graph_per_input(scale):
    # By hand: y = 2^(k+1) x after k iterations, and the loop stops at the first k with
    # 2^(k+1) |x| >= 100, so there are 1 + k Mul nodes in the output's graph.
    x_values = [scale, scale]
    norm = math.hypot(*x_values)
    k = max(0, math.ceil(math.log2(100 / norm) - 1))
    counts = {}
    for lib in (ac, torch):
        x = lib.tensor(x_values, requires_grad=True)
        g = trace_graph(_doubling(lib, x))
        counts[lib.__name__] = (g.count("op"), len(g.edges))
        assert op_names(g) == Counter({"MulBackward": 1 + k})
    assert counts["aigc_course"] == counts["torch"] == (1 + k, 1 + k)


def test_data_dependent_loop_gives_different_graphs_for_different_inputs():
    small = trace_graph(_doubling(ac, ac.tensor([0.1, 0.1], requires_grad=True)))
    large = trace_graph(_doubling(ac, ac.tensor([20.0, 20.0], requires_grad=True)))
    assert small.count("op") > large.count("op")


def _thirty_node_graph(lib):
    """A two-layer network with weight decay: 4 leaves and 26 operations.

    By hand: h has 3 ops (matmul, add, tanh), out 3 more, err 7 (sub, pow, mean, add, pow,
    mean, add), decay 11 (4 muls, 4 sums, 3 adds), and the loss 2 (mul by 0.01, add).
    """
    g = torch.Generator().manual_seed(0)
    data = [torch.randn(s, generator=g, dtype=torch.float64) for s in [(4, 3), (3, 5), (5, 2)]]
    x = lib.tensor(data[0].numpy())
    w1 = lib.tensor(data[1].numpy(), requires_grad=True)
    b1 = lib.zeros(5, dtype=lib.float64, requires_grad=True)
    w2 = lib.tensor(data[2].numpy(), requires_grad=True)
    b2 = lib.zeros(2, dtype=lib.float64, requires_grad=True)
    h = (x @ w1 + b1).tanh()
    out = (h @ w2 + b2).sigmoid()
    err = ((out - 1) ** 2).mean() + ((out + 1) ** 2).mean()
    decay = (w1 * w1).sum() + (w2 * w2).sum() + (b1 * b1).sum() + (b2 * b2).sum()
    loss = err + 0.01 * decay
    return loss, dict(w1=w1, b1=b1, w2=w2, b2=b2)


@LIBS
def test_thirty_nodes_draw_without_overlapping_boxes(lib):
    loss, names = _thirty_node_graph(lib)
    drawing = draw_graph(loss, names=names)
    assert len(drawing.nodes) == 30
    assert drawing.count("leaf") == 4
    assert all(n.patch is not None for n in drawing.nodes)
    assert_no_overlap(drawing)
    w, h = drawing.ax.figure.get_size_inches()
    assert w <= 11 and h <= 4  # about the book's figure budget (10, 4)
    for e in drawing.edges:  # edges run forward, left to right
        assert e.src.position[0] < e.dst.position[0]
    fonts = {t.get_fontsize() for t in drawing.ax.texts}
    assert min(fonts) >= 5, "a 30-node graph should still be readable"


def test_ours_and_torchs_thirty_node_graphs_have_the_same_structure():
    ours, _ = _thirty_node_graph(ac)
    theirs, _ = _thirty_node_graph(torch)
    g_ours, g_theirs = trace_graph(ours), trace_graph(theirs)
    assert len(g_ours.edges) == len(g_theirs.edges)
    ours_names, theirs_names = op_names(g_ours), op_names(g_theirs)
    assert ours_names == theirs_names


def test_side_by_side_in_given_axes():
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 2.5))
    x = ac.ones(2, 2, requires_grad=True)
    tx = torch.ones(2, 2, requires_grad=True)
    ours = draw_graph(((x + 2) * (x + 2) * 3).mean(), ax=left, names={"x": x}, title="ours")
    theirs = draw_graph(((tx + 2) * (tx + 2) * 3).mean(), ax=right, names={"x": tx})
    assert ours.ax is left and theirs.ax is right and left.get_title() == "ours"
    assert len(ours.nodes) == len(theirs.nodes) == 6
    assert_no_overlap(ours)
    assert_no_overlap(theirs)


def test_a_deep_chain_is_traced_without_recursion():
    x = ac.ones(1, requires_grad=True)
    y = x
    for _ in range(3000):  # deeper than Python's default recursion limit
        y = y * 1.0
    g = trace_graph(y)
    assert g.count("op") == 3000 and len(g.edges) == 3000


# a random program of ops that have the same backward names in torch and in aigc_course
_UNARY = ["exp", "tanh", "sigmoid", "sin", "neg"]
_BINARY = ["add", "mul", "sub", "div"]


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.booleans(), st.integers(0, 3), st.integers(0, 99), st.integers(0, 99)),
        min_size=1,
        max_size=12,
    )
)
def test_random_programs_give_torchs_graph(program):
    structures = []
    for lib in (ac, torch):
        leaves = [lib.full((2,), 0.5 + i, requires_grad=True) for i in range(2)]
        values = list(leaves)
        for unary, which, i, j in program:
            a, b = values[i % len(values)], values[j % len(values)]
            if unary:
                values.append(getattr(a, _UNARY[which + (i % 2)])())
            else:
                values.append(getattr(a, _BINARY[which])(b))
        g = trace_graph(values[-1])
        structures.append((op_names(g), g.count("leaf"), len(g.edges)))
    assert structures[0] == structures[1]


@pytest.mark.parametrize("lib", [torch, ac])
def test_values_and_gradients_on_the_nodes_match_a_hand_computation(lib):
    """micrograd's draw_dot shows data and grad in every box; ours does for known tensors."""
    a = lib.tensor(2.0, requires_grad=True)
    b = lib.tensor(-3.0, requires_grad=True)
    e = a * b
    e.retain_grad()
    L = e + a  # dL/da = b + 1 = -2, dL/db = a = 2, dL/de = 1
    L.backward()
    graph = trace_graph(L, names={"a": a, "b": b, "e": e}, show_values=True)
    labels = sorted(n.label.replace("\n", " / ") for n in graph.nodes)
    assert labels == [  # the same names in both libraries
        "AddBackward0 / () / data −4 | grad –",
        "MulBackward0 / e () / data −6 | grad 1",
        "a () / data 2 | grad −2",
        "b () / data −3 | grad 2",
    ]
    big = lib.ones(3, 3, requires_grad=True)
    (labels,) = [
        n.label
        for n in trace_graph(big * 1, names={"w": big}, show_values=True).nodes
        if n.kind == "leaf"
    ]
    assert labels == "w (3, 3)"  # more than 4 numbers: the shape only


@pytest.mark.parametrize("lib", [torch, ac])
def test_long_values_go_on_two_lines_as_the_hand_computation_says(lib):
    x = lib.ones(2, 2, requires_grad=True)
    out = ((x + 2) * (x + 2) * 3).mean()
    out.backward()  # d out / dx = 6 (x + 2) / 4 = 4.5
    graph = trace_graph(out, names={"x": x}, show_values=True)
    (leaf,) = [n for n in graph.nodes if n.kind == "leaf"]
    assert leaf.label == "x (2, 2)\ndata [1 1 1 1]\ngrad [4.5 4.5 4.5 4.5]"
