r"""Checkers for chapter 4's exercises (optimizers and schedules).

1. :func:`check_sgd_momentum`: an ``Optimizer`` subclass doing SGD with momentum.
2. :func:`check_adam`: Adam's step, with bias correction, against ``torch.optim.Adam``.
3. :func:`check_warmup_cosine`: a ``LambdaLR`` factor equal to torch's linear warm-up then cosine.
4. :func:`check_radam`: rectified Adam (Liu et al. 2020), against ``torch.optim.RAdam``.

:func:`check_adamw` (decoupled weight decay, against ``torch.optim.AdamW``) is kept for
instructors who assign it; the chapter itself shows AdamW's source.

The optimizer checkers give your optimizer and torch's the same starting parameters and the same
30 gradients, and compare the parameters after every step with torch's run in float64, within
a tolerance far above float32 rounding (so an answer computed in float32, float64 or Python
floats passes alike). Feedback names the first step and the first element where the two
trajectories part, and, when your trajectory equals that of a known mistake (no bias
correction, eps inside the square root, a step count shared by all parameters...), says which.
See chapter 4.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._creation import tensor
from ._checking import ExerciseError, Protocol, passed, run_learner, uses

__all__ = [
    "check_adam",
    "check_adamw",
    "check_radam",
    "check_sgd_momentum",
    "check_warmup_cosine",
]

SHAPES = [(3, 2), (4,)]
STEPS = 30


def _torch():
    import torch

    return torch


def _problem(seed: int = 0):
    """Starting parameters and a sequence of gradients (float32 numpy arrays)."""
    rng = np.random.default_rng(seed)
    start = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in SHAPES] for _ in range(STEPS)]
    return start, grads


def _inputs(seed: int) -> dict:
    start, grads = _problem(seed)
    return {"start": start, "grads": grads}


def _trajectory_outputs(outputs, what: str) -> list[list[np.ndarray]]:
    """The learner's trajectory as the judge received it, refused unless it is one float
    array of each parameter's shape for each of the 30 steps."""
    ok = isinstance(outputs, list) and len(outputs) == STEPS
    ok = ok and all(
        isinstance(step, list)
        and len(step) == len(SHAPES)
        and all(
            isinstance(a, np.ndarray) and a.shape == s and a.dtype.kind == "f"
            for a, s in zip(step, SHAPES)
        )
        for step in outputs
    )
    if not ok:
        raise ExerciseError(
            f"{what}'s trajectory did not come back as {STEPS} steps of {len(SHAPES)} float "
            f"arrays of shapes {SHAPES}"
        )
    return outputs


def _optimizer_protocol(kwargs, torch_name, torch_kwargs, what, mistakes, message) -> Protocol:
    """The fixed protocol of an optimizer exercise: ``_problem``'s parameters and 30
    gradients as inputs; the learner's trajectory (30 steps of parameters, in the kernel) as
    outputs; compared with ``torch.optim.<torch_name>``'s run in float64 in the judge."""

    def run(inputs, cls):
        return _learner_trajectory(cls, kwargs, inputs["start"], inputs["grads"], what)

    def judge(inputs, outputs) -> str:
        ours = _trajectory_outputs(outputs, what)
        torch_cls = getattr(_torch().optim, torch_name)
        _compare_trajectory(
            ours, inputs["start"], inputs["grads"], torch_cls, torch_kwargs, what, mistakes
        )
        return message

    return Protocol(_inputs, run, judge)


def _torch_trajectory(torch_cls, kwargs, start, grads):
    """torch's trajectory in float64: the reference that any correct arithmetic approaches."""
    torch = _torch()
    params = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in start]
    opt = torch_cls(params, **kwargs)
    out = []
    for g in grads:
        for p, gi in zip(params, g):
            p.grad = torch.tensor(gi, dtype=torch.float64)
        opt.step()
        out.append([p.detach().numpy().copy() for p in params])
    return out


