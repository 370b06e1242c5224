r"""Checkers for chapter 3's exercises (modules and losses).

1. :func:`check_cross_entropy` (★★): cross-entropy from ``log_softmax``, stable for huge logits.
2. :func:`check_mlp` (★★): an MLP whose layers live in an ``nn.ModuleList``.
3. :func:`check_module_repr` (★★): the nested ``repr`` of a module, built from its registry of
   children and ``extra_repr``, compared with torch's.
4. :func:`check_module_base` (★★★): ``Module.__setattr__`` registration, ``__getattr__`` and
   ``named_parameters``, written from scratch and compared with ``torch.nn.Module``.
5. :func:`check_milestone_moons` (★★★, milestone 1): your chapter-2 ``Value`` engine and a
   ``ValueMLP`` built on it, trained by the checker, separate two interleaved moons.

Each runs your code on several inputs (awkward ones included), compares it with torch, and
prints one ``✓`` line or raises :class:`~aigc_course.exercises.ExerciseError` saying what is
wrong. All five are protocols (``CROSS_ENTROPY_PROTOCOL``, ``MLP_PROTOCOL``,
``MODULE_REPR_PROTOCOL``, ``MODULE_BASE_PROTOCOL``, ``MOONS_PROTOCOL``): the inputs (weights,
sizes, the moons) are drawn from the seed, your code sends back plain data (losses,
gradients, parameter names, texts, a training run), and the grader's judge compares it with
torch. See chapter 3.
"""

from __future__ import annotations

import contextlib
import io
import math

import numpy as np

from .._tensor import Tensor
from ._checking import (
    NOT_PLAIN,
    ExerciseError,
    Protocol,
    as_numpy,
    check_tensor,
    passed,
    run_learner,
    seeded,
    to_plain,
    uses,
)
from .ch02 import _class_name, _safe_name

__all__ = [
    "check_cross_entropy",
    "check_milestone_moons",
    "check_mlp",
    "check_module_base",
    "check_module_repr",
]


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


def _recorded(record, key: str):
    """A field of the kernel's record, or the learner's failure recorded in its place."""
    if not isinstance(record, dict):
        raise ExerciseError("the protocol's record did not come back as a dict")
    if key in record:
        return record[key]
    raise ExerciseError(str(record.get("error") or f"no {key!r} came back from your code"))


def _records(out, key: str, n: int) -> list[dict]:
    """The ``n`` records under ``out[key]``, each carrying the run's error, if any (a failure
    ends the kernel's run; the judge meets it where it happened)."""
    if not isinstance(out, dict):
        raise ExerciseError("the protocol's record did not come back as a dict")
    records = out.get(key)
    if not isinstance(records, list) or len(records) > n:
        raise ExerciseError(f"expected {n} records back from your code")
    records = [r if isinstance(r, dict) else {} for r in records]
    records += [{} for _ in range(n - len(records))]
    return [{**r, "error": out.get("error")} for r in records]


def _torch_of(value):
    """An array that came back, as a torch tensor (so that its dtype is compared too)."""
    if isinstance(value, np.ndarray):
        return _torch().from_numpy(np.array(value))
    return value


# ------------------------------------------------------------------ 1. cross-entropy


def _cross_entropy_inputs(seed: int) -> list[dict]:
    """Four (logits, target) pairs drawn from ``seed``: small, a single row, two classes with
    large logits, and logits of ±1e4 (where exp overflows)."""
    torch = _torch()
    g = torch.Generator().manual_seed(seed)
    n = 4  # (the feedback's "4× the mean" names the sum)
    cases = [
        (torch.randn(n, 3, generator=g), torch.randint(0, 3, (n,), generator=g), ""),
        (torch.randn(1, 5, generator=g), torch.randint(0, 5, (1,), generator=g), ""),
        (torch.randn(6, 2, generator=g) * 10, torch.randint(0, 2, (6,), generator=g), ""),
        (torch.tensor([[1e4, 0.0, -1e4], [0.0, 1e4, 2.0]]), torch.tensor([1, 0]), "huge"),
    ]
    return [{"logits": x.numpy(), "target": t.numpy(), "kind": k} for x, t, k in cases]


def _cross_entropy_run(cases: list, fn) -> dict:
    """The kernel's half: the learner's loss and its gradient for the logits, per case."""
    from .._creation import tensor

    what = "your cross_entropy"
    out: dict = {"cases": []}
    try:
        for case in cases:
            record: dict = {}
            out["cases"].append(record)
            logits = tensor(case["logits"], requires_grad=True)
            loss = _as_tensor(run_learner(fn, logits, tensor(case["target"]), what=what), what)
            record["loss"] = np.array(loss.detach().numpy())
            run_learner(loss.backward, what=f"{what}(...).backward()")
            record["grad"] = None if logits.grad is None else np.array(logits.grad.numpy())
    except ExerciseError as e:
        out["error"] = str(e)
    return out


