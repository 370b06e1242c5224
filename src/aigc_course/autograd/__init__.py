"""Reverse-mode automatic differentiation: ``backward``, ``grad`` and ``gradcheck`` (chapter 2).

The graph is dynamic: every operation on a tensor that requires grad records a node
(:class:`Function`) as it runs, so Python control flow builds a different graph on each call.
:func:`backward` walks that graph from the output back to the leaves (see ``engine``).
"""

from __future__ import annotations

from .engine import run_backward
from .function import AccumulateGrad, Function
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck

__all__ = [
    "AccumulateGrad",
    "Function",
    "backward",
    "enable_grad",
    "grad",
    "gradcheck",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
]


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _roots(outputs, grad_outputs, caller: str):
    from .._creation import ones_like
    from .._tensor import Tensor

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
            g = ones_like(out)
        elif not isinstance(g, Tensor):
            raise TypeError(f"gradient must be a Tensor, not {type(g).__name__}")
        elif g.shape != out.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] "
                f"has a shape of {out.shape}."
            )
        roots.append((out._node(), g))
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
                t.grad = g if t.grad is None else t.grad + g
        return
    run_backward(roots, retain_graph, create_graph)


def run_and_capture(roots, inputs, retain_graph, create_graph):
    capture = {}
    for t in inputs:
        node = t._node()
        if node is None:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
        capture[node] = None
    run_backward(roots, retain_graph, create_graph, capture=capture)
    return [capture[t._node()] for t in inputs]


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