def _learner_trajectory(cls, kwargs, start, grads, what):
    params = [tensor(a.copy(), requires_grad=True) for a in start]
    frozen = tensor(np.ones(2, dtype=np.float32), requires_grad=True)  # never gets a .grad
    opt = run_learner(lambda: cls([*params, frozen], **kwargs), what=f"{what}(params, **{kwargs})")
    out = []
    for t, g in enumerate(grads, start=1):
        for p, gi in zip(params, g):
            p.grad = tensor(gi)
        try:
            run_learner(opt.step, what=f"{what}.step() at step {t}")
        except ExerciseError as e:
            if "NoneType" in str(e):
                raise ExerciseError(
                    f"{e}\nHint: one parameter has no gradient (its .grad is None); skip it with "
                    "`if p.grad is None: continue`, as torch does."
                ) from None
            raise
        if frozen.detach().numpy().tolist() != [1.0, 1.0]:
            raise ExerciseError(
                f"{what}.step() changed a parameter whose .grad is None (at step {t}); torch "
                "skips such parameters: `if p.grad is None: continue`"
            )
        out.append([p.detach().numpy().copy() for p in params])
    return out


def _first_divergence(ours, theirs, rtol=1e-4, atol=1e-5, equal_nan=False):
    """(step, parameter, element index, ours, theirs) of the first mismatch, or None.

    The tolerance is set by float32 rounding: 30 float32 steps stay within about 1e-6 of the
    float64 trajectory, a hundred times less than ``atol``; every known mistake moves a
    parameter by more than 1e-3 at its first wrong step."""
    for t, (o, th) in enumerate(zip(ours, theirs), start=1):
        for i, (a, b) in enumerate(zip(o, th)):
            bad = ~np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
            if bad.any():
                idx = tuple(int(k) for k in np.argwhere(bad)[0])
                return t, i, idx, float(a[idx]), float(b[idx])
    return None


def _same(ours, ref):
    return _first_divergence(ours, ref, equal_nan=True) is None


def _compare_trajectory(ours, start, grads, torch_cls, torch_kwargs, what, mistakes) -> None:
    """Compare step by step; ``mistakes`` maps a hint to a numpy reference of that mistake
    (a dict, or a list of (hint, reference) pairs when two mistakes share a hint)."""
    theirs = _torch_trajectory(torch_cls, torch_kwargs, start, grads)
    found = _first_divergence(ours, theirs)
    if found is None:
        return
    t, i, idx, a, b = found
    message = (
        f"{what}'s trajectory leaves torch.optim.{torch_cls.__name__}'s at step {t}, parameter "
        f"{i}, element {idx}: yours {a:.6g}, torch's {b:.6g}"
    )
    for hint, reference in mistakes.items() if isinstance(mistakes, dict) else mistakes:
        if _same(ours, reference(start, grads)):
            message += f"\nHint: {hint}"
            break
    else:
        if not np.isfinite(a):
            message += "\nHint: a NaN or inf: is something divided by zero at the first step?"
    raise ExerciseError(message)


def _numpy_run(update, start, grads):
    """Trajectory of ``update(theta, g, state, t)`` (in place on theta) in float32."""
    params = [a.copy() for a in start]
    states = [{"index": i} for i in range(len(params))]  # the parameter's place in the list
    out = []
    with np.errstate(all="ignore"):
        for t, g in enumerate(grads, start=1):
            for theta, gi, state in zip(params, g, states):
                update(theta, gi, state, t)
            out.append([p.copy() for p in params])
    return out


# ------------------------------------------------------------------ 1. SGD with momentum

SGD_KWARGS = {"lr": 0.1, "momentum": 0.9}


def _sgd_mistake(kind: str):
    lr, mu = SGD_KWARGS["lr"], SGD_KWARGS["momentum"]

    def update(theta, g, state, t):
        b_old = state.get("b", np.zeros_like(g))
        if kind == "ema":
            b = mu * b_old + (1 - mu) * g
        else:
            b = mu * b_old + g
        state["b"] = b
        theta -= lr * (b_old if kind == "stale" else b)

    return lambda start, grads: _numpy_run(update, start, grads)