def _cross_entropy_judge(cases: list, out) -> str:
    torch = _torch()
    what = "your cross_entropy"
    for case, record in zip(cases, _records(out, "cases", len(cases))):
        logits_t = torch.from_numpy(np.array(case["logits"])).requires_grad_(True)
        target_t = torch.from_numpy(np.array(case["target"]))
        loss = _recorded(record, "loss")
        if not isinstance(loss, np.ndarray) or loss.dtype.kind not in "iuf":
            raise ExerciseError(f"{what}'s loss did not come back as an array of numbers")
        if loss.ndim != 0:
            raise ExerciseError(
                f"{what} returned shape {tuple(loss.shape)}; expected a scalar "
                "(the mean over the batch)"
            )
        if case["kind"] == "huge" and not np.isfinite(loss):
            raise ExerciseError(
                f"{what} gives {loss.item()} for logits of ±1e4: exp(1e4) overflows. Use "
                "log_softmax (log-sum-exp) instead of log(softmax(x))"
            )
        expected = torch.nn.functional.cross_entropy(logits_t, target_t)
        try:
            check_tensor(
                torch.from_numpy(loss),
                expected,
                what=f"{what} for logits of shape {tuple(logits_t.shape)}",
                atol=1e-4,
                rtol=1e-5,
            )
        except ExerciseError as err:
            raise ExerciseError(f"{err}{_cross_entropy_hint(loss, logits_t, target_t)}") from None
        expected.backward()
        grad = _recorded(record, "grad")
        if grad is None:
            raise ExerciseError("no gradient reached the logits: compute the loss from them")
        check_tensor(_torch_of(grad), logits_t.grad, what="the gradient for the logits", atol=1e-5)
    return "your cross_entropy matches torch, including logits of ±1e4"


#: The protocol: four (logits, target) pairs in (one of ±1e4); the learner's losses and
#: gradients for the logits out; compared with ``F.cross_entropy`` in the judge.
CROSS_ENTROPY_PROTOCOL = Protocol(_cross_entropy_inputs, _cross_entropy_run, _cross_entropy_judge)


@uses(CROSS_ENTROPY_PROTOCOL)
def check_cross_entropy(fn) -> None:
    """``fn(logits (N, C), target (N,) int64) -> scalar`` must equal ``F.cross_entropy``
    (mean reduction), also for logits of ±1e4, with the same gradient."""
    CROSS_ENTROPY_PROTOCOL.check(fn)


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


_MLP_SIZES = ([4, 8, 3], [2, 5, 5, 1], [3, 2])


def _mlp_names(sizes: list) -> list[str]:
    return [f"layers.{i}.{k}" for i in range(len(sizes) - 1) for k in ("weight", "bias")]


def _mlp_inputs(seed: int) -> list[dict]:
    """For each of 3 architectures: its Linear layers' weights and biases (drawn like torch's
    default initialisation) and 7 inputs, float32, from ``seed``."""
    rng = np.random.default_rng(seed)
    cases = []
    for sizes in _MLP_SIZES:
        state = {}
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            bound = 1 / math.sqrt(a)
            state[f"layers.{i}.weight"] = rng.uniform(-bound, bound, (b, a)).astype(np.float32)
            state[f"layers.{i}.bias"] = rng.uniform(-bound, bound, b).astype(np.float32)
        x = (rng.standard_normal((7, sizes[0])) * 2).astype(np.float32)
        cases.append({"sizes": list(sizes), "state": state, "x": x})
    return cases


def _mlp_run(cases: list, cls) -> dict:
    """The kernel's half: per architecture, the learner's parameter names and, when they are
    the expected ones, its output once the given weights are loaded."""
    from .._creation import tensor

    what = "your MLP"
    out: dict = {"cases": []}
    try:
        for case in cases:
            sizes = case["sizes"]
            record: dict = {}
            out["cases"].append(record)
            model = run_learner(cls, sizes, what=f"{what}({sizes})")
            record["names"] = run_learner(
                lambda model=model: [str(n) for n, _ in model.named_parameters()],
                what=f"{what}({sizes}).named_parameters()",
            )
            if record["names"] != _mlp_names(sizes):
                break  # the judge names the problem
            state = {k: tensor(v) for k, v in case["state"].items()}
            run_learner(model.load_state_dict, state, what=f"{what}({sizes}).load_state_dict")
            y = _as_tensor(run_learner(model, tensor(case["x"]), what=what), what)
            record["y"] = np.array(y.detach().numpy())
    except ExerciseError as e:
        out["error"] = str(e)
    return out


def _mlp_judge(cases: list, out) -> str:
    torch = _torch()
    what = "your MLP"
    for case, record in zip(cases, _records(out, "cases", len(cases))):
        sizes = case["sizes"]
        names = _recorded(record, "names")
        expected_names = _mlp_names(sizes)
        if not names:
            raise ExerciseError(
                f"{what}({sizes}) has no parameters: a plain Python list of layers is not "
                "registered by Module.__setattr__; use nn.ModuleList"
            )
        if names != expected_names:
            raise ExerciseError(
                f"{what}({sizes}) has parameters {names}; expected {expected_names}"
            )
        linears = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            with _keep_torch_rng(torch):  # Linear draws its initial weights: not from the
                linear = torch.nn.Linear(a, b)  # learner's stream
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(case["state"][f"layers.{i}.weight"]))
                linear.bias.copy_(torch.from_numpy(case["state"][f"layers.{i}.bias"]))
            linears.append(linear)
        layers = [m for linear in linears for m in (linear, torch.nn.ReLU())][:-1]
        x_t = torch.from_numpy(np.array(case["x"]))
        with torch.no_grad():
            expected = torch.nn.Sequential(*layers)(x_t)
            linear_only = torch.nn.Sequential(*linears)(x_t)
        out_y = _recorded(record, "y")
        if not isinstance(out_y, np.ndarray) or out_y.dtype.kind not in "iuf":
            raise ExerciseError(f"{what}({sizes})'s output did not come back as an array")
        if (
            out_y.shape == tuple(expected.shape)
            and out_y.size
            and float(out_y.min()) >= 0
            and float(expected.min()) < 0
        ):
            raise ExerciseError(
                f"{what}({sizes}) never outputs negative numbers, but torch "
                "does: no ReLU after the last layer"
            )
        try:
            check_tensor(
                torch.from_numpy(out_y), expected, what=f"{what}({sizes})'s output", atol=1e-5
            )
        except ExerciseError as err:
            if (
                len(linears) > 1
                and out_y.shape == tuple(linear_only.shape)
                and np.allclose(out_y, linear_only.numpy(), rtol=1e-4, atol=1e-4)
            ):
                raise ExerciseError(
                    f"{err} (your MLP has no nonlinearity: without a ReLU between the layers, "
                    "Linear after Linear is just one Linear layer, W2 (W1 x + b1) + b2)"
                ) from None
            raise
    return "your MLP registers its layers and matches torch for 3 architectures"


