"""Bad input raises the exception type torch raises, with a message naming the values."""

from __future__ import annotations

import re

import pytest
import torch

import aigc_course as ac

# (name, the misuse as a lambda over the library, a regex our message must match)
CASES = [
    (
        "broadcast",
        lambda lib: lib.ones(2, 3) + lib.ones(2, 4),
        r"size of tensor a \(3\) must match the size of tensor b \(4\) "
        r"at non-singleton dimension 1",
    ),
    (
        "broadcast_3d",
        lambda lib: lib.ones(5, 2, 3) * lib.ones(4, 1, 3),
        r"\(5\).*\(4\).*dimension 0",
    ),
    ("matmul_2d", lambda lib: lib.ones(5, 3) @ lib.ones(4, 2), r"\(5x3 and 4x2\)"),
    ("matmul_1d", lambda lib: lib.ones(3) @ lib.ones(4), r"\[3\].*\[4\]"),
    ("matmul_batch", lambda lib: lib.ones(2, 5, 3) @ lib.ones(2, 4, 2), r"3 != 4"),
    ("matmul_0d", lambda lib: lib.tensor(1.0) @ lib.ones(2), r"at least 1D.*0D"),
    ("matmul_dtype", lambda lib: lib.ones(2, 2) @ lib.ones(2, 2, dtype=lib.float64), r"dtype"),
    (
        "view_article",
        lambda lib: lib.ones(5, 3).new_ones(5, 3, dtype=lib.double).view(-1, 12),
        r"shape '\[-1, 12\]' is invalid for input of size 15",
    ),
    (
        "view_size",
        lambda lib: lib.ones(5, 3).view(4, 4),
        r"shape '\[4, 4\]' is invalid for input of size 15",
    ),
    (
        "view_two_minus_one",
        lambda lib: lib.ones(6).view(-1, -1),
        r"only one dimension can be inferred",
    ),
    ("view_noncontiguous", lambda lib: lib.ones(5, 3).t().view(15), r"Use \.reshape"),
    (
        "index_row",
        lambda lib: lib.ones(5, 3)[5],
        r"index 5 is out of bounds for dimension 0 with size 5",
    ),
    (
        "index_col",
        lambda lib: lib.ones(5, 3)[:, 3],
        r"index 3 is out of bounds for dimension 1 with size 3",
    ),
    ("index_tensor", lambda lib: lib.ones(5, 3)[lib.tensor([0, 7])], r"7.*size 5"),
    ("index_float", lambda lib: lib.ones(5)[lib.tensor([0.0])], r"long, int, byte or bool"),
    ("dim_range", lambda lib: lib.ones(5, 3).sum(dim=2), r"range of \[-2, 1\], but got 2"),
    ("softmax_dim", lambda lib: lib.ones(5, 3).softmax(dim=-3), r"but got -3"),
    ("permute_dup", lambda lib: lib.ones(5, 3).permute(0, 0), r"duplicate dims"),
    (
        "expand",
        lambda lib: lib.ones(5, 3).expand(4, 3),
        r"expanded size of the tensor \(4\).*existing size \(5\)",
    ),
    (
        "cat_sizes",
        lambda lib: lib.cat([lib.ones(5, 3), lib.ones(4, 2)]),
        r"Expected size 3 but got size 2 for tensor number 1",
    ),
    (
        "stack_sizes",
        lambda lib: lib.stack([lib.ones(2), lib.ones(3)]),
        r"\[2\] at entry 0 and \[3\] at entry 1",
    ),
    ("t_3d", lambda lib: lib.ones(2, 2, 2).t(), r"<= 2 dimensions.*3D"),
    ("int_requires_grad", lambda lib: lib.tensor([1, 2], requires_grad=True), r"floating point"),
    ("item_many", lambda lib: lib.ones(2).item(), r"2 elements"),
    ("device_typo", lambda lib: lib.ones(2, device="gpu0"), r"gpu0"),
    ("mean_int", lambda lib: lib.arange(4).mean(), r"mean\(\).*dtype"),
    ("masked_fill_float_mask", lambda lib: lib.ones(2).masked_fill(lib.ones(2), 0.0), r"boolean"),
    ("negative_dim", lambda lib: lib.zeros(-1, 3), r"negative dimension -1"),
]


@pytest.mark.parametrize("name, misuse, pattern", CASES, ids=[c[0] for c in CASES])
def test_same_exception_type_as_torch(name, misuse, pattern):
    with pytest.raises(Exception) as theirs:
        misuse(torch)
    with pytest.raises(theirs.type, match=pattern):
        misuse(ac)


def test_unknown_dtype_is_a_type_error_naming_it():
    for bad in ("float32", "float128", 3):
        with pytest.raises(TypeError):
            torch.ones(2, dtype=bad)
        with pytest.raises(TypeError, match=repr(bad)):
            ac.ones(2, dtype=bad)
    with pytest.raises(TypeError, match="'float128'"):
        ac.tensor([1.0]).to("float128") if False else ac.tensor([1.0], dtype="float128")


@pytest.mark.parametrize(
    "misuse",
    [
        lambda lib: lib.ones(2, device="cuda"),
        lambda lib: lib.ones(2).to("cuda"),
        lambda lib: lib.ones(2).cuda(),
        lambda lib: lib.tensor([1.0], device="cuda:0"),
    ],
)
def test_non_cpu_device(misuse):
    if torch.cuda.is_available():  # pragma: no cover - on a GPU machine torch would accept it
        pytest.skip("torch has CUDA here")
    with pytest.raises(Exception) as theirs:
        misuse(torch)
    with pytest.raises(theirs.type, match=re.escape(str(theirs.value))):  # torch's own words
        misuse(ac)


def test_a_failed_operation_leaves_the_tensor_untouched():
    x = ac.arange(6.0).reshape(2, 3)
    before = x.tolist()
    for bad in (
        lambda: x.view(4),
        lambda: x.add_(ac.ones(4)),
        lambda: x[5],
        lambda: x.__setitem__((0, slice(None)), ac.ones(4)),
    ):
        with pytest.raises((RuntimeError, IndexError)):
            bad()
    assert x.tolist() == before and x.shape == (2, 3)