SGD_PROTOCOL = _optimizer_protocol(
    SGD_KWARGS,
    "SGD",
    SGD_KWARGS,
    "your SGD",
    {
        "you averaged the gradient, b = momentum * b + (1 - momentum) * g; torch's SGD "
        "adds the whole gradient (heavy-ball momentum): b = momentum * b + g": _sgd_mistake("ema"),
        "you moved p with the buffer from the previous step; update b first, then "
        "p = p - lr * b": _sgd_mistake("stale"),
    },
    "your SGD with momentum follows torch.optim.SGD for 30 steps (2 parameters)",
)


@uses(SGD_PROTOCOL)
def check_sgd_momentum(cls) -> None:
    """``cls(params, lr, momentum)`` must update like ``torch.optim.SGD(params, lr, momentum)``
    (no dampening, no weight decay): b = momentum * b + g, then p = p - lr * b."""
    SGD_PROTOCOL.check(cls)


# ------------------------------------------------------------------ 2. Adam

ADAM_KWARGS = {"lr": 0.05, "betas": (0.8, 0.95), "eps": 1e-3}


def _step_count(kind: str, t: int, index: int, n_params: int) -> int:
    """The t that a mistaken optimizer uses for parameter ``index`` at step ``t``."""
    if kind == "t0":
        return t - 1
    if kind == "shared_t":  # one counter on the optimizer, bumped for each parameter it updates
        return (t - 1) * n_params + index + 1
    if kind == "shared_t_all":  # ... bumped for every parameter, the one without a .grad too
        return (t - 1) * (n_params + 1) + index + 1
    return t


def _adam_mistake(kind: str, weight_decay: float = 0.0):
    lr, (beta1, beta2), eps = ADAM_KWARGS["lr"], ADAM_KWARGS["betas"], ADAM_KWARGS["eps"]

    def update(theta, g, state, t):
        if kind == "coupled":  # Adam's L2 penalty instead of AdamW's decay
            g = g + weight_decay * theta
        elif weight_decay and kind != "decay_after":
            theta *= 1 - lr * weight_decay
        m = state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
        v = state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g * g
        tt = _step_count(kind, t, state["index"], len(SHAPES))
        if kind == "no_bias_correction":
            m_hat, v_hat = m, v
        else:
            m_hat, v_hat = m / (1 - beta1**tt), v / (1 - beta2**tt)
        if kind == "eps_inside":
            theta -= (lr * m_hat / np.sqrt(v_hat + eps)).astype(np.float32)
        else:
            theta -= (lr * m_hat / (np.sqrt(v_hat) + eps)).astype(np.float32)
        if kind == "decay_after":
            theta *= 1 - lr * weight_decay

    return lambda start, grads: _numpy_run(update, start, grads)


HINT_SHARED_T = (
    "your step count t is shared by all the parameters and bumped once per parameter, so at "
    "the first step the second parameter already sees t = 2 (and its bias correction is too "
    "small). t counts calls of step(), for each parameter: keep it in self.state[p], as torch "
    "does (state['step'])"
)
HINT_T0 = (
    "your step count t starts at 0, so 1 - beta**t is 0 at the first step; count the step "
    "before using it (t = 1 at the first step)"
)
ADAM_HINT_NO_BIAS = (
    "no bias correction: the article's update. Divide m by (1 - beta1**t) and v by "
    "(1 - beta2**t) before using them (t = 1 at the first step)"
)
ADAM_HINTS = [  # (hint, the mistake's kind); the first whose trajectory matches is given
    (ADAM_HINT_NO_BIAS, "no_bias_correction"),
    (
        "eps is inside the square root; Adam adds it after: m_hat / (sqrt(v_hat) + eps)",
        "eps_inside",
    ),
    (HINT_T0, "t0"),
    (HINT_SHARED_T, "shared_t"),
    (HINT_SHARED_T, "shared_t_all"),
]


