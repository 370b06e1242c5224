"""The harness: how an op is declared, how its inputs are built in both libraries, and the checks
that every generated test runs. torch is the oracle in every check; aigc_course's own earlier
output never is.

An ``OpInfo`` names one public op and how to call it (function form, method form, or a custom
callable), the dtypes it supports, a sample-input generator ``samples(dtype)``, and its bad
inputs. A ``Sample`` holds numpy data, wrapped in ``Arg`` where an argument is a tensor, so that
both libraries receive bit-identical inputs, laid out the same way (contiguous, transposed or
sliced, which makes a non-contiguous leaf).
"""

from __future__ import annotations

import contextlib
import functools
import re
import warnings
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pytest
import torch
from hypothesis import strategies as st

import aigc_course as ac

FLOATS = ("float32", "float64")
ALL = ("float32", "float64", "int64", "bool")
NUMERIC = ("float32", "float64", "int64")

# float32 comparisons: torch's defaults for values; gradients go through more round-off.
VALUE_TOL = {"float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7)}
GRAD_TOL = {"float32": (1e-5, 1e-5), "float64": (1e-7, 1e-7)}


# ---------------------------------------------------------------- inputs


@dataclass
class Arg:
    """A tensor argument: numpy data and the layout it is given in both libraries.

    ``layout`` is ``"contiguous"``, ``"T"`` (the data lives transposed in memory, so the
    tensor is a non-contiguous transpose) or ``"slice"`` (every other element of a wider
    buffer). Either way the tensor handed to the op is a leaf with those strides.
    ``grad=False`` keeps a float argument out of autograd (e.g. a class weight, whose
    derivative torch does not implement).
    """

    data: np.ndarray
    layout: str = "contiguous"
    grad: bool = True

    def __post_init__(self):
        self.data = np.asarray(self.data)
        if self.layout == "T" and self.data.ndim < 2:
            self.layout = "slice" if self.data.ndim else "contiguous"
        if self.layout == "slice" and self.data.ndim == 0:
            self.layout = "contiguous"

    @property
    def differentiable(self) -> bool:
        return self.grad and self.data.dtype.kind == "f"

    def __repr__(self) -> str:
        shape = "x".join(map(str, self.data.shape)) or "0d"
        lay = {"contiguous": "", "T": ".T", "slice": "[::2]"}[self.layout]
        return f"{self.data.dtype.name[0]}{self.data.dtype.itemsize * 8}[{shape}]{lay}"

    def build(self, lib, requires_grad: bool):
        a = self.data
        if self.layout == "T":
            t = lib.tensor(np.ascontiguousarray(a.swapaxes(-1, -2))).transpose(-1, -2)
        elif self.layout == "slice":
            t = lib.tensor(np.stack([a, np.zeros_like(a)], axis=-1))[..., 0]
        else:
            t = lib.tensor(np.array(a))
        t = t.detach()
        if requires_grad and self.differentiable:
            t.requires_grad_()
        return t


@dataclass(frozen=True)
class DType:
    """A dtype argument (``dtype=``), given to each library as its own dtype object."""

    name: str

    def __repr__(self) -> str:
        return self.name


@dataclass
class Sample:
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    desc: str = ""
    central: bool = True  # False: no central differences (inputs at ±inf, a nan loss)
    gradgrad: bool = True  # False: torch's second derivative is a 0/0 artifact here

    def __repr__(self) -> str:
        if self.desc:
            return self.desc
        parts = [_short(a) for a in self.args]
        parts += [f"{k}={_short(v)}" for k, v in self.kwargs.items()]
        return ",".join(parts)

    def args_list(self) -> list[Arg]:
        found: list[Arg] = []
        _walk(self.args, found)
        _walk(tuple(self.kwargs.values()), found)
        return found

    def build(self, lib, requires_grad: bool = False):
        """(args, kwargs, leaves): the inputs for ``lib`` and the tensors that require grad."""
        leaves: list = []
        args = tuple(_convert(a, lib, requires_grad, leaves) for a in self.args)
        kwargs = {k: _convert(v, lib, requires_grad, leaves) for k, v in self.kwargs.items()}
        return args, kwargs, leaves

    @property
    def differentiable(self) -> bool:
        return any(a.differentiable for a in self.args_list())

    @property
    def numel(self) -> int:
        return sum(a.data.size for a in self.args_list())


def _short(v) -> str:
    if isinstance(v, (list, tuple)) and any(isinstance(x, Arg) for x in v):
        return "[" + ",".join(map(_short, v)) + "]"
    return repr(v)


def _walk(obj, found):
    for a in obj:
        if isinstance(a, Arg):
            found.append(a)
        elif isinstance(a, (list, tuple)):
            _walk(a, found)


def _convert(obj, lib, requires_grad, leaves):
    if isinstance(obj, DType):
        return getattr(lib, obj.name)
    if isinstance(obj, Arg):
        t = obj.build(lib, requires_grad)
        if t.requires_grad:
            leaves.append(t)
        return t
    if isinstance(obj, (list, tuple)) and any(isinstance(x, (Arg, list, tuple)) for x in obj):
        return type(obj)(_convert(x, lib, requires_grad, leaves) for x in obj)
    return obj


@dataclass
class ErrorInput:
    """A bad call. The expected exception type is torch's, found at test time; ``names`` are
    the offending values our message must mention."""

    sample: Sample
    names: tuple = ()
    desc: str = ""
    requires_grad: bool = False  # build the float inputs as leaves that require grad

    def __repr__(self) -> str:
        return self.desc or repr(self.sample)


# ---------------------------------------------------------------- the declaration


@dataclass
class OpInfo:
    """One public op.

    ``fn(lib)`` returns the callable for a library; without it the op is ``getattr`` of
    ``name`` on ``namespace`` (``""`` is the top-level module, ``"nn.functional"``), and
    ``method=True`` also calls it as ``args[0].name(*args[1:])``.
    """

    name: str
    samples: Callable[[str, np.random.Generator], Iterable[Sample]]
    dtypes: Sequence[str] = FLOATS
    fn: Callable | None = None
    namespace: str = ""
    function: bool = True
    method: bool = True
    grad: bool = True  # torch differentiates it
    gradgrad: bool = True  # torch differentiates its backward
    view: bool = False  # returns a view: strides are compared on every sample
    errors: Callable[[], Iterable[ErrorInput]] | None = None
    tol: dict = field(default_factory=dict)
    grad_tol: dict = field(default_factory=dict)
    check_strides: bool = True

    def variants(self, lib) -> list[tuple[str, Callable]]:
        if self.fn is not None:
            return [("op", self.fn(lib))]
        out = []
        if self.function:
            ns = lib
            for part in filter(None, self.namespace.split(".")):
                ns = getattr(ns, part)
            out.append(("function", _lazy_attr(ns, self.name)))
        if self.method:
            name = self.name
            out.append(("method", lambda x, *a, **k: getattr(x, name)(*a, **k)))
        return out

    def call(self, lib, *args, **kwargs):
        """The first variant: the one used for gradients and errors."""
        return self.variants(lib)[0][1](*args, **kwargs)

    def sample_list(self, dtype: str) -> list[Sample]:
        rng = np.random.default_rng(zlib.crc32(f"{self.name}/{dtype}".encode()))
        return list(self.samples(dtype, rng))

    def error_list(self) -> list[ErrorInput]:
        return list(self.errors()) if self.errors else []


def _lazy_attr(ns, name):
    def call(*args, **kwargs):
        return getattr(ns, name)(*args, **kwargs)  # AttributeError here names the missing op

    return call


# ---------------------------------------------------------------- comparing results


def _np(x) -> np.ndarray:
    if isinstance(x, ac.Tensor):
        return np.array(x.detach().numpy())
    return x.detach().numpy()


def _meaningful_strides(t) -> list:
    """Strides of the dimensions longer than 1 (the others are never used to address)."""
    return [s for s, n in zip(t.stride(), t.shape) if n > 1]


def assert_same(ours, theirs, rtol=None, atol=None, what="output", strides=False):
    """Same type, shape, dtype and values as torch's result (tensors, sequences or numbers)."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, ac.Tensor), f"{what}: expected a Tensor, got {type(ours)}"
        assert tuple(ours.shape) == tuple(theirs.shape), (
            f"{what}: shape {tuple(ours.shape)} != torch's {tuple(theirs.shape)}"
        )
        theirs_dtype = str(theirs.dtype).removeprefix("torch.")
        assert ours.dtype.name == theirs_dtype, (
            f"{what}: dtype {ours.dtype.name} != torch's {theirs_dtype}"
        )
        if theirs_dtype in VALUE_TOL:  # a tolerance given alone keeps the other's default
            rtol = VALUE_TOL[theirs_dtype][0] if rtol is None else rtol
            atol = VALUE_TOL[theirs_dtype][1] if atol is None else atol
        elif (rtol is None) != (atol is None):  # integers and bools: exact unless both given
            rtol, atol = rtol or 0.0, atol or 0.0
        torch.testing.assert_close(
            torch.from_numpy(_np(ours)),
            theirs.detach(),
            rtol=rtol,
            atol=atol,
            equal_nan=True,
            msg=lambda m: f"{what}: {m}",
        )
        if strides and theirs.numel():
            assert _meaningful_strides(ours) == _meaningful_strides(theirs), (
                f"{what}: strides {ours.stride()} != torch's {theirs.stride()}"
            )
        return
    if isinstance(theirs, (tuple, list)) and not isinstance(theirs, torch.Size):
        assert isinstance(ours, (tuple, list)), f"{what}: expected a sequence, got {type(ours)}"
        assert len(ours) == len(theirs), f"{what}: {len(ours)} results, torch has {len(theirs)}"
        for i, (o, t) in enumerate(zip(ours, theirs)):
            assert_same(o, t, rtol, atol, f"{what}[{i}]", strides)
        return
    if isinstance(theirs, torch.Size):
        assert tuple(ours) == tuple(theirs), f"{what}: {ours} != torch's {theirs}"
        return
    assert type(ours) is type(theirs), f"{what}: {type(ours)} != torch's {type(theirs)}"
    if isinstance(theirs, float):
        assert ours == pytest.approx(theirs, rel=rtol or 1e-6, abs=atol or 1e-6, nan_ok=True)
    else:
        assert ours == theirs, f"{what}: {ours!r} != torch's {theirs!r}"


def tensors(out) -> list:
    """The tensors in an op's result, in order (a tensor, or a tuple/list of them)."""
    if isinstance(out, (torch.Tensor, ac.Tensor)):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in tensors(o)]
    return []


