"""Chapter 1's checkers: they pass correct solutions (written with aigc_course or with torch)
and give specific feedback for each kind of wrong answer."""

from __future__ import annotations

import pytest
import torch

import aigc_course as ac
from aigc_course.exercises import ExerciseError, ch01


def not_written(*args):
    raise NotImplementedError


# ---------------------------------------------------------------- offset from strides


def offset(index, stride, storage_offset=0):
    return storage_offset + sum(i * s for i, s in zip(index, stride, strict=True))


def test_offset_accepts_a_correct_solution(capsys):
    ch01.check_offset(offset)
    assert capsys.readouterr().out.startswith("✓ offset finds every element of 5 views")


def test_offset_feedback():
    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch01.check_offset(not_written)
    with pytest.raises(ExerciseError, match="left out storage_offset"):
        ch01.check_offset(lambda index, stride, start: offset(index, stride))
    with pytest.raises(ExerciseError, match="strides in reverse order"):
        ch01.check_offset(lambda index, stride, start: offset(index, stride[::-1], start))
    with pytest.raises(ExerciseError, match="returned float 0.0; return an int"):
        ch01.check_offset(lambda index, stride, start: float(offset(index, stride, start)))
    # row-major from a guessed shape: right for the contiguous tensor, wrong for its transpose
    with pytest.raises(ExerciseError, match=r"for its transpose\(0, 2\) .* is at offset"):
        ch01.check_offset(lambda index, stride, start: offset(index, (12, 4, 1), start))


# ---------------------------------------------------------------- pairwise distances


def pairwise_sq_dists(X, Y):
    return ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1)


def test_pairwise_sq_dists_accepts_both_libraries(capsys):
    ch01.check_pairwise_sq_dists(pairwise_sq_dists)
    ch01.check_pairwise_sq_dists(pairwise_sq_dists, lib="torch")
    ch01.check_pairwise_sq_dists(lambda X, Y: torch.cdist(X, Y) ** 2, lib="torch")
    out = capsys.readouterr().out
    assert out.count("✓ pairwise_sq_dists matches torch") == 3


def test_pairwise_sq_dists_feedback():
    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch01.check_pairwise_sq_dists(not_written)
    # no new axes: the shapes (N, D) and (M, D) do not broadcast; the hint says what to do
    with pytest.raises(
        ExerciseError,
        match=r"raised RuntimeError on input\(s\) \(4, 3\), "
        r"\(5, 3\).*X\[:, None, :\]",
    ):
        ch01.check_pairwise_sq_dists(lambda X, Y: ((X - Y) ** 2).sum(-1))
    # distances instead of squared distances: wrong values, at a named index
    with pytest.raises(ExerciseError, match=r"values differ: .* worst at index \(\d+, \d+\)"):
        ch01.check_pairwise_sq_dists(lambda X, Y: pairwise_sq_dists(X, Y).sqrt())
    # summing over the wrong axis: wrong shape
    with pytest.raises(ExerciseError, match=r"shape differs: yours \(4, 5, 3\), expected \(4, 5\)"):
        ch01.check_pairwise_sq_dists(lambda X, Y: (X[:, None, :] - Y[None, :, :]) ** 2)
    # float64 answer: wrong dtype
    with pytest.raises(ExerciseError, match="dtype differs: yours float64, expected float32"):
        ch01.check_pairwise_sq_dists(lambda X, Y: pairwise_sq_dists(X, Y).double())
    with pytest.raises(ValueError, match="lib must be one of"):
        ch01.check_pairwise_sq_dists(pairwise_sq_dists, lib="jax")


# ---------------------------------------------------------------- standardize rows


def standardize_rows(x):
    mu = x.mean(dim=1, keepdim=True)
    var = ((x - mu) ** 2).mean(dim=1, keepdim=True)
    return (x - mu) / (var + 1e-5).sqrt()


def test_standardize_rows_accepts_both_libraries(capsys):
    ch01.check_standardize_rows(standardize_rows)
    ch01.check_standardize_rows(standardize_rows, lib="torch")
    ch01.check_standardize_rows(
        lambda x: torch.nn.functional.layer_norm(x, x.shape[-1:]), lib="torch"
    )
    assert capsys.readouterr().out.count("✓ standardize_rows matches") == 3


