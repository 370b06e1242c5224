"""The registry of creation functions (``aigc_course/_creation.py``, torch's ``torch.zeros``
family). Deterministic ones are compared by value; random ones by what is promised: the shape,
the dtype and the range."""

from __future__ import annotations

import numpy as np

from .core import Arg, DType, OpInfo, Sample
from .ops import E


def _calls(*calls):
    """Samples from (args, kwargs) pairs, the same for every dtype."""

    def gen(dtype, rng):
        for args, kwargs in calls:
            yield Sample(tuple(args), dict(kwargs))

    return gen


def C(name, samples, errors=None, **kw) -> OpInfo:
    return OpInfo(name, samples, ("float32",), method=False, grad=False, errors=errors, **kw)


def _promised(name, low=None, high=None):
    """A random creation function seen through what it promises: (shape, dtype name, every
    value in [low, high))."""

    def fn(lib):
        def call(*args, **kwargs):
            t = getattr(lib, name)(*args, **kwargs)
            values = t.detach().numpy()
            in_range = bool(
                ((low is None) or (values >= low).all())
                and ((high is None) or (values < high).all())
            )
            return tuple(t.shape), str(t.dtype).rsplit(".", 1)[-1], in_range

        return call

    return fn


def _tensor_constructor(lib):
    """``Tensor(2, 3)`` is uninitialised memory in torch: compare its shape and dtype only."""
    promised = _promised("Tensor")(lib)
    return lambda *a: promised(*a)[:2] if all(isinstance(x, int) for x in a) else lib.Tensor(*a)


F64, I64, I32, B = DType("float64"), DType("int64"), DType("int32"), DType("bool")

