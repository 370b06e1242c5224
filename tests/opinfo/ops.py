"""The registry of tensor ops, grouped as the package's ``ops/`` files are: elementwise,
reduction, shape, linalg, indexing, sorting. Each op is declared once; the test files
``tests/test_ops_<topic>.py`` generate their cases from these lists."""

from __future__ import annotations

import operator

import numpy as np
import torch

import aigc_course as ac

from .core import ALL, FLOATS, NUMERIC, Arg, DType, ErrorInput, OpInfo, Sample
from .samples import arg, binary, data, reduction, unary


def pick(theirs, ours):
    """``fn`` for an op spelled differently in the two libraries."""
    return lambda lib: theirs if lib is torch else ours


def op_fn(f):
    """``fn`` for an operator or a lambda that does not depend on the library."""
    return lambda lib: f


def E(*args, names=(), desc="", requires_grad=False, **kwargs) -> ErrorInput:
    return ErrorInput(Sample(tuple(args), kwargs), tuple(names), desc, requires_grad)


def A(x, dtype=None, layout="contiguous") -> Arg:
    return Arg(np.asarray(x, dtype=dtype), layout)


def ones(*shape, dtype="float32") -> Arg:
    return Arg(np.ones(shape, dtype=dtype))


# ================================================================ elementwise


UNARY_OPS = [
    OpInfo("neg", unary(), ALL, errors=lambda: [E(A([True, False]), desc="bool")]),
    OpInfo("abs", unary(), ALL),
    OpInfo("sign", unary(), ALL, gradgrad=True),
    OpInfo("exp", unary(), ALL),
    OpInfo("log", unary(low=0.2, high=4.0), ALL),
    OpInfo("sqrt", unary(low=0.2, high=4.0), ALL),
    OpInfo("sin", unary(), ALL),
    OpInfo("cos", unary(), ALL),
    OpInfo("tanh", unary(), ALL),
    OpInfo("sigmoid", unary(), ALL),
    OpInfo("relu", unary(), ALL),
    OpInfo("logical_not", unary(), ALL, grad=False),
    OpInfo("erf", unary(), ALL),
    OpInfo("nn.functional.erf", unary(), ALL, fn=pick(torch.erf, ac.nn.functional.erf)),
    OpInfo("__invert__", unary(), ("int64", "bool"), fn=op_fn(operator.invert), grad=False),
]


def _clamp_samples(dtype, rng):
    for shape, layout in [((), "contiguous"), ((5,), "contiguous"), ((3, 4), "T")]:
        x = arg(shape, dtype, rng, layout)
        yield Sample((x,), dict(min=-1))
        yield Sample((x,), dict(max=1))
        yield Sample((x, -1, 2))
    x = arg((2, 3), dtype, rng)
    yield Sample((x,), dict(min=-0.5, max=1.5))  # an int tensor clamped by floats promotes


def _clamp_errors():
    return [E(ones(2)), E(ones(2), min="1")]


CLAMP_OPS = [
    OpInfo("clamp", _clamp_samples, NUMERIC, errors=_clamp_errors),
    OpInfo("clip", _clamp_samples, NUMERIC),
]


def _broadcast_errors():
    return [
        E(ones(2, 3), ones(3, 2), names=("3", "2")),
        E(ones(2, 3, 4), ones(5, 4), names=("3", "5")),
    ]


def _pow_samples(dtype, rng):
    exponent_low = 0 if dtype == "int64" else -2  # ints to negative powers: an error case
    yield from binary(low=0.5, high=2.0, other_low=exponent_low, other_high=2, promote=False)(
        dtype, rng
    )
    for e in (2, 0.5, -1.0, 0):
        yield Sample((arg((2, 3), dtype, rng, low=0.5, high=2.0), e))


def _pow_errors():
    return [E(A([2, 3]), -1, names=())]


def _add_samples_promoting(dtype, rng):
    yield from binary(promote=True)(dtype, rng)
    if dtype != "bool":
        yield Sample((arg((2, 3), dtype, rng), arg((3,), dtype, rng)), dict(alpha=2))


def _add_samples(dtype, rng):
    yield from binary()(dtype, rng)
    if dtype != "bool":
        yield Sample((arg((2, 3), dtype, rng), arg((3,), dtype, rng)), dict(alpha=2))


BINARY_OPS = [
    OpInfo("add", _add_samples_promoting, ALL, errors=_broadcast_errors),
    OpInfo("sub", _add_samples, ALL, errors=lambda: [E(A([True]), A([True]), desc="bool-bool")]),
    OpInfo("mul", binary(promote=True), ALL, errors=_broadcast_errors),
    OpInfo("div", binary(away=0.5, promote=True), ALL, errors=_broadcast_errors),
    OpInfo("pow", _pow_samples, NUMERIC, errors=_pow_errors),
    OpInfo("maximum", binary(scalar=False, promote=True), ALL),
    OpInfo("minimum", binary(scalar=False), ALL),
    OpInfo("eq", binary(promote=True), ALL, grad=False, errors=_broadcast_errors),
    *[OpInfo(cmp, binary(), ALL, grad=False) for cmp in ("ne", "lt", "le", "gt", "ge")],
]


def _operator(symbol, f, samples, dtypes=ALL, **kw):
    return OpInfo(symbol, samples, dtypes, fn=op_fn(f), **kw)


def _both(gen_a, gen_b):
    def gen(dtype, rng):
        yield from gen_a(dtype, rng)
        yield from gen_b(dtype, rng)

    return gen


# the operators share their kernels with the named ops above: a few broadcast pairs, the
# scalar on either side (the reflected methods), and the 0-d and non-contiguous cases
OPERATOR_SHAPES = (0, 3, 7)


def _with_reflected(**kw):
    return _both(binary(shapes=OPERATOR_SHAPES, **kw), binary(reflected=True, **kw))


def _int_div_errors():
    return [E(A([1, 2]), 0, desc="int // 0"), E(A([1, 2]), A([1, 0]), desc="int % 0")]


OPERATOR_OPS = [
    _operator("+", operator.add, _with_reflected()),
    _operator(
        "-",
        operator.sub,
        _with_reflected(),
        errors=lambda: [
            E(A([True]), A([False]), desc="bool-bool"),
            E(A([True]), 2, desc="bool - int"),
            E(2, A([True]), desc="int - bool"),
            E(A(1.5, "float32"), A(True), desc="0-d float - 0-d bool"),
        ],
    ),
    _operator("*", operator.mul, _with_reflected()),
    _operator("/", operator.truediv, _with_reflected(away=0.5)),
    _operator(
        "**",
        operator.pow,
        _with_reflected(low=0.5, high=2.0, promote=False),
        NUMERIC,
        errors=lambda: [E(A([True]), A([False]), desc="bool ** bool")],
    ),
    # torch's floor_divide output requires grad but has no derivative: nothing to compare
    _operator(
        "//",
        operator.floordiv,
        _with_reflected(away=0.5),
        NUMERIC,
        grad=False,
        errors=lambda: [E(A([1, 2]), 0, desc="int // 0")],
    ),
    _operator(
        "%",
        operator.mod,
        _with_reflected(away=0.5),
        NUMERIC,
        errors=lambda: [E(A([1, 2]), A([1, 0]), desc="int % 0")],
    ),
    _operator(
        "&",
        operator.and_,
        _with_reflected(promote=True),
        ("int64", "bool"),
        grad=False,
        errors=lambda: [E(ones(2), ones(2), desc="float & float")],
    ),
    _operator(
        "|",
        operator.or_,
        _with_reflected(),
        ("int64", "bool"),
        grad=False,
        errors=lambda: [E(ones(2), A([True, False]), desc="float | bool")],
    ),
    _operator(
        "^",
        operator.xor,
        _with_reflected(),
        ("int64", "bool"),
        grad=False,
        errors=lambda: [E(ones(2), 1, desc="float ^ int")],
    ),
]


