"""The backward engine: walk the graph in reverse topological order, summing gradients.

No recursion anywhere, so a chain of 100,000 operations is as fine as a chain of 3. The
multivariate chain rule says that the gradient reaching a node is the *sum* over all paths
to it; Kahn's algorithm below guarantees that a node runs only after every consumer of its
output has contributed its share. Chapter 2 derives this.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from .._tensor import Tensor
from . import grad_mode
from .function import AccumulateGrad, Function, _edge


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
    roots: list[tuple],
    retain_graph: bool,
    create_graph: bool,
    capture: dict | None = None,
) -> None:
    """Propagate the gradients ``roots`` = [(node, grad, output_nr), ...] to the leaves.

    If ``capture`` is None, gradients are accumulated into the ``.grad`` of leaves (this is
    ``Tensor.backward``). Otherwise ``capture`` maps nodes to ``None`` and receives the total
    gradient that reaches each of them, and leaves are left alone (this is ``autograd.grad``).
    Grad mode is on only for ``create_graph``, so otherwise nothing done here is recorded.
    """
    grads: dict = {}
    for node, g, nr in roots:
        _add_grad(grads, node, nr, g if create_graph else g.detach())
    deps = _dependencies(list(grads))
    ready = deque(node for node in grads if deps.get(node, 0) == 0)

    with grad_mode._GradModeAs(create_graph):
        while ready:
            node = ready.popleft()
            g = grads.pop(node, None)
            if g is not None:
                if capture is not None and node in capture:
                    capture[node] = g
                for ref in node._retained:
                    t = ref()
                    if t is not None:
                        gt = g if node._n_outputs == 1 else g[t._output_nr]
                        t._grad = gt.clone() if t._grad is None else t._grad + gt
            if isinstance(node, AccumulateGrad):
                if g is not None and capture is None:
                    node.accumulate(g, create_graph)
                continue
            input_grads = node._backward(g) if g is not None else (None,) * len(node.next_functions)
            if not retain_graph and isinstance(node, Function):
                node._free()
            for (parent, nr), pg in zip(node.next_functions, input_grads):
                if parent is None:
                    continue
                if pg is not None:
                    if parent._n_outputs == 1:
                        grads[parent] = grads[parent] + pg if parent in grads else pg
                    else:
                        _add_grad(grads, parent, nr, pg)
                deps[parent] -= 1
                if deps[parent] == 0:
                    ready.append(parent)


def _add_grad(grads: dict, node, nr: int, g) -> None:
    """Add ``g`` to the gradient of output ``nr`` of ``node``: one tensor per node, or for a
    Function with several outputs a list with one slot per output (None until one arrives)."""
    if node._n_outputs == 1:
        grads[node] = grads[node] + g if node in grads else g
        return
    slots = grads.setdefault(node, [None] * node._n_outputs)
    slots[nr] = g if slots[nr] is None else slots[nr] + g


def _output_nr(t) -> int:
    fn = t.grad_fn
    return 0 if fn is None or fn._n_outputs == 1 else t._output_nr


# ---------------------------------------------------------------- the entry points


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _roots(outputs, grad_outputs, caller: str):
    grad_outputs = _as_tuple(grad_outputs) if grad_outputs is not None else (None,) * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(
            f"{caller}: got {len(grad_outputs)} gradients for {len(outputs)} outputs"
        )
    roots = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not out.requires_grad:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn"
            )
        if g is None:
            if out.numel() != 1:
                raise RuntimeError(
                    "grad can be implicitly created only for scalar outputs "
                    f"(this output has shape {list(out.shape)}; reduce it with .sum() or "
                    ".mean(), or pass gradient=)"
                )
            g = Tensor._make(np.ones_like(out._data))
        elif not isinstance(g, Tensor):
            raise TypeError(f"gradient must be a Tensor, not {type(g).__name__}")
        elif g.shape != out.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] "
                f"has a shape of {out.shape}."
            )
        roots.append((_edge(out)[0], g, _output_nr(out)))
    return roots


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradient of ``tensors`` into the ``.grad`` of every leaf that led to it.

    Rules, as in torch: an implicit gradient (``None``) only for a single-element output;
    gradients *accumulate* in leaves across calls; the graph's saved values are freed unless
    ``retain_graph=True``; with ``create_graph=True`` the backward pass is recorded too.
    """
    tensors = _as_tuple(tensors)
    if retain_graph is None:
        retain_graph = create_graph
    roots = _roots(tensors, grad_tensors, "backward")
    if inputs is not None:  # accumulate only into these
        inputs = _as_tuple(inputs)
        captured = run_and_capture(roots, inputs, retain_graph, create_graph)
        for t, g in zip(inputs, captured):
            if g is not None:
                t.grad = g.clone() if t.grad is None else t.grad + g
        return
    run_backward(roots, retain_graph, create_graph)


def run_and_capture(roots, inputs, retain_graph, create_graph):
    capture = {}
    for t in inputs:
        node = _edge(t)[0]
        if node is None:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
        capture[node] = None
    run_backward(roots, retain_graph, create_graph, capture=capture)
    grads = [capture[_edge(t)[0]] for t in inputs]
    return [g[_output_nr(t)] if type(g) is list else g for g, t in zip(grads, inputs)]


def grad(
    outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False
):
    """The gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated).

    >>> import aigc_course as ac
    >>> x = ac.tensor(3.0, requires_grad=True)
    >>> (dy,) = ac.autograd.grad(x ** 3, x, create_graph=True)  # 3x^2 = 27
    >>> (d2y,) = ac.autograd.grad(dy, x)                       # 6x = 18
    >>> dy.item(), d2y.item()
    (27.0, 18.0)
    """
    outputs, inputs = _as_tuple(outputs), _as_tuple(inputs)
    if retain_graph is None:
        retain_graph = create_graph
    roots = _roots(outputs, grad_outputs, "grad")
    grads = run_and_capture(roots, inputs, retain_graph, create_graph)
    for i, g in enumerate(grads):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"One of the differentiated Tensors (input {i}) appears to not have been used in "
                "the graph. Set allow_unused=True if this is the desired behavior."
            )
    return tuple(grads)
