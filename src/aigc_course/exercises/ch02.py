r"""Checkers for chapter 2's exercises (autograd).

Each checker runs your code on several inputs, awkward ones included (a 0-d tensor, very large
and very negative values, broadcasting upstream gradients), compares values and gradients
with torch, and prints one ``✓`` line, or raises :class:`~aigc_course.exercises.ExerciseError`
saying what is wrong.

1. :func:`check_sum_over_paths` (★): a derivative computed by hand with the multivariate
   chain rule.
2. :func:`check_silu` (★★): a :class:`~aigc_course.autograd.Function` for $x\,\sigma(x)$,
   with a backward written in Tensor operations (so that second derivatives work).
3. :func:`check_logsumexp` (★★): a numerically stable :class:`~aigc_course.autograd.Function`
   for $\log \sum_j e^{x_j}$ over the last dimension, whose gradient you derive.
4. :func:`check_value` (★★★): a micrograd-style scalar ``Value`` whose ``backward`` walks the
   graph in topological order, checked against torch on random expressions.
5. :func:`check_mlp_backward` (★★★): the backward pass of Linear → ReLU → Linear →
   cross-entropy by hand (the ``p − onehot`` gradient), checked against autograd.

When a gradient is wrong, the message names the likely cause where it can: a forgotten
upstream gradient ``dz``, a missing product-rule term, a gradient exactly 2× or N× the right
one (a node visited twice, or a ``sum`` where the loss takes the ``mean``), a lost path
(``=`` where ``+=`` accumulates), overflow at large $|x|$.

SiLU, LogSumExp and Value are judged through protocols (``SILU_PROTOCOL``,
``LOGSUMEXP_PROTOCOL``, ``VALUE_PROTOCOL``): the inputs are drawn from the seed, your code runs
on them and sends back plain data (values, gradients, central differences, second
derivatives), and the comparison with torch happens where your code does not run (the
grader's judge). In a notebook, the checker runs all three steps with a fixed seed.

See chapter 2.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ._checking import (
    ExerciseError,
    Protocol,
    as_numpy,
    check_tensor,
    passed,
    run_learner,
    seeded,
    uses,
)

__all__ = [
    "check_logsumexp",
    "check_mlp_backward",
    "check_silu",
    "check_sum_over_paths",
    "check_value",
]


def _torch():
    import torch

    return torch


def _ours(t, requires_grad: bool = True):
    from .._creation import tensor

    return tensor(t.detach().cpu().numpy(), requires_grad=requires_grad)


def _inputs(dtype_name: str, extreme: bool, g):
    """Awkward inputs: a 0-d tensor, a vector through 0, a matrix, and (if asked) huge values."""
    torch = _torch()
    dtype = getattr(torch, dtype_name)
    cases = [
        torch.tensor(0.5, dtype=dtype),
        torch.linspace(-4, 4, 9, dtype=dtype),
        torch.randn(3, 4, generator=g, dtype=dtype) * 3,
    ]
    if extreme:
        cases.append(torch.tensor([-1000.0, -100.0, -30.0, 30.0, 100.0, 1000.0], dtype=dtype))
    return cases


def _ratio_hint(got: np.ndarray, expected: np.ndarray) -> str:
    """ " (exactly 2× torch's ...)" when ``got`` is a whole multiple of ``expected``."""
    big = np.abs(expected) > 1e-6
    if not big.any():
        return ""
    ratios = got[big] / expected[big]
    k = float(np.median(ratios))
    if abs(k - round(k)) < 1e-4 and round(k) >= 2 and np.allclose(ratios, round(k), rtol=1e-4):
        return (
            f" (yours is exactly {round(k)}× the right gradient: a contribution is counted "
            f"{round(k)} times, e.g. backward called twice without resetting .grad, a node "
            "visited twice, or a sum where the loss takes the mean)"
        )
    return ""


def _gradient_hint(dx, reference, tx, v, candidates) -> str:
    """Name the likely mistake behind a wrong gradient ``dx`` of ``reference`` at ``tx``."""
    from ..testing import _to_numpy

    torch = _torch()
    got = np.asarray(_to_numpy(dx), dtype=np.float64)
    x64 = tx.detach().double().requires_grad_(True)
    (local,) = torch.autograd.grad(reference(x64).sum(), x64)  # the derivative, dz = 1
    v64 = v.double()
    if got.shape != tuple(local.shape):
        return ""
    close = lambda a: np.allclose(got, a, rtol=1e-4, atol=1e-6)  # noqa: E731
    if not close(local.numpy() * v64.numpy()) and close(local.numpy()):
        return (
            " (you returned the local derivative dy/dx alone: multiply it by the upstream "
            "gradient dz that backward receives, the chain rule's other factor)"
        )
    for hint, wrong in candidates(x64.detach()).items():
        if close((wrong * v64).numpy()):
            return f" ({hint})"
    return _ratio_hint(got, (local * v64).numpy())


# -------------------------------------------- the protocol of a Function exercise
#
# Inputs (drawn from the seed): cases of (x, upstream gradient v) in float32 and float64, a
# float64 point for gradcheck, and one for second derivatives. The kernel's half runs the
# learner's Function on them and sends back, as arrays, its outputs and gradients, its
# outputs at x ± eps (central differences) with its Jacobian's rows, and its second
# derivative. The judge compares all of it with torch in float64 and names the mistake.

_EPS = 1e-6  # gradcheck's step, atol and rtol (aigc_course.autograd.gradcheck's defaults)
_GC_ATOL, _GC_RTOL = 1e-5, 1e-3


def _require_function(cls) -> None:
    from ..autograd.function import Function

    if not (isinstance(cls, type) and issubclass(cls, Function)):
        raise ExerciseError(
            f"pass your class itself (a subclass of aigc_course.autograd.Function), not "
            f"{type(cls).__name__}"
        )


def _array_or_none(t):
    """The learner's tensor as a numpy array (None stays None, for the judge to name)."""
    from .._tensor import Tensor

    if t is None:
        return None
    if isinstance(t, Tensor):
        return np.array(t.detach().numpy())
    return as_numpy(t)