def _inplace(symbol, name, other_low=-3.0, dtypes=FLOATS):
    """x.<name>_(other) on a non-leaf copy: the recorded in-place op, values and gradients."""

    def f(x, other):
        y = x * 1  # a non-leaf, so that the in-place op is recorded
        getattr(y, name + "_")(other)
        return y

    def samples(dtype, rng):
        for sa, sb in [((), ()), ((2, 3), (3,)), ((2, 3), ())]:
            yield Sample((arg(sa, dtype, rng), arg(sb, dtype, rng, low=other_low, away=0.5)))
        yield Sample((arg((2, 3), dtype, rng), 2))

    return OpInfo(f"{name}_", samples, dtypes, fn=op_fn(f))


def _int_true_div_inplace(x):
    x.div_(2)
    return x


def _copy_into_buffer(x):
    buf = x.new_zeros(tuple(x.shape))  # a plain tensor...
    buf.copy_(x * 4)  # ...receives a value that requires grad: recorded
    return buf


def _inplace_on_leaf(x):
    x.mul_(3)
    return x


def _fill_then_add(x):
    y = x * 2
    y.fill_(1.5)  # the gradient to x is cut here...
    return y + x  # ...and flows through this branch only


def _zero_then_add(x):
    y = x * 2
    y.zero_()
    return y + x * x


def _write_into_leaf(x):
    x[0] = 1.0
    return x


def _modify_saved_output(x):
    y = x.exp()  # exp's backward uses its output...
    y.add_(1)  # ...which is changed in place before backward: the version counter objects
    y.sum().backward()
    return y


INPLACE_OPS = [
    OpInfo(
        "leaf[0] = 1",
        lambda dt, rng: [],
        fn=op_fn(_write_into_leaf),
        errors=lambda: [E(ones(2), requires_grad=True, desc="a leaf that requires grad")],
    ),
    OpInfo(
        "saved output changed",
        lambda dt, rng: [],
        fn=op_fn(_modify_saved_output),
        errors=lambda: [E(ones(2), requires_grad=True, desc="exp's output changed in place")],
    ),
    OpInfo("copy_", unary(), FLOATS, fn=op_fn(_copy_into_buffer)),
    OpInfo("fill_", unary(), FLOATS, fn=op_fn(_fill_then_add)),
    OpInfo("zero_", unary(), FLOATS, fn=op_fn(_zero_then_add)),
    OpInfo(
        "leaf.mul_",
        lambda dt, rng: [],
        fn=op_fn(_inplace_on_leaf),
        errors=lambda: [E(ones(2), requires_grad=True, desc="a leaf that requires grad")],
    ),
    _inplace("+=", "add"),
    _inplace("-=", "sub"),
    _inplace("*=", "mul"),
    _inplace("/=", "div"),
    OpInfo(
        "int.div_",
        lambda dt, rng: [],
        fn=op_fn(_int_true_div_inplace),
        errors=lambda: [E(A([1, 2]), desc="int /= 2")],
    ),
]


def _where_samples(dtype, rng):
    for sc, sx, sy in [((2, 3), (2, 3), (2, 3)), ((3,), (2, 1), ()), ((), (4,), (4,))]:
        cond = Arg(data(sc, "bool", rng))
        yield Sample((cond, arg(sx, dtype, rng), arg(sy, dtype, rng)))
    cond = Arg(data((2, 3), "bool", rng))
    yield Sample((cond, arg((2, 3), dtype, rng), 0.0))  # a scalar branch


def _masked_fill_samples(dtype, rng):
    value = {"bool": True, "int64": 7}.get(dtype, -1.5)
    for sx, sm, layout in [
        ((2, 3), (2, 3), "contiguous"),
        ((2, 3), (3,), "contiguous"),
        ((3, 4), (1, 4), "T"),
        ((), (), "contiguous"),
    ]:
        yield Sample((arg(sx, dtype, rng, layout), Arg(data(sm, "bool", rng)), value))
    yield Sample(
        (arg((2, 3), dtype, rng), Arg(data((3,), "bool", rng)), Arg(np.array(value, dtype=dtype)))
    )


SELECT_OPS = [
    OpInfo(
        "where",
        _where_samples,
        ALL,
        method=False,
        errors=lambda: [E(A([1, 0]), ones(2), ones(2), desc="int condition")],
    ),
    OpInfo("Tensor.where", _where_samples, ALL, fn=op_fn(lambda c, x, y: x.where(c, y))),
    OpInfo(
        "masked_fill",
        _masked_fill_samples,
        ALL,
        errors=lambda: [
            E(ones(2), A([1, 0]), 0.0, desc="int mask"),
            E(ones(2), A([True, False, True]), 0.0, names=("3",)),
        ],
    ),
]


def _allclose_samples(dtype, rng):
    x = data((2, 3), dtype, rng)
    yield Sample((Arg(x), Arg(x + 1e-7)))
    yield Sample((Arg(x), Arg(x + 1e-3)))
    yield Sample((Arg(x), Arg(x + 1e-3)), dict(atol=1e-2))
    yield Sample((Arg(x), Arg(x * (1 + 1e-4))), dict(rtol=1e-3, atol=0.0))


ALLCLOSE = [
    OpInfo(
        "allclose",
        _allclose_samples,
        FLOATS,
        grad=False,
        method=False,
        errors=lambda: [E(ones(2), ones(3), names=())],
    ),
]


def _method_call(name, *fixed, **fixed_kw):
    """``fn`` for ``x.<name>(*fixed, ...)``; DType arguments become the library's dtype."""

    def fn(lib):
        def call(x, *args, **kwargs):
            resolved = [getattr(lib, a.name) if isinstance(a, DType) else a for a in fixed]
            return getattr(x, name)(*resolved, *args, **fixed_kw, **kwargs)

        return call

    return fn


def _small(dtype, rng):
    for shape, layout in [((), "contiguous"), ((2, 3), "contiguous"), ((3, 2), "T")]:
        yield Sample((arg(shape, dtype, rng, layout),))


def _one(dtype, rng):
    yield Sample((arg((2, 3), dtype, rng, "T"),))


