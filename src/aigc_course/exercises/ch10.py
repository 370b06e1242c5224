r"""Checkers for chapter 10's exercises (diffusion).

1. :func:`check_add_noise`: the forward process in closed form, against
   ``diffusers.DDPMScheduler.add_noise``.
2. :func:`check_cosine_betas`: the cosine schedule's betas, against diffusers'
   ``"squaredcos_cap_v2"``.
3. :func:`check_ddpm_step`: one reverse step (epsilon prediction, clipped $\hat x_0$, the
   posterior mean and ``fixed_small`` variance), against the step computed in float64 with the
   same Gaussian draw, within a tolerance set by float32 rounding (so a float32 answer and a
   float64 one both pass; diffusers' own float32 step passes too, see the tests).
4. :func:`check_cfg`: classifier-free guidance, against the formula on a small random denoiser.
5. :func:`check_sample_digits`: a whole guided sampler with respaced timesteps, built on the
   learner's step and guidance, against ``diffusers.DDPMScheduler`` with ``set_timesteps``.

When a wrong answer equals a known mistake (no square roots, signal and noise swapped, $t - 1$
instead of $t$, no clipping, noise added at the last step, the forward variance $\beta_t$ or
the posterior ratio upside down, the standard deviation without its square root,
``alphas_cumprod[t - 1]`` wrapping to the last entry at $t = 0$, the guidance direction
reversed, the paper's $(1 + w)$ convention...), the feedback says which. See chapter 10.

4 and 5 are protocols (:class:`~aigc_course.exercises._checking.Protocol`): the images, the
timestep, the labels and the sampler's draws are plain data drawn from the seed; your code runs
on them, with the small denoiser, where it lives and sends back its predictions and its number
of model calls; the comparison is made apart from it (in the grader, in its judge, with a
secret seed).
"""

from __future__ import annotations

import numpy as np

from .._creation import from_numpy, tensor
from ..autograd.grad_mode import no_grad
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
from .ch09 import _records, _value_record

__all__ = [
    "check_add_noise",
    "check_cfg",
    "check_cosine_betas",
    "check_ddpm_step",
    "check_sample_digits",
]

BROADCAST_HINT = (
    "alphas_cumprod[t] has shape (N,), which broadcasts against the LAST dimension of x0; "
    "reshape it to (N, 1, 1) first"
)


def _torch():
    import torch

    return torch


def _reference_scheduler():
    from diffusers import DDPMScheduler

    return DDPMScheduler()


def _matches(got, expected) -> bool:
    try:
        check_tensor(got, expected, check_dtype=False)
    except ExerciseError:
        return False
    return True


def check_add_noise(add_noise) -> None:
    r"""``add_noise(x0, noise, t, alphas_cumprod)`` returns
    $\sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\epsilon$ for a batch (N, 8, 8) with one
    timestep per image."""
    torch = _torch()
    ref = _reference_scheduler()
    g = torch.Generator().manual_seed(seeded(0))
    x0 = torch.rand(6, 8, 8, generator=g) * 2 - 1
    noise = torch.randn(6, 8, 8, generator=g)
    t = torch.tensor([0, 1, 10, 250, 600, 999])
    abar = ref.alphas_cumprod
    expected = ref.add_noise(x0, noise, t)
    args = (from_numpy(x0.numpy()), from_numpy(noise.numpy()), from_numpy(t.numpy()))
    got = run_learner(
        add_noise,
        *args,
        from_numpy(abar.numpy()),
        what="add_noise(x0, noise, t, alphas_cumprod)",
        broadcast_hint=BROADCAST_HINT,
    )
    a = abar[t].reshape(-1, 1, 1)
    mistakes = [
        (
            a * x0 + (1 - a) * noise,
            "you used alphas_cumprod itself; the coefficients are its square roots, "
            "sqrt(abar_t) and sqrt(1 - abar_t), so that the variance of x_t stays 1",
        ),
        (
            a.sqrt() * noise + (1 - a).sqrt() * x0,
            "signal and noise are swapped: sqrt(abar_t) multiplies x0 (abar_t is near 1 at "
            "small t, when x_t should be nearly clean)",
        ),
        (
            x0 + (1 - a).sqrt() * noise,
            "the signal must shrink as noise is added: multiply x0 by sqrt(abar_t)",
        ),
        (
            abar[t - 1].reshape(-1, 1, 1).sqrt() * x0
            + (1 - abar[t - 1].reshape(-1, 1, 1)).sqrt() * noise,
            "you used alphas_cumprod[t - 1]: the paper counts timesteps from 1 to T, but the "
            "tables here (and diffusers') count from 0, so timestep t is alphas_cumprod[t] "
            "(and at t = 0, t - 1 wraps around to the last entry)",
        ),
    ]
    if hasattr(got, "shape") and tuple(got.shape) == tuple(expected.shape):
        for wrong, hint in mistakes:
            if not _matches(got, expected) and _matches(got, wrong):
                raise ExerciseError(f"add_noise: {hint}")
    # any precision: a float64 answer (Python floats, math.sqrt) is as right as a float32 one
    check_tensor(got, expected, what="add_noise(x0, noise, t, alphas_cumprod)", check_dtype=False)
    passed("add_noise matches diffusers.DDPMScheduler.add_noise at t = 0, 1, 10, 250, 600, 999")