def _function_run(data: dict, cls, name: str, broadcast_hint: str = "") -> dict:
    """The kernel's half: the learner's values and gradients on the judge's inputs, as arrays.
    A failure of the learner's code is recorded (``error``) and ends the run; the judge meets
    it where it happened, after the checks of what came before."""
    from .. import autograd
    from .._creation import tensor
    from .._tensor import Tensor

    _require_function(cls)
    out: dict = {"cases": []}
    try:
        for case in data["cases"]:
            record: dict = {}
            out["cases"].append(record)
            x = tensor(case["x"], requires_grad=True)
            y = run_learner(cls.apply, x, what=f"your {name}.forward")
            if not isinstance(y, Tensor):
                raise ExerciseError(f"{name}.apply returned {type(y).__name__}, not a Tensor")
            record["y"] = _array_or_none(y)
            v = tensor(case["v"])  # in the input's dtype
            (dx,) = run_learner(
                lambda x=x, y=y, v=v: autograd.grad(y, x, grad_outputs=v),
                what=f"your {name}.backward",
                broadcast_hint=broadcast_hint,
            )
            record["dx"] = _array_or_none(dx)
        out["gradcheck"] = run_learner(
            _jacobians, cls, data["gradcheck"], what=f"your {name} (in gradcheck)"
        )
        x = tensor(data["second"], requires_grad=True)
        (d,) = run_learner(
            lambda: autograd.grad(cls.apply(x).sum(), x, create_graph=True),
            what=f"your {name}.backward with create_graph=True",
        )
        second: dict = {"graph": bool(getattr(d, "requires_grad", False) is True)}
        out["second"] = second
        if second["graph"]:
            w = tensor(data["w"])
            (d2,) = run_learner(
                lambda: autograd.grad((d * w).sum(), x),
                what=f"your {name}.backward, differentiated again",
            )
            second["d2"] = _array_or_none(d2)
    except ExerciseError as e:
        out["error"] = str(e)
    return out


def _jacobians(cls, x: np.ndarray) -> dict:
    """What gradcheck needs, from the learner's Function at float64 ``x``: its outputs at
    ``x ± eps`` for each element (columns of the numerical Jacobian) and, by one backward
    pass per output element, the rows of its analytical Jacobian."""
    from .. import autograd
    from .._creation import tensor

    x = np.asarray(x, dtype=np.float64)
    plus, minus = [], []
    for j in range(x.size):
        for sign, into in ((1.0, plus), (-1.0, minus)):
            moved = x.copy()
            moved.reshape(-1)[j] += sign * _EPS
            into.append(np.asarray(as_numpy(cls.apply(tensor(moved))), dtype=np.float64))
    xt = tensor(x, requires_grad=True)
    out = cls.apply(xt)
    rows = []
    for k in range(out.numel()):
        seed = np.zeros(tuple(out.shape), dtype=out.dtype.name)
        seed.reshape(-1)[k] = 1.0
        (g,) = autograd.grad(
            out, xt, grad_outputs=tensor(seed), retain_graph=True, allow_unused=True
        )
        rows.append(np.zeros(x.size) if g is None else as_numpy(g).astype(np.float64).ravel())
    return {"plus": plus, "minus": minus, "rows": rows}


def _recorded(record, key: str):
    """A field of the kernel's record, or the learner's failure recorded in its place."""
    if not isinstance(record, dict):
        raise ExerciseError("the protocol's record did not come back as a dict")
    if key in record:
        return record[key]
    raise ExerciseError(str(record.get("error") or f"no {key!r} came back from your code"))


def _cases(out, n: int) -> list[dict]:
    """The records of the ``n`` cases, each carrying the run's error, if any."""
    if not isinstance(out, dict):
        raise ExerciseError("the protocol's record did not come back as a dict")
    cases = out.get("cases")
    if not isinstance(cases, list) or len(cases) > n:
        raise ExerciseError(f"expected {n} cases back from your code")
    error = out.get("error")
    records = [c if isinstance(c, dict) else {} for c in cases]
    records += [{} for _ in range(n - len(cases))]
    return [{**r, "error": error} for r in records]


def _torch_of(value):
    """An array that came back, as a torch tensor (so that its dtype is compared too)."""
    if isinstance(value, np.ndarray):
        return _torch().from_numpy(np.array(value))
    return value