# casts to an integer or bool type are not differentiable: no second derivative to compare
CONVERSION = [
    *[
        OpInfo(f"to({target})", _small, ALL, fn=_method_call("to", DType(target)))
        for target in ("float32", "float64")
    ],
    *[
        OpInfo(f"to({target})", _one, ALL, fn=_method_call("to", DType(target)), gradgrad=False)
        for target in ("int64", "bool", "int32")
    ],
    *[OpInfo(name, _small, ALL, function=False) for name in ("float", "double", "half")],
    *[OpInfo(name, _one, ALL, function=False, gradgrad=False) for name in ("long", "int", "bool")],
    OpInfo(
        "type_as",
        lambda dt, rng: [Sample((arg((2, 3), dt, rng), Arg(np.zeros(2, "float64"))))],
        ALL,
        function=False,
    ),
    OpInfo(
        "item",
        lambda dt, rng: [Sample((arg((), dt, rng),)), Sample((arg((1, 1), dt, rng),))],
        ALL,
        function=False,
        grad=False,
        errors=lambda: [E(ones(2), names=("2",))],
    ),
    OpInfo("tolist", _small, ALL, function=False, grad=False),
    OpInfo(
        "sum_to_size",
        lambda dt, rng: [
            Sample((arg((2, 3), dt, rng), 1, 3)),
            Sample((arg((2, 3), dt, rng), (3,))),
        ],
        FLOATS,
        function=False,
        errors=lambda: [E(ones(2, 3), 4, names=("4",))],
    ),
    OpInfo(
        "new_zeros",
        lambda dt, rng: [Sample((arg((2,), dt, rng), (2, 3)))],
        ALL,
        function=False,
        grad=False,
    ),
    OpInfo(
        "new_ones",
        lambda dt, rng: [Sample((arg((2,), dt, rng), 3))],
        ALL,
        function=False,
        grad=False,
    ),
    OpInfo(
        "new_full",
        lambda dt, rng: [Sample((arg((2,), dt, rng), (2, 2), 3))],
        ALL,
        function=False,
        grad=False,
    ),
    OpInfo(
        "new_tensor",
        lambda dt, rng: [Sample((arg((2,), dt, rng), [1, 2]))],
        ALL,
        function=False,
        grad=False,
    ),
    OpInfo("detach", _small, FLOATS, grad=False),
    OpInfo("detach_", _small, FLOATS, fn=op_fn(lambda x: (x * 2).detach_()), grad=False),
    OpInfo(
        "new_empty",  # its values are whatever the memory held: compared once filled
        lambda dt, rng: [Sample((arg((2,), dt, rng), (2, 3))), Sample((arg((2,), dt, rng), 3))],
        ALL,
        fn=op_fn(lambda x, size: x.new_empty(size).fill_(0)),
        grad=False,
    ),
]

ELEMENTWISE = (
    CONVERSION
    + ALLCLOSE
    + UNARY_OPS
    + CLAMP_OPS
    + BINARY_OPS
    + OPERATOR_OPS
    + INPLACE_OPS
    + SELECT_OPS
)


# ================================================================ reduction


def _dim_errors(*extra):
    return lambda: [
        E(ones(2, 3), dim=2, names=("2",)),
        E(ones(2, 3), dim=-3, names=("-3",)),
        *extra,
    ]


def _sum_samples(dtype, rng):
    yield from reduction(dims="tuple")(dtype, rng)
    yield Sample((arg((2, 3), dtype, rng),), dict(dim=()))  # () reduces everything
    if dtype != "bool":
        yield Sample((arg((2, 3), dtype, rng),), dict(dim=1, dtype=DType("float64")))


def _mean_samples(dtype, rng):
    yield from reduction(dims="tuple")(dtype, rng)
    yield Sample((arg((2, 3), dtype, rng),), dict(dim=()))


def _minmax_samples(dtype, rng):
    yield from reduction()(dtype, rng)


def _var_samples(dtype, rng):
    yield from reduction(
        dims="tuple",
        shapes=[((5,), "contiguous"), ((2, 3), "contiguous"), ((4, 3), "T"), ((2, 3, 2), "slice")],
    )(dtype, rng)
    x = arg((3, 4), dtype, rng)
    yield Sample((x,), dict(dim=1, unbiased=False))
    yield Sample((x,), dict(dim=0, correction=0))
    yield Sample((x,), dict(dim=-1, correction=2, keepdim=True))
    yield Sample((x, 1))  # dim positionally
    yield Sample((Arg(data((1,), dtype, rng), grad=False),))  # one element: nan, a warning


def _logsumexp_samples(dtype, rng):
    for shape, layout in [
        ((), "contiguous"),
        ((5,), "contiguous"),
        ((2, 3), "contiguous"),
        ((4, 3), "T"),
        ((0, 3), "contiguous"),
    ]:
        x = arg(shape, dtype, rng, layout)
        yield Sample((x, 0))
        yield Sample((x,), dict(dim=-1, keepdim=True))
    if dtype in FLOATS:
        inf = np.inf
        yield Sample(
            (A([[0.0, -inf, 1.0], [-inf, -inf, -inf], [inf, 1.0, 2.0]], dtype), 1),
            desc="±inf rows",
            central=False,
        )
        yield Sample((A([[1e4, 1e4 + 1, -1e4]], dtype), 1), desc="huge")


def _softmax_samples(dtype, rng):
    for shape, layout in [
        ((), "contiguous"),
        ((5,), "contiguous"),
        ((2, 3), "contiguous"),
        ((4, 3), "T"),
        ((2, 3, 2), "slice"),
        ((0, 3), "contiguous"),
        ((2, 0), "contiguous"),
    ]:
        x = arg(shape, dtype, rng, layout, low=-5, high=5)
        yield Sample((x, -1))
        if len(shape) >= 2:
            yield Sample((x,), dict(dim=0))
    if dtype in FLOATS:
        yield Sample((A([[1e4, 1e4 + 1, -1e4]], dtype), 1), desc="huge")
        yield Sample((A([[0.0, -np.inf, 1.0]], dtype), 1), desc="-inf", central=False)


def _cumsum_samples(dtype, rng):
    for shape, layout in [
        ((), "contiguous"),
        ((5,), "contiguous"),
        ((2, 3), "contiguous"),
        ((4, 3), "T"),
        ((2, 3, 2), "slice"),
        ((0, 3), "contiguous"),
    ]:
        x = arg(shape, dtype, rng, layout)
        yield Sample((x, 0))
        if len(shape) >= 2:
            yield Sample((x,), dict(dim=-1))


REDUCTION = [
    OpInfo("sum", _sum_samples, ALL, errors=_dim_errors(), tol={"float32": (1e-5, 1e-5)}),
    OpInfo(
        "mean",
        _mean_samples,
        ALL,
        errors=_dim_errors(E(A([1, 2]), desc="int64")),
        tol={"float32": (1e-5, 1e-5)},
    ),
    OpInfo(
        "max",
        _minmax_samples,
        ALL,
        errors=_dim_errors(E(Arg(np.ones((0,), "float32")), desc="empty")),
    ),
    OpInfo(
        "min",
        _minmax_samples,
        ALL,
        errors=_dim_errors(E(Arg(np.ones((0,), "float32")), desc="empty")),
    ),
    OpInfo(
        "argmax",
        reduction(),
        NUMERIC,
        grad=False,
        errors=_dim_errors(E(Arg(np.ones((0,), "float32")), desc="empty")),
    ),
    OpInfo("argmin", reduction(), NUMERIC, grad=False, errors=_dim_errors()),
    OpInfo(
        "var",
        _var_samples,
        NUMERIC,
        errors=_dim_errors(E(A([1, 2]), desc="int64")),
        tol={"float32": (1e-5, 1e-5)},
        grad_tol={"float32": (1e-4, 1e-5)},
    ),
    OpInfo(
        "std",
        _var_samples,
        NUMERIC,
        errors=_dim_errors(),
        tol={"float32": (1e-5, 1e-5)},
        grad_tol={"float32": (1e-4, 1e-5)},
    ),
    OpInfo(
        "logsumexp",
        _logsumexp_samples,
        NUMERIC,
        errors=lambda: [E(ones(2, 3), 2, names=("2",))],
        tol={"float32": (1e-5, 1e-5)},
        grad_tol={"float32": (1e-4, 1e-4)},
    ),
    OpInfo("all", reduction(), ALL, grad=False),
    OpInfo("any", reduction(), ALL, grad=False),
    OpInfo(
        "softmax",
        _softmax_samples,
        FLOATS,
        errors=lambda: [E(ones(2, 3), 2, names=("2",)), E(A([1, 2]), 0, desc="int64")],
        grad_tol={"float32": (1e-5, 1e-5)},
    ),
    OpInfo(
        "log_softmax",
        _softmax_samples,
        FLOATS,
        errors=lambda: [E(ones(2, 3), -3, names=("-3",)), E(A([1, 2]), 0, desc="int64")],
    ),
    OpInfo(
        "cumsum",
        _cumsum_samples,
        ALL,
        errors=lambda: [E(ones(2, 3), 2, names=("2",))],
        tol={"float32": (1e-5, 1e-5)},
    ),
]


