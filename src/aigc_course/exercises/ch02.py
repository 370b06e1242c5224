r"""Checkers for chapter 2's exercises (autograd).

Each checker runs your code on several inputs, awkward ones included (a 0-d tensor, very large
and very negative values, broadcasting upstream gradients), compares values and gradients
with torch, and prints one ``✓`` line, or raises :class:`~aigc_course.exercises.ExerciseError`
saying what is wrong.

1. :func:`check_silu`: a :class:`~aigc_course.autograd.Function` for $x\,\sigma(x)$, with a
   backward written in Tensor operations (so that second derivatives work).
2. :func:`check_sum_over_paths`: a derivative computed by hand with the multivariate chain rule.
3. :func:`check_softplus`: a numerically stable :class:`~aigc_course.autograd.Function` for
   $\log(1 + e^x)$.
4. :func:`check_fixed_gradients`: repair a training step whose gradient comes back ``None``.

See chapter 2.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ._checking import ExerciseError, check_tensor, passed, run_learner

__all__ = ["check_fixed_gradients", "check_silu", "check_softplus", "check_sum_over_paths"]


def _torch():
    import torch

    return torch


def _ours(t, requires_grad: bool = True):
    from .._creation import tensor

    return tensor(t.detach().cpu().numpy(), requires_grad=requires_grad)


def _inputs(dtype_name: str, extreme: bool):
    """Awkward inputs: a 0-d tensor, a vector through 0, a matrix, and (if asked) huge values."""
    torch = _torch()
    dtype = getattr(torch, dtype_name)
    g = torch.Generator().manual_seed(2)
    cases = [
        torch.tensor(0.5, dtype=dtype),
        torch.linspace(-4, 4, 9, dtype=dtype),
        torch.randn(3, 4, generator=g, dtype=dtype) * 3,
    ]
    if extreme:
        cases.append(torch.tensor([-1000.0, -100.0, -30.0, 30.0, 100.0, 1000.0], dtype=dtype))
    return cases


def _check_function(cls, reference, name: str, extreme: bool, second_order: bool, hint: str):
    """Values, gradients (random upstream gradients), gradcheck and second derivatives."""
    from .. import autograd
    from .._tensor import Tensor
    from ..autograd.function import Function
    from ..autograd.gradcheck import GradcheckError

    torch = _torch()
    if not (isinstance(cls, type) and issubclass(cls, Function)):
        raise ExerciseError(
            f"pass your class itself (a subclass of aigc_course.autograd.Function), not "
            f"{type(cls).__name__}"
        )
    g = torch.Generator().manual_seed(3)
    for dtype_name in ("float32", "float64"):
        for t in _inputs(dtype_name, extreme):
            x = _ours(t)
            y = run_learner(cls.apply, x, what=f"your {name}.forward")
            if not isinstance(y, Tensor):
                raise ExerciseError(f"{name}.apply returned {type(y).__name__}, not a Tensor")
            with np.errstate(all="ignore"):
                bad = ~np.isfinite(y.detach().numpy())
            if bad.any():
                at = float(x.detach().numpy()[np.unravel_index(np.argmax(bad), bad.shape)])
                raise ExerciseError(
                    f"your {name} gives {y.detach().numpy()[bad][0]} at x = {at:g}, where torch "
                    f"gives a finite number. {hint}"
                )
            tx = t.clone().requires_grad_(True)
            ty = reference(tx)
            where = f"on a {dtype_name} input of shape {tuple(t.shape)}"
            check_tensor(y, ty, what=f"your {name} output {where}")
            v = torch.randn(ty.shape, generator=g, dtype=ty.dtype)
            ty.backward(v)
            (dx,) = run_learner(
                lambda x=x, y=y, v=v: autograd.grad(y, x, grad_outputs=_ours(v, False)),
                what=f"your {name}.backward",
            )
            check_tensor(
                dx, tx.grad, what=f"the gradient of your {name} {where}", rtol=1e-5, atol=1e-6
            )
    x = _ours(torch.linspace(-3, 3, 7, dtype=torch.float64))
    try:
        autograd.gradcheck(cls.apply, (x,))
    except GradcheckError as e:
        raise ExerciseError(f"gradcheck (central differences in float64) disagrees: {e}") from None
    if second_order:
        tx = torch.linspace(-3, 3, 7, dtype=torch.float64, requires_grad=True)
        (td,) = torch.autograd.grad(reference(tx).sum(), tx, create_graph=True)
        (td2,) = torch.autograd.grad(td.sum(), tx)
        x = _ours(tx)
        (d,) = autograd.grad(cls.apply(x).sum(), x, create_graph=True)
        if not d.requires_grad:
            raise ExerciseError(
                f"the gradient of your {name} has no graph with create_graph=True, so it cannot "
                "be differentiated again: write backward with Tensor operations "
                "(ctx.inputs, ctx.output, +, *, .sigmoid()), not numpy"
            )
        (d2,) = autograd.grad(d.sum(), x)
        check_tensor(d2, td2, what=f"the second derivative of your {name}", rtol=1e-6, atol=1e-9)


# ------------------------------------------------------------------ 1. SiLU


def check_silu(cls) -> None:
    r"""Check a ``Function`` subclass for $\mathrm{SiLU}(x) = x\,\sigma(x)$.

    Its forward must match ``torch.nn.functional.silu`` (float32 and float64, huge inputs
    included); its backward, $dx = dz\,\sigma(x)\,(1 + x\,(1 - \sigma(x)))$, must match torch's
    gradient, pass gradcheck, and be differentiable again (second derivatives).

    See chapter 2.
    """
    torch = _torch()
    _check_function(
        cls,
        torch.nn.functional.silu,
        "SiLU",
        extreme=True,
        second_order=True,
        hint="Compute the sigmoid stably (aigc_course's Sigmoid does), or use "
        "1 / (1 + exp(-x)) only where x >= 0.",
    )
    passed("SiLU: values, gradients, gradcheck and second derivatives match torch")


# ------------------------------------------------------------------ 2. sum over paths


def _paths(x: float, y: float) -> dict[str, float]:
    r"""The three paths from $x$ to $L = a\,b + x$ with $a = x y$, $b = \sin a$."""
    a = x * y
    b = math.sin(a)
    return {
        "x → a → L": b * y,  # dL/da (directly) * da/dx
        "x → a → b → L": a * math.cos(a) * y,  # dL/db * db/da * da/dx
        "x → L": 1.0,
    }


def check_sum_over_paths(dL_dx) -> None:
    r"""Check ``dL_dx(x, y)``, your hand-derived $\partial L / \partial x$ for
    $a = x y$, $b = \sin a$, $L = a\,b + x$, against torch at several points.

    If your answer misses one of the three paths from $x$ to $L$, the message names it.

    See chapter 2.
    """
    torch = _torch()
    points = [(0.5, 2.0), (-1.5, 0.7), (0.0, 3.0), (2.0, -1.25), (1.0, 1.0)]
    for x0, y0 in points:
        got = run_learner(dL_dx, x0, y0, what="your dL_dx")
        if hasattr(got, "item") and getattr(got, "ndim", 0) == 0:
            got = got.item()  # a 0-d tensor or numpy scalar is fine
        if isinstance(got, bool) or not isinstance(got, numbers.Real):
            raise ExerciseError(f"dL_dx should return a number, got {type(got).__name__}")
        x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        y = torch.tensor(y0, dtype=torch.float64)
        a = x * y
        b = a.sin()
        (a * b + x).backward()
        expected = x.grad.item()
        if not math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-9):
            paths = _paths(x0, y0)
            message = f"at x = {x0}, y = {y0}: yours {got:.6g}, torch {expected:.6g}."
            for name, value in paths.items():
                if math.isclose(got, expected - value, rel_tol=1e-6, abs_tol=1e-9):
                    message += f" You are missing the path {name} (worth {value:.6g} here)."
                    break
            else:
                if math.isclose(got, math.prod(paths.values()), rel_tol=1e-6, abs_tol=1e-9):
                    message += " You multiplied the paths; the chain rule *adds* them."
            raise ExerciseError(message)
    passed("dL/dx by the sum over paths matches torch at 5 points")


# ------------------------------------------------------------------ 3. stable softplus


def check_softplus(cls) -> None:
    r"""Check a ``Function`` subclass for $\mathrm{softplus}(x) = \log(1 + e^x)$.

    It must match ``torch.nn.functional.softplus`` also at $x = \pm 1000$, where the naive
    formula overflows, and its gradient $\sigma(x)$ must match torch's and pass gradcheck.

    See chapter 2.
    """
    torch = _torch()
    # torch returns x itself above x = 20 (its threshold); the exact value differs from x by
    # log1p(e^-20) ~ 2e-9 there, far inside the tolerance
    _check_function(
        cls,
        torch.nn.functional.softplus,
        "Softplus",
        extreme=True,
        second_order=False,
        hint="exp(x) overflows for large x: use log(1 + e^x) = max(x, 0) + log1p(exp(-|x|)).",
    )
    passed("Softplus: stable values and gradients match torch, from x = -1000 to 1000")


# ------------------------------------------------------------------ 4. the missing gradient


def check_fixed_gradients(fn) -> None:
    r"""Check ``fn(w, b, x, target) -> (w.grad, b.grad)`` for the loss
    $\mathrm{mean}((\tanh(x w + b) - \text{target})^2)$, against torch.

    The inputs are fresh leaves on every call. A ``None`` gradient means something cut the
    tensor out of the graph; the message names both usual culprits (a ``no_grad`` block and a
    ``.detach()``).

    See chapter 2.
    """
    torch = _torch()
    g = torch.Generator().manual_seed(4)
    for n in (1, 5):
        tx = torch.randn(n, 3, generator=g)
        tw = torch.randn(3, 2, generator=g, requires_grad=True)
        tb = torch.randn(2, generator=g, requires_grad=True)
        target = torch.randn(n, 2, generator=g)
        ((tx @ tw + tb).tanh() - target).pow(2).mean().backward()
        w, b = _ours(tw), _ours(tb)
        out = run_learner(
            fn, w, b, _ours(tx, False), _ours(target, False), what="your fixed_gradients"
        )
        if not isinstance(out, tuple) or len(out) != 2:
            raise ExerciseError("return the pair (w.grad, b.grad)")
        for got, expected, name in ((out[0], tw.grad, "w"), (out[1], tb.grad, "b")):
            if got is None:
                raise ExerciseError(
                    f"{name}'s gradient is still None: the loss does not depend on {name} "
                    "through the graph. Look for a `with no_grad():` block or a .detach() "
                    f"on the way from {name} to the loss."
                )
            check_tensor(got, expected, what=f"your gradient for {name} (batch of {n})")
    passed("both gradients match torch: nothing cuts w or b out of the graph any more")
