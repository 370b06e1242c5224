"""Issue 7, section 1: the autograd plumbing around the maths behaves like torch's.

Each test runs the same program on torch and on aigc_course (``lib`` is either module) and
compares what a user can observe: values, gradients, which tensors alias, and the exception
type (taken from torch at test time) with a message naming the value.
"""

from __future__ import annotations

import gc

import numpy as np
import pytest
import torch
from opinfo import assert_same, both, raises_like

import aigc_course as ac
import aigc_course.nn as acnn

LIBS = [torch, ac]


# ---------------------------------------------------------------- gradients


def test_grad_is_fresh_writable_contiguous_and_owns_its_memory():
    def run(lib):
        a = lib.ones(3, requires_grad=True)
        b = lib.ones(3, requires_grad=True)
        g = lib.tensor([1.0, 2.0, 3.0])
        (a + b).backward(g)
        a.grad.mul_(5)  # must change neither b.grad nor g
        return a.grad, b.grad, g

    assert_same(*both(run))


def test_zero_grad_in_place_and_set_to_none_false():
    def run(lib):
        lin = (acnn if lib is ac else torch.nn).Linear(3, 2)
        lin(lib.ones(4, 3)).sum().backward()
        lin.weight.grad.zero_()
        lin.zero_grad(set_to_none=False)
        return lin.weight.grad, lin.bias.grad

    assert_same(*both(run))


def test_linear_weight_grad_is_contiguous_so_view_works():
    lin = acnn.Linear(3, 2)
    lin(ac.ones(4, 3)).sum().backward()
    assert lin.weight.grad.is_contiguous()
    assert lin.weight.grad.view(-1).shape == (6,)


def test_second_backward_accumulates_in_place_into_the_same_tensor():
    for lib in LIBS:
        w = lib.ones(2, requires_grad=True)
        (w * 3).sum().backward()
        first = w.grad
        ptr = first.data_ptr()
        (w * 4).sum().backward()
        assert w.grad is first and w.grad.data_ptr() == ptr
        assert w.grad.tolist() == [7.0, 7.0]


# ---------------------------------------------------------------- grad mode


def test_set_grad_enabled_as_call_and_as_context_manager():
    for lib in LIBS:
        w = lib.ones(2, requires_grad=True)
        with lib.set_grad_enabled(False):
            assert not (w * 2).requires_grad
        assert lib.is_grad_enabled()
        lib.set_grad_enabled(False)
        assert not lib.is_grad_enabled()
        lib.set_grad_enabled(True)
        assert (w * 2).requires_grad


def test_no_grad_bare_and_called_and_inference_mode():
    for lib in LIBS:
        w = lib.ones(2, requires_grad=True)

        @lib.no_grad
        def bare(x):
            return x * 2

        @lib.no_grad()
        def called(x):
            return x * 2

        @lib.inference_mode()
        def inferred(x):
            return x * 2

        assert not bare(w).requires_grad and not called(w).requires_grad
        assert not inferred(w).requires_grad
        with lib.inference_mode():
            assert not (w * 2).requires_grad
        assert lib.is_grad_enabled()


# ---------------------------------------------------------------- in-place autograd


@pytest.mark.parametrize(
    "program",
    [
        lambda lib, w: (lambda x: (x.__iadd__(1), x.mul_(3))[-1])(w * 2),
        lambda lib, w: (lambda t: t.__iadd__((w * w).sum()))(lib.zeros(())),
        lambda lib, w: lib.zeros(3).copy_(w * 4),
        lambda lib, w: (lambda x: x.div_(w + 2))(w * 5),
        lambda lib, w: (lambda x: x.sub_(w, alpha=2))(w * w),
        lambda lib, w: (lambda x: x.clamp_(min=1.5))(w * 1.0),
        lambda lib, w: (lambda x: x.masked_fill_(w > 1.5, 0.0))(w * 3),
    ],
    ids=["x+=1;x*=3", "total+=loss", "copy_", "div_", "sub_alpha", "clamp_", "masked_fill_"],
)
def test_in_place_ops_on_non_leaves_are_recorded(program):
    def run(lib):
        w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        out = program(lib, w)
        (out * lib.tensor([1.0, 2.0, 3.0]) if out.ndim else out).sum().backward()
        return out, w.grad

    assert_same(*both(run))


