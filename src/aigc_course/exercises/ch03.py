r"""Checkers for chapter 3's exercises (modules and losses).

1. :func:`check_layer_norm`: a ``LayerNorm`` Module written with ``aigc_course.nn``.
2. :func:`check_cross_entropy`: cross-entropy from ``log_softmax``, stable for huge logits.
3. :func:`check_mlp`: an MLP whose layers live in an ``nn.ModuleList``.
4. :func:`check_count_parameters`: count the learnable numbers of a model, shared ones once.

Each runs your code on several inputs (awkward ones included), compares it with torch, and
prints one ``✓`` line or raises :class:`~aigc_course.exercises.ExerciseError` saying what is
wrong. See chapter 3.
"""

from __future__ import annotations

import numpy as np

from .._creation import from_torch
from .._tensor import Tensor
from ._checking import ExerciseError, check_tensor, passed, run_learner

__all__ = ["check_count_parameters", "check_cross_entropy", "check_layer_norm", "check_mlp"]


def _torch():
    import torch

    return torch


def _keep_torch_rng(torch):
    """Restore torch's global RNG on exit: the checkers seed it for reproducible references,
    and the learner's own random stream must not notice."""
    return torch.random.fork_rng(devices=[])


def _as_tensor(out, what: str) -> Tensor:
    if not isinstance(out, Tensor):
        raise ExerciseError(f"{what} returned {type(out).__name__}; expected an aigc_course Tensor")
    return out


# ------------------------------------------------------------------ 1. LayerNorm

_LAYER_NORM_CASES = [  # (normalized_shape, input shape, eps)
    (5, (2, 5), 1e-5),
    (4, (3, 2, 4), 1e-3),
    (1, (1, 1), 1e-5),
    (6, (6,), 1e-5),
]


def check_layer_norm(cls) -> None:
    """``cls(normalized_shape: int, eps=1e-5)`` must behave like ``torch.nn.LayerNorm``:
    parameters ``weight`` (ones) and ``bias`` (zeros) registered, same output and gradients."""
    torch = _torch()
    with _keep_torch_rng(torch):
        for dim, shape, eps in _LAYER_NORM_CASES:
            _check_one_layer_norm(torch, cls, dim, shape, eps)
    passed("your LayerNorm matches torch.nn.LayerNorm: outputs and gradients, 4 shapes")


def _check_one_layer_norm(torch, cls, dim: int, shape: tuple, eps: float) -> None:
    what = "your LayerNorm"
    module = run_learner(cls, dim, eps, what=f"{what}({dim}, eps={eps})")
    names = {n: tuple(p.shape) for n, p in module.named_parameters()}
    if names != {"weight": (dim,), "bias": (dim,)}:
        hint = (
            " (a plain Tensor attribute is not registered: wrap it in nn.Parameter)"
            if not names
            else ""
        )
        raise ExerciseError(
            f"{what}({dim}) has parameters {names}; expected {{'weight': ({dim},), "
            f"'bias': ({dim},)}}{hint}"
        )
    check_tensor(module.weight.detach(), torch.ones(dim), what=f"{what}'s initial weight")
    check_tensor(module.bias.detach(), torch.zeros(dim), what=f"{what}'s initial bias")
    torch.manual_seed(dim)
    ref = torch.nn.LayerNorm(dim, eps=eps)
    with torch.no_grad():
        ref.weight.normal_()
        ref.bias.normal_()
    module.load_state_dict(ref.state_dict())
    x_t = torch.randn(shape) * 3 + 1
    if len(shape) > 1:
        x_t[0] = 2.0  # a constant row: variance 0, so only eps keeps it finite
    x_t.requires_grad_(True)
    x = from_torch(x_t.detach()).requires_grad_(True)
    out = _as_tensor(run_learner(module, x, what=what), what)
    expected = ref(x_t)
    check_tensor(
        out, expected, what=f"{what}'s output for input shape {shape}", atol=1e-4, rtol=1e-4
    )
    g = torch.randn(expected.shape)
    expected.backward(g)
    out.backward(from_torch(g))
    for name, got, exp in [
        ("the input", x, x_t),
        ("weight", module.weight, ref.weight),
        ("bias", module.bias, ref.bias),
    ]:
        if got.grad is None:
            raise ExerciseError(f"no gradient reached {name}: is the output computed from it?")
        check_tensor(
            got.grad,
            exp.grad,
            what=f"the gradient for {name} (input {shape})",
            atol=1e-4,
            rtol=1e-4,
        )


# ------------------------------------------------------------------ 2. cross-entropy