#: The protocol: 3 architectures with their weights and inputs (drawn from the seed) in; the
#: learner's parameter names and outputs out; compared with torch's Linear/ReLU stack.
MLP_PROTOCOL = Protocol(_mlp_inputs, _mlp_run, _mlp_judge)


@uses(MLP_PROTOCOL)
def check_mlp(cls) -> None:
    """``cls(sizes)`` with ``sizes = [d0, d1, ..., dk]``: Linear layers in ``self.layers`` (a
    ``ModuleList``), ReLU between them but not after the last."""
    MLP_PROTOCOL.check(cls)


# ------------------------------------------------------------------ 3. repr of a nested model


def _repr_config(seed: int) -> dict:
    """The sizes, dropout rate and head settings of the five models, drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    return {
        "d": [int(v) for v in rng.integers(1, 10, 9)],
        "p": float(rng.choice([0.1, 0.2, 0.25, 0.3, 0.5])),
        "n_head": int(rng.integers(1, 9)),
        "causal": bool(rng.integers(0, 2)),
    }


def _nested_model(nn, torch_lib, d: list):
    """The same nested model in either library: Sequential inside a Module, plus a buffer."""

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(d[5], d[6]), nn.ReLU(), nn.LayerNorm(d[6]))
            self.head = nn.Linear(d[6], d[7])
            self.register_buffer("mask", torch_lib.ones(d[7]))

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Linear(d[4], d[5], bias=False)
            self.block = Block()

    return Model()


def _head(nn, d: int, text: str):
    """A module with both an ``extra_repr`` and a child, defined for either library."""

    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(d, d)

        def extra_repr(self):
            return text

    return Head()


def _repr_models(nn, torch_lib, config: dict):
    """The same five models in either library, from a leaf to three levels of nesting."""
    d = config["d"]
    return [
        nn.Linear(d[0], d[1]),
        nn.ReLU(),
        nn.Sequential(nn.Linear(d[2], d[3]), nn.ReLU(), nn.Dropout(config["p"])),
        _nested_model(nn, torch_lib, d),
        _head(nn, d[8], f"n_head={config['n_head']}, causal={config['causal']}"),
    ]


_SENTINEL = "<repr(child): call your own function instead>"


def _hide_reprs(model) -> None:
    """Give every module of ``model`` a class of the same name whose ``repr`` is a sentinel, so
    that a solution which calls ``repr`` on a child (what it should rebuild) shows it."""
    for m in list(model.modules()):
        cls = type(m)
        hidden = type(cls.__name__, (cls,), {"__repr__": lambda self: _SENTINEL})
        object.__setattr__(m, "__class__", hidden)


def _reference_repr(module, bug: str | None = None) -> str:
    """torch's rule, with switches for the usual mistakes (to name them)."""
    extra = "" if bug == "no extra_repr" else module.extra_repr()
    extra_lines = extra.split("\n") if extra else []
    child_lines = []
    for name, child in module._modules.items():
        text = _reference_repr(child, bug)
        if bug != "first line only":
            text = text.replace("\n", "\n  ")
        child_lines.append(text if bug == "no names" else f"({name}): {text}")
    lines = child_lines + extra_lines if bug == "children first" else extra_lines + child_lines
    name = type(module).__name__
    if bug == "always multi-line":
        return name + "(\n  " + "\n  ".join(lines) + "\n)"
    if not lines:
        return name + "()"
    if len(extra_lines) == 1 and not child_lines:
        return f"{name}({extra_lines[0]})"
    return name + "(\n  " + "\n  ".join(lines) + "\n)"


_REPR_HINTS = {
    "first line only": "a child's text must be indented as a whole: replace every '\\n' in it with "
    "'\\n  ', so that a grandchild sits four spaces in, not only the child's first line",
    "always multi-line": "a module with nothing inside prints as `ReLU()`, and one whose only "
    "content is a one-line extra_repr keeps it on the same line: "
    "`Linear(in_features=3, out_features=4, bias=True)`",
    "no names": "each child line starts with its name in parentheses: `(0): Linear(...)`",
    "children first": "the extra_repr lines come first, then the children",
    "no extra_repr": "the text inside a leaf's parentheses comes from module.extra_repr()",
}


def _module_repr_run(config: dict, fn) -> dict:
    """The kernel's half: the learner's text for each of the five models (built here, in
    aigc_course, with every module's own ``repr`` hidden)."""
    import aigc_course

    from .. import nn

    what = "your module_repr"
    out: dict = {"texts": []}
    try:
        for model in _repr_models(nn, aigc_course, config):
            _hide_reprs(model)
            got = run_learner(fn, model, what=what)
            if not isinstance(got, str):
                raise ExerciseError(f"{what} returned {type(got).__name__}; return a str")
            out["texts"].append(str.__str__(got))
    except ExerciseError as e:
        out["error"] = str(e)
    return out


