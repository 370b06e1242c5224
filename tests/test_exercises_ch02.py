"""Chapter 2's checkers: they pass correct solutions and give specific feedback on wrong ones."""

from __future__ import annotations

import math

import numpy as np
import pytest

import aigc_course as ac
from aigc_course.autograd import Function
from aigc_course.exercises import ExerciseError, ch02

# ------------------------------------------------------------------ SiLU


def _stable_sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


class SiLU(Function):
    @staticmethod
    def forward(ctx, x):
        return x * _stable_sigmoid(x)

    @staticmethod
    def backward(ctx, dz):
        (x,) = ctx.inputs
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
        (x,) = ctx.inputs
        return dz * x.sigmoid()


class SiLUNumpyBackward(SiLU):
    @staticmethod
    def backward(ctx, dz):  # right numbers, but computed outside the graph
        (x,) = ctx.inputs
        xs = x.detach().numpy()
        s = _stable_sigmoid(xs)
        return dz * ac.tensor(s * (1 + xs * (1 - s)))


class SiLUSigmoidOnly(SiLU):
    @staticmethod
    def forward(ctx, x):  # forgets the factor x
        return _stable_sigmoid(x)


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


# ------------------------------------------------------------------ softplus


class Softplus(Function):
    @staticmethod
    def forward(ctx, x):
        return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))

    @staticmethod
    def backward(ctx, dz):
        (x,) = ctx.inputs
        return dz * x.sigmoid()


class SoftplusNaive(Softplus):
    @staticmethod
    def forward(ctx, x):
        with np.errstate(over="ignore"):
            return np.log(1 + np.exp(x))


class SoftplusWrongBackward(Softplus):
    @staticmethod
    def backward(ctx, dz):  # the derivative of log(1 + e^x) is e^x / (1 + e^x), not 1 / (1 + e^x)
        (x,) = ctx.inputs
        return dz / (1 + x.exp())


class SoftplusFloat64(Softplus):
    @staticmethod
    def forward(ctx, x):  # silently promotes float32 input to float64
        return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)).astype(np.float64))


def test_softplus_passes(capsys):
    ch02.check_softplus(Softplus)
    assert "✓" in capsys.readouterr().out


def test_softplus_overflow():
    with pytest.raises(ExerciseError, match="inf at x = 100,.*max\\(x, 0\\)"):
        ch02.check_softplus(SoftplusNaive)


def test_softplus_wrong_gradient():
    with pytest.raises(ExerciseError, match="gradient of your Softplus.*differ"):
        ch02.check_softplus(SoftplusWrongBackward)


def test_softplus_wrong_dtype():
    with pytest.raises(ExerciseError, match="dtype differs: yours float64, expected float32"):
        ch02.check_softplus(SoftplusFloat64)


# ------------------------------------------------------------------ the missing gradient


def fixed_gradients(w, b, x, target):
    loss = ((x @ w + b).tanh() - target).pow(2).mean()
    loss.backward()
    return w.grad, b.grad


def test_fixed_gradients_passes(capsys):
    ch02.check_fixed_gradients(fixed_gradients)
    assert "✓" in capsys.readouterr().out


def test_still_buggy_no_grad_is_explained():
    def buggy(w, b, x, target):
        with ac.no_grad():
            h = x @ w
        loss = ((h + b).tanh() - target).pow(2).mean()
        loss.backward()
        return w.grad, b.grad

    with pytest.raises(ExerciseError, match="w's gradient is still None.*no_grad"):
        ch02.check_fixed_gradients(buggy)


def test_wrong_loss_and_wrong_return_are_explained():
    def wrong_loss(w, b, x, target):
        loss = ((x @ w + b).tanh() - target).pow(2).sum()  # sum, not mean
        loss.backward()
        return w.grad, b.grad

    with pytest.raises(ExerciseError, match="your gradient for w .*values differ"):
        ch02.check_fixed_gradients(wrong_loss)
    with pytest.raises(ExerciseError, match="return the pair"):
        ch02.check_fixed_gradients(lambda w, b, x, t: w.grad)
