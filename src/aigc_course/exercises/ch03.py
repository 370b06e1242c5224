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
wrong. See chapter 3.
"""

from __future__ import annotations

import contextlib
import io
import math

import numpy as np

from .._creation import from_torch
from .._tensor import Tensor
from ._checking import ExerciseError, check_tensor, passed, run_learner, seeded

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


# ------------------------------------------------------------------ 1. cross-entropy


def check_cross_entropy(fn) -> None:
    """``fn(logits (N, C), target (N,) int64) -> scalar`` must equal ``F.cross_entropy``
    (mean reduction), also for logits of ±1e4, with the same gradient."""
    torch = _torch()
    what = "your cross_entropy"
    g = torch.Generator().manual_seed(seeded(0))
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
    torch.manual_seed(seeded(len(sizes)))
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


# ------------------------------------------------------------------ 3. repr of a nested model


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


class _Head:
    """A module with both an ``extra_repr`` and a child, defined for either library."""

    @staticmethod
    def build(nn):
        class Head(nn.Module):
            def __init__(self):
                super().__init__()
                self.proj = nn.Linear(4, 4)

            def extra_repr(self):
                return "n_head=2, causal=True"

        return Head()


def _repr_models(nn, torch_lib):
    """The same five models in either library, from a leaf to three levels of nesting."""
    return [
        nn.Linear(3, 4),
        nn.ReLU(),
        nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Dropout(0.1)),
        _nested_model(nn, torch_lib),
        _Head.build(nn),
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


def check_module_repr(fn) -> None:
    """``fn(module) -> str``: the text ``repr(module)`` prints, as torch nests it, built from
    ``type(module).__name__``, ``module.extra_repr()`` and the children in ``module._modules``
    (recursively: never ``repr`` of a child). Compared with torch's ``repr`` of the same model
    for a leaf with and without an ``extra_repr``, a ``Sequential``, three levels of nesting
    and a module with both an ``extra_repr`` and a child.

    See chapter 3.
    """
    torch = _torch()
    import aigc_course

    from .. import nn

    with _keep_torch_rng(torch):
        references = [repr(m) for m in _repr_models(torch.nn, torch)]
    what = "your module_repr"
    for model, want in zip(_repr_models(nn, aigc_course), references, strict=True):
        _hide_reprs(model)
        got = run_learner(fn, model, what=what)
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
    passed(
        f"your module_repr prints {len(references)} models exactly as torch does, nesting included"
    )


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
    rng = np.random.default_rng(seeded(seed))
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
    ``make_moons``. It passes when every training point ends up on the right side of the
    boundary (the sign of the output) and at least 95% of 300 new points do too. With
    ``plot``, it draws the decision boundary (evaluated on a grid in numpy, from your trained
    parameters).

    See chapter 3.
    """
    what_v = f"your {getattr(Value, '__name__', 'Value')}"
    what_m = f"your {getattr(ValueMLP, '__name__', 'ValueMLP')}"
    try:
        run_learner(lambda: Value(0.5) * Value(2.0) + 1.0, what=what_v)
    except ExerciseError as e:
        if "is not implemented yet" in str(e):
            raise ExerciseError(
                f"{what_v} is not implemented yet: paste your class from chapter 2 (exercise 4) "
                "into the cell above"
            ) from None
        raise
    from . import ch02

    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            ch02.check_value(Value, n_random=5)
    except ExerciseError as e:
        raise ExerciseError(
            f"{what_v} does not pass chapter 2's checks yet, so it cannot train anything: {e}"
        ) from None
    sizes = list(_MOONS_SIZES)
    model = run_learner(ValueMLP, sizes, what=f"{what_m}({sizes})")
    params = run_learner(model.parameters, what=f"{what_m}.parameters")
    params = list(params)
    n_expected = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
    if len(params) != n_expected:
        raise ExerciseError(
            f"{what_m}({sizes}).parameters() lists {len(params)} values; expected {n_expected}: "
            "a layer from a inputs to b outputs has a·b weights and b biases, so "
            "2·8 + 8 + 8·1 + 1 = 33"
        )
    if not all(isinstance(p, Value) for p in params):
        kind = next(type(p).__name__ for p in params if not isinstance(p, Value))
        raise ExerciseError(f"{what_m}.parameters() contains a {kind}; every entry must be a Value")
    if len({id(p) for p in params}) != len(params):
        raise ExerciseError(f"{what_m}.parameters() lists the same Value twice")
    init = _initial_parameters(sizes, seed=_MOONS_SEED)
    for p, v in zip(params, init, strict=True):
        p.data = v
    X, y = _moons(60, seed=0)
    t = 2.0 * y - 1.0  # targets -1 and +1
    # one forward pass, against numpy in float64
    got = _outputs(model, X[:4], what_m)
    expected = _mlp_numpy(init, sizes, X[:4])
    if not np.allclose(got, expected, rtol=1e-6, atol=1e-9):
        message = (
            f"{what_m}'s outputs for 4 points are {np.round(got, 6).tolist()}; with the "
            f"parameters set in the documented order they should be "
            f"{np.round(expected, 6).tolist()}"
        )
        if np.allclose(got, _mlp_numpy(init, sizes, X[:4], tanh_last=False), rtol=1e-6):
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
    # one gradient, against torch in float64
    for p in params:
        p.grad = 0.0
    loss = run_learner(lambda: _mse(model, X[:8], t[:8]), what=f"{what_m} with {what_v}")
    run_learner(loss.backward, what=f"{what_v}.backward")
    ref_loss, ref_grad = _mse_torch(init, sizes, X[:8], t[:8])
    grads = np.array([float(p.grad) for p in params])
    if not np.allclose(grads, ref_grad, rtol=1e-6, atol=1e-9):
        worst = int(np.argmax(np.abs(grads - ref_grad)))
        raise ExerciseError(
            f"the gradient of the loss for parameter {worst} is {grads[worst]:.6g}, torch's is "
            f"{ref_grad[worst]:.6g}: your Value passes chapter 2's small expressions but not "
            "this network (a deep graph, values used many times); check that backward visits "
            "every node once, after all its consumers"
        )
    # training: the checker's loop, your engine
    for _ in range(_MOONS_STEPS):
        for p in params:
            p.grad = 0.0
        loss = _mse(model, X, t)
        loss.backward()
        for p in params:
            p.data -= _MOONS_LR * p.grad
    train_right = int(((_outputs(model, X, what_m) > 0) == (y == 1)).sum())
    X_test, y_test = _moons(300, seed=1)
    test_acc = float(((_outputs(model, X_test, what_m) > 0) == (y_test == 1)).mean())
    trained = [float(p.data) for p in params]
    problem = ""
    if train_right < len(X):
        problem = (
            f"after {_MOONS_STEPS} steps of gradient descent, {train_right} of {len(X)} training "
            f"points are on the right side (final loss {float(loss.data):.3f}); a correct engine "
            "separates all of them: check that the parameters you list are the ones model(x) uses"
        )
    elif test_acc < 0.95:
        problem = f"all {len(X)} training points are right, but only {test_acc:.0%} of 300 new ones"
    else:
        passed(
            f"milestone 1: your Value engine trained ValueMLP({sizes}) to separate the moons: "
            f"all {len(X)} training points right, and at least 95% of 300 new ones"
        )
    if plot:  # after the verdict's line, and also when it failed: the picture helps
        _plot_moons(trained, sizes, X, y)
    if problem:
        raise ExerciseError(problem)


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