def _module_repr_judge(config: dict, out) -> str:
    torch = _torch()
    import aigc_course

    from .. import nn

    with _keep_torch_rng(torch):
        references = [repr(m) for m in _repr_models(torch.nn, torch, config)]
    models = _repr_models(nn, aigc_course, config)  # for the hints: the rule, with mistakes
    if not isinstance(out, dict) or not isinstance(out.get("texts"), list):
        raise ExerciseError("the protocol's record did not come back as a dict")
    what = "your module_repr"
    texts = out["texts"]
    for k, (model, want) in enumerate(zip(models, references, strict=True)):
        if k >= len(texts):
            raise ExerciseError(str(out.get("error") or f"{what} gave no text for model {k}"))
        got = texts[k]
        if not isinstance(got, str):
            raise ExerciseError(f"{what} returned {type(got).__name__}; return a str")
        if got == want:
            continue
        message = f"{what} gives\n{got}\nwhere torch prints\n{want}\n"
        if _SENTINEL in got:
            raise ExerciseError(
                message + "(you called repr() on a child, which is what you are rebuilding: "
                "call your own function on it, recursively)"
            )
        for bug, hint in _REPR_HINTS.items():
            if got == _reference_repr(model, bug) != want:
                raise ExerciseError(message + f"({hint})")
        raise ExerciseError(message.rstrip())
    return (
        f"your module_repr prints {len(references)} models exactly as torch does, nesting included"
    )


#: The protocol: the five models' sizes and settings (drawn from the seed) in; the learner's
#: text for each out; compared with torch's ``repr`` of the same models in the judge.
MODULE_REPR_PROTOCOL = Protocol(_repr_config, _module_repr_run, _module_repr_judge)


@uses(MODULE_REPR_PROTOCOL)
def check_module_repr(fn) -> None:
    """``fn(module) -> str``: the text ``repr(module)`` prints, as torch nests it, built from
    ``type(module).__name__``, ``module.extra_repr()`` and the children in ``module._modules``
    (recursively: never ``repr`` of a child). Compared with torch's ``repr`` of the same model
    for a leaf with and without an ``extra_repr``, a ``Sequential``, three levels of nesting
    and a module with both an ``extra_repr`` and a child.

    See chapter 3.
    """
    MODULE_REPR_PROTOCOL.check(fn)


# ------------------------------------------------------------------ 4. Module from scratch


_NOTE = "a plain attribute"


def _module_base_config(seed: int) -> dict:
    """The test script's sizes, fill values and plain attribute, drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    return {
        "sizes": [int(v) for v in rng.integers(1, 6, 3)],
        "fills": [round(float(v), 2) for v in rng.uniform(-2, 2, 5)],
        "scale": round(float(rng.uniform(0.5, 4)), 2),
    }


def _build_with(Base, Parameter, ones, config: dict):
    """The test script, run on your base class and on torch.nn.Module alike."""
    (a, b, c), (w1, b1, b1_new, w2, b2) = config["sizes"], config["fills"]

    class Lin(Base):
        def __init__(self, n_in, n_out, w, bias):
            super().__init__()
            self.weight = Parameter(ones(n_out, n_in) * w)
            self.bias = Parameter(ones(n_out) * bias)
            self.note = _NOTE
            self.cache = ones(2)  # a plain tensor, not a Parameter: not registered

    class Net(Base):
        def __init__(self):
            super().__init__()
            self.first = Lin(a, b, w1, b1)
            self.scale = config["scale"]
            self.second = Lin(b, c, w2, b2)

    net = Net()
    net.first.bias = Parameter(ones(b) * b1_new)  # reassigned: keeps its place in the order
    return net


_GETATTR_HINT = (
    " (Python calls __getattr__ only when normal lookup fails; it must look in "
    "self._parameters and self._modules)"
)


def _module_base_run(config: dict, cls) -> dict:
    """The kernel's half: a small two-level model built with the learner's base class; its
    parameters' names, types and values, and its plain attributes, as plain data."""
    import aigc_course

    from .. import nn

    what = f"your {_class_name(cls, 'class')}"
    out: dict = {"name": _class_name(cls, "class")}
    try:
        try:
            net = _build_with(cls, nn.Parameter, aigc_course.ones, config)
        except RecursionError:
            raise ExerciseError(
                f"building a model with {what} recursed forever: in __init__, `self._parameters "
                "= {}` calls your __setattr__, which reads self._parameters, which calls "
                "__getattr__ ... Create the registries with object.__setattr__(self, "
                "'_parameters', {})"
            ) from None
        except NotImplementedError:
            raise ExerciseError(f"{what} is not implemented yet") from None
        except Exception as e:
            hint = _GETATTR_HINT if isinstance(e, AttributeError) else ""
            raise ExerciseError(
                f"building a two-level model with {what} raised {type(e).__name__}: {e}{hint}"
            ) from None
        try:
            pairs = list(net.named_parameters())
            first = net.first
            out["plain"] = [net.scale, first.note]
        except NotImplementedError:
            raise ExerciseError(f"{what} is not implemented yet") from None
        except AttributeError as e:
            raise ExerciseError(f"{what}: {type(e).__name__}: {e}{_GETATTR_HINT}") from None
        out["names"] = [str(name) for name, _ in pairs]
        out["types"] = [
            "Parameter" if isinstance(q, nn.Parameter) else _class_name(type(q), "object")
            for _, q in pairs
        ]
        out["values"] = [np.array(as_numpy(q)) for _, q in pairs]
    except ExerciseError as e:
        out["error"] = str(e)
    return out