ADAM_PROTOCOL = _optimizer_protocol(
    ADAM_KWARGS,
    "Adam",
    ADAM_KWARGS,
    "your Adam",
    [(hint, _adam_mistake(kind)) for hint, kind in ADAM_HINTS],
    "your Adam follows torch.optim.Adam for 30 steps (2 parameters), bias correction included",
)


@uses(ADAM_PROTOCOL)
def check_adam(cls) -> None:
    """``cls(params, lr, betas, eps)`` must update like ``torch.optim.Adam`` (no weight decay);
    feedback names the first step and element where the trajectories part."""
    ADAM_PROTOCOL.check(cls)


# ------------------------------------------------------------------ 3. warm-up then cosine

WARMUP, TOTAL, START_FACTOR = 5, 25, 0.1


def check_warmup_cosine(lr_lambda: Callable[[int], float]) -> None:
    """``lr_lambda(t)`` must give the factor of torch's
    ``SequentialLR([LinearLR(start_factor=0.1, total_iters=5), CosineAnnealingLR(T_max=20)],
    milestones=[5])`` at each step t = 0..29 (so ``LambdaLR(opt, lr_lambda)`` equals it)."""
    torch = _torch()
    S = torch.optim.lr_scheduler
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    warmup = S.LinearLR(opt, start_factor=START_FACTOR, total_iters=WARMUP)
    cosine = S.CosineAnnealingLR(opt, T_max=TOTAL - WARMUP)
    sched = S.SequentialLR(opt, [warmup, cosine], milestones=[WARMUP])
    expected = []
    for _ in range(TOTAL + 5):
        expected.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    for t, want in enumerate(expected):
        got = run_learner(lr_lambda, t, what="your lr_lambda")
        try:
            got = float(got)
        except (TypeError, ValueError):
            raise ExerciseError(
                f"your lr_lambda({t}) returned {got!r}; expected a number"
            ) from None
        if abs(got - want) > 1e-9 + 1e-6 * abs(want):
            if t < WARMUP:
                hint = (
                    f"during the warm-up the factor rises linearly from {START_FACTOR} at t = 0 "
                    f"to 1 at t = {WARMUP}"
                )
            elif t == WARMUP:
                hint = f"at t = {WARMUP} the cosine phase starts, at its own step 0: factor 1"
            elif t > TOTAL and abs(got - min(expected[: TOTAL + 1])) < 1e-9:
                hint = (
                    f"your factor stays at its minimum after the cosine's T_max = "
                    f"{TOTAL - WARMUP} steps (t > {TOTAL}); torch's CosineAnnealingLR does not "
                    f"stop there: the formula keeps going, and the factor rises again, "
                    f"0.5 * (1 + cos(pi * (t - {WARMUP}) / {TOTAL - WARMUP})) for every t"
                )
            else:
                hint = (
                    f"the cosine phase counts its own steps, t - {WARMUP}, over "
                    f"T_max = {TOTAL - WARMUP} steps: 0.5 * (1 + cos(pi * (t - {WARMUP}) / "
                    f"{TOTAL - WARMUP}))"
                )
            raise ExerciseError(
                f"your lr_lambda({t}) = {got:.6g}, torch's schedule gives {want:.6g}\nHint: {hint}"
            )
    passed(f"your lr_lambda equals torch's warm-up + cosine schedule for t = 0..{TOTAL + 4}")


# ------------------------------------------------------------------ 4. RAdam

RADAM_KWARGS = {"lr": 0.05, "betas": (0.8, 0.95), "eps": 1e-3}


