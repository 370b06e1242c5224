r"""Checkers for chapter 3's exercises (modules and losses).

1. :func:`check_cross_entropy` (★★): cross-entropy from ``log_softmax``, stable for huge logits.
2. :func:`check_mlp` (★★): an MLP whose layers live in an ``nn.ModuleList``.
3. :func:`check_state_dict` (★★): ``state_dict`` of a nested module, from its three registries.
4. :func:`check_module_base` (★★★): ``Module.__setattr__`` registration, ``__getattr__`` and
   ``named_parameters``, written from scratch and compared with ``torch.nn.Module``.

Each runs your code on several inputs (awkward ones included), compares it with torch, and
prints one ``✓`` line or raises :class:`~aigc_course.exercises.ExerciseError` saying what is
wrong. See chapter 3.
"""

from __future__ import annotations

import numpy as np

from .._creation import from_torch
from .._tensor import Tensor
from ._checking import ExerciseError, check_tensor, passed, run_learner

__all__ = ["check_cross_entropy", "check_mlp", "check_module_base", "check_state_dict"]


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


# ------------------------------------------------------------------ 1. cross-entropy


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
        try:
            check_tensor(
                loss,
                expected,
                what=f"{what} for logits of shape {tuple(logits_t.shape)}",
                atol=1e-4,
                rtol=1e-5,
            )
        except ExerciseError as err:
            raise ExerciseError(f"{err}{_cross_entropy_hint(loss, logits_t, target_t)}") from None
        expected.backward()
        loss.backward()
        if logits.grad is None:
            raise ExerciseError("no gradient reached the logits: compute the loss from them")
        check_tensor(logits.grad, logits_t.grad, what="the gradient for the logits", atol=1e-5)
    passed("your cross_entropy matches torch, including logits of ±1e4")


def _cross_entropy_hint(loss, logits_t, target_t) -> str:
    torch = _torch()
    got = float(loss.item())
    logp = torch.log_softmax(logits_t.detach().double(), dim=1)
    n = logp.shape[0]
    rows = -logp[torch.arange(n), target_t]
    wrong = {
        "logits[:, target] (or logp[:, target]) picks the column target[j] in *every* row, an "
        "N×N table; pick one entry per row: logp[arange(N), target]": -logp[:, target_t].mean(),
        f"that is the sum over the batch, {n}× the mean that cross_entropy returns": rows.sum(),
        "log_softmax runs over the classes of each row (dim=1), not over the batch (dim=0)": -(
            torch.log_softmax(logits_t.detach().double(), dim=0)[torch.arange(n), target_t]
        ).mean(),
    }
    for hint, value in wrong.items():
        v = value.item()
        if abs(v - rows.mean().item()) > 1e-4 and abs(got - v) < 1e-4 * (1 + abs(v)):
            return f" ({hint})"
    return ""


# ------------------------------------------------------------------ 2. MLP with ModuleList


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
    try:
        check_tensor(out, expected, what=f"{what}({sizes})'s output", atol=1e-5)
    except ExerciseError as err:
        with torch.no_grad():
            linear_only = torch.nn.Sequential(*linears)(x_t)
        if len(linears) > 1 and np.allclose(
            out.detach().numpy(), linear_only.numpy(), rtol=1e-4, atol=1e-4
        ):
            raise ExerciseError(
                f"{err} (your MLP has no nonlinearity: without a ReLU between the layers, "
                "Linear after Linear is just one Linear layer, W2 (W1 x + b1) + b2)"
            ) from None
        raise


# ------------------------------------------------------------------ 3. state_dict


def _nested_model(nn, torch_lib):
    """The same nested model in either library: Sequential inside a Module, plus a buffer."""

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.LayerNorm(4))
            self.head = nn.Linear(4, 2)
            self.register_buffer("mask", torch_lib.ones(2))

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Linear(5, 3, bias=False)
            self.block = Block()

    return Model()


def check_state_dict(fn) -> None:
    """``fn(module) -> dict``: the module's state, as ``module.state_dict()`` gives it: every
    parameter and buffer of the tree, under its dotted name (``block.body.0.weight``), in
    registration order (a module's own parameters, then its buffers, then its children's
    entries), detached from autograd. Written from the three registries ``_parameters``,
    ``_buffers`` and ``_modules``; compared with torch's ``state_dict`` of the same model.

    See chapter 3.
    """
    torch = _torch()
    import aigc_course

    from .. import nn

    with _keep_torch_rng(torch):
        torch.manual_seed(0)
        reference = _nested_model(torch.nn, torch)
    model = _nested_model(nn, aigc_course)
    expected = reference.state_dict()
    model.load_state_dict(expected)
    what = "your state_dict"
    got = run_learner(fn, model, what=what)
    if not isinstance(got, dict):
        raise ExerciseError(f"{what} returned {type(got).__name__}; return a dict")
    keys, want = list(got), list(expected)
    if keys != want:
        hint = ""
        if set(keys) < set(want) and all("mask" not in k for k in keys):
            hint = " (buffers such as block.mask are part of the state too: add _buffers)"
        elif any(k.split(".")[-1] == k for k in keys) or len(set(keys)) < len(keys):
            hint = (
                " (each child's entries need the child's name as a prefix: "
                "'block.' + 'head.weight' -> 'block.head.weight')"
            )
        elif sorted(keys) == sorted(want):
            hint = (
                " (same names, another order: a module's own parameters, then its buffers, "
                "then each child in the order it was assigned)"
            )
        raise ExerciseError(f"{what} has the keys {keys}; torch's has {want}{hint}")
    for name, value in got.items():
        if not isinstance(value, Tensor):
            raise ExerciseError(f"{what}[{name!r}] is {type(value).__name__}; expected a Tensor")
        if value.requires_grad:
            raise ExerciseError(
                f"{what}[{name!r}] requires grad: a state_dict holds plain values, so "
                "store p.detach() (it still shares memory with the parameter)"
            )
        check_tensor(value, expected[name], what=f"{what}[{name!r}]")
    passed(f"your state_dict matches torch's: {len(want)} entries, dotted names, buffers included")