def _module_base_judge(config: dict, out) -> str:
    torch = _torch()
    if not isinstance(out, dict):
        raise ExerciseError("the protocol's record did not come back as a dict")
    what = f"your {_safe_name(out.get('name'), 'class')}"
    ref = _build_with(torch.nn.Module, torch.nn.Parameter, torch.ones, config)
    want = [name for name, _ in ref.named_parameters()]
    got = _recorded(out, "names")
    plain = _recorded(out, "plain")
    if got != want:
        hint = ""
        if not isinstance(got, list):
            pass
        elif not got:
            hint = " (your __setattr__ must put each Parameter into self._parameters)"
        elif any(str(n).endswith("cache") for n in got):
            hint = " (only Parameters are registered: a plain tensor is an ordinary attribute)"
        elif set(got) == {"weight", "bias"} or all("." not in str(n) for n in got):
            hint = " (prefix each child's names with the child's name and a dot: 'first.weight')"
        elif not any(str(n).startswith("second") for n in got):
            hint = " (your __setattr__ must put each submodule into self._modules)"
        raise ExerciseError(f"{what}'s named_parameters gives {got}; torch's gives {want}{hint}")
    expected_plain = [config["scale"], _NOTE]
    if plain != expected_plain:
        raise ExerciseError(
            f"plain attributes came back as {tuple(plain) if isinstance(plain, list) else plain}"
            f"; expected {tuple(expected_plain)}"
        )
    types, values = _recorded(out, "types"), _recorded(out, "values")
    if not (isinstance(types, list) and isinstance(values, list)):
        raise ExerciseError("the parameters' types and values did not come back as lists")
    if len(types) != len(want) or len(values) != len(want):
        raise ExerciseError(f"expected {len(want)} parameters' types and values back")
    for name, kind, value, (_, q) in zip(want, types, values, ref.named_parameters()):
        if kind != "Parameter":
            raise ExerciseError(f"{name} is {kind}; expected the Parameter assigned")
        check_tensor(_torch_of(value), q, what=f"parameter {name}", check_dtype=False)
    return f"{what} registers, finds and names parameters and submodules as torch.nn.Module does"


#: The protocol: the test script's sizes, fills and plain attribute (drawn from the seed) in;
#: the parameters' names, types and values and the plain attributes out; compared with the
#: same script run on ``torch.nn.Module`` in the judge.
MODULE_BASE_PROTOCOL = Protocol(_module_base_config, _module_base_run, _module_base_judge)


@uses(MODULE_BASE_PROTOCOL)
def check_module_base(cls) -> None:
    """``cls`` is your own base class for modules (written without ``nn.Module``). Its
    ``__setattr__`` registers a :class:`~aigc_course.nn.Parameter` in ``self._parameters`` and
    an instance of ``cls`` in ``self._modules`` (anything else is a plain attribute),
    ``__getattr__`` finds them again, and ``named_parameters()`` yields ``(dotted name,
    parameter)`` for the whole tree, in assignment order. A small two-level model is built
    with ``cls`` and with ``torch.nn.Module``; names, values and plain attributes must agree.

    See chapter 3.
    """
    MODULE_BASE_PROTOCOL.check(cls)


# ------------------------------------------------------------------ 5. milestone 1: the moons


def _moons(n: int, seed: int):
    """Two interleaved half circles (scikit-learn's make_moons), standardised, labels 0/1."""
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=n, noise=0.1, random_state=seed)
    return (X - _MOONS_MEAN) / _MOONS_STD, y


_MOONS_MEAN = np.array([0.5, 0.25])  # the moons' centre and spread, fixed so that the train
_MOONS_STD = np.array([0.87, 0.5])  # and test sets are scaled alike
_MOONS_SIZES = [2, 8, 1]
_MOONS_STEPS, _MOONS_LR, _MOONS_SEED = 100, 0.5, 4  # all 60 right after 57 steps


def _initial_parameters(sizes: list, seed: int) -> list[float]:
    """Floats in the contract's order: per layer, per neuron, its weights, then its bias."""
    rng = np.random.default_rng(seed)
    values = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        bound = 1 / math.sqrt(a)
        for _ in range(b):
            values += [float(w) for w in rng.uniform(-bound, bound, a)] + [0.0]
    return values


def _unpack(values, sizes: list):
    """The flat parameter list as (W, b) per layer, numpy float64."""
    layers, k = [], 0
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        block = np.asarray(values[k : k + b * (a + 1)], dtype=np.float64).reshape(b, a + 1)
        layers.append((block[:, :a], block[:, a]))
        k += b * (a + 1)
    return layers


def _mlp_numpy(values, sizes: list, X: np.ndarray, tanh_last: bool = True) -> np.ndarray:
    """The contract's network in float64 numpy: tanh after every layer, the last included."""
    h = X
    layers = _unpack(values, sizes)
    for k, (W, b) in enumerate(layers):
        h = h @ W.T + b
        if k < len(layers) - 1 or tanh_last:
            h = np.tanh(h)
    return h[:, 0]


def _mse_torch(values, sizes: list, X: np.ndarray, t: np.ndarray):
    """The milestone's loss and its gradient for every parameter, by torch in float64."""
    torch = _torch()
    params = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    h, k = torch.tensor(X, dtype=torch.float64), 0
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        block = params[k : k + b * (a + 1)].view(b, a + 1)
        h = h @ block[:, :a].T + block[:, a]
        h = torch.tanh(h)
        k += b * (a + 1)
    loss = ((h[:, 0] - torch.tensor(t, dtype=torch.float64)) ** 2).mean()
    loss.backward()
    return loss.item(), params.grad.numpy()