def _radam_mistake(kind: str):
    lr, (beta1, beta2), eps = RADAM_KWARGS["lr"], RADAM_KWARGS["betas"], RADAM_KWARGS["eps"]
    rho_inf = 2 / (1 - beta2) - 1

    def update(theta, g, state, t):
        m = state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
        v = state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g * g
        tt = _step_count(kind, t, state["index"], len(SHAPES))
        m_hat = m if kind == "no_bias_correction" else m / (1 - beta1**tt)
        rho_t = rho_inf - 2 * tt * beta2**tt / np.float64(1 - beta2**tt)  # nan when tt = 0
        if rho_t > 5 or kind == "always_rectify":
            r = (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            r = np.sqrt(np.float64(r))  # NaN when negative, as the learner's would be
            if kind == "v_hat":  # Adam's denominator: eps added after the bias correction
                adaptive = 1 / (np.sqrt(v / (1 - beta2**tt)) + eps)
            else:
                adaptive = np.sqrt(1 - beta2**tt) / (np.sqrt(v) + eps)
            theta -= (lr * m_hat * adaptive * r).astype(np.float32)
        else:
            theta -= (lr * m_hat).astype(np.float32)

    return lambda start, grads: _numpy_run(update, start, grads)


RADAM_HINTS = [
    (
        "you applied the rectified update at every step. In the first steps rho_t <= 5: the "
        "variance estimate is not trusted yet (the rectification even takes the square root "
        "of a negative number, NaN at step 3), so RAdam takes the plain momentum step, "
        "p = p - lr * m_hat",
        "always_rectify",
    ),
    (
        "m is not bias-corrected: RAdam's steps use m_hat = m / (1 - beta1**t), in both branches",
        "no_bias_correction",
    ),
    (
        "you used Adam's denominator, sqrt(v_hat) + eps. RAdam's adaptive rate is "
        "l_t = sqrt(1 - beta2**t) / (sqrt(v) + eps): eps is added to sqrt(v) before the bias "
        "correction, which changes the step when v is small",
        "v_hat",
    ),
    (HINT_T0, "t0"),
    (HINT_SHARED_T, "shared_t"),
    (HINT_SHARED_T, "shared_t_all"),
]


RADAM_PROTOCOL = _optimizer_protocol(
    RADAM_KWARGS,
    "RAdam",
    RADAM_KWARGS,
    "your RAdam",
    [(hint, _radam_mistake(kind)) for hint, kind in RADAM_HINTS],
    "your RAdam follows torch.optim.RAdam for 30 steps (2 parameters), through both of "
    "its phases (plain momentum while rho_t <= 5, then rectified)",
)


@uses(RADAM_PROTOCOL)
def check_radam(cls) -> None:
    """``cls(params, lr, betas, eps)`` must update like ``torch.optim.RAdam`` (no weight decay):
    Adam's averages, then the rectified adaptive step when rho_t > 5 and the plain momentum
    step before. Feedback names the first step and element where the trajectories part."""
    RADAM_PROTOCOL.check(cls)


# ------------------------------------------------------------------ AdamW (not in the chapter)

ADAMW_KWARGS = {**ADAM_KWARGS, "weight_decay": 0.5}


_WD = ADAMW_KWARGS["weight_decay"]
ADAMW_PROTOCOL = _optimizer_protocol(
    ADAMW_KWARGS,
    "AdamW",
    ADAMW_KWARGS,
    "your AdamW",
    {
        "you added weight_decay * p to the gradient: that is Adam's L2 penalty, which is "
        "then divided by sqrt(v_hat). AdamW shrinks p directly: p = p * (1 - lr * "
        "weight_decay)": _adam_mistake("coupled", _WD),
        "you decayed the weights after the Adam update; torch decays them first, from the "
        "parameters the gradient was computed at": _adam_mistake("decay_after", _WD),
        ADAM_HINT_NO_BIAS: _adam_mistake("no_bias_correction", _WD),
    },
    "your AdamW follows torch.optim.AdamW for 30 steps (2 parameters)",
)


@uses(ADAMW_PROTOCOL)
def check_adamw(cls) -> None:
    """``cls(params, lr, betas, eps, weight_decay)`` must update like ``torch.optim.AdamW``."""
    ADAMW_PROTOCOL.check(cls)