@contextlib.contextmanager
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _tol(op: OpInfo, dtype: str, grad: bool):
    table = op.grad_tol if grad else op.tol
    default = GRAD_TOL if grad else VALUE_TOL
    return table.get(dtype, default.get(dtype, (None, None)))


def sample_dtype(sample: Sample) -> str:
    args = sample.args_list()
    floats = [a.data.dtype.name for a in args if a.data.dtype.kind == "f"]
    return (floats or [a.data.dtype.name for a in args] or ["float32"])[0]


# ---------------------------------------------------------------- the checks


def check_values(op: OpInfo, sample: Sample):
    """Every variant of the op: values, dtype, shape (and strides where meaningful) equal
    torch's; where torch refuses the input, ours raises the same exception type."""
    t_args, t_kwargs, _ = sample.build(torch)
    try:
        with quiet():
            theirs = op.call(torch, *t_args, **t_kwargs)
    except Exception as e:  # torch refuses this dtype or input: so must we
        for label, fn in op.variants(ac):
            o_args, o_kwargs, _ = sample.build(ac)
            _expect_same_error(e, fn, o_args, o_kwargs, (), label)
        return
    dtype = sample_dtype(sample)
    rtol, atol = _tol(op, dtype, grad=False)
    all_contiguous = all(a.layout == "contiguous" for a in sample.args_list())
    strides = op.check_strides and (op.view or all_contiguous)
    for label, fn in op.variants(ac):
        o_args, o_kwargs, _ = sample.build(ac)
        with quiet():
            ours = fn(*o_args, **o_kwargs)
        assert_same(ours, theirs, rtol, atol, what=f"{label} output", strides=strides)
    # views against copies: write into the inputs; an output that shares their memory in torch
    # (a view) must change here too, and one that is a copy in torch must not
    if _overwrite_inputs(t_args, t_kwargs) and _overwrite_inputs(o_args, o_kwargs):
        assert_same(ours, theirs, rtol, atol, what="output after writing into the inputs")


