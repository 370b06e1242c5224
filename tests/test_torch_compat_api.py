"""The API surface real PyTorch programs use (issue 20, section 1), against torch at run time:
``torch.cuda`` as a CPU-only build has it, ``device``, the constants, the submodules reachable
after ``import aigc_course as torch``, torch's keyword names and ``out=``, and the tensor
methods ``type``, ``mm``, ``bmm``, ``norm``, ``nelement``, ``unique``, ``roll``, ``flip``,
``repeat_interleave``."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from opinfo import assert_same, raises_like

import aigc_course as ac

# ---------------------------------------------------------------- cuda, devices, constants

CUDA_QUERIES = ["is_available", "device_count", "is_initialized", "is_bf16_supported"]


@pytest.mark.parametrize("name", CUDA_QUERIES)
def test_cuda_queries_as_a_cpu_build(name):
    assert getattr(ac.cuda, name)() == getattr(torch.cuda, name)()


@pytest.mark.parametrize("name", ["manual_seed", "manual_seed_all"])
def test_cuda_seeding_works(name):
    assert getattr(ac.cuda, name)(0) == getattr(torch.cuda, name)(0)


@pytest.mark.parametrize("name", ["current_device", "get_device_name", "synchronize"])
def test_cuda_calls_that_need_a_gpu(name):
    ours, theirs = raises_like(lambda lib: getattr(lib.cuda, name)())
    assert str(ours) == str(theirs)


def test_backends():
    assert ac.backends.mps.is_available() == torch.backends.mps.is_available()
    assert ac.backends.mps.is_built() == torch.backends.mps.is_built()
    assert ac.backends.cudnn.is_available() == torch.backends.cudnn.is_available()
    for flag in ("enabled", "benchmark", "deterministic"):
        assert getattr(ac.backends.cudnn, flag) == getattr(torch.backends.cudnn, flag)


DEVICE_ARGS = [("cpu",), ("cuda",), ("cuda:0",), ("cuda", 1), ("cpu:0",), ("mps",), ("meta",)]


@pytest.mark.parametrize("args", DEVICE_ARGS, ids=str)
def test_device_constructs(args):
    ours, theirs = ac.device(*args), torch.device(*args)
    assert (ours.type, ours.index) == (theirs.type, theirs.index)
    assert repr(ours) == repr(theirs) and str(ours) == str(theirs)
    assert ac.device(ours) == ours


def test_device_equality_and_hash():
    assert ac.device("cuda") != ac.device("cuda:0")
    assert torch.device("cuda") != torch.device("cuda:0")
    assert ac.device("cuda", 0) == ac.device("cuda:0")
    assert len({ac.device("cpu"), ac.device("cpu")}) == 1
    assert ac.ones(2).device == ac.device("cpu")


@pytest.mark.parametrize(
    "args", [("cuda", -1), ("cuda:x",), ("gpu",), ("cuda:0", 1), (0,)], ids=str
)
def test_bad_device(args):
    ours, theirs = raises_like(lambda lib: lib.device(*args))
    assert str(ours) == str(theirs)


MOVES = {
    "to cuda": lambda lib: lib.ones(2).to("cuda"),
    "to device(cuda:0)": lambda lib: lib.ones(2).to(lib.device("cuda:0")),
    "cuda()": lambda lib: lib.ones(2).cuda(),
    "zeros on cuda": lambda lib: lib.zeros(2, device="cuda"),
    "randn on cuda": lambda lib: lib.randn(2, device="cuda"),
    "to mps": lambda lib: lib.ones(2).to("mps"),
    "to xpu": lambda lib: lib.ones(2).to("xpu"),
    "module to cuda": lambda lib: lib.nn.Linear(2, 2).to("cuda"),
}


@pytest.mark.parametrize("move", MOVES.values(), ids=MOVES.keys())
def test_moving_to_an_accelerator_raises_as_a_cpu_build(move):
    ours, theirs = raises_like(move)
    assert str(ours) == str(theirs)


def test_moving_to_cpu_works():
    x = ac.ones(2)
    assert x.to("cpu") is x and x.to(ac.device("cpu:0")) is x and x.cpu() is x


def test_set_default_device():
    try:
        for lib in (torch, ac):
            lib.set_default_device("cuda")  # allowed; creating then raises
        ours, theirs = raises_like(lambda lib: lib.ones(2))
        assert str(ours) == str(theirs)
    finally:
        torch.set_default_device(None)
        ac.set_default_device(None)
    assert ac.ones(2).device == ac.device("cpu")
    assert ac.get_default_device() == ac.device("cpu")


@pytest.mark.parametrize("name", ["inf", "nan", "pi", "e"])
def test_constants(name):
    ours, theirs = getattr(ac, name), getattr(torch, name)
    assert type(ours) is type(theirs)
    assert ours == theirs or (np.isnan(ours) and np.isnan(theirs))


SUBMODULES = [
    "utils.data",
    "nn.functional",
    "optim.lr_scheduler",
    "distributed",
    "cuda",
    "backends.mps",
]


@pytest.mark.parametrize("path", SUBMODULES)
def test_submodules_reachable_after_a_plain_import(path):
    """In a fresh interpreter, ``import aigc_course as torch`` alone reaches each submodule."""
    code = f"import aigc_course as torch; print(type(torch.{path}).__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "module"


# ---------------------------------------------------------------- keyword names and out=

X = np.array([[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]], dtype=np.float32)
Y = np.array([[2.0, 1.0, -0.5], [1.0, 3.0, 2.0]], dtype=np.float32)

KEYWORD_CALLS = {
    "matmul": lambda lib, x, y: lib.matmul(input=x, other=y.T),
    "mm": lambda lib, x, y: lib.mm(input=x, mat2=y.T),
    "add alpha": lambda lib, x, y: lib.add(input=x, other=y, alpha=2),
    "sub": lambda lib, x, y: lib.sub(x, other=y),
    "mul": lambda lib, x, y: lib.mul(input=x, other=y),
    "div": lambda lib, x, y: lib.div(input=x, other=y),
    "pow": lambda lib, x, y: lib.pow(input=x, exponent=2),
    "clamp": lambda lib, x, y: lib.clamp(input=x, min=-1.0, max=1.0),
    "where": lambda lib, x, y: lib.where(condition=x > 0, input=x, other=y),
    "sum": lambda lib, x, y: lib.sum(input=x, dim=1, keepdim=True),
    "softmax": lambda lib, x, y: lib.softmax(input=x, dim=-1),
    "cat": lambda lib, x, y: lib.cat(tensors=[x, y], dim=1),
    "transpose": lambda lib, x, y: lib.transpose(input=x, dim0=0, dim1=1),
}


@pytest.mark.parametrize("call", KEYWORD_CALLS.values(), ids=KEYWORD_CALLS.keys())
def test_torch_keyword_names(call):
    assert_same(call(ac, ac.tensor(X), ac.tensor(Y)), call(torch, torch.tensor(X), torch.tensor(Y)))


OUT_CALLS = {
    "add": lambda lib, x, y, out: lib.add(x, y, out=out),
    "sub": lambda lib, x, y, out: lib.sub(x, y, alpha=3, out=out),
    "mul": lambda lib, x, y, out: lib.mul(x, y, out=out),
    "div": lambda lib, x, y, out: lib.div(x, y, out=out),
    "matmul": lambda lib, x, y, out: lib.matmul(x, y.T, out=out),
    "mm": lambda lib, x, y, out: lib.mm(x.T, y, out=out),
    "exp": lambda lib, x, y, out: lib.exp(x, out=out),
    "tanh": lambda lib, x, y, out: lib.tanh(x, out=out),
    "sqrt": lambda lib, x, y, out: lib.sqrt(y.abs(), out=out),
    "maximum": lambda lib, x, y, out: lib.maximum(x, y, out=out),
    "sum dim": lambda lib, x, y, out: lib.sum(x, 1, out=out),
    "mean dim": lambda lib, x, y, out: lib.mean(x, 0, keepdim=True, out=out),
    "cat": lambda lib, x, y, out: lib.cat([x, y], out=out),
    "stack": lambda lib, x, y, out: lib.stack([x, y], 1, out=out),
    "clamp": lambda lib, x, y, out: lib.clamp(x, -1, 1, out=out),
    "where": lambda lib, x, y, out: lib.where(x > y, x, y, out=out),
    "cumsum": lambda lib, x, y, out: lib.cumsum(x, 1, out=out),
    "zeros": lambda lib, x, y, out: lib.zeros(2, 3, out=out),
    "arange": lambda lib, x, y, out: lib.arange(6.0, out=out),
    "norm": lambda lib, x, y, out: lib.norm(x, dim=1, out=out),
}


@pytest.mark.parametrize("call", OUT_CALLS.values(), ids=OUT_CALLS.keys())
@pytest.mark.parametrize("start", ["empty", "right shape"])
def test_out(call, start):
    """The result lands in ``out`` (the same object is returned), resized from empty."""
    results = {}
    for lib in (torch, ac):
        x, y = lib.tensor(X), lib.tensor(Y)
        shape = tuple(call(torch, torch.tensor(X), torch.tensor(Y), None).shape)
        out = lib.empty(0) if start == "empty" else lib.full(shape, 7.0)
        returned = call(lib, x, y, out)
        assert returned is out
        results[lib] = out
    assert_same(results[ac], results[torch])


def test_out_resizes_a_non_empty_tensor_with_torch_warning():
    for lib in (torch, ac):
        out = lib.ones(5)
        with pytest.warns(UserWarning, match="was resized"):
            lib.add(lib.ones(2, 2), 1, out=out)
        assert tuple(out.shape) == (2, 2)


def test_out_refusals():
    ours, theirs = raises_like(
        lambda lib: lib.add(lib.ones(2), 0.5, out=lib.zeros(2, dtype=lib.long))
    )
    assert str(ours) == str(theirs)
    ours, theirs = raises_like(
        lambda lib: lib.mul(lib.ones(2, requires_grad=True), 2, out=lib.zeros(2))
    )
    assert "don't support automatic differentiation" in str(ours)
    out = ac.zeros(2)
    with pytest.raises(RuntimeError):
        ac.add(ac.ones(3), ac.ones(2), out=out)
    assert out.tolist() == [0.0, 0.0]  # a refused call leaves out untouched


def test_out_under_no_grad_with_a_leaf_input():
    for lib in (torch, ac):
        w = lib.ones(2, requires_grad=True)
        out = lib.zeros(2)
        with lib.no_grad():
            lib.mul(w, 3, out=out)
        assert out.tolist() == [3.0, 3.0] and not out.requires_grad