def test_writing_a_grad_requiring_value_into_a_slice_is_recorded_like_copyslices():
    def run(lib):
        w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        out = lib.zeros(2, 3)
        out[0] = w[1] * 3
        out[1, [0, 2]] = w[:2] ** 2
        (out * lib.arange(6.0).reshape(2, 3)).sum().backward()
        return out, w.grad

    assert_same(*both(run))


def test_overwriting_a_recorded_slice_stops_its_gradient():
    def run(lib):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        x = w * 2
        x[0] = 5.0
        x.sum().backward()
        return x, w.grad

    assert_same(*both(run))


def _leaves(lib):
    w = lib.tensor([[1.0, -2.0, 3.0], [0.5, 4.0, -1.5]], requires_grad=True)
    u = lib.tensor([2.0, -3.0], requires_grad=True)
    return w, u


def _view_programs():
    """In-place changes of views while recording: torch re-records the base (CopySlices) and
    makes the view a view of it; a view taken before a change of its base is regenerated."""

    def row(lib, w, u):  # h[0].mul_(3): the example
        h = w * 2
        h[0].mul_(3)
        return h

    def transposed(lib, w, u):
        h = w * 1
        h.t()[1].add_(u * u)
        return h

    def reshaped_setitem(lib, w, u):
        h = w * w
        h.view(-1)[2:4] = u * 5
        return h

    def into_a_plain_buffer(lib, w, u):
        buf = lib.zeros(3, 2)
        buf[1].copy_(u * w[0, 0])
        buf.t()[0] += w[1]
        return buf

    def stale_view_of_a_changed_base(lib, w, u):
        b = w * 2
        v = b[0]
        b.mul_(w)  # v sees the new values; its gradient must too
        return v * v

    def overlapping_views(lib, w, u):
        h = w * 3
        v1, v2 = h[0], h[:, 1]
        v1.mul_(2)  # changes v2[0]
        v2.div_(u)
        return h * v1.sum()

    def view_of_a_view(lib, w, u):
        h = w - 1
        h[1][1:].mul_(u)
        return h.tanh()

    return [
        row,
        transposed,
        reshaped_setitem,
        into_a_plain_buffer,
        stale_view_of_a_changed_base,
        overlapping_views,
        view_of_a_view,
    ]


@pytest.mark.parametrize("program", _view_programs(), ids=lambda f: f.__name__)
def test_in_place_change_of_a_view_re_records_its_base(program):
    def run(lib):
        w, u = _leaves(lib)
        out = program(lib, w, u)
        g = lib.tensor(np.arange(out.numel(), dtype=np.float32).reshape(tuple(out.shape)) / 7)
        out.backward(g)
        return out, w.grad, u.grad if u.grad is not None else lib.zeros(2)

    assert_same(*both(run), atol=1e-5)


def test_a_view_of_a_plain_buffer_requires_grad_once_the_buffer_does():
    def run(lib):
        w, _ = _leaves(lib)
        buf = lib.zeros(2, 3)
        v = buf[1]
        before = v.requires_grad
        buf[1] = w[0] * 3  # buf now requires grad, and so does its view v
        assert v.requires_grad and not before
        (v * v).sum().backward()
        return v, w.grad

    assert_same(*both(run))


def test_changing_a_view_of_a_saved_output_is_caught_at_backward():
    def run(lib):
        w, _ = _leaves(lib)
        h = w.exp()  # Exp saves its output, which the change below overwrites
        h[0].mul_(2)
        h.sum().backward()

    raises_like(run, match="modified by an inplace operation")


def test_second_derivative_through_a_changed_view():
    def run(lib):
        w, _ = _leaves(lib)
        h = w * w
        h[0].mul_(w[1])
        (g,) = lib.autograd.grad(h.sum(), w, create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), w)
        return g, gg

    assert_same(*both(run), atol=1e-5)


def test_in_place_change_of_a_view_of_a_leaf_raises_torchs_error():
    def run(lib):
        w, _ = _leaves(lib)
        w[0].mul_(2)

    raises_like(run, match="a view of a leaf Variable that requires grad")


def test_in_place_change_of_an_expanded_view_raises_torchs_error():
    def run(lib):
        w, u = _leaves(lib)
        h = (u * 1)[:, None].expand(2, 3)
        h.mul_(2)

    raises_like(run)


def test_views_changed_without_recording_keep_their_values():
    def run(lib):
        w, _ = _leaves(lib)
        with lib.no_grad():
            w[0].mul_(2)  # as an optimizer does
        (w[0] * w[1]).sum().backward()
        return w, w.grad

    assert_same(*both(run))