CREATION = [
    C(
        "zeros",
        _calls(((2, 3), {}), (((2, 3),), {}), (((),), {}), ((0,), {}), ((2,), dict(dtype=I64))),
        errors=lambda: [E(-1, names=("-1",)), E(2, -3, names=("-3",))],
    ),
    C("ones", _calls(((2, 3), {}), ((4,), dict(dtype=B)), (([2, 1],), {}))),
    C(
        "full",
        _calls(
            (((2, 2), 7), {}), (((2, 2), 7.0), {}), (((3,), True), {}), (((2,), 1), dict(dtype=F64))
        ),
        errors=lambda: [E((-2,), 1.0, names=("-2",))],
    ),
    C(
        "arange",
        _calls(
            ((5,), {}),
            ((0, 1, 0.25), {}),
            ((1, 10, 3), {}),
            ((5, 0, -1), {}),
            ((0.0, 1.0), {}),
            ((3,), dict(dtype=F64)),
        ),
        errors=lambda: [E(0, 5, 0, desc="step 0"), E(0, 5, -1, desc="wrong sign")],
    ),
    C(
        "linspace",
        _calls(((0, 1, 5), {}), ((-1, 1, 1), {}), ((0, 1, 0), {}), ((0, 10, 4), dict(dtype=F64))),
        errors=lambda: [E(0, 1, -1, names=("-1",))],
    ),
    C(
        "eye",
        _calls(((3,), {}), ((2, 3), {}), ((0,), {}), ((2,), dict(dtype=I64))),
        errors=lambda: [E(-1, names=("-1",))],
    ),
    C(
        "tensor",
        _calls(
            (([1, 2],), {}),
            (([1.0, 2.0],), {}),
            (([True, False],), {}),
            ((3,), {}),
            ((3.5,), {}),
            (([[1, 2], [3, 4]],), {}),
            (([],), {}),
            (([1, 2.5],), {}),
            (([1, 2],), dict(dtype=F64)),
            ((np.linspace(0, 1, 3),), {}),
            ((np.arange(3, dtype=np.int32),), {}),
        ),
        errors=lambda: [
            E([[1, 2], [3]], names=("2", "1"), desc="ragged"),
            E("abc", desc="a string"),
        ],
    ),
    C(
        "as_tensor",
        _calls((([1, 2],), {}), ((np.ones(2, np.float32),), {}), (([1, 2],), dict(dtype=F64))),
    ),
    C(
        "Tensor",
        _calls(((2, 3), {}), (([1, 2],), {}), (([[1.0], [2.0]],), {})),
        fn=_tensor_constructor,
    ),
    C(
        "zeros_like",
        lambda dt, rng: [
            Sample((Arg(np.ones((2, 3), dt)),)),
            Sample((Arg(np.ones(3, np.int64)),)),
            Sample((Arg(np.ones(2, dt)),), dict(dtype=F64)),
        ],
    ),
    C(
        "ones_like",
        lambda dt, rng: [Sample((Arg(np.zeros((2, 3), dt)),)), Sample((Arg(np.zeros(3, bool)),))],
    ),
    C(
        "full_like",
        lambda dt, rng: [
            Sample((Arg(np.zeros((2, 3), dt)), 4.0)),
            Sample((Arg(np.zeros(3, np.int64)), 2.7)),
        ],
    ),
    C("empty", _calls(((4, 2), {}), ((4, 2), dict(dtype=F64))), fn=_promised("empty")),
    C(
        "empty_like",
        lambda dt, rng: [Sample((Arg(np.zeros((2, 3), dt)),))],
        fn=_promised("empty_like"),
    ),
    C(
        "rand",
        _calls(((5, 3), {}), (((),), {}), ((4,), dict(dtype=F64))),
        fn=_promised("rand", 0, 1),
    ),
    C("randn", _calls(((5, 3), {}), ((0,), {}), ((4,), dict(dtype=F64))), fn=_promised("randn")),
    C(
        "rand_like",
        lambda dt, rng: [Sample((Arg(np.zeros((2, 3), dt)),))],
        fn=_promised("rand_like", 0, 1),
    ),
    C(
        "randn_like",
        lambda dt, rng: [Sample((Arg(np.zeros((2, 3), dt)),))],
        fn=_promised("randn_like"),
    ),
    C(
        "randint",
        _calls(
            ((10, (3, 4)), {}), ((5, 10, (2,)), {}), ((3, (5,)), dict(dtype=I32)), ((2, ()), {})
        ),
        fn=_promised("randint", 0, 10),
        errors=lambda: [E(5, 5, (2,), names=("5",)), E(0, (2,), desc="high 0")],
    ),
    C(
        "randperm",
        _calls(((5,), {}), ((0,), {})),
        fn=lambda lib: lambda n: lib.randperm(n).sort()[0],
    ),
]


def _dtype_of(f):
    """``fn`` for a function that returns a dtype: compared by name."""
    return lambda lib: lambda *a: str(f(lib)(*a)).rsplit(".", 1)[-1]


def _result_type_samples(dtype, rng):
    for a, b in [
        (Arg(np.array([1, 2])), 2.5),
        (Arg(np.array([1, 2], np.int32)), 7),
        (Arg(np.array([1.0], np.float16)), Arg(np.array(1.0))),
        (Arg(np.array([True])), Arg(np.array(2))),
        (Arg(np.array([1.0], np.float32)), Arg(np.array([1], np.int64))),
        (Arg(np.array([1], np.uint8)), Arg(np.array([1], np.int8))),
    ]:
        yield Sample((a, b))


UTILITIES = [
    C(
        "broadcast_shapes",
        _calls((((3, 1), (1, 4)), {}), (((2, 3), (3,), ()), {}), (((0, 1), (1, 3)), {})),
        fn=lambda lib: lambda *shapes: tuple(lib.broadcast_shapes(*shapes)),
        errors=lambda: [E((2, 3), (3, 2), names=("3", "2"))],
    ),
    C("result_type", _result_type_samples, fn=_dtype_of(lambda lib: lib.result_type)),
    C("is_tensor", lambda dt, rng: [Sample((Arg(np.ones(2)),)), Sample(([1.0],))]),
    C("from_numpy", _calls(((np.arange(3.0),), {}), ((np.ones((2, 2), np.int32),), {}))),
]
CREATION += UTILITIES