def _mse_numpy(values, sizes: list, X: np.ndarray, t: np.ndarray):
    """The milestone's loss and its gradient for every parameter (in the contract's order),
    by hand in float64 numpy: the same numbers as :func:`_mse_torch` (a test checks it), a
    hundred times faster, for the 100 steps of the reference's training."""
    layers = _unpack(values, sizes)
    hs = [np.asarray(X, dtype=np.float64)]
    for W, b in layers:
        hs.append(np.tanh(hs[-1] @ W.T + b))
    out = hs[-1][:, 0]
    loss = float(np.mean((out - t) ** 2))
    dh = np.zeros_like(hs[-1])
    dh[:, 0] = 2 * (out - t) / len(t)
    blocks = []
    for (W, _), h_in, h_out in zip(layers[::-1], hs[-2::-1], hs[:0:-1]):
        dz = dh * (1 - h_out**2)  # through the tanh
        blocks.append(np.concatenate([dz.T @ h_in, dz.sum(0)[:, None]], axis=1).ravel())
        dh = dz @ W
    return loss, np.concatenate(blocks[::-1])


def _train_reference(values, sizes: list, X: np.ndarray, t: np.ndarray):
    """The checker's training loop with exact gradients (float64): the loss before each
    step, and the parameters after the last."""
    values = np.array(values, dtype=np.float64)
    losses = []
    for _ in range(_MOONS_STEPS):
        loss, grad = _mse_numpy(values, sizes, X, t)
        losses.append(loss)
        values = values - _MOONS_LR * grad
    return np.array(losses), values


def _mse(model, X: np.ndarray, t: np.ndarray):
    """The mean squared error of ``model`` on (X, t), with only Value + Value, Value * number
    and Value + number: exactly the operations of chapter 2's Value."""
    total = None
    for x, target in zip(X, t, strict=True):
        d = model([float(v) for v in x])[0] + (-float(target))
        total = d * d if total is None else total + d * d
    return total * (1.0 / len(X))


def _outputs(model, X: np.ndarray, what: str) -> np.ndarray:
    out = []
    for x in X:
        result = run_learner(model, [float(v) for v in x], what=f"{what}(x)")
        if not isinstance(result, (list, tuple)) or len(result) != 1:
            raise ExerciseError(
                f"{what}(x) returned {type(result).__name__}"
                + (f" of length {len(result)}" if isinstance(result, (list, tuple)) else "")
                + "; expected a list with one Value per output (here one)"
            )
        out.append(float(result[0].data))
    return np.array(out)