# ------------------------------------------------------------------ 4. Module from scratch


def _build_with(Base, Parameter, ones):
    """The test script, run on your base class and on torch.nn.Module alike."""

    class Lin(Base):
        def __init__(self, n_in, n_out):
            super().__init__()
            self.weight = Parameter(ones(n_out, n_in))
            self.bias = Parameter(ones(n_out))
            self.note = "a plain attribute"
            self.cache = ones(2)  # a plain tensor, not a Parameter: not registered

    class Net(Base):
        def __init__(self):
            super().__init__()
            self.first = Lin(3, 4)
            self.scale = 2.0
            self.second = Lin(4, 2)

    net = Net()
    net.first.bias = Parameter(ones(4) * 2)  # reassigned: keeps its place in the order
    return net


_GETATTR_HINT = (
    " (Python calls __getattr__ only when normal lookup fails; it must look in "
    "self._parameters and self._modules)"
)


def check_module_base(cls) -> None:
    """``cls`` is your own base class for modules (written without ``nn.Module``). Its
    ``__setattr__`` registers a :class:`~aigc_course.nn.Parameter` in ``self._parameters`` and
    an instance of ``cls`` in ``self._modules`` (anything else is a plain attribute),
    ``__getattr__`` finds them again, and ``named_parameters()`` yields ``(dotted name,
    parameter)`` for the whole tree, in assignment order. A small two-level model is built
    with ``cls`` and with ``torch.nn.Module``; names, values and plain attributes must agree.

    See chapter 3.
    """
    torch = _torch()
    import aigc_course

    from .. import nn

    what = f"your {getattr(cls, '__name__', 'class')}"
    ref = _build_with(torch.nn.Module, torch.nn.Parameter, torch.ones)
    try:
        net = _build_with(cls, nn.Parameter, aigc_course.ones)
    except RecursionError:
        raise ExerciseError(
            f"building a model with {what} recursed forever: in __init__, `self._parameters = "
            "{}` calls your __setattr__, which reads self._parameters, which calls __getattr__ "
            "... Create the registries with object.__setattr__(self, '_parameters', {})"
        ) from None
    except NotImplementedError:
        raise ExerciseError(f"{what} is not implemented yet") from None
    except Exception as e:
        hint = _GETATTR_HINT if isinstance(e, AttributeError) else ""
        raise ExerciseError(
            f"building a two-level model with {what} raised {type(e).__name__}: {e}{hint}"
        ) from None
    want = [name for name, _ in ref.named_parameters()]
    try:
        got_pairs = list(net.named_parameters())
        first = net.first
        plain = (net.scale, first.note)
    except NotImplementedError:
        raise ExerciseError(f"{what} is not implemented yet") from None
    except AttributeError as e:
        raise ExerciseError(f"{what}: {type(e).__name__}: {e}{_GETATTR_HINT}") from None
    got = [name for name, _ in got_pairs]
    if got != want:
        hint = ""
        if not got:
            hint = " (your __setattr__ must put each Parameter into self._parameters)"
        elif any(n.endswith("cache") for n in got):
            hint = " (only Parameters are registered: a plain tensor is an ordinary attribute)"
        elif set(got) == {"weight", "bias"} or all("." not in n for n in got):
            hint = " (prefix each child's names with the child's name and a dot: 'first.weight')"
        elif not any(n.startswith("second") for n in got):
            hint = " (your __setattr__ must put each submodule into self._modules)"
        raise ExerciseError(f"{what}'s named_parameters gives {got}; torch's gives {want}{hint}")
    if plain != (2.0, "a plain attribute"):
        raise ExerciseError(f"plain attributes came back as {plain}; expected (2.0, 'a plain ...')")
    for (name, p), (_, q) in zip(got_pairs, ref.named_parameters(), strict=True):
        if not isinstance(p, nn.Parameter):
            raise ExerciseError(f"{name} is {type(p).__name__}; expected the Parameter assigned")
        check_tensor(p, q, what=f"parameter {name}", check_dtype=False)
    passed(f"{what} registers, finds and names parameters and submodules as torch.nn.Module does")