# ================================================================ shape


def shape_samples(*calls):
    """Samples x.<op>(*args): each call is (shape, args, kwargs) or (shape, layout, args,
    kwargs)."""

    def gen(dtype, rng):
        for c in calls:
            shape, layout, args, kwargs = c if len(c) == 4 else (c[0], "contiguous", c[1], c[2])
            yield Sample((arg(shape, dtype, rng, layout), *args), dict(kwargs))

    return gen


V = dict(view=True)

SHAPE = [
    OpInfo(
        "reshape",
        shape_samples(
            ((2, 3), ((6,),), {}),
            ((2, 3), ((-1, 2),), {}),
            ((), ((1, 1),), {}),
            ((0, 3), ((3, -1),), {}),
            ((3, 4), "T", ((4, 3),), {}),
            ((2, 3), ((),), {}),
        ),
        ALL,
        errors=lambda: [
            E(ones(5, 3), (-1, 12), names=("[-1, 12]", "15")),
            E(ones(6), (-1, -1), names=()),
        ],
    ),
    OpInfo(
        "reshape(*shape)",
        shape_samples(((2, 3), (6,), {}), ((2, 3), (-1, 2), {}), ((), (1, 1), {})),
        ALL,
        fn=op_fn(lambda x, *shape: x.reshape(*shape)),
        errors=lambda: [
            E(ones(5, 3), (-1, 12), names=("[-1, 12]", "15")),
            E(ones(6), (-1, -1), names=()),
        ],
    ),
    OpInfo(
        "view",
        shape_samples(
            ((2, 3), (6,), {}),
            ((2, 3), (-1, 2), {}),
            ((), (1,), {}),
            ((0, 3), (3, -1), {}),
            ((2, 3, 4), (2, 12), {}),
            ((2, 3), ((3, 2),), {}),
        ),
        ALL,
        function=False,
        **V,
        errors=lambda: [
            E(ones(5, 3), -1, 12, names=("[-1, 12]", "15")),
            E(Arg(np.ones((3, 2), "float32"), "T"), 6, desc="transposed"),
        ],
    ),
    OpInfo(
        "flatten",
        shape_samples(
            ((2, 3, 4), (), {}),
            ((2, 3, 4), (1,), {}),
            ((2, 3, 4), (0, 1), {}),
            ((), (), {}),
            ((3, 4), "T", (), {}),
            ((2, 3, 4), (), dict(start_dim=-2)),
        ),
        ALL,
        errors=lambda: [E(ones(2, 3), 3, names=("3",)), E(ones(2, 3, 4), 2, 1, names=())],
    ),
    OpInfo(
        "squeeze",
        shape_samples(
            ((2, 1, 3), (), {}),
            ((2, 1, 3), (1,), {}),
            ((2, 1, 3), (0,), {}),
            ((1,), (), {}),
            ((), (), {}),
            ((1, 1), ((0, 1),), {}),
            ((1, 4), "T", (0,), {}),
        ),
        ALL,
        **V,
        errors=lambda: [E(ones(2, 3), 2, names=("2",))],
    ),
    OpInfo(
        "unsqueeze",
        shape_samples(
            ((2, 3), (0,), {}),
            ((2, 3), (-1,), {}),
            ((2, 3), (2,), {}),
            ((), (0,), {}),
            ((3, 4), "T", (1,), {}),
        ),
        ALL,
        **V,
        errors=lambda: [E(ones(2, 3), 3, names=("3",)), E(ones(2, 3), -4, names=("-4",))],
    ),
    OpInfo(
        "transpose",
        shape_samples(
            ((2, 3), (0, 1), {}),
            ((2, 3, 4), (-1, 0), {}),
            ((2, 3), (1, 1), {}),
            ((), (0, -1), {}),
            ((3, 4), "T", (0, 1), {}),
        ),
        ALL,
        **V,
        errors=lambda: [E(ones(2, 3), 0, 5, names=("5",))],
    ),
    OpInfo(
        "permute",
        shape_samples(
            ((2, 3, 4), ((2, 0, 1),), {}),
            ((2, 3), ((-1, 0),), {}),
            ((), ((),), {}),
            ((3, 4), "T", ((1, 0),), {}),
        ),
        ALL,
        **V,
        errors=lambda: [E(ones(2, 3), (0, 0), names=()), E(ones(2, 3), (0,), names=())],
    ),
    OpInfo(
        "t",
        shape_samples(((2, 3), (), {}), ((3,), (), {}), ((), (), {}), ((3, 4), "T", (), {})),
        ALL,
        **V,
        errors=lambda: [E(ones(2, 3, 4), names=("3",))],
    ),
    OpInfo(
        "T",
        shape_samples(((2, 3), (), {}), ((3,), (), {}), ((), (), {})),
        ALL,
        fn=op_fn(lambda x: x.T),
        **V,
    ),
    OpInfo(
        "permute(*dims)",
        shape_samples(((2, 3, 4), (1, 2, 0), {})),
        ALL,
        fn=op_fn(lambda x, *dims: x.permute(*dims)),
        **V,
    ),
    OpInfo(
        "mT",
        shape_samples(((2, 3), (), {}), ((4, 2, 3), (), {})),
        ALL,
        fn=op_fn(lambda x: x.mT),
        **V,
    ),
    OpInfo(
        "expand",
        shape_samples(
            ((3, 1), (3, 4), {}),
            ((3, 1), (2, 3, -1), {}),
            ((), (2,), {}),
            ((1,), ((0,),), {}),
            ((1, 4), "T", (3, 4), {}),
        ),
        ALL,
        function=False,
        **V,
        errors=lambda: [E(ones(3, 2), 3, 4, names=("4",)), E(ones(3, 1), 4, names=())],
    ),
    OpInfo(
        "expand(input, *sizes)",  # a function in aigc_course; torch has only the method
        shape_samples(((3, 1), (3, 4), {}), ((), (2,), {}), ((1, 4), "T", (3, 4), {})),
        ALL,
        fn=pick(lambda x, *sizes: x.expand(*sizes), ac.expand),
        **V,
    ),
    OpInfo(
        "expand_as",
        lambda dt, rng: [Sample((arg((3, 1), dt, rng), Arg(np.zeros((2, 3, 4)))))],
        ALL,
        function=False,
        **V,
    ),
    OpInfo(
        "split",
        shape_samples(
            ((5, 2), (2,), {}),
            ((5, 2), ([1, 4],), {}),
            ((2, 5), (3, 1), {}),
            ((0, 2), (2,), {}),
            ((5, 2), (5,), {}),
        ),
        ALL,
        **V,
        errors=lambda: [E(ones(3), 0, names=()), E(ones(5), [1, 2], names=("5",))],
    ),
    OpInfo(
        "chunk",
        shape_samples(((5, 2), (2,), {}), ((5, 2), (3,), {}), ((2, 6), (4, 1), {})),
        ALL,
        **V,
        errors=lambda: [E(ones(3), 0, names=("0",))],
    ),
    OpInfo(
        "contiguous",
        shape_samples(((2, 3), (), {}), ((3, 4), "T", (), {}), ((2, 4), "slice", (), {})),
        ALL,
        function=False,
    ),
    OpInfo("clone", unary(), ALL),
    OpInfo(
        "narrow",
        shape_samples(
            ((5, 2), (0, 1, 3), {}),
            ((2, 5), (-1, 0, 2), {}),
            ((2, 5), (1, 5, 0), {}),
            ((4, 3), "T", (1, 1, 2), {}),
        ),
        ALL,
        **V,
        errors=lambda: [E(ones(3), 0, 2, 2, names=("2",)), E(ones(3), 2, 0, 1, names=("2",))],
    ),
    OpInfo(
        "tril",
        shape_samples(
            ((3, 4), (), {}),
            ((3, 4), (1,), {}),
            ((4, 3), (), dict(diagonal=-1)),
            ((2, 3, 3), (), {}),
            ((4, 3), "T", (), {}),
            ((0, 3), (), {}),
        ),
        ALL,
        errors=lambda: [E(ones(3), names=())],
    ),
    OpInfo(
        "triu",
        shape_samples(
            ((3, 4), (), {}),
            ((3, 4), (-1,), {}),
            ((4, 3), (), dict(diagonal=2)),
            ((2, 3, 3), (), {}),
            ((4, 3), "T", (), {}),
        ),
        ALL,
        errors=lambda: [E(ones(3), names=())],
    ),
    OpInfo(
        "reshape_as",
        lambda dt, rng: [Sample((arg((2, 3), dt, rng), Arg(np.zeros((3, 2)))))],
        ALL,
        function=False,
    ),
    OpInfo(
        "view_as",
        lambda dt, rng: [Sample((arg((2, 3), dt, rng), Arg(np.zeros((6,)))))],
        ALL,
        function=False,
        **V,
    ),
]