def _overwrite_inputs(args, kwargs) -> bool:
    """Write new values into every tensor input (in place); False where a library refuses."""
    inputs = [t for t in tensors(list(args) + list(kwargs.values()))]
    lib = torch if inputs and isinstance(inputs[0], torch.Tensor) else ac
    try:
        for t in inputs:
            if t.numel():
                t.copy_(lib.ones_like(t) if t.dtype == lib.bool else t * 2 + 1)
    except Exception:
        return False
    return bool(inputs)


def _grad_outputs(outs, rng) -> list[np.ndarray]:
    return [
        rng.standard_normal(tuple(t.shape)).astype(str(t.dtype).removeprefix("torch."))
        for t in outs
    ]


def _differentiable_outputs(out_t, out_o):
    pairs = list(zip(tensors(out_t), tensors(out_o), strict=True))
    for t, o in pairs:
        assert o.requires_grad == t.requires_grad, (
            f"output requires_grad={o.requires_grad}, torch's {t.requires_grad}"
        )
    pairs = [(t, o) for t, o in pairs if t.requires_grad]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _none_as_zeros(grads, leaves, lib):
    return [lib.zeros_like(x) if g is None else g for g, x in zip(grads, leaves)]


def check_grad(op: OpInfo, sample: Sample):
    """Gradients of every differentiable input equal torch's, for a random upstream gradient.
    Gradients that torch leaves undefined (None) must be None or zero here."""
    t_args, t_kwargs, t_leaves = sample.build(torch, requires_grad=True)
    o_args, o_kwargs, o_leaves = sample.build(ac, requires_grad=True)
    with quiet():
        try:
            out_t = op.call(torch, *t_args, **t_kwargs)
        except Exception:
            return
        out_o = op.call(ac, *o_args, **o_kwargs)
    rtol, atol = _tol(op, sample_dtype(sample), grad=False)
    assert_same(out_o, out_t, rtol, atol)  # float64 values are compared here, not in check_values
    outs_t, outs_o = _differentiable_outputs(out_t, out_o)
    if not outs_t:
        return
    g = _grad_outputs(outs_t, np.random.default_rng(0))
    try:
        grads_t = torch.autograd.grad(
            outs_t, t_leaves, [torch.tensor(x) for x in g], allow_unused=True
        )
    except RuntimeError as e:  # e.g. "derivative for aten::floor_divide is not implemented"
        if "not implemented" in str(e):
            return  # torch has no gradient here, so there is no oracle to compare with
        raise
    grads_o = ac.autograd.grad(outs_o, o_leaves, [ac.tensor(x) for x in g], allow_unused=True)
    rtol, atol = _tol(op, sample_dtype(sample), grad=True)
    for i, (go, gt, leaf) in enumerate(zip(grads_o, grads_t, t_leaves)):
        if gt is None:
            gt = torch.zeros_like(leaf)
        if go is None:
            go = ac.zeros(tuple(leaf.shape), dtype=getattr(ac, str(leaf.dtype)[6:]))
        assert_same(go, gt, rtol, atol, what=f"gradient of input {i}")


