r"""Draw the computation graph behind a tensor, with matplotlib only (no graphviz binary).

The graph is read the way the backward engine reads it: start at ``tensor.grad_fn`` and follow
``next_functions`` back to the leaves (``AccumulateGrad`` nodes, whose ``variable`` is the leaf
tensor). torch's nodes have the same interface (``name()``, ``next_functions``, ``variable``),
so the same function draws torch's graph too.

The layout is a small version of the classic layered ("Sugiyama") drawing:

1. **Layers.** An operation sits one layer to the right of its deepest input (the longest path
   from the leaves), and a leaf sits just left of its first consumer. An edge that spans several
   layers gets invisible "dummy" points in between, so that it bends around boxes instead of
   running through them.
2. **Order within a layer.** Each item moves to the barycentre (mean position) of its neighbours
   in the previous layer, sweeping left to right, then right to left; a few sweeps remove most
   edge crossings, and the ordering with the fewest crossings is kept.
3. **Sizes.** The figure, the font and the boxes scale with the number of layers and rows, and
   the font shrinks until no two boxes overlap.

See chapter 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

__all__ = ["ComputationGraph", "GraphEdge", "GraphNode", "draw_graph", "trace_graph"]

_OP_COLOR, _LEAF_COLOR, _EDGE_COLOR = "#dbe9f6", "#dcefd9", "#555555"
_PAD = 0.3  # box padding, in units of the font size (matplotlib's "round,pad=")


@dataclass(eq=False)
class GraphNode:
    """One box of the drawing: an operation (``kind="op"``) or a leaf tensor (``kind="leaf"``)."""

    node: object  # the grad_fn (an op) or the AccumulateGrad node (a leaf), ours or torch's
    kind: str
    label: str
    shape: tuple[int, ...] | None
    layer: int = 0
    position: tuple[float, float] = (0.0, 0.0)
    patch: object = None  # the drawn box, a matplotlib FancyBboxPatch (set by draw_graph)


@dataclass(eq=False)
class GraphEdge:
    """A forward edge: ``src`` is input number ``slot`` of ``dst``."""

    src: GraphNode
    dst: GraphNode
    slot: int


@dataclass(eq=False)
class ComputationGraph:
    """The nodes and forward edges of a graph; ``ax`` is set once it is drawn."""

    nodes: list[GraphNode]
    edges: list[GraphEdge]
    ax: object = None
    layers: list[list] = field(default_factory=list, repr=False)

    def count(self, kind: str) -> int:
        """How many nodes of a kind (``"op"`` or ``"leaf"``) the graph has."""
        return sum(n.kind == kind for n in self.nodes)


# ------------------------------------------------------------------------- tracing


def _names_lookup(names):
    """Accept ``{id(x): "x"}`` or ``{"x": x}``; return (leaf names by id, op names by grad_fn)."""
    by_id, by_fn = {}, {}
    for key, value in (names or {}).items():
        if isinstance(key, int):
            by_id[key] = str(value)
        elif isinstance(key, str):
            by_id[id(value)] = key
            fn = getattr(value, "grad_fn", None)
            if fn is not None:
                by_fn[fn] = key
        else:
            raise TypeError(
                f"names must map id(tensor) -> name or name -> tensor, got a key of type "
                f"{type(key).__name__}"
            )
    return by_id, by_fn


def _named_tensors(names):
    """(grad_fn, tensor) for each tensor given by name in ``names``."""
    return [
        (getattr(t, "grad_fn", None), t)
        for key, t in (names or {}).items()
        if isinstance(key, str) and hasattr(t, "shape")
    ]


def _number(v: float) -> str:
    return f"{v:.4g}".replace("-", "−")


def _value_text(t) -> str:
    """``data 4 | grad 2`` for a tensor of up to 4 elements (``–`` while it has no grad), on two
    lines when that is long."""
    if t is None or not hasattr(t, "detach"):
        return ""
    values = t.detach().cpu().numpy() if hasattr(t, "cpu") else t.detach().numpy()
    if values.size > 4:
        return ""

    def fmt(a):
        a = a.reshape(-1)
        return _number(float(a[0])) if a.size == 1 else "[" + " ".join(map(_number, a)) + "]"

    grad = getattr(t, "grad", None) if getattr(t, "is_leaf", False) or _retains(t) else None
    grad_text = "–" if grad is None else fmt(grad.detach().cpu().numpy())
    one_line = f"data {fmt(values)} | grad {grad_text}"
    # a long pair goes on two lines, so that the box stays narrow and the font large
    return one_line if len(one_line) <= 24 else f"data {fmt(values)}\ngrad {grad_text}"


def _retains(t) -> bool:
    return bool(getattr(t, "retains_grad", False))


def _shape_text(shape) -> str:
    return "(" + ", ".join(str(int(n)) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def _op_name(node) -> str:
    return node.name().split("::")[-1]  # torch's C++ nodes are named "torch::autograd::..."


def _output_shape(node, output_nr: int, consumer, slot: int):
    """The forward shape of ``node``'s output, from torch's metadata or our consumer's record."""
    meta = getattr(node, "_input_metadata", None)  # torch: the shapes of the grads it receives
    if meta is not None and output_nr < len(meta):
        return tuple(meta[output_nr].shape)
    shapes = getattr(consumer, "_shapes", None)  # ours: each Function records its inputs' shapes
    if shapes is not None and slot < len(shapes):
        return tuple(shapes[slot][0])
    return None