def _list_samples(dtype, rng, *, stack):
    shapes = [[(2, 3), (2, 3)], [(2, 3), (2, 3), (2, 3)], [(3,)], [(0,), (0,)]]
    if not stack:
        shapes += [[(2, 3), (1, 3)], [(0,), (3,)]]
    for group in shapes:
        tensors = [arg(s, dtype, rng) for s in group]
        yield Sample((tensors,))
        yield Sample((tensors,), dict(dim=-1))
    layouts = [arg((3, 2), dtype, rng, "T"), arg((3, 2), dtype, rng, "slice")]
    yield Sample((layouts, 1))
    yield Sample(([arg((2, 3), dtype, rng), arg((2, 3), "float64", rng)],), desc="mixed dtypes")


def _cat_errors():
    return [
        E([Arg(np.array(1.0, "float32")), Arg(np.array(2.0, "float32"))], names=("0",), desc="0-d"),
        E([ones(2, 3), ones(3, 2)], names=("3",), desc="size mismatch"),
        E([ones(2, 3), ones(2, 3)], dim=2, names=("2",)),
        E([[1.0, 2.0]], desc="a list element"),
        E([], desc="empty list"),
    ]


def _stack_errors():
    return [
        E([ones(2, 3), ones(3, 2)], names=(), desc="shape mismatch"),
        E([ones(2)], dim=2, names=("2",)),
        E([], desc="empty list"),
    ]


SHAPE += [
    OpInfo(
        "cat",
        lambda dt, rng: _list_samples(dt, rng, stack=False),
        ALL,
        method=False,
        errors=_cat_errors,
    ),
    OpInfo(
        "stack",
        lambda dt, rng: _list_samples(dt, rng, stack=True),
        ALL,
        method=False,
        errors=_stack_errors,
    ),
]


# ================================================================ linalg

MATMUL_SHAPES = [
    ((5, 3), (3, 4)),
    ((3,), (3, 4)),
    ((5, 3), (3,)),
    ((3,), (3,)),
    ((2, 5, 3), (3, 4)),
    ((2, 5, 3), (2, 3, 4)),
    ((2, 1, 5, 3), (4, 3, 2)),
    ((0, 3), (3, 2)),
    ((2, 0), (0, 3)),
]


def _matmul_samples(dtype, rng):
    for sa, sb in MATMUL_SHAPES:
        yield Sample((arg(sa, dtype, rng), arg(sb, dtype, rng)))
    yield Sample((arg((4, 3), dtype, rng, "T"), arg((3, 2), dtype, rng, "slice")))


def _matmul_errors():
    return [
        E(ones(5, 3), ones(4, 2), names=("5x3", "4x2")),
        E(ones(3), ones(4, 2), names=()),
        E(ones(2, 3), ones(4), names=()),
        E(ones(3), ones(4), names=("3", "4")),
        E(ones(2, 5, 3), ones(2, 4, 2), names=("[2, 5, 3]", "[2, 4, 2]")),
        E(Arg(np.array(1.0, "float32")), ones(2), desc="0-d"),
        E(ones(2, 2), ones(2, 2, dtype="float64"), desc="dtype mismatch"),
        E(ones(2, 2, dtype="bool"), ones(2, 2, dtype="bool"), desc="bool"),
    ]


LINALG = [
    OpInfo(
        "matmul",
        _matmul_samples,
        NUMERIC,
        errors=_matmul_errors,
        tol={"float32": (1e-5, 1e-5)},
        grad_tol={"float32": (1e-5, 1e-5)},
    ),
    OpInfo(
        "@",
        _matmul_samples,
        NUMERIC,
        fn=op_fn(operator.matmul),
        tol={"float32": (1e-5, 1e-5)},
        grad_tol={"float32": (1e-5, 1e-5)},
    ),
]


# ================================================================ indexing


def _index_samples(dtype, rng):
    """x[index] for the kinds of index torch accepts; index tensors are Args."""
    x = lambda layout="contiguous": arg((4, 3), dtype, rng, layout)  # noqa: E731
    for idx in [
        1,
        (-1, -2),
        (slice(1, 3), slice(None)),
        (slice(None, None, 2), slice(1, None, 2)),
        (None, slice(None), None),
        (Ellipsis, 1),
        (slice(None), 1),
        Arg(np.array([0, 2, 2])),
        [3, 0],
        (Arg(np.array([0, 3])), Arg(np.array([1, 2]))),
        Arg(np.array([True, False, True, False])),
        (slice(None), Arg(np.array([[0, 1], [2, 0]]))),
        slice(5, 10),
        slice(1, 1),
        Arg(np.array(-1)),
        Arg(np.array([-1, 0, -4])),
        (Ellipsis, None),
        (Arg(np.array([[0], [3]])), Arg(np.array([0, 2]))),
    ]:
        yield Sample((x(), idx))
    yield Sample((x("T"), (slice(None), 1)))
    yield Sample((x("slice"), (Arg(np.array([1, 0])), slice(None))))
    mask = Arg(data((4, 3), "bool", rng))
    yield Sample((x(), mask), desc="mask")
    x3 = arg((3, 4, 5), dtype, rng)
    yield Sample((x3, (0, slice(None), [0, 1])), desc="[0, :, [0, 1]]")  # torch, not numpy
    yield Sample((x3, (slice(None), [0, 2], slice(1, 3))), desc="[:, [0, 2], 1:3]")
    yield Sample((x3, ([0, 1], slice(None), [1, 2])), desc="[[0, 1], :, [1, 2]]")
    yield Sample((arg((), dtype, rng), Ellipsis), desc="0-d[...]")
    yield Sample((arg((), dtype, rng), None), desc="0-d[None]")


def _index_errors():
    x = ones(4, 3)
    return [
        E(x, 4, names=("4",)),
        E(x, (slice(None), 3), names=("3",)),
        E(x, Arg(np.array([0, 7])), names=("7",)),
        E(x, (0, 0, 0), names=()),
        E(x, Arg(np.array([0.0])), desc="float index"),
        E(x, Arg(np.array([True, False])), names=("2", "4"), desc="mask length"),
        E(x, slice(None, None, -1), desc="negative step"),
        E(x, Arg(np.array([-5])), names=("-5",)),
    ]