def _judge_gradcheck(x: np.ndarray, data, out_shape) -> None:
    """gradcheck's comparison, in the judge: the learner's analytical Jacobian against the
    central differences of the learner's own forward, with gradcheck's tolerances."""
    n_in, n_out = x.size, int(np.prod(out_shape))
    bad_data = ExerciseError("gradcheck's data did not come back as arrays of the right sizes")
    if not isinstance(data, dict):
        raise bad_data
    parts = [data.get(k) for k in ("plus", "minus", "rows")]
    for part, size, length in zip(parts, (n_out, n_out, n_in), (n_in, n_in, n_out)):
        if not isinstance(part, list) or len(part) != length:
            raise bad_data
        if not all(isinstance(a, np.ndarray) and a.size == size for a in part):
            raise bad_data
    plus, minus, rows = parts
    with np.errstate(all="ignore"):
        numerical = np.stack(
            [
                (p.astype(np.float64).ravel() - m.astype(np.float64).ravel()) / (2 * _EPS)
                for p, m in zip(plus, minus)
            ],
            axis=1,
        ).reshape(n_out, n_in)
        analytical = np.stack([r.astype(np.float64).ravel() for r in rows]).reshape(n_out, n_in)
        bad = ~np.isclose(analytical, numerical, rtol=_GC_RTOL, atol=_GC_ATOL)
    if bad.any():
        k, j = map(int, np.argwhere(bad)[0])
        raise ExerciseError(
            "gradcheck (central differences in float64) disagrees: Jacobian mismatch for "
            f"output {k} with respect to input 0, element {j} (index "
            f"{np.unravel_index(j, x.shape)}): numerical {numerical[k, j]:.6g} vs analytical "
            f"{analytical[k, j]:.6g}"
        )


def _judge_second(out, name: str, td2, how: str) -> None:
    """The learner's second derivative against torch's ``td2``; ``how`` lists the Tensor
    operations a differentiable backward uses."""
    second = _recorded(out, "second")
    if not isinstance(second, dict):
        raise ExerciseError("the second derivative did not come back as a record")
    if second.get("graph") is not True:
        raise ExerciseError(
            f"the gradient of your {name} has no graph with create_graph=True, so it cannot "
            f"be differentiated again: write backward with Tensor operations {how}, not numpy"
        )
    d2 = _recorded({**second, "error": out.get("error")}, "d2")
    check_tensor(
        _torch_of(d2), td2, what=f"the second derivative of your {name}", rtol=1e-6, atol=1e-9
    )


# ------------------------------------------------------------------ 1. SiLU

_SILU_HINT = (
    "Compute the sigmoid stably (x.sigmoid() does), or use 1 / (1 + exp(-x)) only where x >= 0."
)


def _silu_candidates(x):
    return {
        "a product-rule term is missing: d/dx [x·σ(x)] = σ(x) + x·σ'(x), and you kept only "
        "σ(x)": x.sigmoid(),
        "a product-rule term is missing: d/dx [x·σ(x)] = σ(x) + x·σ'(x), and you kept only "
        "x·σ'(x)": x * x.sigmoid() * (1 - x.sigmoid()),
    }


def _silu_inputs(seed: int) -> dict:
    """SiLU's inputs: awkward cases in float32 and float64 with random upstream gradients,
    and points for gradcheck and for second derivatives (all drawn from ``seed``)."""
    torch = _torch()
    g = torch.Generator().manual_seed(seed)
    cases = []
    for dtype_name in ("float32", "float64"):
        for t in _inputs(dtype_name, True, g):
            v = torch.randn(t.shape, generator=g, dtype=t.dtype)
            cases.append({"x": t.numpy(), "v": v.numpy()})
    grid = torch.linspace(-3, 3, 7, dtype=torch.float64)
    return {
        "cases": cases,
        "gradcheck": (grid + 0.2 * torch.rand(7, generator=g, dtype=torch.float64)).numpy(),
        "second": (grid + 0.2 * torch.rand(7, generator=g, dtype=torch.float64)).numpy(),
        "w": np.ones(7),
    }


def _silu_run(data: dict, cls) -> dict:
    return _function_run(data, cls, "SiLU")


def _silu_judge(data: dict, out) -> str:
    torch = _torch()
    F = torch.nn.functional
    name = "SiLU"
    for case, record in zip(data["cases"], _cases(out, len(data["cases"]))):
        t = torch.from_numpy(np.array(case["x"]))
        dtype_name = str(t.dtype).removeprefix("torch.")
        y = _recorded(record, "y")
        if isinstance(y, np.ndarray) and y.dtype.kind in "fc" and y.shape == tuple(t.shape):
            with np.errstate(all="ignore"):
                bad = ~np.isfinite(y)
            if bad.any():
                at = float(case["x"][np.unravel_index(np.argmax(bad), bad.shape)])
                raise ExerciseError(
                    f"your {name} gives {y[bad][0]} at x = {at:g}, where torch gives a finite "
                    f"number. {_SILU_HINT}"
                )
        tx = t.clone().requires_grad_(True)
        ty = F.silu(tx)
        where = f"on a {dtype_name} input of shape {tuple(t.shape)}"
        check_tensor(_torch_of(y), ty, what=f"your {name} output {where}")
        v = torch.from_numpy(np.array(case["v"]))
        ty.backward(v)
        dx = _recorded(record, "dx")
        try:
            check_tensor(
                _torch_of(dx),
                tx.grad,
                what=f"the gradient of your {name} {where}",
                rtol=1e-5,
                atol=1e-6,
            )
        except ExerciseError as err:
            why = _gradient_hint(dx, F.silu, t, v, _silu_candidates)
            raise ExerciseError(f"{err}{why}") from None
    x = np.asarray(data["gradcheck"], dtype=np.float64)
    _judge_gradcheck(x, _recorded(out, "gradcheck"), x.shape)
    tx = torch.from_numpy(np.array(data["second"])).requires_grad_(True)
    (td,) = torch.autograd.grad(F.silu(tx).sum(), tx, create_graph=True)
    (td2,) = torch.autograd.grad(td.sum(), tx)
    _judge_second(out, name, td2, "(ctx.saved_tensors, +, *, .sigmoid())")
    return "SiLU: values, gradients, gradcheck and second derivatives match torch"