def test_standardize_rows_feedback():
    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch01.check_standardize_rows(not_written)
    with pytest.raises(ExerciseError, match="unbiased variance"):
        ch01.check_standardize_rows(
            lambda x: (x - x.mean(1, keepdim=True)) / (x.var(1, keepdim=True) + 1e-5).sqrt()
        )
    with pytest.raises(ExerciseError, match="RuntimeError .* keepdim=True"):
        ch01.check_standardize_rows(
            lambda x: (x - x.mean(1)) / (x.var(1, unbiased=False) + 1e-5).sqrt()
        )
    with pytest.raises(ExerciseError, match=r"columns \(dim=0\) instead of the rows"):
        ch01.check_standardize_rows(
            lambda x: (
                (x - x.mean(0, keepdim=True))
                / (x.var(0, keepdim=True, unbiased=False) + 1e-5).sqrt()
            )
        )
    with pytest.raises(ExerciseError, match=r"shape \(3, 1\).*yours nan.*left out eps"):
        ch01.check_standardize_rows(
            lambda x: (x - x.mean(1, keepdim=True)) / x.var(1, keepdim=True, unbiased=False).sqrt()
        )
    with pytest.raises(ExerciseError, match=r"shape differs: yours \(4,\), expected \(4, 5\)"):
        ch01.check_standardize_rows(lambda x: x.mean(1))


# ---------------------------------------------------------------- sum_to_size


def sum_to_size(grad, shape):
    lead = grad.dim() - len(shape)
    dims = tuple(range(lead)) + tuple(
        lead + d for d, n in enumerate(shape) if n == 1 and grad.shape[lead + d] != 1
    )
    out = grad.sum(dim=dims, keepdim=True) if dims else grad
    return out.reshape(shape)


def test_sum_to_size_accepts_both_libraries(capsys):
    ch01.check_sum_to_size(sum_to_size)
    ch01.check_sum_to_size(sum_to_size, lib="torch")
    ch01.check_sum_to_size(lambda g, shape: g.sum_to_size(shape) if shape else g.sum(), "torch")
    assert capsys.readouterr().out.count("✓ sum_to_size matches torch") == 3


def test_sum_to_size_feedback():
    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch01.check_sum_to_size(not_written)

    def padded_on_the_right(grad, shape):  # aligns (3,) with the first dimension of (3, 3)
        padded = tuple(shape) + (1,) * (grad.dim() - len(shape))
        dims = tuple(d for d, n in enumerate(padded) if n == 1 and grad.shape[d] != 1)
        return grad.sum(dim=dims, keepdim=True).reshape(shape)

    with pytest.raises(ExerciseError, match="from the left, padding the shorter one on the wrong"):
        ch01.check_sum_to_size(padded_on_the_right)

    def averaged(grad, shape):
        lead = grad.dim() - len(shape)
        return grad.mean(dim=tuple(range(lead)), keepdim=False) if lead else grad

    with pytest.raises(ExerciseError, match="exactly 1/3 of the answer: you averaged the 3 copies"):
        ch01.check_sum_to_size(averaged)

    def no_keepdim(grad, shape):
        lead = grad.dim() - len(shape)
        dims = tuple(range(lead)) + tuple(
            lead + d for d, n in enumerate(shape) if n == 1 and grad.shape[lead + d] != 1
        )
        return grad.sum(dim=dims) if dims else grad

    with pytest.raises(ExerciseError, match=r"from \(2, 3, 4\) to \(3, 1\).*keepdim=True"):
        ch01.check_sum_to_size(no_keepdim)


# ---------------------------------------------------------------- as_strided


def as_strided(storage, size, stride, storage_offset=0):
    index = ac.tensor(storage_offset)
    for d, (n, s) in enumerate(zip(size, stride, strict=True)):
        shape = [1] * len(size)
        shape[d] = n
        index = index + (ac.arange(n) * s).view(*shape)
    return storage[index]


def test_as_strided_accepts_both_libraries(capsys):
    ch01.check_as_strided(as_strided)
    ch01.check_as_strided(torch.as_strided, lib="torch")
    assert capsys.readouterr().out.count("✓ as_strided matches torch.as_strided") == 2


def test_as_strided_feedback():
    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch01.check_as_strided(not_written)
    with pytest.raises(ExerciseError, match="left out storage_offset"):
        ch01.check_as_strided(lambda st, size, stride, start: as_strided(st, size, stride))
    with pytest.raises(ExerciseError, match="those are the offsets"):
        ch01.check_as_strided(
            lambda st, size, stride, start: as_strided(ac.arange(12).float(), size, stride, start)
        )
    with pytest.raises(ExerciseError, match="the other dimension's stride"):
        ch01.check_as_strided(
            lambda st, size, stride, start: as_strided(st, size, stride[::-1], start)
        )
    with pytest.raises(ExerciseError, match=r"sliding windows .* shape differs"):
        ch01.check_as_strided(lambda st, size, stride, start: st[start:])


# ---------------------------------------------------------------- view_strides


def contiguous_strides(shape):
    out, step = [], 1
    for n in reversed(shape):
        out.append(step)
        step *= max(n, 1)
    return tuple(reversed(out))