def trace_graph(
    tensor, names: dict | None = None, show_shapes: bool = True, show_values: bool = False
) -> ComputationGraph:
    """Walk the graph behind ``tensor`` (ours or torch's) and return its nodes and edges.

    ``names`` labels leaves (and, given as ``{"name": tensor}``, intermediate results) with
    variable names. With ``show_values=True`` each box whose tensor is known (the leaves, the
    output, and intermediates named with ``{"name": tensor}``) also shows its value and, once
    a backward pass has filled it, its gradient, as micrograd's ``draw_dot`` does (tensors of
    up to 4 elements; larger ones keep only the shape). The walk is iterative, so deep graphs
    do not hit Python's recursion limit.

    >>> import aigc_course as ac
    >>> x = ac.ones(2, 2, requires_grad=True)
    >>> z = (x + 2) * (x + 2) * 3
    >>> g = trace_graph(z, names={"x": x})
    >>> g.count("op"), g.count("leaf"), len(g.edges)
    (4, 1, 5)
    >>> [n.label for n in g.nodes if n.kind == "leaf"]
    ['x (2, 2)']
    >>> a = ac.tensor(2.0, requires_grad=True)
    >>> y = a * a
    >>> y.backward()
    >>> for n in trace_graph(y, names={"a": a, "y": y}, show_values=True).nodes:
    ...     print(n.label.replace(chr(10), " / "))
    MulBackward0 / y () / data 4 | grad –
    a () / data 2 | grad 4

    See chapter 2.
    """
    by_id, by_fn = _names_lookup(names)
    root = getattr(tensor, "grad_fn", None)
    tensor_of = {}  # grad_fn -> the tensor it produced, where known
    if show_values:
        tensor_of = {fn: t for fn, t in _named_tensors(names) if fn is not None}
        if root is not None:
            tensor_of[root] = tensor

    def label(kind, node, shape, name, value=None):
        shape_text = _shape_text(shape) if show_shapes and shape is not None else ""
        extra = "\n" + _value_text(value) if show_values and _value_text(value) else ""
        if kind == "leaf":
            return " ".join(s for s in (name or "leaf", shape_text) if s) + extra
        second = " ".join(s for s in (name, shape_text) if s)
        return _op_name(node) + ("\n" + second if second else "") + extra

    if root is None:
        if not getattr(tensor, "requires_grad", False):
            raise ValueError(
                "this tensor has no computation graph: requires_grad=False and grad_fn=None"
            )
        leaf = GraphNode(tensor, "leaf", "", tuple(tensor.shape))
        leaf.label = label("leaf", tensor, leaf.shape, by_id.get(id(tensor)), tensor)
        return ComputationGraph([leaf], [])

    def make(node, shape, name=None):
        if hasattr(node, "variable"):  # AccumulateGrad: the leaf tensor itself
            var = node.variable
            shape = tuple(var.shape)
            text = label("leaf", node, shape, by_id.get(id(var)), var)
            return GraphNode(node, "leaf", text, shape)
        name = by_fn.get(node, name)
        return GraphNode(node, "op", label("op", node, shape, name, tensor_of.get(node)), shape)

    # {id(z): "z"} can name the output too
    graph_nodes = {root: make(root, tuple(tensor.shape), by_id.get(id(tensor)))}
    edges, stack = [], [root]
    while stack:
        node = stack.pop()
        for slot, (parent, output_nr) in enumerate(getattr(node, "next_functions", ())):
            if parent is None:  # an input that needs no gradient (a constant)
                continue
            if parent not in graph_nodes:
                graph_nodes[parent] = make(parent, _output_shape(parent, output_nr, node, slot))
                stack.append(parent)
            edges.append(GraphEdge(graph_nodes[parent], graph_nodes[node], slot))
    return ComputationGraph(list(graph_nodes.values()), edges)