def check_gradgrad(op: OpInfo, sample: Sample):
    """Second derivatives, as torch's gradgradcheck takes them: differentiate the first
    gradients (built with create_graph, the upstream gradient itself a variable) again."""
    t_args, t_kwargs, t_leaves = sample.build(torch, requires_grad=True)
    o_args, o_kwargs, o_leaves = sample.build(ac, requires_grad=True)
    with quiet():
        try:
            out_t = op.call(torch, *t_args, **t_kwargs)
        except Exception:
            return
        out_o = op.call(ac, *o_args, **o_kwargs)
    outs_t, outs_o = _differentiable_outputs(out_t, out_o)
    if not outs_t:
        return
    rng = np.random.default_rng(1)
    g = _grad_outputs(outs_t, rng)
    g_t = [torch.tensor(x, requires_grad=True) for x in g]
    g_o = [ac.tensor(x, requires_grad=True) for x in g]
    try:
        first_t = torch.autograd.grad(outs_t, t_leaves, g_t, create_graph=True, allow_unused=True)
    except RuntimeError as e:
        if "not implemented" in str(e):
            return  # no derivative in torch: no oracle
        raise
    first_o = ac.autograd.grad(outs_o, o_leaves, g_o, create_graph=True, allow_unused=True)
    keep = [i for i, f in enumerate(first_t) if f is not None and f.requires_grad]
    if not keep:
        return
    for i in keep:
        assert first_o[i] is not None and first_o[i].requires_grad, (
            f"first gradient of input {i} is not connected to the graph (torch's is)"
        )
    v = [
        rng.standard_normal(tuple(first_t[i].shape)).astype(str(first_t[i].dtype)[6:]) for i in keep
    ]
    vars_t, vars_o = t_leaves + g_t, o_leaves + g_o
    second_t = torch.autograd.grad(
        [first_t[i] for i in keep], vars_t, [torch.tensor(x) for x in v], allow_unused=True
    )
    second_o = ac.autograd.grad(
        [first_o[i] for i in keep], vars_o, [ac.tensor(x) for x in v], allow_unused=True
    )
    rtol, atol = _tol(op, sample_dtype(sample), grad=True)
    for i, (s_o, s_t, var) in enumerate(zip(second_o, second_t, vars_t)):
        if s_t is None:
            s_t = torch.zeros_like(var)
        if s_o is None:
            s_o = ac.zeros(tuple(var.shape), dtype=getattr(ac, str(var.dtype)[6:]))
        assert_same(s_o, s_t, rtol, atol, what=f"second derivative wrt variable {i}")