#: float32's unit roundoff (2^-24): what one rounding to float32 can cost, relatively
U32 = float(np.finfo(np.float32).eps) / 2


def _step64(eps, t, x, noise, abar, mistake: str = "", beta_shift: float = 0.0) -> np.ndarray:
    r"""One reverse step in float64 (every input as numpy float64; ``abar`` the float32 table
    converted to float64), or the answer that ``mistake`` gives:

    - ``"no_clip"``: $\hat x_0$ not clipped; ``"no_noise"``: the mean only, also for $t > 0$;
    - ``"large"``: the forward variance $\beta_t$; ``"flipped"``: the posterior ratio upside
      down, $\frac{1-\bar\alpha_t}{1-\bar\alpha_{t-1}}\beta_t$; ``"no_sqrt"``: the variance
      used as the standard deviation;
    - ``"wrap"``: ``alphas_cumprod[t - 1]`` also at $t = 0$, which is the last entry.
    """
    a_t = abar[t]
    a_prev = abar[t - 1] if t > 0 or mistake == "wrap" else 1.0  # abar[-1] is the LAST entry
    beta = 1.0 - a_t / a_prev + beta_shift
    x0 = (x - np.sqrt(1.0 - a_t) * eps) / np.sqrt(a_t)
    if mistake != "no_clip":
        x0 = np.clip(x0, -1.0, 1.0)
    with np.errstate(invalid="ignore"):
        mean = (np.sqrt(a_prev) * beta / (1.0 - a_t)) * x0 + (
            np.sqrt(1.0 - beta) * (1.0 - a_prev) / (1.0 - a_t)
        ) * x
        if t == 0 or mistake == "no_noise":
            return mean
        if mistake == "large":
            variance = beta
        elif mistake == "flipped":
            variance = (1.0 - a_t) / (1.0 - a_prev) * beta
        else:
            variance = (1.0 - a_prev) / (1.0 - a_t) * beta
        std = variance if mistake == "no_sqrt" else np.sqrt(variance)
        return mean + std * noise


def _step_tolerance(eps, t, x, noise, abar) -> np.ndarray:
    r"""Elementwise, how far a correct float32 evaluation of the step may land from the
    float64 one: a few roundings of every term, plus the one ill-conditioned quantity,
    $\beta_t = 1 - \bar\alpha_t/\bar\alpha_{t-1}$, a difference of two numbers near 1 whose
    absolute error (about one rounding of the ratio, up to $2^{-24}$) is magnified by
    $1/(1-\bar\alpha_t)$ in the mean: about 2e-5 at $t = 5$."""
    a_t = abar[t]
    a_prev = abar[t - 1] if t > 0 else 1.0
    beta = 1.0 - a_t / a_prev
    x0_raw = (np.abs(x) + np.sqrt(1.0 - a_t) * np.abs(eps)) / np.sqrt(a_t)
    x0 = np.minimum(x0_raw, 1.0)
    c0 = np.sqrt(a_prev) * beta / (1.0 - a_t)
    c1 = np.sqrt(1.0 - beta) * (1.0 - a_prev) / (1.0 - a_t)
    std = np.sqrt((1.0 - a_prev) / (1.0 - a_t) * beta) if t > 0 else 0.0
    rounding = 16 * U32 * (c0 * x0 + c1 * np.abs(x) + std * np.abs(noise) + c0 * x0_raw)
    exact = _step64(eps, t, x, noise, abar)
    shift = 4 * U32  # a few roundings of the ratio abar_t / abar_{t-1}, which is near 1
    sensitivity = np.maximum(
        np.abs(_step64(eps, t, x, noise, abar, beta_shift=shift) - exact),
        np.abs(_step64(eps, t, x, noise, abar, beta_shift=-shift) - exact),
    )
    return rounding + sensitivity + 1e-7