#: The protocol: awkward inputs and upstream gradients in; the learner's values, gradients,
#: central differences and second derivatives out; compared with torch's SiLU in the judge.
SILU_PROTOCOL = Protocol(_silu_inputs, _silu_run, _silu_judge)


@uses(SILU_PROTOCOL)
def check_silu(cls) -> None:
    r"""Check a ``Function`` subclass for $\mathrm{SiLU}(x) = x\,\sigma(x)$.

    Its forward must match ``torch.nn.functional.silu`` (float32 and float64, huge inputs
    included); its backward, $dx = dz\,\sigma(x)\,(1 + x\,(1 - \sigma(x)))$, must match torch's
    gradient, pass gradcheck, and be differentiable again (second derivatives).

    See chapter 2.
    """
    SILU_PROTOCOL.check(cls)


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
                    if name == "x → a → L":
                        message += (
                            " That is a product-rule term: L = a·b depends on a through both "
                            "factors, directly and through b = sin a."
                        )
                    break
            else:
                if math.isclose(got, math.prod(paths.values()), rel_tol=1e-6, abs_tol=1e-9):
                    message += " You multiplied the paths; the chain rule *adds* them."
            raise ExerciseError(message)
    passed("dL/dx by the sum over paths matches torch at 5 points")


# ------------------------------------------------------------------ 3. log-sum-exp


def _lse_inputs(dtype_name: str, g):
    """Awkward inputs for a log-sum-exp over the last dimension: a vector (a 0-d result), a
    square matrix (where an upstream gradient along the wrong axis still broadcasts), a 3-d
    tensor, and rows of ±1000 and -inf (a masked entry), where e^x overflows or underflows."""
    torch = _torch()
    dtype = getattr(torch, dtype_name)
    return [
        torch.randn(5, generator=g, dtype=dtype) * 2,
        torch.randn(4, 4, generator=g, dtype=dtype) * 3,
        torch.randn(2, 3, 4, generator=g, dtype=dtype),
        torch.tensor(
            [[1000.0, 999.0, -1000.0], [-1000.0, -1000.0, -1000.0], [0.0, -math.inf, 1.0]],
            dtype=dtype,
        ),
    ]


def _lse_gradient_hint(got: np.ndarray, x: np.ndarray, v: np.ndarray) -> str:
    """Name the mistake behind a wrong log-sum-exp gradient (all arrays float64)."""
    with np.errstate(all="ignore"):
        m = np.max(x, axis=-1, keepdims=True)
        e = np.exp(x - m)
        p = e / e.sum(axis=-1, keepdims=True)  # softmax, the right local derivative
        vv = v[..., None]
        wrong = {
            "you returned the local derivative alone: multiply it by the upstream gradient dz "
            "that backward receives (one entry per row, so dz.unsqueeze(-1))": p,
            "that is e^(x - max): the derivative of log Σ e^x divides e^x by the sum, "
            "∂/∂x_i = e^(x_i) / Σ_j e^(x_j), which is softmax(x)_i = e^(x_i - lse)": vv * e,
            "that is e^x: the derivative of log Σ e^x divides e^x by the sum, "
            "∂/∂x_i = e^(x_i) / Σ_j e^(x_j), which is softmax(x)_i = e^(x_i - lse)": vv * np.exp(x),
        }
        if x.ndim == 2 and x.shape[0] == x.shape[1]:
            wrong[
                "dz has one entry per *row* (the reduced dimension is gone): multiply by "
                "dz.unsqueeze(-1), shape (N, 1); dz alone, shape (N,), broadcasts along the "
                "columns and scales each column instead"
            ] = v[None, :] * p
    for hint, value in wrong.items():
        if value.shape == got.shape and np.allclose(got, value, rtol=1e-4, atol=1e-6):
            return f" ({hint})"
    return ""


_UNSQUEEZE_HINT = (
    "dz has one entry per row: give it back its last dimension with dz.unsqueeze(-1) "
    "before multiplying it with a (..., C) tensor"
)


