"""The Module system against torch: registration, traversal, names, repr, state_dict round
trips, load_state_dict errors, train/eval, zero_grad, apply, Parameter."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
import torch

import aigc_course as ac
import aigc_course.nn as nn
from aigc_course.testing import assert_close


def make_two_layer_net(nn_module):
    """The article's TwoLayerNet, for torch.nn or aigc_course.nn (identical code)."""

    class TwoLayerNet(nn_module.Module):
        def __init__(self, D_in, H, D_out):
            super().__init__()
            self.linear1 = nn_module.Linear(D_in, H)
            self.linear2 = nn_module.Linear(H, D_out)

        def forward(self, x):
            h_relu = self.linear1(x).clamp(min=0)
            return self.linear2(h_relu)

    return TwoLayerNet


def make_big_net(nn_module):
    """Nested containers, a buffer, a shared layer and a None parameter."""

    class Block(nn_module.Module):
        def __init__(self):
            super().__init__()
            self.ln = nn_module.LayerNorm(4)
            self.mlp = nn_module.Sequential(
                nn_module.Linear(4, 8),
                nn_module.GELU(),
                nn_module.Linear(8, 4, bias=False),
                nn_module.Dropout(0.1),
            )
            self.register_buffer("scale", ac_or_torch(nn_module).ones(4))
            self.register_buffer("cache", ac_or_torch(nn_module).zeros(2), persistent=False)

        def forward(self, x):
            return x + self.mlp(self.ln(x)) * self.scale

    class Net(nn_module.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn_module.Embedding(10, 4)
            self.blocks = nn_module.ModuleList([Block() for _ in range(2)])
            self.heads = nn_module.ModuleDict(
                {"lm": nn_module.Linear(4, 10), "act": nn_module.Tanh()}
            )
            self.heads["lm"].weight = self.wte.weight  # weight tying, as in GPT-2
            self.shared = self.blocks[0]  # the same module under two names

        def forward(self, ids):
            x = self.wte(ids)
            for block in self.blocks:
                x = block(x)
            return self.heads["lm"](self.heads["act"](x))

    return Net


def ac_or_torch(nn_module):
    return torch if nn_module is torch.nn else ac


def copy_weights_both(seed=0):
    torch.manual_seed(seed)
    theirs = make_big_net(torch.nn)()
    ours = make_big_net(nn)()
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def test_two_layer_net_parity():
    torch.manual_seed(0)
    theirs = make_two_layer_net(torch.nn)(64, 128, 10)
    ours = make_two_layer_net(nn)(64, 128, 10)
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(0).standard_normal((64, 64)).astype(np.float32)
    xt, xo = torch.tensor(x, requires_grad=True), ac.tensor(x, requires_grad=True)
    yt, yo = theirs(xt), ours(xo)
    assert_close(yo, yt)
    yt.pow(2).mean().backward()
    yo.pow(2).mean().backward()
    assert_close(xo.grad, xt.grad)
    for (n1, p1), (n2, p2) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        assert n1 == n2
        assert_close(p1.grad, p2.grad)


def test_names_traversal_and_repr_match_torch():
    ours, theirs = copy_weights_both()
    for method in ("named_parameters", "named_buffers", "named_modules", "named_children"):
        assert [n for n, _ in getattr(ours, method)()] == [n for n, _ in getattr(theirs, method)()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert len(list(ours.parameters())) == len(list(theirs.parameters()))
    assert len(list(ours.modules())) == len(list(theirs.modules()))
    assert len(list(ours.children())) == len(list(theirs.children()))
    assert repr(ours) == repr(theirs)
    assert [n for n, _ in ours.named_parameters(remove_duplicate=False)] == [
        n for n, _ in theirs.named_parameters(remove_duplicate=False)
    ]
    assert [n for n, _ in ours.named_parameters(prefix="m", recurse=False)] == [
        n for n, _ in theirs.named_parameters(prefix="m", recurse=False)
    ]


def test_big_net_forward_backward_parity():
    ours, theirs = copy_weights_both()
    ours.eval()
    theirs.eval()
    ids = np.array([[1, 2, 3], [4, 4, 9]])
    yt, yo = theirs(torch.tensor(ids)), ours(ac.tensor(ids))
    assert_close(yo, yt, atol=1e-5, rtol=1e-5)
    yt.sum().backward()
    yo.sum().backward()
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert_close(p.grad, theirs_params[name].grad, atol=1e-4, rtol=1e-4)


def test_state_dict_round_trips():
    ours, theirs = copy_weights_both(1)
    # torch -> ours happened above; check values, then ours -> torch into a fresh torch model
    for k, v in ours.state_dict().items():
        assert_close(v, theirs.state_dict()[k])
    torch.manual_seed(99)
    fresh = make_big_net(torch.nn)()
    fresh.load_state_dict({k: ac.to_torch(v) for k, v in ours.state_dict().items()})
    for k, v in fresh.state_dict().items():
        assert_close(ours.state_dict()[k], v)
    # numpy arrays are accepted too
    again = make_big_net(nn)()
    again.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert_close(again.wte.weight.detach(), theirs.wte.weight)


def test_state_dict_values_are_detached_and_share_memory():
    net = nn.Linear(2, 3)
    sd = net.state_dict()
    assert not sd["weight"].requires_grad and sd["weight"].grad_fn is None
    assert type(sd["weight"]) is ac.Tensor
    assert np.shares_memory(sd["weight"]._data, net.weight._data)
    assert net.state_dict(keep_vars=True)["weight"] is net.weight


def test_load_state_dict_copies_in_place():
    net = nn.Linear(2, 3)
    w = net.weight
    net.load_state_dict({"weight": np.ones((3, 2)), "bias": torch.zeros(3, dtype=torch.float64)})
    assert net.weight is w and net.weight.dtype is ac.float32 and net.bias.dtype is ac.float32
    assert float(net.weight.sum()) == 6.0


def test_load_state_dict_missing_and_unexpected():
    TwoLayerNet = make_two_layer_net(nn)
    torch_net = make_two_layer_net(torch.nn)(4, 3, 2)
    sd = torch_net.state_dict()
    del sd["linear1.weight"]
    sd["extra"] = torch.zeros(1)
    with pytest.raises(RuntimeError) as theirs:
        torch_net.load_state_dict(sd)
    net = TwoLayerNet(4, 3, 2)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    with pytest.raises(RuntimeError) as ours:
        net.load_state_dict(sd)
    assert str(ours.value) == str(theirs.value)
    assert str(ours.value).startswith(
        "Error(s) in loading state_dict for TwoLayerNet:\n\tMissing key(s) in state_dict: "
        '"linear1.weight". \n\tUnexpected key(s) in state_dict: "extra". '
    )
    for k, v in net.state_dict().items():  # untouched
        assert_close(v, before[k])
    result = net.load_state_dict(sd, strict=False)
    assert result == torch_net.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["linear1.weight"] and result.unexpected_keys == ["extra"]
    assert_close(net.linear2.weight.detach(), torch_net.linear2.weight)
    assert repr(net.load_state_dict(net.state_dict())) == "<All keys matched successfully>"


def test_load_state_dict_size_mismatch_changes_nothing():
    net = make_two_layer_net(nn)(64, 128, 10)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    sd = {k: ac.zeros(*v.shape) for k, v in net.state_dict().items()}
    sd["linear1.weight"] = ac.zeros(3, 4)
    torch_net = make_two_layer_net(torch.nn)(64, 128, 10)
    with pytest.raises(RuntimeError, match="size mismatch for linear1.weight"):
        torch_net.load_state_dict({k: ac.to_torch(v) for k, v in sd.items()})
    msg = (
        "size mismatch for linear1.weight: copying a param with shape [3, 4] from checkpoint, "
        "the shape in current model is [128, 64]."
    )
    for strict in (True, False):
        with pytest.raises(RuntimeError) as e:
            net.load_state_dict(sd, strict=strict)
        assert msg in str(e.value)
    for k, v in net.state_dict().items():  # validated first: nothing was copied
        assert_close(v, before[k])


def test_load_state_dict_bad_value_type():
    with pytest.raises(TypeError, match='"weight".*list'):
        nn.Linear(1, 1).load_state_dict({"weight": [[1.0]], "bias": [0.0]})


def test_unknown_attribute_and_delattr():
    net = make_two_layer_net(nn)(2, 3, 1)
    with pytest.raises(AttributeError, match="'TwoLayerNet' object has no attribute 'foo'"):
        net.foo  # noqa: B018
    with pytest.raises(AttributeError, match="'TwoLayerNet' object has no attribute 'foo'"):
        make_two_layer_net(torch.nn)(2, 3, 1).foo  # noqa: B018
    del net.linear1
    assert [n for n, _ in net.named_parameters()] == ["linear2.weight", "linear2.bias"]
    with pytest.raises(AttributeError):
        net.linear1  # noqa: B018


def test_reassigning_changes_registry():
    net = nn.Module()
    net.a = nn.Parameter(ac.ones(2))
    net.a = None  # a registered parameter may become None
    assert list(net.named_parameters()) == [] and "a" in net._parameters
    with pytest.raises(TypeError, match="'Tensor' as parameter 'a'"):
        net.a = ac.ones(2)
    net.b = nn.Linear(1, 1)
    net.b = nn.Parameter(ac.ones(1))  # a name lives in one registry only
    assert "b" not in net._modules and "b" in net._parameters
    net.plain = 3
    assert net.plain == 3 and "plain" not in net._parameters


def test_registration_errors_match_torch_types():
    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(ac.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()
    m, tm = nn.Module(), torch.nn.Module()
    for theirs_call, ours_call, exc in [
        (
            lambda: tm.register_buffer("a.b", torch.ones(1)),
            lambda: m.register_buffer("a.b", ac.ones(1)),
            KeyError,
        ),
        (lambda: tm.register_buffer("x", 3), lambda: m.register_buffer("x", 3), TypeError),
        (
            lambda: tm.register_parameter("p", torch.ones(1)),
            lambda: m.register_parameter("p", ac.ones(1)),
            TypeError,
        ),
        (lambda: tm.add_module("c", 3), lambda: m.add_module("c", 3), TypeError),
        (lambda: tm.add_module("", torch.nn.ReLU()), lambda: m.add_module("", nn.ReLU()), KeyError),
        (
            lambda: tm.register_buffer("train", None),
            lambda: m.register_buffer("train", None),
            KeyError,
        ),
    ]:
        with pytest.raises(exc):
            theirs_call()
        with pytest.raises(exc):
            ours_call()
    x = nn.Parameter(ac.ones(1)) * 2
    with pytest.raises(TypeError):
        m.register_parameter("nonleaf", x)


def test_buffers_persistent_and_not():
    m = nn.Module()
    m.register_buffer("running", ac.zeros(3))
    m.register_buffer("tmp", ac.ones(1), persistent=False)
    assert [n for n, _ in m.named_buffers()] == ["running", "tmp"]
    assert list(m.state_dict()) == ["running"]
    m.running = ac.ones(3)  # assignment to a registered buffer keeps it a buffer
    assert float(m.state_dict()["running"].sum()) == 3.0
    with pytest.raises(TypeError, match="buffer 'running'"):
        m.running = 5


def test_train_eval_propagates():
    ours, theirs = copy_weights_both()
    assert all(m.training for m in ours.modules())
    assert ours.eval() is ours
    assert not any(m.training for m in ours.modules())
    ours.train()
    assert all(m.training for m in ours.modules())
    ours.blocks.train(False)
    assert [m.training for m in ours.modules()] == [
        m.training for m in theirs.blocks.train(False) and theirs.modules()
    ]
    with pytest.raises(ValueError, match="boolean"):
        ours.train("yes")
    with pytest.raises(ValueError):
        theirs.train("yes")


def test_dropout_inside_model_respects_eval():
    net = nn.Sequential(nn.Dropout(0.5))
    x = ac.ones(1000)
    assert float((net(x) == 0).sum()) > 0
    net.eval()
    assert float((net(x) == 0).sum()) == 0


def test_zero_grad_and_requires_grad_():
    net = make_two_layer_net(nn)(3, 4, 2)
    net(ac.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(float(p.grad.abs().sum()) == 0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_apply_order_matches_torch():
    ours, theirs = copy_weights_both()
    seen_o, seen_t = [], []
    ours.apply(lambda m: seen_o.append(type(m).__name__))
    theirs.apply(lambda m: seen_t.append(type(m).__name__))
    assert seen_o == seen_t


def test_apply_custom_init():
    def init_weights(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)

    net = make_two_layer_net(nn)(3, 4, 2).apply(init_weights)
    assert float(net.linear1.weight.abs().sum()) == 0 == float(net.linear2.weight.abs().sum())


def test_to_double_and_float():
    net = make_two_layer_net(nn)(3, 4, 2)
    w = net.linear1.weight
    net.double()
    assert net.linear1.weight is w and w.dtype is ac.float64
    y = net(ac.randn(2, 3, dtype=ac.float64))
    assert y.dtype is ac.float64
    net.to(ac.float32)
    assert w.dtype is ac.float32
    net.to("cpu")
    with pytest.raises(AssertionError, match="CUDA"):  # torch: not compiled with CUDA
        net.to("cuda")


def test_forward_missing_and_call():
    with pytest.raises(
        NotImplementedError, match='Module \\[Module\\] is missing the required "forward"'
    ):
        nn.Module()(1)


def test_parameter():
    data = ac.ones(2, 2)
    p = nn.Parameter(data)
    assert p.requires_grad and isinstance(p, ac.Tensor)
    assert np.shares_memory(p._data, data._data)
    assert repr(p) == repr(torch.nn.Parameter(torch.ones(2, 2)))
    assert not nn.Parameter(ac.ones(1), requires_grad=False).requires_grad
    assert type(p * 2) is ac.Tensor and type(p.detach()) is ac.Tensor


def test_deepcopy_module():
    net = make_two_layer_net(nn)(3, 4, 2)
    twin = copy.deepcopy(net)
    assert isinstance(twin.linear1.weight, nn.Parameter)
    assert not np.shares_memory(twin.linear1.weight._data, net.linear1.weight._data)
    assert_close(twin(ac.ones(1, 3)), net(ac.ones(1, 3)))


def test_containers():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    tseq = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    assert repr(seq[1:]) == repr(tseq[1:])
    assert repr(seq[-1]) == repr(tseq[-1])
    assert len(seq) == 3 and [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear"]
    seq.append(nn.Sigmoid())
    tseq.append(torch.nn.Sigmoid())
    assert repr(seq) == repr(tseq)
    del seq[1]
    del tseq[1]
    assert [n for n, _ in seq.named_parameters()] == [n for n, _ in tseq.named_parameters()]
    with pytest.raises(IndexError, match="index 7"):
        seq[7]
    ml = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2)])
    tml = torch.nn.ModuleList(
        [torch.nn.Linear(2, 2), torch.nn.Linear(2, 2), torch.nn.ReLU(), torch.nn.Linear(2, 2)]
    )
    assert repr(ml) == repr(tml)
    assert repr(nn.ModuleList()) == repr(torch.nn.ModuleList())
    ml.insert(1, nn.Tanh())
    tml.insert(1, torch.nn.Tanh())
    assert repr(ml) == repr(tml)
    assert [n for n, _ in ml.named_parameters()] == [n for n, _ in tml.named_parameters()]
    md = nn.ModuleDict({"b": nn.ReLU(), "a": nn.Linear(1, 1)})
    tmd = torch.nn.ModuleDict({"b": torch.nn.ReLU(), "a": torch.nn.Linear(1, 1)})
    assert list(md) == list(tmd) and repr(md) == repr(tmd) and "a" in md
    assert [n for n, _ in md.named_parameters()] == [n for n, _ in tmd.named_parameters()]


def test_plain_list_is_not_registered():
    class Bad(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = [nn.Linear(2, 2)]

    assert list(Bad().parameters()) == []


def test_layer_reprs_match_torch():
    pairs = [
        (nn.Linear(3, 4, bias=False), torch.nn.Linear(3, 4, bias=False)),
        (nn.Embedding(5, 2, padding_idx=0), torch.nn.Embedding(5, 2, padding_idx=0)),
        (nn.LayerNorm((2, 3), eps=1e-6), torch.nn.LayerNorm((2, 3), eps=1e-6)),
        (nn.LayerNorm(3, bias=False), torch.nn.LayerNorm(3, bias=False)),
        (nn.Dropout(0.1), torch.nn.Dropout(0.1)),
        (nn.GELU("tanh"), torch.nn.GELU("tanh")),
        (nn.Softmax(dim=-1), torch.nn.Softmax(dim=-1)),
        (nn.Flatten(), torch.nn.Flatten()),
        (nn.Identity(), torch.nn.Identity()),
        (nn.ReLU(), torch.nn.ReLU()),
        (nn.Tanh(), torch.nn.Tanh()),
        (nn.Sigmoid(), torch.nn.Sigmoid()),
        (nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()),
        (nn.NLLLoss(), torch.nn.NLLLoss()),
        (nn.MSELoss(), torch.nn.MSELoss()),
    ]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
        assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]


def test_softmax_without_dim_warns_like_torch():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        y = nn.Softmax()(ac.zeros(2, 3))
    assert any("Implicit dimension" in str(x.message) for x in w)
    assert_close(y, torch.nn.Softmax()(torch.zeros(2, 3)))


def test_sequential_and_module_list_edits_renumber_like_torch():
    def edit(lib):
        s = lib.Sequential(lib.Linear(1, 2), lib.ReLU(), lib.Linear(2, 3))
        del s[1]
        s.append(lib.Tanh())
        m = lib.ModuleList([lib.Linear(1, 1), lib.ReLU(), lib.Tanh()])
        del m[0]
        m.insert(0, lib.Sigmoid())
        m += [lib.Identity()]
        return (
            [(k, type(v).__name__) for k, v in s.named_children()],
            [(k, type(v).__name__) for k, v in m.named_children()],
            len(s),
            len(m),
        )

    assert edit(nn) == edit(torch.nn)