def test_in_place_on_a_leaf_that_requires_grad_raises_torchs_error():
    for op in ("add_", "mul_", "zero_", "setitem"):

        def run(lib, op=op):
            w = lib.ones(2, requires_grad=True)
            if op == "setitem":
                w[0] = 3.0
            elif op == "zero_":
                w.zero_()
            else:
                getattr(w, op)(2)

        raises_like(run, match="a leaf Variable that requires grad")
    with ac.no_grad():  # allowed where an optimizer updates parameters
        w = ac.ones(2, requires_grad=True)
        w.add_(1)
    assert w.tolist() == [2.0, 2.0]


def test_version_counter_guards_values_saved_for_backward():
    def run(lib):
        w = lib.ones(2, requires_grad=True)
        x = w * 2
        y = x * x  # saves x
        x.add_(1)
        y.sum().backward()

    raises_like(run, match="modified by an inplace operation")


def test_integer_in_place_true_division_raises():
    raises_like(lambda lib: lib.ones(2, dtype=lib.int64).div_(2), match="Long")
    raises_like(lambda lib: lib.ones(2, dtype=lib.int64).__itruediv__(2), match="Long")


# ---------------------------------------------------------------- custom Functions


def make_function(lib, returns="ok"):
    class MulConstant(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y, k):
            assert isinstance(x, type(lib.ones(1))) and not lib.is_grad_enabled()
            ctx.save_for_backward(x, y)
            ctx.k = k
            return x * y * k

        @staticmethod
        def backward(ctx, grad):
            x, y = ctx.saved_tensors
            assert ctx.needs_input_grad == (True, False, False)
            if returns == "too few":
                return grad * y * ctx.k
            if returns == "bad shape":
                return lib.ones(5), None, None
            return grad * y * ctx.k, None, None

    return MulConstant


def test_a_custom_function_written_for_torch_runs_unchanged():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = lib.tensor([3.0, 4.0])
        out = make_function(lib).apply(x, y, 2.0)
        out.sum().backward()
        return out, x.grad

    assert_same(*both(run))
    out = make_function(ac).apply(ac.ones(2, requires_grad=True), ac.ones(2), 1.0)
    assert out.grad_fn.name() == "MulConstantBackward"


@pytest.mark.parametrize("returns", ["too few", "bad shape"])
def test_a_custom_backward_with_wrong_gradients_raises_naming_the_function(returns):
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        make_function(lib, returns).apply(x, lib.ones(2), 2.0).sum().backward()

    raises_like(run, match="MulConstantBackward")


def test_nodes_keep_only_what_backward_needs():
    x = ac.ones(3, requires_grad=True)
    y = x * 2.0  # Mul needs only the constant 2 (for x's gradient)
    saved = y.grad_fn._saved
    assert all(t is None or t is not x for t in saved)
    z = x.exp()  # Exp keeps its output, as an array (no reference cycle)
    assert z.grad_fn._saved[0] is not z
    a = ac.ones(3)
    w = (a + 1).relu()  # no input requires grad: nothing is recorded or kept
    assert w.grad_fn is None


def test_activation_memory_of_an_mlp_block_is_close_to_torchs():
    """Bytes of arrays kept alive by the graph, after forward, for an MLP/attention-like
    block; torch's count comes from its saved-tensor hooks."""
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((64, 256)).astype(np.float32)
    w1, w2 = (rng.standard_normal(s).astype(np.float32) for s in ((1024, 256), (256, 1024)))

    def block(lib, F, x, a, b):
        h = F.gelu(F.linear(x, a))  # (64, 1024)
        att = (h[:, :64] @ h[:, :64].T / 8).softmax(-1)  # (64, 64)
        return F.layer_norm(F.linear(att @ h, b) + x, (256,))

    packed = []

    def pack(t):
        packed.append(t)
        return t

    tx = torch.tensor(x_np)
    ta, tb = (torch.tensor(w, requires_grad=True) for w in (w1, w2))
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        block(torch, torch.nn.functional, tx, ta, tb)
    seen, torch_bytes = set(), 0
    for t in packed:
        key = (t.untyped_storage().data_ptr(), t.untyped_storage().nbytes())
        if key not in seen:
            seen.add(key)
            torch_bytes += t.untyped_storage().nbytes()
    gc.collect()
    ax = ac.tensor(x_np)
    aa, ab = (ac.tensor(w, requires_grad=True) for w in (w1, w2))
    out = block(ac, acnn.functional, ax, aa, ab)
    ours = _graph_bytes(out)
    assert ours <= 1.6 * torch_bytes, (ours, torch_bytes)