def _setitem(x, idx, value):
    y = x.clone()  # a non-leaf copy; the write is recorded (torch's CopySlices)
    y[idx] = value
    return y


def _setitem_samples(dtype, rng):
    x = lambda: arg((4, 3), dtype, rng)  # noqa: E731
    yield Sample((x(), 1, arg((3,), dtype, rng)))
    yield Sample((x(), (slice(None), 0), arg((), dtype, rng)))
    yield Sample((x(), Arg(data((4, 3), "bool", rng)), {"bool": True, "int64": 5}.get(dtype, 0.5)))
    yield Sample((x(), Arg(np.array([0, 2])), arg((2, 3), dtype, rng)))
    yield Sample((x(), (slice(1, 3), slice(None, 2)), arg((2, 2), dtype, rng)))


def _gather_samples(dtype, rng):
    x = arg((3, 4), dtype, rng)
    yield Sample((x, 1, Arg(rng.integers(0, 4, (3, 2)))))
    yield Sample((x, 0, Arg(rng.integers(0, 3, (2, 4)))))
    yield Sample((x, -1, Arg(rng.integers(0, 4, (2, 3)))))  # index smaller than input
    yield Sample((arg((4, 3), dtype, rng, "T"), 0, Arg(rng.integers(0, 4, (2, 3)))))
    yield Sample((arg((5,), dtype, rng), 0, Arg(np.array([4, 0, 0]))))  # repeated indices
    yield Sample((arg((2, 3), dtype, rng), 1, Arg(np.zeros((2, 0), np.int64))))
    yield Sample((arg((), dtype, rng), 0, Arg(np.array(0))))


def _gather_errors():
    x = ones(2, 3)
    return [
        E(x, 1, Arg(np.array([[5]])), names=("5",)),
        E(x, 1, Arg(np.array([[-4]])), names=("-4",)),
        E(x, 2, Arg(np.array([[0]])), names=("2",)),
        E(x, 1, Arg(np.array([[0.0]])), desc="float index"),
        E(x, 1, Arg(np.array([0])), desc="index rank"),
    ]


def _scatter_samples(dtype, rng):
    x = arg((3, 4), dtype, rng)
    idx = np.stack([rng.permutation(4)[:2] for _ in range(3)])  # distinct per row: no ties
    yield Sample((x, 1, Arg(idx), arg((3, 2), dtype, rng)))
    # src larger than index: torch's own backward fails for src ("ScatterBackward0 returned an
    # invalid gradient"), so only self's gradient has an oracle
    yield Sample((x, 1, Arg(idx), Arg(data((3, 3), dtype, rng), grad=False)))
    yield Sample((x, 0, Arg(np.array([[2, 0, 1, 0]])), arg((1, 4), dtype, rng)))
    yield Sample((x, 1, Arg(idx)), dict(value={"bool": True, "int64": 3}.get(dtype, 2.5)))
    yield Sample((arg((4, 3), dtype, rng, "T"), -1, Arg(idx[:, :1]), arg((3, 1), dtype, rng)))


def _scatter_errors():
    x = ones(2, 3)
    return [
        E(x, 1, Arg(np.array([[3]])), ones(1, 1), names=("3",)),
        E(x, 1, Arg(np.array([[0]])), ones(1, 1, dtype="float64"), desc="src dtype"),
        E(x, 1, Arg(np.array([[0, 1, 2, 0]])), ones(1, 1), desc="index larger than src"),
    ]


INDEXING = [
    OpInfo("__getitem__", _index_samples, ALL, fn=op_fn(operator.getitem), errors=_index_errors),
    OpInfo(
        "__setitem__",
        _setitem_samples,
        ALL,
        fn=op_fn(_setitem),
        errors=lambda: [E(ones(4, 3), 5, 1.0, names=("5",)), E(ones(4, 3), 0, ones(4), names=())],
    ),
    OpInfo("gather", _gather_samples, ALL, errors=_gather_errors),
    OpInfo("scatter", _scatter_samples, ALL, errors=_scatter_errors),
]


# ================================================================ sorting


def _distinct(shape, dtype, rng, layout="contiguous"):
    """Values without ties (so that the order, and so the indices, are unique)."""
    n = int(np.prod(shape))
    if dtype == "bool":
        return arg(shape, dtype, rng, layout)
    values = rng.permutation(n).reshape(shape) - n // 2
    if dtype in FLOATS:
        values = values + rng.uniform(0.1, 0.9, shape)
    return Arg(values.astype(dtype), layout)


SORT_SHAPES = [
    ((5,), "contiguous"),
    ((3, 4), "contiguous"),
    ((4, 3), "T"),
    ((2, 3, 4), "slice"),
    ((), "contiguous"),
    ((0,), "contiguous"),
]


def _sort_samples(dtype, rng):
    for shape, layout in SORT_SHAPES:
        x = _distinct(shape, dtype, rng, layout)
        yield Sample((x,))
        if len(shape) >= 2:
            yield Sample((x,), dict(dim=0, descending=True))
    ties = Arg(np.array([3, 1, 3, 1, 2], dtype), grad=False)  # ties: no derivative
    yield Sample((ties,), dict(stable=True), desc="ties, stable")
    yield Sample((ties,), dict(stable=True, descending=True), desc="ties, stable, descending")


def _topk_samples(dtype, rng):
    for shape, layout in SORT_SHAPES[:4]:
        x = _distinct(shape, dtype, rng, layout)
        yield Sample((x, 2))
        yield Sample((x, 1), dict(dim=0, largest=False))
        yield Sample((x, shape[-1]), dict(sorted=True))
    yield Sample((_distinct((5,), dtype, rng), 0))
    yield Sample((_distinct((), dtype, rng), 1))


def _multinomial_samples(dtype, rng):
    one_hot = np.eye(4, dtype=dtype)[[2, 0, 3]]  # one possible outcome per row: deterministic
    yield Sample((Arg(one_hot), 1))
    yield Sample((Arg(one_hot[0] * 5), 1))
    yield Sample((Arg(one_hot), 3), dict(replacement=True))
    two = np.array([[0, 1, 0, 1]], dtype=dtype)
    yield Sample((Arg(two), 2), desc="without replacement: both nonzero indices")


def _sorted_multinomial(lib):
    """multinomial is random; a deterministic view of it is compared: sorted samples of a
    distribution whose outcomes are forced."""
    return lambda p, n, **kw: lib.multinomial(p, n, **kw).sort(dim=-1)[0]


SORTING = [
    OpInfo("sort", _sort_samples, NUMERIC, errors=lambda: [E(ones(2, 3), dim=2, names=("2",))]),
    OpInfo(
        "argsort",
        _sort_samples,
        NUMERIC,
        grad=False,
        errors=lambda: [E(ones(2, 3), dim=-3, names=("-3",))],
    ),
    OpInfo(
        "topk",
        _topk_samples,
        NUMERIC,
        errors=lambda: [
            E(ones(3), 4, desc="k > size"),
            E(ones(3), -1, desc="k < 0"),
            E(ones(2, 3), 1, dim=2, names=("2",)),
        ],
    ),
    OpInfo(
        "multinomial",
        _multinomial_samples,
        FLOATS,
        fn=_sorted_multinomial,
        grad=False,
        errors=lambda: [
            E(A([-1.0, 2.0]), 1, desc="negative"),
            E(A([0.0, 0.0]), 1, desc="all zero"),
            E(A([0.0, 1.0]), 3, desc="too many without replacement"),
            E(A([1, 2]), 1, desc="int64"),
            E(ones(2, 2, 2), 1, names=("3",), desc="3-d"),
        ],
    ),
    OpInfo(
        "Tensor.multinomial",
        _multinomial_samples,
        FLOATS,
        fn=lambda lib: lambda p, n, **kw: p.multinomial(n, **kw).sort(dim=-1)[0],
        grad=False,
    ),
]

