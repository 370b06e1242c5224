"""The backward engine: walk the graph in reverse topological order, summing gradients.

No recursion anywhere, so a chain of 100,000 operations is as fine as a chain of 3. The
multivariate chain rule says that the gradient reaching a node is the *sum* over all paths
to it; Kahn's algorithm below guarantees that a node runs only after every consumer of its
output has contributed its share. Chapter 2 derives this.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from . import grad_mode
from .function import AccumulateGrad, Function

if TYPE_CHECKING:
    from .._tensor import Tensor


def _dependencies(roots) -> dict:
    """How many edges point into each node reachable from ``roots`` (iterative DFS)."""
    deps = {}
    seen = set(roots)
    stack = list(roots)
    while stack:
        node = stack.pop()
        for parent, _ in node.next_functions:
            if parent is None:
                continue
            deps[parent] = deps.get(parent, 0) + 1
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return deps


def run_backward(
    roots: list[tuple[object, Tensor]],
    retain_graph: bool,
    create_graph: bool,
    capture: dict | None = None,
) -> None:
    """Propagate the gradients ``roots`` = [(node, grad), ...] to the leaves.

    If ``capture`` is None, gradients are accumulated into the ``.grad`` of leaves (this is
    ``Tensor.backward``). Otherwise ``capture`` maps nodes to ``None`` and receives the total
    gradient that reaches each of them, and leaves are left alone (this is ``autograd.grad``).
    """
    grads: dict = {}
    for node, g in roots:
        grads[node] = grads[node] + g if node in grads else g
    deps = _dependencies(list(grads))
    ready = deque(node for node in grads if deps.get(node, 0) == 0)

    with grad_mode._GradModeAs(create_graph):
        while ready:
            node = ready.popleft()
            g = grads.pop(node, None)
            if g is not None and not create_graph:
                g = g.detach()
            if g is not None:
                if capture is not None and node in capture:
                    capture[node] = g
                for ref in getattr(node, "_retained", ()):
                    t = ref()
                    if t is not None:
                        t.grad = g if t.grad is None else t.grad + g
            if isinstance(node, AccumulateGrad):
                if g is not None and capture is None:
                    leaf = node.variable
                    leaf.grad = g if leaf.grad is None else leaf.grad + g
                continue
            input_grads = node._backward(g) if g is not None else (None,) * len(node.next_functions)
            if not retain_graph and isinstance(node, Function):
                node._free()
            for (parent, _), pg in zip(node.next_functions, input_grads):
                if parent is None:
                    continue
                if pg is not None:
                    grads[parent] = grads[parent] + pg if parent in grads else pg
                deps[parent] -= 1
                if deps[parent] == 0:
                    ready.append(parent)