def check_central_differences(op: OpInfo, sample: Sample, eps: float = 1e-6):
    """float64: our backward equals central differences of our own forward,
    d<g, f(x)>/dx_j ≈ (<g, f(x + eps e_j)> - <g, f(x - eps e_j)>) / (2 eps)."""
    t_args, t_kwargs, _ = sample.build(torch)
    try:
        with quiet():
            op.call(torch, *t_args, **t_kwargs)
    except Exception:
        return
    args, kwargs, leaves = sample.build(ac, requires_grad=True)
    with quiet():
        out = op.call(ac, *args, **kwargs)
    # float64 outputs only: a cast to float32 or an integer type has no usable differences
    keep = [i for i, t in enumerate(tensors(out)) if t.requires_grad and t.dtype == ac.float64]
    if not keep:
        return
    outs = [tensors(out)[i] for i in keep]
    g = [np.random.default_rng(2).standard_normal(tuple(t.shape)) for t in outs]
    analytic = ac.autograd.grad(outs, leaves, [ac.tensor(x) for x in g], allow_unused=True)

    def objective() -> float:
        with ac.no_grad(), quiet():
            res = [tensors(op.call(ac, *args, **kwargs))[i] for i in keep]
        return float(sum(np.sum(_np(t) * x) for t, x in zip(res, g)))

    for i, (leaf, a) in enumerate(zip(leaves, analytic)):
        data = leaf.detach().numpy()  # shares memory with the leaf
        numeric = np.zeros(data.shape)
        for j in np.ndindex(data.shape):
            orig = data[j]
            data[j] = orig + eps
            plus = objective()
            data[j] = orig - eps
            minus = objective()
            data[j] = orig
            numeric[j] = (plus - minus) / (2 * eps)
        a = np.zeros(data.shape) if a is None else _np(a)
        np.testing.assert_allclose(a, numeric, rtol=1e-5, atol=1e-6, err_msg=f"input {i}")