def _logsumexp_inputs(seed: int) -> dict:
    """LogSumExp's inputs: awkward cases in float32 and float64 with random upstream
    gradients (one per row), a (3, 4) point for gradcheck, and one, with weights, for second
    derivatives (all drawn from ``seed``)."""
    torch = _torch()
    g = torch.Generator().manual_seed(seed)
    cases = []
    for dtype_name in ("float32", "float64"):
        for t in _lse_inputs(dtype_name, g):
            v = torch.randn(t.shape[:-1], generator=g, dtype=t.dtype)
            cases.append({"x": t.numpy(), "v": v.numpy()})
    draw = lambda: torch.randn(3, 4, generator=g, dtype=torch.float64).numpy()  # noqa: E731
    return {"cases": cases, "gradcheck": draw(), "second": draw(), "w": draw()}


def _logsumexp_run(data: dict, cls) -> dict:
    return _function_run(data, cls, "LogSumExp", broadcast_hint=_UNSQUEEZE_HINT)


def _logsumexp_judge(data: dict, out) -> str:
    torch = _torch()
    name = "LogSumExp"
    for case, record in zip(data["cases"], _cases(out, len(data["cases"]))):
        t64 = torch.from_numpy(np.array(case["x"], dtype=np.float64))
        dtype_name = str(case["x"].dtype)
        where = f"on a {dtype_name} input of shape {tuple(t64.shape)}"
        expected = torch.logsumexp(t64, dim=-1)  # the float64 reference
        y = _recorded(record, "y")
        if not isinstance(y, np.ndarray) or y.dtype.kind not in "iuf":
            raise ExerciseError(f"your {name} {where} did not give an array of numbers")
        if tuple(y.shape) != tuple(expected.shape):
            raise ExerciseError(
                f"your {name} {where} has shape {tuple(y.shape)}; expected "
                f"{tuple(expected.shape)}: reduce over the last dimension only (dim=-1), "
                "without keepdim"
            )
        got = np.asarray(y, dtype=np.float64)
        if not np.isfinite(got).all():
            row = np.unravel_index(np.argmax(~np.isfinite(got)), got.shape)
            raise ExerciseError(
                f"your {name} gives {got[row]} for the row {t64[row].tolist()}, where torch "
                f"gives {expected[row].item():.6g}: e^1000 overflows to inf, and e^-1000 "
                "underflows to 0 (log 0 = -inf). Subtract the row's maximum m first: "
                "log Σ e^x = m + log Σ e^(x - m), where every exponent is <= 0 and one is 0"
            )
        if y.dtype.name != dtype_name:
            raise ExerciseError(
                f"your {name} turns a {dtype_name} input into {y.dtype.name}: keep the "
                "input's dtype (a Python number never widens a tensor; a numpy float64 "
                "array does)"
            )
        # the tolerance of float32 (or float64) rounding: x - lse loses |x| * eps in
        # absolute terms, so e^(x - lse) carries a relative error of about |x| * eps
        finite = t64[torch.isfinite(t64)]
        scale = max(1.0, float(finite.abs().max()))
        tol = (4e-6 if dtype_name == "float32" else 1e-12) * scale
        check_tensor(
            got,
            expected.numpy(),
            what=f"your {name} output {where}",
            rtol=tol,
            atol=tol,
            check_dtype=False,
        )
        v = torch.from_numpy(np.array(case["v"], dtype=np.float64))
        tx = t64.clone().requires_grad_(True)
        torch.logsumexp(tx, dim=-1).backward(v)
        dx = _recorded(record, "dx")
        dx64 = np.asarray(dx, dtype=np.float64) if isinstance(dx, np.ndarray) else dx
        try:
            check_tensor(
                dx64,
                tx.grad.numpy(),
                what=f"the gradient of your {name} {where}",
                rtol=tol,
                atol=tol,
                check_dtype=False,
            )
        except ExerciseError as err:
            hint = _lse_gradient_hint(np.asarray(dx64), t64.numpy(), v.numpy())
            raise ExerciseError(f"{err}{hint}") from None
    x = np.asarray(data["gradcheck"], dtype=np.float64)
    _judge_gradcheck(x, _recorded(out, "gradcheck"), x.shape[:-1])
    # second derivatives: d(sum of lse)/dx is a softmax, whose rows sum to 1, so weight them
    tx = torch.from_numpy(np.array(data["second"])).requires_grad_(True)
    w = torch.from_numpy(np.array(data["w"]))
    (td,) = torch.autograd.grad(torch.logsumexp(tx, dim=-1).sum(), tx, create_graph=True)
    (td2,) = torch.autograd.grad((td * w).sum(), tx)
    _judge_second(out, name, td2, "on ctx.saved_tensors (-, .exp(), *, .unsqueeze())")
    return (
        f"{name}: values and gradients match torch from ±1000 to -inf, gradcheck and second "
        "derivatives too"
    )


#: The protocol: awkward inputs (±1000, -inf) and upstream gradients in; the learner's
#: values, gradients, central differences and second derivatives out; compared with
#: ``torch.logsumexp`` in float64 in the judge.
LOGSUMEXP_PROTOCOL = Protocol(_logsumexp_inputs, _logsumexp_run, _logsumexp_judge)