def _close(a, b) -> bool:
    """The milestone's tolerance for float64 arithmetic done in another order."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-6, atol=1e-9))


def _separates(values, sizes, data) -> tuple[int, float]:
    """(training points right, test accuracy) of the network with parameters ``values``."""
    X, y, X_test, y_test = (np.asarray(data[k]) for k in ("X", "y", "X_test", "y_test"))
    right = int(((_mlp_numpy(values, sizes, X) > 0) == (y == 1)).sum())
    accuracy = float(((_mlp_numpy(values, sizes, X_test) > 0) == (y_test == 1)).mean())
    return right, accuracy


def _moons_inputs(seed: int) -> dict:
    """The milestone's inputs, drawn from ``seed``: chapter 2's expressions for the Value
    check, the starting parameters, 60 training and 300 test moons. A draw that the checker's
    training, run with exact gradients in float64, would not separate is skipped
    (deterministically), so that a correct engine always passes."""
    from . import ch02

    sizes = list(_MOONS_SIZES)
    for attempt in range(50):
        s = seed + 1000 * attempt
        X, y = _moons(60, seed=s % 2**32)
        X_test, y_test = _moons(300, seed=(s + 1) % 2**32)
        data = {
            "sizes": sizes,
            "value": ch02._value_inputs(s + 7, n_random=5),
            "init": _initial_parameters(sizes, seed=s + _MOONS_SEED),
            "X": X,
            "y": y.astype(np.int64),
            "X_test": X_test,
            "y_test": y_test.astype(np.int64),
        }
        _, trained = _train_reference(data["init"], sizes, X, 2.0 * y - 1.0)
        right, accuracy = _separates(trained, sizes, data)
        if right == len(X) and accuracy >= 0.95:
            return data
    raise RuntimeError(f"no separable draw of the moons from seed {seed}")  # never seen


def _moons_run(data: dict, Value, ValueMLP) -> dict:
    """The kernel's half: chapter 2's Value check on the learner's Value; then the learner's
    ``ValueMLP([2, 8, 1])`` with the given parameters: its outputs for 4 points, its gradient
    on 8, and the checker's training loop (100 steps of gradient descent, the learner's
    ``backward`` computing every gradient): the losses and the trained parameters. Each stage
    runs only when the one before it agrees with the reference (a failed stage costs no
    training); the judge checks every stage again."""
    from . import ch02

    what_v = f"your {ch02._class_name(Value, 'Value')}"
    what_m = f"your {ch02._class_name(ValueMLP, 'ValueMLP')}"
    out: dict = {"names": [ch02._class_name(Value, "Value"), ch02._class_name(ValueMLP, "")]}
    try:
        try:
            run_learner(lambda: Value(0.5) * Value(2.0) + 1.0, what=what_v)
        except ExerciseError as e:
            if "is not implemented yet" in str(e):
                raise ExerciseError(
                    f"{what_v} is not implemented yet: paste your class from chapter 2 "
                    "(exercise 4) into the cell above"
                ) from None
            raise
        out["value"] = ch02._value_run(data["value"], Value)
        if "error" in out["value"] or not _value_agrees(data["value"], out["value"]):
            return out  # the judge says what is wrong
        sizes = list(data["sizes"])
        model = run_learner(ValueMLP, sizes, what=f"{what_m}({sizes})")
        params = list(run_learner(model.parameters, what=f"{what_m}.parameters"))
        n_expected = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
        if len(params) != n_expected:
            raise ExerciseError(
                f"{what_m}({sizes}).parameters() lists {len(params)} values; expected "
                f"{n_expected}: a layer from a inputs to b outputs has a·b weights and b "
                "biases, so 2·8 + 8 + 8·1 + 1 = 33"
            )
        if not all(isinstance(p, Value) for p in params):
            kind = next(type(p).__name__ for p in params if not isinstance(p, Value))
            raise ExerciseError(
                f"{what_m}.parameters() contains a {kind}; every entry must be a Value"
            )
        if len({id(p) for p in params}) != len(params):
            raise ExerciseError(f"{what_m}.parameters() lists the same Value twice")
        init = [float(v) for v in data["init"]]
        for p, v in zip(params, init, strict=True):
            p.data = v
        X, t = np.asarray(data["X"]), 2.0 * np.asarray(data["y"]) - 1.0
        # one forward pass, then one gradient
        out["forward"] = _outputs(model, X[:4], what_m).tolist()
        if not _close(out["forward"], _mlp_numpy(init, sizes, X[:4])):
            return out
        for p in params:
            p.grad = 0.0
        loss = run_learner(lambda: _mse(model, X[:8], t[:8]), what=f"{what_m} with {what_v}")
        run_learner(loss.backward, what=f"{what_v}.backward")
        out["grad"] = [float(p.grad) for p in params]
        if not _close(out["grad"], _mse_numpy(init, sizes, X[:8], t[:8])[1]):
            return out
        # training: the checker's loop, the learner's engine
        losses = []
        for _ in range(_MOONS_STEPS):
            for p in params:
                p.grad = 0.0
            loss = _mse(model, X, t)
            losses.append(float(loss.data))
            loss.backward()
            for p in params:
                p.data -= _MOONS_LR * p.grad
        out["losses"] = losses
        out["trained"] = [float(p.data) for p in params]
    except ExerciseError as e:
        out["error"] = str(e)
    return out


def _value_agrees(inputs: dict, record: dict) -> bool:
    """Whether chapter 2's Value check would pass (the judge decides; this only saves the
    kernel a training that cannot pass)."""
    from . import ch02

    try:
        with contextlib.redirect_stdout(io.StringIO()):
            ch02._value_judge(inputs, to_plain(record))
    except (ExerciseError, TypeError):
        return False
    return True


def _moons_judge(data: dict, out) -> str:
    from . import ch02

    if not isinstance(out, dict):
        raise ExerciseError("the protocol's record did not come back as a dict")
    names = out.get("names") if isinstance(out.get("names"), list) else []
    names = [*names, None, None]
    what_v = f"your {ch02._safe_name(names[0], 'Value')}"
    what_m = f"your {ch02._safe_name(names[1], 'ValueMLP')}"
    error = out.get("error")
    try:
        ch02._value_judge(data["value"], _recorded({**out, "error": error}, "value"))
    except ExerciseError as e:
        if "value" not in out:
            raise
        raise ExerciseError(
            f"{what_v} does not pass chapter 2's checks yet, so it cannot train anything: {e}"
        ) from None
    sizes, init = list(data["sizes"]), list(data["init"])
    X, y = np.asarray(data["X"]), np.asarray(data["y"])
    t = 2.0 * y - 1.0
    record = {**out, "error": error}
    got = _float_list(_recorded(record, "forward"), 4, "the outputs for 4 points")
    expected = _mlp_numpy(init, sizes, X[:4])
    if not _close(got, expected):
        message = (
            f"{what_m}'s outputs for 4 points are {np.round(got, 6).tolist()}; with the "
            f"parameters set in the documented order they should be "
            f"{np.round(expected, 6).tolist()}"
        )
        if _close(got, _mlp_numpy(init, sizes, X[:4], tanh_last=False)):
            message += (
                " (your last layer leaves out the tanh: apply it in every layer, so that the "
                "output lies in (-1, 1) like the targets -1 and +1)"
            )
        else:
            message += (
                " (check that parameters() lists, layer by layer and neuron by neuron, the "
                "neuron's weights and then its bias, and that model(x) uses exactly those Values)"
            )
        raise ExerciseError(message)
    grads = _float_list(_recorded(record, "grad"), len(init), "the gradient")
    ref_grad = _mse_torch(init, sizes, X[:8], t[:8])[1]
    if not _close(grads, ref_grad):
        worst = int(np.argmax(np.abs(grads - ref_grad)))
        raise ExerciseError(
            f"the gradient of the loss for parameter {worst} is {grads[worst]:.6g}, torch's is "
            f"{ref_grad[worst]:.6g}: your Value passes chapter 2's small expressions but not "
            "this network (a deep graph, values used many times); check that backward visits "
            "every node once, after all its consumers"
        )
    losses = _float_list(_recorded(record, "losses"), _MOONS_STEPS, "the training losses")
    trained = _float_list(_recorded(record, "trained"), len(init), "the trained parameters")
    ref_losses, ref_trained = _train_reference(init, sizes, X, t)
    train_right, test_acc = _separates(trained, sizes, data)
    if not (_close_run(losses, ref_losses) and _close_run(trained, ref_trained)):
        step = next(
            (k for k in range(_MOONS_STEPS) if not _close_run(losses[k], ref_losses[k])),
            _MOONS_STEPS,
        )
        where = (
            f"at step {step + 1} the loss is {losses[step]:.6g}, the reference's "
            f"{ref_losses[step]:.6g}"
            if step < _MOONS_STEPS
            else "the parameters after the last step differ from the reference's"
        )
        raise ExerciseError(
            f"the checker's {_MOONS_STEPS} steps of gradient descent with your engine leave "
            f"the reference's run of the same loop (exact gradients, float64): {where} "
            f"({train_right} of {len(X)} training points end on the right side); check that "
            "the parameters you list are the ones model(x) uses, and that backward computes "
            "every gradient afresh"
        )
    if train_right < len(X):
        raise ExerciseError(
            f"after {_MOONS_STEPS} steps of gradient descent, {train_right} of {len(X)} training "
            f"points are on the right side (final loss {losses[-1]:.3f}); a correct engine "
            "separates all of them: check that the parameters you list are the ones model(x) uses"
        )
    if test_acc < 0.95:
        raise ExerciseError(
            f"all {len(X)} training points are right, but only {test_acc:.0%} of 300 new ones"
        )
    return (
        f"milestone 1: your Value engine trained ValueMLP({sizes}) to separate the moons: "
        f"all {len(X)} training points right, and at least 95% of 300 new ones"
    )


def _close_run(a, b) -> bool:
    """A training run's tolerance: 100 steps amplify rounding a little."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-5, atol=1e-8))


