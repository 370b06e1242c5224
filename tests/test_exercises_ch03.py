"""Chapter 3's checkers: each passes a correct solution and gives specific feedback for
wrong ones (not implemented, unregistered parameters, wrong values, unstable math)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import aigc_course as ac
import aigc_course.nn as nn
from aigc_course.exercises import ExerciseError, ch03

# ------------------------------------------------------------------ cross-entropy


def good_ce(logits, target):
    logp = logits.log_softmax(dim=1)
    return -logp[ac.arange(len(target)), target].mean()


def naive_ce(logits, target):
    p = logits.exp() / logits.exp().sum(1, keepdim=True)
    return -p.log()[ac.arange(len(target)), target].mean()


def sum_ce(logits, target):
    return -logits.log_softmax(1)[ac.arange(len(target)), target].sum()


def per_sample_ce(logits, target):
    return -logits.log_softmax(1)[ac.arange(len(target)), target]


def test_cross_entropy_checker(capsys):
    ch03.check_cross_entropy(good_ce)
    assert "✓" in capsys.readouterr().out
    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch03.check_cross_entropy(lambda a, b: (_ for _ in ()).throw(NotImplementedError))
    with pytest.raises(ExerciseError, match="1e4.*log_softmax"):
        ch03.check_cross_entropy(naive_ce)
    with pytest.raises(ExerciseError, match="values differ.*the sum over the batch, 4× the mean"):
        ch03.check_cross_entropy(sum_ce)
    with pytest.raises(ExerciseError, match=r"logits\[:, target\].*arange\(N\), target"):
        ch03.check_cross_entropy(lambda z, t: -z.log_softmax(1)[:, t].mean())
    with pytest.raises(ExerciseError, match=r"over the classes of each row \(dim=1\)"):
        ch03.check_cross_entropy(lambda z, t: -z.log_softmax(0)[ac.arange(len(t)), t].mean())
    with pytest.raises(ExerciseError, match=r"shape \(4,\); expected a scalar"):
        ch03.check_cross_entropy(per_sample_ce)


# ------------------------------------------------------------------ MLP


class GoodMLP(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = x.relu()
        return x


class ListMLP(GoodMLP):
    def __init__(self, sizes):
        nn.Module.__init__(self)
        self.layers = [nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])]


class ReluEverywhereMLP(GoodMLP):
    def forward(self, x):
        for layer in self.layers:
            x = layer(x).relu()
        return x


def test_mlp_checker(capsys):
    ch03.check_mlp(GoodMLP)
    assert "✓" in capsys.readouterr().out
    with pytest.raises(ExerciseError, match="plain Python list.*ModuleList"):
        ch03.check_mlp(ListMLP)
    with pytest.raises(ExerciseError, match="no ReLU after the last layer"):
        ch03.check_mlp(ReluEverywhereMLP)
    with pytest.raises(ExerciseError, match="raised AttributeError on input"):
        ch03.check_mlp(lambda sizes: GoodMLP(sizes)(None))
    with pytest.raises(ExerciseError, match="has no nonlinearity"):
        ch03.check_mlp(LinearOnlyMLP)


class LinearOnlyMLP(GoodMLP):
    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


# ------------------------------------------------------------------ nested repr


def module_repr(module):
    extra = module.extra_repr()
    lines = extra.split("\n") if extra else []
    for name, child in module._modules.items():
        lines.append(f"({name}): " + module_repr(child).replace("\n", "\n  "))
    name = type(module).__name__
    if not lines:
        return f"{name}()"
    if len(lines) == 1 and not module._modules:
        return f"{name}({lines[0]})"
    return name + "(\n  " + "\n  ".join(lines) + "\n)"


def test_module_repr_checker_passes(capsys):
    ch03.check_module_repr(module_repr)
    assert capsys.readouterr().out.startswith("✓ your module_repr prints 5 models exactly")


def test_module_repr_checker_refuses_repr_of_children():
    def lazy(module):  # repr of the children: what the exercise rebuilds
        lines = [f"({n}): " + repr(c).replace("\n", "\n  ") for n, c in module._modules.items()]
        extra = module.extra_repr()
        if not lines:
            return f"{type(module).__name__}({extra})"
        return type(module).__name__ + "(\n  " + "\n  ".join(lines) + "\n)"

    with pytest.raises(ExerciseError, match=r"called repr\(\) on a child"):
        ch03.check_module_repr(lazy)
    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch03.check_module_repr(lambda m: (_ for _ in ()).throw(NotImplementedError))
    with pytest.raises(ExerciseError, match="returned list; return a str"):
        ch03.check_module_repr(lambda m: [])


def _variant(bug):
    """module_repr with one classic slip, written as a learner would."""

    def fn(module):
        extra = "" if bug == "no extra" else module.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        children = []
        for name, child in module._modules.items():
            text = fn(child)
            if bug != "indent first line only":
                text = text.replace("\n", "\n  ")
            children.append(text if bug == "no names" else f"({name}): {text}")
        lines = children + extra_lines if bug == "children first" else extra_lines + children
        name = type(module).__name__
        if bug == "always multi-line" or len(lines) > 1 or children:
            return name + "(\n  " + "\n  ".join(lines) + "\n)"
        return f"{name}({lines[0]})" if lines else f"{name}()"

    return fn


@pytest.mark.parametrize(
    ("bug", "message"),
    [
        ("indent first line only", r"replace every '\\n' in it with '\\n  '.*four spaces"),
        ("always multi-line", r"nothing inside prints as `ReLU\(\)`"),
        ("no names", r"starts with its name in parentheses"),
        ("children first", "extra_repr lines come first"),
        ("no extra", r"comes from module.extra_repr\(\)"),
    ],
)
def test_module_repr_mistakes_are_named(bug, message):
    with pytest.raises(ExerciseError, match=message):
        ch03.check_module_repr(_variant(bug))


# ------------------------------------------------------------------ Module from scratch


class Base:
    def __init__(self):
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})

    def __setattr__(self, name, value):
        if isinstance(value, nn.Parameter):
            self._parameters[name] = value
        elif isinstance(value, Base):
            self._modules[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        for registry in ("_parameters", "_modules"):
            found = self.__dict__.get(registry, {})
            if name in found:
                return found[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def named_parameters(self, prefix=""):
        for name, p in self._parameters.items():
            yield prefix + name, p
        for name, child in self._modules.items():
            yield from child.named_parameters(prefix + name + ".")


def test_module_base_checker(capsys):
    ch03.check_module_base(Base)
    ch03.check_module_base(nn.Module)  # the real thing passes too
    assert capsys.readouterr().out.count("as torch.nn.Module does") == 2


def test_module_base_mistakes_are_named():
    class Recursing(Base):
        def __init__(self):
            self._parameters = {}  # goes through __setattr__, which reads self._parameters
            self._modules = {}

        def __setattr__(self, name, value):
            self._parameters.pop(name, None)  # forget an earlier registration
            super().__setattr__(name, value)

        def __getattr__(self, name):
            if name in self._parameters:  # missing: calls __getattr__ again, forever
                return self._parameters[name]
            raise AttributeError(name)

    with pytest.raises(ExerciseError, match="recursed forever.*object.__setattr__"):
        ch03.check_module_base(Recursing)

    class NoRegistration(Base):
        def __setattr__(self, name, value):
            object.__setattr__(self, name, value)

    with pytest.raises(ExerciseError, match=r"gives \[\]; .*put each Parameter into"):
        ch03.check_module_base(NoRegistration)

    class EveryTensor(Base):
        def __setattr__(self, name, value):
            if isinstance(value, ac.Tensor):
                self._parameters[name] = value
            else:
                super().__setattr__(name, value)

    with pytest.raises(ExerciseError, match="only Parameters are registered"):
        ch03.check_module_base(EveryTensor)

    class NoPrefix(Base):
        def named_parameters(self, prefix=""):
            yield from self._parameters.items()
            for child in self._modules.values():
                yield from child.named_parameters()

    with pytest.raises(ExerciseError, match="prefix each child's names"):
        ch03.check_module_base(NoPrefix)

    class NoGetattr(Base):
        def __getattr__(self, name):
            raise AttributeError(name)

    with pytest.raises(ExerciseError, match="__getattr__ only when normal lookup fails"):
        ch03.check_module_base(NoGetattr)


# ------------------------------------------------------------------ side effects


@pytest.mark.parametrize(
    ("checker", "solution"),
    [(ch03.check_module_repr, module_repr), (ch03.check_mlp, GoodMLP)],
)
def test_checkers_leave_torch_global_rng_alone(checker, solution, capsys):
    # the checkers seed torch for their references; the learner's random stream must continue
    # exactly as if no checker had run
    import torch

    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    checker(solution)
    torch.testing.assert_close(torch.rand(3), expected)
    assert "✓" in capsys.readouterr().out


def test_mlp_checker_reports_wrong_layer_names():
    class NamedMLP(nn.Module):
        def __init__(self, sizes):
            super().__init__()
            self.hidden = nn.Linear(sizes[0], sizes[1])

    with pytest.raises(ExerciseError, match=r"has parameters \['hidden.weight'.*expected"):
        ch03.check_mlp(NamedMLP)


# ------------------------------------------------------------------ milestone 1


class Value:  # chapter 2's solution
    def __init__(self, data, _inputs=(), _local_grads=()):
        self.data = data
        self.grad = 0.0
        self._inputs = _inputs
        self._local_grads = _local_grads

    # type(self): a subclass below (one classic mistake each) builds its own kind of node
    def __add__(self, other):
        other = other if isinstance(other, Value) else type(self)(other)
        return type(self)(self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other):
        other = other if isinstance(other, Value) else type(self)(other)
        return type(self)(self.data * other.data, (self, other), (other.data, self.data))

    def tanh(self):
        t = math.tanh(self.data)
        return type(self)(t, (self,), (1 - t**2,))

    def backward(self):
        order, visited = [], set()

        def visit(v):
            if v not in visited:
                visited.add(v)
                for u in v._inputs:
                    visit(u)
                order.append(v)

        visit(self)
        self.grad = 1.0
        for v in reversed(order):
            for u, local in zip(v._inputs, v._local_grads):
                u.grad += local * v.grad


class ValueMLP:
    def __init__(self, sizes, value=Value, tanh_last=True):
        self.tanh_last = tanh_last
        self.layers = [
            [[value(0.1) for _ in range(a)] + [value(0.0)] for _ in range(b)]
            for a, b in zip(sizes[:-1], sizes[1:])
        ]

    def __call__(self, x):
        for k, layer in enumerate(self.layers):
            out = []
            for *w, b in layer:
                s = b
                for wi, xi in zip(w, x):
                    s = s + wi * xi
                last = k == len(self.layers) - 1
                out.append(s.tanh() if self.tanh_last or not last else s)
            x = out
        return x

    def parameters(self):
        return [p for layer in self.layers for neuron in layer for p in neuron]


class NumpyFloatValue(Value):
    """Correct arithmetic in numpy float64 scalars instead of Python floats."""

    def __init__(self, data, _inputs=(), _local_grads=()):
        super().__init__(np.float64(data), _inputs, _local_grads)
        self.grad = np.float64(0.0)

    def __add__(self, other):
        other = other if isinstance(other, Value) else NumpyFloatValue(other)
        return NumpyFloatValue(self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other):
        other = other if isinstance(other, Value) else NumpyFloatValue(other)
        return NumpyFloatValue(self.data * other.data, (self, other), (other.data, self.data))

    def tanh(self):
        t = np.tanh(self.data)
        return NumpyFloatValue(t, (self,), (1 - t * t,))


def test_milestone_passes_and_draws_the_boundary(capsys, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append(plt.gcf()))
    ch03.check_milestone_moons(Value, ValueMLP)
    out = capsys.readouterr().out
    assert out.startswith("✓ milestone 1: your Value engine trained ValueMLP([2, 8, 1])")
    assert "all 60 training points right" in out
    ax = shown[0].axes[0]
    assert "Milestone 1" in ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    plt.close("all")


def test_milestone_accepts_numpy_float64_arithmetic(capsys):
    ch03.check_milestone_moons(
        NumpyFloatValue, lambda sizes: ValueMLP(sizes, NumpyFloatValue), plot=False
    )
    assert "✓ milestone 1" in capsys.readouterr().out


def test_milestone_names_the_missing_piece():
    class TodoValue:
        def __init__(self, data, _inputs=(), _local_grads=()):
            raise NotImplementedError

    class TodoMLP:
        def __init__(self, sizes):
            raise NotImplementedError

    from aigc_course.exercises._verdict import run_checker

    with pytest.raises(ExerciseError, match=r"your TodoValue is not implemented yet: paste"):
        ch03.check_milestone_moons(TodoValue, ValueMLP, plot=False)
    with pytest.raises(ExerciseError, match="your TodoMLP.*is not implemented yet"):
        ch03.check_milestone_moons(Value, TodoMLP, plot=False)
    for args in ((TodoValue, TodoMLP), (Value, TodoMLP)):
        verdict = run_checker("milestone_moons", ch03.check_milestone_moons, *args, plot=False)
        assert verdict.status == "not attempted", verdict


def test_milestone_mistakes_are_named():
    class NoUpstream(Value):
        def backward(self):
            order, visited = [], set()

            def visit(v):
                if v not in visited:
                    visited.add(v)
                    for u in v._inputs:
                        visit(u)
                    order.append(v)

            visit(self)
            self.grad = 1.0
            for v in reversed(order):
                for u, local in zip(v._inputs, v._local_grads):
                    u.grad += local  # forgets v.grad

    with pytest.raises(ExerciseError, match="does not pass chapter 2's checks.*upstream gradient"):
        ch03.check_milestone_moons(NoUpstream, lambda s: ValueMLP(s, NoUpstream), plot=False)

    with pytest.raises(ExerciseError, match="last layer leaves out the tanh"):
        ch03.check_milestone_moons(
            Value, lambda sizes: ValueMLP(sizes, tanh_last=False), plot=False
        )

    class BiasFirst(ValueMLP):
        def parameters(self):
            return [p for layer in self.layers for n in layer for p in [n[-1], *n[:-1]]]

    with pytest.raises(ExerciseError, match="neuron's weights and then its bias"):
        ch03.check_milestone_moons(Value, BiasFirst, plot=False)

    class Missing(ValueMLP):
        def parameters(self):
            return super().parameters()[:-1]

    with pytest.raises(ExerciseError, match="lists 32 values; expected 33.*2·8 \\+ 8"):
        ch03.check_milestone_moons(Value, Missing, plot=False)

    class Floats(ValueMLP):
        def parameters(self):
            return [p.data for p in super().parameters()]

    with pytest.raises(ExerciseError, match="contains a float; every entry must be a Value"):
        ch03.check_milestone_moons(Value, Floats, plot=False)

    class SeenByValue(Value):  # nodes told apart by their number: equal numbers collide
        def backward(self):
            order, visited = [], set()

            def visit(v):
                if v.data not in visited:
                    visited.add(v.data)
                    for u in v._inputs:
                        visit(u)
                    order.append(v)

            visit(self)
            self.grad = 1.0
            for v in reversed(order):
                for u, local in zip(v._inputs, v._local_grads):
                    u.grad += local * v.grad

    # chapter 2's random expressions rarely repeat a number; the network's zero biases do
    with pytest.raises(ExerciseError, match="gradient of the loss for parameter.*every node once"):
        ch03.check_milestone_moons(SeenByValue, lambda s: ValueMLP(s, SeenByValue), plot=False)
