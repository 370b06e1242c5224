"""``aigc_course.testing``: verdicts against a tolerance, never the size of the difference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import aigc_course as ac
from aigc_course.testing import assert_close, compare, difference


def test_float32_verdict_names_torchs_tolerance_not_the_difference(capsys):
    x = torch.linspace(-3, 3, 11)
    compare(ac.tensor(x.numpy()).tanh(), x.tanh())
    assert capsys.readouterr().out == "✓ matches torch (|Δ| ≤ 1e-05 + 1.3e-06·|expected|)\n"


def test_verdict_does_not_change_with_rounding_noise(capsys):
    """A difference of 0 and one of a few float32 ulps print the same line: the printed
    output must not depend on which SIMD kernels the CPU picked."""
    x = torch.randn(100, generator=torch.Generator().manual_seed(0))
    compare(x, x.clone())
    compare(x * (1 + 2**-23), x)
    exact, noisy = capsys.readouterr().out.splitlines()
    assert exact == noisy


def test_float64_ints_bools_and_explicit_tolerances(capsys):
    compare(ac.ones(2, dtype=ac.float64), torch.ones(2, dtype=torch.float64))
    compare(ac.arange(3), torch.arange(3))
    compare(ac.tensor([True, False]), torch.tensor([True, False]))
    compare(ac.tensor([1.0]), [1.0005], rtol=0, atol=1e-3, name="the answer")
    assert capsys.readouterr().out.splitlines() == [
        "✓ matches torch (|Δ| ≤ 1e-07 + 1e-07·|expected|)",
        "✓ matches torch (exactly)",
        "✓ matches torch (exactly)",
        "✓ matches the answer (|Δ| ≤ 0.001)",
    ]


def test_sequences_of_mixed_dtypes(capsys):
    pair = (torch.ones(2), torch.ones(2, dtype=torch.float64))
    compare((ac.ones(2), ac.ones(2, dtype=ac.float64)), pair)
    compare((ac.ones(2), ac.ones(3)), (torch.ones(2), torch.ones(3)))
    assert capsys.readouterr().out.splitlines() == [
        "✓ matches torch (each within torch's tolerance for its dtype)",
        "✓ matches torch (|Δ| ≤ 1e-05 + 1.3e-06·|expected|)",
    ]


def test_integer_reference_is_compared_exactly_even_without_dtype_check(capsys):
    with pytest.raises(AssertionError, match="values differ"):
        compare(ac.tensor([1.0000001]), torch.tensor([1]), check_dtype=False)
    compare(ac.tensor([1.0]), torch.tensor([1]), check_dtype=False)
    assert capsys.readouterr().out == "✓ matches torch (exactly)\n"


@pytest.mark.parametrize(
    ("ours", "expected", "message"),
    [
        (ac.ones(3, 1), torch.ones(3, 4), r"shape differs: ours \(3, 1\), expected \(3, 4\)"),
        (
            ac.ones(2, dtype=ac.float64),
            torch.ones(2),
            "dtype differs: ours float64, expected float32",
        ),
        (
            ac.tensor([1.0, 2.5]),
            torch.tensor([1.0, 2.0]),
            r"values differ: 1 of 2 .* worst at index \(1,\): ours 2.5",
        ),
        (ac.tensor([True]), torch.tensor([False]), r"1 element\(s\) differ; first at \(0,\)"),
        ([1.0], torch.ones(1), "expected a tensor, got list"),
        ((ac.ones(1),), [torch.ones(1), torch.ones(1)], "expected a sequence of 2 values"),
    ],
)
def test_mismatch_says_what_differs(ours, expected, message):
    with pytest.raises(AssertionError, match="✗ does not match torch: " + message):
        compare(ours, expected)


def test_nan_and_inf_in_the_same_places_match():
    a = np.array([np.nan, np.inf, -np.inf, 1.0], dtype=np.float32)
    assert difference(ac.tensor(a), torch.tensor(a)) == 0.0
    with pytest.raises(AssertionError):
        assert_close(ac.tensor(a[::-1].copy()), torch.tensor(a))


def test_tolerance_edge_follows_torch_testing():
    """Our rule is torch.testing.assert_close's: |Δ| ≤ atol + rtol·|expected|."""
    expected = torch.tensor([100.0], dtype=torch.float64)
    inside = expected + 0.9 * (1e-7 + 1e-7 * 100)
    outside = expected + 1.1 * (1e-7 + 1e-7 * 100)
    torch.testing.assert_close(inside, expected)
    assert_close(inside, expected)
    with pytest.raises(AssertionError):
        torch.testing.assert_close(outside, expected)
    with pytest.raises(AssertionError):
        assert_close(outside, expected)
