"""``nn.RNN``, ``nn.LSTM`` and ``nn.GRU`` against torch: torch's state dict is loaded into ours,
then the output, the final states, and the gradients of the input, of the initial states and of
every parameter must equal torch's, over several configurations (layers, bias, batch_first,
bidirectional, unbatched, a given initial state). Also: the parameter names, the default
initialisation, float64 central differences and torch's errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from opinfo import assert_same

import aigc_course as ac
import aigc_course.nn as nn

CONFIGS = [
    dict(),
    dict(num_layers=2),
    dict(bias=False),
    dict(batch_first=True),
    dict(bidirectional=True),
    dict(num_layers=2, bidirectional=True, batch_first=True),
    dict(num_layers=3, bias=False, bidirectional=True),
]
LAYERS = ["LSTM", "GRU", "RNN", "RNN-relu"]


def _make(lib, name, **kwargs):
    if name == "RNN-relu":
        return lib.nn.RNN(3, 4, nonlinearity="relu", **kwargs)
    return getattr(lib.nn, name)(3, 4, **kwargs)


def _as_list(state):
    return list(state) if isinstance(state, tuple) else [state]


def _compare(name, kwargs, dtype, unbatched=False, initial=False, seed=0):
    rng = np.random.default_rng(seed)
    theirs, ours = _make(torch, name, **kwargs), _make(ac, name, **kwargs)
    if dtype == "float64":
        theirs, ours = theirs.double(), ours.double()
    ours.load_state_dict(theirs.state_dict())
    T, B = 5, 2
    D = 2 if kwargs.get("bidirectional") else 1
    L = kwargs.get("num_layers", 1)
    shape = (T, 3) if unbatched else (B, T, 3) if kwargs.get("batch_first") else (T, B, 3)
    x = rng.standard_normal(shape).astype(dtype)
    xt, xo = torch.tensor(x, requires_grad=True), ac.tensor(x, requires_grad=True)
    args_t, args_o, states_t, states_o = [xt], [xo], [], []
    if initial:
        n_states = 2 if name == "LSTM" else 1
        s_shape = (D * L, 4) if unbatched else (D * L, B, 4)
        for _ in range(n_states):
            s = rng.standard_normal(s_shape).astype(dtype)
            states_t.append(torch.tensor(s, requires_grad=True))
            states_o.append(ac.tensor(s, requires_grad=True))
        args_t.append(tuple(states_t) if n_states == 2 else states_t[0])
        args_o.append(tuple(states_o) if n_states == 2 else states_o[0])
    out_t, final_t = theirs(*args_t)
    out_o, final_o = ours(*args_o)
    tol = (1e-5, 1e-5) if dtype == "float32" else (1e-10, 1e-10)
    assert_same(out_o, out_t, *tol, what="output")
    assert isinstance(final_o, tuple) == isinstance(final_t, tuple)  # (h_n, c_n) or h_n
    assert_same(_as_list(final_o), _as_list(final_t), *tol, what="final state")
    # one scalar that uses every output: the output and each final state, weighted at random
    outs_t, outs_o = [out_t, *_as_list(final_t)], [out_o, *_as_list(final_o)]
    weights = [rng.standard_normal(tuple(o.shape)).astype(dtype) for o in outs_t]
    sum((o * torch.tensor(w)).sum() for o, w in zip(outs_t, weights)).backward()
    sum((o * ac.tensor(w)).sum() for o, w in zip(outs_o, weights)).backward()
    gtol = (1e-4, 1e-5) if dtype == "float32" else (1e-9, 1e-10)
    assert_same(xo.grad, xt.grad, *gtol, what="input gradient")
    for i, (so, st) in enumerate(zip(states_o, states_t)):
        assert_same(so.grad, st.grad, *gtol, what=f"initial state {i} gradient")
    params_t = dict(theirs.named_parameters())
    assert list(dict(ours.named_parameters())) == list(params_t)
    for pname, p in ours.named_parameters():
        assert_same(p.grad, params_t[pname].grad, *gtol, what=f"gradient of {pname}")


@pytest.mark.parametrize("kwargs", CONFIGS, ids=repr)
@pytest.mark.parametrize("name", LAYERS)
def test_matches_torch_float64(name, kwargs):
    _compare(name, kwargs, "float64")


@pytest.mark.parametrize("kwargs", CONFIGS[:4], ids=repr)
@pytest.mark.parametrize("name", LAYERS)
def test_matches_torch_float32_with_an_initial_state(name, kwargs):
    _compare(name, kwargs, "float32", initial=True, seed=1)


@pytest.mark.parametrize("kwargs", [dict(), dict(num_layers=2, bidirectional=True)], ids=repr)
@pytest.mark.parametrize("initial", [False, True])
@pytest.mark.parametrize("name", LAYERS)
def test_unbatched_input_matches_torch(name, kwargs, initial):
    _compare(name, kwargs, "float64", unbatched=True, initial=initial, seed=2)


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_central_differences_float64(name):
    ac.manual_seed(0)
    layer = getattr(nn, name)(2, 3, num_layers=2, bidirectional=True, dtype=ac.float64)
    rng = np.random.default_rng(3)
    x = ac.tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    h0 = ac.tensor(rng.standard_normal((4, 2, 3)), requires_grad=True)

    def f(x, h0):
        state = (h0, h0 * 0.5) if name == "LSTM" else h0
        return layer(x, state)[0]

    assert ac.autograd.gradcheck(f, (x, h0))


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_parameter_names_shapes_and_repr_are_torchs(name):
    for kwargs in [dict(), dict(num_layers=2, bias=False, batch_first=True, bidirectional=True)]:
        theirs, ours = getattr(torch.nn, name)(3, 4, **kwargs), getattr(nn, name)(3, 4, **kwargs)
        assert repr(ours) == repr(theirs)
        shapes_t = {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
        shapes_o = {k: tuple(v.shape) for k, v in ours.state_dict().items()}
        assert list(shapes_o.items()) == list(shapes_t.items())


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_default_init_is_uniform_one_over_sqrt_hidden(name):
    ac.manual_seed(0)
    layer = getattr(nn, name)(16, 64)
    bound = 1 / math.sqrt(64)
    for pname, p in layer.named_parameters():
        values = p.detach().numpy()
        assert np.abs(values).max() <= bound, pname
        assert abs(values.std() - bound / math.sqrt(3)) < 0.15 * bound, pname


def test_dropout_between_layers_only_in_training():
    ac.manual_seed(0)
    with pytest.warns(UserWarning, match="num_layers=1"):
        nn.LSTM(3, 4, dropout=0.5)
    lstm = nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = ac.randn(5, 2, 3)
    lstm.eval()
    assert np.array_equal(lstm(x)[0].detach().numpy(), lstm(x)[0].detach().numpy())
    lstm.train()
    assert not np.array_equal(lstm(x)[0].detach().numpy(), lstm.eval()(x)[0].detach().numpy())


def _error(make, args):
    """torch's exception for ``make(lib)(*args(lib))``, then ours: same type, message."""
    try:
        make(torch)(*args(torch))
    except Exception as e:
        expected = e
    else:
        raise AssertionError("torch accepts this call")
    with pytest.raises(type(expected)) as ours:
        make(ac)(*args(ac))
    return str(ours.value), str(expected)