def builtin_type(cls: type) -> type:
    """torch's exception classes (torch._C._LinAlgError, torch.OutOfMemoryError...) as the
    Python builtin they derive from."""
    return next(c for c in cls.__mro__ if c.__module__ == "builtins")


def _expect_same_error(
    torch_error: Exception,
    fn: Callable,
    args,
    kwargs,
    names: tuple,
    label: str = "",
    match: str | None = None,
) -> Exception:
    expected = builtin_type(type(torch_error))
    try:
        with quiet():
            fn(*args, **kwargs)
    except Exception as e:
        module = type(e).__module__.split(".")[0]
        assert module in ("builtins", "aigc_course"), (
            f"{label}: {type(e).__module__}.{type(e).__name__} leaked out: {e}"
        )
        got = builtin_type(type(e))
        # torch's NotImplementedError ("... not implemented for 'Long'") is its kernel
        # dispatcher's RuntimeError subclass; which of the two a refusal raises depends on
        # which check runs first, so within the RuntimeError family they count as one.
        kernel = NotImplementedError in (expected, got)
        ok = got is expected or (
            kernel and issubclass(got, RuntimeError) and issubclass(expected, RuntimeError)
        )
        assert ok, (
            f"{label}: raised {type(e).__name__}({e}); torch raises {expected.__name__}"
            f" ({type(torch_error).__name__}: {torch_error})"
        )
        for name in names:
            assert str(name) in str(e), f"{label}: message {str(e)!r} does not name {name!r}"
        if match is not None:
            assert re.search(match, str(e)), f"{label}: message {str(e)!r} does not match {match!r}"
        return e
    raise AssertionError(
        f"{label}: no error; torch raises {type(torch_error).__name__}: {torch_error}"
    )


def check_error(op: OpInfo, err: ErrorInput):
    """torch refuses the call; ours raises the same (builtin) exception type, naming the
    offending values."""
    t_args, t_kwargs, _ = err.sample.build(torch, err.requires_grad)
    try:
        with quiet():
            op.call(torch, *t_args, **t_kwargs)
    except Exception as e:
        torch_error = e
    else:
        raise AssertionError(f"the error case {err!r} is accepted by torch: fix the registry")
    for label, fn in op.variants(ac):
        o_args, o_kwargs, _ = err.sample.build(ac, err.requires_grad)
        _expect_same_error(torch_error, fn, o_args, o_kwargs, err.names, label)
        # a refused call leaves its inputs as they were
        inputs = tensors(list(o_args) + list(o_kwargs.values()))
        for i, (t, a) in enumerate(zip(inputs, err.sample.args_list(), strict=True)):
            np.testing.assert_array_equal(_np(t), a.data, err_msg=f"{label}: input {i} changed")


def check_module(info, dtype: str, x: Arg):
    """A layer against torch's: torch's parameters are copied into ours with
    ``load_state_dict``; then the output, the input's gradient and every parameter's gradient
    (under the same names) must equal torch's."""
    theirs, ours = info.make(torch), info.make(ac)
    if dtype == "float64":
        theirs, ours = theirs.double(), ours.double()
    if info.init:
        info.init(theirs)
    ours.load_state_dict(theirs.state_dict())
    xt, xo = x.build(torch, requires_grad=True), x.build(ac, requires_grad=True)
    out_t, out_o = theirs(xt), ours(xo)
    rtol, atol = info.tol.get(dtype, VALUE_TOL[dtype])
    assert_same(out_o, out_t, rtol, atol)
    g = np.random.default_rng(1).standard_normal(tuple(out_t.shape)).astype(dtype)
    out_t.backward(torch.tensor(g))
    out_o.backward(ac.tensor(g))
    rtol, atol = info.tol.get(dtype, GRAD_TOL[dtype])
    if xt.requires_grad:
        assert_same(xo.grad, xt.grad, rtol, atol, what="input gradient")
    params_t, params_o = dict(theirs.named_parameters()), dict(ours.named_parameters())
    assert list(params_o) == list(params_t)
    for name, p in params_o.items():
        assert_same(p.grad, params_t[name].grad, rtol, atol, what=f"gradient of {name}")
        # torch's AccumulateGrad gives the parameter's layout: p.grad.view(-1) works
        assert p.grad.is_contiguous() == params_t[name].grad.is_contiguous(), name