@uses(LOGSUMEXP_PROTOCOL)
def check_logsumexp(cls) -> None:
    r"""Check a ``Function`` subclass for $\mathrm{lse}(x) = \log \sum_j e^{x_j}$ over the last
    dimension: shape $(\dots, C) \to (\dots)$, the input's dtype kept.

    Its forward must match ``torch.logsumexp(x, dim=-1)`` (computed in float64), also on rows
    of $\pm 1000$ where $e^x$ overflows or every $e^x$ underflows to 0, and on a masked entry
    ($-\infty$). Its backward, $dx_i = dz \cdot \partial\,\mathrm{lse} / \partial x_i$ (a
    derivation left to you), must match torch's gradient for random upstream gradients, pass
    gradcheck, and be differentiable again (second derivatives).

    See chapter 2.
    """
    LOGSUMEXP_PROTOCOL.check(cls)


# ------------------------------------------------------------------ 4. a scalar Value

# An expression is a program over a list of nodes: the leaves first, then one node per step.
# ("add", i, j) and ("mul", i, j) combine two earlier nodes, ("addc", i, c) and ("mulc", i, c)
# add or multiply a Python number, ("tanh", i) applies tanh. The last node is the output.
_FIXED_PROGRAMS = [
    (2, [("mul", 0, 1)]),  # a * b: the product rule's two terms
    (1, [("mul", 0, 0), ("add", 1, 0)]),  # a * a + a: one leaf used three times
    (2, [("mul", 0, 1), ("addc", 2, 1.5), ("tanh", 3), ("mul", 4, 0)]),
    (2, [("add", 0, 1), ("mul", 2, 2), ("mul", 3, 2), ("mulc", 4, -0.5)]),  # a diamond
]


def _random_program(rng: np.random.Generator):
    n_leaves, steps = int(rng.integers(2, 4)), []
    for k in range(int(rng.integers(4, 9))):
        n = n_leaves + k
        op = rng.choice(["add", "mul", "mul", "addc", "mulc", "tanh"])
        i, j = (int(v) for v in rng.integers(0, n, 2))
        if op in ("addc", "mulc"):
            steps.append((str(op), i, round(float(rng.uniform(-2, 2)), 3)))
        elif op == "tanh":
            steps.append(("tanh", i))
        else:
            steps.append((str(op), i, j))
    return n_leaves, steps


def _run_program(program, leaves: list, tanh):
    nodes = list(leaves)
    for step in program[1]:
        op, i = step[0], step[1]
        if op == "add":
            nodes.append(nodes[i] + nodes[step[2]])
        elif op == "mul":
            nodes.append(nodes[i] * nodes[step[2]])
        elif op == "addc":
            nodes.append(nodes[i] + step[2])
        elif op == "mulc":
            nodes.append(nodes[i] * step[2])
        else:
            nodes.append(tanh(nodes[i]))
    return nodes[-1]


def _value_tanh(v):
    return v.tanh()


class _Ref:
    """A reference scalar Value, with switches for the usual mistakes (to name them)."""

    def __init__(self, data, parents=(), local=(), bug=None):
        self.data, self.grad, self.parents, self.local, self.bug = data, 0.0, parents, local, bug

    def _wrap(self, other):
        return other if isinstance(other, _Ref) else _Ref(float(other), bug=self.bug)

    def __add__(self, other):
        other = self._wrap(other)
        return _Ref(self.data + other.data, (self, other), (1.0, 1.0), self.bug)

    def __mul__(self, other):
        other = self._wrap(other)
        local = (other.data, self.data)
        if self.bug == "one factor":
            local = (other.data, 0.0)
        return _Ref(self.data * other.data, (self, other), local, self.bug)

    def tanh(self):
        t = math.tanh(self.data)
        return _Ref(t, (self,), (1 - t * t,), self.bug)

    def backward(self):
        order, seen = [], set()

        def visit(v):
            if self.bug != "no visited set":
                if id(v) in seen:
                    return
                seen.add(id(v))
            for p in v.parents:
                visit(p)
            order.append(v)

        visit(self)
        self.grad = 1.0
        for v in reversed(order):
            for p, d in zip(v.parents, v.local):
                if self.bug == "no upstream":
                    p.grad += d
                elif self.bug == "assign":
                    p.grad = d * v.grad
                else:
                    p.grad += d * v.grad


_VALUE_HINTS = {
    "one factor": "a product-rule term is missing: in a * b, a's gradient is b * out.grad "
    "and b's is a * out.grad; each factor gets one",
    "no upstream": "you forgot the upstream gradient: each local derivative must be "
    "multiplied by out.grad (the chain rule), not added on its own",
    "assign": "a path is lost: a value used in two places must *add up* both contributions "
    "(self.grad += ...), not overwrite them (self.grad = ...)",
    "no visited set": "some gradients are counted several times: build the topological order "
    "with a `visited` set, so that each node is processed exactly once",
}


def _value_inputs(seed: int, n_random: int = 20) -> dict:
    """The expressions (4 fixed, ``n_random`` drawn from ``seed``) and their leaves' values."""
    rng = np.random.default_rng(seed)
    programs = _FIXED_PROGRAMS + [_random_program(rng) for _ in range(n_random)]
    xs = [[round(float(v), 3) for v in rng.uniform(-1, 1, program[0])] for program in programs]
    return {"programs": programs, "xs": xs}


def _safe_name(name, default: str) -> str:
    """A class name for messages, as the judge accepts it: a short identifier, else ``default``."""
    return name if isinstance(name, str) and name.isidentifier() and len(name) <= 40 else default