DDPM_STEP_HINTS = {
    "no_clip": "clip the predicted x0 to [-1, 1] before the posterior mean",
    "no_noise": "for t > 0 the step is a draw, not just the mean: add sqrt(variance) * noise",
    "large": "the variance is the posterior's, (1 - abar_{t-1}) / (1 - abar_t) * beta_t "
    "(diffusers' fixed_small), not beta_t",
    "flipped": "the posterior variance's ratio is upside down: it is "
    "(1 - abar_{t-1}) / (1 - abar_t) * beta_t, a little SMALLER than beta_t, since the "
    "posterior knows x0",
    "no_sqrt": "noise has variance 1, so multiply it by the standard deviation, "
    "sqrt(variance), not by the variance itself",
    "wrap": "at t = 0, alphas_cumprod[t - 1] is alphas_cumprod[-1], which Python wraps to the "
    "LAST entry (abar_999, almost 0); the step from t = 0 needs abar_{-1} = 1 (no noise is "
    "left)",
}

STEP_TIMESTEPS = (999, 500, 100, 5, 1, 0)


def _step_inputs(t: int):
    """The checker's float32 inputs at timestep ``t`` (eps large enough that x0 needs clipping)."""
    rng = np.random.default_rng(seeded(1000 + t))
    x = (rng.standard_normal((4, 8, 8)) * (1.0 if t > 100 else 0.6)).astype(np.float32)
    eps = (rng.standard_normal((4, 8, 8)) * 1.5).astype(np.float32)
    noise = rng.standard_normal((4, 8, 8)).astype(np.float32)
    return eps, x, noise


def _linear_alphas_cumprod() -> np.ndarray:
    """The float32 table of DDPM's linear schedule (1e-4 to 0.02, 1000 steps), as diffusers and
    torch compute it: float32 betas, a float64 cumulative product rounded once to float32."""
    from ..diffusion.scheduler import _linspace_float32  # torch.linspace's float32 rounding

    betas = _linspace_float32(1e-4, 0.02, 1000)
    return np.cumprod((np.float32(1) - betas).astype(np.float64)).astype(np.float32)