# ---------------------------------------------------------------- parametrizing


def value_cases(ops: Iterable[OpInfo]):
    """Every sample of every dtype, except the float64 samples that test_grad runs (it
    compares their values too)."""
    return [
        pytest.param(op, s, id=f"{op.name}-{dt}-{i}:{s!r}")
        for op in ops
        for dt in op.dtypes
        for i, s in enumerate(op.sample_list(dt))
        if not (dt == "float64" and op.grad and s.differentiable)
    ]


def grad_cases(
    ops: Iterable[OpInfo],
    dtypes=FLOATS,
    max_numel: int | None = None,
    second=False,
    limit: int | None = None,
):
    """Samples with a differentiable input; with ``max_numel`` (central differences) only
    small ones whose floating-point inputs are all float64; ``limit``: the first few per op."""
    cases = []
    for op in ops:
        if not op.grad or (second and not op.gradgrad):
            continue
        for dt in dtypes:
            if dt not in op.dtypes:
                continue
            taken = 0
            for i, s in enumerate(op.sample_list(dt)):
                if not s.differentiable or (limit is not None and taken >= limit):
                    continue
                if second and not s.gradgrad:
                    continue
                small = s.numel <= (max_numel or 0) and _all_float64(s) and s.central
                if max_numel is not None and not small:
                    continue
                cases.append(pytest.param(op, s, id=f"{op.name}-{dt}-{i}:{s!r}"))
                taken += 1
    return cases


def _all_float64(sample: Sample) -> bool:
    return all(a.data.dtype == np.float64 for a in sample.args_list() if a.data.dtype.kind == "f")


def error_cases(ops: Iterable[OpInfo]):
    return [
        pytest.param(op, e, id=f"{op.name}-{i}:{e!r}")
        for op in ops
        for i, e in enumerate(op.error_list())
    ]


# ---------------------------------------------------------------- one-off tests


def one_off(fn: Callable, name: str = "one-off") -> OpInfo:
    """An OpInfo for a one-off program ``fn(lib, *tensors)``, so that a test the registry's two
    call forms cannot express still runs the registry's checks on it."""
    return OpInfo(name, samples=lambda dtype, rng: (), fn=lambda lib: functools.partial(fn, lib))


def make(lib, array, requires_grad: bool = False):
    """The same numpy data as a tensor of ``lib`` (aigc_course or torch), its dtype kept."""
    return Arg(array).build(lib, requires_grad)


def dtype_name(t) -> str:
    """``"float32"`` for either library's tensor."""
    return str(t.dtype).split(".")[-1]


def inputs(*arrays) -> Sample:
    """A Sample of tensor arguments: numpy arrays (dtype kept) or ``Arg``s (a layout too)."""
    return Sample(tuple(a if isinstance(a, Arg) else Arg(a) for a in arrays))


def both(fn: Callable, *arrays, requires_grad: bool = False) -> tuple:
    """``fn(lib, *tensors)`` in aigc_course and in torch, each on its own tensors holding the
    same data; returns (ours, theirs). Without arrays it runs a whole program ``fn(lib)``."""
    sample = inputs(*arrays)
    ours = fn(ac, *sample.build(ac, requires_grad)[0])
    theirs = fn(torch, *sample.build(torch, requires_grad)[0])
    return ours, theirs


def check_grads(fn: Callable, *arrays, rtol=None, atol=None):
    """Gradients of ``fn(lib, *tensors)`` (every differentiable output, a random upstream
    gradient) and their derivatives, with respect to the inputs and to that upstream gradient,
    against torch's: :func:`check_grad` and :func:`check_gradgrad` on a one-off op."""
    op, sample = one_off(fn), inputs(*arrays)
    if rtol is not None or atol is not None:
        op.grad_tol = op.tol = {dt: (rtol, atol) for dt in FLOATS}
    check_grad(op, sample)
    check_gradgrad(op, sample)