def _class_name(cls, default: str) -> str:
    """The learner's class name, for messages (sent as plain data)."""
    return _safe_name(getattr(cls, "__name__", default), default)


def _value_run(data: dict, cls) -> dict:
    """The kernel's half: for each expression, built from the learner's Values, its forward
    value and its leaves' gradients after ``backward`` (Python floats)."""
    name = _class_name(cls, "Value")
    out: dict = {"name": name, "results": []}
    try:
        for program, xs in zip(data["programs"], data["xs"]):
            ours = run_learner(lambda xs=xs: [cls(v) for v in xs], what=f"your {name}(x)")
            y = run_learner(
                lambda ours=ours, program=program: _run_program(program, ours, _value_tanh),
                what=f"your {name} (its +, * and tanh)",
            )
            record: dict = {}
            out["results"].append(record)
            record["y"] = run_learner(lambda y=y: float(y.data), what=f"float(your {name}.data)")
            run_learner(y.backward, what=f"your {name}.backward")
            record["grads"] = run_learner(
                lambda ours=ours: [float(v.grad) for v in ours], what=f"float(your {name}.grad)"
            )
    except ExerciseError as e:
        out["error"] = str(e)
    return out


def _value_judge(data: dict, out) -> str:
    """Each expression's value and leaf gradients against torch (float64), with hints."""
    torch = _torch()
    if not isinstance(out, dict) or not isinstance(out.get("results"), list):
        raise ExerciseError("the protocol's record did not come back as a dict")
    name = _safe_name(out.get("name"), "Value")
    results = out["results"]
    biggest = 0
    for k, (program, xs) in enumerate(zip(data["programs"], data["xs"])):
        record = results[k] if k < len(results) and isinstance(results[k], dict) else {}
        record = {**record, "error": out.get("error")}
        leaves = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in xs]
        out_t = _run_program(program, leaves, torch.tanh)
        expected = [
            g.item() if g is not None else 0.0
            for g in torch.autograd.grad(out_t, leaves, allow_unused=True)
        ]
        y = _recorded(record, "y")
        if not isinstance(y, float) or not math.isclose(
            y, out_t.item(), rel_tol=1e-9, abs_tol=1e-12
        ):
            shown = f"{y:.6g}" if isinstance(y, float) else repr(y)
            raise ExerciseError(
                f"expression {_describe(program)}: your forward value is {shown}, "
                f"torch's {out_t.item():.6g}"
            )
        got = _recorded(record, "grads")
        if not (
            isinstance(got, list) and len(got) == len(xs) and all(isinstance(g, float) for g in got)
        ):
            raise ExerciseError(f"the leaves' gradients did not come back as {len(xs)} floats")
        biggest = max(biggest, len(program[1]) + program[0])
        if all(math.isclose(g, e, rel_tol=1e-7, abs_tol=1e-10) for g, e in zip(got, expected)):
            continue
        message = (
            f"expression {_describe(program)} at {xs}: your leaf gradients "
            f"{[round(g, 6) for g in got]}, torch's {[round(e, 6) for e in expected]}"
        )
        for bug, hint in _VALUE_HINTS.items():
            refs = [_Ref(v, bug=bug) for v in xs]
            ref_out = _run_program(program, refs, _value_tanh)
            ref_out.backward()
            wrong = [r.grad for r in refs]
            if not all(
                math.isclose(w, e, rel_tol=1e-7, abs_tol=1e-10) for w, e in zip(wrong, expected)
            ) and all(math.isclose(g, w, rel_tol=1e-7, abs_tol=1e-10) for g, w in zip(got, wrong)):
                raise ExerciseError(f"{message}: {hint}")
        raise ExerciseError(message + _ratio_hint(np.array(got), np.array(expected)))
    return (
        f"{name}.backward matches torch on {len(data['programs'])} expressions "
        f"(up to {biggest} nodes, values reused)"
    )


def _value_protocol(n_random: int) -> Protocol:
    # (seed + 7: in a notebook, the expressions that chapter 2 has always drawn)
    return Protocol(lambda seed: _value_inputs(seed + 7, n_random), _value_run, _value_judge)


#: The protocol: 24 expressions (20 drawn from the seed) and their leaves' values in; the
#: learner's forward values and leaf gradients out; compared with torch in the judge.
VALUE_PROTOCOL = _value_protocol(20)


@uses(VALUE_PROTOCOL)
def check_value(cls, n_random: int = 20) -> None:
    r"""Check a micrograd-style scalar class ``cls``: ``cls(2.0)`` makes a leaf with ``.data``
    and ``.grad = 0``; ``a + b``, ``a * b`` (``b`` a Value or a Python number) and ``a.tanh()``
    make new Values that remember their inputs; ``out.backward()`` sets ``out.grad = 1`` and
    fills ``.grad`` of every Value the output depends on, visiting the nodes in reverse
    topological order so that each one is complete before it passes its gradient on.

    Checked against torch (float64) on 4 hand-picked expressions (a value used three times, a
    diamond) and ``n_random`` random ones; the feedback names the usual mistakes.

    See chapter 2.
    """
    (VALUE_PROTOCOL if n_random == 20 else _value_protocol(n_random)).check(cls)