def check_ddpm_step(ddpm_step) -> None:
    r"""``ddpm_step(eps, t, x_t, noise, alphas_cumprod)`` returns $x_{t-1}$ (all 1,000 steps,
    epsilon prediction, $\hat x_0$ clipped to [-1, 1], posterior variance, no noise at
    $t = 0$), checked against the same step computed in float64, within a tolerance set by
    float32 rounding: a float32 answer, a float64 one and diffusers' ``DDPMScheduler.step``
    (with the same noise) all pass."""
    abar32 = _linear_alphas_cumprod()
    abar = abar32.astype(np.float64)
    for t in STEP_TIMESTEPS:
        eps, x, noise = _step_inputs(t)
        e64, x64, z64 = (a.astype(np.float64) for a in (eps, x, noise))
        expected = _step64(e64, t, x64, z64, abar)
        what = f"ddpm_step(eps, {t}, x_t, noise, alphas_cumprod)"
        args = (from_numpy(eps), t, from_numpy(x), from_numpy(noise))
        got = run_learner(ddpm_step, *args, from_numpy(abar32), what=what)
        if not hasattr(got, "shape"):
            raise ExerciseError(f"{what} returned {type(got).__name__}; expected a tensor")
        if tuple(got.shape) != expected.shape:
            check_tensor(got, expected, what=what, check_dtype=False)  # reports the shapes
        g = as_numpy(got).astype(np.float64)
        tolerance = _step_tolerance(e64, t, x64, z64, abar)
        with np.errstate(invalid="ignore"):
            bad = ~(np.abs(g - expected) <= tolerance)
        if not bad.any():
            continue
        for mistake, hint in DDPM_STEP_HINTS.items():
            wrong = _step64(e64, t, x64, z64, abar, mistake=mistake)
            with np.errstate(invalid="ignore"):
                if np.all(np.abs(wrong - expected) <= tolerance):
                    continue  # this mistake makes no difference at this t
                scale = np.nanmax(np.abs(wrong)) if np.isfinite(wrong).any() else 0.0
                near = np.abs(g - wrong) <= 10 * tolerance + 1e-5 * scale  # cancels at scale
            if np.all(near | (np.isnan(g) & np.isnan(wrong))):
                raise ExerciseError(f"{what}: {hint}")
        i = np.unravel_index(np.argmax(np.where(bad, np.abs(g - expected), np.inf)), g.shape)
        if np.isnan(g).any():
            i = np.unravel_index(np.argmax(np.isnan(g)), g.shape)
        raise ExerciseError(
            f"{what}: {int(bad.sum())} of {g.size} values differ from the step computed in "
            f"float64 by more than float32 rounding explains; worst at {tuple(map(int, i))}: "
            f"yours {g[i]!r}, expected {expected[i]!r} (tolerance {tolerance[i]:.2g})"
        )
    passed(
        "ddpm_step matches the float64 posterior step (diffusers' DDPMScheduler.step, up to "
        "float32 rounding) at t = 999, 500, 100, 5, 1, 0"
    )


#: Classifier-free guidance's protocol: the guidance scales, w = 3 first (there the known
#: mistakes all differ), and the seed of the small random denoiser both sides build.
CFG_SCALES = (3.0, 0.0, 1.0)
DENOISER_SEED = 10