@pytest.mark.parametrize(
    "make, args, names",
    [
        (lambda lib: lib.nn.LSTM(3, 4), lambda lib: (lib.ones(5, 2, 5),), ("3", "5")),
        (lambda lib: lib.nn.GRU(3, 4), lambda lib: (lib.ones(5, 2, 3, 1),), ("GRU", "4D")),
        (
            lambda lib: lib.nn.LSTM(3, 4, num_layers=2),
            lambda lib: (lib.ones(5, 2, 3), (lib.zeros(2, 3, 4), lib.zeros(2, 2, 4))),
            ("(2, 2, 4)", "[2, 3, 4]"),
        ),
        (
            lambda lib: lib.nn.LSTM(3, 4, num_layers=2),
            lambda lib: (lib.ones(5, 2, 3), (lib.zeros(2, 2, 4), lib.zeros(1, 2, 4))),
            ("hidden[1]", "[1, 2, 4]"),
        ),
        (
            lambda lib: lib.nn.LSTM(3, 4),
            lambda lib: (lib.ones(5, 2, 3), (lib.zeros(2, 4), lib.zeros(2, 4))),
            ("3-D", "2-D"),
        ),
        (
            lambda lib: lib.nn.GRU(3, 4),
            lambda lib: (lib.ones(5, 2, 3), lib.zeros(2, 2, 4)),
            ("(1, 2, 4)", "[2, 2, 4]"),
        ),
        (lambda lib: lib.nn.GRU(3, 4), lambda lib: (lib.ones(5, 3), lib.zeros(1, 5, 4)), ("2-D",)),
        (lambda lib: lambda: lib.nn.LSTM(3, 4, dropout=1.5), lambda lib: (), ("1.5",)),
        (lambda lib: lambda: lib.nn.LSTM(3, 0), lambda lib: (), ("0",)),
        (lambda lib: lambda: lib.nn.GRU(3, 4, num_layers=0), lambda lib: (), ("num_layers",)),
        (lambda lib: lambda: lib.nn.RNN(3, 4, nonlinearity="gelu"), lambda lib: (), ("gelu",)),
    ],
)
def test_errors_match_torch(make, args, names):
    ours, _ = _error(make, args)
    for name in names:
        assert name in ours, f"{ours!r} does not name {name!r}"
