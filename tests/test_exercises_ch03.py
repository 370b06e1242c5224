"""Chapter 3's checkers: each passes a correct solution and gives specific feedback for
wrong ones (not implemented, unregistered parameters, wrong values, unstable math)."""

from __future__ import annotations

import pytest

import aigc_course as ac
import aigc_course.nn as nn
from aigc_course.exercises import ExerciseError, ch03

# ------------------------------------------------------------------ LayerNorm


class GoodLayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(ac.ones(normalized_shape))
        self.bias = nn.Parameter(ac.zeros(normalized_shape))

    def forward(self, x):
        mu = x.mean(-1, keepdim=True)
        var = ((x - mu) ** 2).mean(-1, keepdim=True)
        return (x - mu) / (var + self.eps).sqrt() * self.weight + self.bias


class UnregisteredLayerNorm(GoodLayerNorm):
    def __init__(self, normalized_shape, eps=1e-5):
        nn.Module.__init__(self)
        self.eps = eps
        object.__setattr__(self, "weight", ac.ones(normalized_shape))


class UnbiasedVarLayerNorm(GoodLayerNorm):
    def forward(self, x):
        mu = x.mean(-1, keepdim=True)
        return (x - mu) / (x.var(-1, keepdim=True) + self.eps).sqrt() * self.weight + self.bias


class TodoLayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        raise NotImplementedError


def test_layer_norm_checker(capsys):
    ch03.check_layer_norm(GoodLayerNorm)
    assert capsys.readouterr().out.startswith("✓")
    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch03.check_layer_norm(TodoLayerNorm)
    with pytest.raises(ExerciseError, match="has parameters {}.*nn.Parameter"):
        ch03.check_layer_norm(UnregisteredLayerNorm)
    with pytest.raises(ExerciseError, match="output for input shape .*values differ"):
        ch03.check_layer_norm(UnbiasedVarLayerNorm)


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
    with pytest.raises(ExerciseError, match="values differ"):
        ch03.check_cross_entropy(sum_ce)
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


# ------------------------------------------------------------------ counting


def test_count_parameters_checker(capsys):
    ch03.check_count_parameters(lambda m: sum(p.numel() for p in m.parameters()))
    assert "✓" in capsys.readouterr().out

    def by_state_dict(m):  # counts the tied weight twice
        return sum(v.numel() for v in m.state_dict().values())

    with pytest.raises(ExerciseError, match="count a shared Parameter once"):
        ch03.check_count_parameters(by_state_dict)
    with pytest.raises(ExerciseError, match="expected an int"):
        ch03.check_count_parameters(lambda m: 1.5)
    with pytest.raises(ExerciseError, match="says 0 for Linear"):
        ch03.check_count_parameters(lambda m: 0)


# ------------------------------------------------------------------ side effects


@pytest.mark.parametrize(
    ("checker", "solution"),
    [(ch03.check_layer_norm, GoodLayerNorm), (ch03.check_mlp, GoodMLP)],
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