def _describe(program) -> str:
    names = [chr(ord("a") + k) for k in range(program[0])]
    for step in program[1]:
        op, a = step[0], names[step[1]]
        if op in ("add", "mul"):
            text = f"({a} + {names[step[2]]})" if op == "add" else f"{a} * {names[step[2]]}"
        elif op in ("addc", "mulc"):
            text = f"({a} + {step[2]})" if op == "addc" else f"{a} * {step[2]}"
        else:
            text = f"tanh({a})"
        names.append(text if len(text) < 60 else f"n{len(names)}")
    return names[-1]


# ------------------------------------------------------------------ 5. backward by hand


def check_mlp_backward(fn, lib: str = "aigc_course") -> None:
    r"""Check ``fn(x, target, W1, b1, W2, b2) -> (dW1, db1, dW2, db2)``: the gradients of

    $$h = \mathrm{relu}(x W_1^\top + b_1), \quad z = h W_2^\top + b_2, \quad
    L = \frac1N \sum_n -\log \mathrm{softmax}(z_n)_{t_n},$$

    computed by hand (no autograd): $\partial L/\partial z = (p - \mathrm{onehot}(t)) / N$ with
    $p = \mathrm{softmax}(z)$, then back through the two Linear layers and the ReLU. The
    reference is torch's autograd on the same numbers. Inputs are tensors of ``lib`` without
    ``requires_grad``; ``target`` holds class indices.

    See chapter 2.
    """
    torch = _torch()
    F = torch.nn.functional
    g = torch.Generator().manual_seed(seeded(9))
    for n, d_in, d_hid, k in ((4, 3, 5, 3), (1, 2, 4, 4), (8, 6, 7, 5)):
        x = torch.randn(n, d_in, generator=g)
        target = torch.randint(0, k, (n,), generator=g)
        params = [
            torch.randn(d_hid, d_in, generator=g),
            torch.randn(d_hid, generator=g),
            torch.randn(k, d_hid, generator=g),
            torch.randn(k, generator=g),
        ]
        leaves = [p.clone().requires_grad_(True) for p in params]
        W1, b1, W2, b2 = leaves
        loss = F.cross_entropy(F.relu(x @ W1.T + b1) @ W2.T + b2, target)
        expected = torch.autograd.grad(loss, leaves)
        out = run_learner(
            fn, *(_as_lib_tensor(t, lib) for t in (x, target, *params)), what="your mlp_backward"
        )
        if not isinstance(out, (tuple, list)) or len(out) != 4:
            raise ExerciseError("return the four gradients (dW1, db1, dW2, db2), in that order")
        wrong = _mlp_mistakes(x.double(), target, [p.double() for p in params])
        for got, exp, name, index in zip(out, expected, ("dW1", "db1", "dW2", "db2"), range(4)):
            try:
                check_tensor(got, exp, what=f"your {name} (batch of {n})", rtol=1e-4, atol=1e-5)
            except ExerciseError as err:
                from ..testing import _to_numpy

                y = np.asarray(_to_numpy(got), dtype=np.float64)
                hint = ""
                if y.shape == tuple(exp.shape[::-1]) and y.ndim == 2:
                    hint = f" ({name} has the shape of its weight, (out, in): dz.T @ input)"
                for text, grads in wrong.items():
                    if y.shape == grads[index].shape and np.allclose(
                        y, grads[index], rtol=1e-4, atol=1e-5
                    ):
                        hint = f" ({text})"
                        break
                else:
                    if not hint and y.shape == tuple(exp.shape):
                        hint = _ratio_hint(y, exp.double().numpy())
                raise ExerciseError(f"{err}{hint}") from None
    passed("mlp_backward: all four gradients match autograd, batches of 1, 4 and 8")


def _as_lib_tensor(t, lib: str):
    if lib not in ("aigc_course", "torch"):
        raise ValueError(f"lib must be one of ('aigc_course', 'torch'), got {lib!r}")
    if lib == "torch":
        return t.clone()
    from .._creation import from_torch

    return from_torch(t)


def _mlp_mistakes(x, target, params) -> dict:
    """The four gradients as each usual mistake computes them (float64 numpy)."""
    W1, b1, W2, b2 = (p.numpy() for p in params)
    x, t = x.numpy(), target.numpy()
    n, k = x.shape[0], W2.shape[0]
    a = x @ W1.T + b1
    h = np.maximum(a, 0)
    z = h @ W2.T + b2
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    onehot = np.eye(k)[t]

    def grads(dz, relu_mask=True):
        dh = dz @ W2
        da = dh * (a > 0) if relu_mask else dh
        return [da.T @ x, da.sum(0), dz.T @ h, dz.sum(0)]

    q = np.exp(z - z.max(0, keepdims=True))
    q /= q.sum(0, keepdims=True)
    return {
        f"exactly {n}× the right gradient: the loss is the *mean* over the batch, so "
        f"∂L/∂z = (p − onehot) / N, with N = {n}": grads(p - onehot),
        "the ReLU lets no gradient through where its input was negative: multiply by "
        "(a > 0), the mask of the pre-activation": grads((p - onehot) / n, relu_mask=False),
        "∂L/∂z is p − onehot: subtract 1 at each row's target class": grads(p / n),
        "the softmax runs over the classes of each row (dim=1), not over the batch": grads(
            (q - onehot) / n
        ),
    }