ALL_OPS = ELEMENTWISE + REDUCTION + SHAPE + LINALG + INDEXING + SORTING


# ================================================================ named forms, in-place forms


def _in_place(op: OpInfo, dtypes=None) -> OpInfo:
    """``x.<name>_(...)`` on a clone (a non-leaf when x requires grad): recorded in place."""
    name = op.name + "_"

    def fn(lib):
        def call(x, *args, **kwargs):
            y = x.clone()
            getattr(y, name)(*args, **kwargs)
            return y

        return call

    return OpInfo(name, op.samples, dtypes or op.dtypes, fn=fn, grad=op.grad)


_FLOORDIV = binary(away=0.5, shapes=(0, 2, 3, 7))
NAMED = [
    OpInfo("floor_divide", _FLOORDIV, NUMERIC, grad=False),
    OpInfo("remainder", _FLOORDIV, NUMERIC),
    OpInfo("true_divide", binary(away=0.5, shapes=(0, 2, 7)), ALL, method=False),
    *[
        OpInfo(name, binary(shapes=(0, 2, 3, 7)), ("int64", "bool"), grad=False)
        for name in ("bitwise_and", "bitwise_or", "bitwise_xor")
    ],
    OpInfo("bitwise_not", unary(), ("int64", "bool"), grad=False),
    OpInfo(
        "logical_and",
        binary(shapes=(0, 2, 3), scalar=False),
        ALL,
        grad=False,
        errors=lambda: [E(ones(2), 2.5, desc="a Python scalar")],
    ),
    OpInfo("logical_or", binary(shapes=(0, 2, 3), scalar=False), ALL, grad=False),
    OpInfo(
        "cumprod",
        lambda dt, rng: [
            Sample((arg((5,), dt, rng, low=0.5, high=2), 0)),
            Sample((arg((2, 3), dt, rng, low=0.5, high=2),), dict(dim=-1)),
            Sample((arg((4, 3), dt, rng, "T", low=-2, high=2), 0)),
            Sample((arg((), dt, rng), 0)),
        ],
        ALL,
        errors=lambda: [E(ones(2, 3), 2, names=("2",))],
    ),
]


def _scatter_add_samples(dtype, rng):
    x = arg((3, 4), dtype, rng)
    yield Sample((x, 1, Arg(np.array([[0, 0], [1, 3], [2, 2]])), arg((3, 2), dtype, rng)))
    yield Sample((x, 0, Arg(np.array([[2, 0, 1, 0]])), arg((1, 4), dtype, rng)))
    yield Sample(
        (arg((4, 3), dtype, rng, "T"), -1, Arg(np.array([[1], [1], [0]])), arg((3, 1), dtype, rng))
    )


INDEXING += [
    OpInfo("scatter_add", _scatter_add_samples, NUMERIC, errors=_scatter_errors),
]

_BY_NAME = {op.name: op for op in ELEMENTWISE + SHAPE + INDEXING + NAMED}
IN_PLACE = [
    _in_place(_BY_NAME[name])
    for name in (
        "clamp",
        "masked_fill",
        "floor_divide",
        "remainder",
        "bitwise_and",
        "bitwise_or",
        "bitwise_xor",
        "bitwise_not",
        "tril",
        "triu",
        "scatter",
        "scatter_add",
    )
]
ELEMENTWISE += NAMED + [op for op in IN_PLACE if op.name not in ("tril_", "triu_")]
SHAPE += [op for op in IN_PLACE if op.name in ("tril_", "triu_")]


def _query(name, **kw):
    return OpInfo(name, _small, ALL, grad=False, **kw)


QUERIES = [
    _query("numel"),
    _query("dim", function=False),
    _query("size", function=False),
    OpInfo(
        "size(dim)",
        _small,
        ALL,
        fn=op_fn(lambda x: x.size(-1) if x.dim() else x.size()),
        grad=False,
    ),
    _query("stride", function=False),
    _query("is_contiguous", function=False),
    _query("is_floating_point", function=False),
    _query("element_size", function=False),
]
SHAPE += QUERIES

ALL_OPS = ELEMENTWISE + REDUCTION + SHAPE + LINALG + INDEXING + SORTING


# ================================================================ what real programs use (issue 20)


def _mm_samples(dtype, rng):
    for sa, sb in [((5, 3), (3, 4)), ((1, 1), (1, 2)), ((0, 3), (3, 2)), ((2, 0), (0, 3))]:
        yield Sample((arg(sa, dtype, rng), arg(sb, dtype, rng)))
    yield Sample((arg((4, 3), dtype, rng, "T"), arg((3, 2), dtype, rng, "slice")))


def _mm_errors():
    return [
        E(ones(5, 3), ones(4, 2), names=("5x3", "4x2")),
        E(ones(3), ones(3, 2), desc="1-d"),
        E(ones(2, 3, 3), ones(3, 2), desc="3-d"),
        E(ones(2, 2), ones(2, 2, dtype="float64"), desc="dtype mismatch"),
    ]


def _bmm_samples(dtype, rng):
    for sa, sb in [((2, 5, 3), (2, 3, 4)), ((1, 1, 1), (1, 1, 2)), ((0, 2, 3), (0, 3, 2))]:
        yield Sample((arg(sa, dtype, rng), arg(sb, dtype, rng)))
    yield Sample((arg((2, 4, 3), dtype, rng, "T"), arg((2, 3, 2), dtype, rng, "slice")))


def _bmm_errors():
    return [
        E(ones(5, 3), ones(3, 2), desc="2-d"),
        E(ones(2, 5, 3), ones(3, 3, 2), names=("[2, 3]", "[3, 3]")),
        E(ones(2, 5, 3), ones(2, 4, 2), names=("[2, 3]", "[2, 4]")),
    ]


def _norm_samples(dtype, rng):
    for shape, layout in [((5,), "contiguous"), ((3, 4), "T"), ((2, 3, 2), "contiguous")]:
        x = arg(shape, dtype, rng, layout, away=0.1)
        yield Sample((x,))
        yield Sample((x,), dict(p=1))
        yield Sample((x,), dict(p=3, dim=0))
        yield Sample((x,), dict(p=float("inf"), dim=-1, keepdim=True))
        yield Sample((x,), dict(p=-float("inf")))
        yield Sample((x,), dict(p=0.5, dim=0))
        yield Sample((x,), dict(p="fro", dim=-1))
    yield Sample((Arg(np.zeros((2, 3), dtype)),), dict(dim=1), desc="zeros, p=2")
    yield Sample((Arg(np.zeros((2, 3), dtype)),), dict(p=3, dim=1), desc="zeros, p=3")
    yield Sample((Arg(np.array([0.0, 1.0, -2.0], dtype)),), dict(p=1.5), desc="a zero, p=1.5")


def _norm_errors():
    return [
        E(Arg(np.arange(3)), desc="int64"),
        E(ones(2, 3), dim=2, names=("2",)),
        E(ones(2, 3), p="abc", names=("abc",)),
    ]