def _float_list(value, n: int, what: str) -> np.ndarray:
    """``value`` as n float64 numbers, or the feedback that it did not come back so."""
    if not (
        isinstance(value, list)
        and len(value) == n
        and all(isinstance(v, float) and math.isfinite(v) for v in value)
    ):
        raise ExerciseError(f"{what} did not come back as {n} finite numbers")
    return np.array(value, dtype=np.float64)


#: The protocol: chapter 2's expressions, the starting parameters and the moons (drawn from
#: the seed) in; the Value check's results, one forward pass, one gradient, and the checker's
#: training run (losses and trained parameters) out; each compared with torch in the judge.
MOONS_PROTOCOL = Protocol(_moons_inputs, _moons_run, _moons_judge)


@uses(MOONS_PROTOCOL)
def check_milestone_moons(Value, ValueMLP, plot: bool = True) -> None:
    r"""Milestone 1: your chapter-2 ``Value`` and your ``ValueMLP`` learn to separate two moons.

    ``ValueMLP(sizes)`` is a multilayer perceptron built from ``Value``: ``model(x)`` maps a
    list of ``sizes[0]`` numbers to a list of ``sizes[-1]`` Values, with
    $h_j = \tanh(b_j + \sum_i w_{ji} x_i)$ in every layer, the last included (its output, in
    $(-1, 1)$, is compared with targets $\pm 1$); ``model.parameters()`` lists every weight
    and bias as a Value, layer by layer, and in each layer neuron by neuron (its weights, then
    its bias).

    The checker, not your code, does the rest: it sets the parameters of
    ``ValueMLP([2, 8, 1])`` from its own seeded draw, checks one forward pass and one gradient
    against torch (float64), then trains by full-batch gradient descent on the mean squared
    error to targets $\pm 1$ (only ``+``, ``*`` and ``tanh``: what ``Value`` has), with your
    ``backward`` computing every gradient, for 100 steps on 60 points of scikit-learn's
    ``make_moons``. It passes when its run follows the same loop run with exact gradients
    (float64), every training point ends up on the right side of the boundary (the sign of the
    output) and at least 95% of 300 new points do too. With ``plot``, it draws the decision boundary
    (evaluated on a grid in numpy, from your trained parameters).

    See chapter 3.
    """
    data = MOONS_PROTOCOL.inputs(seeded(0))
    result = MOONS_PROTOCOL.run(to_plain(data), Value, ValueMLP)
    try:
        outputs = to_plain(result)
    except TypeError as e:  # the learner's objects gave something that is not plain data
        raise ExerciseError(f"{NOT_PLAIN}: {e}") from None
    try:
        passed(MOONS_PROTOCOL.judge(data, outputs))
    finally:  # after the verdict's line, and also when training failed: the picture helps
        trained = outputs.get("trained") if isinstance(outputs, dict) else None
        if plot and isinstance(trained, list) and len(trained) == len(data["init"]):
            _plot_moons(trained, data["sizes"], data["X"], data["y"])


def _plot_moons(values, sizes: list, X: np.ndarray, y: np.ndarray) -> None:
    import matplotlib.pyplot as plt

    g1, g2 = np.meshgrid(np.linspace(-2.5, 2.5, 161), np.linspace(-2.5, 2.5, 161))
    score = _mlp_numpy(values, sizes, np.stack([g1.ravel(), g2.ravel()], axis=1))
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.contourf(
        g1, g2, score.reshape(g1.shape) > 0, levels=[-0.5, 0.5, 1.5], colors=["#f4c7c3", "#c6dbef"]
    )
    ax.contour(g1, g2, score.reshape(g1.shape), levels=[0.0], colors="k", linewidths=1)
    for label, color, marker in ((0, "#d62728", "o"), (1, "#1f77b4", "s")):
        ax.scatter(*X[y == label].T, c=color, marker=marker, s=22, label=f"class {label}")
    ax.set(
        title=f"Milestone 1: ValueMLP({sizes}) trained by your Value engine",
        xlabel="$x_1$ (standardised)",
        ylabel="$x_2$ (standardised)",
    )
    ax.legend(loc="lower left", fontsize=8)
    plt.show()