def _cfg_inputs(seed: int) -> dict:
    """The images (4, 8, 8), a timestep and four labels, drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((4, 8, 8)).astype(np.float32)
    return {
        "model_seed": DENOISER_SEED,
        "x": x,
        "t": int(rng.integers(1, 1000)),
        "labels": [int(y) for y in rng.integers(0, 10, 4)],
        "scales": list(CFG_SCALES),
    }


def _cfg_what(t: int, w: float) -> str:
    return f"cfg(model, x, {t}, labels, guidance_scale={w})"


def _cfg_run(data: dict, cfg) -> list[dict]:
    """The kernel's half: the learner's guided prediction for each scale, on the small
    denoiser (counting its calls), as plain data; a failure is recorded in its place."""
    model = _small_denoiser(data["model_seed"])
    records = []
    for w in data["scales"]:
        counting = _CountingModel(model)
        x, labels = from_numpy(data["x"].copy()), tensor(list(data["labels"]))
        with no_grad():
            record = _value_record(
                cfg, counting, x, data["t"], labels, w, what=_cfg_what(data["t"], w), lists=False
            )
        records.append({**record, "calls": counting.calls})
    return records


def _cfg_judge(data: dict, records) -> str:
    """The judge's half: each prediction against the formula on the same denoiser, with the
    hints of the known mistakes."""
    records = _records(records, len(data["scales"]), "cfg", {"calls": _is_count})
    model = _small_denoiser(data["model_seed"])
    t, x = data["t"], from_numpy(data["x"].copy())
    labels = tensor(list(data["labels"]))
    null = tensor([model.null_label] * len(data["labels"]))
    with no_grad():
        cond, uncond = model(x, t, labels), model(x, t, null)
    calls = {}
    for w, record in zip(data["scales"], records):
        what = _cfg_what(t, w)
        got = _learner_value(record, what)
        calls[w] = record["calls"]
        expected = (uncond + w * (cond - uncond)).numpy()
        mistakes = [
            (
                cond + w * (uncond - cond),
                "the direction is reversed: start from the "
                "unconditional prediction and move towards the conditional one, "
                "eps_uncond + w * (eps_cond - eps_uncond)",
            ),
            (
                cond + w * (cond - uncond),
                "that is Ho & Salimans' convention, (1 + w) eps_cond - w eps_uncond, whose w is "
                "ours minus one; this course and diffusers' guidance_scale write "
                "eps_uncond + w * (eps_cond - eps_uncond), so that w = 1 is the plain "
                "conditional model",
            ),
            (
                w * cond,
                "guidance extrapolates from the unconditional prediction: "
                "eps_uncond + w * (eps_cond - eps_uncond), not w * eps_cond",
            ),
            (
                cond,
                "the unconditional prediction needs the 'no label' class: call the model "
                "with labels set to model.null_label",
            ),
        ]
        if tuple(got.shape) == expected.shape:
            for wrong, hint in mistakes:
                if not _matches(got, expected) and _matches(got, wrong.numpy()):
                    raise ExerciseError(f"{what}: {hint}")
        check_tensor(got, expected, what=what, check_dtype=False)
    message = "cfg gives eps_uncond + w (eps_cond - eps_uncond) for w = 3, 0 and 1"
    first = calls[data["scales"][0]]
    if first == 1:
        return f"{message}, with one batched model call"
    return (
        f"{message}; you made {first} model calls per guided prediction: one call on "
        "the images twice (cat([x, x]), with cat([labels, null])) does both at once"
    )


#: The protocol: images, a timestep and labels (drawn from the seed) in; the learner's guided
#: predictions and model-call counts out; compared with the formula on the same denoiser.
CFG_PROTOCOL = Protocol(_cfg_inputs, _cfg_run, _cfg_judge)


@uses(CFG_PROTOCOL)
def check_cfg(cfg) -> None:
    r"""``cfg(model, x, t, labels, guidance_scale)`` returns
    $\epsilon_\varnothing + w(\epsilon_y - \epsilon_\varnothing)$, where the unconditional
    prediction uses the label ``model.null_label``."""
    CFG_PROTOCOL.check(cfg)


# ------------------------------------------------------------------ plain-data records
# (made by chapter 9's _value_record, checked by its _records)


def _is_count(calls) -> bool:
    return type(calls) is int and calls >= 0


def _learner_value(record: dict, what: str):
    """The learner's answer from its record, as an ``aigc_course`` tensor of its own dtype
    (so that the tolerance is the one for the learner's dtype, as in a notebook)."""
    if "error" in record:
        raise ExerciseError(record["error"])
    if "returned" in record:
        raise ExerciseError(f"{what} returned {record['returned']}; expected a tensor")
    return from_numpy(np.ascontiguousarray(record["value"]))


def _small_denoiser(seed: int = DENOISER_SEED):
    """A small random denoiser, seeded, without touching the learner's global random stream."""
    from .. import random
    from ..diffusion.denoiser import Denoiser

    state = random._rng.bit_generator.state
    try:
        random.manual_seed(seed)
        return Denoiser(hidden=32, num_blocks=1).eval()
    finally:
        random._rng.bit_generator.state = state  # the learner's global stream is unchanged


class _CountingModel:
    """The learner's view of the model: the same module, counting its calls."""

    def __init__(self, model):
        self._model = model
        self.calls = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self._model(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._model, name)


def _cosine_variant(T: int, s: float = 0.008, cap: float | None = 0.999) -> np.ndarray:
    import math

    def abar(x):
        return math.cos((x + s) / (1 + s) * math.pi / 2) ** 2

    betas = [1 - abar((t + 1) / T) / abar(t / T) for t in range(T)]
    return np.array([min(b, cap) if cap else b for b in betas], dtype=np.float32)


def check_cosine_betas(cosine_betas) -> None:
    r"""``cosine_betas(T)`` returns the T betas of Nichol & Dhariwal's cosine schedule,
    $\beta_t = \min(1 - \bar\alpha(\frac{t+1}{T})/\bar\alpha(\frac{t}{T}), 0.999)$ with
    $\bar\alpha(x) = \cos^2(\frac{x + 0.008}{1.008}\frac{\pi}{2})$, against diffusers'
    ``"squaredcos_cap_v2"``."""
    from diffusers import DDPMScheduler

    for T in [1000, 50]:
        expected = DDPMScheduler(num_train_timesteps=T, beta_schedule="squaredcos_cap_v2").betas
        what = f"cosine_betas({T})"
        got = run_learner(cosine_betas, T, what=what)
        got = got if hasattr(got, "shape") else tensor(np.asarray(got, dtype=np.float32))
        mistakes = [
            (
                _cosine_variant(T, cap=None),
                "cap each beta at 0.999: the last one is 1 otherwise "
                "(abar reaches 0 at t = T), and a step with beta = 1 erases everything",
            ),
            (
                _cosine_variant(T, s=0.0),
                "use the offset s = 0.008, (x + s) / (1 + s): without "
                "it the first betas are tiny and the first steps do nothing",
            ),
            (1 - _cosine_variant(T), "return the betas, 1 - abar(t+1)/abar(t), not the alphas"),
        ]
        if tuple(got.shape) == tuple(expected.shape):
            for wrong, hint in mistakes:
                if not _matches(got, expected.numpy()) and _matches(got, wrong):
                    raise ExerciseError(f"{what}: {hint}")
        check_tensor(got, expected.numpy(), what=what, check_dtype=False, rtol=1e-5, atol=1e-6)
    passed("cosine_betas matches diffusers' squaredcos_cap_v2 for T = 1000 and 50")


# ------------------------------------------------------------------ 5. the sampler


def _guided64(model, x64, t, labels, w) -> np.ndarray:
    """The guided noise prediction (the formula, two plain model calls) on float32 inputs."""
    x = from_numpy(x64.astype(np.float32))
    null = tensor([model.null_label] * len(labels))
    with no_grad():
        cond, uncond = model(x, t, labels).numpy(), model(x, t, null).numpy()
    return uncond.astype(np.float64) + w * (cond.astype(np.float64) - uncond.astype(np.float64))


def _sample64(model, labels, w, abar, x_T, noises, mistake: str = "") -> np.ndarray:
    r"""The guided sampler with diffusers' "leading" spacing, in float64 between model calls:
    $n$ = ``len(noises)`` steps at the timesteps $ik$, $k = T // n$, walked from the largest;
    the step at the $i$-th kept timestep is the full-chain step on the table of the kept
    $\bar\alpha$'s, at index $i$. ``mistake``: ``"full_table"`` steps to $t - 1$ instead of
    the previous kept timestep; ``"index_to_model"`` hands the model the index $i$ instead of
    the timestep."""
    T, n = len(abar), len(noises)
    k = T // n
    taus = [i * k for i in range(n)]
    table = abar[taus]
    x = x_T
    for j, i in enumerate(reversed(range(n))):
        eps = _guided64(model, x, i if mistake == "index_to_model" else taus[i], labels, w)
        if mistake == "full_table":
            x = _step64(eps, taus[i], x, noises[j], abar)
        else:
            x = _step64(eps, i, x, noises[j], table)
    return x


SAMPLER_HINTS = {
    "full_table": "with n steps, the step from timestep t goes to t - k (k = T // n), not to "
    "t - 1: hand ddpm_step the table of the kept timesteps' abar and the index i in it, so that "
    "its alphas_cumprod[t - 1] is the previous KEPT timestep",
    "index_to_model": "the network was trained on the real timesteps 0..999: call cfg with "
    "the timestep i * k itself, and give only ddpm_step the index i",
}


def sampler_inputs(n_steps: int, labels: list[int], seed: int = 0):
    """``x_T`` and the ``n_steps`` draws, as torch makes them from generators seeded ``seed``
    (``x_T``) and ``seed + 1 + j`` (the j-th draw): the draws that diffusers'
    ``step(..., generator=torch.Generator().manual_seed(seed + 1 + j))`` makes, so the tests
    can run diffusers' own sampler on the same numbers."""
    import torch

    shape = (len(labels), 8, 8)
    x_T = torch.randn(shape, generator=torch.Generator().manual_seed(seed)).numpy()
    noises = [
        torch.randn(shape, generator=torch.Generator().manual_seed(seed + 1 + j)).numpy()
        for j in range(n_steps)
    ]
    return x_T, noises


#: The sampler's protocol: (steps, guidance scale) of each case, and the labels.
SAMPLER_CASES = ((20, 3.0), (8, 1.5))
SAMPLER_DIGITS = (0, 3, 7, 9)


def _sampler_inputs(seed: int) -> dict:
    """The float32 table, the labels, and each case's x_T and draws from seeds ``seed + n``
    (in a notebook, seed 0: the generators are seeded n, n + 1, ...)."""
    cases = []
    for n, w in SAMPLER_CASES:
        x_T, noises = sampler_inputs(n, list(SAMPLER_DIGITS), seed=seed + n)
        cases.append({"steps": n, "scale": w, "x": x_T, "noises": noises})
    return {
        "model_seed": DENOISER_SEED,
        "alphas_cumprod": _linear_alphas_cumprod(),
        "labels": list(SAMPLER_DIGITS),
        "cases": cases,
    }


def _sampler_what(n: int, w: float) -> str:
    return f"sample_digits(model, labels, {w}, alphas_cumprod, x, noises) with {n} steps"


def _sampler_run(data: dict, sample_digits) -> list[dict]:
    """The kernel's half: the learner's x_0 for each case (and its number of model calls),
    as plain data; a failure is recorded in its place."""
    model = _small_denoiser(data["model_seed"])
    records = []
    for case in data["cases"]:
        counting = _CountingModel(model)
        labels, abar = tensor(list(data["labels"])), from_numpy(data["alphas_cumprod"].copy())
        x, noises = from_numpy(case["x"].copy()), [from_numpy(z.copy()) for z in case["noises"]]
        n, w = case["steps"], case["scale"]
        with no_grad():
            record = _value_record(
                sample_digits,
                counting,
                labels,
                w,
                abar,
                x,
                noises,
                what=_sampler_what(n, w),
                lists=False,
            )
        records.append({**record, "calls": counting.calls})
    return records


def _sampler_judge(data: dict, records) -> str:
    """The judge's half: each x_0 against the same sampler in float64 (diffusers' chain, see
    the tests), with the hints of the known mistakes."""
    records = _records(records, len(data["cases"]), "sample_digits", {"calls": _is_count})
    model = _small_denoiser(data["model_seed"])
    labels = tensor(list(data["labels"]))
    abar = np.asarray(data["alphas_cumprod"], dtype=np.float64)
    for case, record in zip(data["cases"], records):
        n, w = case["steps"], case["scale"]
        what = _sampler_what(n, w)
        got = _learner_value(record, what)
        x_T = case["x"].astype(np.float64)
        z64 = [z.astype(np.float64) for z in case["noises"]]
        expected = _sample64(model, labels, w, abar, x_T, z64)
        g = as_numpy(got).astype(np.float64)
        if g.shape == expected.shape and np.allclose(g, expected, rtol=1e-4, atol=1e-4):
            continue
        if g.shape == expected.shape:
            for mistake, hint in SAMPLER_HINTS.items():
                wrong = _sample64(model, labels, w, abar, x_T, z64, mistake)
                if np.allclose(g, wrong, rtol=1e-4, atol=1e-4):
                    raise ExerciseError(f"{what}: {hint}")
            calls = record["calls"]
            if calls != 2 * n and calls != n:
                raise ExerciseError(
                    f"{what}: the model was called {calls} times; one guided "
                    f"prediction per step makes {n} calls (batched) or {2 * n}"
                )
        check_tensor(got, expected, what=what, check_dtype=False, rtol=1e-4, atol=1e-4)
    return (
        "sample_digits walks the respaced chain (leading spacing) like diffusers' DDPMScheduler "
        "with set_timesteps, for 20 and 8 steps"
    )


#: The protocol: x_T and every step's draw (from the seed) in; the learner's x_0 out;
#: compared with the float64 sampler on the same denoiser and draws.
SAMPLER_PROTOCOL = Protocol(_sampler_inputs, _sampler_run, _sampler_judge)


@uses(SAMPLER_PROTOCOL)
def check_sample_digits(sample_digits) -> None:
    r"""``sample_digits(model, labels, guidance_scale, alphas_cumprod, x, noises)`` runs the
    guided reverse process from ``x`` = $x_T$ in ``len(noises)`` steps with diffusers'
    "leading" spacing ($k = T // n$; timesteps $(n-1)k, \dots, k, 0$), using ``noises[j]`` as
    the Gaussian draw of the j-th step, and returns $x_0$. Checked against the same sampler in
    float64 (equal to diffusers' ``set_timesteps`` + ``step``, see the tests), for n = 20 and
    n = 8, on a small random denoiser."""
    SAMPLER_PROTOCOL.check(sample_digits)