# ------------------------------------------------------------------------- layout


def _assign_layers(graph: ComputationGraph) -> int:
    """Longest path from the leaves for ops; each leaf just before its first consumer."""
    inputs = {n: [] for n in graph.nodes}
    outputs = {n: [] for n in graph.nodes}
    for e in graph.edges:
        inputs[e.dst].append(e.src)
        outputs[e.src].append(e.dst)
    # Kahn's algorithm in the forward direction gives a topological order
    indegree = {n: len(inputs[n]) for n in graph.nodes}
    order = [n for n in graph.nodes if indegree[n] == 0]
    for n in order:  # the list grows while we walk it
        for m in outputs[n]:
            indegree[m] -= 1
            if indegree[m] == 0:
                order.append(m)
    for n in order:
        n.layer = 1 + max((p.layer for p in inputs[n]), default=-1) if n.kind == "op" else 0
    for n in graph.nodes:
        if n.kind == "leaf" and outputs[n]:
            n.layer = min(m.layer for m in outputs[n]) - 1
    low = min(n.layer for n in graph.nodes)
    for n in graph.nodes:
        n.layer -= low
    return max(n.layer for n in graph.nodes) + 1


def _crossings(layers, links) -> int:
    """Edge crossings between adjacent layers (pairs of segments whose ends swap order)."""
    pos = {item: i for layer in layers for i, item in enumerate(layer)}
    total = 0
    for segs in links:
        segs = [(pos[a], pos[b]) for a, b in segs]
        for i, (a1, b1) in enumerate(segs):
            for a2, b2 in segs[i + 1 :]:
                total += (a1 - a2) * (b1 - b2) < 0
    return total


def _order_layers(graph: ComputationGraph, n_layers: int, sweeps: int = 4):
    """Split long edges with dummy points, then order each layer by barycentres."""
    layers = [[] for _ in range(n_layers)]
    for n in graph.nodes:  # discovery order (from the output back) as the first guess
        layers[n.layer].append(n)
    links = [[] for _ in range(n_layers - 1)]  # segments between layer k and k + 1
    chains = []
    for e in graph.edges:
        chain = [e.src]
        for k in range(e.src.layer + 1, e.dst.layer):
            dummy = ("dummy", len(chains), k)
            layers[k].append(dummy)
            chain.append(dummy)
        chain.append(e.dst)
        for k, (a, b) in enumerate(pairwise(chain)):
            links[e.src.layer + k].append((a, b))
        chains.append(chain)
    layers = [list(reversed(layer)) for layer in layers]  # inputs were found last

    def sweep(layers, forward: bool):
        pos = {item: i for layer in layers for i, item in enumerate(layer)}
        rng = range(1, n_layers) if forward else range(n_layers - 2, -1, -1)
        for k in rng:
            nbrs = {}
            for a, b in links[k - 1] if forward else links[k]:
                mine, other = (b, a) if forward else (a, b)
                nbrs.setdefault(mine, []).append(pos[other])
            key = {
                item: sum(nbrs[item]) / len(nbrs[item]) if item in nbrs else i
                for i, item in enumerate(layers[k])
            }
            layers[k].sort(key=lambda item: key[item])  # stable: ties keep their order
            pos.update({item: i for i, item in enumerate(layers[k])})

    def transpose(layers, count):
        """Swap neighbours within a layer while that removes crossings (a local polish)."""
        improved = True
        while improved:
            improved = False
            for layer in layers:
                for j in range(len(layer) - 1):
                    layer[j], layer[j + 1] = layer[j + 1], layer[j]
                    new = _crossings(layers, links)
                    if new < count:
                        count, improved = new, True
                    else:
                        layer[j], layer[j + 1] = layer[j + 1], layer[j]
        return count

    best, best_count = [list(layer) for layer in layers], _crossings(layers, links)
    for i in range(2 * sweeps):
        sweep(layers, forward=i % 2 == 0)
        count = _crossings(layers, links)
        if count < best_count:
            best, best_count = [list(layer) for layer in layers], count
    if sum(map(len, best)) <= 80:  # cheap enough for the graphs a book draws
        transpose(best, best_count)
    return best, chains


