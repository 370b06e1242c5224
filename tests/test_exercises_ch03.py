"""Chapter 3's checkers: each passes a correct solution and gives specific feedback for
wrong ones (not implemented, unregistered parameters, wrong values, unstable math)."""

from __future__ import annotations

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


# ------------------------------------------------------------------ state_dict


def state_dict(module, prefix=""):
    out = {}
    for name, p in module._parameters.items():
        if p is not None:
            out[prefix + name] = p.detach()
    for name, b in module._buffers.items():
        if b is not None:
            out[prefix + name] = b.detach()
    for name, child in module._modules.items():
        out.update(state_dict(child, prefix + name + "."))
    return out


def test_state_dict_checker(capsys):
    ch03.check_state_dict(state_dict)
    assert capsys.readouterr().out.startswith("✓ your state_dict matches torch's: 8 entries")
    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch03.check_state_dict(lambda m: (_ for _ in ()).throw(NotImplementedError))

    def no_buffers(module, prefix=""):
        out = {prefix + n: p.detach() for n, p in module._parameters.items() if p is not None}
        for name, child in module._modules.items():
            out.update(no_buffers(child, prefix + name + "."))
        return out

    with pytest.raises(ExerciseError, match="buffers such as block.mask"):
        ch03.check_state_dict(no_buffers)

    def no_prefix(module):
        out = {n: p.detach() for n, p in module._parameters.items() if p is not None}
        out.update({n: b for n, b in module._buffers.items()})
        for child in module._modules.values():
            out.update(no_prefix(child))
        return out

    with pytest.raises(ExerciseError, match="child's name as a prefix"):
        ch03.check_state_dict(no_prefix)

    def children_first(module, prefix=""):
        out = {}
        for name, child in module._modules.items():
            out.update(children_first(child, prefix + name + "."))
        out.update({prefix + n: p.detach() for n, p in module._parameters.items() if p is not None})
        out.update({prefix + n: b for n, b in module._buffers.items()})
        return out

    with pytest.raises(ExerciseError, match="another order"):
        ch03.check_state_dict(children_first)

    def not_detached(module):
        return {k: dict(module.named_parameters()).get(k, v) for k, v in state_dict(module).items()}

    with pytest.raises(ExerciseError, match="requires grad.*detach"):
        ch03.check_state_dict(not_detached)


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
    [(ch03.check_state_dict, state_dict), (ch03.check_mlp, GoodMLP)],
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
