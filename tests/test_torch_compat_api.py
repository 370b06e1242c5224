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

import aigc_course as ac


def same_error(call):
    """Run ``call(torch)``, then ``call(ac)``: the same exception type and torch's message."""
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(theirs.type) as ours:
        call(ac)
    return theirs.value, ours.value


def assert_same(ours, theirs, **kw):
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)) and len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            assert_same(o, t, **kw)
        return
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, ac.Tensor), type(ours)
        assert ours.dtype.name == str(theirs.dtype).removeprefix("torch."), (
            ours.dtype,
            theirs.dtype,
        )
        torch.testing.assert_close(
            torch.from_numpy(np.array(ours.detach().numpy())), theirs.detach(), **kw
        )
        return
    assert ours == theirs, (ours, theirs)


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
    theirs, ours = same_error(lambda lib: getattr(lib.cuda, name)())
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
    theirs, ours = same_error(lambda lib: lib.device(*args))
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
    theirs, ours = same_error(move)
    assert str(ours) == str(theirs)


def test_moving_to_cpu_works():
    x = ac.ones(2)
    assert x.to("cpu") is x and x.to(ac.device("cpu:0")) is x and x.cpu() is x


def test_set_default_device():
    try:
        for lib in (torch, ac):
            lib.set_default_device("cuda")  # allowed; creating then raises
        theirs, ours = same_error(lambda lib: lib.ones(2))
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