def check_cross_entropy(fn) -> None:
    """``fn(logits (N, C), target (N,) int64) -> scalar`` must equal ``F.cross_entropy``
    (mean reduction), also for logits of ±1e4, with the same gradient."""
    torch = _torch()
    what = "your cross_entropy"
    g = torch.Generator().manual_seed(0)
    cases = [
        (torch.randn(4, 3, generator=g), torch.tensor([0, 2, 1, 2]), ""),
        (torch.randn(1, 5, generator=g), torch.tensor([4]), ""),
        (torch.randn(6, 2, generator=g) * 10, torch.randint(0, 2, (6,), generator=g), ""),
        (torch.tensor([[1e4, 0.0, -1e4], [0.0, 1e4, 2.0]]), torch.tensor([1, 0]), "huge"),
    ]
    for logits_t, target_t, kind in cases:
        logits_t.requires_grad_(True)
        logits = from_torch(logits_t.detach()).requires_grad_(True)
        loss = _as_tensor(run_learner(fn, logits, from_torch(target_t), what=what), what)
        if loss.ndim != 0:
            raise ExerciseError(
                f"{what} returned shape {tuple(loss.shape)}; expected a scalar "
                "(the mean over the batch)"
            )
        if kind == "huge" and not np.isfinite(loss.item()):
            raise ExerciseError(
                f"{what} gives {loss.item()} for logits of ±1e4: exp(1e4) overflows. Use "
                "log_softmax (log-sum-exp) instead of log(softmax(x))"
            )
        expected = torch.nn.functional.cross_entropy(logits_t, target_t)
        check_tensor(
            loss,
            expected,
            what=f"{what} for logits of shape {tuple(logits_t.shape)}",
            atol=1e-4,
            rtol=1e-5,
        )
        expected.backward()
        loss.backward()
        if logits.grad is None:
            raise ExerciseError("no gradient reached the logits: compute the loss from them")
        check_tensor(logits.grad, logits_t.grad, what="the gradient for the logits", atol=1e-5)
    passed("your cross_entropy matches torch, including logits of ±1e4")


# ------------------------------------------------------------------ 3. MLP with ModuleList


def check_mlp(cls) -> None:
    """``cls(sizes)`` with ``sizes = [d0, d1, ..., dk]``: Linear layers in ``self.layers`` (a
    ``ModuleList``), ReLU between them but not after the last."""
    torch = _torch()
    with _keep_torch_rng(torch):
        for sizes in ([4, 8, 3], [2, 5, 5, 1], [3, 2]):
            _check_one_mlp(torch, cls, sizes)
    passed("your MLP registers its layers and matches torch for 3 architectures")


def _check_one_mlp(torch, cls, sizes: list) -> None:
    what = "your MLP"
    model = run_learner(cls, sizes, what=f"{what}({sizes})")
    names = [n for n, _ in model.named_parameters()]
    expected_names = [f"layers.{i}.{k}" for i in range(len(sizes) - 1) for k in ("weight", "bias")]
    if not names:
        raise ExerciseError(
            f"{what}({sizes}) has no parameters: a plain Python list of layers is not "
            "registered by Module.__setattr__; use nn.ModuleList"
        )
    if names != expected_names:
        raise ExerciseError(f"{what}({sizes}) has parameters {names}; expected {expected_names}")
    torch.manual_seed(len(sizes))
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    ref = torch.nn.Sequential(*layers)
    linears = [m for m in ref if isinstance(m, torch.nn.Linear)]
    model.load_state_dict(
        {
            f"layers.{i}.{k}": getattr(m, k)
            for i, m in enumerate(linears)
            for k in ("weight", "bias")
        }
    )
    x_t = torch.randn(7, sizes[0]) * 2
    out = _as_tensor(run_learner(model, from_torch(x_t), what=what), what)
    with torch.no_grad():
        expected = ref(x_t)
    if out.shape == expected.shape and float(out.detach().min()) >= 0 and float(expected.min()) < 0:
        raise ExerciseError(
            f"{what}({sizes}) never outputs negative numbers, but torch "
            "does: no ReLU after the last layer"
        )
    check_tensor(out, expected, what=f"{what}({sizes})'s output", atol=1e-5)


# ------------------------------------------------------------------ 4. counting parameters


def check_count_parameters(fn) -> None:
    """``fn(model) -> int``: the number of learnable scalars, each shared Parameter once."""
    from .. import nn

    what = "your count_parameters"
    emb = nn.Embedding(50, 8)
    tied = nn.Sequential(emb, nn.Linear(8, 50))
    tied[1].weight = emb.weight  # weight tying: one tensor, two places
    cases = [
        (nn.Linear(64, 128), 64 * 128 + 128, "Linear(64, 128)"),
        (
            nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)),
            64 * 128 + 128 + 128 * 10 + 10,
            "TwoLayerNet(64, 128, 10)",
        ),
        (nn.LayerNorm(16), 32, "LayerNorm(16)"),
        (tied, 50 * 8 + 50, "a model whose output layer reuses the embedding's weight"),
        (nn.ReLU(), 0, "ReLU()"),
    ]
    for model, expected, name in cases:
        got = run_learner(fn, model, what=what)
        if isinstance(got, Tensor):
            got = got.item()
        if not isinstance(got, (int, np.integer)) or isinstance(got, bool):
            raise ExerciseError(f"{what} returned {type(got).__name__}; expected an int")
        if got != expected:
            hint = (
                " (count a shared Parameter once: model.parameters() already does)"
                if (got > expected and model is tied)
                else ""
            )
            raise ExerciseError(f"{what} says {got} for {name}; expected {expected}{hint}")
    passed("your count_parameters is right for 5 models, shared weights included")