def _graph_bytes(out) -> int:
    """Bytes of distinct memory blocks that the graph behind ``out`` keeps alive."""
    seen, total, stack, nodes = set(), 0, [out.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or node in nodes:
            continue
        nodes.add(node)
        arrays = [t._data for t in getattr(node, "_saved", ()) if hasattr(t, "_data")]
        if getattr(node, "_output", None) is not None:
            arrays.append(node._output[0])
        for _name, v in vars(node).items():
            if isinstance(v, np.ndarray) and v.size > 16:
                arrays.append(v)
        for a in arrays:
            root = a
            while isinstance(root.base, np.ndarray):
                root = root.base
            if id(root) not in seen:
                seen.add(id(root))
                total += root.nbytes
        stack.extend(fn for fn, _ in node.next_functions)
    return total


# ---------------------------------------------------------------- numerics


def test_cross_entropy_with_every_target_ignored_gives_zero_grads():
    def run(lib):
        x = lib.tensor([[1.0, 2.0, 3.0], [0.5, 0.1, 0.2]], requires_grad=True)
        loss = (torch.nn if lib is torch else acnn).functional.cross_entropy(
            x, lib.tensor([-100, -100])
        )
        loss.backward()
        return loss, x.grad

    ours, theirs = both(run)
    assert theirs[0].isnan().item() and ours[0].isnan().item()  # 0 / 0, as torch
    assert_same(ours, theirs)  # the gradients are zeros


def test_logsumexp_with_infinities():
    inf = float("inf")
    for row in ([inf, 1.0], [-inf, -inf], [-inf, 2.0], [inf, -inf]):
        assert_same(*both(lambda lib, row=row: [lib.logsumexp(lib.tensor(row), 0)]))
    assert_same(*both(lambda lib: [lib.tensor([[1.0, 2.0], [3.0, 4.0]]).logsumexp((0, 1))]))


def test_sdpa_fully_masked_row_and_causal_with_mask_like_torch_2_13():
    rng = np.random.default_rng(0)
    qkv = [rng.standard_normal((1, 2, 3, 4)).astype(np.float32) for _ in range(3)]
    mask = np.zeros((3, 3), dtype=bool)
    mask[1:] = True

    def run(lib):
        F = (torch.nn if lib is torch else acnn).functional
        q, k, v = (lib.tensor(a, requires_grad=True) for a in qkv)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=lib.tensor(mask))
        out.sum().backward()
        return out, q.grad, k.grad, v.grad

    assert_same(*both(run))

    def both_masks(lib):  # documented as an error, but torch 2.13 combines the two masks
        F = (torch.nn if lib is torch else acnn).functional
        q, k, v = (lib.tensor(a) for a in qkv)
        keep = lib.tensor(~np.eye(3, dtype=bool)[::-1].copy())
        return [F.scaled_dot_product_attention(q, k, v, attn_mask=keep, is_causal=True)]

    assert_same(*both(both_masks))


@pytest.mark.parametrize("op", ["relu", "abs", "sum_of_product"])
def test_piecewise_linear_ops_stay_connected_under_create_graph(op):
    def run(lib):
        x = lib.tensor([-1.0, 2.0, 3.0], requires_grad=True)
        y = {"relu": x.relu(), "abs": x.abs(), "sum_of_product": x * x.relu()}[op].sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), x)
        return g, lib.zeros(3) + h  # torch's h may be a ZeroTensor

    assert_same(*both(run))


# ---------------------------------------------------------------- semantics


def test_indexing_follows_torch_where_it_differs_from_numpy():
    assert ac.zeros(3, 4, 5)[0, :, [0, 1]].shape == torch.zeros(3, 4, 5)[0, :, [0, 1]].shape
    x = np.arange(60.0, dtype=np.float32).reshape(3, 4, 5)
    for index in [
        (0, slice(None), [0, 1]),
        (slice(None), 1, [0, 2], None),
        (1, [0, 1], [2, 3]),
        (Ellipsis, 0, [1, 1]),
    ]:

        def run(lib, index=index):
            t = lib.tensor(x, requires_grad=True)
            out = t[index]
            out.sum().backward()
            return out, t.grad

        assert_same(*both(run))

    def assign(lib):
        t = lib.zeros(3, 4, 5)
        t[0, :, [0, 1]] = lib.arange(8.0).reshape(4, 2)
        return [t]

    assert_same(*both(assign))