def gradcheck(fn: Callable, *arrays):
    """Central differences of our own forward in float64 (a torch-free second oracle):
    :func:`check_central_differences` on a one-off op, float inputs cast to float64."""
    arrays = [np.asarray(a) for a in arrays]
    arrays = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in arrays]
    sample = inputs(*arrays)
    with quiet():  # torch must accept the program (the registry's check skips what it refuses)
        fn(torch, *sample.build(torch)[0])
    check_central_differences(one_off(fn), sample)


def raises_like(fn: Callable, *arrays, match: str | None = None) -> tuple:
    """torch refuses ``fn(lib, *tensors)``; ours must raise the same (builtin) exception type,
    its message matching the regex ``match``. Returns both exceptions, (ours, torch's)."""
    sample = inputs(*arrays)
    try:
        with quiet():
            fn(torch, *sample.build(torch)[0])
    except Exception as e:
        torch_error = e
    else:
        raise AssertionError("torch does not raise on this input")
    args = sample.build(ac)[0]
    ours = _expect_same_error(torch_error, functools.partial(fn, ac), args, {}, (), match=match)
    return ours, torch_error


def parity(fn, *arrays, grad=True, rtol=None, atol=None, seed=0):
    """Run ``fn(lib, *tensors)`` on torch and aigc_course and compare output and gradients
    (summed against one random upstream gradient, through ``backward``); returns
    (ours, theirs)."""
    sample = Sample(tuple(Arg(a, grad=grad) for a in arrays))
    t_args, _, t_leaves = sample.build(torch, requires_grad=grad)
    o_args, _, o_leaves = sample.build(ac, requires_grad=grad)
    theirs, ours = fn(torch, *t_args), fn(ac, *o_args)
    assert_same(ours, theirs, rtol, atol)
    if grad and theirs.requires_grad:
        assert ours.requires_grad, "output should require grad"
        g = np.random.default_rng(seed).standard_normal(tuple(theirs.shape))
        g = g.astype(str(theirs.dtype).removeprefix("torch."))
        theirs.backward(torch.tensor(g))
        ours.backward(ac.tensor(g))
        for i, (t, o) in enumerate(zip(t_leaves, o_leaves)):
            if t.grad is None:
                assert o.grad is None or not np.any(_np(o.grad)), f"input {i}: grad"
                continue
            assert o.grad is not None, f"input {i}: torch has a gradient, ours is None"
            assert_same(o.grad, t.grad, rtol, atol, what=f"gradient of input {i}")
    return ours, theirs


__all__ = [
    "ALL",
    "FLOATS",
    "NUMERIC",
    "Arg",
    "DType",
    "ErrorInput",
    "OpInfo",
    "Sample",
    "assert_same",
    "both",
    "broadcast_pairs",
    "builtin_type",
    "check_central_differences",
    "check_error",
    "check_grad",
    "check_module",
    "check_gradgrad",
    "check_grads",
    "check_values",
    "dtype_name",
    "error_cases",
    "grad_cases",
    "gradcheck",
    "inputs",
    "make",
    "one_off",
    "parity",
    "raises_like",
    "tensors",
    "value_cases",
]


# ---------------------------------------------------------------- Hypothesis-drawn shapes


def broadcast_pairs():
    """A Hypothesis strategy for two broadcastable shapes: 0-d, size 1 and size 0 included."""

    def pair(shape):
        def other(draw_mask):
            drop, ones = draw_mask
            return tuple(1 if o else n for n, o in zip(shape[drop:], ones))

        masks = st.tuples(
            st.integers(0, len(shape)),
            st.lists(st.booleans(), min_size=len(shape), max_size=len(shape)),
        )
        return st.tuples(st.just(tuple(shape)), masks.map(other)).flatmap(
            lambda ab: st.sampled_from([ab, ab[::-1]])
        )

    return st.lists(st.integers(0, 3), min_size=0, max_size=3).flatmap(pair)