def make_view_strides(
    skip_old_ones=True, absorb_new_ones=True, refuse=True, new_base=True, empty_rule=True
):
    """The notebook's worked solution, with one switch per common mistake."""

    def view_strides(shape, stride, new_shape):
        if len(shape) == 0:
            return (1,) * len(new_shape)
        if empty_rule and 0 in shape:
            return (
                tuple(stride) if tuple(new_shape) == tuple(shape) else contiguous_strides(new_shape)
            )
        new_stride = [0] * len(new_shape)
        v = len(new_shape) - 1
        base, chunk_numel, view_numel = stride[-1], 1, 1
        for d in range(len(shape) - 1, -1, -1):
            chunk_numel *= shape[d]
            if d == 0 or (
                (shape[d - 1] != 1 or not skip_old_ones) and stride[d - 1] != chunk_numel * base
            ):
                while v >= 0 and (
                    view_numel < chunk_numel or (absorb_new_ones and new_shape[v] == 1)
                ):
                    new_stride[v] = view_numel * base
                    view_numel *= new_shape[v]
                    v -= 1
                if refuse and view_numel != chunk_numel:
                    return None
                if d > 0:
                    chunk_numel, view_numel = 1, 1
                    if new_base:
                        base = stride[d - 1]
        return tuple(new_stride) if v == -1 else None

    return view_strides


def torch_view_strides(shape, stride, new_shape):
    try:
        return torch.empty_strided(shape, stride).view(new_shape).stride()
    except RuntimeError:
        return None


def test_view_strides_accepts_correct_answers(capsys):
    ch01.check_view_strides(make_view_strides())
    ch01.check_view_strides(torch_view_strides)  # a torch.Size
    ch01.check_view_strides(lambda *a: None if (s := make_view_strides()(*a)) is None else list(s))
    # any stride is accepted for a size-1 dimension of the view: it is never stepped along
    ch01.check_view_strides(
        lambda shape, stride, new: (
            None
            if (s := torch_view_strides(shape, stride, new)) is None
            else tuple(-7 if n == 1 else x for x, n in zip(s, new, strict=True))
        )
    )
    out = capsys.readouterr().out
    assert out.count("✓ view_strides matches torch on 226 views (") == 4


def test_view_strides_cases_come_from_torch():
    """Torch's answers on the checker's cases, at run time: views and refusals both occur."""
    cases = [c[1:] for c in ch01._VIEW_CASES] + ch01._random_view_cases(200)
    answers = [torch_view_strides(*c) for c in cases]
    assert 30 < sum(a is None for a in answers) < 150
    assert make_view_strides() is not None
    for case, answer in zip(cases, answers, strict=True):
        assert ch01._view_strides(*case) == (None if answer is None else tuple(answer)), case


def test_view_strides_feedback():
    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch01.check_view_strides(not_written)
    # assuming contiguity: the strides of a fresh tensor of the new shape
    with pytest.raises(
        ExerciseError, match=r"a transpose, flattened.*refuses.*fresh contiguous tensor"
    ):
        ch01.check_view_strides(lambda shape, stride, new: contiguous_strides(new))
    # refusing every non-contiguous tensor
    with pytest.raises(ExerciseError, match=r"a transpose with a dimension split.*not contiguous"):
        ch01.check_view_strides(
            lambda shape, stride, new: (
                contiguous_strides(new) if tuple(stride) == contiguous_strides(shape) else None
            )
        )
    # a size-1 dimension's stray stride taken to end a chunk
    with pytest.raises(ExerciseError, match=r"stray stride.*size-1 dimension whose stride breaks"):
        ch01.check_view_strides(make_view_strides(skip_old_ones=False))
    # the new shape's size-1 dimensions left without a stride, then refused
    with pytest.raises(
        ExerciseError, match=r"size-1 dimensions in the new shape: .*new_shape has size-1"
    ):
        ch01.check_view_strides(make_view_strides(absorb_new_ones=False))
    # never refusing: a new dimension that straddles two chunks gets a stride
    with pytest.raises(ExerciseError, match=r"a transpose, flattened.*spans the boundary"):
        ch01.check_view_strides(make_view_strides(refuse=False))
    # each chunk's strides from the first chunk's innermost stride
    with pytest.raises(
        ExerciseError, match=r"a transpose with a dimension split.*you kept the previous chunk's"
    ):
        ch01.check_view_strides(make_view_strides(new_base=False))
    # no special case for a tensor without elements
    with pytest.raises(ExerciseError, match=r"empty \(0, 3\).*no elements has no memory"):
        ch01.check_view_strides(make_view_strides(empty_rule=False))
    with pytest.raises(ExerciseError, match=r"returned \[4\.0, 1\.0\]; return a tuple of ints"):
        ch01.check_view_strides(
            lambda shape, stride, new: [float(s) for s in contiguous_strides(new)]
        )
    with pytest.raises(ExerciseError, match="one stride per dimension of new_shape: 2, not 3"):
        ch01.check_view_strides(lambda shape, stride, new: tuple(stride))