# ------------------------------------------------------------------------- drawing


def _boxes_overlap(patches, renderer) -> bool:
    boxes = [p.get_window_extent(renderer) for p in patches]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            if a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1:
                return True
    return False


def _border_point(center, toward, half_w: float, half_h: float):
    """Where the segment from a box's ``center`` to ``toward`` leaves the box."""
    (cx, cy), (tx, ty) = center, toward
    dx, dy = tx - cx, ty - cy
    t = min(half_w / abs(dx) if dx else float("inf"), half_h / abs(dy) if dy else float("inf"))
    return (cx + t * dx, cy + t * dy)


def draw_graph(
    tensor,
    ax=None,
    show_shapes: bool = True,
    names: dict | None = None,
    title: str | None = None,
    show_values: bool = False,
) -> ComputationGraph:
    """Draw the computation graph behind ``tensor`` (ours or torch's) with matplotlib.

    Boxes are operations (``grad_fn.name()``, e.g. ``MulBackward``, blue) and leaf tensors
    (green, labelled ``x (2, 2)`` when ``names={"x": x}`` or ``names={id(x): "x"}`` is given),
    each with its shape; arrows run forward, from inputs to the operations that use them. The
    output's own operation has a thick border. ``show_values=True`` adds each known tensor's
    value and gradient to its box (see :func:`trace_graph`). Returns the traced
    :class:`ComputationGraph`, whose nodes now carry their ``patch`` (box) and ``position``.

    Boxes and arrows are fitted to ``ax`` as it is when called: arrange several axes first
    (``subplots_adjust``), and do not call ``tight_layout`` afterwards.

    >>> import aigc_course as ac
    >>> x = ac.ones(2, 2, requires_grad=True)
    >>> drawing = draw_graph((x + 2) * (x + 2) * 3, names={"x": x})
    >>> len(drawing.nodes), len(drawing.edges)
    (5, 5)
    >>> import matplotlib.pyplot as plt; plt.close(drawing.ax.figure)

    See chapter 2.
    """
    import matplotlib.pyplot as plt

    graph = trace_graph(tensor, names=names, show_shapes=show_shapes, show_values=show_values)
    n_layers = _assign_layers(graph) if graph.edges else 1
    layers, chains = _order_layers(graph, n_layers)
    graph.layers = layers
    n_rows = max(len(layer) for layer in layers)

    # positions: layer k at x = k, rows centred on y = 0, one unit apart
    point = {}
    for k, layer in enumerate(layers):
        for j, item in enumerate(layer):
            point[item] = (float(k), (len(layer) - 1) / 2 - j)
    for n in graph.nodes:
        n.position = point[n]

    if ax is None:  # size the figure for a font of about 10 points, within (10, 4) if possible
        lines = [n.label.split("\n") for n in graph.nodes]
        chars = max(len(s) for label in lines for s in label)
        n_lines = max(len(label) for label in lines)
        col = (0.58 * chars + 2 * _PAD) * 10 / 72 / 0.85  # inches per layer
        row = (1.25 * n_lines + 2 * _PAD) * 10 / 72 / 0.7  # inches per row
        width = min(max(5.0, col * n_layers), 10.0)
        height = min(max(1.2, row * n_rows + 0.4), 4.0)
        fig, ax = plt.subplots(figsize=(width, height))
        created = True
        fig.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=1 - 0.35 / height)
    else:
        created = False
    fig = ax.figure
    ax.set_xlim(-0.55, n_layers - 0.45)
    ax.set_ylim(-n_rows / 2 - 0.05, n_rows / 2 + 0.05)
    ax.axis("off")
    n_ops, n_leaves = graph.count("op"), graph.count("leaf")
    ax.set_title(
        title or f"computation graph: {n_ops} operation(s), {n_leaves} leaf tensor(s)",
        fontsize="medium",
    )
    texts = []
    for n in graph.nodes:
        is_root = n.node is getattr(tensor, "grad_fn", None)
        texts.append(
            ax.text(
                *n.position,
                n.label,
                ha="center",
                va="center",
                fontsize=10,
                zorder=3,
                bbox=dict(
                    boxstyle=f"round,pad={_PAD}",
                    fc=_LEAF_COLOR if n.kind == "leaf" else _OP_COLOR,
                    ec="black",
                    lw=1.6 if is_root else 0.7,
                ),
            )
        )

    # fit the font: boxes may use 85% of a layer's width and 80% of a row's height
    renderer = fig.canvas.get_renderer()
    widths = [t.get_window_extent(renderer).width for t in texts]  # at font size 10
    heights = [t.get_window_extent(renderer).height for t in texts]
    pad_px = 2 * _PAD * 10 * fig.dpi / 72

    def fitted_size():
        bbox = ax.get_window_extent(renderer)
        col_px, row_px = bbox.width / (n_layers + 0.1), bbox.height / (n_rows + 0.1)
        scale = min(0.85 * col_px / (max(widths) + pad_px), 0.8 * row_px / (max(heights) + pad_px))
        return min(10.0 * scale, 10.0)

    size = fitted_size()
    if created and size < 5.0:  # too wide for 10 inches: widen our own figure, keep the font
        width, height = fig.get_size_inches()
        fig.set_size_inches(width * 5.0 / size * 1.03, height)
        size = fitted_size()
    size = max(size, 3.0)
    for _ in range(8):
        for t in texts:
            t.set_fontsize(size)
        fig.canvas.draw()
        graph_patches = [t.get_bbox_patch() for t in texts]
        if not _boxes_overlap(graph_patches, renderer) or size <= 3.0:
            break
        size *= 0.9
    # each box's half-size in data units: unlike the boxes' pixel positions, these survive a
    # change of dpi or a tight bounding box when the figure is saved
    to_data = ax.transData.inverted()
    half = {}
    for n, t in zip(graph.nodes, texts, strict=True):
        n.patch = t.get_bbox_patch()
        (x0, y0), (x1, y1) = to_data.transform(n.patch.get_window_extent(renderer).get_points())
        half[n] = (abs(x1 - x0) / 2 + 0.015, abs(y1 - y0) / 2 + 0.03)

    # edges: a chain of straight segments through dummy points, with an arrowhead at the end;
    # repeated edges (y * y uses y twice) are bent apart
    repeats, seen = {}, {}
    for e in graph.edges:
        repeats[(e.src, e.dst)] = repeats.get((e.src, e.dst), 0) + 1
    for e, chain in zip(graph.edges, chains, strict=True):
        m = repeats[(e.src, e.dst)]
        k = seen.get((e.src, e.dst), 0)
        seen[(e.src, e.dst)] = k + 1
        rad = 0.0 if m == 1 else 0.5 * (k - (m - 1) / 2)
        pts = [point[item] for item in chain]
        pts[0] = _border_point(pts[0], pts[1], *half[e.src])
        pts[-1] = _border_point(pts[-1], pts[-2], *half[e.dst])
        for i, (a, b) in enumerate(pairwise(pts)):
            last = i == len(pts) - 2
            ax.annotate(
                "",
                xy=b,
                xytext=a,
                zorder=1,
                arrowprops=dict(
                    arrowstyle="-|>" if last else "-",
                    color=_EDGE_COLOR,
                    lw=0.9,
                    mutation_scale=max(size, 6),
                    shrinkA=0,
                    shrinkB=0,
                    connectionstyle=f"arc3,rad={rad}",
                ),
            )
    graph.ax = ax
    return graph