def _linalg_norm_samples(dtype, rng):
    for shape, layout in [((5,), "contiguous"), ((3, 4), "T"), ((2, 3, 2), "contiguous")]:
        x = arg(shape, dtype, rng, layout, away=0.1)
        yield Sample((x,))
        yield Sample((x,), dict(dim=-1))
        yield Sample((x,), dict(ord=1, dim=0))
    m = arg((3, 4), dtype, rng, away=0.1)
    for order in ("fro", 1, -1, float("inf"), -float("inf")):
        yield Sample((m,), dict(ord=order))
    yield Sample((arg((2, 3, 4), dtype, rng),), dict(ord=1, dim=(0, 2), keepdim=True))
    yield Sample((arg((4,), dtype, rng),), dict(ord=3))


def _linalg_norm_errors():
    return [
        E(Arg(np.arange(3)), desc="int64"),
        E(ones(2, 2, 2), ord=1, names=("3D",)),
        E(ones(2, 2), ord="abc", dim=(0, 1), names=("abc",)),
    ]


def _unique_samples(dtype, rng):
    for shape in [(0,), (7,), (3, 4), ()]:
        x = Arg(data(shape, dtype, rng, low=-2, high=2).round())
        yield Sample((x,))
        yield Sample((x,), dict(return_inverse=True))
        yield Sample((x,), dict(return_counts=True, sorted=False))
        yield Sample((x,), dict(return_inverse=True, return_counts=True))
    x = Arg(np.array([[1, 2], [3, 4], [1, 2]]).astype(dtype))
    yield Sample((x,), dict(dim=0, return_inverse=True, return_counts=True))


def _roll_samples(dtype, rng):
    yield Sample((arg((5,), dtype, rng), 2))
    yield Sample((arg((5,), dtype, rng), -7))
    yield Sample((arg((3, 4), dtype, rng, "T"), 1))  # no dims: the flattened tensor
    yield Sample((arg((3, 4), dtype, rng), (1, -1), (0, 1)))
    yield Sample((arg((2, 3, 2), dtype, rng),), dict(shifts=1, dims=-1))
    yield Sample((arg((0, 3), dtype, rng), 1, 1))


def _roll_errors():
    return [
        E(ones(3), (1, 2), 0, names=("2", "1")),
        E(ones(3), (1, 2), names=("2",)),
        E(ones(3), 1, 5, names=("5",)),
    ]


def _flip_samples(dtype, rng):
    yield Sample((arg((5,), dtype, rng), (0,)))
    yield Sample((arg((3, 4), dtype, rng, "T"), (0, 1)))
    yield Sample((arg((2, 3, 2), dtype, rng, "slice"), [-1]))
    yield Sample((arg((2, 3), dtype, rng), ()))
    yield Sample((arg((), dtype, rng), ()))


def _flip_errors():
    return [E(ones(3), (0, 0), names=("0",)), E(ones(3), (3,), names=("3",))]


def _repeat_interleave_samples(dtype, rng):
    yield Sample((arg((3,), dtype, rng), 2))
    yield Sample((arg((2, 3), dtype, rng, "T"), 2))  # no dim: flattened
    yield Sample((arg((2, 3), dtype, rng), 3), dict(dim=0))
    yield Sample((arg((2, 3), dtype, rng), Arg(np.array([1, 0, 2]))), dict(dim=1))
    yield Sample((arg((4,), dtype, rng), Arg(np.array(2))))
    yield Sample((arg((), dtype, rng), 3))
    yield Sample((arg((2, 2), dtype, rng), 0), dict(dim=1))


def _repeat_interleave_errors():
    return [
        E(ones(3), Arg(np.array([1, 2])), names=("2", "3")),
        E(ones(3), -1, desc="negative"),
        E(ones(3), Arg(np.array([1, -2, 1])), desc="a negative count"),
        E(ones(3), 2, dim=1, names=("1",)),
    ]


def _div_rounding_samples(dtype, rng):
    for mode in ("trunc", "floor"):
        for sa, sb in [((5,), (5,)), ((2, 3), (3,)), ((3,), ())]:
            a = Arg(data(sa, dtype, rng, low=-9, high=9))
            b = Arg(data(sb, dtype, rng, low=-4, high=4, away=1.0))
            yield Sample((a, b), dict(rounding_mode=mode), central=False)
        yield Sample((Arg(data((4,), dtype, rng, low=-9, high=9)), 3), dict(rounding_mode=mode))


def _matrix_norm_samples(dtype, rng):
    for o in ("fro", 1, -1, float("inf"), float("-inf")):
        yield Sample((arg((3, 4), dtype, rng, away=0.1),), dict(ord=o))
    yield Sample((arg((2, 3, 4), dtype, rng, away=0.1), 1), dict(dim=(0, 2), keepdim=True))
    yield Sample((arg((3, 4), dtype, rng, "T", away=0.1),), dict(ord=float("inf")))


COMPAT = [
    OpInfo("mm", _mm_samples, NUMERIC, errors=_mm_errors, tol={"float32": (1e-5, 1e-5)}),
    OpInfo("bmm", _bmm_samples, NUMERIC, errors=_bmm_errors, tol={"float32": (1e-5, 1e-5)}),
    OpInfo("norm", _norm_samples, FLOATS, errors=_norm_errors, tol={"float32": (1e-5, 1e-5)}),
    OpInfo(
        "linalg.norm",
        _linalg_norm_samples,
        FLOATS,
        fn=lambda lib: lib.linalg.norm,
        errors=_linalg_norm_errors,
        tol={"float32": (1e-5, 1e-5)},
    ),
    OpInfo(
        "linalg.vector_norm",
        lambda dt, rng: [
            Sample((arg((3, 4), dt, rng, away=0.1),), dict(ord=o, dim=d))
            for o, d in [(2, None), (1, 1), (float("inf"), 0), (4, (0, 1))]
        ],
        FLOATS,
        fn=lambda lib: lib.linalg.vector_norm,
    ),
    OpInfo(
        "linalg.matrix_norm",
        _matrix_norm_samples,
        FLOATS,
        fn=lambda lib: lib.linalg.matrix_norm,
        errors=lambda: [E(ones(3), desc="1-d"), E(ones(2, 2), ord=3, names=("3",))],
    ),
    OpInfo("unique", _unique_samples, ALL, grad=False),
    OpInfo("roll", _roll_samples, ALL, errors=_roll_errors),
    OpInfo("flip", _flip_samples, ALL, errors=_flip_errors),
    OpInfo("repeat_interleave", _repeat_interleave_samples, ALL, errors=_repeat_interleave_errors),
    OpInfo(
        "div(rounding_mode)",
        _div_rounding_samples,
        NUMERIC,
        fn=lambda lib: lib.div,
        grad=False,
        errors=lambda: [E(ones(2), ones(2), rounding_mode="round", names=("round",))],
    ),
    _query("nelement", function=False),
    OpInfo("type()", _small, ALL, fn=op_fn(lambda x: x.type()), grad=False),
    OpInfo(
        "type(dtype)",
        lambda dt, rng: [
            Sample((arg((2, 3), dt, rng), DType(name))) for name in ("float64", "int64", "bool")
        ],
        ALL,
        fn=op_fn(lambda x, d: x.type(d)),
    ),
    OpInfo(
        "type(name)",
        lambda dt, rng: [
            Sample((arg((2, 3), dt, rng), name))
            for name in ("torch.DoubleTensor", "torch.LongTensor", "torch.FloatTensor")
        ],
        ALL,
        fn=op_fn(lambda x, d: x.type(d)),
        errors=lambda: [E(ones(2), "float", names=("float",))],
    ),
]
ALL_OPS = ALL_OPS + COMPAT
