"""The engine's residue (issue 20, section 2): ``launch`` with a worker in a script's
``__main__``; the differential-fuzzing mismatches (views and in-place writes, containers and
indexing, construction, gradients, the errors torch raises and their types). Expected values
and exception types come from torch at run time."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import torch

import aigc_course as ac

# ---------------------------------------------------------------- launch from a script

SCRIPT = """
    import torch.distributed as dist
    from aigc_course.distributed import launch


    def worker(rank, world_size, scale):
        t = __import__("torch").tensor([float(rank + 1)])
        dist.all_reduce(t)
        return float(t) * scale


    if __name__ == "__main__":
        print(launch(worker, 2, args=(10.0,)))
"""


def test_launch_accepts_a_worker_in_a_scripts_main(tmp_path):
    """The pattern of torch's DDP tutorial: the worker lives in the script that launches it."""
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(SCRIPT))
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=240, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[30.0, 30.0]"


INTERACTIVE = """
from aigc_course.distributed import launch
def worker(rank, world_size):
    return rank
try:
    launch(worker, 2)
except ValueError as e:
    print("refused:", e)
"""


def test_launch_refuses_an_interactive_main():
    """``python -c`` (like a notebook's kernel) has no file that spawned processes can import."""
    out = subprocess.run(
        [sys.executable, "-c", INTERACTIVE], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("refused:") and "__main__.worker" in out.stdout


# ---------------------------------------------------------------- differential-fuzzing cases


def outcome(call, lib):
    """What ``call(lib)`` gives: ("ok", value as plain data) or ("error", exception type)."""
    try:
        value = call(lib)
    except Exception as e:
        return "error", type(e)
    if isinstance(value, (torch.Tensor, ac.Tensor)):
        return "ok", (str(value.dtype).split(".")[-1], tuple(value.shape), value.tolist())
    if isinstance(value, (torch.dtype, ac.dtype)):
        return "ok", str(value).split(".")[-1]
    return "ok", value


def _pow_grad_at_zero(lib):
    x = lib.tensor([0.0, 1.0, 2.0], requires_grad=True)
    e = lib.tensor([0.0, 0.0, 1.0], requires_grad=True)
    (x**e).sum().backward()
    return lib.stack([x.grad, e.grad])


def _shared_with_numpy(lib):
    a = np.zeros(3)
    lib.as_tensor(a)[0] = 9.0
    return a.tolist()


FUZZ = {
    # in-place writes through views
    "expand that repeats nothing, fill_": lambda L: L.zeros(2, 3).expand(2, 3).fill_(1),
    "expand to a new size-1 axis, add_": lambda L: L.zeros(2, 3).expand(1, 2, 3).add_(1),
    "clone keeps a permuted layout": lambda L: L.zeros(2, 3, 4).permute(2, 0, 1).clone().stride(),
    "clone of a transpose": lambda L: L.zeros(3, 4).t().clone().stride(),
    "clone of a slice is contiguous": lambda L: L.zeros(4, 6)[:, ::2].clone().stride(),
    "contiguous of a permutation": lambda L: (
        L.zeros(2, 3, 4).permute(2, 0, 1).contiguous().stride()
    ),
    # containers and indexing
    "2 in t": lambda L: 2 in L.tensor([1, 2, 3]),
    "5 in t": lambda L: 5 in L.tensor([1, 2, 3]),
    "as_tensor shares a numpy array": _shared_with_numpy,
    "cat with legacy ones(0)": lambda L: L.cat([L.ones(0), L.ones(2, 3), L.ones(0)]),
    "nested-list index (a tuple)": lambda L: L.arange(9).reshape(3, 3)[[[0, 1], [2, 0]]],
    "nested-list index out of range": lambda L: L.arange(6).reshape(3, 2)[[[0, 1], [2, 0]]],
    "argmax keepdim without dim": lambda L: L.tensor([[1, 5], [3, 2]]).argmax(keepdim=True),
    "argmin keepdim without dim": lambda L: L.tensor([[1, 5], [3, 2]]).argmin(keepdim=True),
    "chunk of an empty tensor": lambda L: len(L.ones(0).chunk(3)),
    "masked_fill with a larger mask": lambda L: L.ones(3).masked_fill(
        L.tensor([[True, False, True], [False, False, True]]), 0.0
    ),
    # construction
    "tensor(np.float64)": lambda L: L.tensor(np.float64(1.5)).dtype,
    "tensor(np.int32)": lambda L: L.tensor(np.int32(3)).dtype,
    "tensor(np.float32 array)": lambda L: L.tensor(np.ones(2, np.float32)).dtype,
    "int32 tensor + huge int": lambda L: L.ones(2, dtype=L.int32) + 2**40,
    "int32 tensor * huge int": lambda L: L.full((2,), 3, dtype=L.int32) * (2**33 + 1),
    # gradients
    "grad of x ** e at 0, 0": _pow_grad_at_zero,
    "requires_grad_(True) on a non-leaf": lambda L: (
        (L.ones(2, requires_grad=True) * 2).requires_grad_(True).requires_grad
    ),
    "requires_grad_(False) on a non-leaf": lambda L: (
        L.ones(2, requires_grad=True) * 2
    ).requires_grad_(False),
    # errors torch raises
    "argmax of bool": lambda L: L.tensor([True, False]).argmax(),
    "argmin of bool along dim": lambda L: L.tensor([True, False]).argmin(0),
    "cross_entropy probs + ignore_index": lambda L: L.nn.functional.cross_entropy(
        L.zeros(2, 3), L.full((2, 3), 1 / 3), ignore_index=1
    ),
    "cross_entropy int32 targets": lambda L: L.nn.functional.cross_entropy(
        L.zeros(2, 3), L.tensor([0, 1], dtype=L.int32)
    ),
    "cross_entropy uint8 targets": lambda L: L.nn.functional.cross_entropy(
        L.zeros(2, 3), L.tensor([0, 1], dtype=L.uint8)
    ),
    "sdpa attn_mask + is_causal, 3-d": lambda L: L.nn.functional.scaled_dot_product_attention(
        L.ones(1, 2, 2),
        L.ones(1, 2, 2),
        L.ones(1, 2, 2),
        attn_mask=L.ones(2, 2, dtype=L.bool),
        is_causal=True,
    ),
    "sdpa attn_mask + is_causal, 4-d": lambda L: L.nn.functional.scaled_dot_product_attention(
        L.ones(1, 1, 2, 2),
        L.ones(1, 1, 2, 2),
        L.arange(4.0).view(1, 1, 2, 2),
        attn_mask=L.ones(2, 2, dtype=L.bool),
        is_causal=True,
    ),
    "bool - int tensor": lambda L: L.tensor([True]) - L.tensor([1]),
    "int tensor - True": lambda L: L.tensor([1]) - True,
    "bool - bool": lambda L: L.tensor([True]) - L.tensor([False]),
    # exception types
    "expand(-1, 3) of a 1-d tensor": lambda L: L.ones(3).expand(-1, 3),
    "float() of 2 elements": lambda L: float(L.ones(2)),
    "int() of 2 elements": lambda L: int(L.ones(2)),
    "item() of 2 elements": lambda L: L.ones(2).item(),
    "tensor(None)": lambda L: L.tensor(None),
    "tensor([1, None])": lambda L: L.tensor([1.0, None]),
    "tensor(2**63)": lambda L: L.tensor(2**63),
    "ones(2**62, 2**62)": lambda L: L.ones(2**62, 2**62),
    "randn(2**62, 2**62)": lambda L: L.randn(2**62, 2**62),
}


@pytest.mark.parametrize("call", FUZZ.values(), ids=FUZZ.keys())
def test_fuzzing_case_matches_torch(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's deprecation warning for x[[[0, 1], [2, 0]]]
        theirs = outcome(call, torch)
    ours = outcome(call, ac)
    if theirs[0] == "error":
        assert ours[0] == "error", f"torch raises {theirs[1].__name__}, ours gave {ours[1]}"
        assert issubclass(ours[1], theirs[1]), f"{ours[1].__name__} != torch's {theirs[1].__name__}"
    else:
        assert ours == theirs


def test_a_refused_call_leaves_state_untouched():
    x = ac.ones(3)
    for bad in (lambda: float(x), lambda: x.expand(-1, 3), lambda: x.bool().argmax()):
        try:
            bad()
        except Exception:
            pass
    assert x.tolist() == [1.0, 1.0, 1.0] and x._version == 0
