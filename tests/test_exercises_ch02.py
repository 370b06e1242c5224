"""Chapter 2's checkers: they pass correct solutions and give specific feedback on wrong ones."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import aigc_course as ac
from aigc_course.autograd import Function
from aigc_course.exercises import ExerciseError, ch02

# ------------------------------------------------------------------ SiLU


class SiLU(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x.sigmoid()

    @staticmethod
    def backward(ctx, dz):
        (x,) = ctx.saved_tensors
        s = x.sigmoid()
        return dz * s * (1 + x * (1 - s))


class SiLUNotWritten(Function):
    @staticmethod
    def forward(ctx, x):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, dz):
        raise NotImplementedError


class SiLUWrongBackward(SiLU):
    @staticmethod
    def backward(ctx, dz):  # forgets the product rule: d/dx [x s] is not s
        (x,) = ctx.saved_tensors
        return dz * x.sigmoid()


class SiLUNumpyBackward(SiLU):
    @staticmethod
    def backward(ctx, dz):  # right numbers, but computed outside the graph
        (x,) = ctx.saved_tensors
        xs = x.detach().numpy()
        with np.errstate(over="ignore"):
            s = 1 / (1 + np.exp(-xs))
        return dz * ac.tensor(s * (1 + xs * (1 - s)))


class SiLUSigmoidOnly(SiLU):
    @staticmethod
    def forward(ctx, x):  # forgets the factor x
        ctx.save_for_backward(x)
        return x.sigmoid()


def test_silu_passes(capsys):
    ch02.check_silu(SiLU)
    assert capsys.readouterr().out.startswith("✓")


def test_silu_not_implemented():
    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch02.check_silu(SiLUNotWritten)


def test_silu_wrong_gradient_names_the_gradient():
    with pytest.raises(ExerciseError, match="gradient of your SiLU.*differ"):
        ch02.check_silu(SiLUWrongBackward)


def test_silu_backward_outside_the_graph_cannot_be_differentiated_again():
    with pytest.raises(ExerciseError, match="create_graph=True.*Tensor operations"):
        ch02.check_silu(SiLUNumpyBackward)


def test_silu_wrong_values_name_the_input():
    with pytest.raises(ExerciseError, match="your SiLU output on a float32 input of shape \\(\\)"):
        ch02.check_silu(SiLUSigmoidOnly)


def test_silu_wants_a_class():
    with pytest.raises(ExerciseError, match="not function"):
        ch02.check_silu(lambda x: x)


# ------------------------------------------------------------------ sum over paths


def dL_dx(x, y):
    a = x * y
    return (math.sin(a) + a * math.cos(a)) * y + 1


def test_paths_passes(capsys):
    ch02.check_sum_over_paths(dL_dx)
    assert "✓" in capsys.readouterr().out


def test_paths_missing_one_path_is_named():
    def missing(x, y):
        a = x * y
        return math.sin(a) * y + 1  # forgets x -> a -> b -> L

    with pytest.raises(ExerciseError, match="missing the path x → a → b → L"):
        ch02.check_sum_over_paths(missing)


def test_paths_missing_the_direct_path_is_named():
    def missing(x, y):
        return dL_dx(x, y) - 1

    with pytest.raises(ExerciseError, match="missing the path x → L"):
        ch02.check_sum_over_paths(missing)


def test_paths_product_instead_of_sum():
    def product(x, y):
        a = x * y
        return math.sin(a) * y * (a * math.cos(a) * y) * 1.0

    with pytest.raises(ExerciseError, match="multiplied the paths"):
        ch02.check_sum_over_paths(product)


def test_paths_not_a_number_and_not_implemented():
    with pytest.raises(ExerciseError, match="return a number"):
        ch02.check_sum_over_paths(lambda x, y: "12")
    with pytest.raises(ExerciseError, match="return a number"):
        ch02.check_sum_over_paths(lambda x, y: None)

    def todo(x, y):
        raise NotImplementedError

    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch02.check_sum_over_paths(todo)


# ------------------------------------------------------------------ log-sum-exp


class LogSumExp(Function):
    @staticmethod
    def forward(ctx, x):
        m = x.max(dim=-1, keepdim=True)[0]
        lse = m.squeeze(-1) + (x - m).exp().sum(dim=-1).log()
        ctx.save_for_backward(x, lse)
        return lse

    @staticmethod
    def backward(ctx, dz):
        x, lse = ctx.saved_tensors
        return dz.unsqueeze(-1) * (x - lse.unsqueeze(-1)).exp()


class LogSumExpSoftmaxBackward(LogSumExp):
    @staticmethod
    def backward(ctx, dz):  # another correct form: the library's softmax
        x, _ = ctx.saved_tensors
        return dz.unsqueeze(-1) * x.softmax(dim=-1)


class LogSumExpInFloat64(LogSumExp):
    @staticmethod
    def forward(ctx, x):  # correct arithmetic in float64, the result cast back
        x64 = x.double()
        m = x64.max(dim=-1, keepdim=True)[0]
        lse = m.squeeze(-1) + (x64 - m).exp().sum(dim=-1).log()
        ctx.save_for_backward(x, lse.to(x.dtype))
        return lse.to(x.dtype)


class LogSumExpNaive(LogSumExp):
    @staticmethod
    def forward(ctx, x):
        lse = x.exp().sum(dim=-1).log()
        ctx.save_for_backward(x, lse)
        return lse


class LogSumExpNoUpstream(LogSumExp):
    @staticmethod
    def backward(ctx, dz):
        x, lse = ctx.saved_tensors
        return (x - lse.unsqueeze(-1)).exp()


class LogSumExpUnnormalised(LogSumExp):
    @staticmethod
    def backward(ctx, dz):  # e^(x - m): the softmax's numerator only
        x, _ = ctx.saved_tensors
        return dz.unsqueeze(-1) * (x - x.max(dim=-1, keepdim=True)[0]).exp()


class LogSumExpDzNotUnsqueezed(LogSumExp):
    @staticmethod
    def backward(ctx, dz):  # dz (N,) against (N, C): wrong axis, or a broadcasting error
        x, lse = ctx.saved_tensors
        return dz * (x - lse.unsqueeze(-1)).exp()


class LogSumExpNumpyBackward(LogSumExp):
    @staticmethod
    def backward(ctx, dz):  # right numbers, computed outside the graph
        x, lse = ctx.saved_tensors
        p = np.exp(x.detach().numpy() - lse.detach().numpy()[..., None])
        return dz.unsqueeze(-1) * ac.tensor(p)


class LogSumExpKeepdim(LogSumExp):
    @staticmethod
    def forward(ctx, x):
        m = x.max(dim=-1, keepdim=True)[0]
        lse = m + (x - m).exp().sum(dim=-1, keepdim=True).log()
        ctx.save_for_backward(x, lse)
        return lse


@pytest.mark.parametrize("cls", [LogSumExp, LogSumExpSoftmaxBackward, LogSumExpInFloat64])
def test_logsumexp_passes(cls, capsys):
    ch02.check_logsumexp(cls)
    assert "✓ LogSumExp" in capsys.readouterr().out


@pytest.mark.parametrize(
    "cls, message",
    [
        (LogSumExpNaive, r"gives inf for the row \[1000.0, 999.0, -1000.0\].*Subtract the row's"),
        (LogSumExpNoUpstream, "gradient of your LogSumExp.*local derivative alone.*dz"),
        (LogSumExpUnnormalised, r"that is e\^\(x - max\).*divides e\^x by the sum"),
        (LogSumExpDzNotUnsqueezed, r"shape \(4, 4\).*one entry per \*row\*.*unsqueeze\(-1\)"),
        (LogSumExpNumpyBackward, "no graph with create_graph=True"),
        (LogSumExpKeepdim, r"shape \(1,\); expected \(\).*without keepdim"),
    ],
)
def test_logsumexp_mistakes_are_named(cls, message):
    with pytest.raises(ExerciseError, match=message):
        ch02.check_logsumexp(cls)


def test_logsumexp_unsqueeze_hint_on_a_broadcasting_error():
    class OnlyNonSquare(LogSumExpDzNotUnsqueezed):  # the 3-d input raises in backward
        pass

    import aigc_course.exercises.ch02 as module

    cases = module._lse_inputs

    def without_square(dtype_name, g):
        return [t for t in cases(dtype_name, g) if t.shape != (4, 4)]

    module._lse_inputs = without_square
    try:
        with pytest.raises(ExerciseError, match=r"raised RuntimeError.*dz.unsqueeze\(-1\)"):
            ch02.check_logsumexp(OnlyNonSquare)
    finally:
        module._lse_inputs = cases


def test_logsumexp_not_implemented_and_not_a_class():
    class Todo(Function):
        @staticmethod
        def forward(ctx, x):
            raise NotImplementedError

        @staticmethod
        def backward(ctx, dz):
            raise NotImplementedError

    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch02.check_logsumexp(Todo)
    with pytest.raises(ExerciseError, match="pass your class itself"):
        ch02.check_logsumexp(LogSumExp())


# ------------------------------------------------------------------ gradient hints


class SiLUNoUpstream(SiLU):
    @staticmethod
    def backward(ctx, dz):  # the local derivative alone
        (x,) = ctx.saved_tensors
        s = x.sigmoid()
        return s * (1 + x * (1 - s)) + 0 * dz


class SiLUOtherTerm(SiLU):
    @staticmethod
    def backward(ctx, dz):  # keeps only x·σ'(x)
        (x,) = ctx.saved_tensors
        s = x.sigmoid()
        return dz * x * s * (1 - s)


class SiLUTwice(SiLU):
    @staticmethod
    def backward(ctx, dz):
        return 2 * SiLU.backward(ctx, dz)


def test_silu_gradient_hints_name_the_cause():
    with pytest.raises(ExerciseError, match="multiply it by the upstream gradient dz"):
        ch02.check_silu(SiLUNoUpstream)
    with pytest.raises(ExerciseError, match="product-rule term is missing.*kept only σ\\(x\\)\\)$"):
        ch02.check_silu(SiLUWrongBackward)
    with pytest.raises(ExerciseError, match="product-rule term is missing.*kept only x·σ'\\(x\\)"):
        ch02.check_silu(SiLUOtherTerm)
    with pytest.raises(ExerciseError, match="exactly 2× the right gradient"):
        ch02.check_silu(SiLUTwice)


def test_paths_missing_the_product_rule_term_is_named():
    def missing(x, y):
        a = x * y
        return a * math.cos(a) * y + 1.0  # forgets b * y: L = a·b depends on a directly too

    with pytest.raises(ExerciseError, match="missing the path x → a → L.*product-rule term"):
        ch02.check_sum_over_paths(missing)


# ------------------------------------------------------------------ Value


def make_value(bug=None):
    class Value:
        def __init__(self, data, _parents=(), _local=()):
            self.data, self.grad = data, 0.0
            self._parents, self._local = _parents, _local

        def __add__(self, other):
            other = other if isinstance(other, Value) else Value(other)
            return Value(self.data + other.data, (self, other), (1.0, 1.0))

        def __mul__(self, other):
            other = other if isinstance(other, Value) else Value(other)
            local = (other.data, 0.0 if bug == "one factor" else self.data)
            return Value(self.data * other.data, (self, other), local)

        def tanh(self):
            t = math.tanh(self.data)
            return Value(t, (self,), (1 - t * t,))

        def backward(self):
            order, visited = [], set()

            def visit(v):
                if bug != "no visited set":
                    if v in visited:
                        return
                    visited.add(v)
                for p in v._parents:
                    visit(p)
                order.append(v)

            visit(self)
            self.grad = 1.0
            for v in reversed(order):
                for p, d in zip(v._parents, v._local, strict=True):
                    if bug == "no upstream":
                        p.grad += d
                    elif bug == "assign":
                        p.grad = d * v.grad
                    else:
                        p.grad += d * v.grad
            if bug == "twice":
                for v in order:
                    v.grad *= 2

    return Value


def test_value_passes(capsys):
    ch02.check_value(make_value())
    assert capsys.readouterr().out.startswith("✓ Value.backward matches torch on 24 expressions")


@pytest.mark.parametrize(
    ("bug", "message"),
    [
        ("one factor", "product-rule term is missing"),
        ("no upstream", "forgot the upstream gradient"),
        ("assign", "a path is lost.*\\+="),
        ("no visited set", "counted several times.*visited"),
        ("twice", "exactly 2× the right gradient"),
    ],
)
def test_value_mistakes_are_named(bug, message):
    with pytest.raises(ExerciseError, match=message):
        ch02.check_value(make_value(bug))


def test_value_not_implemented_and_wrong_forward():
    class Todo:
        def __init__(self, data):
            raise NotImplementedError

    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch02.check_value(Todo)

    class WrongTanh(make_value()):
        def tanh(self):
            return self * 1.0

    with pytest.raises(ExerciseError, match="your forward value is"):
        ch02.check_value(WrongTanh)


# ------------------------------------------------------------------ backward by hand


def mlp_backward(x, target, W1, b1, W2, b2, *, scale=None, mask=True, onehot=True, dim=1):
    n, k = x.shape[0], W2.shape[0]
    a = x @ W1.T + b1
    h = a.relu()
    z = h @ W2.T + b2
    p = z.softmax(dim=dim)
    dz = p - ac.nn.functional.one_hot(target, k).float() if onehot else p
    dz = dz / (n if scale is None else scale)
    dh = dz @ W2
    da = dh * (a > 0).float() if mask else dh
    return da.T @ x, da.sum(0), dz.T @ h, dz.sum(0)


def test_mlp_backward_passes_with_both_libraries(capsys):
    ch02.check_mlp_backward(mlp_backward)

    def with_torch(x, target, W1, b1, W2, b2):
        leaves = [t.clone().requires_grad_(True) for t in (W1, b1, W2, b2)]
        h = torch.relu(x @ leaves[0].T + leaves[1])
        loss = torch.nn.functional.cross_entropy(h @ leaves[2].T + leaves[3], target)
        return torch.autograd.grad(loss, leaves)

    ch02.check_mlp_backward(with_torch, lib="torch")
    assert capsys.readouterr().out.count("✓ mlp_backward: all four gradients match") == 2


def test_mlp_backward_mistakes_are_named():
    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch02.check_mlp_backward(lambda *args: (_ for _ in ()).throw(NotImplementedError))
    with pytest.raises(ExerciseError, match="exactly 4× the right gradient: the loss is the"):
        ch02.check_mlp_backward(lambda *a: mlp_backward(*a, scale=1))
    with pytest.raises(ExerciseError, match="ReLU lets no gradient through"):
        ch02.check_mlp_backward(lambda *a: mlp_backward(*a, mask=False))
    with pytest.raises(ExerciseError, match="subtract 1 at each row's target"):
        ch02.check_mlp_backward(lambda *a: mlp_backward(*a, onehot=False))
    with pytest.raises(ExerciseError, match="over the classes of each row"):
        ch02.check_mlp_backward(lambda *a: mlp_backward(*a, dim=0))
    with pytest.raises(ExerciseError, match=r"dW1 has the shape of its weight"):
        ch02.check_mlp_backward(lambda *a: (mlp_backward(*a)[0].T, *mlp_backward(*a)[1:]))
    with pytest.raises(ExerciseError, match="return the four gradients"):
        ch02.check_mlp_backward(lambda *a: mlp_backward(*a)[:3])