def test_tensor_constructor_sizes_randint_and_clamp_promotion():
    assert ac.Tensor(2, 3).shape == torch.Tensor(2, 3).shape
    assert ac.Tensor(2, 3).dtype is ac.float32
    assert ac.randint(5, (3,)).shape == torch.randint(5, (3,)).shape
    for lo in (0.5, 1):
        got = ac.ones(3, dtype=ac.int64).clamp(lo)
        want = torch.ones(3, dtype=torch.int64).clamp(lo)
        assert str(got.dtype).split(".")[1] == str(want.dtype).split(".")[1]


def test_sum_over_no_dims_reduces_everything_and_empty_tensors_work():
    assert_same(*both(lambda lib: [lib.ones(2, 3).sum(dim=())]))
    assert_same(*both(lambda lib: [lib.ones(0, 3).softmax(0), lib.ones(0, 3).softmax(1)]))
    assert_same(*both(lambda lib: list(lib.ones(0, 3).max(1))))
    raises_like(lambda lib: lib.ones(3, 0).max(1), match="non-zero size")


@pytest.mark.parametrize(
    "expr",
    ["t + t", "t * t", "t & t", "t | 1", "t ^ lib.tensor([1, 2])", "t + 1.5", "t * 2", "t + u"],
)
def test_bool_arithmetic_and_bitwise_promotion(expr):
    def run(lib):
        names = {"lib": lib, "t": lib.tensor([True, False])}
        names["u"] = lib.tensor([1, 2], dtype=lib.int32)
        return eval(expr, names)

    t_out, a_out = run(torch), run(ac)
    assert str(a_out.dtype).split(".")[1] == str(t_out.dtype).split(".")[1]
    assert a_out.tolist() == t_out.tolist()


def test_view_dtype_reinterprets_bits():
    assert ac.ones(2).view(ac.int32).tolist() == torch.ones(2).view(torch.int32).tolist()
    assert ac.ones(2, 2).view(ac.int16).shape == torch.ones(2, 2).view(torch.int16).shape


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "program, match",
    [
        (lambda lib: lib.cat([lib.tensor(1.0), lib.tensor(2.0)]), "zero-dimensional"),
        (lambda lib: lib.ones(3).split(0), "split_size can only be 0"),
        (lambda lib: lib.cat([lib.ones(2), [1.0, 2.0]]), "element 1"),
        (lambda lib: lib.tensor([True]) - lib.tensor([True]), "Subtraction"),
        (lambda lib: -lib.tensor([True]), "Negation"),
        (lambda lib: lib.ones(2, 3)[5], "5"),
        (lambda lib: lib.ones(2).view(3), r"\[3\]"),
        (lambda lib: lib.ones(2, 3) @ lib.ones(2, 3), "2x3"),
        (lambda lib: lib.ones(2).sum(dim=3), "3"),
        (lambda lib: lib.allclose(lib.ones(2), [1.0, 1.0]), "list"),
    ],
    ids=[
        "cat0d",
        "split0",
        "catlist",
        "boolsub",
        "boolneg",
        "index",
        "view",
        "matmul",
        "dim",
        "allclose",
    ],
)
def test_misuse_raises_torchs_exception_type_naming_the_value(program, match):
    raises_like(program, match=match)


def test_comparing_with_none_is_false_as_in_torch():
    for lib in LIBS:
        t = lib.ones(2)
        assert (t == None) is False and (t != None) is True  # noqa: E711


def test_sign_of_bool_and_allclose_work():
    assert ac.tensor([True, False]).sign().tolist() == [True, False]
    assert ac.allclose(ac.ones(2), ac.ones(2))
    assert not ac.allclose(ac.ones(2), ac.zeros(2))


def test_top_level_functions_are_real_functions_with_signatures():
    import builtins
    import inspect

    names = [n for n in dir(ac) if not n.startswith("_") and inspect.isfunction(getattr(ac, n))]
    assert len(names) > 60
    for name in names:
        assert getattr(ac, name).__doc__, f"aigc_course.{name} has no docstring"
    for name in ("exp", "sum", "max", "clamp", "softmax", "abs", "all"):
        assert "input" in inspect.signature(getattr(ac, name)).parameters, name
    # the package's own module namespace shadows builtins (as torch's does), but its code must
    # not trip over that: allclose used to call our `bool`
    assert ac.allclose(ac.ones(2), ac.ones(2)) is True and builtins.sum is sum
